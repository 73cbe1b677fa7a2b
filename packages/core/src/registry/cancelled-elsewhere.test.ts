/**
 * A run cancelled by another process, seen the same way where it executes (docs/durability.md, "Cancel
 * across processes"): whichever way the worker learns it — an append refused because the row ended
 * CANCELLED, its heartbeat, a `run.cancel` notice that comes after the canceller ended the row — its
 * local `run.cancelled` carries the reason the row records, and what it reports is what the store holds.
 * Client and worker are two Wefts on one MemoryStore; @weft/testing's `describeCancelledElsewhere` runs the
 * refused-append cases on memory, SQLite and PostgreSQL.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { boundCancelReason } from '../run/cancel-reason.js';
import type { StepContext } from '../steps/types.js';
import { MemoryStore } from '../store/memory.js';
import type { WeftStore } from '../store/store.js';
import type { RunRow } from '../store/types.js';
import { fcRuns } from '../test-support/fc.js';
import type { Weft } from './client.js';
import { trackedWefts, until } from './test-support/wefts.js';
import { createWeft } from './weft.js';

const weft = trackedWefts();

const refuse = {
  hold: () => {
    throw new Error('a client-only Weft executed a step');
  },
  work: () => {
    throw new Error('a client-only Weft executed a step');
  },
  slow: () => {
    throw new Error('a client-only Weft executed a step');
  },
  fail: () => {
    throw new Error('a client-only Weft executed a step');
  },
};

/** Ends the row CANCELLED with `reason`, as a canceller does when nobody answers it (cancel.ts). */
function endCancelled(store: WeftStore, runId: string, reason: string): Promise<RunRow | null> {
  const now = new Date().toISOString();
  return store.updateRun(
    runId,
    { status: 'CANCELLED', error: { code: 'CANCELLED', message: reason }, ended_at: now, updated_at: now },
    { status_in: ['PENDING', 'RUNNING'] },
  );
}

/** The outcome events of a Weft's engine. */
function outcomes(w: Weft) {
  const seen: Array<{ run: string; status: string; message: string }> = [];
  w.engine.on('run.cancelled', (e) => {
    seen.push({ run: e.run.id, status: 'CANCELLED', message: e.reason });
  });
  w.engine.on('run.failed', (e) => {
    seen.push({ run: e.run.id, status: 'FAILED', message: e.error.message });
  });
  w.engine.on('run.completed', (e) => {
    seen.push({ run: e.run.id, status: 'COMPLETED', message: '' });
  });
  return seen;
}

/** A `hold` handler that waits for its signal, and resolves `started` when it begins. */
function holding() {
  let begin!: () => void;
  const started = new Promise<void>((r) => {
    begin = r;
  });
  return {
    started,
    hold: (ctx: StepContext) => {
      begin();
      return new Promise<string>((_, reject) => {
        ctx.signal.addEventListener('abort', () => reject(new Error('stopped')));
      });
    },
  };
}

async function published(app: ReturnType<Weft['app']>, steps: Array<[string, string]>) {
  const workflow = await app.workflows.create({
    name: 'w',
    draft: {
      steps: steps.map(([key, type], i) => ({
        type,
        key,
        destinations: i + 1 < steps.length ? [steps[i + 1]![0]] : [],
      })),
    } as never,
  });
  await app.versions.publish(workflow.id);
  return workflow;
}

describe('a run cancelled from another process', () => {
  it("the heartbeat's two reads raced (lease CANCELLED, row read before the cancel): the row is read again, run.cancelled carries its reason", async () => {
    const store = new MemoryStore();
    let stale: RunRow | null = null;
    // The row read of the heartbeat answers what it was before the cancel, once (as a read on another
    // connection of a pool can, when it ran before the canceller's commit).
    const racing = new Proxy(store, {
      get(target, property) {
        const value = Reflect.get(target, property, target);
        if (typeof value !== 'function') return value;
        if (property !== 'getRun') return value.bind(target);
        return async (id: string) => {
          if (stale !== null) {
            const row = stale;
            stale = null;
            return row;
          }
          return value.call(target, id);
        };
      },
    });
    const held = holding();
    const executing = weft({
      store: racing,
      owner: { leaseMs: 3_000, heartbeatMs: 20 },
      recover: false,
      steps: { hold: held.hold, work: () => 'b' },
    });
    const seen = outcomes(executing);
    const app = executing.app('app_1');
    const workflow = await published(app, [
      ['a', 'hold'],
      ['b', 'work'],
    ]);
    const run = await app.runs.run(workflow.id, { background: true });
    await held.started;
    await executing.idle();
    stale = await store.getRun(run.id);
    expect(stale).toMatchObject({ status: 'RUNNING', error: null });
    const reason = 'The caller, not the generic one.';
    expect(await endCancelled(store, run.id, reason)).not.toBeNull();
    await until(() => seen.length > 0, 'the run to end here');
    expect(stale).toBeNull(); // the stale read was served
    expect(seen).toEqual([{ run: run.id, status: 'CANCELLED', message: reason }]);
    expect(await app.runs.get(run.id)).toMatchObject({
      status: 'CANCELLED',
      error: { code: 'CANCELLED', message: reason },
    });
  });

  it("a run.cancel notice read after the canceller ended the row itself: the worker's run.cancelled carries the row's reason", async () => {
    const store = new MemoryStore();
    const client = weft({ store, worker: false, steps: refuse });
    const app = client.app('app_1');
    const workflow = await published(app, [
      ['a', 'hold'],
      ['b', 'work'],
    ]);
    const held = holding();
    // A long heartbeat: the notice, not the heartbeat, is what tells this worker.
    const worker = weft({
      store,
      owner: { leaseMs: 60_000, heartbeatMs: 30_000 },
      worker: { concurrency: 1, pollMs: 20 },
      steps: { hold: held.hold, work: () => 'b' },
    });
    const seen = outcomes(worker);
    const run = await app.runs.run(workflow.id, { background: true });
    await held.started;
    await worker.idle();
    const reason = 'Ended by the canceller after its wait ran out.';
    expect(await endCancelled(store, run.id, reason)).not.toBeNull();
    // Its last notice, sent before its write, arrives after it.
    await store.notify('run.cancel', run.id);
    await until(() => seen.length > 0, 'the run to end on the worker');
    expect(seen).toEqual([{ run: run.id, status: 'CANCELLED', message: reason }]);
    expect(await store.loadJournal(run.id)).not.toContainEqual(
      expect.objectContaining({ type: 'cancel.requested' }),
    );
  });

  it('property: wherever the cancel lands among the worker’s appends, its local outcome is the stored one (status, reason), and nothing is appended after it', async () => {
    const stepType = fc.constantFrom('work', 'slow', 'fail');
    await fc.assert(
      fc.asyncProperty(
        fc.array(stepType, { minLength: 1, maxLength: 5 }),
        fc.integer({ min: 1, max: 4 }),
        fc.string({ maxLength: 1_200 }),
        async (types, cancelAt, reason) => {
          const store = new MemoryStore();
          const client = createWeft({ store, worker: false, steps: refuse, onStoreError: () => undefined });
          const app = client.app('app_1');
          const workflow = await published(
            app,
            types.map((type, i) => [`s${i}`, type]),
          );
          const queued = await app.runs.run(workflow.id, { background: true });
          let appends = 0;
          let cancelled: RunRow | null = null;
          let journalAtCancel = -1;
          const intercepting = new Proxy(store, {
            get(target, property) {
              const value = Reflect.get(target, property, target);
              if (typeof value !== 'function') return value;
              if (property !== 'appendJournals') return value.bind(target);
              return async (batch: Array<{ run_id: string }>) => {
                if (batch.some((a) => a.run_id === queued.id) && ++appends === cancelAt) {
                  journalAtCancel = (await store.loadJournal(queued.id)).length;
                  cancelled = await endCancelled(store, queued.id, reason);
                }
                return value.call(target, batch);
              };
            },
          });
          const worker = createWeft({
            store: intercepting,
            worker: { concurrency: 1, pollMs: 20 },
            onStoreError: () => undefined,
            steps: {
              work: () => 'w',
              slow: () => new Promise((r) => setTimeout(() => r('s'), 1)),
              fail: () => {
                throw new Error('failed on purpose');
              },
            },
          });
          try {
            const seen = outcomes(worker);
            await until(() => seen.length > 0, 'the run to end on the worker');
            await worker.idle();
            const stored = await app.runs.get(queued.id);
            expect(seen).toHaveLength(1);
            expect(seen[0]!.status).toBe(stored.status);
            if (cancelled !== null) {
              expect(seen[0]).toEqual({
                run: queued.id,
                status: 'CANCELLED',
                message: boundCancelReason(reason),
              });
              expect((await store.loadJournal(queued.id)).length).toBe(journalAtCancel);
            } else {
              expect(seen[0]!.status).not.toBe('CANCELLED');
            }
            // The row as the canceller wrote it (a Weft's canceller bounds its reason before writing).
            if (stored.status === 'CANCELLED') expect(stored.error!.message).toBe(reason);
            else if (stored.status === 'FAILED') expect(stored.error!.message).toBe(seen[0]!.message);
            else expect(stored.error).toBeNull();
          } finally {
            await worker.close();
            await client.close();
          }
        },
      ),
      { numRuns: fcRuns(20) },
    );
  });
});
