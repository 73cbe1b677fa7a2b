/**
 * A server-sent-events writer that respects back-pressure. While the socket accepts data, each event is
 * written at once. When it does not (`write` returned false: a slow client), events wait in a queue
 * that is coalesced — a newer `step` record of a key replaces the older queued one (and, once the step
 * has ended, its queued `chunk`s), and consecutive chunks of one step are joined — so a slow reader
 * gets every step's latest state rather than an unbounded backlog. If the queue still grows past
 * `maxBufferedBytes`, the stream is closed (the run itself goes on; `GET …/runs/{id}` has it).
 */
import type { ServerResponse } from 'node:http';

export type SseEvent = 'run' | 'step' | 'chunk' | 'error';

interface Queued {
  event: SseEvent;
  /** The step key of `step` and `chunk` events. */
  key: string | undefined;
  /** A chunk's loop index (chunks of different iterations are never joined). */
  index: number | undefined;
  data: unknown;
  bytes: number;
}

export interface SseOptions {
  maxBufferedBytes: number;
  heartbeatMs: number;
  /** Called once when the stream ends for any reason (finished, client gone, overflow). */
  onClose: () => void;
}

function frame(event: SseEvent, data: unknown): string {
  // JSON.stringify never emits a raw newline, so one `data:` line carries the whole event.
  return `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
}

const TERMINAL = new Set(['COMPLETED', 'FAILED', 'CANCELLED', 'SKIPPED']);

export class SseWriter {
  readonly #res: ServerResponse;
  readonly #options: SseOptions;
  readonly #queue: Queued[] = [];
  #queuedBytes = 0;
  #blocked = false;
  #closed = false;
  /** `end()` was called while blocked: end once the queue is written. */
  #endWhenDrained = false;
  #heartbeat: ReturnType<typeof setInterval> | null = null;

  constructor(res: ServerResponse, options: SseOptions) {
    this.#res = res;
    this.#options = options;
    res.on('close', () => this.#close());
    res.on('error', () => this.#close());
    // The client may have gone before the run started: its 'close' has already fired.
    if (res.destroyed || res.writableEnded) this.#close();
  }

  /** Whether events are still delivered (false once the client left or the stream ended). */
  get open(): boolean {
    return !this.#closed;
  }

  start(headers: Record<string, string> = {}): void {
    if (this.#closed) return;
    this.#res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
      ...headers,
    });
    this.#res.flushHeaders();
    if (this.#options.heartbeatMs > 0) {
      this.#heartbeat = setInterval(() => {
        // A comment line: keeps proxies from timing the stream out; skipped while blocked.
        if (!this.#blocked && !this.#closed) this.#write(': keep-alive\n\n');
      }, this.#options.heartbeatMs);
      this.#heartbeat.unref();
    }
  }

  send(event: SseEvent, data: unknown, key?: string, index?: number): void {
    if (this.#closed) return;
    if (!this.#blocked) {
      this.#write(frame(event, data));
      return;
    }
    this.#enqueue({ event, key, index, data, bytes: 0 });
  }

  /** Writes what is queued, then ends the response. */
  end(): void {
    if (this.#closed) return;
    if (this.#blocked) {
      this.#endWhenDrained = true;
      return;
    }
    this.#res.end();
    this.#close();
  }

  #write(text: string): void {
    if (!this.#res.write(text)) {
      this.#blocked = true;
      this.#res.once('drain', () => this.#drain());
    }
  }

  #drain(): void {
    this.#blocked = false;
    while (this.#queue.length > 0 && !this.#blocked && !this.#closed) {
      const next = this.#queue.shift()!;
      this.#queuedBytes -= next.bytes;
      this.#write(frame(next.event, next.data));
    }
    if (!this.#blocked && this.#endWhenDrained) this.end();
  }

  #enqueue(item: Queued): void {
    const q = this.#queue;
    if (item.event === 'step' && item.key !== undefined) {
      const terminal = TERMINAL.has(String((item.data as { status?: unknown }).status));
      for (let i = q.length - 1; i >= 0; i--) {
        const old = q[i]!;
        if (old.key !== item.key) continue;
        if (old.event === 'step' || (terminal && old.event === 'chunk')) this.#removeAt(i);
      }
    } else if (item.event === 'chunk' && q.length > 0) {
      const last = q[q.length - 1]!;
      const delta = messageOf(item.data);
      const joined = messageOf(last.data);
      if (
        last.event === 'chunk' &&
        last.key === item.key &&
        last.index === item.index &&
        delta !== undefined &&
        joined !== undefined &&
        // Tool-call fragments (issue 15) are not text: they are never joined.
        !hasToolCall(item.data) &&
        !hasToolCall(last.data)
      ) {
        // Joined in place; the size grows by the delta's (string concatenation is O(1) in V8: a rope).
        const output = (item.data as { output: object }).output;
        last.data = { ...(item.data as object), output: { ...output, message: joined + delta } };
        const added = JSON.stringify(delta).length - 2;
        last.bytes += added;
        this.#grow(added);
        return;
      }
    }
    item.bytes = frame(item.event, item.data).length;
    q.push(item);
    this.#grow(item.bytes);
  }

  #grow(bytes: number): void {
    this.#queuedBytes += bytes;
    if (this.#queuedBytes > this.#options.maxBufferedBytes) {
      // The client reads slower than the run produces, beyond the bound: give up on this stream.
      this.#res.destroy();
      this.#close();
    }
  }

  #removeAt(i: number): void {
    const [removed] = this.#queue.splice(i, 1);
    if (removed !== undefined) this.#queuedBytes -= removed.bytes;
  }

  #close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#queue.length = 0;
    this.#queuedBytes = 0;
    if (this.#heartbeat !== null) clearInterval(this.#heartbeat);
    this.#options.onClose();
  }
}

/** The text of a chunk (its delta), when it has one. */
function messageOf(data: unknown): string | undefined {
  const message = (data as { output?: { message?: unknown } }).output?.message;
  return typeof message === 'string' ? message : undefined;
}

function hasToolCall(data: unknown): boolean {
  const output = (data as { output?: { tool_call?: unknown } } | null)?.output;
  return output?.tool_call !== undefined;
}
