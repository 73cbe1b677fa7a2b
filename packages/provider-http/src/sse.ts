/**
 * Server-sent events, parsed by eventsource-parser (the WHATWG `text/event-stream` rules: CRLF, LF or CR
 * line ends, `data:` lines joined with "\n", a blank line dispatches, `:` comments, a leading BOM).
 * Two additions of ours: a bound on what one event may buffer (`maxEventSize`: a stream with no line end
 * grew the heap by 396 MB in 30 s), and a last event that the stream ended without a blank line after is
 * dispatched too, since some compatible servers close right after `data: [DONE]`.
 */
import { createParser, type EventSourceParser } from 'eventsource-parser';

export interface SSEEvent {
  /** The `event:` field, when the server named the event (Anthropic does; OpenAI does not). */
  event: string | undefined;
  data: string;
  id: string | undefined;
}

/** 1,000,000 characters: far above any real event (a model delta is a few hundred). */
export const DEFAULT_MAX_EVENT_SIZE = 1_000_000;

/** Thrown by `push` when one line or event buffers more than `maxEventSize` characters. */
export class SSEEventTooLarge extends Error {
  override readonly name = 'SSEEventTooLarge';
  constructor(readonly maxEventSize: number) {
    super(`A server-sent event (or one line of it) is longer than ${maxEventSize} characters.`);
  }
}

export class SSEDecoder {
  private readonly parser: EventSourceParser;
  private pending: SSEEvent[] = [];
  private tooLarge = false;
  private started = false;
  // The spec keeps the last event id across events.
  private lastId: string | undefined;

  constructor(readonly maxEventSize: number = DEFAULT_MAX_EVENT_SIZE) {
    this.parser = createParser({
      maxBufferSize: maxEventSize,
      onEvent: (e) => {
        if (e.id !== undefined) this.lastId = e.id;
        this.pending.push({ event: e.event, data: e.data, id: e.id ?? this.lastId });
      },
      onError: (error) => {
        // Unknown fields and bad `retry:` values are ignored, as browsers do; an oversized buffer is fatal.
        if (error.type === 'max-buffer-size-exceeded') this.tooLarge = true;
      },
    });
  }

  /** Feeds decoded text; returns the events it completed. Throws SSEEventTooLarge past `maxEventSize`. */
  push(text: string): SSEEvent[] {
    if (this.tooLarge) throw new SSEEventTooLarge(this.maxEventSize);
    let chunk = text;
    if (!this.started && chunk.length > 0) {
      this.started = true;
      // A BOM decoded as U+FEFF (eventsource-parser only strips it as raw UTF-8 bytes).
      if (chunk.charCodeAt(0) === 0xfeff) chunk = chunk.slice(1);
    }
    this.parser.feed(chunk);
    if (this.tooLarge) throw new SSEEventTooLarge(this.maxEventSize);
    return this.take();
  }

  /** Ends the stream: returns the pending event, if any (even without its closing blank line). */
  end(): SSEEvent[] {
    if (this.tooLarge) throw new SSEEventTooLarge(this.maxEventSize);
    // The first line end closes an unterminated last line (or completes a CRLF), the second is the
    // blank line that dispatches the event; without pending data neither dispatches anything.
    this.parser.feed('\n\n');
    const events = this.take();
    this.parser.reset();
    return events;
  }

  private take(): SSEEvent[] {
    const events = this.pending;
    this.pending = [];
    return events;
  }
}

/** Decodes a whole text at once (for tests and small bodies). */
export function parseSSEText(text: string): SSEEvent[] {
  const decoder = new SSEDecoder(Number.POSITIVE_INFINITY);
  return [...decoder.push(text), ...decoder.end()];
}
