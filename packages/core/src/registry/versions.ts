/**
 * Versions: publishing the draft as the next immutable version, listing, reading, rolling back.
 * Publishes (and rollbacks) of one workflow are serialised, so concurrent publishes get distinct,
 * consecutive numbers; the store refuses a second version with the same number anyway.
 */
import { ERROR_CODES, invalidArgument, WeftError } from '../errors.js';
import type { VersionDocument } from '../model/types.js';
import type { PublishedVersion, Workflow } from '../store/types.js';
import { ownWorkflow, publishedVersion } from './access.js';
import type { PublishInput, VersionsApi } from './client.js';
import type { RegistryContext } from './context.js';
import { archived, checkOptions, checkPageQuery } from './errors.js';

/** The metadata fields a published version carries (everything else is the document). */
const METADATA = [
  'id',
  'app_id',
  'workflow_id',
  'description',
  'version',
  'rollback_version',
  'notes',
  'created_by',
  'created_at',
] as const;

function checkPublishInput(input: PublishInput): void {
  checkOptions(input, 'input');
  for (const field of ['notes', 'description'] as const) {
    const value = input[field];
    if (value !== undefined && value !== null && typeof value !== 'string') {
      throw invalidArgument(field, 'a string or null', value);
    }
  }
  const by = input.created_by;
  if (by !== undefined && by !== null && (typeof by !== 'object' || typeof by.id !== 'string')) {
    throw invalidArgument('created_by', '{ id: string, name?: string } or null', by);
  }
}

/** Publishes `document` as the next version of `workflow`. Call it under the workflow's lock. */
async function publishDocument(
  ctx: RegistryContext,
  workflow: Workflow,
  document: VersionDocument,
  input: PublishInput,
  rollbackVersion: number | null,
): Promise<PublishedVersion> {
  const latest = await ctx.store.getLatestVersion(workflow.id);
  const content: Record<string, unknown> = { ...(structuredClone(document) as Record<string, unknown>) };
  for (const field of METADATA) delete content[field];
  const now = ctx.now();
  const version = {
    ...content,
    id: ctx.ids(),
    app_id: workflow.app_id,
    workflow_id: workflow.id,
    description: input.description ?? workflow.description ?? null,
    version: (latest?.version ?? 0) + 1,
    rollback_version: rollbackVersion,
    notes: input.notes ?? null,
    created_by: input.created_by ?? null,
    created_at: now,
  } as PublishedVersion;
  // Validates the exact document that will run: a ValidationError carries every problem.
  ctx.engine.compile(version);
  await ctx.store.insertVersion(version);
  await ctx.store.updateWorkflow(workflow.id, { latest_version: version.version, updated_at: now });
  return (await ctx.store.getVersion(version.id)) ?? version;
}

export function versionsApi(ctx: RegistryContext, appId: string): VersionsApi {
  const locked = <T>(workflowId: string, fn: () => Promise<T>) => ctx.locks.run(`versions:${workflowId}`, fn);

  return {
    async publish(workflowId, input = {}) {
      checkPublishInput(input);
      await ownWorkflow(ctx, appId, workflowId);
      return locked(workflowId, async () => {
        // Read inside the lock: the draft as it is now, and the latest number.
        const workflow = await ownWorkflow(ctx, appId, workflowId);
        if (workflow.archived_at !== null) throw archived(workflowId);
        return publishDocument(ctx, workflow, workflow.draft, input, null);
      });
    },

    async list(workflowId, query = {}) {
      checkPageQuery(query);
      await ownWorkflow(ctx, appId, workflowId);
      return ctx.store.listVersions({ ...query, workflow_id: workflowId });
    },

    async get(workflowId, ref) {
      const workflow = await ownWorkflow(ctx, appId, workflowId);
      if (ref === 'draft') {
        throw invalidArgument(
          'ref',
          '"latest", a version number or a version id (the draft is `workflows.get(id).draft`)',
          ref,
        );
      }
      return publishedVersion(ctx, workflow, ref);
    },

    async rollback(workflowId, version, input = {}) {
      checkPublishInput(input);
      if (!Number.isInteger(version) || version < 1)
        throw invalidArgument('version', 'a version number ≥ 1', version);
      await ownWorkflow(ctx, appId, workflowId);
      return locked(workflowId, async () => {
        const workflow = await ownWorkflow(ctx, appId, workflowId);
        if (workflow.archived_at !== null) throw archived(workflowId);
        const source = await publishedVersion(ctx, workflow, version);
        return publishDocument(
          ctx,
          workflow,
          source,
          {
            notes: input.notes ?? `Rollback to version ${version}.`,
            description: input.description ?? source.description,
            created_by: input.created_by ?? null,
          },
          version,
        );
      });
    },

    async update(workflowId, ref) {
      const workflow = await ownWorkflow(ctx, appId, workflowId);
      const version = await publishedVersion(ctx, workflow, ref);
      throw new WeftError(
        ERROR_CODES.IMMUTABLE_VERSION,
        `Version ${version.version} of workflow "${workflowId}" is published and can never change. Edit the draft (workflows.updateDraft) and publish a new version, or roll back (versions.rollback).`,
        { details: { workflow_id: workflowId, version: version.version, id: version.id }, retryable: false },
      );
    },
  };
}
