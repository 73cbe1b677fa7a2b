/**
 * Discoverable workflows: what an app sees of other apps' workflows marked `discoverable`. Only
 * published versions are visible or runnable; the run belongs to the caller (`app_id`) and records the
 * owner (`workflow_app_id`). A workflow that is not discoverable is NOT_FOUND, exactly like one that
 * does not exist.
 */
import { invalidArgument } from '../errors.js';
import { discoverableWorkflow, ownRunRow, publicView, publishedVersion } from './access.js';
import { cancelRun } from './cancel.js';
import type { DiscoverApi } from './client.js';
import type { RegistryContext } from './context.js';
import { checkPageQuery, FILTER_OPTIONS, forbidden, refuseUnsupported, runNotFound } from './errors.js';
import { checkIdArgument, takeRunCall } from './run-call.js';
import { runWorkflow } from './runs.js';

export function discoverApi(ctx: RegistryContext, appId: string): DiscoverApi {
  return {
    async list(query = {}) {
      checkPageQuery(query);
      refuseUnsupported(query, FILTER_OPTIONS);
      const page = await ctx.store.listDiscoverableWorkflows({ ...query, exclude_app_id: appId });
      return { data: page.data.map(publicView), next_cursor: page.next_cursor };
    },

    async get(workflowId) {
      return publicView(await discoverableWorkflow(ctx, workflowId));
    },

    async listVersions(workflowId, query = {}) {
      checkPageQuery(query);
      // The query as the call found it, before the first await.
      const page = { ...query, workflow_id: workflowId };
      await discoverableWorkflow(ctx, workflowId);
      return ctx.store.listVersions(page);
    },

    async getVersion(workflowId, ref) {
      const workflow = await discoverableWorkflow(ctx, workflowId);
      if (ref === 'draft') {
        throw forbidden(
          `Drafts of discoverable workflows are private to their app: ask for a published version of "${workflowId}" ("latest", a number or an id).`,
          { workflow_id: workflowId },
        );
      }
      return publishedVersion(ctx, workflow, ref);
    },

    async run(workflowId, input = {}) {
      // Everything the run takes from the caller is taken here, before the first await (run-call.ts).
      checkIdArgument(workflowId, 'workflowId');
      const call = takeRunCall(ctx, input);
      const workflow = await discoverableWorkflow(ctx, workflowId);
      // Other apps' workflows run published versions only, never a draft.
      return runWorkflow(ctx, appId, workflow, call, { allowDraft: false });
    },

    async cancel(workflowId, runId, reason) {
      if (typeof workflowId !== 'string' || workflowId === '') {
        throw invalidArgument('workflowId', 'a non-empty string', workflowId);
      }
      const row = await ownRunRow(ctx, appId, runId);
      if (row.workflow_id !== workflowId) throw runNotFound(runId);
      return cancelRun(ctx, row, reason);
    },
  };
}
