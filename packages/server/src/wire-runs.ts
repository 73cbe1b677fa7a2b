/**
 * Weft's run object → the platform's wire shape. The same fields, except: `error` is the message (a
 * string, as the platform has it) with Weft's code beside it in `error_code`; a step's `start`/`end`
 * are epoch milliseconds (the platform's numbers) instead of ISO strings.
 */
import type { ErrorRecord, Run, RunRecord, StepRecord } from '@weft/core';
import { toWireDocument } from './wire-documents.js';

export interface WireStep extends Omit<StepRecord, 'start' | 'end' | 'error'> {
  start: number | null;
  end: number | null;
  error: string | null;
  error_code: string | null;
}

export interface WireRun extends Omit<RunRecord, 'output' | 'error'> {
  output: Record<string, WireStep>;
  error: string | null;
  error_code: string | null;
  replay_of: string | null;
}

/** The number written by the digits of `s` from `from` to `to`; NaN if one is not a digit. */
function digits(s: string, from: number, to: number): number {
  let value = 0;
  for (let i = from; i < to; i++) {
    const d = s.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return Number.NaN;
    value = value * 10 + d;
  }
  return value;
}

/** The last conversion: a step's end is often the next step's start, to the millisecond. */
let lastIso = '';
let lastMs = 0;

/**
 * ISO → epoch ms. Weft's timestamps are `toISOString()`'s (`YYYY-MM-DDTHH:mm:ss.sssZ`), read here
 * digit by digit (twice as fast as Date.parse, which handles every format); anything else goes to
 * Date.parse. This runs for every step of every answered run.
 */
export function epochMs(iso: string | null): number | null {
  if (iso === null) return null;
  if (iso === lastIso) return lastMs;
  let ms: number;
  const year = iso.length === 24 ? digits(iso, 0, 4) : 0;
  // Date.UTC reads years 0–99 as 1900–1999: those (never Weft's) go through Date.parse, as does
  // anything not in the format (a NaN year fails the test).
  if (year >= 100 && iso.charCodeAt(23) === 90 /* Z */ && iso.charCodeAt(10) === 84 /* T */) {
    ms = Date.UTC(
      year,
      digits(iso, 5, 7) - 1,
      digits(iso, 8, 10),
      digits(iso, 11, 13),
      digits(iso, 14, 16),
      digits(iso, 17, 19),
      digits(iso, 20, 23),
    );
  } else {
    ms = Date.parse(iso);
  }
  if (!Number.isFinite(ms)) return null;
  lastIso = iso;
  lastMs = ms;
  return ms;
}

// The wire objects are built field by field rather than spread and overridden: it is several times
// faster (one object shape, no dictionary mode) and these run on every answer; fields a newer core adds
// are still carried over, after the known ones.
const STEP_FIELDS = new Set([
  'status',
  'type',
  'key',
  'output',
  'logs',
  'calls',
  'start',
  'end',
  'error',
  'attempts',
  'skip_reason',
  'iterations',
]);
const RUN_FIELDS = new Set([
  'id',
  'result',
  'input',
  'output',
  'status',
  'origin',
  'error',
  'started_at',
  'ended_at',
  'app_id',
  'workflow_app_id',
  'workflow_id',
  'workflow_version_draft',
  'workflow_version',
  'collection_id',
  'record_id',
  'version',
  'usage',
  'retention',
  'retention_due_at',
  'created_at',
  'updated_at',
  'replay_of',
  'purged_at',
]);

/** Copies the fields of `from` not in `known`; `present` is how many known ones `from` has. */
function carryOver(
  from: object,
  known: ReadonlySet<string>,
  present: number,
  to: Record<string, unknown>,
): void {
  const keys = Object.keys(from);
  if (keys.length === present) return; // the usual case: nothing new
  for (const key of keys) if (!known.has(key)) to[key] = (from as Record<string, unknown>)[key];
}

export function toWireStep(record: StepRecord): WireStep {
  const error: ErrorRecord | null = record.error;
  const out: WireStep = {
    status: record.status,
    type: record.type,
    key: record.key,
    output: record.output,
    logs: record.logs,
    calls: record.calls,
    start: epochMs(record.start),
    end: epochMs(record.end),
    error: error === null ? null : error.message,
    error_code: error === null ? null : String(error.code),
    attempts: record.attempts,
  };
  let present = 10;
  if (record.skip_reason !== undefined) {
    out.skip_reason = record.skip_reason;
    present++;
  }
  if (record.iterations !== undefined) {
    out.iterations = record.iterations;
    present++;
  }
  carryOver(record, STEP_FIELDS, present, out as unknown as Record<string, unknown>);
  return out;
}

/** A stored run (`RunRecord`) or a live run's snapshot (`Run`). */
export function toWireRun(run: Run | RunRecord): WireRun {
  const output: Record<string, WireStep> = {};
  for (const key in run.output) output[key] = toWireStep(run.output[key]!);
  const error = run.error;
  const out: WireRun = {
    id: run.id,
    result: run.result,
    input: run.input,
    output,
    status: run.status,
    origin: run.origin,
    error: error === null ? null : error.message,
    started_at: run.started_at,
    ended_at: run.ended_at,
    app_id: run.app_id,
    workflow_app_id: run.workflow_app_id,
    workflow_id: run.workflow_id,
    workflow_version_draft:
      run.workflow_version_draft === null ? null : toWireDocument(run.workflow_version_draft),
    workflow_version: run.workflow_version === null ? null : toWireDocument(run.workflow_version),
    collection_id: run.collection_id,
    record_id: run.record_id,
    version: run.version,
    usage: run.usage,
    retention: run.retention,
    retention_due_at: run.retention_due_at,
    created_at: run.created_at,
    updated_at: run.updated_at,
    error_code: error === null ? null : String(error.code),
    replay_of: run.replay_of ?? null,
    purged_at: (run as Partial<RunRecord>).purged_at ?? null,
  };
  const present =
    22 +
    (run.replay_of === undefined ? 0 : 1) +
    ((run as Partial<RunRecord>).purged_at === undefined ? 0 : 1);
  carryOver(run, RUN_FIELDS, present, out as unknown as Record<string, unknown>);
  return out;
}
