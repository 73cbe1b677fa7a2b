/** A real SSE client for the tests: fetch + eventsource-parser (what the platform's SDK uses). */
import { createParser } from 'eventsource-parser';

export interface SseMessage {
  event: string;
  data: any;
}

export interface SseStream {
  status: number;
  contentType: string;
  headers: Headers;
  /** Every event until the server closed the stream. */
  events: Promise<SseMessage[]>;
  /** Aborts the request (the client goes away). */
  abort(): void;
  /** Resolves with the first event. */
  first: Promise<SseMessage>;
}

export async function openStream(url: string, key: string, body: unknown): Promise<SseStream> {
  const controller = new AbortController();
  const response = await fetch(url, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    // As the platform's SDK does for its stream methods.
    body: JSON.stringify({ ...(body as object), stream: true }),
    signal: controller.signal,
  });
  let resolveFirst!: (m: SseMessage) => void;
  const first = new Promise<SseMessage>((resolve) => {
    resolveFirst = resolve;
  });
  const events = (async () => {
    const out: SseMessage[] = [];
    const parser = createParser({
      onEvent: (e) => {
        const message = { event: e.event ?? 'message', data: JSON.parse(e.data) };
        out.push(message);
        if (out.length === 1) resolveFirst(message);
      },
    });
    const decoder = new TextDecoder();
    try {
      for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
        parser.feed(decoder.decode(chunk, { stream: true }));
      }
    } catch (error) {
      if ((error as Error).name !== 'AbortError') throw error;
    }
    return out;
  })();
  return {
    status: response.status,
    contentType: response.headers.get('content-type') ?? '',
    headers: response.headers,
    events,
    first,
    abort: () => controller.abort(),
  };
}

/** The platform SDK's reduction of a run stream (STREAM_PARSERS in trycortexai/cortex-node), simplified. */
export function reduceRunStream(messages: readonly SseMessage[]): any {
  let run: any = null;
  for (const { event, data } of messages) {
    if (event === 'run') run = data;
    else if (event === 'step' && run !== null) run = { ...run, output: { ...run.output, [data.key]: data } };
    else if (event === 'chunk' && run !== null) {
      const current = run.output[data.key];
      const message = `${current?.output?.message ?? ''}${data.output.message}`;
      run = {
        ...run,
        output: {
          ...run.output,
          [data.key]: { ...current, status: data.status, output: { ...data.output, message } },
        },
      };
    }
  }
  return run;
}
