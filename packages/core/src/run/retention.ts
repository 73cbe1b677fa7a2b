/** Run data retention: `{ max_age_in_seconds, preserve_on_failure }`; a bare number is max_age; -1 keeps forever. */
import { invalidArgument } from '../errors.js';
import type { Retention } from './types.js';

/**
 * The longest retention, in seconds (~31,700 years): `ended_at + max_age` must stay a valid date (a
 * larger age made `retention_due_at` throw a RangeError when the run ended). -1 keeps forever.
 */
export const MAX_RETENTION_SECONDS = 1e12;

export function normalizeRetention(value: Retention | number | null | undefined): Retention | null {
  if (value === null || value === undefined) return null;
  if (typeof value === 'number') {
    if (!Number.isFinite(value) || (value < 0 && value !== -1) || value > MAX_RETENTION_SECONDS) {
      throw invalidArgument('retention', 'a number of seconds in [0, 1e12], or -1 to keep forever', value);
    }
    return { max_age_in_seconds: value, preserve_on_failure: false };
  }
  if (typeof value !== 'object' || Array.isArray(value) || typeof value.max_age_in_seconds !== 'number') {
    throw invalidArgument(
      'retention',
      '{ max_age_in_seconds: number, preserve_on_failure?: boolean }',
      value,
    );
  }
  const age = value.max_age_in_seconds;
  if (!Number.isFinite(age) || (age < 0 && age !== -1) || age > MAX_RETENTION_SECONDS) {
    throw invalidArgument(
      'retention.max_age_in_seconds',
      'a number of seconds in [0, 1e12], or -1 to keep forever',
      age,
    );
  }
  return { max_age_in_seconds: age, preserve_on_failure: value.preserve_on_failure === true };
}

/** `ended_at + max_age`; null while the run has not ended or when the data is kept forever. */
export function computeRetentionDueAt(retention: Retention | null, endedAt: string | null): string | null {
  if (retention === null || endedAt === null || retention.max_age_in_seconds === -1) return null;
  const due = Date.parse(endedAt) + retention.max_age_in_seconds * 1000;
  // Out of Date's range (a stored retention written before the bound): as good as never.
  return Number.isFinite(due) && Math.abs(due) <= 8.64e15 ? new Date(due).toISOString() : null;
}
