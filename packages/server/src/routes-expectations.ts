/**
 * The expectation library of a workflow (`/workflows/{workflow_id}/tests/expectations`): named scripts
 * its tests reference by `expectation_id`. The workflow is read first, so another app's workflow or
 * expectation answers exactly like a missing one.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { type AppClient, ERROR_CODES, WeftError, type WorkflowExpectation } from '@weft/core';
import { pageByScan, sendPage } from './pagination.js';
import { list, ok } from './responses.js';
import { clientOf, type RouteContext } from './route-context.js';
import { WorkflowParams } from './schema-common.js';
import {
  CreateExpectationBody,
  ExpectationParams,
  ListExpectationsQuery,
  UpdateExpectationBody,
  WireLibraryExpectationSchema,
} from './schema-expectations.js';
import { toWireLibraryExpectation } from './wire-expectations.js';

/** Same words as the registry's. */
function expectationNotFound(id: string): WeftError {
  return new WeftError(
    ERROR_CODES.NOT_FOUND,
    `Expectation "${id}" was not found. Check the id, and that the expectation belongs to the library of a workflow of this app.`,
    { details: { id }, retryable: false },
  );
}

/** A library expectation of this app that belongs to `workflowId` (the path's workflow). */
async function expectationOfWorkflow(
  client: AppClient,
  workflowId: string,
  expectationId: string,
): Promise<WorkflowExpectation> {
  const workflow = await client.workflows.get(workflowId);
  const expectation = await client.tests.expectations.get(expectationId);
  if (expectation.workflow_id !== workflow.id) throw expectationNotFound(expectationId);
  return expectation;
}

export function expectationRoutes(ctx: RouteContext): FastifyPluginAsyncTypebox {
  return async (app) => {
    const tags = ['Tests'];

    app.get(
      '/workflows/:workflow_id/tests/expectations',
      {
        schema: {
          tags,
          summary: 'Get Tests Expectations',
          description: 'The workflow’s expectation library, newest first; `search` matches the name.',
          params: WorkflowParams,
          querystring: ListExpectationsQuery,
          response: list(WireLibraryExpectationSchema, 'Library expectations.'),
        },
      },
      async (request, reply) => {
        const client = clientOf(ctx, request);
        const { search } = request.query;
        const listed = await pageByScan(
          request.query,
          (cursor, limit) =>
            client.tests.expectations.list(request.params.workflow_id, {
              cursor,
              limit,
              ...(search === undefined ? {} : { search }),
            }),
          { maxScan: ctx.options.maxListScan },
        );
        return sendPage(reply, listed, toWireLibraryExpectation);
      },
    );

    app.post(
      '/workflows/:workflow_id/tests/expectations',
      {
        schema: {
          tags,
          summary: 'Create a Test Expectation',
          description:
            'A named script of the workflow’s library; a test references it with `expectation_id` in one of its expectations.',
          params: WorkflowParams,
          body: CreateExpectationBody,
          response: ok(WireLibraryExpectationSchema, 'The expectation.'),
        },
      },
      async (request) => {
        const client = clientOf(ctx, request);
        const { name, script } = request.body;
        return toWireLibraryExpectation(
          await client.tests.expectations.create(request.params.workflow_id, { name, script }),
        );
      },
    );

    app.get(
      '/workflows/:workflow_id/tests/expectations/:expectation_id',
      {
        schema: {
          tags,
          summary: 'Get Test Expectation',
          params: ExpectationParams,
          response: ok(WireLibraryExpectationSchema, 'The expectation.'),
        },
      },
      async (request) => {
        const { workflow_id, expectation_id } = request.params;
        return toWireLibraryExpectation(
          await expectationOfWorkflow(clientOf(ctx, request), workflow_id, expectation_id),
        );
      },
    );

    app.patch(
      '/workflows/:workflow_id/tests/expectations/:expectation_id',
      {
        schema: {
          tags,
          summary: 'Update Test Expectation',
          description: 'Tests that reference it run the new script from their next run on.',
          params: ExpectationParams,
          body: UpdateExpectationBody,
          response: ok(WireLibraryExpectationSchema, 'The expectation.'),
        },
      },
      async (request) => {
        const client = clientOf(ctx, request);
        const { workflow_id, expectation_id } = request.params;
        const current = await expectationOfWorkflow(client, workflow_id, expectation_id);
        const body = request.body ?? {};
        return toWireLibraryExpectation(
          await client.tests.expectations.update(current.id, {
            ...(body.name === undefined ? {} : { name: body.name }),
            ...(body.script === undefined ? {} : { script: body.script }),
          }),
        );
      },
    );

    app.delete(
      '/workflows/:workflow_id/tests/expectations/:expectation_id',
      {
        schema: {
          tags,
          summary: 'Delete Test Expectation',
          description:
            'Tests that reference it keep the reference; their next run fails that expectation (code NOT_FOUND) until they are updated.',
          params: ExpectationParams,
          response: ok(WireLibraryExpectationSchema, 'The deleted expectation.'),
        },
      },
      async (request) => {
        const client = clientOf(ctx, request);
        const { workflow_id, expectation_id } = request.params;
        const current = await expectationOfWorkflow(client, workflow_id, expectation_id);
        await client.tests.expectations.delete(current.id);
        return toWireLibraryExpectation(current);
      },
    );
  };
}
