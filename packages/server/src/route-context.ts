/** What every route module gets: the registry, the options, and the reads they share. */
import {
  type AppClient,
  ERROR_CODES,
  type PublishedVersion,
  type Retention,
  type RunHandle,
  type RunRecord,
  type Weft,
  WeftError,
  type Workflow,
  type WorkflowTest,
} from '@weft/core';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { appOf } from './auth.js';
import type { Deadlines } from './deadlines.js';
import type { ResolvedOptions } from './options.js';
import { streamRun } from './stream-run.js';
import { toWireRun, type WireRun } from './wire-runs.js';
import { toWireWorkflow, type WireWorkflow } from './wire-workflows.js';

/** The platform's retention input (`preserve_on_failure` optional, default false) as the registry's. */
export function retentionOf(
  value: number | { max_age_in_seconds: number; preserve_on_failure?: boolean | undefined },
): number | Retention;
export function retentionOf(
  value: number | { max_age_in_seconds: number; preserve_on_failure?: boolean | undefined } | null,
): number | Retention | null;
export function retentionOf(
  value: number | { max_age_in_seconds: number; preserve_on_failure?: boolean | undefined } | null,
): number | Retention | null {
  if (value === null || typeof value === 'number') return value;
  return {
    max_age_in_seconds: value.max_age_in_seconds,
    preserve_on_failure: value.preserve_on_failure ?? false,
  };
}

export interface RouteContext {
  readonly weft: Weft;
  readonly options: ResolvedOptions;
  /** The shared timer of foreground waits. */
  readonly deadlines: Deadlines;
}

/** The registry client of the request's app (authenticated and scoped by the auth hook). */
export function clientOf(ctx: RouteContext, request: FastifyRequest): AppClient {
  return ctx.weft.app(appOf(request));
}

/** Same words as the registry's, so a run of another workflow reads exactly like a missing one. */
export function runNotFound(runId: string): WeftError {
  return new WeftError(
    ERROR_CODES.NOT_FOUND,
    `Run "${runId}" was not found. Check the id; an app can only read and cancel its own runs.`,
    { details: { id: runId }, retryable: false },
  );
}

export function testNotFound(testId: string): WeftError {
  return new WeftError(
    ERROR_CODES.NOT_FOUND,
    `Test "${testId}" was not found. Check the id, and that the test belongs to a workflow of this app.`,
    { details: { id: testId }, retryable: false },
  );
}

/** A run of this app that belongs to `workflowId` (the path's workflow). */
export async function runOfWorkflow(
  client: AppClient,
  workflowId: string,
  runId: string,
): Promise<RunRecord> {
  const run = await client.runs.get(runId);
  // The path may name one of the app's workflows by the short form of its custom id (app_id:id).
  if (run.workflow_id !== workflowId && run.workflow_id !== `${client.app_id}:${workflowId}`) {
    throw runNotFound(runId);
  }
  return run;
}

/** A test of this app that belongs to `workflowId`. */
export async function testOfWorkflow(
  client: AppClient,
  workflowId: string,
  testId: string,
): Promise<WorkflowTest> {
  const workflow = await client.workflows.get(workflowId);
  const test = await client.tests.get(testId);
  if (test.workflow_id !== workflow.id) throw testNotFound(testId);
  return test;
}

/** A workflow with what the wire shape adds: its latest version, the caller's run count, its tests' stats. */
export async function wireWorkflow(
  ctx: RouteContext,
  client: AppClient,
  workflow: Workflow | Omit<Workflow, 'draft' | 'tests_stats'>,
): Promise<WireWorkflow> {
  const [latest, runsCount] = await Promise.all([
    ctx.weft.store.getLatestVersion(workflow.id) as Promise<PublishedVersion | null>,
    ctx.weft.store.countRuns({ app_id: client.app_id, workflow_id: workflow.id }),
  ]);
  // Another app's workflow (discover) has no tests_stats: its tests are its owner's.
  const testsStats = 'tests_stats' in workflow ? workflow.tests_stats : null;
  return toWireWorkflow(workflow, { latest, runsCount, testsStats });
}

export interface RunMode {
  stream?: boolean | undefined;
  background?: boolean | undefined;
}

/** What a route passes to the registry to start its run. */
export type Starter = (extra: {
  background?: boolean;
  onStart?: (handle: RunHandle) => void;
}) => Promise<RunRecord>;

/**
 * Starts a run and answers the platform's way: `stream` → server-sent events; `background` → the
 * RUNNING run at once; otherwise the run once it has ended, or after `runWaitMs` the run as it stands.
 */
export async function answerRun(
  ctx: RouteContext,
  client: AppClient,
  reply: FastifyReply,
  mode: RunMode,
  start: Starter,
): Promise<WireRun | FastifyReply> {
  if (mode.stream === true) {
    await streamRun(reply, (onStart) => start({ onStart }), {
      heartbeatMs: ctx.options.heartbeatMs,
      maxBufferedBytes: ctx.options.maxStreamBufferBytes,
      log: reply.log,
    });
    return reply;
  }
  if (mode.background === true) return toWireRun(await start({ background: true }));
  let runId: string | null = null;
  const ended = start({
    onStart: (handle) => {
      runId = handle.id;
    },
  });
  const deadline = ctx.deadlines.after(ctx.options.runWaitMs);
  try {
    const run = await Promise.race([ended, deadline.promise]);
    if (run !== null) return toWireRun(run);
  } finally {
    deadline.cancel();
  }
  // Not started yet (its store reads took all that time): there is nothing to answer but its end.
  if (runId === null) return toWireRun(await ended);
  // Still running: answer it as it stands; it goes on and is stored when it ends.
  ended.catch(() => {});
  reply.header('x-weft-run-wait', 'timeout');
  return toWireRun(await client.runs.get(runId));
}
