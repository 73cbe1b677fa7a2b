/** Workflows of this app: create, get, list, update, update the draft, archive, restore. */
import { invalidArgument } from '../errors.js';
import { checkedCopy } from '../json-data.js';
import type { WorkflowVersionDraft } from '../model/types.js';
import { normalizeRetention } from '../run/retention.js';
import type { Workflow, WorkflowPatch } from '../store/types.js';
import { findOwnWorkflow, ownWorkflow, scopedWorkflowId } from './access.js';
import type { CreateWorkflowInput, ListWorkflowsQuery, UpdateWorkflowInput, WorkflowsApi } from './client.js';
import type { RegistryContext } from './context.js';
import {
  archived,
  checkOptions,
  checkPageQuery,
  conflict,
  FILTER_OPTIONS,
  refuseUnsupported,
  workflowNotFound,
} from './errors.js';

/** A draft is any object with a `steps` array: it is validated when it is run or published, not when saved. */
export function checkDraft(draft: unknown): WorkflowVersionDraft {
  if (
    draft === null ||
    typeof draft !== 'object' ||
    Array.isArray(draft) ||
    !Array.isArray((draft as { steps?: unknown }).steps)
  ) {
    throw invalidArgument('draft', 'a workflow document `{ steps: [...] }`', draft);
  }
  return draft as WorkflowVersionDraft;
}

function checkName(name: unknown): string {
  if (typeof name !== 'string' || name.trim() === '')
    throw invalidArgument('name', 'a non-empty string', name);
  return name;
}

function checkDescription(description: unknown): string | null {
  if (description === undefined || description === null) return null;
  if (typeof description !== 'string') throw invalidArgument('description', 'a string or null', description);
  return description;
}

function checkDiscoverable(value: unknown): boolean {
  if (typeof value !== 'boolean') throw invalidArgument('discoverable', 'true or false', value);
  return value;
}

export function workflowsApi(ctx: RegistryContext, appId: string): WorkflowsApi {
  const update = async (id: string, patch: Omit<WorkflowPatch, 'updated_at'>): Promise<Workflow> => {
    const updated = await ctx.store.updateWorkflow(id, { ...patch, updated_at: ctx.now() });
    if (updated === null) throw workflowNotFound(id);
    return updated;
  };

  return {
    async create(input: CreateWorkflowInput) {
      checkOptions(input, 'input');
      if (input === undefined) throw invalidArgument('input', 'an object with a `name`', input);
      const now = ctx.now();
      if (input.id !== undefined && (typeof input.id !== 'string' || input.id === '')) {
        throw invalidArgument('id', 'a non-empty string', input.id);
      }
      // A custom id is scoped to the app: another app's ids never collide with it (nor leak through CONFLICT).
      const id = input.id === undefined ? ctx.ids() : scopedWorkflowId(appId, input.id);
      // Within the app the id must name one workflow, by its full or its short form.
      if (input.id !== undefined && (await findOwnWorkflow(ctx, appId, input.id)) !== null) {
        throw conflict(
          `This app already has a workflow with id "${input.id}". Choose another id, or omit it.`,
          {
            id: input.id,
          },
        );
      }
      const workflow: Workflow = {
        id,
        app_id: appId,
        name: checkName(input.name),
        description: checkDescription(input.description),
        discoverable: input.discoverable === undefined ? false : checkDiscoverable(input.discoverable),
        retention: normalizeRetention(input.retention),
        draft:
          input.draft === undefined
            ? { steps: [] }
            : (checkedCopy(checkDraft(input.draft), 'draft') as WorkflowVersionDraft),
        latest_version: null,
        tests_stats: null,
        archived_at: null,
        created_at: now,
        updated_at: now,
      };
      await ctx.store.insertWorkflow(workflow);
      return workflow;
    },

    get: (id) => ownWorkflow(ctx, appId, id),

    async list(query: ListWorkflowsQuery = {}) {
      checkPageQuery(query);
      refuseUnsupported(query, FILTER_OPTIONS);
      return ctx.store.listWorkflows({ ...query, app_id: appId });
    },

    async update(id, input: UpdateWorkflowInput) {
      if (input === undefined) {
        throw invalidArgument('patch', 'an object { name?, description?, discoverable?, retention? }', input);
      }
      checkOptions(input, 'patch');
      await ownWorkflow(ctx, appId, id);
      const patch: Omit<WorkflowPatch, 'updated_at'> = {};
      if (input.name !== undefined) patch.name = checkName(input.name);
      if (input.description !== undefined) patch.description = checkDescription(input.description);
      if (input.discoverable !== undefined) patch.discoverable = checkDiscoverable(input.discoverable);
      if (input.retention !== undefined) patch.retention = normalizeRetention(input.retention);
      return update(id, patch);
    },

    async updateDraft(id, draft) {
      const workflow = await ownWorkflow(ctx, appId, id);
      if (workflow.archived_at !== null) throw archived(id);
      return update(id, { draft: checkedCopy(checkDraft(draft), 'draft') as WorkflowVersionDraft });
    },

    async archive(id) {
      const workflow = await ownWorkflow(ctx, appId, id);
      if (workflow.archived_at !== null) return workflow;
      return update(id, { archived_at: ctx.now() });
    },

    async restore(id) {
      const workflow = await ownWorkflow(ctx, appId, id);
      if (workflow.archived_at === null) return workflow;
      return update(id, { archived_at: null });
    },
  };
}
