/**
 * Discoverable workflows: the seed's Discover Workflows, Get Discoverable Workflow, Get Discoverable
 * Workflow Version, Run Discoverable Workflow and Cancel a Discoverable Workflow Run. Other apps'
 * workflows marked discoverable, published versions only; the runs are the caller's.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { pageByScan, sendPage } from './pagination.js';
import { list, ok, runOrStream } from './responses.js';
import { answerRun, clientOf, type RouteContext, retentionOf, wireWorkflow } from './route-context.js';
import { runVersion } from './routes-runs.js';
import { versionRef, workflowFilter } from './routes-workflows.js';
import { AppParams, VersionSchema, WorkflowParams } from './schema-common.js';
import { CreateDiscoveryRunBody, RunParams, VerboseQuery, WireRunSchema } from './schema-runs.js';
import { DiscoverQuery, VersionParams, WireWorkflowSchema } from './schema-workflows.js';
import { toWireVersion } from './wire-documents.js';
import { toWireRun } from './wire-runs.js';

export function discoverRoutes(ctx: RouteContext): FastifyPluginAsyncTypebox {
  return async (app) => {
    const tags = ['Discover'];

    app.get(
      '/workflows/discover',
      {
        schema: {
          tags,
          summary: 'Discover Workflows',
          description: 'Other apps’ discoverable workflows, newest first.',
          params: AppParams,
          querystring: DiscoverQuery,
          response: list(WireWorkflowSchema, 'Discoverable workflows.'),
        },
      },
      async (request, reply) => {
        const client = clientOf(ctx, request);
        const listed = await pageByScan(
          request.query,
          (cursor, limit) => client.discover.list({ cursor, limit }),
          {
            filter: workflowFilter(request.query),
            maxScan: ctx.options.maxListScan,
          },
        );
        const wire = await Promise.all(listed.data.map((w) => wireWorkflow(ctx, client, w)));
        return sendPage(reply, { ...listed, data: wire }, (w) => w);
      },
    );

    app.get(
      '/workflows/discover/:workflow_id',
      {
        schema: {
          tags,
          summary: 'Get Discoverable Workflow',
          params: WorkflowParams,
          response: ok(WireWorkflowSchema, 'The workflow (no draft: its document is the latest version’s).'),
        },
      },
      async (request) => {
        const client = clientOf(ctx, request);
        return wireWorkflow(ctx, client, await client.discover.get(request.params.workflow_id));
      },
    );

    app.get(
      '/workflows/discover/:workflow_id/versions/:version_id_or_version_number',
      {
        schema: {
          tags,
          summary: 'Get Discoverable Workflow Version',
          description: 'A published version, by number, id or `latest` (a draft is 403).',
          params: VersionParams,
          response: ok(VersionSchema, 'The version.'),
        },
      },
      async (request) => {
        const client = clientOf(ctx, request);
        const { workflow_id, version_id_or_version_number } = request.params;
        return toWireVersion(
          await client.discover.getVersion(workflow_id, versionRef(version_id_or_version_number)),
        );
      },
    );

    app.post(
      '/workflows/discover/:workflow_id/runs',
      {
        schema: {
          tags,
          summary: 'Run Discoverable Workflow',
          description: 'The run belongs to the caller (`app_id`); `workflow_app_id` is the owner.',
          params: WorkflowParams,
          querystring: VerboseQuery,
          body: CreateDiscoveryRunBody,
          response: runOrStream(WireRunSchema, 'The run.'),
        },
      },
      async (request, reply) => {
        const client = clientOf(ctx, request);
        const body = request.body ?? {};
        return answerRun(ctx, client, reply, body, (extra) =>
          client.discover.run(request.params.workflow_id, {
            input: body.input,
            version: runVersion(body.workflow_version_id),
            from_step_key: body.from_step_key ?? undefined,
            retention: body.retention === undefined ? undefined : retentionOf(body.retention),
            background: extra.background,
            onStart: extra.onStart,
          }),
        );
      },
    );

    app.post(
      '/workflows/discover/:workflow_id/runs/:run_id/cancel',
      {
        schema: {
          tags,
          summary: 'Cancel a Discoverable Workflow Run',
          params: RunParams,
          querystring: VerboseQuery,
          response: ok(WireRunSchema, 'The cancelled run.'),
        },
      },
      async (request) => {
        const client = clientOf(ctx, request);
        const { workflow_id, run_id } = request.params;
        return toWireRun(await client.discover.cancel(workflow_id, run_id, 'Cancelled over HTTP.'));
      },
    );
  };
}
