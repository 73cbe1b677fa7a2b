/**
 * Scoped reads shared by the operations: a workflow of this app, a discoverable workflow, a version by
 * reference, a run of this app. Anything outside the caller's reach is NOT_FOUND, so that another app's
 * private workflows and runs do not even leak their existence.
 */

import { ERROR_CODES, invalidArgument, WeftError } from '../errors.js';
import type { VersionDocument } from '../model/types.js';
import { autoFilledOf } from '../run/auto-fill.js';
import type { StepRecord } from '../run/types.js';
import { hasFrozenWorkflowReads } from '../store/frozen-reads.js';
import { isLiveStatus } from '../store/journal.js';
import type { DiscoverableWorkflow, PublishedVersion, RunRecord, RunRow, Workflow } from '../store/types.js';
import type { VersionRef } from './client.js';
import type { RegistryContext } from './context.js';
import { forbidden, notFound, runNotFound, workflowNotFound } from './errors.js';

/**
 * Custom workflow ids are scoped per app (issue 11, item 7): `workflows.create({ id: 'invoice' })` in app
 * `app_1` creates `app_1:invoice`, so two apps can use the same custom id and creating one never reveals
 * that another app has it. Within its app the short form works everywhere a workflow id is taken.
 */
export function scopedWorkflowId(appId: string, id: string): string {
  return `${appId}:${id}`;
}

/**
 * A workflow from the store. `frozen` (for readers that change nothing, such as the start of a run): the
 * store's shared deep-frozen object when it has them (store/frozen-reads.ts), found by identity in the
 * plan cache and serialised once into run rows; otherwise the caller's own copy.
 */
function readWorkflow(ctx: RegistryContext, id: string, frozen: boolean): Promise<Workflow | null> {
  const { store } = ctx;
  return frozen && hasFrozenWorkflowReads(store) ? store.getFrozenWorkflow(id) : store.getWorkflow(id);
}

/** The workflow `id` of app `appId`: by its full id, or by the short form of a custom id. */
export async function findOwnWorkflow(
  ctx: RegistryContext,
  appId: string,
  id: string,
  frozen = false,
): Promise<Workflow | null> {
  const workflow = await readWorkflow(ctx, id, frozen);
  if (workflow !== null && workflow.app_id === appId) return workflow;
  if (id.startsWith(`${appId}:`)) return null;
  const scoped = await readWorkflow(ctx, scopedWorkflowId(appId, id), frozen);
  return scoped !== null && scoped.app_id === appId ? scoped : null;
}

export async function ownWorkflow(
  ctx: RegistryContext,
  appId: string,
  id: string,
  frozen = false,
): Promise<Workflow> {
  if (typeof id !== 'string' || id === '') throw invalidArgument('workflowId', 'a non-empty string', id);
  const workflow = await findOwnWorkflow(ctx, appId, id, frozen);
  if (workflow === null) throw workflowNotFound(id);
  return workflow;
}

/**
 * A caller outside the workflow's app may start a run only at the version's entry steps: a later step
 * would skip the owner's guards (issue 11, item 7). FORBIDDEN otherwise.
 */
export function checkForeignStart(
  ctx: RegistryContext,
  appId: string,
  workflow: Workflow,
  document: VersionDocument,
  fromStepKey: unknown,
): void {
  if (workflow.app_id === appId || typeof fromStepKey !== 'string') return;
  const plan = ctx.engine.compile(document);
  if (plan.entries.some((i) => plan.steps[i]!.key === fromStepKey)) return;
  const entries = plan.entries.map((i) => plan.steps[i]!.key);
  throw forbidden(
    `Workflow "${workflow.id}" belongs to another app: its runs start at its entry steps (${entries.join(', ')}), ` +
      `not at ${JSON.stringify(fromStepKey)}. Omit from_step_key.`,
    { workflow_id: workflow.id, from_step_key: fromStepKey },
  );
}

/** A discoverable, non-archived workflow (of any app). */
export async function discoverableWorkflow(ctx: RegistryContext, id: string): Promise<Workflow> {
  if (typeof id !== 'string' || id === '') throw invalidArgument('workflowId', 'a non-empty string', id);
  const workflow = await ctx.store.getWorkflow(id);
  if (workflow === null || !workflow.discoverable || workflow.archived_at !== null)
    throw workflowNotFound(id);
  return workflow;
}

export function publicView(workflow: Workflow): DiscoverableWorkflow {
  const { draft: _draft, tests_stats: _stats, ...rest } = workflow;
  return rest;
}

/** What a run will execute. */
export interface Target {
  document: VersionDocument;
  draft: boolean;
  version: number | null;
}

const versionHint = 'List the versions with versions.list, or run "latest".';

/** A published version of `workflow` by number, id, numeric string or "latest". */
export async function publishedVersion(
  ctx: RegistryContext,
  workflow: Workflow,
  ref: unknown,
): Promise<PublishedVersion> {
  let version: PublishedVersion | null;
  if (ref === 'latest' || ref === undefined) {
    version = await ctx.store.getLatestVersion(workflow.id);
    if (version === null) {
      throw new WeftError(
        ERROR_CODES.NOT_FOUND,
        `Workflow "${workflow.id}" has no published version yet. Publish its draft (versions.publish), or run it with version: "draft".`,
        { details: { workflow_id: workflow.id }, retryable: false },
      );
    }
    return version;
  }
  if (typeof ref === 'number') {
    if (!Number.isInteger(ref) || ref < 1) throw invalidArgument('version', 'a version number ≥ 1', ref);
    version = await ctx.store.getVersionByNumber(workflow.id, ref);
  } else if (typeof ref === 'string' && ref !== '') {
    version = await ctx.store.getVersion(ref);
    if (version === null && /^\d+$/.test(ref))
      version = await ctx.store.getVersionByNumber(workflow.id, Number(ref));
  } else {
    throw invalidArgument('version', '"latest", "draft", a version number or a version id', ref);
  }
  if (version === null || version.workflow_id !== workflow.id) {
    throw notFound(`Version ${JSON.stringify(ref)} of workflow`, workflow.id, versionHint);
  }
  return version;
}

/** What to run for a version reference; `"draft"` only when allowed (never through discover). */
export async function targetOf(
  ctx: RegistryContext,
  workflow: Workflow,
  ref: VersionRef | undefined,
  allowDraft: boolean,
): Promise<Target> {
  if (ref === 'draft') {
    if (!allowDraft) {
      throw forbidden(
        `Drafts of discoverable workflows are private to their app: run a published version of "${workflow.id}" ("latest" or a number).`,
        { workflow_id: workflow.id },
      );
    }
    return { document: workflow.draft, draft: true, version: null };
  }
  const version = await publishedVersion(ctx, workflow, ref);
  return { document: version, draft: false, version: version.version };
}

type RunnableSteps = ReadonlyArray<{ key: string; type: string }>;

/** Of frozen documents (a pinned version or draft, shared by its runs): they never change. */
const runnableOfFrozen = new WeakMap<object, RunnableSteps>();

/** Steps of the document that run (every step but notes), in document order. */
function runnableSteps(document: VersionDocument | null): RunnableSteps {
  if (document === null || !Object.isFrozen(document)) {
    return (document?.steps ?? []).filter((s) => s.type !== 'note');
  }
  let steps = runnableOfFrozen.get(document);
  if (steps === undefined) {
    steps = (document.steps ?? []).filter((s) => s.type !== 'note');
    runnableOfFrozen.set(document, steps);
  }
  return steps;
}

/**
 * The full run: the row, plus its step records. A step without a record is PENDING while the run is
 * live; in an ended run it never ran and never will: SKIPPED (`run_stopped`) — a run ended by a write
 * of its row, not by the process executing it (a cancel of an enqueued run, cancel.ts), has no records.
 */
export function assembleRun(row: RunRow, records: Record<string, StepRecord>): RunRecord {
  return assembleInto({ ...row }, records);
}

/**
 * The record of a step that has none: PENDING while the run is live; once it ended, SKIPPED
 * (`run_stopped`) with the run's end as its own. The keys in the order of a written record.
 */
function placeholderRecord(
  step: { type: string; key: string },
  ended: boolean,
  endedAt: string | null,
): StepRecord {
  const record: StepRecord = {
    status: ended ? 'SKIPPED' : 'PENDING',
    type: step.type,
    key: step.key,
    output: null,
    logs: [],
    calls: [],
    start: null,
    end: ended ? endedAt : null,
    error: null,
    attempts: 0,
  };
  if (ended) record.skip_reason = 'run_stopped';
  return record;
}

/**
 * `assembleRun` on a row object of the caller's own, which becomes the record (no copy of its fields).
 * A live run (PENDING or RUNNING) reads `error: null` whatever its row holds: only a run's end writes an
 * error, except a cancel request another process wrote there for the worker (cancel.ts), which is not the
 * run's outcome (docs/durability.md, "Cancel across processes").
 */
export function assembleInto(row: RunRow, records: Record<string, StepRecord>): RunRecord {
  const output: Record<string, StepRecord> = {};
  const ended = !isLiveStatus(row.status);
  if (!ended && row.error !== null) row.error = null;
  for (const step of runnableSteps(row.workflow_version ?? row.workflow_version_draft)) {
    output[step.key] = records[step.key] ?? placeholderRecord(step, ended, row.ended_at);
  }
  for (const [key, record] of Object.entries(records)) if (!(key in output)) output[key] = record;
  const run = row as RunRecord;
  run.output = output;
  const filled = autoFilledOf(row.input, row.usage);
  if (filled.length > 0) run.auto_filled = filled;
  return run;
}

/**
 * The run as the registry answers it: the store's — or, for a run that ended here while the store could
 * not take its end, or whose row has not reached the store yet, this process's record (never null for a
 * run this process knows).
 */
export async function loadRun(ctx: RegistryContext, id: string): Promise<RunRecord | null> {
  const kept = ctx.recorder.unrecorded(id);
  if (kept !== null) return kept;
  await ctx.recorder.flush(id);
  const row = await ctx.store.getRun(id);
  if (row === null) return ctx.recorder.unrecorded(id) ?? ctx.recorder.current(id);
  const records = await ctx.store.getStepResults([id]);
  return assembleRun(row, records.get(id) ?? {});
}

export async function ownRunRow(ctx: RegistryContext, appId: string, id: string): Promise<RunRow> {
  if (typeof id !== 'string' || id === '') throw invalidArgument('runId', 'a non-empty string', id);
  const kept = ctx.recorder.unrecorded(id);
  let row: RunRow | null = kept === null ? null : withoutOutput(kept);
  if (row === null) {
    await ctx.recorder.flush(id);
    row = await ctx.store.getRun(id);
  }
  if (row === null) {
    const current = ctx.recorder.unrecorded(id) ?? ctx.recorder.current(id);
    row = current === null ? null : withoutOutput(current);
  }
  if (row === null || row.app_id !== appId) throw runNotFound(id);
  return row;
}

export async function ownRun(ctx: RegistryContext, appId: string, id: string): Promise<RunRecord> {
  if (typeof id !== 'string' || id === '') throw invalidArgument('runId', 'a non-empty string', id);
  const run = await loadRun(ctx, id);
  if (run === null || run.app_id !== appId) throw runNotFound(id);
  return run;
}

function withoutOutput(run: RunRecord): RunRow {
  const { output: _output, ...row } = run;
  return row;
}
