/**
 * A cancel request on a run's row, with several processes on one SQLite file (docs/durability.md, "Cancel
 * across processes"): a live run reads `error: null` from every process whatever its row holds; a worker
 * that claims a run whose row holds a request (its canceller died before the run ended) cancels it at
 * once with that reason, executing none of its steps; a worker that learns of a cancel at its heartbeat
 * (the file sends no notices) emits `run.cancelled` with the reason the row records.
 */
import { createWeft, type StepContext, type Weft, type WorkflowVersionDraft } from '@weft/core';
import { severable } from '@weft/testing/durable-contract';
import { holdingSteps } from '@weft/testing/worker-contract';
import { describe, expect, it } from 'vitest';
import { refuse, sharedFiles, until } from './test-support/files.js';

const { file, open, track } = sharedFiles('cancel');

function weft(options: Parameters<typeof createWeft>[0]): Weft {
  return track(createWeft({ onStoreError: () => undefined, ...options }));
}

/** A client-only Weft on `path` with the published workflow `steps` (a chain). */
async function client(path: string, steps: Array<[string, string]>) {
  const store = open(path);
  const c = weft({ store, worker: false, steps: refuse, noWorkerMs: Number.POSITIVE_INFINITY });
  const app = c.app('app_1');
  const draft = {
    steps: steps.map(([key, type], i) => ({
      type,
      key,
      destinations: i + 1 < steps.length ? [steps[i + 1]![0]] : [],
    })),
  } as unknown as WorkflowVersionDraft;
  const workflow = await app.workflows.create({ name: 'w', draft });
  await app.versions.publish(workflow.id);
  return { app, workflow, store };
}

const LIVE = ['PENDING', 'RUNNING'] as const;

describe('a cancel request on a run row, on one SQLite file', () => {
  it('a live run reads error: null from every process; a worker claiming an enqueued run with a request cancels it at once', async () => {
    const path = file();
    const { app, workflow, store } = await client(path, [
      ['a', 'hold'],
      ['b', 'work'],
    ]);
    const queued = await app.runs.run(workflow.id, { background: true });
    // As a canceller writes it before its notice — and then died, before ending the run.
    const requested = { code: 'CANCELLED', message: 'The canceller went away.' };
    expect(await store.updateRun(queued.id, { error: requested }, { status_in: [...LIVE] })).not.toBeNull();
    expect(await app.runs.get(queued.id)).toMatchObject({ status: 'PENDING', error: null });
    expect((await app.runs.list()).data).toMatchObject([{ id: queued.id, status: 'PENDING', error: null }]);
    expect((await store.getRun(queued.id))!.error).toEqual(requested); // kept for the worker

    let holds = 0;
    const held = holdingSteps();
    const worker = weft({
      store: open(path),
      worker: { concurrency: 1, pollMs: 20 },
      steps: {
        ...held.steps,
        hold: (ctx: StepContext) => {
          holds++;
          return held.steps.hold(ctx);
        },
      },
    });
    const done = await app.runs.wait(queued.id);
    expect(done).toMatchObject({
      status: 'CANCELLED',
      started_at: null,
      error: requested,
      output: { a: { status: 'SKIPPED', skip_reason: 'run_stopped' }, b: { status: 'SKIPPED' } },
    });
    expect(holds).toBe(0);
    expect((await store.loadJournal(queued.id)).map((e) => e.type)).toEqual([
      'cancel.requested',
      'run.ended',
    ]);

    // A RUNNING run the worker executes, with a request on its row (no notice on a file: nobody acts
    // on it): error: null from the client and from the worker, until it ends.
    const running = await app.runs.run(workflow.id, { background: true });
    await held.started;
    await until(async () => (await app.runs.get(running.id)).status === 'RUNNING', 'the row to say RUNNING');
    expect(await store.updateRun(running.id, { error: requested }, { status_in: [...LIVE] })).not.toBeNull();
    for (const reader of [app, worker.app('app_1')]) {
      expect(await reader.runs.get(running.id)).toMatchObject({ status: 'RUNNING', error: null });
      const listed = (await reader.runs.list({ status: 'RUNNING' })).data;
      expect(listed).toMatchObject([{ id: running.id, error: null }]);
    }
    expect(await app.runs.cancel(running.id, 'Ended by the client.')).toMatchObject({
      status: 'CANCELLED',
      error: { code: 'CANCELLED', message: 'Ended by the client.' },
    });
  });

  it('a run whose owner died after a request was written on its row: the worker taking it over cancels it, executing nothing', async () => {
    const LEASE = { leaseMs: 800, heartbeatMs: 50 };
    const path = file();
    const { app, workflow, store } = await client(path, [
      ['a', 'work'],
      ['hold', 'hold'],
      ['c', 'work'],
    ]);
    const executions: string[] = [];
    let heldUp!: () => void;
    const holding = new Promise<void>((resolve) => {
      heldUp = resolve;
    });
    const cut = severable(open(path));
    const a = weft({
      store: cut.store,
      owner: LEASE,
      worker: { concurrency: 1, pollMs: 20 },
      steps: {
        work: (ctx: StepContext) => {
          executions.push(`A:${ctx.step.key}`);
          return ctx.step.key;
        },
        hold: () => {
          executions.push('A:hold');
          heldUp();
          return new Promise(() => undefined);
        },
      },
    });
    const run = await app.runs.run(workflow.id, { background: true });
    await holding;
    await a.idle();
    const requested = { code: 'CANCELLED', message: 'Nobody needs it.' };
    expect(await store.updateRun(run.id, { error: requested }, { status_in: [...LIVE] })).not.toBeNull();
    cut.sever();
    const step = (ctx: StepContext) => {
      executions.push(`B:${ctx.step.key}`);
      return ctx.step.key;
    };
    weft({
      store: open(path),
      owner: LEASE,
      worker: { concurrency: 1, pollMs: 20 },
      steps: { work: step, hold: step },
    });
    const done = await app.runs.wait(run.id);
    expect(done).toMatchObject({
      status: 'CANCELLED',
      error: requested,
      output: { a: { status: 'COMPLETED' }, hold: { status: 'CANCELLED' }, c: { status: 'SKIPPED' } },
    });
    expect(executions).toEqual(['A:a', 'A:hold']);
    expect((await store.loadJournal(run.id)).map((e) => e.type).slice(-3)).toEqual([
      'cancel.requested',
      'run.resumed',
      'run.ended',
    ]);
  });

  it("a worker that learns of a cancel at its heartbeat emits run.cancelled with the row's reason (the caller's)", async () => {
    const path = file();
    const { app, workflow } = await client(path, [
      ['a', 'hold'],
      ['b', 'work'],
    ]);
    const held = holdingSteps();
    const worker = weft({
      store: open(path),
      worker: { concurrency: 1, pollMs: 20 },
      owner: { leaseMs: 600, heartbeatMs: 50 },
      steps: held.steps,
    });
    const local: Array<{ reason: string; status: string; error: unknown }> = [];
    worker.engine.on('run.cancelled', (event) => {
      local.push({ reason: event.reason, status: event.run.status, error: event.run.error });
    });
    const run = await app.runs.run(workflow.id, { background: true });
    await held.started;
    // Once its first batch is committed (before, the worker would learn of the cancel at that append).
    await until(async () => (await app.runs.get(run.id)).status === 'RUNNING', 'the row to say RUNNING');
    // The file sends no notices: the client ends the row itself, with its reason.
    const cancelled = await app.runs.cancel(run.id, 'Replaced by a newer run.');
    expect(cancelled.error).toEqual({ code: 'CANCELLED', message: 'Replaced by a newer run.' });
    await until(() => local.length > 0, 'the worker to cancel the run at its heartbeat');
    expect(local).toEqual([
      {
        reason: 'Replaced by a newer run.',
        status: 'CANCELLED',
        error: { code: 'CANCELLED', message: 'Replaced by a newer run.' },
      },
    ]);
    expect(held.aborted).toBe(1);
    expect(held.ranWork).toBe(false);
    // The stored record is the client's, unchanged by the worker.
    expect(await app.runs.get(run.id)).toEqual(cancelled);
  });
});
