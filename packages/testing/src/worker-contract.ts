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
import type { StepContext, Weft, WeftOptions, WeftStore, WorkflowVersionDraft } from '@weft/core';
import type { StorePresence } from '@weft/core/store';
import { afterEach, describe, expect, it } from 'vitest';
import { contractFixture } from './contract-fixture.js';
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

/** What the handlers of `holdingSteps` saw. */
export interface HoldingSteps {
  /** `hold` waits until its step's signal aborts, then rejects ('stopped'); `work` returns 'b'. */
  steps: { hold: (ctx: StepContext) => Promise<string>; work: () => string };
  /** Settles once a `hold` has begun (since the last `rearm`). */
  started: Promise<void>;
  /** A new `started`, for the next run. */
  rearm(): void;
  /** How many `hold` steps saw their signal abort. */
  aborted: number;
  /** Whether a `work` step ran. */
  ranWork: boolean;
}

/**
 * Handlers for a worker whose first step holds until it is cancelled: the run `hold` → `work` of the
 * cancel tests here, and of a store's own signal tests.
 */
export function holdingSteps(): HoldingSteps {
  let begun = resolvers<void>();
  const held: HoldingSteps = {
    started: begun.promise,
    rearm() {
      begun = resolvers<void>();
      held.started = begun.promise;
    },
    aborted: 0,
    ranWork: false,
    steps: {
      hold: (ctx: StepContext) => {
        begun.resolve();
        return new Promise<string>((_, reject) => {
          ctx.signal.addEventListener('abort', () => {
            held.aborted++;
            reject(new Error('stopped'));
          });
        });
      },
      work: () => {
        held.ranWork = true;
        return 'b';
      },
    },
  };
  return held;
}

export function describeWorkers(name: string, options: WorkerContractOptions): void {
  describe(`workers: ${name}`, () => {
    const { open, reopen, weft } = contractFixture(options);

    /** A client-only Weft on `store` (`options` added), with the workflow `steps` published. */
    async function clientWith(
      store: WeftStore,
      steps: Array<[string, string]>,
      options: Partial<WeftOptions> = {},
    ) {
      const client = weft({ store, worker: false, steps: refuse, ...options });
      const app = client.app('app_1');
      const workflow = await app.workflows.create({ name: 'w', draft: chain(steps) });
      await app.versions.publish(workflow.id);
      return { client, app, workflow };
    }

    /**
     * Process A (its handle `cut`, severable) executing a run of `a → hold → c` of a client's, stopped in
     * `hold`; `executions` records A's (and, pushed by the test, B's) steps. Leases long enough that a
     * loaded machine renews them in time: an append needs an unexpired lease, and with 300 ms A's lapsed
     * under load (PostgreSQL) before its append of `a` — B ran `a` again. Only the sever ends A's lease.
     */
    async function heldByA() {
      const LEASE = { leaseMs: 1_500, heartbeatMs: 100 };
      const store = await open();
      const { app, workflow } = await clientWith(store, [
        ['a', 'work'],
        ['hold', 'hold'],
        ['c', 'work'],
      ]);
      const executions: string[] = [];
      const held = resolvers<void>();
      const cut = severable(await reopen(store));
      const a = weft({
        store: cut.store,
        owner: LEASE,
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
      return { LEASE, store, app, workflow, run, executions, cut };
    }

    /** A worker on another handle of `store` whose `work` steps return 'a'; `executed()`: whether one ran. */
    async function watchedWorker(store: WeftStore) {
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
      return { worker, executed: () => executed };
    }

    /**
     * A client with the workflow `a` (hold) → `b` (work), for the cancel tests. It waits for the worker up
     * to its own grace + 1 s before it writes the row itself: by default long, so that a loaded machine's
     * slow notice is not taken for a worker that does not answer.
     */
    async function cancellingClient(store: WeftStore, cancelGraceMs = 30_000) {
      return clientWith(
        store,
        [
          ['a', 'hold'],
          ['b', 'work'],
        ],
        { limits: { cancelGraceMs } },
      );
    }

    it('a client-only Weft enqueues (PENDING, unowned); a worker sharing the store executes the run', async () => {
      const store = await open();
      const executed: string[] = [];
      const { client, app, workflow } = await clientWith(store, [
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

    it('a run a worker executes reads RUNNING (with its start time) from every process while it runs', async () => {
      const store = await open();
      const { app, workflow } = await clientWith(store, [
        ['a', 'hold'],
        ['b', 'work'],
      ]);
      const started = resolvers<void>();
      const gate = resolvers<string>();
      weft({
        store: await reopen(store),
        worker: { concurrency: 1 },
        steps: {
          hold: () => {
            started.resolve();
            return gate.promise;
          },
          work: () => 'b',
        },
      });
      const queued = await app.runs.run(workflow.id, { background: true });
      expect(queued).toMatchObject({ status: 'PENDING', started_at: null });
      await started.promise;
      // The worker's first batch (run.started) is committed at the end of the macrotask that began it.
      await until(async () => (await app.runs.get(queued.id)).status === 'RUNNING', 'the row to say RUNNING');
      const running = await app.runs.get(queued.id);
      expect(running.started_at).not.toBeNull();
      expect(Date.parse(running.started_at!)).toBeGreaterThanOrEqual(Date.parse(queued.created_at));
      expect(await store.getLease(queued.id)).toMatchObject({ status: 'RUNNING' });
      gate.resolve('held');
      expect(await app.runs.wait(queued.id)).toMatchObject({
        status: 'COMPLETED',
        result: 'b',
        started_at: running.started_at,
      });
    });

    it('a client refuses what only an executing process can honour (from_step_key, onStart)', async () => {
      const store = await open();
      const { app, workflow } = await clientWith(store, [['a', 'work']]);
      for (const extra of [{ from_step_key: 'a' }, { onStart: () => undefined }]) {
        await expect(app.runs.run(workflow.id, { background: true, ...extra })).rejects.toMatchObject({
          code: 'INVALID_ARGUMENT',
        });
      }
      expect((await app.runs.list()).data).toHaveLength(0);
    });

    it("a client's signal cancels the run on the worker within the cancel grace; the foreground call resolves CANCELLED", async () => {
      const store = await open();
      const { app, workflow } = await cancellingClient(store);
      const held = holdingSteps();
      weft({ store: await reopen(store), worker: { concurrency: 2 }, steps: held.steps });
      const controller = new AbortController();
      const waiting = app.runs.run(workflow.id, { signal: controller.signal });
      await held.started;
      controller.abort(new Error('the caller gave up'));
      const run = await waiting;
      // The caller's reason (the Error's message) is what the run records, as in-process.
      expect(run).toMatchObject({
        status: 'CANCELLED',
        error: { code: 'CANCELLED', message: 'the caller gave up' },
        output: { a: { status: 'CANCELLED' } },
      });
      expect(held.aborted).toBe(1);
      expect(held.ranWork).toBe(false);
      // Stopped by the worker (its cancel and the end are journaled), not by the client's fallback write.
      const journal = await store.loadJournal(run.id);
      const types = journal.map((e) => e.type);
      expect(types).toContain('cancel.requested');
      expect(types.at(-1)).toBe('run.ended');
      expect(journal.find((e) => e.type === 'cancel.requested')).toMatchObject({
        reason: 'the caller gave up',
      });
      expect(await app.runs.get(run.id)).toEqual(run);

      // In the background: returned PENDING, cancelled on the worker when the signal aborts later.
      held.rearm();
      const later = new AbortController();
      const queued = await app.runs.run(workflow.id, { background: true, signal: later.signal });
      expect(queued.status).toBe('PENDING');
      await held.started;
      later.abort('Closed by the user.');
      expect(await app.runs.wait(queued.id)).toMatchObject({
        status: 'CANCELLED',
        error: { code: 'CANCELLED', message: 'Closed by the user.' },
      });
      expect(held.aborted).toBe(2);
      expect(held.ranWork).toBe(false);
      expect((await store.loadJournal(queued.id)).map((e) => e.type)).toContain('cancel.requested');
    });

    it("a client's already-aborted signal: the run is created CANCELLED (never begun), never enqueued", async () => {
      const store = await open();
      const { app, workflow } = await clientWith(store, [
        ['a', 'work'],
        ['b', 'work'],
      ]);
      const watched = await watchedWorker(store);
      for (const background of [false, true]) {
        const run = await app.runs.run(workflow.id, { background, signal: AbortSignal.abort() });
        expect(run).toMatchObject({
          status: 'CANCELLED',
          started_at: null,
          output: { a: { status: 'SKIPPED' }, b: { status: 'SKIPPED' } },
        });
        expect(await app.runs.get(run.id)).toEqual(run);
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(watched.executed()).toBe(false);
    });

    it('a worker executes at most `concurrency` runs at once', async () => {
      const store = await open();
      const { app, workflow } = await clientWith(store, [['a', 'hold']]);
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
      const { app, workflow } = await cancellingClient(store);
      const held = holdingSteps();
      weft({ store: await reopen(store), worker: { concurrency: 1 }, steps: held.steps });
      const run = await app.runs.run(workflow.id, { background: true });
      await held.started;
      const cancelled = await app.runs.cancel(run.id, 'not needed');
      expect(cancelled.status).toBe('CANCELLED');
      expect(held.aborted).toBe(1);
      expect(held.ranWork).toBe(false);
      // Stopped by the worker (its cancel is journaled), not by the client's fallback write of the row,
      // with the caller's reason: read on the run's row, where the cancel wrote it before its notice.
      const journal = await store.loadJournal(run.id);
      expect(journal.find((e) => e.type === 'cancel.requested')).toMatchObject({ reason: 'not needed' });
      expect(await app.runs.get(run.id)).toMatchObject({
        status: 'CANCELLED',
        error: { code: 'CANCELLED', message: 'not needed' },
      });
    });

    it('a live run whose row holds a cancel request reads error: null everywhere; a worker claiming a run with one cancels it at once', async () => {
      const store = await open();
      const { app, workflow } = await cancellingClient(store);
      let holds = 0;
      const held = holdingSteps();
      const counted = {
        ...held.steps,
        hold: (ctx: StepContext) => {
          holds++;
          return held.steps.hold(ctx);
        },
      };
      const worker = weft({
        store: await reopen(store),
        worker: { concurrency: 1, pollMs: 20 },
        steps: counted,
      });
      const first = await app.runs.run(workflow.id, { background: true });
      await held.started;
      await until(async () => (await app.runs.get(first.id)).status === 'RUNNING', 'the row to say RUNNING');
      // The worker's only slot is taken: the second run stays enqueued.
      const second = await app.runs.run(workflow.id, { background: true });
      // Requests as a canceller writes them on the row before its notice (here no notice follows: the
      // canceller died, or its notice was lost).
      const live = ['PENDING', 'RUNNING'] as const;
      const requested = { code: 'CANCELLED', message: 'Requested by a canceller that died.' };
      expect(await store.updateRun(first.id, { error: requested }, { status_in: [...live] })).not.toBeNull();
      expect(await store.updateRun(second.id, { error: requested }, { status_in: [...live] })).not.toBeNull();
      for (const reader of [app, worker.app('app_1')]) {
        expect(await reader.runs.get(first.id)).toMatchObject({ status: 'RUNNING', error: null });
        expect(await reader.runs.get(second.id)).toMatchObject({ status: 'PENDING', error: null });
        const listed = (await reader.runs.list()).data;
        expect(listed.map((r) => [r.id, r.status, r.error]).sort()).toEqual(
          [
            [first.id, 'RUNNING', null],
            [second.id, 'PENDING', null],
          ].sort(),
        );
      }
      // The request stays on the row, for the worker.
      expect((await store.getRun(first.id))!.error).toEqual(requested);

      // A cancel that reaches the worker: the run ends with the caller's reason (its request replaced
      // the earlier one). The slot frees; the worker claims the second run, whose row holds a request:
      // cancelled at once with that reason, its steps never executed there.
      expect(await app.runs.cancel(first.id, 'Cancelled by the caller.')).toMatchObject({
        status: 'CANCELLED',
        error: { code: 'CANCELLED', message: 'Cancelled by the caller.' },
      });
      const cancelled = await app.runs.wait(second.id);
      expect(cancelled).toMatchObject({
        status: 'CANCELLED',
        error: requested,
        started_at: null,
        output: { a: { status: 'SKIPPED', skip_reason: 'run_stopped' }, b: { status: 'SKIPPED' } },
      });
      expect(holds).toBe(1);
      expect(held.ranWork).toBe(false);
      // Cancelled by the worker that claimed it (journaled there), not by a write of the row.
      const journal = await store.loadJournal(second.id);
      expect(journal.map((e) => e.type)).toEqual(['cancel.requested', 'run.ended']);
      expect(journal[0]).toMatchObject({ reason: requested.message });
      expect(await app.runs.get(second.id)).toEqual(cancelled);
    });

    it('a run whose owner died after a cancel request was written on its row: the worker that takes it over cancels it, executing nothing', async () => {
      const { LEASE, store, app, run, executions, cut } = await heldByA();
      // The request on the row, then both the canceller and the run's process are gone.
      const requested = { code: 'CANCELLED', message: 'Stop it, whoever runs it.' };
      expect(
        await store.updateRun(run.id, { error: requested }, { status_in: ['PENDING', 'RUNNING'] }),
      ).not.toBeNull();
      cut.sever();
      const step = (ctx: StepContext) => {
        executions.push(`B:${ctx.step.key}`);
        return `${ctx.step.key}@B`;
      };
      const b = weft({
        store: await reopen(store),
        owner: LEASE,
        worker: { concurrency: 1, pollMs: 50 },
        steps: { work: step, hold: step },
      });
      const reasons: string[] = [];
      b.engine.on('run.cancelled', (event) => {
        reasons.push(event.reason);
      });
      const done = await app.runs.wait(run.id);
      expect(done).toMatchObject({
        status: 'CANCELLED',
        error: requested,
        output: {
          a: { status: 'COMPLETED', output: 'a@A' },
          hold: { status: 'CANCELLED' },
          c: { status: 'SKIPPED' },
        },
      });
      // `hold` was running when A died: with the cancel it ends CANCELLED instead of running again on B.
      expect(executions).toEqual(['A:a', 'A:hold']);
      // The client's wait can settle (the run.ended notice, on its own connection) before B has the
      // answer to the append that ended the run, and so before B emits run.cancelled: wait for it.
      await until(() => reasons.length > 0, 'run.cancelled on the worker that took the run over');
      expect(reasons).toEqual([requested.message]);
      const types = (await store.loadJournal(run.id)).map((e) => e.type);
      // Nothing started after the claim: the cancel is journaled before the resume, then the end.
      expect(types).toEqual([
        'run.started',
        'step.started',
        'step.settled',
        'step.started',
        'cancel.requested',
        'run.resumed',
        'run.ended',
      ]);
    });

    it('cancelling a run no worker has claimed yet ends it; no worker executes it afterwards', async () => {
      const store = await open();
      const { app, workflow } = await clientWith(store, [['a', 'work']]);
      const run = await app.runs.run(workflow.id, { background: true });
      expect(await app.runs.cancel(run.id, 'Never mind.')).toMatchObject({
        status: 'CANCELLED',
        error: { code: 'CANCELLED', message: 'Never mind.' },
      });
      const watched = await watchedWorker(store);
      await new Promise((resolve) => setTimeout(resolve, 150));
      await watched.worker.idle();
      expect(watched.executed()).toBe(false);
      // Never begun: its step reads as in a run cancelled before it began in-process.
      expect(await app.runs.get(run.id)).toMatchObject({
        status: 'CANCELLED',
        started_at: null,
        error: { code: 'CANCELLED', message: 'Never mind.' },
        output: { a: { status: 'SKIPPED', skip_reason: 'run_stopped', attempts: 0 } },
      });
    });

    it("a client's signal on a run no worker has claimed: the row ends CANCELLED with the caller's reason", async () => {
      const store = await open();
      const { app, workflow } = await clientWith(store, [['a', 'work']], {
        noWorkerMs: Number.POSITIVE_INFINITY,
      });
      const controller = new AbortController();
      const waiting = app.runs.run(workflow.id, { signal: controller.signal });
      await until(async () => (await app.runs.list()).data.length === 1, 'the run to be enqueued');
      controller.abort(new Error('The user closed the tab.'));
      const run = await waiting;
      expect(run).toMatchObject({
        status: 'CANCELLED',
        started_at: null,
        error: { code: 'CANCELLED', message: 'The user closed the tab.' },
        output: { a: { status: 'SKIPPED', skip_reason: 'run_stopped' } },
      });
      expect(await app.runs.get(run.id)).toEqual(run);
    });

    it('hostile cancel reasons (NUL, lone surrogates, 100,000 characters) are stored bounded, as given, by row and by worker', async () => {
      const store = await open();
      const { app, workflow } = await cancellingClient(store);
      const hostile = [
        'nul\u0000inside',
        'lone \ud800 surrogate \udfff',
        `${'a'.repeat(998)}😀tail`, // the cut falls inside the emoji: dropped whole
        'z'.repeat(100_000),
        '{"code":"FAILED"}\n\t<script>',
      ];
      const expected = (text: string) =>
        text.length <= 1_000 ? text : text.startsWith('a') ? `${'a'.repeat(998)}…` : `${'z'.repeat(999)}…`;
      for (const reason of hostile) {
        const run = await app.runs.run(workflow.id, { background: true });
        expect((await app.runs.cancel(run.id, reason)).error).toEqual({
          code: 'CANCELLED',
          message: expected(reason),
        });
        expect((await app.runs.get(run.id)).error!.message).toBe(expected(reason));
      }
      const held = holdingSteps();
      weft({ store: await reopen(store), worker: { concurrency: 1 }, steps: held.steps });
      const run = await app.runs.run(workflow.id, { background: true });
      await held.started;
      const reason = hostile[0]! + hostile[1]! + hostile[3]!;
      const cancelled = await app.runs.cancel(run.id, reason);
      expect(cancelled.error).toEqual({ code: 'CANCELLED', message: `${reason.slice(0, 999)}…` });
      expect((await store.loadJournal(run.id)).find((e) => e.type === 'cancel.requested')).toMatchObject({
        reason: `${reason.slice(0, 999)}…`,
      });
    });

    it('a client checks the input when it enqueues: INVALID_INPUT with the field, nothing enqueued', async () => {
      const store = await open();
      const client = weft({ store, worker: false, steps: refuse });
      const app = client.app('app_1');
      const workflow = await app.workflows.create({
        name: 'w',
        draft: {
          ...chain([['a', 'work']]),
          input: { count: { type: 'number', required: true } },
        } as unknown as WorkflowVersionDraft,
      });
      await app.versions.publish(workflow.id);
      for (const background of [true, false]) {
        const error = await app.runs
          .run(workflow.id, { background, input: { count: 'three' } })
          .catch((e: unknown) => e);
        expect(error).toMatchObject({ code: 'INVALID_INPUT' });
        const problems = (error as { details: { problems: Array<{ path: string }> } }).details.problems;
        expect(problems.map((p) => p.path)).toEqual(['/count']);
      }
      await expect(app.runs.run(workflow.id, { background: true, input: {} })).rejects.toMatchObject({
        code: 'INVALID_INPUT',
      });
      expect((await app.runs.list()).data).toHaveLength(0);
      const fine = await app.runs.run(workflow.id, { background: true, input: { count: 3 } });
      expect(fine.status).toBe('PENDING');
    });

    it('a client with no worker on its store: the wait fails NO_WORKER after noWorkerMs; the run stays enqueued', async () => {
      const store = await open();
      const { app, workflow } = await clientWith(store, [['a', 'work']], { noWorkerMs: 50 });
      const error = await app.runs.run(workflow.id).catch((e: unknown) => e);
      expect(error).toMatchObject({ code: 'NO_WORKER', retryable: true });
      const runId = (error as { details: { run_id: string; waited_ms: number } }).details.run_id;
      expect((error as { details: { waited_ms: number } }).details.waited_ms).toBeGreaterThanOrEqual(50);
      expect(await app.runs.get(runId)).toMatchObject({ status: 'PENDING' });
      await expect(app.runs.wait(runId)).rejects.toMatchObject({ code: 'NO_WORKER' });
      // A worker that comes later executes it; the next wait settles.
      weft({
        store: await reopen(store),
        worker: { concurrency: 1, pollMs: 20 },
        steps: { work: () => 'a' },
      });
      // (Once it has claimed the run: a worker opening its own connection may take longer than 50 ms.)
      await until(async () => {
        const lease = await store.getLease(runId);
        return lease?.owner_id !== null || lease.status !== 'PENDING';
      }, 'the worker to claim the run');
      expect(await app.runs.wait(runId)).toMatchObject({ status: 'COMPLETED', result: 'a' });
    });

    it("after NO_WORKER a foreground call's signal still cancels the run it enqueued, with the caller's reason", async () => {
      const store = await open();
      const { app, workflow } = await clientWith(store, [['a', 'work']], { noWorkerMs: 50 });
      const controller = new AbortController();
      const error = await app.runs.run(workflow.id, { signal: controller.signal }).catch((e: unknown) => e);
      expect(error).toMatchObject({ code: 'NO_WORKER', details: { signal_followed: true } });
      const runId = (error as { details: { run_id: string } }).details.run_id;
      expect(await app.runs.get(runId)).toMatchObject({ status: 'PENDING' });
      controller.abort('Gave up waiting.');
      await until(async () => (await app.runs.get(runId)).status === 'CANCELLED', 'the run to be cancelled');
      expect(await app.runs.get(runId)).toMatchObject({
        started_at: null,
        error: { code: 'CANCELLED', message: 'Gave up waiting.' },
      });
      // A worker that comes later never executes it.
      const watched = await watchedWorker(store);
      await new Promise((resolve) => setTimeout(resolve, 150));
      await watched.worker.idle();
      expect(watched.executed()).toBe(false);
    });

    it('a client whose workers are busy keeps waiting past noWorkerMs (no NO_WORKER)', async () => {
      const store = await open();
      const { app, workflow } = await clientWith(store, [['a', 'hold']], { noWorkerMs: 50 });
      const gate = resolvers<void>();
      let started = 0;
      weft({
        store: await reopen(store),
        worker: { concurrency: 1, pollMs: 20 },
        steps: {
          hold: async () => {
            started++;
            await gate.promise;
            return 'held';
          },
        },
      });
      const first = await app.runs.run(workflow.id, { background: true });
      await until(() => started === 1, 'the first run to start');
      const second = app.runs.run(workflow.id); // waits behind the first: the only slot is taken
      await new Promise((resolve) => setTimeout(resolve, 300));
      gate.resolve();
      expect(await second).toMatchObject({ status: 'COMPLETED', result: 'held' });
      expect(await app.runs.wait(first.id)).toMatchObject({ status: 'COMPLETED' });
    });

    it("cancel from a client stops a handler that ignores the abort, at the worker's cancel grace", async () => {
      const store = await open();
      // The client waits for the worker up to its own grace + 1 s; the worker abandons the step at its 100 ms.
      const { app, workflow } = await cancellingClient(store, 5_000);
      const started = resolvers<void>();
      let aborted = false;
      let ranB = false;
      weft({
        store: await reopen(store),
        worker: { concurrency: 1 },
        limits: { cancelGraceMs: 100 },
        steps: {
          hold: (ctx: StepContext) => {
            started.resolve();
            ctx.signal.addEventListener('abort', () => {
              aborted = true;
            });
            return new Promise<string>(() => undefined); // never settles: only the grace ends it
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
      expect(cancelled.output.a).toMatchObject({ status: 'CANCELLED' });
      expect(cancelled.error).toEqual({ code: 'CANCELLED', message: 'not needed' });
      expect(aborted).toBe(true);
      expect(ranB).toBe(false);
      // Ended by the worker (its cancel and the end are journaled), not by the client's fallback write.
      const types = (await store.loadJournal(run.id)).map((e) => e.type);
      expect(types).toContain('cancel.requested');
      expect(types.at(-1)).toBe('run.ended');
    });

    it('cancel of a run whose process does not listen ends the row itself after the cancel grace + 1 s', async () => {
      const store = await open();
      const { app, workflow } = await clientWith(store, [['a', 'hold']], { limits: { cancelGraceMs: 100 } });
      const started = resolvers<void>();
      // A Weft that executes its own runs but is no worker: it does not listen for run.cancel.
      const owner = weft({
        store: await reopen(store),
        steps: {
          hold: () => {
            started.resolve();
            return new Promise<string>(() => undefined);
          },
        },
      });
      const run = await owner.app('app_1').runs.run(workflow.id, { version: 'latest', background: true });
      await started.promise;
      await owner.idle();
      const before = Date.now();
      const cancelled = await app.runs.cancel(run.id, 'x'.repeat(3_000));
      const waited = Date.now() - before;
      expect(cancelled.status).toBe('CANCELLED');
      // The row records the caller's reason, bounded (1,000 characters, the last one "…").
      expect(cancelled.error).toEqual({ code: 'CANCELLED', message: `${'x'.repeat(999)}…` });
      // Not the 10 s it was: the client waited its grace (100 ms) + 1 s, then wrote the row. The upper
      // bound is loose on purpose (a loaded machine), and still below the old fixed wait.
      expect(waited).toBeGreaterThanOrEqual(1_100);
      expect(waited).toBeLessThan(8_000);
      expect((await store.loadJournal(run.id)).map((e) => e.type)).not.toContain('cancel.requested');
    });

    it('a worker that dies has its run taken over by another after the lease, from its journal', async () => {
      const { LEASE, store, app, run, executions, cut } = await heldByA();
      cut.sever(); // process A stops between two instructions: no heartbeat, no append
      const step = (ctx: StepContext) => {
        executions.push(`B:${ctx.step.key}`);
        return `${ctx.step.key}@B`;
      };
      weft({
        store: await reopen(store),
        owner: LEASE,
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

export interface PresenceContractOptions<S extends WeftStore & StorePresence> {
  /** A new, empty store with worker presence (called for each test). */
  create(): S | Promise<S>;
  /** A second store on the same data (another process); omit for an in-process store. */
  peer?(store: S): S | Promise<S>;
  destroy?(store: S): void | Promise<void>;
}

/**
 * Worker presence (`announceWorker`, `withdrawWorker`, `countWorkers`; @weft/core/store presence.ts), as
 * one vitest suite for every store that has it.
 */
export function describePresenceContract<S extends WeftStore & StorePresence>(
  name: string,
  options: PresenceContractOptions<S>,
): void {
  const at = (s: number) => new Date(Date.UTC(2030, 0, 1) + s * 1000).toISOString();
  describe(`${name} — worker presence`, () => {
    const opened: S[] = [];
    afterEach(async () => {
      for (const store of opened.splice(0).reverse()) await options.destroy?.(store);
    });
    async function pair(): Promise<[S, S]> {
      const store = await options.create();
      opened.push(store);
      if (options.peer === undefined) return [store, store];
      const peer = await options.peer(store);
      opened.push(peer);
      return [store, peer];
    }

    it('counts the workers whose announcement runs at `now`; a later one moves it; withdraw forgets', async () => {
      const [store, peer] = await pair();
      expect(await store.countWorkers(at(0))).toBe(0);
      await peer.announceWorker('w1', at(15));
      await peer.announceWorker('w2', at(5));
      expect(await store.countWorkers(at(0))).toBe(2);
      expect(await store.countWorkers(at(5))).toBe(2); // until is inclusive, as lease_until
      expect(await store.countWorkers(at(6))).toBe(1);
      await peer.announceWorker('w2', at(30)); // ran out, then came back
      expect(await store.countWorkers(at(20))).toBe(1); // w1 ran out: not counted, and forgotten
      expect(await store.countWorkers(at(0))).toBe(1);
      await peer.announceWorker('w1', at(15));
      await peer.withdrawWorker('w2');
      await peer.withdrawWorker('never-there');
      expect(await store.countWorkers(at(0))).toBe(1);
      await peer.withdrawWorker('w1');
      expect(await store.countWorkers(at(0))).toBe(0);
    });

    it('the last announcement of a worker wins, even an earlier one; each worker counts once', async () => {
      const [store, peer] = await pair();
      for (let i = 0; i < 20; i++) await peer.announceWorker(`w${i % 5}`, at(10 + i));
      expect(await store.countWorkers(at(0))).toBe(5);
      await peer.announceWorker('w0', at(2)); // moved back (a worker whose clock was ahead, corrected)
      expect(await store.countWorkers(at(3))).toBe(4);
      expect(await store.countWorkers(at(0))).toBe(4); // w0 ran out at 3: forgotten
      await store.announceWorker('w0', at(10)); // announced on either handle: one table
      expect(await peer.countWorkers(at(0))).toBe(5);
    });

    it('refuses bad arguments with INVALID_ARGUMENT, naming the parameter', async () => {
      const [store] = await pair();
      const calls: Array<[() => Promise<unknown>, string]> = [
        [() => store.announceWorker('', at(1)), 'ownerId'],
        [() => store.announceWorker('x'.repeat(201), at(1)), 'ownerId'],
        [() => store.announceWorker('w', 'soon'), 'until'],
        [() => store.withdrawWorker(null as never), 'ownerId'],
        [() => store.countWorkers('now'), 'now'],
      ];
      for (const [work, parameter] of calls) {
        const error = await Promise.resolve()
          .then(work)
          .catch((e: unknown) => e);
        expect(error).toMatchObject({ code: 'INVALID_ARGUMENT', details: { parameter } });
      }
      expect(await store.countWorkers(at(0))).toBe(0);
    });
  });
}

/**
 * A run cancelled by another process, seen the same way by the process executing it
 * (docs/durability.md, "Cancel across processes"): when the store refuses a worker's append because the
 * run's row ended CANCELLED (LEASE_LOST, `details.status: "CANCELLED"`), the worker ends the run
 * CANCELLED with the reason the row records — `run.cancelled`, never `run.failed` — and appends nothing
 * more; any other refusal stays LEASE_LOST. A run whose row holds a cancel request but cannot be resumed
 * (RESUME_FAILED) ends CANCELLED with the request's reason. For every store with `claimRuns` (notices not
 * needed: the cancels here are written on the row, as a canceller does when nobody answers it).
 */
export function describeCancelledElsewhere(name: string, options: WorkerContractOptions): void {
  describe(`a run cancelled elsewhere: ${name}`, () => {
    const { open, reopen, weft } = contractFixture(options);
    async function clientWith(store: WeftStore, steps: Array<[string, string]>) {
      const client = weft({ store, worker: false, steps: refuse });
      const app = client.app('app_1');
      const workflow = await app.workflows.create({ name: 'w', draft: chain(steps) });
      await app.versions.publish(workflow.id);
      return { client, app, workflow };
    }

    /**
     * `store` (another handle) where `act` runs, once, just before the first `appendJournals` that
     * carries an append of `runId` — after the worker claimed the run, before any entry of it is written.
     */
    function beforeFirstAppend(store: WeftStore, runId: string, act: () => Promise<void>): WeftStore {
      let done = false;
      return new Proxy(store, {
        get(target, property) {
          const value = Reflect.get(target, property, target);
          if (typeof value !== 'function') return value;
          if (property !== 'appendJournals') return value.bind(target); // private fields need the target
          return async (appends: Array<{ run_id: string }>) => {
            if (!done && appends.some((a) => a.run_id === runId)) {
              done = true;
              await act();
            }
            return value.call(target, appends);
          };
        },
      });
    }

    /** Ends the row CANCELLED with `reason`, as a canceller does when nobody answers it (cancel.ts). */
    async function endCancelled(store: WeftStore, runId: string, reason: string): Promise<void> {
      const now = new Date().toISOString();
      const ended = await store.updateRun(
        runId,
        {
          status: 'CANCELLED',
          error: { code: 'CANCELLED', message: reason },
          ended_at: now,
          updated_at: now,
        },
        { status_in: ['PENDING', 'RUNNING'] },
      );
      expect(ended).not.toBeNull();
    }

    /** The outcome events a Weft's engine emits, by run. */
    function outcomes(w: Weft) {
      const seen: Array<{ run: string; event: string; reason?: string; code?: string }> = [];
      w.engine.on('run.cancelled', (e) => {
        seen.push({ run: e.run.id, event: 'run.cancelled', reason: e.reason });
      });
      w.engine.on('run.failed', (e) => {
        seen.push({ run: e.run.id, event: 'run.failed', code: e.error.code });
      });
      w.engine.on('run.completed', (e) => {
        seen.push({ run: e.run.id, event: 'run.completed' });
      });
      return seen;
    }

    it("a row cancelled before the worker's first batch: the worker's run ends CANCELLED with the row's reason (run.cancelled), nothing appended", async () => {
      const store = await open();
      const { app, workflow } = await clientWith(store, [
        ['a', 'hold'],
        ['b', 'work'],
      ]);
      const queued = await app.runs.run(workflow.id, { background: true });
      const reason = 'Cancelled by a client whose worker did not answer.';
      const held = holdingSteps();
      const worker = weft({
        store: beforeFirstAppend(await reopen(store), queued.id, () =>
          endCancelled(store, queued.id, reason),
        ),
        worker: { concurrency: 1, pollMs: 20 },
        steps: held.steps,
      });
      const seen = outcomes(worker);
      await until(() => seen.length > 0, 'the run to end on the worker');
      await worker.idle();
      expect(seen).toEqual([{ run: queued.id, event: 'run.cancelled', reason }]);
      // The local outcome is the stored one: the caller's reason, from every process.
      const stored = { status: 'CANCELLED', error: { code: 'CANCELLED', message: reason } };
      expect(await app.runs.get(queued.id)).toMatchObject(stored);
      expect(await worker.app('app_1').runs.get(queued.id)).toMatchObject(stored);
      // The refused batch held the run's first entries: nothing of it was appended, then or after.
      expect(await store.loadJournal(queued.id)).toEqual([]);
      expect(held.ranWork).toBe(false);
      expect(await store.getLease(queued.id)).toMatchObject({ status: 'CANCELLED', owner_id: null });
    });

    it('a row cancelled while the run was ending here (its end refused): run.cancelled, not run.completed', async () => {
      const store = await open();
      const { app, workflow } = await clientWith(store, [['a', 'work']]);
      const queued = await app.runs.run(workflow.id, { background: true });
      const reason = 'Too late, but first.';
      let worked = 0;
      const worker = weft({
        store: beforeFirstAppend(await reopen(store), queued.id, () =>
          endCancelled(store, queued.id, reason),
        ),
        worker: { concurrency: 1, pollMs: 20 },
        steps: {
          work: () => {
            worked++;
            return 'done';
          },
        },
      });
      const seen = outcomes(worker);
      await until(() => seen.length > 0, 'the run to end on the worker');
      await worker.idle();
      expect(worked).toBe(1);
      expect(seen).toEqual([{ run: queued.id, event: 'run.cancelled', reason }]);
      expect(await app.runs.get(queued.id)).toMatchObject({
        status: 'CANCELLED',
        result: null,
        error: { code: 'CANCELLED', message: reason },
      });
      expect(await store.loadJournal(queued.id)).toEqual([]);
    });

    it('a refusal for any other reason (another owner took the run) stays LEASE_LOST: run.failed here, the row is the new owner’s', async () => {
      const store = await open();
      const { app, workflow } = await clientWith(store, [
        ['a', 'hold'],
        ['b', 'work'],
      ]);
      const queued = await app.runs.run(workflow.id, { background: true });
      const held = holdingSteps();
      const owner = 'worker-that-lost-it';
      const worker = weft({
        store: beforeFirstAppend(await reopen(store), queued.id, async () => {
          // Its lease given up and taken by another owner, as after a pause past the lease.
          expect(await store.releaseRun(queued.id, owner)).toBe(true);
          const far = new Date(Date.now() + 3_600_000).toISOString();
          const now = new Date().toISOString();
          expect(
            await store.claimRun(queued.id, { owner_id: 'another', lease_until: far, now }),
          ).toMatchObject({ claimed: true });
        }),
        owner: { id: owner },
        worker: { concurrency: 1, pollMs: 20 },
        steps: held.steps,
      });
      const seen = outcomes(worker);
      await until(() => seen.length > 0, 'the run to end on the worker');
      expect(seen).toEqual([{ run: queued.id, event: 'run.failed', code: 'LEASE_LOST' }]);
      expect(await store.getLease(queued.id)).toMatchObject({ owner_id: 'another' });
      expect((await store.getRun(queued.id))!.status).not.toBe('CANCELLED');
      expect(await store.loadJournal(queued.id)).toEqual([]);
    });

    it('a run whose row holds a cancel request but cannot be resumed (RESUME_FAILED) ends CANCELLED with the request; the failure is reported', async () => {
      const store = await open();
      const { app, workflow } = await clientWith(store, [
        ['a', 'hold'],
        ['b', 'work'],
      ]);
      const requested = await app.runs.run(workflow.id, { background: true });
      const plain = await app.runs.run(workflow.id, { background: true });
      const request = { code: 'CANCELLED', message: 'Asked before anyone found it broken.' };
      expect(
        await store.updateRun(requested.id, { error: request }, { status_in: ['PENDING', 'RUNNING'] }),
      ).not.toBeNull();
      const reported: Array<{ code: unknown; run_id: string | undefined; status: unknown }> = [];
      // A worker without the `hold` step type: neither run can begin here.
      weft({
        store: await reopen(store),
        worker: { concurrency: 2, pollMs: 20 },
        steps: { work: () => 'b' },
        onStoreError: (error, context) => {
          const e = error as { code?: unknown; details?: { status?: unknown } };
          reported.push({ code: e.code, run_id: context.run_id, status: e.details?.status });
        },
      });
      expect(await app.runs.wait(requested.id)).toMatchObject({ status: 'CANCELLED', error: request });
      const failed = await app.runs.wait(plain.id);
      expect(failed).toMatchObject({ status: 'FAILED', error: { code: 'RESUME_FAILED' } });
      expect(reported.sort((x, y) => String(x.status).localeCompare(String(y.status)))).toEqual([
        { code: 'RESUME_FAILED', run_id: requested.id, status: 'CANCELLED' },
        { code: 'RESUME_FAILED', run_id: plain.id, status: 'FAILED' },
      ]);
    });
  });
}
