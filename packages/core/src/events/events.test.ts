import { describe, expect, it } from 'vitest';
import { WeftError } from '../errors.js';
import { SafeEmitter, WEFT_EVENT_NAMES, type WeftEventMap } from './events.js';

const base = { run_id: 'r', seq: 1, time: '2024-01-01T00:00:00.000Z' };
const log: WeftEventMap['log'] = { ...base, level: 'info', message: 'hi', time: base.time };
const usage: WeftEventMap['usage'] = { ...base, step_key: 's', call: { id: 'c', total: 0 }, total: 0 };

describe('SafeEmitter', () => {
  it('reports an error under the event that raised it, for one function listening to two events', () => {
    const reported: string[] = [];
    const emitter = new SafeEmitter((_error, event) => reported.push(event));
    const boom = () => {
      throw new Error('boom');
    };
    emitter.on('log', boom);
    emitter.on('usage', boom);
    emitter.emit('usage', usage);
    emitter.emit('log', log);
    // Regression: one wrapper per listener reported both errors under "log", the first event registered.
    expect(reported).toEqual(['usage', 'log']);
  });

  it('off(event, fn) removes the listener of that event only', () => {
    const seen: string[] = [];
    const emitter = new SafeEmitter();
    const fn = (e: { run_id: string }) => seen.push(e.run_id);
    emitter.on('log', fn);
    emitter.on('usage', fn);
    emitter.off('log', fn);
    emitter.emit('log', log);
    emitter.emit('usage', { ...usage, run_id: 'u' });
    expect(seen).toEqual(['u']);
    expect(emitter.has('log')).toBe(false);
    expect(emitter.has('usage')).toBe(true);
  });

  it('a listener that throws never stops the listeners after it', () => {
    const seen: number[] = [];
    const emitter = new SafeEmitter(() => {});
    emitter.on('log', () => {
      throw new Error('first');
    });
    emitter.on('log', () => seen.push(2));
    emitter.emit('log', log);
    expect(seen).toEqual([2]);
  });

  it('refuses an unknown event or a listener that is not a function with INVALID_ARGUMENT', () => {
    const emitter = new SafeEmitter();
    const code = (fn: () => unknown) => {
      try {
        fn();
      } catch (error) {
        return error instanceof WeftError ? error.code : 'not a WeftError';
      }
      return 'no error';
    };
    expect(code(() => emitter.on('lgo' as 'log', () => {}))).toBe('INVALID_ARGUMENT');
    expect(code(() => emitter.on('log', 5 as never))).toBe('INVALID_ARGUMENT');
    expect(code(() => emitter.once('log', null as never))).toBe('INVALID_ARGUMENT');
    expect(code(() => emitter.off(Symbol('x') as never))).toBe('INVALID_ARGUMENT');
    expect(WEFT_EVENT_NAMES).toContain('model.delta');
  });
});
