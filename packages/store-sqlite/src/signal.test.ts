/**
 * A client-only Weft's `signal` on one SQLite file (docs/durability.md, "Workers"): the file sends no
 * notices, so the client's cancel ends the row itself (compare-and-set on a live status) and the worker
 * executing the run learns at its next heartbeat (LEASE_LOST) and stops the step. The foreground call
 * resolves with the run CANCELLED, as in a process that executes runs.
 */
import { getEventListeners } from 'node:events';
import { createWeft, type Weft, type WorkflowVersionDraft } from '@weft/core';
import { holdingSteps } from '@weft/testing/worker-contract';
import { describe, expect, it } from 'vitest';
import { refuse, sharedFiles, until } from './test-support/files.js';

const { file, open, track } = sharedFiles('signal');

const draft = {
  steps: [
    { type: 'hold', key: 'a', destinations: ['b'] },
    { type: 'work', key: 'b' },
  ],
} as unknown as WorkflowVersionDraft;

/** A Weft executing the file's runs with `steps`: short lease and heartbeat, so it learns of a cancel soon. */
function startWorker(path: string, steps: ReturnType<typeof holdingSteps>['steps']): Weft {
  const worker = createWeft({
    store: open(path),
    worker: { concurrency: 2, pollMs: 20 },
    owner: { leaseMs: 600, heartbeatMs: 50 },
    onStoreError: () => undefined,
    steps,
  });
  return track(worker);
}

describe("a client's signal on one SQLite file", () => {
  it('cancels the run the worker executes; the foreground call resolves CANCELLED; the worker stops the step', async () => {
    const path = file();
    const client = createWeft({
      store: open(path),
      worker: false,
      steps: refuse,
      onStoreError: () => undefined,
    });
    track(client);
    const held = holdingSteps();
    startWorker(path, held.steps);
    const app = client.app('app_1');
    const workflow = await app.workflows.create({ name: 'w', draft });
    await app.versions.publish(workflow.id);

    const controller = new AbortController();
    const waiting = app.runs.run(workflow.id, { signal: controller.signal });
    await held.started;
    controller.abort('enough');
    const run = await waiting;
    expect(run.status).toBe('CANCELLED');
    // The caller's reason is the run's: written with the end on the row (the file sends no notices).
    expect(run.error).toEqual({ code: 'CANCELLED', message: 'enough' });
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
    // The worker learns at its next heartbeat that the run is no longer its own, and stops the step.
    await until(() => held.aborted > 0, 'the worker to abort the step');
    expect(held.ranWork).toBe(false);
    expect(await app.runs.get(run.id)).toMatchObject({
      status: 'CANCELLED',
      error: { code: 'CANCELLED', message: 'enough' },
    });

    // An already-aborted signal: created CANCELLED here, never enqueued, never executed.
    const never = await app.runs.run(workflow.id, { signal: AbortSignal.abort(), background: true });
    expect(never).toMatchObject({
      status: 'CANCELLED',
      started_at: null,
      output: { a: { status: 'SKIPPED' } },
    });
  });

  it("records the caller's reason for runs.cancel and an aborted signal, on a claimed run and on a pending one", async () => {
    const path = file();
    const client = createWeft({
      store: open(path),
      worker: false,
      steps: refuse,
      noWorkerMs: Number.POSITIVE_INFINITY,
      onStoreError: () => undefined,
    });
    track(client);
    const app = client.app('app_1');
    const workflow = await app.workflows.create({ name: 'w', draft });
    await app.versions.publish(workflow.id);
    const reason = (run: { error: unknown }) => (run.error as { message?: unknown } | null)?.message;

    // Pending (no worker on the file yet): runs.cancel, then a signal.
    const queued = await app.runs.run(workflow.id, { background: true });
    expect(reason(await app.runs.cancel(queued.id, 'Queued by mistake.'))).toBe('Queued by mistake.');
    // Hostile text is stored as given (NUL, lone surrogates), bounded to 1,000 characters.
    for (const [given, stored] of [
      ['nul\u0000 lone \ud800 \udfff', 'nul\u0000 lone \ud800 \udfff'],
      ['q'.repeat(50_000), `${'q'.repeat(999)}…`],
    ] as const) {
      const run = await app.runs.run(workflow.id, { background: true });
      await app.runs.cancel(run.id, given);
      expect(reason(await app.runs.get(run.id))).toBe(stored);
    }
    const controller = new AbortController();
    const waiting = app.runs.run(workflow.id, { signal: controller.signal });
    await until(async () => (await app.runs.list()).data.length === 4, 'the run');
    controller.abort(new Error('Nobody waits any more.'));
    const pending = await waiting;
    expect(pending).toMatchObject({ status: 'CANCELLED', started_at: null });
    expect(reason(pending)).toBe('Nobody waits any more.');

    // Claimed by a worker on the same file: runs.cancel, then a background run's signal.
    const held = holdingSteps();
    startWorker(path, held.steps);
    const claimed = await app.runs.run(workflow.id, { background: true });
    await held.started;
    const cancelled = await app.runs.cancel(claimed.id, 'Superseded.');
    expect(cancelled).toMatchObject({
      status: 'CANCELLED',
      error: { code: 'CANCELLED', message: 'Superseded.' },
    });
    await until(() => held.aborted === 1, 'the worker to stop the step');
    held.rearm();
    const later = new AbortController();
    const background = await app.runs.run(workflow.id, { background: true, signal: later.signal });
    await held.started;
    later.abort({ not: 'an Error' });
    await until(async () => (await app.runs.get(background.id)).status === 'CANCELLED', 'the cancel');
    // A reason that is neither an Error nor a string: the default, as in-process.
    expect(reason(await app.runs.get(background.id))).toBe('Cancelled by the caller.');
    await until(() => held.aborted === 2, 'the worker to stop the step');
    expect(held.ranWork).toBe(false);
  });
});
