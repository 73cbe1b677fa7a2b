/**
 * What a run leaves behind once it has ended (issue 11, items 2 and 3): no listener on the caller's
 * shared AbortSignal, no event after its final one, no usage from a handler it abandoned.
 */
import { getEventListeners } from 'node:events';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { deferred, draft, task, tick } from '../test-support/workflows.js';
import { createEngine } from './engine.js';

describe('a shared AbortSignal', () => {
  it('10,000 runs on one signal leave the heap within 2 MB of where it was, and no listener behind', async () => {
    // A full GC on demand, in this worker: V8's flag, then the `gc` function it exposes to a new context.
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const warnings: string[] = [];
    const onWarning = (w: Error) => warnings.push(w.name);
    process.on('warning', onWarning);
    const engine = createEngine({
      steps: {
        task: () => 1,
        wait: async () => {
          await null;
          return 2;
        },
      },
    });
    const doc = draft([task('a', ['b']), { type: 'wait', key: 'b' }]);
    const shared = new AbortController();
    const runs = async (n: number) => {
      for (let i = 0; i < n; i++) await engine.run(doc, { signal: shared.signal });
    };
    const heap = () => {
      for (let i = 0; i < 4; i++) gc();
      return process.memoryUsage().heapUsed;
    };
    try {
      await runs(500);
      const before = heap();
      await runs(10_000);
      await tick();
      // Bounded polling, not one sample (CI runs many files per worker): up to 2 s of idle turns, each
      // followed by full GCs, until the heap is back. A leak stays for all of it.
      let grewBy = heap() - before;
      for (let turn = 0; turn < 40 && grewBy >= 2 * 1024 * 1024; turn++) {
        await new Promise((resolve) => setTimeout(resolve, 50));
        grewBy = heap() - before;
      }
      expect(getEventListeners(shared.signal, 'abort')).toHaveLength(0);
      expect(warnings).toEqual([]);
      // Before the fix: 35 MB and 10,500 listeners.
      expect(grewBy).toBeLessThan(2 * 1024 * 1024);
    } finally {
      process.off('warning', onWarning);
    }
  }, 120_000);

  it('the listener goes when the run ends, however it ends', async () => {
    const shared = new AbortController();
    const never = deferred();
    const engine = createEngine({
      limits: { cancelGraceMs: 5 },
      steps: {
        task: () => 1,
        boom: () => {
          throw new Error('boom');
        },
        hang: () => never.promise,
      },
    });
    await engine.run(draft([task('a')]), { signal: shared.signal });
    await engine.run(draft([{ type: 'boom', key: 'b' }]), { signal: shared.signal });
    const handle = engine.start(draft([{ type: 'hang', key: 'h' }]), { signal: shared.signal });
    await tick();
    expect(getEventListeners(shared.signal, 'abort')).toHaveLength(1);
    await handle.cancel();
    expect(getEventListeners(shared.signal, 'abort')).toHaveLength(0);
    never.resolve();
  });
});

describe('after the final event', () => {
  it('an abandoned handler’s logs, events and usage are dropped: nothing is emitted, the run does not change', async () => {
    const release = deferred();
    let reported = false;
    const engine = createEngine({
      limits: { cancelGraceMs: 10 },
      steps: {
        stubborn: async (ctx) => {
          ctx.usage.record({ id: 'before', total: 1 });
          await release.promise;
          // Long after its run ended (abandoned at the end of the grace period):
          ctx.log('info', 'still here');
          ctx.emit('model.delta', { delta: 'late' });
          ctx.usage.record({ id: 'late', total: 100 });
          reported = true;
        },
      },
    });
    const handle = engine.start(draft([{ type: 'stubborn', key: 's' }]));
    const events: string[] = [];
    for (const name of ['run.cancelled', 'log', 'usage', 'model.delta', 'step.cancelled'] as const) {
      handle.on(name, () => events.push(name));
      engine.on(name, () => events.push(`engine:${name}`));
    }
    await tick();
    await handle.cancel('stop');
    const run = await handle.done;
    expect(run.output.s!.status).toBe('CANCELLED');
    const atEnd = events.length;
    expect(events.at(-1)).toBe('engine:run.cancelled');
    release.resolve();
    for (let i = 0; i < 5 && !reported; i++) await tick();
    expect(reported).toBe(true);
    expect(events).toHaveLength(atEnd);
    expect(run.usage.total).toBe(1);
    expect(handle.snapshot().usage.calls.map((c) => c.id)).toEqual(['before']);
  });

  it('usage a handler reports after its attempt timed out, while the run goes on, still counts', async () => {
    const recorded = deferred();
    const engine = createEngine({
      steps: {
        slow: async (ctx) => {
          // Goes on after its timeout has aborted it, and reports what it spent.
          await new Promise((resolve) => ctx.signal.addEventListener('abort', resolve));
          ctx.usage.record({ id: 'after-timeout', total: 2 });
          recorded.resolve();
          return 'late';
        },
        wait: async () => {
          await recorded.promise;
          return 'done';
        },
      },
    });
    const run = await engine.run(
      draft([
        { type: 'slow', key: 'a', timeout_ms: 5, throw_on_error: false },
        { type: 'wait', key: 'b' },
      ]),
    );
    expect(run.output.a).toMatchObject({ status: 'FAILED', error: { code: 'STEP_TIMEOUT' } });
    expect(run.output.b!.status).toBe('COMPLETED');
    expect(run.usage.total).toBe(2);
  });
});

describe('what an engine keeps of its last run (runner.ts, KEPT)', () => {
  it('a run of more than 1,000 steps is not kept: its run object and outputs are collected', async () => {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const outputs: WeakRef<object>[] = [];
    const engine = createEngine({
      steps: {
        task: async () => {
          const output = { payload: 'x'.repeat(64) };
          outputs.push(new WeakRef(output));
          return output;
        },
      },
    });
    const n = 1_500;
    const doc = draft(Array.from({ length: n }, (_, i) => task(`s${i}`, i + 1 < n ? [`s${i + 1}`] : [])));
    // In a function of its own: an async function's frame may keep a local alive after its block.
    const runOnce = async () => {
      const run = await engine.run(doc);
      expect(run.status).toBe('COMPLETED');
      expect(Object.keys(run.output)).toHaveLength(n);
      return new WeakRef(run);
    };
    const ref = await runOnce();
    // A WeakRef keeps its target until the current job ends: a macrotask, not a microtask, later. On a
    // loaded machine (CI runs many test files per worker) work of the event loop that is still pending
    // may hold the run a little longer, so the check is bounded polling — up to 2 s of idle turns, each
    // followed by full GCs — not a single sample. A run the engine keeps stays reachable for all of it.
    let live = { run: true, outputs: n };
    for (let turn = 0; turn < 80 && (live.run || live.outputs > 0); turn++) {
      await new Promise((resolve) => setTimeout(resolve, turn === 0 ? 0 : 25));
      for (let i = 0; i < 4; i++) gc();
      live = {
        run: ref.deref() !== undefined,
        outputs: outputs.filter((o) => o.deref() !== undefined).length,
      };
    }
    // Compared as counts: a failure prints these, not a 1,500-step run object.
    expect(live).toEqual({ run: false, outputs: 0 });
    // The engine still runs it, and the next run is as complete.
    const again = await engine.run(doc);
    expect(again.output[`s${n - 1}`]?.output).toEqual({ payload: 'x'.repeat(64) });
  }, 60_000);
});
