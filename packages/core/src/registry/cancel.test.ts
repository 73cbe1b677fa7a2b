/** The cancel request a worker reads on a run's row (cancel.ts), and how a live run with one reads. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createWeft } from '../index.js';
import { reasonOfCancelError } from '../run/cancel-reason.js';
import { MemoryStore } from '../store/memory.js';
import type { RunRow } from '../store/types.js';
import { fcRuns, jsonValue } from '../test-support/fc.js';
import { assembleRun } from './access.js';
import { requestedCancelReason } from './cancel.js';

const row = (status: string, error: unknown) => ({ status, error }) as unknown as RunRow;

describe('requestedCancelReason', () => {
  it("is the caller's reason on a live run's row, bounded", () => {
    expect(requestedCancelReason(row('RUNNING', { code: 'CANCELLED', message: 'stop' }))).toBe('stop');
    expect(requestedCancelReason(row('PENDING', { code: 'CANCELLED', message: 'y'.repeat(2_000) }))).toBe(
      `${'y'.repeat(999)}…`,
    );
  });

  it('is null for no request: an ended run, another error, a malformed one, no row (the worker then uses its own)', () => {
    for (const r of [
      null,
      row('CANCELLED', { code: 'CANCELLED', message: 'stop' }),
      row('RUNNING', null),
      row('RUNNING', { code: 'STORE_ERROR', message: 'x' }),
      row('RUNNING', { code: 'CANCELLED', message: 42 }),
      row('RUNNING', { code: 'CANCELLED' }),
      row('RUNNING', 'CANCELLED'),
    ]) {
      expect(requestedCancelReason(r)).toBeNull();
    }
  });
});

describe('reasonOfCancelError', () => {
  it("is a CANCELLED error's message (a request, or a cancelled run's end), bounded; null for anything else", () => {
    expect(reasonOfCancelError({ code: 'CANCELLED', message: 'by the user' })).toBe('by the user');
    expect(reasonOfCancelError({ code: 'CANCELLED', message: 'z'.repeat(5_000) })).toBe(
      `${'z'.repeat(999)}…`,
    );
    for (const error of [
      null,
      undefined,
      'CANCELLED',
      7,
      { code: 'FAILED', message: 'x' },
      { code: 'CANCELLED' },
    ])
      expect(reasonOfCancelError(error)).toBeNull();
  });

  it('never throws, and gives null or a string of at most 1,000 characters, for any value (property)', () => {
    const hostile = fc.oneof(
      fc.anything(),
      fc.record({ code: fc.constantFrom('CANCELLED', 'FAILED'), message: fc.anything() }),
      fc.record({ code: fc.constant('CANCELLED'), message: fc.string({ maxLength: 3_000 }) }),
    );
    fc.assert(
      fc.property(hostile, (error) => {
        const reason = reasonOfCancelError(error);
        expect(reason === null || (typeof reason === 'string' && reason.length <= 1_000)).toBe(true);
      }),
      { numRuns: fcRuns(300) },
    );
  });
});

const STATUSES = ['PENDING', 'RUNNING', 'COMPLETED', 'FAILED', 'CANCELLED'] as const;

describe("a run's error as the registry reads it", () => {
  it('a live run (PENDING, RUNNING) reads error: null whatever its row holds; an ended one its error (property)', () => {
    const error = fc.oneof(
      fc.constant(null),
      fc.record({ code: fc.constantFrom('CANCELLED', 'FAILED', 'STORE_ERROR'), message: fc.string() }),
      jsonValue,
    );
    fc.assert(
      fc.property(fc.constantFrom(...STATUSES), error, (status, stored) => {
        const given = {
          id: 'r',
          status,
          error: stored,
          input: {},
          usage: { total: 0, calls: [], steps: {} },
          workflow_version: null,
          workflow_version_draft: { steps: [{ type: 'code', key: 'a', code: '1' }] },
          ended_at: null,
        } as unknown as RunRow;
        const run = assembleRun(given, {});
        const live = status === 'PENDING' || status === 'RUNNING';
        expect(run.error).toEqual(live ? null : stored);
        expect(given.error).toBe(stored); // the row itself is left as it is
      }),
      { numRuns: fcRuns(200) },
    );
  });

  it('runs.get and runs.list answer error: null for a live run whose row holds a cancel request; the store keeps it', async () => {
    const store = new MemoryStore();
    const weft = createWeft({ store, worker: false });
    try {
      const app = weft.app('app_1');
      const workflow = await app.workflows.create({
        name: 'w',
        draft: { steps: [{ type: 'code', key: 'a', code: '1' }] },
      });
      const queued = await app.runs.run(workflow.id, { version: 'draft', background: true });
      const request = { code: 'CANCELLED', message: 'requested, not done' };
      // As a canceller writes it on the row before its notice (cancel.ts).
      expect(
        await store.updateRun(queued.id, { error: request }, { status_in: ['PENDING', 'RUNNING'] }),
      ).not.toBeNull();
      expect((await store.getRun(queued.id))!.error).toEqual(request);
      expect(await app.runs.get(queued.id)).toMatchObject({ status: 'PENDING', error: null });
      expect((await app.runs.list()).data).toMatchObject([{ id: queued.id, status: 'PENDING', error: null }]);
      expect((await store.getRun(queued.id))!.error).toEqual(request); // still there for a worker
      // Once the run has ended, its error reads as stored.
      expect(await app.runs.cancel(queued.id, 'done now')).toMatchObject({
        status: 'CANCELLED',
        error: { code: 'CANCELLED', message: 'done now' },
      });
      expect((await app.runs.get(queued.id)).error).toEqual({ code: 'CANCELLED', message: 'done now' });
    } finally {
      await weft.close();
    }
  });
});
