/** Starting a run through the registry: input check, retention, variables, pinning, journaling. */

import { optionalSignal } from '../arguments.js';
import { ERROR_CODES, WeftError } from '../errors.js';
import { assertValidInput } from '../input/check.js';
import type { RunHandle } from '../run/handle.js';
import { normalizeRetention } from '../run/retention.js';
import type { Retention, RunOrigin, StepRecord } from '../run/types.js';
import type { RunRecord, RunRow, Workflow } from '../store/types.js';
import { assembleInto, loadRun, type Target } from './access.js';
import type { RegistryContext } from './context.js';
import { archived } from './errors.js';
import { followSignal } from './signal-cancel.js';
import { waitRun } from './wait.js';

export interface StartSpec {
  /** The app the run belongs to (the caller). */
  app_id: string;
  workflow: Workflow;
  target: Target;
  input?: Record<string, unknown> | undefined;
  /** Check the input against the document's input definition (replays skip it: the input is the original's). */
  checkInput: boolean;
  from_step_key?: string | undefined;
  retention?: Retention | number | null | undefined;
  origin?: RunOrigin | undefined;
  collection_id?: string | null | undefined;
  record_id?: string | null | undefined;
  background?: boolean | undefined;
  signal?: AbortSignal | undefined;
  preset?: Record<string, StepRecord> | undefined;
  replay_of?: string | undefined;
  /** Called with the handle before the run's first step (see RunWorkflowInput.onStart). */
  onStart?: ((handle: RunHandle) => void) | undefined;
}

export async function startRun(ctx: RegistryContext, spec: StartSpec): Promise<RunRecord> {
  const { workflow, target } = spec;
  if (workflow.archived_at !== null) throw archived(workflow.id);
  if (ctx.enqueue) refuseOnClient(spec);
  optionalSignal(spec.signal, 'signal');
  const retention = normalizeRetention(spec.retention) ?? workflow.retention ?? ctx.defaultRetention;
  const id = ctx.ids();
  // A client's run whose signal has already fired is not enqueued: it is started and cancelled here, as
  // in a process that executes runs (CANCELLED before it began, every step SKIPPED) — no step runs, and
  // no worker ever sees it PENDING.
  if (ctx.enqueue && spec.signal?.aborted !== true) return enqueueRun(ctx, spec, id, retention);
  // Runs see the variables of the app that owns the workflow (it was written against them).
  const variables = (await ctx.store.listVariables(workflow.app_id)).map((v) => ({
    key: v.key,
    value: v.value,
    secret: v.secret,
  }));
  const handle = ctx.engine.start(target.document, {
    id,
    input: spec.input ?? {},
    variables,
    app_id: spec.app_id,
    workflow_app_id: workflow.app_id,
    workflow_id: workflow.id,
    version: target.version,
    draft: target.draft,
    retention,
    // engine.start checks the input (INVALID_INPUT, nothing created) unless this is a replay.
    check_input: spec.checkInput,
    collection_id: spec.collection_id ?? null,
    record_id: spec.record_id ?? null,
    ...(spec.origin === undefined ? {} : { origin: spec.origin }),
    ...(spec.from_step_key === undefined ? {} : { from_step_key: spec.from_step_key }),
    ...(spec.signal === undefined ? {} : { signal: spec.signal }),
    ...(spec.preset === undefined ? {} : { preset: spec.preset }),
    ...(spec.replay_of === undefined ? {} : { replay_of: spec.replay_of }),
  });
  ctx.recorder.track(handle);
  if (spec.onStart !== undefined) {
    try {
      spec.onStart(handle);
    } catch (error) {
      // The run exists and goes on: a caller's subscriber must not turn a started run into an error.
      const message = error instanceof Error ? error.message : String(error);
      process.emitWarning(`The onStart callback of run ${id} threw: ${message}`, {
        code: 'WEFT_LISTENER_ERROR',
      });
    }
  }
  if (spec.background !== true) return waitRun(ctx, id);
  // The run begins on the microtask engine.start queued; its first append inserts its row (or the run
  // ends, its store failing: the record is then this process's, FAILED with STORE_ERROR).
  await Promise.race([ctx.recorder.firstAppend(id), handle.done]);
  return (await loadRun(ctx, id))!;
}

/**
 * A client-only Weft (`worker: false`): the run is inserted PENDING and unowned — the store tells the
 * workers (`run.pending`) — and, unless `background`, waited for until a worker has ended it.
 */
async function enqueueRun(
  ctx: RegistryContext,
  spec: StartSpec,
  id: string,
  retention: Retention | null,
): Promise<RunRecord> {
  const { workflow, target } = spec;
  // Checked here as engine.start checks it (INVALID_INPUT, nothing enqueued); the worker checks it again
  // when the run begins, in case the row was written by something else.
  if (spec.checkInput) assertValidInput(target.document, spec.input);
  const now = ctx.now();
  const row: RunRow = {
    id,
    result: null,
    input: spec.input ?? {},
    status: 'PENDING',
    origin: spec.origin ?? 'WORKFLOW',
    error: null,
    started_at: null,
    ended_at: null,
    app_id: spec.app_id,
    workflow_app_id: workflow.app_id,
    workflow_id: workflow.id,
    workflow_version_draft: target.draft ? (target.document as RunRow['workflow_version_draft']) : null,
    workflow_version: target.draft ? null : (target.document as RunRow['workflow_version']),
    collection_id: spec.collection_id ?? null,
    record_id: spec.record_id ?? null,
    version: target.version,
    usage: { total: 0, calls: [], steps: {} },
    retention,
    retention_due_at: null,
    created_at: now,
    updated_at: now,
    replay_of: spec.replay_of ?? null,
    purged_at: null,
  };
  await ctx.store.insertRun(row);
  const { signal } = spec;
  // Aborting the signal cancels the run wherever it is (signal-cancel.ts): followed while the call waits,
  // or, in the background, until the run has ended.
  if (spec.background !== true) return waitRun(ctx, id, signal);
  if (signal !== undefined) followSignal(ctx, id, signal);
  // The run as enqueued (PENDING, its steps PENDING), not read back: a worker woken by the insert may
  // already have claimed it, and the answer would then depend on who was faster. A copy: the caller's
  // input and the document must not be shared with what it gets back.
  return assembleInto(structuredClone(row), {});
}

/**
 * What a client-only Weft cannot honour: a replay from a step (its preset records are journaled by the
 * process that starts the run) and `onStart` (the handle lives in the worker). The run-starting calls
 * check it when called (run-call.ts); startRun again, for its other callers.
 */
export function refuseOnClient(spec: Pick<StartSpec, 'from_step_key' | 'preset' | 'onStart'>): void {
  for (const [name, value] of [
    ['from_step_key', spec.from_step_key],
    ['preset', spec.preset],
    ['onStart', spec.onStart],
  ] as const) {
    if (value !== undefined) {
      throw new WeftError(
        ERROR_CODES.INVALID_ARGUMENT,
        `\`${name === 'preset' ? 'from_step_key' : name}\` is not supported by a client-only Weft (worker: false): its runs are executed by the workers sharing its store. Start the run from a Weft that executes runs (a worker, or no \`worker\` option).`,
        { details: { parameter: name === 'preset' ? 'from_step_key' : name } },
      );
    }
  }
}
