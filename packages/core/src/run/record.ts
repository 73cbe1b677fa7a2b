/**
 * Projections of the run state (state.ts): the step records and the run object the API returns. Built
 * when asked for (a snapshot, the end of the run), never on the scheduler's path; values are redacted
 * here, on the way out (the state keeps real outputs: expressions may need what a secret-bearing step
 * returned).
 */
import { ERROR_CODES, type ErrorRecord } from '../errors.js';
import { STEP, stepLifecycle } from '../lifecycle/lifecycle.js';
import type { VersionDocument } from '../model/types.js';
import { DEFAULT_CANCEL_REASON } from './cancel-reason.js';
import { computeRetentionDueAt } from './retention.js';
import { type RunState, SKIP } from './state.js';
import {
  type Run,
  SKIP_REASONS,
  type SkipReason,
  type StepRecord,
  type ToolInvocationRecord,
} from './types.js';
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
  names[SKIP.TOOL_NOT_CALLED] = SKIP_REASONS.TOOL_NOT_CALLED;
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
    calls: s.toolOf === null ? state.ledger.forStep(s.key) : toolInvocations(state, i, secrets),
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

const INVOCATION_STATUS = ['RUNNING', 'RUNNING', 'RUNNING', 'COMPLETED', 'FAILED', 'CANCELLED'] as const;

/** A tool-only step's invocations, by `tool_index` (docs/semantics.md, "Tools"). */
function toolInvocations(state: RunState, t: number, secrets: Secrets): ToolInvocationRecord[] {
  const tool = state.extras[t]?.tool;
  if (tool == null) return [];
  return tool.invocations.map((inv, k) => {
    const call = state.extras[inv.parent]?.agents?.get(inv.parentIndex)?.calls[inv.call];
    const status = INVOCATION_STATUS[tool.status[k]!] ?? 'RUNNING';
    const record: ToolInvocationRecord = {
      id: call?.id ?? String(k),
      tool_index: k,
      step_key: state.plan.steps[inv.parent]!.key,
      status,
      input: hide(inv.input, secrets),
      output: status === 'COMPLETED' ? hide(tool.outputs[k], secrets) : null,
      error: call?.error == null || status === 'COMPLETED' ? null : hide(call.error, secrets),
      total: 0,
    };
    if (inv.parentIndex >= 0) record.index = inv.parentIndex;
    return record;
  });
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
  const f = runFields(state, document, secrets);
  // One literal, field by field (the order of the run object): one shape, no rest object in between.
  const run: Run = {
    id: f.id,
    result: f.result,
    input: f.input,
    output,
    status: f.status,
    origin: f.origin,
    error: f.error,
    started_at: f.started_at,
    ended_at: f.ended_at,
    app_id: f.app_id,
    workflow_app_id: f.workflow_app_id,
    workflow_id: f.workflow_id,
    workflow_version_draft: f.workflow_version_draft,
    workflow_version: f.workflow_version,
    collection_id: f.collection_id,
    record_id: f.record_id,
    version: f.version,
    usage: f.usage,
    retention: f.retention,
    retention_due_at: f.retention_due_at,
    created_at: f.created_at,
    updated_at: f.updated_at,
  };
  if (f.replay_of !== null) run.replay_of = f.replay_of;
  if (state.autoFilled.length > 0) run.auto_filled = [...state.autoFilled];
  return run;
}

/**
 * The run-level fields of the run object (everything but the step records), with `replay_of` always
 * present: what a store's run row holds (the registry projects it from the state as a run goes).
 */
export function runFields(
  state: RunState,
  document: Readonly<VersionDocument>,
  secrets: Secrets,
): Omit<Run, 'output' | 'replay_of'> & { replay_of: string | null } {
  const meta = state.meta;
  return {
    id: state.runId,
    result: hide(runResult(state), secrets),
    input: hide(state.input, secrets),
    status: state.status,
    origin: meta.origin,
    error: runError(state, secrets),
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
    replay_of: meta.replay_of,
  };
}

/**
 * The run's error: the failure that ended it; for a CANCELLED run, the cancel's reason (code CANCELLED,
 * the caller's text as `handle.cancel`, `runs.cancel` or the signal gave it — docs/semantics.md, rule 11).
 */
function runError(state: RunState, secrets: Secrets): ErrorRecord | null {
  if (state.error !== null) return hide(state.error as ErrorRecord, secrets);
  // Ending CANCELLED counts too: a durable store's end row is projected before the state has ended.
  if (state.status !== 'CANCELLED' && state.ending !== 'CANCELLED') return null;
  return hide({ code: ERROR_CODES.CANCELLED, message: state.stopReason ?? DEFAULT_CANCEL_REASON }, secrets);
}
