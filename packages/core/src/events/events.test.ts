import { describe, expect, it } from 'vitest';
import { WeftError } from '../errors.js';
import { clear, newStore, SafeEmitter, SHAPE_KEEPER, WEFT_EVENT_NAMES, type WeftEventMap } from './events.js';

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

  it('one function on two emitters: off on one leaves the other, and each reports its own errors', () => {
    const seen: string[] = [];
    const reported: string[] = [];
    const a = new SafeEmitter(() => reported.push('a'));
    const b = new SafeEmitter(() => reported.push('b'));
    const fn = (e: { run_id: string }) => {
      seen.push(e.run_id);
      if (e.run_id === 'boom') throw new Error('boom');
    };
    a.on('log', fn);
    b.on('log', fn);
    a.off('log', fn);
    a.emit('log', { ...log, run_id: 'a' });
    b.emit('log', { ...log, run_id: 'b' });
    b.emit('log', { ...log, run_id: 'boom' });
    expect(seen).toEqual(['b', 'boom']);
    expect(reported).toEqual(['b']);
    expect(a.has('log')).toBe(false);
  });

  it('once: a once listener added during an emit fires on the next emit, whatever other once listeners do', () => {
    const seen: string[] = [];
    const emitter = new SafeEmitter();
    const c = () => seen.push('c');
    emitter.once('log', () => {
      seen.push('a');
      emitter.once('log', c);
    });
    emitter.once('log', () => seen.push('b'));
    emitter.emit('log', log);
    emitter.emit('log', log);
    emitter.emit('log', log);
    expect(seen).toEqual(['a', 'b', 'c']);
    expect(emitter.has('log')).toBe(false);
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

  it('calls listeners in the order added, once per time added, without `this`', () => {
    const seen: unknown[] = [];
    const emitter = new SafeEmitter();
    const a = function (this: unknown) {
      seen.push(['a', this]);
    };
    const b = () => seen.push('b');
    emitter.on('log', a).on('log', b).on('log', a);
    emitter.emit('log', log);
    expect(seen).toEqual([['a', undefined], 'b', ['a', undefined]]);
    // off(event, fn) removes every registration of fn for that event.
    emitter.off('log', a);
    seen.length = 0;
    emitter.emit('log', log);
    expect(seen).toEqual(['b']);
  });

  it('a listener added or removed during an emit counts from the next emit', () => {
    const seen: string[] = [];
    const emitter = new SafeEmitter();
    const late = () => seen.push('late');
    const second = () => seen.push('second');
    emitter.on('log', () => {
      seen.push('first');
      emitter.on('log', late);
      emitter.off('log', second);
    });
    emitter.on('log', second);
    emitter.emit('log', log);
    expect(seen).toEqual(['first', 'second']);
    seen.length = 0;
    emitter.emit('log', log);
    // The first emit added `late` (this one adds it again, for the next).
    expect(seen).toEqual(['first', 'late']);
  });

  it('once: called at most once; off removes it before; errors are reported like any listener', () => {
    const reported: string[] = [];
    const seen: string[] = [];
    const emitter = new SafeEmitter((_error, event) => reported.push(event));
    const fn = () => seen.push('once');
    emitter.once('log', fn);
    emitter.once('usage', fn);
    emitter.emit('log', log);
    emitter.emit('log', log);
    expect(seen).toEqual(['once']);
    expect(emitter.has('log')).toBe(false);
    emitter.off('usage', fn);
    emitter.emit('usage', usage);
    expect(seen).toEqual(['once']);
    expect(emitter.has('usage')).toBe(false);
    emitter.once('log', () => {
      throw new Error('boom');
    });
    emitter.emit('log', log);
    expect(reported).toEqual(['log']);
    expect(emitter.has('log')).toBe(false);
  });

  it('removeAllListeners, off(event): nothing is called after; listeners can be added again', () => {
    const seen: string[] = [];
    const emitter = new SafeEmitter();
    emitter.on('log', () => seen.push('log')).on('usage', () => seen.push('usage'));
    emitter.off('usage');
    emitter.emit('usage', usage);
    emitter.removeAllListeners();
    emitter.emit('log', log);
    expect(seen).toEqual([]);
    expect(WEFT_EVENT_NAMES.some((e) => emitter.has(e))).toBe(false);
    emitter.on('log', () => seen.push('again'));
    emitter.emit('log', log);
    expect(seen).toEqual(['again']);
  });
});

describe('the eventemitter3 store (the sentinel keeps its shape)', () => {
  type Table = { _events: object };
  const keys = (store: unknown) => Object.keys((store as Table)._events);

  it('has every event name as a key, in WEFT_EVENT_NAMES order, from creation', () => {
    expect(keys(newStore())).toEqual([...WEFT_EVENT_NAMES]);
    expect(keys(SHAPE_KEEPER)).toEqual([...WEFT_EVENT_NAMES]);
  });

  it('keeps its table and every key when listeners come and go, however they are removed', () => {
    const store = newStore();
    const table = (store as unknown as Table)._events;
    const fn = () => {};
    store
      .on('log', fn)
      .once('usage', fn)
      .on('step.started', fn)
      .on('step.started', () => {});
    store.emit('usage', usage);
    store.removeListener('log', fn);
    clear(store, 'step.started');
    clear(store, 'run.failed');
    expect((store as unknown as Table)._events).toBe(table);
    expect(keys(store)).toEqual([...WEFT_EVENT_NAMES]);
    expect(WEFT_EVENT_NAMES.map((e) => store.listenerCount(e))).toEqual(WEFT_EVENT_NAMES.map(() => 1));
  });

  it('a SafeEmitter: on then once of one function, off removes both; has() ignores the sentinel', () => {
    const seen: string[] = [];
    const emitter = new SafeEmitter();
    const fn = () => seen.push('fn');
    expect(emitter.has('log')).toBe(false);
    emitter.on('log', fn).once('log', fn);
    expect(emitter.has('log')).toBe(true);
    emitter.off('log', fn);
    expect(emitter.has('log')).toBe(false);
    emitter.emit('log', log);
    expect(seen).toEqual([]);
  });
});
