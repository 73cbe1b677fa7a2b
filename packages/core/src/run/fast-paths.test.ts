/**
 * The scheduler's fast paths (docs/performance.md) must not change what a run does: the chain-cover bound
 * behind skipping the run's p-limit, the engine-slot reservations behind skipping the engine's, and the
 * synchronous step and iteration paths. Each is checked against the general path or against the caps.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { StepContext } from '../steps/types.js';
import { fcRuns } from '../test-support/fc.js';
import { draft, tick } from '../test-support/workflows.js';
import { createEngine } from './engine.js';
import type { JournalEntry } from './journal.js';
import type { Run } from './types.js';

type StepRecordLike = { iterations?: { effective_concurrency?: number } };

const chainOf = (n: number, type = 'w', extra: Record<string, unknown> = {}) =>
  Array.from({ length: n }, (_, i) => ({
    type,
    key: `s${i}`,
    destinations: i + 1 < n ? [`s${i + 1}`] : [],
    ...extra,
  }));

/** Counts handlers in flight, per run and across the engine. */
function probe() {
  const state = { inFlight: 0, peak: 0, byRun: new Map<string, { inFlight: number; peak: number }>() };
  const handler = async (ctx: StepContext) => {
    const run = state.byRun.get(ctx.run.id) ?? { inFlight: 0, peak: 0 };
    state.byRun.set(ctx.run.id, run);
    state.inFlight++;
    run.inFlight++;
    state.peak = Math.max(state.peak, state.inFlight);
    run.peak = Math.max(run.peak, run.inFlight);
    const waits = typeof ctx.item === 'number' ? ctx.item : 1;
    for (let i = 0; i < waits; i++) await tick();
    state.inFlight--;
    run.inFlight--;
    return ctx.step.key;
  };
  return { state, handler };
}

describe('the chain cover (plan.chains)', () => {
  const engine = createEngine({ steps: { w: () => null } });
  const chains = (steps: Array<Record<string, unknown>>) => engine.compile(draft(steps)).chains;

  it('is 1 for a chain, the leaf count for trees, and at least the width', () => {
    expect(chains(chainOf(50))).toBe(1);
    // a → b, c, d (an out-tree with three leaves)
    expect(
      chains([
        { type: 'w', key: 'a', destinations: ['b', 'c', 'd'] },
        { type: 'w', key: 'b' },
        { type: 'w', key: 'c' },
        { type: 'w', key: 'd' },
      ]),
    ).toBe(3);
    // a diamond: a → b, c → d
    expect(
      chains([
        { type: 'w', key: 'a', destinations: ['b', 'c'] },
        { type: 'w', key: 'b', destinations: ['d'] },
        { type: 'w', key: 'c', destinations: ['d'] },
        { type: 'w', key: 'd' },
      ]),
    ).toBe(2);
    // independent steps
    expect(chains(Array.from({ length: 7 }, (_, i) => ({ type: 'w', key: `x${i}` })))).toBe(7);
  });

  it('puts every step on a chain whose steps are ordered', () => {
    const plan = engine.compile(
      draft([
        { type: 'w', key: 'a', destinations: ['b', 'c'] },
        { type: 'w', key: 'b', destinations: ['d'] },
        { type: 'w', key: 'c', destinations: ['d', 'e'] },
        { type: 'w', key: 'd' },
        { type: 'w', key: 'e' },
      ]),
    );
    const reach = (from: number, to: number): boolean =>
      from === to || plan.steps[from]!.succs.some((t) => reach(t, to));
    for (const x of plan.steps) {
      expect(x.chain).toBeGreaterThanOrEqual(0);
      expect(x.chain).toBeLessThan(plan.chains);
      for (const y of plan.steps) {
        if (x.index < y.index && x.chain === y.chain) {
          expect(reach(x.index, y.index) || reach(y.index, x.index)).toBe(true);
        }
      }
    }
  });
});

describe('the $steps map', () => {
  const engine = createEngine({ steps: { w: () => 1 } });

  it('is kept only for plans that may read it', () => {
    const uses = (steps: Array<Record<string, unknown>>) => engine.compile(draft(steps)).usesSteps;
    expect(
      uses([
        { type: 'w', key: 'a', destinations: ['b'] },
        { type: 'code', key: 'b', code: 'a.output + 1' },
      ]),
    ).toBe(false);
    expect(
      uses([
        { type: 'w', key: 'a', destinations: ['b'] },
        { type: 'code', key: 'b', code: '$steps.a.output' },
      ]),
    ).toBe(true);
    expect(uses([{ type: 'w', key: 'a', conditional: '$count($keys($steps)) = 0' }])).toBe(true);
    // Template segments are scanned like expressions.
    expect(uses([{ type: 'w', key: 'a', note: 'x {{ input.x }}' }])).toBe(false);
    expect(uses([{ type: 'w', key: 'a', note: 'x {{ $steps.a.output }}' }])).toBe(true);
    expect(uses([{ type: 'w', key: 'a', note: '{{ $count($keys($steps)) }}' }])).toBe(true);
  });

  it('reads the same either way', async () => {
    const run = await engine.run(
      draft([
        { type: 'w', key: 'a', destinations: ['b'] },
        { type: 'code', key: 'b', code: '$steps.a.output + a.output', destinations: ['c'] },
        { type: 'code', key: 'c', code: '{ "keys": $count($keys($steps)) }' },
      ]),
    );
    expect(run.output.b!.output).toBe(2);
    expect(run.result).toEqual({ keys: 2 });
  });
});

describe('skipping a p-limit never exceeds its cap', () => {
  it('per run and per engine, over generated DAGs, loops, caps and concurrent runs', async () => {
    const genDoc = fc.integer({ min: 1, max: 8 }).chain((n) =>
      fc.tuple(
        ...Array.from({ length: n }, (_, i) =>
          fc.record({
            targets: fc.subarray(Array.from({ length: n - i - 1 }, (_, k) => `s${i + 1 + k}`)),
            loop: fc.option(fc.array(fc.integer({ min: 0, max: 2 }), { maxLength: 6 }), { freq: 3 }),
            maxConcurrency: fc.option(fc.integer({ min: 1, max: 4 }), { freq: 2 }),
          }),
        ),
      ),
    );
    await fc.assert(
      fc.asyncProperty(
        fc.array(genDoc, { minLength: 1, maxLength: 4 }),
        fc.integer({ min: 1, max: 6 }),
        fc.integer({ min: 1, max: 10 }),
        async (docs, runCap, engineCap) => {
          const { state, handler } = probe();
          const engine = createEngine({
            steps: { w: handler },
            concurrency: { run: runCap, engine: engineCap },
          });
          const runs = await Promise.all(
            docs.map((steps) =>
              engine.run(
                draft(
                  steps.map((s, i) => ({
                    type: 'w',
                    key: `s${i}`,
                    destinations: s.targets,
                    ...(s.loop === null ? {} : { loop: JSON.stringify(s.loop) }),
                    ...(s.maxConcurrency === null ? {} : { max_concurrency: s.maxConcurrency }),
                  })),
                ),
              ),
            ),
          );
          for (const run of runs) expect(run.status).toBe('COMPLETED');
          expect(state.peak).toBeLessThanOrEqual(engineCap);
          for (const run of state.byRun.values()) expect(run.peak).toBeLessThanOrEqual(runCap);
          expect(state.inFlight).toBe(0);
        },
      ),
      { numRuns: fcRuns(150) },
    );
  });

  it('a run as wide as its cap uses all of it', async () => {
    const { state, handler } = probe();
    const steps = Array.from({ length: 6 }, (_, i) => ({ type: 'w', key: `x${i}` }));
    await createEngine({ steps: { w: handler }, concurrency: { run: 6 } }).run(draft(steps));
    expect(state.peak).toBe(6);
  });

  it('reservations are given back, whatever way runs end', async () => {
    const { state, handler } = probe();
    const engine = createEngine({
      steps: {
        w: handler,
        boom: () => {
          throw new Error('boom');
        },
        hang: (ctx: StepContext) =>
          new Promise((resolve) => ctx.signal.addEventListener('abort', () => resolve(null))),
      },
      concurrency: { run: 10, engine: 4 },
      limits: { cancelGraceMs: 5 },
    });
    for (let i = 0; i < 10; i++) {
      await engine.run(draft(chainOf(3)));
      await engine.run(
        draft([
          { type: 'w', key: 'a', destinations: ['b'] },
          { type: 'boom', key: 'b' },
        ]),
      );
      const handle = engine.start(
        draft([
          { type: 'hang', key: 'h' },
          { type: 'w', key: 'x' },
        ]),
      );
      await tick();
      await handle.cancel();
    }
    // Had a reservation leaked, the engine's p-limit would be left below 4.
    state.peak = 0;
    const wide = Array.from({ length: 10 }, (_, i) => ({ type: 'w', key: `x${i}` }));
    await engine.run(draft(wide));
    expect(state.peak).toBe(4);
  });
});

/** A journal's facts grouped by execution (step key and iteration), each group in journal order, seq left out. */
function perExecution(facts: Array<Record<string, unknown>>): Record<string, unknown[]> {
  const out: Record<string, unknown[]> = {};
  for (const { seq: _s, ...fact } of facts) {
    const id = `${String(fact.key ?? '')}#${String(fact.index ?? '')}`;
    const group = out[id] ?? [];
    group.push(fact);
    out[id] = group;
  }
  return out;
}

describe('the synchronous paths match the general path', () => {
  /** `timeout_ms` (or a retry policy) sends every step through the general path. */
  const general = { timeout_ms: 60_000 };

  function comparable(run: Run) {
    return {
      status: run.status,
      result: run.result,
      error: run.error,
      output: Object.fromEntries(
        Object.entries(run.output).map(([k, r]) => [
          k,
          {
            status: r.status,
            output: r.output,
            error: r.error,
            attempts: r.attempts,
            skip: r.skip_reason,
            logs: r.logs.map((l) => l.message),
            iterations: r.iterations,
          },
        ]),
      ),
    };
  }

  const handlers = {
    sync: (ctx: StepContext) => ({ key: ctx.step.key, item: ctx.item ?? null, index: ctx.index ?? null }),
    async: async (ctx: StepContext) => {
      await tick();
      return `${ctx.step.key}:${String(ctx.item ?? '')}`;
    },
    throws: () => {
      throw new Error('sync failure');
    },
    rejects: async () => {
      throw new Error('async failure');
    },
    logs: (ctx: StepContext) => {
      ctx.log('info', `hello from ${ctx.step.key}`);
      return 1;
    },
  };

  // Chains only: with steps running side by side, which one a failure stops first is a matter of timing
  // (both outcomes are valid), and the paths differ in timing by design.
  it('over generated chains: statuses, outputs, errors, results and events', async () => {
    const genStep = fc.oneof(
      fc.record({
        type: fc.constantFrom('sync', 'async', 'throws', 'rejects', 'logs', 'code'),
        conditional: fc.constantFrom(
          null,
          'true',
          'false',
          'input.n > 1',
          'input.missing',
          '$string(1) = "1"',
        ),
        throwOnError: fc.boolean(),
        loop: fc.constant(null),
        code: fc.constantFrom(
          'input.n + 1',
          '{ "v": input.n }',
          'input.s + 1',
          '$string(input.n)',
          's0.output',
        ),
      }),
      // Loops whose iterations all succeed (how many iterations start before a failure stops the others
      // is timing too).
      fc.record({
        type: fc.constantFrom('sync', 'async', 'logs', 'code'),
        conditional: fc.constantFrom(null, 'true', 'false'),
        throwOnError: fc.boolean(),
        loop: fc.constantFrom('[1, 2, 3]', 'input.items', '[]'),
        code: fc.constantFrom('$item + 1', '{ "v": $item, "i": $index }', '$string($item)'),
      }),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(genStep, { minLength: 1, maxLength: 6 }), async (gen) => {
        const doc = (extra: Record<string, unknown>) =>
          draft(
            gen.map((g, i) => ({
              type: g.type,
              key: `s${i}`,
              destinations: i + 1 < gen.length ? [`s${i + 1}`] : [],
              throw_on_error: g.throwOnError,
              ...(g.conditional === null ? {} : { conditional: g.conditional }),
              ...(g.loop === null ? {} : { loop: g.loop }),
              ...(g.type === 'code' ? { code: g.code } : {}),
              ...extra,
            })),
          );
        const input = { n: 2, s: 'x', items: [4, 5] };
        const observe = async (extra: Record<string, unknown>, engineCap?: number) => {
          const journal: JournalEntry[] = [];
          const engine = createEngine({
            steps: handlers,
            // Time and randomness enter the scheduler as data: fixed here, the journals must be equal.
            random: () => 0.5,
            clock: { now: () => 1_767_225_600_000 },
            journal: { append: (entries) => void journal.push(...entries) },
            ...(engineCap === undefined ? {} : { concurrency: { engine: engineCap } }),
          });
          const events: string[] = [];
          const handle = engine.start(doc(extra), { input });
          handle.on('step.completed', (e) => events.push(`${e.seq}:completed:${e.step_key}`));
          handle.on('step.skipped', (e) => events.push(`${e.seq}:skipped:${e.step_key}:${e.reason}`));
          handle.on('step.failed', (e) => events.push(`${e.seq}:failed:${e.step_key}:${e.error.code}`));
          const run = comparable(await handle.done);
          // The journal without times, ids and the document's hash (timeout_ms changes it): what happened.
          const facts = journal.map(({ run_id: _r, at: _a, ...rest }) => {
            const { created_at: _c, plan_hash: _h, ...fact } = rest as Record<string, unknown>;
            return fact;
          });
          expect(facts.at(-1)).toMatchObject({ type: 'run.ended' });
          return { run, events, facts };
        };
        const fast = await observe({});
        const slow = await observe(general);
        // An engine cap of 1 cannot be reserved: every execution goes through the engine's p-limit.
        const limited = await observe({}, 1);
        expect(fast.run).toEqual(slow.run);
        // The engine cap of 1 clips every loop: its records say so (effective_concurrency), and nothing else differs.
        for (const record of Object.values(
          (limited.run as { output: Record<string, StepRecordLike> }).output,
        )) {
          if (record.iterations === undefined) continue;
          expect(record.iterations.effective_concurrency).toBe(1);
          delete record.iterations.effective_concurrency;
        }
        expect(limited.run).toEqual(fast.run);
        // Per step, the same events with the same numbers (seq counts every event, listened or not).
        expect([...fast.events].sort()).toEqual([...slow.events].sort());
        // The journal receives the same entries whatever the path. Iterations of a loop whose handler
        // answers later (an expression in a sandbox worker, the engine's cap at 1) may finish in another
        // order: each execution's own entries keep theirs.
        expect(perExecution(slow.facts)).toEqual(perExecution(fast.facts));
        expect(perExecution(limited.facts)).toEqual(perExecution(fast.facts));
      }),
      { numRuns: fcRuns(150) },
    );
  });

  it('a handler that cancels its own run ends CANCELLED, its successors SKIPPED', async () => {
    const engine = createEngine({
      steps: {
        stop: (ctx: StepContext) => {
          void handleRef.cancel('enough');
          return ctx.step.key;
        },
        w: () => 1,
      },
    });
    let handleRef!: ReturnType<typeof engine.start>;
    handleRef = engine.start(
      draft([
        { type: 'w', key: 'a', destinations: ['b'] },
        { type: 'stop', key: 'b', destinations: ['c'] },
        { type: 'w', key: 'c' },
      ]),
    );
    const run = await handleRef.done;
    expect(run.status).toBe('CANCELLED');
    expect(run.output.a!.status).toBe('COMPLETED');
    expect(run.output.b!.status).toBe('CANCELLED');
    expect(run.output.c).toMatchObject({ status: 'SKIPPED', skip_reason: 'run_stopped' });
  });

  it('a long chain of synchronous steps does not grow the stack', async () => {
    const run = await createEngine({ steps: { w: () => 1 } }).run(draft(chainOf(10_000)), {});
    expect(run.status).toBe('COMPLETED');
    expect(Object.values(run.output).every((r) => r.status === 'COMPLETED')).toBe(true);
  });
});
