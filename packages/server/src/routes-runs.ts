/**
 * Runs of a workflow: the seed's Get Workflow Runs, Run a Workflow, Get a Workflow Run, Replay a
 * Workflow Run, Cancel a Workflow Run and Update Run Data Retention Configuration. Every run route
 * checks that the run belongs to the path's workflow (else 404, as for a run that does not exist).
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { ERROR_CODES, type RunOrigin, type RunStatus, WeftError } from '@weft/core';
import { pageByCursor, sendPage } from './pagination.js';
import { list, ok, runOrStream } from './responses.js';
import { answerRun, clientOf, type RouteContext, retentionOf, runOfWorkflow } from './route-context.js';
import { versionRef } from './routes-workflows.js';
import { WorkflowParams } from './schema-common.js';
import {
  CreateRunBody,
  ListRunsQuery,
  ReplayBody,
  RetentionBody,
  RunParams,
  VerboseQuery,
  WireRunSchema,
} from './schema-runs.js';
import { toWireRun } from './wire-runs.js';

/** The body's `workflow_version_id` as the registry's version reference. */
export function runVersion(value: string | number | undefined): string | number | undefined {
  return typeof value === 'string' ? versionRef(value) : value;
}

function toIso(value: string, parameter: string): string {
  const ms = Date.parse(value);
  if (!Number.isFinite(ms)) {
    throw new WeftError(
      ERROR_CODES.INVALID_ARGUMENT,
      `Expected \`${parameter}\` to be an ISO 8601 date or date-time, got ${JSON.stringify(value.slice(0, 40))}.`,
      { details: { parameter } },
    );
  }
  return new Date(ms).toISOString();
}

/** The platform's replay field `stepKey` and Weft's `from_step_key` name the same thing. */
export function replayFrom(body: { stepKey?: string; from_step_key?: string }): string | undefined {
  if (body.stepKey !== undefined && body.from_step_key !== undefined && body.stepKey !== body.from_step_key) {
    throw new WeftError(
      ERROR_CODES.INVALID_ARGUMENT,
      `\`stepKey\` (${JSON.stringify(body.stepKey)}) and \`from_step_key\` (${JSON.stringify(body.from_step_key)}) differ: give one of them.`,
      { details: { parameter: 'stepKey' } },
    );
  }
  return body.stepKey ?? body.from_step_key;
}

export function runRoutes(ctx: RouteContext): FastifyPluginAsyncTypebox {
  return async (app) => {
    const tags = ['Runs'];

    app.get(
      '/workflows/:workflow_id/runs',
      {
        schema: {
          tags,
          summary: 'Get Workflow Runs',
          description: 'The app’s runs of the workflow, newest first.',
          params: WorkflowParams,
          querystring: ListRunsQuery,
          response: list(WireRunSchema, 'Runs.'),
        },
      },
      async (request, reply) => {
        const client = clientOf(ctx, request);
        const workflowId = request.params.workflow_id;
        await client.workflows.get(workflowId);
        const q = request.query;
        const filters = {
          workflow_id: workflowId,
          ...(q.status === undefined || q.status === 'ALL' ? {} : { status: q.status as RunStatus }),
          ...(q.origin === undefined || q.origin === 'ALL' ? {} : { origin: q.origin as RunOrigin }),
          ...(q.created_after === undefined
            ? {}
            : { created_after: toIso(q.created_after, 'created_after') }),
          ...(q.created_before === undefined
            ? {}
            : { created_before: toIso(q.created_before, 'created_before') }),
        };
        const scope = { app_id: client.app_id, ...filters };
        const listed = await pageByCursor(q, {
          // Skipping reads bare rows (no step records); the page itself comes whole from the registry.
          skip: (cursor, limit) => ctx.weft.store.listRuns({ ...scope, cursor, limit }),
          read: (cursor, limit) => client.runs.list({ ...filters, cursor, limit }),
          count: () => ctx.weft.store.countRuns(scope),
        });
        return sendPage(reply, listed, toWireRun);
      },
    );

    app.post(
      '/workflows/:workflow_id/runs',
      {
        schema: {
          tags,
          summary: 'Run a Workflow',
          description:
            'Runs `workflow_version_id` ("latest" by default, "draft", a number or an id). Answers when the run ends; `background: true` at once with the RUNNING run; `stream: true` as server-sent events.',
          params: WorkflowParams,
          querystring: VerboseQuery,
          body: CreateRunBody,
          response: runOrStream(WireRunSchema, 'The run.'),
        },
      },
      async (request, reply) => {
        const client = clientOf(ctx, request);
        const body = request.body ?? {};
        // One object literal with every field (undefined = not given): the registry sees one shape.
        return answerRun(ctx, client, reply, body, (extra) =>
          client.runs.run(request.params.workflow_id, {
            input: body.input,
            version: runVersion(body.workflow_version_id),
            from_step_key: body.from_step_key ?? undefined,
            retention: body.retention === undefined ? undefined : retentionOf(body.retention),
            collection_id: body.collection_id,
            record_id: body.record_id,
            background: extra.background,
            onStart: extra.onStart,
          }),
        );
      },
    );

    app.get(
      '/workflows/:workflow_id/runs/:run_id',
      {
        schema: {
          tags,
          summary: 'Get a Workflow Run',
          params: RunParams,
          querystring: VerboseQuery,
          response: ok(WireRunSchema, 'The run.'),
        },
      },
      async (request) => {
        const client = clientOf(ctx, request);
        return toWireRun(await runOfWorkflow(client, request.params.workflow_id, request.params.run_id));
      },
    );

    app.post(
      '/workflows/:workflow_id/runs/:run_id/replay',
      {
        schema: {
          tags,
          summary: 'Replay a Workflow Run',
          description:
            'A new run of the same version and input; with `stepKey`, the steps not downstream of it keep the original records.',
          params: RunParams,
          querystring: VerboseQuery,
          body: ReplayBody,
          response: runOrStream(WireRunSchema, 'The new run.'),
        },
      },
      async (request, reply) => {
        const client = clientOf(ctx, request);
        const body = request.body ?? {};
        const from = replayFrom(body);
        const original = await runOfWorkflow(client, request.params.workflow_id, request.params.run_id);
        return answerRun(ctx, client, reply, body, (extra) =>
          client.runs.replay(original.id, {
            from_step_key: from,
            retention: body.retention == null ? undefined : retentionOf(body.retention),
            background: extra.background,
            onStart: extra.onStart,
          }),
        );
      },
    );

    app.post(
      '/workflows/:workflow_id/runs/:run_id/cancel',
      {
        schema: {
          tags,
          summary: 'Cancel a Workflow Run',
          description: 'PENDING or RUNNING → CANCELLED; a run that has ended answers 409 NOT_CANCELLABLE.',
          params: RunParams,
          querystring: VerboseQuery,
          response: ok(WireRunSchema, 'The cancelled run.'),
        },
      },
      async (request) => {
        const client = clientOf(ctx, request);
        const run = await runOfWorkflow(client, request.params.workflow_id, request.params.run_id);
        return toWireRun(await client.runs.cancel(run.id, 'Cancelled over HTTP.'));
      },
    );

    app.patch(
      '/workflows/:workflow_id/runs/:run_id/retention',
      {
        schema: {
          tags,
          summary: 'Update Run Data Retention Configuration',
          params: RunParams,
          querystring: VerboseQuery,
          body: RetentionBody,
          response: ok(WireRunSchema, 'The run, with its new retention and retention_due_at.'),
        },
      },
      async (request) => {
        const client = clientOf(ctx, request);
        const run = await runOfWorkflow(client, request.params.workflow_id, request.params.run_id);
        return toWireRun(await client.runs.updateRetention(run.id, retentionOf(request.body.retention)));
      },
    );
  };
}
