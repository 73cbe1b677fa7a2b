/**
 * Workers on a shared store, as one vitest suite for every store with notices and `claimRuns`
 * (docs/durability.md, "Workers"): a client-only Weft (`worker: false`) enqueues, a worker
 * (`worker: { concurrency }`) claims and executes; cancel across them; a worker that dies has its runs
 * taken over by another once its lease has ended, without re-executing a completed step.
 *
 *   describeWorkers('MyStore', { create: () => new MyStore(), reopen: (s) => new MyStore(sameDb) });
 *
 * Each Weft gets its own handle (`reopen`), as a process of its own would. Imports vitest itself.
 */
import {
  createWeft,
  type StepContext,
  type Weft,
  type WeftOptions,
  type WeftStore,
  type WorkflowVersionDraft,
} from '@weft/core';
import { afterEach, describe, expect, it } from 'vitest';
import { severable } from './durable-contract.js';

export interface WorkerContractOptions {
  /** A new, empty store (called for each test). */
  create(): WeftStore | Promise<WeftStore>;
  /** A second handle on the database of `store` (another process). Default: the same object. */
  reopen?(store: WeftStore): WeftStore | Promise<WeftStore>;
  /** Releases a handle after its test. */
  destroy?(store: WeftStore): void | Promise<void>;
}

function resolvers<T>() {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

async function until(check: () => boolean | Promise<boolean>, what: string, ms = 15_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

const chain = (steps: Array<[key: string, type: string]>): WorkflowVersionDraft =>
  ({
    key: 'workers',
    steps: steps.map(([key, type], i) => ({
      type,
      key,
      destinations: i + 1 < steps.length ? [steps[i + 1]![0]] : [],
    })),
  }) as unknown as WorkflowVersionDraft;

/** Step handlers for a process that must never execute anything (a client). */
const refuse = {
  work: () => {
    throw new Error('a client-only Weft executed a step');
  },
  hold: () => {
    throw new Error('a client-only Weft executed a step');
  },
};

export function describeWorkers(name: string, options: WorkerContractOptions): void {
  describe(`workers: ${name}`, () => {
    const handles: WeftStore[] = [];
    const wefts: Weft[] = [];

    afterEach(async () => {
      for (const weft of wefts.splice(0))
        await Promise.race([weft.close(), new Promise((r) => setTimeout(r, 50))]);
      for (const store of handles.splice(0).reverse()) await options.destroy?.(store);
    });

    async function open(): Promise<WeftStore> {
      const store = await options.create();
      handles.push(store);
      return store;
    }
    async function reopen(store: WeftStore): Promise<WeftStore> {
      if (options.reopen === undefined) return store;
      const again = await options.reopen(store);
      if (again !== store) handles.push(again);
      return again;
    }
    function weft(opts: WeftOptions): Weft {
      const w = createWeft({ onStoreError: () => undefined, ...opts });
      wefts.push(w);
      return w;
    }

    async function workflowOf(client: Weft, steps: Array<[string, string]>) {
      const app = client.app('app_1');
      const workflow = await app.workflows.create({ name: 'w', draft: chain(steps) });
      await app.versions.publish(workflow.id);
      return { app, workflow };
    }

    it('a client-only Weft enqueues (PENDING, unowned); a worker sharing the store executes the run', async () => {
      const store = await open();
      const executed: string[] = [];
      const client = weft({ store, worker: false, steps: refuse });
      const { app, workflow } = await workflowOf(client, [
        ['a', 'work'],
        ['b', 'work'],
      ]);
      const queued = await app.runs.run(workflow.id, { background: true, input: {} });
      expect(queued.status).toBe('PENDING');
      expect(await store.getLease(queued.id)).toMatchObject({ status: 'PENDING', owner_id: null });

      const worker = weft({
        store: await reopen(store),
        worker: { concurrency: 2 },
        steps: {
          work: (ctx: StepContext) => {
            executed.push(`${ctx.run.id}/${ctx.step.key}`);
            return ctx.step.key;
          },
        },
      });
      const done = await app.runs.wait(queued.id);
      expect(done).toMatchObject({ status: 'COMPLETED', result: 'b' });
      expect(executed).toEqual([`${queued.id}/a`, `${queued.id}/b`]);
      const journal = await store.loadJournal(queued.id);
      expect(journal[0]!.type).toBe('run.started');
      expect(journal.at(-1)!.type).toBe('run.ended');
      expect(await store.getLease(queued.id)).toMatchObject({ status: 'COMPLETED', owner_id: null });

      // A foreground run from the client settles once the worker has ended it.
      const direct = await app.runs.run(workflow.id);
      expect(direct).toMatchObject({ status: 'COMPLETED', result: 'b' });
      expect(executed).toHaveLength(4);
      expect(worker.ownerId).not.toBe(client.ownerId);
    });

    it('a client refuses what only an executing process can honour (from_step_key, signal, onStart)', async () => {
      const store = await open();
      const client = weft({ store, worker: false, steps: refuse });
      const { app, workflow } = await workflowOf(client, [['a', 'work']]);
      for (const extra of [
        { from_step_key: 'a' },
        { signal: new AbortController().signal },
        { onStart: () => undefined },
      ]) {
        await expect(app.runs.run(workflow.id, { background: true, ...extra })).rejects.toMatchObject({
          code: 'INVALID_ARGUMENT',
        });
      }
      expect((await app.runs.list()).data).toHaveLength(0);
    });

    it('a worker executes at most `concurrency` runs at once', async () => {
      const store = await open();
      const client = weft({ store, worker: false, steps: refuse });
      const { app, workflow } = await workflowOf(client, [['a', 'hold']]);
      let running = 0;
      let most = 0;
      const gates: Array<() => void> = [];
      weft({
        store: await reopen(store),
        worker: { concurrency: 2, pollMs: 20 },
        steps: {
          hold: () => {
            running++;
            most = Math.max(most, running);
            return new Promise<string>((resolve) => {
              gates.push(() => {
                running--;
                resolve('held');
              });
            });
          },
        },
      });
      const runs = await Promise.all(
        [1, 2, 3, 4, 5].map(() => app.runs.run(workflow.id, { background: true })),
      );
      await until(() => gates.length === 2, 'two runs to start');
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(running).toBe(2);
      let released = 0;
      while (released < 5) {
        await until(() => gates.length > released, 'the next run to start');
        gates[released++]!();
      }
      for (const run of runs) expect(await app.runs.wait(run.id)).toMatchObject({ status: 'COMPLETED' });
      expect(most).toBe(2);
    });

    it('cancel from a client stops the handler running on a worker (run.cancel), within the cancel grace', async () => {
      const store = await open();
      const client = weft({ store, worker: false, steps: refuse });
      const { app, workflow } = await workflowOf(client, [
        ['a', 'hold'],
        ['b', 'work'],
      ]);
      const started = resolvers<void>();
      let aborted = false;
      let ranB = false;
      weft({
        store: await reopen(store),
        worker: { concurrency: 1 },
        steps: {
          hold: (ctx: StepContext) => {
            started.resolve();
            return new Promise<string>((_, reject) => {
              ctx.signal.addEventListener('abort', () => {
                aborted = true;
                reject(new Error('stopped'));
              });
            });
          },
          work: () => {
            ranB = true;
            return 'b';
          },
        },
      });
      const run = await app.runs.run(workflow.id, { background: true });
      await started.promise;
      const cancelled = await app.runs.cancel(run.id, 'not needed');
      expect(cancelled.status).toBe('CANCELLED');
      expect(aborted).toBe(true);
      expect(ranB).toBe(false);
      // Stopped by the worker (its cancel is journaled), not by the client's fallback write of the row.
      const journal = await store.loadJournal(run.id);
      expect(journal.map((e) => e.type)).toContain('cancel.requested');
      expect(await app.runs.get(run.id)).toMatchObject({ status: 'CANCELLED' });
    });

    it('cancelling a run no worker has claimed yet ends it; no worker executes it afterwards', async () => {
      const store = await open();
      const client = weft({ store, worker: false, steps: refuse });
      const { app, workflow } = await workflowOf(client, [['a', 'work']]);
      const run = await app.runs.run(workflow.id, { background: true });
      expect((await app.runs.cancel(run.id)).status).toBe('CANCELLED');
      let executed = false;
      const worker = weft({
        store: await reopen(store),
        worker: { concurrency: 1, pollMs: 20 },
        steps: {
          work: () => {
            executed = true;
            return 'a';
          },
        },
      });
      await new Promise((resolve) => setTimeout(resolve, 150));
      await worker.idle();
      expect(executed).toBe(false);
      expect(await app.runs.get(run.id)).toMatchObject({ status: 'CANCELLED' });
    });

    it('a worker that dies has its run taken over by another after the lease, from its journal', async () => {
      const store = await open();
      const client = weft({ store, worker: false, steps: refuse });
      const { app, workflow } = await workflowOf(client, [
        ['a', 'work'],
        ['hold', 'hold'],
        ['c', 'work'],
      ]);
      const executions: string[] = [];
      const held = resolvers<void>();
      const cut = severable(await reopen(store));
      const a = weft({
        store: cut.store,
        owner: { leaseMs: 300, heartbeatMs: 50 },
        worker: { concurrency: 1, pollMs: 50 },
        steps: {
          work: (ctx: StepContext) => {
            executions.push(`A:${ctx.step.key}`);
            return `${ctx.step.key}@A`;
          },
          hold: () => {
            executions.push('A:hold');
            held.resolve();
            return new Promise(() => undefined);
          },
        },
      });
      const run = await app.runs.run(workflow.id, { background: true });
      await held.promise;
      await a.idle();
      cut.sever(); // process A stops between two instructions: no heartbeat, no append
      const step = (ctx: StepContext) => {
        executions.push(`B:${ctx.step.key}`);
        return `${ctx.step.key}@B`;
      };
      weft({
        store: await reopen(store),
        owner: { leaseMs: 300, heartbeatMs: 50 },
        worker: { concurrency: 1, pollMs: 50 },
        steps: { work: step, hold: step },
      });
      const done = await app.runs.wait(run.id);
      expect(done).toMatchObject({ status: 'COMPLETED', result: 'c@B' });
      expect(done.output.a).toMatchObject({ output: 'a@A' });
      // `a` completed under A: never executed again; `hold` had started, so it runs again under B.
      expect(executions).toEqual(['A:a', 'A:hold', 'B:hold', 'B:c']);
    });
  });
}
