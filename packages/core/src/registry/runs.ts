/** Runs of this app: run, get, list, cancel, replay, retention. */
import { invalidArgument } from '../errors.js';
import { handOverRunInput } from '../input/files.js';
import { computeRetentionDueAt, normalizeRetention } from '../run/retention.js';
import { type Retention, RUN_ORIGINS, type StepRecord } from '../run/types.js';
import { RUN_STATUSES } from '../statuses.js';
import type { RunRecord, Workflow } from '../store/types.js';
import {
  assembleRun,
  checkForeignStart,
  findOwnWorkflow,
  ownRun,
  ownRunRow,
  ownWorkflow,
  targetOf,
} from './access.js';
import { cancelRun } from './cancel.js';
import type { ListRunsQuery, RunsApi, RunWorkflowInput } from './client.js';
import { type RegistryContext, toIso } from './context.js';
import { downstreamKeys } from './downstream.js';
import { checkOneOrMany, checkPageQuery, conflict, forbidden } from './errors.js';
import { checkIdArgument, type ReplayCall, type RunCall, takeReplayCall, takeRunCall } from './run-call.js';
import { startRun } from './start.js';
import { waitRun } from './wait.js';

const SETTLED: ReadonlySet<string> = new Set(['COMPLETED', 'FAILED', 'CANCELLED', 'SKIPPED']);

/**
 * A new run of the original's pinned version with its input; `from_step_key` keeps the upstream records.
 * `call` is what `runs.replay` took when it was called (run-call.ts).
 */
export async function replayRun(
  ctx: RegistryContext,
  appId: string,
  original: RunRecord,
  call: ReplayCall,
): Promise<RunRecord> {
  if (original.purged_at !== null) {
    throw conflict(
      `Run ${original.id} cannot be replayed: its data (input and step outputs) was purged by retention at ${original.purged_at}. Start a new run instead.`,
      { run_id: original.id },
    );
  }
  const document = original.workflow_version ?? original.workflow_version_draft;
  const workflow = original.workflow_id === null ? null : await ctx.store.getWorkflow(original.workflow_id);
  if (document === null || workflow === null) {
    throw conflict(
      `Run ${original.id} is not a run of a registry workflow; replay it with engine.start instead.`,
      {
        run_id: original.id,
      },
    );
  }
  if (workflow.app_id !== appId && !workflow.discoverable) {
    throw forbidden(
      `Workflow "${workflow.id}" is no longer discoverable, so run ${original.id} cannot be replayed. Ask its owner to make it discoverable again.`,
      { run_id: original.id, workflow_id: workflow.id },
    );
  }
  let preset: Record<string, StepRecord> | undefined;
  const from = call.from_step_key;
  checkForeignStart(ctx, appId, workflow, document, from);
  if (from !== undefined) {
    const downstream = downstreamKeys(document, from);
    preset = {};
    for (const [key, record] of Object.entries(original.output)) {
      if (!downstream.has(key) && SETTLED.has(record.status)) preset[key] = record;
    }
  }
  return startRun(ctx, {
    app_id: appId,
    workflow,
    target: {
      document,
      draft: original.workflow_version === null,
      version: original.version,
    },
    input: original.input,
    checkInput: false,
    from_step_key: from,
    retention: call.retention ?? original.retention,
    origin: call.origin ?? original.origin,
    collection_id: original.collection_id,
    record_id: original.record_id,
    background: call.background,
    signal: call.signal,
    preset,
    replay_of: original.id,
    onStart: call.onStart,
  });
}

export async function updateRetention(
  ctx: RegistryContext,
  appId: string,
  runId: string,
  value: Retention | number,
): Promise<RunRecord> {
  checkIdArgument(runId, 'runId');
  // Read when called, as every argument of a registry call: the caller's object may change after.
  const retention = normalizeRetention(value);
  if (retention === null) {
    throw invalidArgument(
      'retention',
      '{ max_age_in_seconds, preserve_on_failure } or a number of seconds',
      value,
    );
  }
  const row = await ownRunRow(ctx, appId, runId);
  const now = ctx.now();
  const live = ctx.recorder.setRetention(row.id, retention, now);
  if (live !== false) await live;
  else {
    await ctx.store.updateRun(row.id, {
      retention,
      retention_due_at: computeRetentionDueAt(retention, row.ended_at),
      updated_at: now,
    });
  }
  return ownRun(ctx, appId, row.id);
}

/**
 * Run a Workflow (and Run Discoverable Workflow): the run belongs to `appId`; only an own workflow may
 * run its draft. `call` is what the call took when it was made (run-call.ts: the input captured, the
 * options read); the input is checked against the version's definition before any step runs.
 */
export async function runWorkflow(
  ctx: RegistryContext,
  appId: string,
  workflow: Workflow,
  call: RunCall,
  options: { allowDraft: boolean },
) {
  const target = await targetOf(ctx, workflow, call.version, options.allowDraft);
  checkForeignStart(ctx, appId, workflow, target.document, call.from_step_key);
  return startRun(ctx, {
    app_id: appId,
    workflow,
    target,
    // File fields given as bytes become JSON here, before a store or a worker sees the input; binary data
    // elsewhere is INVALID_INPUT (input/files.ts). The copy captured at the call is the run's only copy:
    // engine.start keeps it as it is (handOverRunInput), and refuses what it would refuse itself.
    input: call.input === undefined ? undefined : handOverRunInput(target.document, call.input),
    checkInput: true,
    from_step_key: call.from_step_key,
    retention: call.retention,
    origin: call.origin,
    collection_id: call.collection_id,
    record_id: call.record_id,
    background: call.background,
    signal: call.signal,
    onStart: call.onStart,
  });
}

/** A filter of one value or an array of them; the array copied (the caller's may change after the call). */
function copyOneOrMany<T>(value: T | readonly T[]): T | T[] {
  return Array.isArray(value) ? [...(value as readonly T[])] : (value as T);
}

export function runsApi(ctx: RegistryContext, appId: string): RunsApi {
  return {
    async run(workflowId: string, input: RunWorkflowInput = {}) {
      // Everything the run takes from the caller is taken here, before the first await (run-call.ts).
      checkIdArgument(workflowId, 'workflowId');
      const call = takeRunCall(ctx, input);
      // Frozen: the run only reads it, and a draft pinned by identity is not copied, re-matched nor
      // re-serialised per run (store/frozen-reads.ts).
      const workflow = await ownWorkflow(ctx, appId, workflowId, true);
      return runWorkflow(ctx, appId, workflow, call, { allowDraft: true });
    },

    get: (runId) => ownRun(ctx, appId, runId),

    async list(query: ListRunsQuery = {}) {
      checkPageQuery(query);
      if (query.workflow_id !== undefined && typeof query.workflow_id !== 'string') {
        throw invalidArgument('workflow_id', 'a workflow id', query.workflow_id);
      }
      checkOneOrMany(query.status, 'status', RUN_STATUSES);
      checkOneOrMany(query.origin, 'origin', RUN_ORIGINS);
      // The filter as the call found it (arrays copied), before the first await: as every argument.
      const filter = {
        ...(query.status === undefined ? {} : { status: copyOneOrMany(query.status) }),
        ...(query.origin === undefined ? {} : { origin: copyOneOrMany(query.origin) }),
        ...(query.created_after === undefined
          ? {}
          : { created_after: toIso(query.created_after, 'created_after') }),
        ...(query.created_before === undefined
          ? {}
          : { created_before: toIso(query.created_before, 'created_before') }),
        ...(query.cursor === undefined ? {} : { cursor: query.cursor }),
        ...(query.limit === undefined ? {} : { limit: query.limit }),
      };
      const given = query.workflow_id;
      // The short form of one of the app's custom ids names its workflow here too.
      const workflowId =
        given === undefined ? undefined : ((await findOwnWorkflow(ctx, appId, given))?.id ?? given);
      const page = await ctx.store.listRuns({
        app_id: appId,
        ...(workflowId === undefined ? {} : { workflow_id: workflowId }),
        ...filter,
      });
      const records = await ctx.store.getStepResults(page.data.map((r) => r.id));
      return {
        data: page.data.map((row) => assembleRun(row, records.get(row.id) ?? {})),
        next_cursor: page.next_cursor,
      };
    },

    async cancel(runId, reason) {
      return cancelRun(ctx, await ownRunRow(ctx, appId, runId), reason);
    },

    async replay(runId, input = {}) {
      checkIdArgument(runId, 'runId');
      const call = takeReplayCall(ctx, input);
      return replayRun(ctx, appId, await ownRun(ctx, appId, runId), call);
    },

    updateRetention: (runId, retention) => updateRetention(ctx, appId, runId, retention),

    async wait(runId) {
      const row = await ownRunRow(ctx, appId, runId);
      return waitRun(ctx, row.id);
    },
  };
}
