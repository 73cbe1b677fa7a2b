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

function epochMs(iso: string | null): number | null {
  if (iso === null) return null;
  const ms = Date.parse(iso);
  return Number.isFinite(ms) ? ms : null;
}

export function toWireStep(record: StepRecord): WireStep {
  const error: ErrorRecord | null = record.error;
  return {
    ...record,
    start: epochMs(record.start),
    end: epochMs(record.end),
    error: error === null ? null : error.message,
    error_code: error === null ? null : String(error.code),
  };
}

/** A stored run (`RunRecord`) or a live run's snapshot (`Run`). */
export function toWireRun(run: Run | RunRecord): WireRun {
  const output: Record<string, WireStep> = {};
  for (const [key, record] of Object.entries(run.output)) output[key] = toWireStep(record);
  return {
    ...run,
    output,
    workflow_version_draft:
      run.workflow_version_draft === null ? null : toWireDocument(run.workflow_version_draft),
    workflow_version: run.workflow_version === null ? null : toWireDocument(run.workflow_version),
    error: run.error === null ? null : run.error.message,
    error_code: run.error === null ? null : String(run.error.code),
    replay_of: run.replay_of ?? null,
    purged_at: (run as Partial<RunRecord>).purged_at ?? null,
  };
}
