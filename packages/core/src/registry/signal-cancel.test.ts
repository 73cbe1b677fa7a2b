/**
 * `signal` on a client-only Weft (`worker: false`): aborting it cancels the run where it executes, and
 * the call settles as in a process that executes runs. Client and worker are two Wefts on one
 * MemoryStore here; @weft/testing's worker contract runs the same across processes' handles on SQLite
 * and PostgreSQL.
 */
import { getEventListeners, setMaxListeners } from 'node:events';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ERROR_CODES, WeftError } from '../errors.js';
import { MAX_CANCEL_REASON_LENGTH } from '../run/cancel-reason.js';
import type { StepContext } from '../steps/types.js';
import { MemoryStore } from '../store/memory.js';
import type { WeftStore } from '../store/store.js';
import type { RunRecord } from '../store/types.js';
import { fcRuns } from '../test-support/fc.js';
import type { WeftOptions } from './client.js';
import { MAX_SIGNAL_REASON_LENGTH, signalReason } from './signal-cancel.js';
import { trackedWefts, until } from './test-support/wefts.js';

const weft = trackedWefts();

const listeners = (signal: AbortSignal) => getEventListeners(signal, 'abort').length;

/** `a` (a handler type) then `b` (`work`). */
const twoSteps = (first: string) => ({
  steps: [
    { type: first, key: 'a', destinations: ['b'] },
    { type: 'work', key: 'b' },
  ],
});

/** Handlers a client registers: it validates documents, never executes a step. */
const refuse = {
  hold: () => {
    throw new Error('a client-only Weft executed a step');
  },
  work: () => {
    throw new Error('a client-only Weft executed a step');
  },
};

interface Held {
  started: Promise<void>;
  aborted: () => boolean;
  ranB: () => boolean;
}

/** A worker whose `hold` waits for its signal. */
function holdingWorker(store: WeftStore, extra: Partial<WeftOptions> = {}): Held {
  let startedResolve!: () => void;
  const started = new Promise<void>((r) => {
    startedResolve = r;
  });
  let aborted = false;
  let ranB = false;
  weft({
    store,
    worker: { concurrency: 50, pollMs: 20 },
    steps: {
      hold: (ctx: StepContext) => {
        startedResolve();
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
    ...extra,
  });
  return { started, aborted: () => aborted, ranB: () => ranB };
}

async function clientOf(store: WeftStore, options: Partial<WeftOptions> = {}) {
  const client = weft({ store, worker: false, steps: refuse, ...options });
  const app = client.app('app_1');
  const workflow = await app.workflows.create({ name: 'w', draft: twoSteps('hold') as never });
  await app.versions.publish(workflow.id);
  return { client, app, workflow };
}

/** What a run's outcome is made of, without ids and times. */
const shape = (run: RunRecord) => ({
  status: run.status,
  error: run.error,
  result: run.result,
  started: run.started_at !== null,
  steps: Object.fromEntries(
    Object.entries(run.output).map(([key, record]) => [key, [record.status, record.skip_reason ?? null]]),
  ),
});

describe('a client-only Weft honours `signal`', () => {
  it('a foreground run: the abort cancels the run on the worker; the call resolves with it CANCELLED, as in-process', async () => {
    const store = new MemoryStore();
    const held = holdingWorker(store);
    const { app, workflow } = await clientOf(store);
    const controller = new AbortController();
    const waiting = app.runs.run(workflow.id, { signal: controller.signal });
    await held.started;
    controller.abort('enough');
    const run = await waiting;
    expect(run.status).toBe('CANCELLED');
    // The caller's reason, recorded by the worker that stopped it.
    expect(run.error).toEqual({ code: 'CANCELLED', message: 'enough' });
    expect(held.aborted()).toBe(true);
    expect(held.ranB()).toBe(false);
    expect(run).toEqual(await app.runs.get(run.id));
    // Stopped by the worker (its cancel is journaled).
    expect((await store.loadJournal(run.id)).map((e) => e.type)).toContain('cancel.requested');
    expect(listeners(controller.signal)).toBe(0);

    // The same workflow in a process that executes runs: the same outcome.
    const local = weft({ steps: { hold: holdingWorkerStep(), work: () => 'b' } });
    const localApp = local.app('app_1');
    const localWorkflow = await localApp.workflows.create({ name: 'w', draft: twoSteps('hold') as never });
    const localController = new AbortController();
    const localWaiting = localApp.runs.run(localWorkflow.id, {
      version: 'draft',
      signal: localController.signal,
    });
    await new Promise((resolve) => setTimeout(resolve, 20));
    localController.abort('enough');
    expect(shape(await localWaiting)).toEqual(shape(run));
  });

  it('an already-aborted signal: the run is created CANCELLED (never begun, every step SKIPPED), as in-process; never PENDING', async () => {
    const store = new MemoryStore();
    // No worker at all: nothing could execute the run, and nothing needs to.
    const { app, workflow } = await clientOf(store);
    const pending: string[] = [];
    store.subscribe('run.pending', (notice) => pending.push(String(notice.run_id)));
    const local = weft({ steps: refuse });
    const localApp = local.app('app_1');
    const localWorkflow = await localApp.workflows.create({ name: 'w', draft: twoSteps('hold') as never });
    for (const background of [false, true]) {
      const signal = AbortSignal.abort(new Error('too late'));
      const run = await app.runs.run(workflow.id, { signal, background });
      const expected = await localApp.runs.run(localWorkflow.id, { version: 'draft', signal, background });
      expect(shape(run)).toEqual(shape(expected));
      expect(shape(run)).toMatchObject({
        status: 'CANCELLED',
        started: false,
        steps: { a: ['SKIPPED', 'run_stopped'], b: ['SKIPPED', 'run_stopped'] },
      });
      expect(await app.runs.get(run.id)).toEqual(run);
      expect(listeners(signal)).toBe(0);
    }
    expect(pending).toEqual([]);
    expect((await app.runs.list({ status: ['PENDING', 'RUNNING'] })).data).toEqual([]);
  });

  it('a client still refuses from_step_key (replays from a step included) and onStart', async () => {
    const store = new MemoryStore();
    const { app, workflow } = await clientOf(store);
    for (const extra of [{ from_step_key: 'a' }, { onStart: () => undefined }]) {
      await expect(app.runs.run(workflow.id, { background: true, ...extra })).rejects.toMatchObject({
        code: 'INVALID_ARGUMENT',
        details: { parameter: Object.keys(extra)[0] },
      });
    }
    await expect(
      app.runs.run(workflow.id, { background: true, signal: { aborted: true } as never }),
    ).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', details: { parameter: 'signal' } });
    expect((await app.runs.list()).data).toEqual([]);
  });

  it('a background run: returned PENDING; a later abort cancels it on the worker; the listener goes once it ended', async () => {
    const store = new MemoryStore();
    const held = holdingWorker(store);
    const { app, workflow } = await clientOf(store);
    const controller = new AbortController();
    const queued = await app.runs.run(workflow.id, { background: true, signal: controller.signal });
    expect(queued.status).toBe('PENDING');
    await held.started;
    expect(listeners(controller.signal)).toBe(1);
    controller.abort();
    await until(
      async () => (await app.runs.get(queued.id)).status === 'CANCELLED',
      'the run to be cancelled',
    );
    expect(held.aborted()).toBe(true);
    expect(held.ranB()).toBe(false);
    expect(listeners(controller.signal)).toBe(0);
  });

  it('a background run no worker has claimed: the abort ends it CANCELLED; a worker started later never runs it', async () => {
    const store = new MemoryStore();
    const { app, workflow } = await clientOf(store);
    const controller = new AbortController();
    const queued = await app.runs.run(workflow.id, { background: true, signal: controller.signal });
    controller.abort();
    await until(
      async () => (await app.runs.get(queued.id)).status === 'CANCELLED',
      'the run to be cancelled',
    );
    const held = holdingWorker(store);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(held.aborted()).toBe(false);
    expect((await app.runs.get(queued.id)).status).toBe('CANCELLED');
  });

  it('a foreground run no worker has claimed: the abort ends it CANCELLED and the call resolves with it', async () => {
    const store = new MemoryStore();
    const { app, workflow } = await clientOf(store, { noWorkerMs: Number.POSITIVE_INFINITY });
    const controller = new AbortController();
    const waiting = app.runs.run(workflow.id, { signal: controller.signal });
    await until(async () => (await store.listRuns({ app_id: 'app_1' })).data.length === 1, 'the run');
    controller.abort();
    const run = await waiting;
    // Ended by a write of its row (nobody executed it): its steps read as in-process, never begun.
    expect(shape(run)).toEqual({
      status: 'CANCELLED',
      // The reason an abort without one gives (a DOMException's message), as in-process.
      error: { code: 'CANCELLED', message: 'This operation was aborted' },
      result: null,
      started: false,
      steps: { a: ['SKIPPED', 'run_stopped'], b: ['SKIPPED', 'run_stopped'] },
    });
    expect(await app.runs.get(run.id)).toEqual(run);
  });

  it('runs.replay: the same, foreground and background', async () => {
    const store = new MemoryStore();
    const held = holdingWorker(store);
    const { app, workflow } = await clientOf(store);
    const first = await app.runs.run(workflow.id, { signal: AbortSignal.abort() });
    const controller = new AbortController();
    const waiting = app.runs.replay(first.id, { signal: controller.signal });
    await held.started;
    controller.abort();
    const replay = await waiting;
    expect(replay).toMatchObject({
      status: 'CANCELLED',
      replay_of: first.id,
      output: { a: { status: 'CANCELLED' } },
    });
    expect(held.aborted()).toBe(true);
    const early = await app.runs.replay(first.id, { signal: AbortSignal.abort(), background: true });
    expect(early).toMatchObject({ status: 'CANCELLED', started_at: null, replay_of: first.id });
    await expect(
      app.runs.replay(first.id, { from_step_key: 'b', signal: AbortSignal.abort() }),
    ).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      details: { parameter: 'from_step_key' },
    });
  });

  it('one long-lived signal over many calls holds no listener per ended run; an abort after they ended does nothing', async () => {
    const store = new MemoryStore();
    const client = weft({ store, worker: false, steps: refuse });
    weft({ store, worker: { concurrency: 20, pollMs: 20 }, steps: { work: () => 'done' } });
    const app = client.app('app_1');
    const workflow = await app.workflows.create({
      name: 'w',
      draft: { steps: [{ type: 'work', key: 'a' }] } as never,
    });
    const controller = new AbortController();
    const { signal } = controller;
    setMaxListeners(100, signal); // 40 background runs follow it at once, by design of this test
    for (let i = 0; i < 40; i++) {
      expect(await app.runs.run(workflow.id, { version: 'draft', signal })).toMatchObject({
        status: 'COMPLETED',
      });
      expect(listeners(signal)).toBe(0);
    }
    const background = await Promise.all(
      Array.from({ length: 40 }, () =>
        app.runs.run(workflow.id, { version: 'draft', signal, background: true }),
      ),
    );
    expect(listeners(signal)).toBeLessThanOrEqual(40);
    for (const run of background) expect(await app.runs.wait(run.id)).toMatchObject({ status: 'COMPLETED' });
    await until(() => listeners(signal) === 0, 'the background runs to stop listening');
    controller.abort();
    await new Promise((resolve) => setTimeout(resolve, 20));
    const statuses = new Set((await app.runs.list({ limit: 100 })).data.map((r) => r.status));
    expect([...statuses]).toEqual(['COMPLETED']);
  });

  it('property: an abort racing the run’s end gives either outcome, never a hang, a failed call or a reported error', async () => {
    const store = new MemoryStore();
    const reported: unknown[] = [];
    const client = weft({ store, worker: false, steps: refuse, onStoreError: (e) => reported.push(e) });
    weft({
      store,
      worker: { concurrency: 20, pollMs: 20 },
      // Settles after `ms` (its input): the abort lands before it began, while it runs, or after its end.
      steps: {
        work: (ctx: StepContext) =>
          new Promise<string>((resolve) =>
            setTimeout(
              () => resolve('done'),
              Number((ctx.scope.input as { ms?: number } | undefined)?.ms ?? 0),
            ),
          ),
      },
    });
    const app = client.app('app_1');
    const workflow = await app.workflows.create({
      name: 'w',
      draft: { input: { ms: { type: 'number' } }, steps: [{ type: 'work', key: 'a' }] } as never,
    });
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: 4 }),
        fc.integer({ min: -1, max: 12 }),
        fc.boolean(),
        fc.constantFrom<unknown>('race', new Error('race'), undefined, 42),
        async (ms, abortAfter, background, reason) => {
          const controller = new AbortController();
          // -1: aborted in the same tick as the call (before or while it is enqueued).
          const call = app.runs.run(workflow.id, {
            version: 'draft',
            input: { ms },
            signal: controller.signal,
            background,
          });
          if (abortAfter < 0) controller.abort(reason);
          else setTimeout(() => controller.abort(reason), abortAfter);
          const first = await call;
          const run = background ? await app.runs.wait(first.id) : first;
          expect(['COMPLETED', 'CANCELLED']).toContain(run.status);
          if (run.status === 'CANCELLED') expect(['CANCELLED', 'SKIPPED']).toContain(run.output.a!.status);
          expect(await app.runs.get(run.id)).toEqual(run);
          await new Promise((resolve) => setTimeout(resolve, Math.max(0, abortAfter) + 1));
          await until(() => listeners(controller.signal) === 0, 'the listener to go');
          expect((await app.runs.get(run.id)).status).toBe(run.status); // a late abort changed nothing
        },
      ),
      { numRuns: fcRuns(25) },
    );
    expect(reported).toEqual([]);
  });

  it('a cancel that fails: a foreground call rejects with its error; a background one reports it (onStoreError)', async () => {
    const memory = new MemoryStore();
    let down = false;
    const failure = new WeftError(ERROR_CODES.STORE_ERROR, 'The store is down.');
    const store = new Proxy(memory, {
      get: (target, property) => {
        const value = Reflect.get(target, property, target);
        if (typeof value !== 'function') return value;
        if (down && (property === 'getRun' || property === 'updateRun' || property === 'getLease')) {
          return () => Promise.reject(failure);
        }
        return value.bind(target);
      },
    });
    const reported: Array<{ error: unknown; operation: string }> = [];
    const { app, workflow } = await clientOf(store, {
      onStoreError: (error, context) => reported.push({ error, operation: context.operation }),
      noWorkerMs: Number.POSITIVE_INFINITY,
    });
    const controller = new AbortController();
    const waiting = app.runs.run(workflow.id, { signal: controller.signal });
    await until(async () => (await memory.listRuns({ app_id: 'app_1' })).data.length === 1, 'the run');
    down = true;
    controller.abort();
    await expect(waiting).rejects.toBe(failure);
    expect(listeners(controller.signal)).toBe(0);

    down = false;
    const background = new AbortController();
    await app.runs.run(workflow.id, { signal: background.signal, background: true });
    down = true;
    background.abort();
    await until(() => reported.some((r) => r.operation === 'cancel'), 'the failed cancel to be reported');
    expect(reported.find((r) => r.operation === 'cancel')!.error).toBe(failure);
    down = false;
  });

  it('close() stops following the signals of background runs', async () => {
    const store = new MemoryStore();
    const { client, app, workflow } = await clientOf(store);
    const controller = new AbortController();
    await app.runs.run(workflow.id, { background: true, signal: controller.signal });
    expect(listeners(controller.signal)).toBe(1);
    await client.close();
    await until(() => listeners(controller.signal) === 0, 'the listener to go');
  });
});

describe('after NO_WORKER, a foreground call’s signal still cancels the run', () => {
  it('the error names the run, which stays PENDING; a later abort cancels it with the caller’s reason', async () => {
    const store = new MemoryStore();
    const { app, workflow } = await clientOf(store, { noWorkerMs: 50 });
    const controller = new AbortController();
    const error = await app.runs.run(workflow.id, { signal: controller.signal }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'NO_WORKER', retryable: true, details: { signal_followed: true } });
    const runId = (error as WeftError).details!.run_id as string;
    expect((error as WeftError).message).toContain(runId);
    expect((error as WeftError).message).toContain('The signal given with the call still cancels it');
    expect((await app.runs.get(runId)).status).toBe('PENDING');
    expect(listeners(controller.signal)).toBe(1);
    controller.abort('Gave up waiting.');
    await until(async () => (await app.runs.get(runId)).status === 'CANCELLED', 'the run to be cancelled');
    expect((await app.runs.get(runId)).error).toEqual({ code: 'CANCELLED', message: 'Gave up waiting.' });
    await until(() => listeners(controller.signal) === 0, 'the listener to go');
    // A worker that comes later finds nothing to run.
    const held = holdingWorker(store);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(held.aborted()).toBe(false);
  });

  it('the signal is let go once a worker that came later has ended the run, or when the Weft closes', async () => {
    const store = new MemoryStore();
    const { client, app, workflow } = await clientOf(store, { noWorkerMs: 50 });
    const first = new AbortController();
    const error = await app.runs.run(workflow.id, { signal: first.signal }).catch((e: unknown) => e);
    const runId = (error as WeftError).details!.run_id as string;
    const second = new AbortController();
    await expect(app.runs.run(workflow.id, { signal: second.signal })).rejects.toMatchObject({
      code: 'NO_WORKER',
    });
    expect(listeners(first.signal)).toBe(1);
    expect(listeners(second.signal)).toBe(1);
    // A worker whose steps complete: the first run ends COMPLETED and its signal is let go.
    weft({ store, worker: { concurrency: 1, pollMs: 20 }, steps: { hold: () => 'a', work: () => 'b' } });
    expect(await app.runs.wait(runId)).toMatchObject({ status: 'COMPLETED' });
    await until(() => listeners(first.signal) === 0, 'the first listener to go');
    first.abort(); // after the end: nothing happens
    expect((await app.runs.get(runId)).status).toBe('COMPLETED');
    await client.close();
    await until(() => listeners(second.signal) === 0, 'the second listener to go');
  });

  it('without a signal the error says nothing of one', async () => {
    const store = new MemoryStore();
    const { app, workflow } = await clientOf(store, { noWorkerMs: 50 });
    const error = (await app.runs.run(workflow.id).catch((e: unknown) => e)) as WeftError;
    expect(error.code).toBe('NO_WORKER');
    expect(error.details).not.toHaveProperty('signal_followed');
    expect(error.message).not.toContain('signal');
  });
});

describe('signalReason', () => {
  it('takes an Error’s message or a string, bounded; a default otherwise', () => {
    expect(signalReason(AbortSignal.abort(new Error('boom')))).toBe('boom');
    expect(signalReason(AbortSignal.abort('enough'))).toBe('enough');
    expect(signalReason(AbortSignal.abort(42))).toBe('Cancelled by the caller.');
    const long = signalReason(AbortSignal.abort('x'.repeat(5_000)));
    expect(long).toHaveLength(MAX_SIGNAL_REASON_LENGTH);
  });

  it('hostile reasons (throwing getters and traps, a message that is no string, no Error) give the default, never a throw', () => {
    // No reason at all: the DOMException AbortSignal.abort() makes (an Error), as in-process.
    expect(signalReason(AbortSignal.abort())).toBe('This operation was aborted');
    const throwingMessage = new Error('x');
    Object.defineProperty(throwingMessage, 'message', {
      get() {
        throw new Error('gotcha');
      },
    });
    const objectMessage = Object.assign(new Error('x'), { message: { not: 'a string' } });
    const trap = new Proxy(
      {},
      {
        getPrototypeOf() {
          throw new Error('trap');
        },
      },
    );
    for (const reason of [
      throwingMessage,
      objectMessage,
      trap,
      null,
      Symbol('s'),
      10n,
      { message: 'no Error' },
    ]) {
      expect(signalReason(AbortSignal.abort(reason))).toBe('Cancelled by the caller.');
    }
  });
});

describe("the caller's reason is the run's recorded reason, wherever the run executes", () => {
  async function setup() {
    const store = new MemoryStore();
    const held = holdingWorker(store);
    const { app, workflow } = await clientOf(store, { noWorkerMs: Number.POSITIVE_INFINITY });
    return { store, held, app, workflow };
  }

  it('runs.cancel of a run a worker executes: the worker records the caller’s reason (error, journal)', async () => {
    const { store, held, app, workflow } = await setup();
    const run = await app.runs.run(workflow.id, { background: true });
    await held.started;
    const cancelled = await app.runs.cancel(run.id, 'Superseded by run 42.');
    expect(cancelled).toMatchObject({
      status: 'CANCELLED',
      error: { code: 'CANCELLED', message: 'Superseded by run 42.' },
      output: { a: { status: 'CANCELLED' } },
    });
    const journal = await store.loadJournal(run.id);
    expect(journal.find((e) => e.type === 'cancel.requested')).toMatchObject({
      reason: 'Superseded by run 42.',
    });
    expect(await app.runs.get(run.id)).toEqual(cancelled);
  });

  it('runs.cancel of a run still pending (nobody holds it): the row records the caller’s reason', async () => {
    const store = new MemoryStore();
    const { app, workflow } = await clientOf(store);
    const run = await app.runs.run(workflow.id, { background: true });
    const cancelled = await app.runs.cancel(run.id, 'Not needed any more.');
    expect(cancelled).toMatchObject({
      status: 'CANCELLED',
      started_at: null,
      error: { code: 'CANCELLED', message: 'Not needed any more.' },
    });
    // Without a reason: the registry's default, the same as in a process that executes the run.
    const other = await app.runs.run(workflow.id, { background: true });
    expect((await app.runs.cancel(other.id)).error).toEqual({
      code: 'CANCELLED',
      message: 'Cancelled through the registry.',
    });
  });

  it('a reason is bounded (1,000 characters, cut with …) and must be a string (INVALID_ARGUMENT)', async () => {
    const { held, app, workflow } = await setup();
    const run = await app.runs.run(workflow.id, { background: true });
    await held.started;
    await expect(app.runs.cancel(run.id, { evil: true } as never)).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      details: { parameter: 'reason' },
    });
    expect((await app.runs.get(run.id)).status).not.toBe('CANCELLED');
    const cancelled = await app.runs.cancel(run.id, '€'.repeat(2_000));
    expect(cancelled.error!.message).toBe(`${'€'.repeat(MAX_CANCEL_REASON_LENGTH - 1)}…`);
  });

  it("a reason with a secret of the run's app: redacted on the row as in the process that executes runs", async () => {
    const { held, app, workflow } = await setup();
    await app.variables.set('token', 'tok-3f9a2c77e1', { secret: true });
    const reason = 'Rotated tok-3f9a2c77e1 in a hurry.';
    const pending = await app.runs.run(workflow.id, { background: true });
    const onRow = await app.runs.cancel(pending.id, reason);
    const running = await app.runs.run(workflow.id, { background: true });
    await held.started;
    const onWorker = await app.runs.cancel(running.id, reason);
    const local = weft({ steps: { hold: holdingWorkerStep(), work: () => 'b' } });
    const localApp = local.app('app_1');
    await localApp.variables.set('token', 'tok-3f9a2c77e1', { secret: true });
    const localWorkflow = await localApp.workflows.create({ name: 'w', draft: twoSteps('hold') as never });
    const localRun = await localApp.runs.run(localWorkflow.id, { version: 'draft', background: true });
    await new Promise((resolve) => setTimeout(resolve, 20));
    const inProcess = await localApp.runs.cancel(localRun.id, reason);
    expect(inProcess.error!.message).not.toContain('tok-3f9a2c77e1');
    expect(onRow.error).toEqual(inProcess.error);
    expect(onWorker.error).toEqual(inProcess.error);
  });

  it('in-process (no worker split): the same reason, the same bound', async () => {
    const local = weft({ steps: { hold: holdingWorkerStep(), work: () => 'b' } });
    const app = local.app('app_1');
    const workflow = await app.workflows.create({ name: 'w', draft: twoSteps('hold') as never });
    const run = await app.runs.run(workflow.id, { version: 'draft', background: true });
    await new Promise((resolve) => setTimeout(resolve, 20));
    const cancelled = await app.runs.cancel(run.id, 'x'.repeat(5_000));
    expect(cancelled.error).toEqual({ code: 'CANCELLED', message: `${'x'.repeat(999)}…` });
    const aborted = await local.engine.start(twoSteps('hold') as never, {
      signal: AbortSignal.abort(new Error('caller left')),
    }).done;
    expect(aborted.error).toEqual({ code: 'CANCELLED', message: 'caller left' });
  });

  it('property: whatever a signal’s reason, client and in-process record the same bounded reason', async () => {
    const { app, workflow } = await setup();
    const local = weft({ steps: { hold: holdingWorkerStep(), work: () => 'b' } });
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.string({ maxLength: 1_200 }),
          fc.string({ maxLength: 1_200 }).map((m) => new Error(m)),
          fc.anything(),
        ),
        async (reason) => {
          const run = await app.runs.run(workflow.id, { signal: AbortSignal.abort(reason) });
          const expected = await local.engine.start(twoSteps('hold') as never, {
            signal: AbortSignal.abort(reason),
          }).done;
          expect(run.error).toEqual(expected.error);
          expect(run.error!.code).toBe('CANCELLED');
          expect(run.error!.message.length).toBeLessThanOrEqual(MAX_CANCEL_REASON_LENGTH);
        },
      ),
      { numRuns: fcRuns(30) },
    );
  });
});

/** A `hold` handler that waits for its signal (in-process reference runs). */
function holdingWorkerStep() {
  return (ctx: StepContext) =>
    new Promise<string>((_, reject) => {
      ctx.signal.addEventListener('abort', () => reject(new Error('stopped')));
    });
}
