/** The cancel request a worker reads on a run's row (cancel.ts): read as hostile. */
import { describe, expect, it } from 'vitest';
import type { RunRow } from '../store/types.js';
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
