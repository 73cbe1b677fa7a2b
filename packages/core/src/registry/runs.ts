/** Runs of this app: run, get, list, cancel, replay, retention. */
import { ERROR_CODES, invalidArgument, WeftError } from '../errors.js';
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
import type { ListRunsQuery, ReplayInput, RunsApi, RunWorkflowInput } from './client.js';
import { type RegistryContext, toIso } from './context.js';
import { downstreamKeys } from './downstream.js';
import {
  checkOneOrMany,
  checkOptions,
  checkPageQuery,
  conflict,
  forbidden,
  refuseUnsupported,
  STREAM_OPTION,
} from './errors.js';
import { startRun } from './start.js';
import { waitRun } from './wait.js';

const SETTLED: ReadonlySet<string> = new Set(['COMPLETED', 'FAILED', 'CANCELLED', 'SKIPPED']);

/** `from_step_key`, or the platform's `stepKey`; both given and different is INVALID_ARGUMENT. */
function replayStepKey(options: ReplayInput): string | undefined {
  const { from_step_key: weft, stepKey: platform } = options;
  for (const [name, value] of [
    ['from_step_key', weft],
    ['stepKey', platform],
  ] as const) {
    if (value !== undefined && (typeof value !== 'string' || value === '')) {
      throw invalidArgument(name, 'a step key (a non-empty string)', value);
    }
  }
  if (weft !== undefined && platform !== undefined && weft !== platform) {
    throw new WeftError(
      ERROR_CODES.INVALID_ARGUMENT,
      `Expected \`from_step_key\` and \`stepKey\` to name the same step, got ${JSON.stringify(weft)} and ${JSON.stringify(platform)}. They are two names for the step to replay from: give one of them.`,
      { details: { parameter: 'stepKey' } },
    );
  }
  return weft ?? platform;
}

/** A new run of the original's pinned version with its input; `from_step_key` keeps the upstream records. */
export async function replayRun(
  ctx: RegistryContext,
  appId: string,
  original: RunRecord,
  options: ReplayInput,
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
  const from = replayStepKey(options);
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
    retention: options.retention ?? original.retention,
    origin: options.origin ?? original.origin,
    collection_id: original.collection_id,
    record_id: original.record_id,
    background: options.background,
    signal: options.signal,
    preset,
    replay_of: original.id,
    onStart: options.onStart,
  });
}

export async function updateRetention(
  ctx: RegistryContext,
  appId: string,
  runId: string,
  value: Retention | number,
): Promise<RunRecord> {
  const row = await ownRunRow(ctx, appId, runId);
  const retention = normalizeRetention(value);
  if (retention === null) {
    throw invalidArgument(
      'retention',
      '{ max_age_in_seconds, preserve_on_failure } or a number of seconds',
      value,
    );
  }
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
 * run its draft. Input is checked against the version's definition before any step runs.
 */
export async function runWorkflow(
  ctx: RegistryContext,
  appId: string,
  workflow: Workflow,
  input: RunWorkflowInput,
  options: { allowDraft: boolean },
) {
  refuseUnsupported(input, STREAM_OPTION);
  const target = await targetOf(ctx, workflow, input.version, options.allowDraft);
  checkForeignStart(ctx, appId, workflow, target.document, input.from_step_key);
  return startRun(ctx, {
    app_id: appId,
    workflow,
    target,
    // File fields given as bytes become JSON here, before a store or a worker sees the input (input/files.ts).
    // The run's only copy: engine.start keeps it as it is (handOverRunInput).
    // A non-object input is refused here as engine.start refuses it (one function: the same errors).
    input: input.input === undefined ? undefined : handOverRunInput(target.document, input.input),
    checkInput: true,
    from_step_key: input.from_step_key,
    retention: input.retention,
    origin: input.origin,
    collection_id: input.collection_id,
    record_id: input.record_id,
    background: input.background,
    signal: input.signal,
    onStart: input.onStart,
  });
}

export function runsApi(ctx: RegistryContext, appId: string): RunsApi {
  return {
    async run(workflowId: string, input: RunWorkflowInput = {}) {
      checkOptions(input, 'input');
      // Frozen: the run only reads it, and a draft pinned by identity is not copied, re-matched nor
      // re-serialised per run (store/frozen-reads.ts).
      const workflow = await ownWorkflow(ctx, appId, workflowId, true);
      return runWorkflow(ctx, appId, workflow, input, { allowDraft: true });
    },

    get: (runId) => ownRun(ctx, appId, runId),

    async list(query: ListRunsQuery = {}) {
      checkPageQuery(query);
      if (query.workflow_id !== undefined && typeof query.workflow_id !== 'string') {
        throw invalidArgument('workflow_id', 'a workflow id', query.workflow_id);
      }
      checkOneOrMany(query.status, 'status', RUN_STATUSES);
      checkOneOrMany(query.origin, 'origin', RUN_ORIGINS);
      // The short form of one of the app's custom ids names its workflow here too.
      const workflowId =
        query.workflow_id === undefined
          ? undefined
          : ((await findOwnWorkflow(ctx, appId, query.workflow_id))?.id ?? query.workflow_id);
      const page = await ctx.store.listRuns({
        app_id: appId,
        ...(workflowId === undefined ? {} : { workflow_id: workflowId }),
        ...(query.status === undefined ? {} : { status: query.status }),
        ...(query.origin === undefined ? {} : { origin: query.origin }),
        ...(query.created_after === undefined
          ? {}
          : { created_after: toIso(query.created_after, 'created_after') }),
        ...(query.created_before === undefined
          ? {}
          : { created_before: toIso(query.created_before, 'created_before') }),
        ...(query.cursor === undefined ? {} : { cursor: query.cursor }),
        ...(query.limit === undefined ? {} : { limit: query.limit }),
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
      checkOptions(input, 'input');
      refuseUnsupported(input, STREAM_OPTION);
      return replayRun(ctx, appId, await ownRun(ctx, appId, runId), input);
    },

    updateRetention: (runId, retention) => updateRetention(ctx, appId, runId, retention),

    async wait(runId) {
      const row = await ownRunRow(ctx, appId, runId);
      return waitRun(ctx, row.id);
    },
  };
}
