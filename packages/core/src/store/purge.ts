/**
 * What retention purges (docs/retention.md). Every store applies these two functions, so "purged" means
 * the same thing whatever the store:
 * - the run keeps its shell: id, status, origin, app and workflow ids, the pinned version
 *   (`workflow_version` / `workflow_version_draft`, `version`), `collection_id` / `record_id`, every
 *   timestamp, retention, `replay_of`, the usage totals (run and per step);
 * - the run loses `input` (→ {}), `result` (→ null), the usage call details, and the error's message
 *   and details (the code and step key stay);
 * - each step keeps status, type, key, start, end, attempts, skip reason and iteration count, and loses
 *   `output` (→ null), `logs`, `calls` and its error's message and details.
 */
import type { ErrorRecord } from '../errors.js';
import type { StepRecord } from '../run/types.js';
import type { RunRow } from './types.js';

export const PURGED_MESSAGE = 'Purged by the run data retention policy.';

function purgeError(error: ErrorRecord | null): ErrorRecord | null {
  if (error === null) return null;
  const out: ErrorRecord = { code: error.code, message: PURGED_MESSAGE };
  if (error.step_key !== undefined) out.step_key = error.step_key;
  return out;
}

export function purgeRunRow(row: RunRow, purgedAt: string): RunRow {
  const steps: RunRow['usage']['steps'] = {};
  for (const [key, usage] of Object.entries(row.usage.steps)) steps[key] = { total: usage.total, calls: [] };
  return {
    ...row,
    input: {},
    result: null,
    error: purgeError(row.error),
    usage: { total: row.usage.total, calls: [], steps },
    purged_at: purgedAt,
    updated_at: purgedAt,
  };
}

export function purgeStepRecord(record: StepRecord): StepRecord {
  const out: StepRecord = {
    status: record.status,
    type: record.type,
    key: record.key,
    output: null,
    logs: [],
    calls: [],
    start: record.start,
    end: record.end,
    error: purgeError(record.error),
    attempts: record.attempts,
  };
  if (record.skip_reason !== undefined) out.skip_reason = record.skip_reason;
  if (record.iterations !== undefined) out.iterations = { count: record.iterations.count, errors: [] };
  return out;
}
