/** Back-pressure over a real socket: a client that does not read. */
import { request } from 'node:http';
import { scriptedProvider } from '@weft/testing';
import { createParser } from 'eventsource-parser';
import { describe, expect, it } from 'vitest';
import { withModel } from './fixtures.js';
import { startServer } from './helpers.js';
import { reduceRunStream } from './sse-client.js';

/** 200,000 words: as deltas, about 22 MB of `chunk` events if nothing were joined. */
const LONG = 'w '.repeat(200_000);

/** Opens a stream and does not read it until `resume()`. */
function stalledStream(url: string, key: string, body: unknown) {
  const target = new URL(url);
  let resolveResponse!: (r: import('node:http').IncomingMessage) => void;
  const responded = new Promise<import('node:http').IncomingMessage>((resolve) => {
    resolveResponse = resolve;
  });
  const req = request(
    {
      host: target.hostname,
      port: target.port,
      path: target.pathname,
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    },
    (res) => {
      res.pause();
      resolveResponse(res);
    },
  );
  req.end(JSON.stringify({ ...(body as object), stream: true }));
  return {
    responded,
    /** Reads everything; resolves with the events and whether the stream ended cleanly. */
    async readAll() {
      const res = await responded;
      const events: Array<{ event: string; data: any }> = [];
      const parser = createParser({
        onEvent: (e) => events.push({ event: e.event ?? '', data: JSON.parse(e.data) }),
      });
      return new Promise<{ events: typeof events; complete: boolean }>((resolve) => {
        res.setEncoding('utf8');
        res.on('data', (text: string) => parser.feed(text));
        res.on('end', () => resolve({ events, complete: true }));
        res.on('error', () => resolve({ events, complete: false }));
        res.on('aborted', () => resolve({ events, complete: false }));
        res.resume();
      });
    },
  };
}

describe('back-pressure', () => {
  it('a slow reader gets every step’s latest state and the whole text, joined, not a 22 MB backlog', async () => {
    const t = await startServer({ weft: { providers: [scriptedProvider({ default: LONG })] } });
    try {
      const wf = await t.call('POST', '/apps/app_a/workflows', { body: { name: 'long', draft: withModel } });
      const stream = stalledStream(`${t.url}/apps/c/workflows/${wf.body.id}/runs`, t.keys.A, {
        workflow_version_id: 'draft',
      });
      const res = await stream.responded;
      // Let the run finish while nothing is read: until it has ended, not for a fixed time (a loaded
      // machine may need longer, and a reader that starts early is not a slow reader).
      await t.weft.app('app_a').runs.wait(res.headers['x-weft-run-id'] as string);
      const { events, complete } = await stream.readAll();
      expect(complete).toBe(true);
      const chunks = events.filter((e) => e.event === 'chunk');
      expect(chunks.length).toBeLessThan(1000);
      // Chunks queued when the step ended gave way to its final record: what arrived is a prefix.
      expect(LONG.startsWith(chunks.map((c) => c.data.output.message).join(''))).toBe(true);
      const write = events.filter((e) => e.event === 'step' && e.data.key === 'write').at(-1)!;
      expect(write.data.status).toBe('COMPLETED');
      expect(write.data.output.message).toBe(LONG);
      expect(reduceRunStream(events).output.write.output.message).toBe(LONG);
      expect(events.at(-1)).toMatchObject({ event: 'run', data: { status: 'COMPLETED' } });
    } finally {
      await t.close();
    }
  });

  it('past maxStreamBufferBytes the stream is closed; the run goes on and is stored', async () => {
    const t = await startServer({
      weft: { providers: [scriptedProvider({ default: LONG })] },
      server: { maxStreamBufferBytes: 64 * 1024 },
    });
    try {
      const wf = await t.call('POST', '/apps/app_a/workflows', { body: { name: 'long', draft: withModel } });
      const stream = stalledStream(`${t.url}/apps/c/workflows/${wf.body.id}/runs`, t.keys.A, {
        workflow_version_id: 'draft',
      });
      const res = await stream.responded;
      const runId = res.headers['x-weft-run-id'] as string;
      const { events, complete } = await stream.readAll();
      expect(complete).toBe(false);
      expect(events.at(-1)?.data.status).not.toBe('COMPLETED');
      const run = await t.weft.app('app_a').runs.wait(runId);
      expect(run.status).toBe('COMPLETED');
      expect((run.output.write!.output as { message: string }).message).toBe(LONG);
    } finally {
      await t.close();
    }
  });
});
