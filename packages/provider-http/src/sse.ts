/**
 * A server-sent events decoder (the WHATWG `text/event-stream` rules): lines end with CRLF, LF or CR;
 * `data:` lines of one event are joined with "\n"; a blank line dispatches; `:` starts a comment; one
 * space after the colon is dropped. Unlike a browser it also dispatches a last event that the stream
 * ended without a blank line after, since some compatible servers close right after `data: [DONE]`.
 */

export interface SSEEvent {
  /** The `event:` field, when the server named the event (Anthropic does; OpenAI does not). */
  event: string | undefined;
  data: string;
  id: string | undefined;
}

export class SSEDecoder {
  private buffer = '';
  private data: string[] = [];
  private event: string | undefined;
  private id: string | undefined;
  private started = false;

  /** Feeds decoded text; returns the events it completed. */
  push(text: string): SSEEvent[] {
    let chunk = text;
    if (!this.started && chunk.length > 0) {
      this.started = true;
      if (chunk.charCodeAt(0) === 0xfeff) chunk = chunk.slice(1);
    }
    this.buffer += chunk;
    const events: SSEEvent[] = [];
    let start = 0;
    for (let i = 0; i < this.buffer.length; i++) {
      const c = this.buffer.charCodeAt(i);
      if (c !== 10 && c !== 13) continue;
      // A CR as the very last character may be the first half of a CRLF: wait for more text.
      if (c === 13 && i === this.buffer.length - 1) break;
      this.line(this.buffer.slice(start, i), events);
      if (c === 13 && this.buffer.charCodeAt(i + 1) === 10) i++;
      start = i + 1;
    }
    this.buffer = this.buffer.slice(start);
    return events;
  }

  /** Ends the stream: returns the pending event, if any. */
  end(): SSEEvent[] {
    const events: SSEEvent[] = [];
    if (this.buffer !== '') {
      const rest = this.buffer.endsWith('\r') ? this.buffer.slice(0, -1) : this.buffer;
      this.buffer = '';
      this.line(rest, events);
    }
    this.line('', events);
    return events;
  }

  private line(line: string, events: SSEEvent[]): void {
    if (line === '') {
      if (this.data.length > 0) events.push({ event: this.event, data: this.data.join('\n'), id: this.id });
      this.data = [];
      this.event = undefined;
      return;
    }
    if (line.charCodeAt(0) === 58 /* : */) return;
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.charCodeAt(0) === 32) value = value.slice(1);
    if (field === 'data') this.data.push(value);
    else if (field === 'event') this.event = value;
    else if (field === 'id' && !value.includes('\0')) this.id = value;
  }
}

/** Decodes a whole text at once (for tests and small bodies). */
export function parseSSEText(text: string): SSEEvent[] {
  const decoder = new SSEDecoder();
  return [...decoder.push(text), ...decoder.end()];
}
