/**
 * `weft.suspend()` (docs/durability.md, "Suspending"): the runs in progress stop starting steps, their
 * running steps settle (within `graceMs`, else they are abandoned), their journal is flushed and their
 * lease released without an end — RUNNING and unowned in the store — and another Weft on the store
 * resumes them without running their completed steps again. Two Wefts on one MemoryStore stand for two
 * processes here; the same on a SQLite file: packages/store-sqlite/src/suspend.test.ts.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { WorkflowVersionDraft } from '../model/types.js';
import type { StepContext } from '../steps/types.js';
import { MemoryStore } from '../store/memory.js';
import type { RunRecord } from '../store/types.js';
import { fcRuns } from '../test-support/fc.js';
import { deferred } from '../test-support/workflows.js';
import type { WeftOptions } from './client.js';
import { rejection } from './test-support/fixtures.js';
import { createWeft } from './weft.js';

/** a → b → c, plus `side` beside b (a fan-out from a), whose steps are the test's. */
const DRAFT = {
  key: 'suspend',
  steps: [
    { type: 'work', key: 'a', destinations: ['b', 'side'] },
    { type: 'slow', key: 'b', destinations: ['c'] },
    { type: 'slow', key: 'side' },
    { type: 'work', key: 'c' },
  ],
} as unknown as WorkflowVersionDraft;

function harness() {
  const executions: string[] = [];
  const gates = new Map<string, ReturnType<typeof deferred<string>>>();
  const started = new Map<string, ReturnType<typeof deferred<void>>>();
  const of = <T>(map: Map<string, ReturnType<typeof deferred<T>>>, key: string) => {
    let d = map.get(key);
    if (d === undefined) {
      d = deferred<T>();
      map.set(key, d);
    }
    return d;
  };
  const steps = {
    work: (ctx: StepContext) => {
      executions.push(ctx.step.key);
      return `${ctx.step.key}!`;
    },
    // Waits for the test (`release`), or for its signal.
    slow: (ctx: StepContext) => {
      executions.push(ctx.step.key);
      of(started, ctx.step.key).resolve();
      return new Promise<string>((resolve, reject) => {
        ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason), { once: true });
        of(gates, ctx.step.key).promise.then(resolve);
      });
    },
  };
  return {
    executions,
    steps,
    started: (key: string) => of(started, key).promise,
    release: (key: string) => of(gates, key).resolve(`${key}!`),
  };
}

async function midway(extra: WeftOptions = {}) {
  const store = new MemoryStore();
  const h = harness();
  const weft = createWeft({ store, recover: false, steps: h.steps, ...extra });
  const app = weft.app('app_1');
  const workflow = await app.workflows.create({ name: 'suspend', draft: DRAFT });
  const run = await app.runs.run(workflow.id, { version: 'draft', background: true });
  await Promise.all([h.started('b'), h.started('side')]);
  return { store, h, weft, runId: run.id, app };
}

describe('weft.suspend', () => {
  it('lets the running steps settle, starts no other, and leaves the run RUNNING and unowned with its journal', async () => {
    const { store, h, weft, runId } = await midway();
    const suspending = weft.suspend({ graceMs: 60_000 });
    h.release('b'); // b settles within the grace period: c, ready now, does not start
    h.release('side');
    const result = await suspending;
    expect(result).toEqual({ suspended: [runId], ended: [], cancelled: [] });
    expect(h.executions.sort()).toEqual(['a', 'b', 'side']);
    expect(await store.getLease(runId)).toMatchObject({
      status: 'RUNNING',
      owner_id: null,
      lease_until: null,
    });
    const records = (await store.getStepResults([runId])).get(runId)!;
    expect(Object.keys(records).sort()).toEqual(['a', 'b', 'side']);
    expect(records.b).toMatchObject({ status: 'COMPLETED', output: 'b!' });
    const journal = await store.loadJournal(runId);
    expect(journal.map((e) => e.type)).not.toContain('run.ended');

    // The next process: resumes it at once (the lease was released), runs only c.
    const next = harness();
    const resumer = createWeft({ store, steps: next.steps });
    const done = await resumer.app('app_1').runs.wait(runId);
    expect(done).toMatchObject({ status: 'COMPLETED', result: 'c!' });
    expect(next.executions).toEqual(['c']);
    expect(done.output.b).toMatchObject({ status: 'COMPLETED', output: 'b!' });
    await resumer.close();
  });

  it('abandons the executions still in flight when its grace period ends: they run again on resume', async () => {
    const { store, h, weft, runId } = await midway();
    h.release('side');
    const result = await weft.suspend({ graceMs: 20 }); // b never settles
    expect(result.suspended).toEqual([runId]);
    const records = (await store.getStepResults([runId])).get(runId)!;
    expect(Object.keys(records).sort()).toEqual(['a', 'side']);
    expect(await store.getLease(runId)).toMatchObject({ status: 'RUNNING', owner_id: null });

    const next = harness();
    const resumer = createWeft({ store, steps: next.steps });
    const waiting = resumer.app('app_1').runs.wait(runId);
    await next.started('b');
    next.release('b');
    expect(await waiting).toMatchObject({ status: 'COMPLETED', result: 'c!' });
    expect(next.executions).toEqual(['b', 'c']); // at-least-once: b again, a and side not
    await resumer.close();
  });

  it('a run whose last running steps complete it during the grace period ends COMPLETED', async () => {
    const store = new MemoryStore();
    const h = harness();
    const weft = createWeft({ store, recover: false, steps: h.steps });
    const app = weft.app('app_1');
    const workflow = await app.workflows.create({
      name: 'last',
      draft: { key: 'last', steps: [{ type: 'slow', key: 'only' }] } as unknown as WorkflowVersionDraft,
    });
    const run = await app.runs.run(workflow.id, { version: 'draft', background: true });
    await h.started('only');
    const suspending = weft.suspend({ graceMs: 60_000 });
    h.release('only');
    expect(await suspending).toEqual({ suspended: [], ended: [run.id], cancelled: [] });
    expect(await store.getLease(run.id)).toMatchObject({ status: 'COMPLETED', owner_id: null });
  });

  it('a foreground run waiting in the suspended Weft answers the run as stored (RUNNING); it resumes nothing', async () => {
    const store = new MemoryStore();
    const h = harness();
    const weft = createWeft({ store, steps: h.steps }); // recovery on: it still must not take the run back
    const app = weft.app('app_1');
    const workflow = await app.workflows.create({ name: 'suspend', draft: DRAFT });
    const waiting = app.runs.run(workflow.id, { version: 'draft' });
    await Promise.all([h.started('b'), h.started('side')]);
    await weft.suspend({ graceMs: 0 });
    const answered = await waiting;
    expect(answered.status).toBe('RUNNING');
    expect(await store.getLease(answered.id)).toMatchObject({ status: 'RUNNING', owner_id: null });
    expect(await weft.recover()).toEqual({ resumed: [], failed: [] });
    expect(await store.getLease(answered.id)).toMatchObject({ owner_id: null });
  });

  it('checks its arguments', async () => {
    const weft = createWeft();
    for (const bad of [-1, 1.5, 3_600_001, '10', null]) {
      const error = await rejection(weft.suspend({ graceMs: bad as number }));
      expect(error.code).toBe('INVALID_ARGUMENT');
      expect(error.message).toContain('graceMs');
    }
    const error = await rejection(weft.suspend(5 as never));
    expect(error.code).toBe('INVALID_ARGUMENT');
    expect(error.message).toContain('options');
    expect(await createWeft().suspend()).toEqual({ suspended: [], ended: [], cancelled: [] });
  });
});

describe('suspend + resume = an uninterrupted run (property)', () => {
  it('for generated workflows, suspension moments and grace periods: same outcome, no committed step executed again', async () => {
    const shape = fc.record({
      n: fc.integer({ min: 1, max: 6 }),
      edges: fc.array(fc.tuple(fc.nat(5), fc.nat(5)), { maxLength: 10 }),
      delays: fc.array(fc.integer({ min: 0, max: 4 }), { minLength: 6, maxLength: 6 }),
      suspendAfterMs: fc.integer({ min: 0, max: 12 }),
      graceMs: fc.constantFrom(0, 2, 50),
    });
    await fc.assert(
      fc.asyncProperty(shape, async ({ n, edges, delays, suspendAfterMs, graceMs }) => {
        const keys = Array.from({ length: n }, (_, i) => `s${i}`);
        const destinations = keys.map(() => new Set<string>());
        for (const [x, y] of edges) {
          const [from, to] = [Math.min(x, y) % n, Math.max(x, y) % n];
          if (from < to) destinations[from]!.add(keys[to]!);
        }
        // Every branch flows into `end`: the result does not depend on which branch finishes first.
        const document = {
          key: 'generated',
          steps: [
            ...keys.map((key, i) => ({
              type: 'step',
              key,
              destinations: destinations[i]!.size === 0 ? ['end'] : [...destinations[i]!],
            })),
            { type: 'step', key: 'end' },
          ],
        } as unknown as WorkflowVersionDraft;
        const delayOf = (key: string) => (key === 'end' ? 0 : delays[Number(key.slice(1))]!);
        const handler = (log: string[]) => async (ctx: StepContext) => {
          log.push(ctx.step.key);
          const ms = delayOf(ctx.step.key);
          if (ms > 0) {
            await new Promise<void>((resolve, reject) => {
              const timer = setTimeout(resolve, ms);
              ctx.signal.addEventListener('abort', () => {
                clearTimeout(timer);
                reject(ctx.signal.reason);
              });
            });
          }
          return `${ctx.step.key}!`;
        };
        const store = new MemoryStore();
        const plain = createWeft({ store, recover: false, steps: { step: handler([]) } });
        const workflow = await plain.app('app_1').workflows.create({ name: 'p', draft: document });
        const expected = await plain.app('app_1').runs.run(workflow.id, { version: 'draft' });

        const first = createWeft({ store, recover: false, steps: { step: handler([]) } });
        const started = await first
          .app('app_1')
          .runs.run(workflow.id, { version: 'draft', background: true });
        await new Promise((resolve) => setTimeout(resolve, suspendAfterMs));
        const result = await first.suspend({ graceMs });
        const all = [...result.suspended, ...result.ended];
        // A run that had ended before the call is neither: it is not in progress any more.
        expect(all.length).toBeLessThanOrEqual(1);
        const committed = Object.keys((await store.getStepResults([started.id])).get(started.id) ?? {});

        const resumedSteps: string[] = [];
        const next = createWeft({ store, steps: { step: handler(resumedSteps) } });
        const run: RunRecord = await next.app('app_1').runs.wait(started.id);
        await next.close();
        const view = (r: RunRecord) => ({
          status: r.status,
          result: r.result,
          output: Object.fromEntries(
            Object.entries(r.output).map(([k, s]) => [k, { status: s.status, output: s.output }]),
          ),
        });
        expect(view(run)).toEqual(view(expected));
        for (const key of committed) expect(resumedSteps).not.toContain(key);
      }),
      { numRuns: fcRuns(25) },
    );
  }, 60_000);
});
