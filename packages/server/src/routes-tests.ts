/**
 * The Tests resource: a workflow's tests, their stats, running them (all, failed only, one, or only
 * re-evaluating expectations), cancelling. The mapping to the registry is in wire-tests.ts.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { type AppClient, isWeftError, type WorkflowTest } from '@weft/core';
import { pageByScan, sendPage } from './pagination.js';
import { list, ok } from './responses.js';
import { clientOf, type RouteContext, testOfWorkflow } from './route-context.js';
import { WorkflowParams } from './schema-common.js';
import {
  CreateTestBody,
  ListTestsQuery,
  RunTestBody,
  RunTestsBody,
  TestParams,
  UpdateTestBody,
  WireTestSchema,
} from './schema-tests.js';
import { TestsStatsSchema } from './schema-workflows.js';
import { toWireRun } from './wire-runs.js';
import {
  createTestInput,
  runTestInput,
  runTestsInput,
  statusFilter,
  toWireTest,
  updateTestInput,
  type WireTest,
} from './wire-tests.js';

async function wireTest(client: AppClient, test: WorkflowTest): Promise<WireTest> {
  let run = null;
  if (test.last_run_id !== null) {
    try {
      run = toWireRun(await client.runs.get(test.last_run_id));
    } catch (error) {
      // The last run may be gone (another store, a purge that deleted rows): the test still answers.
      if (!isWeftError(error) || error.code !== 'NOT_FOUND') throw error;
    }
  }
  return toWireTest(test, run);
}

/** Cancels the app's TEST runs of a workflow that are in progress; returns their ids. */
async function cancelTestRuns(client: AppClient, workflowId: string, only?: string): Promise<string[]> {
  const cancelled: string[] = [];
  const ids: string[] = [];
  let cursor: string | null = null;
  do {
    const page: Awaited<ReturnType<AppClient['runs']['list']>> = await client.runs.list({
      workflow_id: workflowId,
      origin: 'TEST',
      status: ['PENDING', 'RUNNING'],
      cursor,
      limit: 100,
    });
    for (const run of page.data) if (only === undefined || run.id === only) ids.push(run.id);
    cursor = page.next_cursor;
  } while (cursor !== null && ids.length < 10_000);
  for (const id of ids) {
    try {
      await client.runs.cancel(id, 'Tests cancelled over HTTP.');
      cancelled.push(id);
    } catch (error) {
      // It ended meanwhile: nothing to cancel.
      if (!isWeftError(error) || error.code !== 'NOT_CANCELLABLE') throw error;
    }
  }
  return cancelled;
}

export function testRoutes(ctx: RouteContext): FastifyPluginAsyncTypebox {
  return async (app) => {
    const tags = ['Tests'];

    app.get(
      '/workflows/:workflow_id/tests',
      {
        schema: {
          tags,
          summary: 'Get Tests',
          description: 'The workflow’s tests, newest first.',
          params: WorkflowParams,
          querystring: ListTestsQuery,
          response: list(WireTestSchema, 'Tests.'),
        },
      },
      async (request, reply) => {
        const client = clientOf(ctx, request);
        const q = request.query;
        const text = q.search?.trim().toLowerCase() ?? '';
        const byStatus = statusFilter(q.status);
        const listed = await pageByScan(
          q,
          (cursor, limit) => client.tests.list(request.params.workflow_id, { cursor, limit }),
          {
            filter:
              text === '' && byStatus === undefined
                ? undefined
                : (t) => t.name.toLowerCase().includes(text) && (byStatus === undefined || byStatus(t)),
            maxScan: ctx.options.maxListScan,
          },
        );
        const wire = await Promise.all(listed.data.map((t) => wireTest(client, t)));
        return sendPage(reply, { ...listed, data: wire }, (t) => t);
      },
    );

    app.post(
      '/workflows/:workflow_id/tests',
      {
        schema: {
          tags,
          summary: 'Create a Test',
          description: 'A test: a name, and (Weft) its input, step_key and expectations.',
          params: WorkflowParams,
          body: CreateTestBody,
          response: ok(WireTestSchema, 'The test (DRAFT until it runs).'),
        },
      },
      async (request) => {
        const client = clientOf(ctx, request);
        const test = await client.tests.create(request.params.workflow_id, createTestInput(request.body));
        return wireTest(client, test);
      },
    );

    app.get(
      '/workflows/:workflow_id/tests/stats',
      {
        schema: {
          tags,
          summary: 'Get Tests Stats',
          params: WorkflowParams,
          response: ok(TestsStatsSchema, 'Counts over the workflow’s tests.'),
        },
      },
      async (request) => clientOf(ctx, request).tests.stats(request.params.workflow_id),
    );

    app.post(
      '/workflows/:workflow_id/tests/runs',
      {
        schema: {
          tags,
          summary: 'Run Tests',
          description:
            'Runs every test (or, with `execute_failed_only`, the failed ones) on the draft or `workflow_version_number`; answers when they have run.',
          params: WorkflowParams,
          body: RunTestsBody,
          response: ok(
            Type.Object({ tests: Type.Array(WireTestSchema), stats: TestsStatsSchema }),
            'The tests run, and the stats after.',
          ),
        },
      },
      async (request) => {
        const client = clientOf(ctx, request);
        const id = request.params.workflow_id;
        const report = await client.tests.run(id, runTestsInput(request.body ?? {}));
        return {
          tests: await Promise.all(report.tests.map((t) => wireTest(client, t))),
          stats: report.stats,
        };
      },
    );

    app.post(
      '/workflows/:workflow_id/tests/cancel',
      {
        schema: {
          tags,
          summary: 'Cancel Tests',
          description: 'Cancels the workflow’s test runs (origin TEST) in progress.',
          params: WorkflowParams,
          response: ok(
            Type.Object({ cancelled: Type.Array(Type.String()) }),
            'The ids of the cancelled runs.',
          ),
        },
      },
      async (request) => {
        const client = clientOf(ctx, request);
        await client.workflows.get(request.params.workflow_id);
        return { cancelled: await cancelTestRuns(client, request.params.workflow_id) };
      },
    );

    app.get(
      '/workflows/:workflow_id/tests/:test_id',
      {
        schema: {
          tags,
          summary: 'Get Test',
          params: TestParams,
          querystring: Type.Object(
            { verbose: ListTestsQuery.properties.verbose },
            { additionalProperties: false },
          ),
          response: ok(WireTestSchema, 'The test, with its last run.'),
        },
      },
      async (request) => {
        const client = clientOf(ctx, request);
        return wireTest(
          client,
          await testOfWorkflow(client, request.params.workflow_id, request.params.test_id),
        );
      },
    );

    app.patch(
      '/workflows/:workflow_id/tests/:test_id',
      {
        schema: {
          tags,
          summary: 'Update Test',
          params: TestParams,
          body: UpdateTestBody,
          response: ok(WireTestSchema, 'The test.'),
        },
      },
      async (request) => {
        const client = clientOf(ctx, request);
        const test = await testOfWorkflow(client, request.params.workflow_id, request.params.test_id);
        return wireTest(client, await client.tests.update(test.id, updateTestInput(request.body ?? {})));
      },
    );

    app.delete(
      '/workflows/:workflow_id/tests/:test_id',
      {
        schema: {
          tags,
          summary: 'Delete Test',
          params: TestParams,
          response: ok(WireTestSchema, 'The deleted test.'),
        },
      },
      async (request) => {
        const client = clientOf(ctx, request);
        const test = await testOfWorkflow(client, request.params.workflow_id, request.params.test_id);
        const wire = await wireTest(client, test);
        await client.tests.delete(test.id);
        return wire;
      },
    );

    app.post(
      '/workflows/:workflow_id/tests/:test_id/runs',
      {
        schema: {
          tags,
          summary: 'Run Test',
          description:
            'Runs one test on the draft or `workflow_version_number`; `execute_expectations_only` re-evaluates its expectations against its last run; `execute_async` answers at once with the test RUNNING.',
          params: TestParams,
          body: RunTestBody,
          response: ok(WireTestSchema, 'The test after the run (with execute_async: RUNNING).'),
        },
      },
      async (request) => {
        const client = clientOf(ctx, request);
        const { workflow_id } = request.params;
        const test = await testOfWorkflow(client, workflow_id, request.params.test_id);
        return wireTest(client, await client.tests.runTest(test.id, runTestInput(request.body ?? {})));
      },
    );

    app.post(
      '/workflows/:workflow_id/tests/:test_id/cancel',
      {
        schema: {
          tags,
          summary: 'Cancel Test',
          description: 'Cancels the test’s run if it is in progress.',
          params: TestParams,
          response: ok(WireTestSchema, 'The test.'),
        },
      },
      async (request) => {
        const client = clientOf(ctx, request);
        const { workflow_id } = request.params;
        const test = await testOfWorkflow(client, workflow_id, request.params.test_id);
        if (test.last_run_id !== null) await cancelTestRuns(client, workflow_id, test.last_run_id);
        return wireTest(client, await client.tests.get(test.id));
      },
    );
  };
}
