/** SseWriter: back-pressure, coalescing while blocked, the overflow bound, and the client leaving. */
import { EventEmitter } from 'node:events';
import type { ServerResponse } from 'node:http';
import { describe, expect, it } from 'vitest';
import { SseWriter } from './sse.js';

/** A ServerResponse stand-in whose socket accepts data only while `accepting`. */
class FakeResponse extends EventEmitter {
  accepting = true;
  written: string[] = [];
  ended = false;
  destroyed = false;
  writableEnded = false;
  writeHead() {
    return this;
  }
  flushHeaders() {}
  write(text: string): boolean {
    this.written.push(text);
    return this.accepting;
  }
  end() {
    this.ended = true;
    this.emit('close');
  }
  destroy() {
    this.destroyed = true;
    this.emit('close');
  }
  drain() {
    this.accepting = true;
    this.emit('drain');
  }
  /** The events written, parsed back. */
  events() {
    return this.written
      .filter((w) => w.startsWith('event:'))
      .map((w) => {
        const [eventLine, dataLine] = w.split('\n');
        return { event: eventLine!.slice(7), data: JSON.parse(dataLine!.slice(6)) };
      });
  }
}

function writer(max = 1_000_000) {
  const res = new FakeResponse();
  let closed = 0;
  const sse = new SseWriter(res as unknown as ServerResponse, {
    maxBufferedBytes: max,
    heartbeatMs: 0,
    onClose: () => closed++,
  });
  sse.start();
  return { res, sse, closed: () => closed };
}

const step = (key: string, status: string) => ({ key, status, output: null });
const chunk = (key: string, message: string) => ({ key, status: 'RUNNING', output: { model: 'm', message } });

describe('SseWriter', () => {
  it('writes each event at once while the socket accepts data', () => {
    const { res, sse } = writer();
    sse.send('run', { id: 'r' });
    sse.send('step', step('a', 'RUNNING'), 'a');
    expect(res.events().map((e) => e.event)).toEqual(['run', 'step']);
  });

  it('while blocked, keeps the latest record per step, joins chunks, and flushes in order on drain', () => {
    const { res, sse } = writer();
    res.accepting = false;
    sse.send('step', step('a', 'RUNNING'), 'a'); // written: the write that reports the full buffer
    sse.send('step', step('b', 'RUNNING'), 'b');
    sse.send('chunk', chunk('b', 'Hel'), 'b');
    sse.send('chunk', chunk('b', 'lo'), 'b');
    sse.send('step', step('a', 'COMPLETED'), 'a');
    sse.send('chunk', chunk('b', '!'), 'b');
    sse.send('step', step('b', 'COMPLETED'), 'b');
    expect(res.events()).toHaveLength(1);
    res.drain();
    const events = res
      .events()
      .map((e) => `${e.event}:${e.data.key}:${e.data.status}:${e.data.output?.message ?? ''}`);
    expect(events).toEqual(['step:a:RUNNING:', 'step:a:COMPLETED:', 'step:b:COMPLETED:']);
  });

  it('joins consecutive chunks of a running step into one', () => {
    const { res, sse } = writer();
    res.accepting = false;
    sse.send('run', { id: 'r' });
    for (const word of ['a ', 'b ', 'c']) sse.send('chunk', chunk('m', word), 'm');
    res.drain();
    const chunks = res.events().filter((e) => e.event === 'chunk');
    expect(chunks.map((c) => c.data.output.message)).toEqual(['a b c']);
  });

  it('never joins a tool-call fragment with other chunks', () => {
    const { res, sse } = writer();
    res.accepting = false;
    sse.send('run', { id: 'r' });
    const fragment = (args: string) => {
      const c = chunk('m', '') as { output: Record<string, unknown> };
      return { ...c, output: { ...c.output, tool_call: { index: 0, arguments: args } } };
    };
    sse.send('chunk', chunk('m', 'a '), 'm');
    sse.send('chunk', fragment('{"x"'), 'm');
    sse.send('chunk', fragment(': 1}'), 'm');
    sse.send('chunk', chunk('m', 'b'), 'm');
    res.drain();
    const chunks = res.events().filter((e) => e.event === 'chunk');
    expect(chunks.map((c) => c.data.output.tool_call?.arguments ?? c.data.output.message)).toEqual([
      'a ',
      '{"x"',
      ': 1}',
      'b',
    ]);
  });

  it('closes the stream when what is queued passes maxBufferedBytes; later events are dropped', () => {
    const { res, sse, closed } = writer(200);
    res.accepting = false;
    sse.send('run', { id: 'r' });
    for (let i = 0; i < 50; i++) sse.send('step', step(`s${i}`, 'RUNNING'), `s${i}`);
    expect(res.destroyed).toBe(true);
    expect(closed()).toBe(1);
    expect(sse.open).toBe(false);
    const before = res.written.length;
    sse.send('run', { id: 'r' });
    expect(res.written.length).toBe(before);
  });

  it('end() while blocked ends once the queue has been written', () => {
    const { res, sse, closed } = writer();
    res.accepting = false;
    sse.send('run', { id: 'r' });
    sse.send('run', { id: 'final' });
    sse.end();
    expect(res.ended).toBe(false);
    res.drain();
    expect(res.events().map((e) => e.data.id)).toEqual(['r', 'final']);
    expect(res.ended).toBe(true);
    expect(closed()).toBe(1);
  });

  it('a client that leaves closes the writer once', () => {
    const { res, sse, closed } = writer();
    res.emit('close');
    res.emit('error', new Error('reset'));
    sse.send('run', {});
    expect(closed()).toBe(1);
    expect(res.written).toHaveLength(0);
  });

  it('a client gone before the stream started: nothing is written, no heartbeat is armed', () => {
    const res = new FakeResponse();
    res.destroyed = true;
    let closed = 0;
    const sse = new SseWriter(res as unknown as ServerResponse, {
      maxBufferedBytes: 1000,
      heartbeatMs: 1,
      onClose: () => closed++,
    });
    sse.start();
    sse.send('run', {});
    expect(res.written).toEqual([]);
    expect(closed).toBe(1);
    expect(sse.open).toBe(false);
  });
});
