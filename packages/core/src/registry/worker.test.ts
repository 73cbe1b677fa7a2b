/**
 * The `worker` option of createWeft: its checks. The wiring itself (a client enqueues, a worker claims,
 * cancel across processes, a dead worker's run taken over) is @weft/testing/worker-contract, run against
 * the memory store (packages/testing) and PostgreSQL (packages/store-postgres).
 */
import { describe, expect, it } from 'vitest';
import { isWeftError } from '../errors.js';
import { MemoryStore } from '../store/memory.js';
import { createWeft } from './weft.js';

function codeOf(work: () => unknown): string {
  try {
    work();
  } catch (error) {
    if (isWeftError(error)) return `${error.code}: ${String(error.details?.parameter ?? '')}`;
    throw error;
  }
  return 'no error';
}

describe('createWeft({ worker })', () => {
  it.each([
    [{ concurrency: 0 }, 'worker.concurrency'],
    [{ concurrency: 1.5 }, 'worker.concurrency'],
    [{ concurrency: 10_001 }, 'worker.concurrency'],
    [{ pollMs: 5 }, 'worker.pollMs'],
    [{ pollMs: Number.POSITIVE_INFINITY }, 'worker.pollMs'],
    [true, 'worker'],
    [null, 'worker'],
    ['fast', 'worker'],
  ])('refuses worker: %j (%s)', (worker, parameter) => {
    expect(codeOf(() => createWeft({ store: new MemoryStore(), worker: worker as never }))).toBe(
      `INVALID_ARGUMENT: ${parameter}`,
    );
  });

  it.each([0, 9, 1.5, 86_400_001, Number.NaN, '100', null])('refuses noWorkerMs: %j', (noWorkerMs) => {
    expect(
      codeOf(() => createWeft({ store: new MemoryStore(), worker: false, noWorkerMs: noWorkerMs as never })),
    ).toBe('INVALID_ARGUMENT: noWorkerMs');
  });

  it('a client on a store without worker presence waits past noWorkerMs (it cannot tell absent from busy)', async () => {
    const store = new MemoryStore();
    const blind = new Proxy(store, {
      get: (target, property) => {
        if (property === 'countWorkers') return undefined;
        const value = Reflect.get(target, property, target);
        return typeof value === 'function' ? value.bind(target) : value; // private fields need the target
      },
    });
    const client = createWeft({ store: blind, worker: false, noWorkerMs: 10 });
    const app = client.app('app_1');
    const workflow = await app.workflows.create({
      name: 'w',
      draft: { steps: [{ type: 'code', key: 'a', code: '1' }] } as never,
    });
    const waiting = app.runs.run(workflow.id, { version: 'draft' });
    let settled = false;
    waiting.then(
      () => (settled = true),
      () => (settled = true),
    );
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(settled).toBe(false);
    // A worker on the same store ends the wait.
    const worker = createWeft({ store, worker: { concurrency: 1, pollMs: 10 } });
    expect(await waiting).toMatchObject({ status: 'COMPLETED', result: 1 });
    await worker.close();
    await client.close();
  });

  it('refuses a worker on a store without claimRuns', () => {
    const store = new MemoryStore();
    const bare = new Proxy(store, {
      get: (target, property) =>
        property === 'claimRuns' ? undefined : Reflect.get(target, property, target),
    });
    expect(codeOf(() => createWeft({ store: bare, worker: { concurrency: 1 } }))).toBe(
      'INVALID_ARGUMENT: store.claimRuns',
    );
  });

  it('a client only (worker: false) enqueues: the run stays PENDING and unowned with nobody to run it', async () => {
    const store = new MemoryStore();
    const client = createWeft({ store, worker: false });
    const app = client.app('app_1');
    const workflow = await app.workflows.create({
      name: 'w',
      draft: { steps: [{ type: 'code', key: 'a', code: '1' }] } as never,
    });
    const run = await app.runs.run(workflow.id, { version: 'draft', background: true });
    expect(run.status).toBe('PENDING');
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(await store.getLease(run.id)).toMatchObject({ status: 'PENDING', owner_id: null });
    expect(await store.loadJournal(run.id)).toEqual([]);
    await client.close();
  });
});
