/**
 * Workflows and versions: the seed's Get Workflows, Get a Workflow, Get Workflow Versions, Get a
 * Workflow Version — and what the platform does in its UI, so a server can be filled over HTTP:
 * create, update, replace the draft, archive, restore, publish, roll back.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { Workflow } from '@weft/core';
import { pageByScan, sendPage } from './pagination.js';
import { list, ok } from './responses.js';
import { clientOf, type RouteContext, wireWorkflow } from './route-context.js';
import { AppParams, DocumentSchema, VersionSchema, WorkflowParams } from './schema-common.js';
import {
  CreateWorkflowBody,
  ListWorkflowsQuery,
  PageOnlyQuery,
  PublishBody,
  RollbackBody,
  UpdateWorkflowBody,
  VersionParams,
  WireWorkflowSchema,
} from './schema-workflows.js';
import { toWireVersion } from './wire-documents.js';

/** `search` and `tags` of the platform's list queries, as a filter. */
export function workflowFilter(query: { search?: string; tags?: string | string[] }) {
  const tags = query.tags === undefined ? [] : Array.isArray(query.tags) ? query.tags : [query.tags];
  const text = query.search?.trim().toLowerCase() ?? '';
  if (tags.length === 0 && text === '') return undefined;
  return (w: Pick<Workflow, 'name' | 'description'>) =>
    // Weft workflows have no tags, so asking for any tag matches nothing.
    tags.length === 0 &&
    (w.name.toLowerCase().includes(text) || (w.description ?? '').toLowerCase().includes(text));
}

/** A version reference from the path: a number when it is one, else an id or "latest". */
export function versionRef(value: string): number | string {
  return /^[1-9]\d{0,11}$/.test(value) ? Number(value) : value;
}

export function workflowRoutes(ctx: RouteContext): FastifyPluginAsyncTypebox {
  return async (app) => {
    const tags = ['Workflows'];

    app.get(
      '/workflows',
      {
        schema: {
          tags,
          summary: 'Get Workflows',
          description: 'The app’s workflows, newest first.',
          params: AppParams,
          querystring: ListWorkflowsQuery,
          response: list(WireWorkflowSchema, 'Workflows.'),
        },
      },
      async (request, reply) => {
        const client = clientOf(ctx, request);
        const q = request.query;
        const listed = await pageByScan(
          q,
          (cursor, limit) =>
            client.workflows.list({ cursor, limit, include_archived: q.include_archived === true }),
          { filter: workflowFilter(q), maxScan: ctx.options.maxListScan },
        );
        const wire = await Promise.all(listed.data.map((w) => wireWorkflow(ctx, client, w)));
        return sendPage(reply, { ...listed, data: wire }, (w) => w);
      },
    );

    app.post(
      '/workflows',
      {
        schema: {
          tags,
          summary: 'Create a Workflow',
          description: 'Weft extension (the platform does this in its UI): a new workflow with a draft.',
          params: AppParams,
          body: CreateWorkflowBody,
          response: ok(WireWorkflowSchema, 'The workflow.'),
        },
      },
      async (request) => {
        const client = clientOf(ctx, request);
        const workflow = await client.workflows.create(
          request.body as Parameters<typeof client.workflows.create>[0],
        );
        return wireWorkflow(ctx, client, workflow);
      },
    );

    app.get(
      '/workflows/:workflow_id',
      {
        schema: {
          tags,
          summary: 'Get a Workflow',
          params: WorkflowParams,
          response: ok(WireWorkflowSchema, 'The workflow.'),
        },
      },
      async (request) => {
        const client = clientOf(ctx, request);
        return wireWorkflow(ctx, client, await client.workflows.get(request.params.workflow_id));
      },
    );

    app.patch(
      '/workflows/:workflow_id',
      {
        schema: {
          tags,
          summary: 'Update a Workflow',
          description: 'Weft extension: name, description, discoverable, default retention.',
          params: WorkflowParams,
          body: UpdateWorkflowBody,
          response: ok(WireWorkflowSchema, 'The workflow.'),
        },
      },
      async (request) => {
        const client = clientOf(ctx, request);
        const patch = request.body as Parameters<typeof client.workflows.update>[1];
        return wireWorkflow(ctx, client, await client.workflows.update(request.params.workflow_id, patch));
      },
    );

    app.put(
      '/workflows/:workflow_id/draft',
      {
        schema: {
          tags,
          summary: 'Replace the Draft',
          description:
            'Weft extension: the draft is saved as it is and validated when it is run or published.',
          params: WorkflowParams,
          body: DocumentSchema,
          response: ok(WireWorkflowSchema, 'The workflow.'),
        },
      },
      async (request) => {
        const client = clientOf(ctx, request);
        const draft = request.body as Parameters<typeof client.workflows.updateDraft>[1];
        return wireWorkflow(
          ctx,
          client,
          await client.workflows.updateDraft(request.params.workflow_id, draft),
        );
      },
    );

    for (const action of ['archive', 'restore'] as const) {
      app.post(
        `/workflows/:workflow_id/${action}`,
        {
          schema: {
            tags,
            summary: action === 'archive' ? 'Archive a Workflow' : 'Restore a Workflow',
            description:
              action === 'archive'
                ? 'Weft extension: hidden from lists and discovery; it can no longer be run, edited or published.'
                : 'Weft extension: undoes archive.',
            params: WorkflowParams,
            response: ok(WireWorkflowSchema, 'The workflow.'),
          },
        },
        async (request) => {
          const client = clientOf(ctx, request);
          return wireWorkflow(ctx, client, await client.workflows[action](request.params.workflow_id));
        },
      );
    }

    app.get(
      '/workflows/:workflow_id/versions',
      {
        schema: {
          tags,
          summary: 'Get Workflow Versions',
          description: 'Published versions, highest number first.',
          params: WorkflowParams,
          querystring: PageOnlyQuery,
          response: list(VersionSchema, 'Versions.'),
        },
      },
      async (request, reply) => {
        const client = clientOf(ctx, request);
        const id = request.params.workflow_id;
        const listed = await pageByScan(
          request.query,
          (cursor, limit) => client.versions.list(id, { cursor, limit }),
          {
            maxScan: ctx.options.maxListScan,
          },
        );
        return sendPage(reply, listed, toWireVersion);
      },
    );

    app.post(
      '/workflows/:workflow_id/versions',
      {
        schema: {
          tags,
          summary: 'Publish the Draft',
          description:
            'Weft extension: validates the draft and publishes it as the next version (400 VALIDATION_FAILED lists every problem).',
          params: WorkflowParams,
          body: PublishBody,
          response: ok(VersionSchema, 'The new version.'),
        },
      },
      async (request) => {
        const client = clientOf(ctx, request);
        return toWireVersion(await client.versions.publish(request.params.workflow_id, request.body ?? {}));
      },
    );

    app.post(
      '/workflows/:workflow_id/rollback',
      {
        schema: {
          tags,
          summary: 'Roll Back',
          description: 'Weft extension: publishes a new version with version `version`’s document.',
          params: WorkflowParams,
          body: RollbackBody,
          response: ok(VersionSchema, 'The new version.'),
        },
      },
      async (request) => {
        const client = clientOf(ctx, request);
        const { version, ...input } = request.body;
        return toWireVersion(await client.versions.rollback(request.params.workflow_id, version, input));
      },
    );

    app.get(
      '/workflows/:workflow_id/versions/:version_id_or_version_number',
      {
        schema: {
          tags,
          summary: 'Get a Workflow Version',
          description: 'By number, id or `latest`.',
          params: VersionParams,
          response: ok(VersionSchema, 'The version.'),
        },
      },
      async (request) => {
        const client = clientOf(ctx, request);
        const { workflow_id, version_id_or_version_number } = request.params;
        return toWireVersion(
          await client.versions.get(workflow_id, versionRef(version_id_or_version_number)),
        );
      },
    );
  };
}
