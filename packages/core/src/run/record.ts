/**
 * Projections of the run state (state.ts): the step records and the run object the API returns. Built
 * when asked for (a snapshot, the end of the run), never on the scheduler's path; values are redacted
 * here, on the way out (the state keeps real outputs: expressions may need what a secret-bearing step
 * returned).
 */
import type { ErrorRecord } from '../errors.js';
import { STEP, stepLifecycle } from '../lifecycle/lifecycle.js';
import type { VersionDocument } from '../model/types.js';
import { computeRetentionDueAt } from './retention.js';
import { type RunState, SKIP } from './state.js';
import { type Run, SKIP_REASONS, type SkipReason, type StepRecord } from './types.js';
import { redact } from './variables.js';

/** The run's secret values (none: an empty array; nothing to redact). */
export type Secrets = readonly string[];

function hide<T>(value: T, secrets: Secrets): T {
  return secrets.length === 0 ? value : redact(value, secrets);
}

const SKIP_REASON_BY_INDEX: ReadonlyArray<SkipReason | undefined> = (() => {
  const names: Array<SkipReason | undefined> = [];
  names[SKIP.NONE] = undefined;
  names[SKIP.CONDITIONAL] = SKIP_REASONS.CONDITIONAL;
  names[SKIP.NOT_REACHED] = SKIP_REASONS.NOT_REACHED;
  names[SKIP.RUN_STOPPED] = SKIP_REASONS.RUN_STOPPED;
  return names;
})();

export function skipReasonOf(state: RunState, i: number): SkipReason | undefined {
  return SKIP_REASON_BY_INDEX[state.skip[i]!];
}

export function stepRecord(state: RunState, i: number, secrets: Secrets): StepRecord {
  const extra = state.extras[i];
  if (extra?.preset != null) return extra.preset;
  const s = state.plan.steps[i]!;
  const status = state.stepStatus[i]!;
  const error = extra?.error ?? null;
  const record: StepRecord = {
    status: stepLifecycle.states[status]!,
    type: s.type,
    key: s.key,
    output: status === STEP.COMPLETED ? hide(state.outputs[i], secrets) : null,
    logs: extra?.logs ?? [],
    calls: state.ledger.forStep(s.key),
    start: state.stepStartedAt[i]!,
    end: state.stepEndedAt[i]!,
    error: error === null ? null : hide(error, secrets),
    attempts: state.attempts[i]!,
  };
  if (status === STEP.SKIPPED) record.skip_reason = skipReasonOf(state, i)!;
  const loop = extra?.loop ?? null;
  if (loop !== null) {
    record.iterations = { count: loop.elements.length, errors: hide(loop.errors, secrets) };
    const { loopCap, loopRequested } = state.settings;
    if (loopCap[i]! < loopRequested[i]!) record.iterations.effective_concurrency = loopCap[i]!;
  }
  return record;
}

/** Rule 8: the output of the `code` step that completed last (its `result` if it has one), else of the last step. */
export function runResult(state: RunState): unknown {
  const code = state.lastCompletedCode;
  const i = code >= 0 ? code : state.lastCompleted;
  if (i < 0) return null;
  const output = state.outputs[i];
  if (code >= 0 && output !== null && typeof output === 'object' && !Array.isArray(output)) {
    if (Object.hasOwn(output, 'result')) return (output as { result: unknown }).result;
  }
  return output ?? null;
}

export function runRecord(state: RunState, document: Readonly<VersionDocument>, secrets: Secrets): Run {
  const output: Record<string, StepRecord> = {};
  const steps = state.plan.steps;
  for (let i = 0; i < steps.length; i++) output[steps[i]!.key] = stepRecord(state, i, secrets);
  const meta = state.meta;
  const run: Run = {
    id: state.runId,
    result: hide(runResult(state), secrets),
    input: hide(state.input, secrets),
    output,
    status: state.status,
    origin: meta.origin,
    error: state.error === null ? null : hide(state.error as ErrorRecord, secrets),
    started_at: state.startedAt,
    ended_at: state.endedAt,
    app_id: meta.app_id,
    workflow_app_id: meta.workflow_app_id,
    workflow_id: meta.workflow_id,
    workflow_version_draft: meta.draft ? (document as Run['workflow_version_draft']) : null,
    workflow_version: meta.draft ? null : (document as Run['workflow_version']),
    collection_id: meta.collection_id,
    record_id: meta.record_id,
    version: meta.version,
    usage: state.ledger.toJSON(),
    retention: meta.retention,
    retention_due_at: computeRetentionDueAt(meta.retention, state.endedAt),
    created_at: state.createdAt,
    updated_at: state.endedAt ?? state.startedAt ?? state.createdAt,
  };
  if (meta.replay_of !== null) run.replay_of = meta.replay_of;
  if (state.autoFilled.length > 0) run.auto_filled = [...state.autoFilled];
  return run;
}
