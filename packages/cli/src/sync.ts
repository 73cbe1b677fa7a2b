/**
 * Files → registry: before `weft run`, the workflow file and the sub-workflow files it names become
 * workflows of the store (docs/cli.md — Run history), so that the run is a registry run that
 * `weft runs replay` can start again and `workflow` steps resolve as on the platform.
 *
 * - A draft file is the draft of workflow `wf_<hash of its absolute path>` (app `local`), named after
 *   the file; its description is the file's absolute path (replays find the fixtures beside it).
 * - A version file (a numeric `version` or an `id`) is inserted as that very published version of its
 *   `workflow_id` in its `app_id` (defaults as above): the run carries the file's metadata. Versions are
 *   immutable, so the same number with different content is refused: bump `version`.
 * - Each sub-workflow file becomes the draft of its `workflow_id`, and is published as a new version
 *   when it differs from the latest one, so `"latest"` and `"draft"` both run the file as it is now.
 */
import { createHash } from 'node:crypto';
import type { AppClient, PublishedVersion, Weft, Workflow, WorkflowVersionDraft } from '@weft/core';
import type { Workspace } from './common.js';
import { CliError } from './errors.js';
import { displayPath, type LoadedWorkflow } from './project.js';

export const LOCAL_APP = 'local';

/** What to run: a workflow of an app, at a version. */
export interface SyncedTarget {
  app: AppClient;
  workflowId: string;
  version: 'draft' | number;
}

const VERSION_METADATA = [
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

/** A document's content without version metadata, as canonical JSON (keys sorted), for comparisons. */
function contentKey(document: Record<string, unknown>): string {
  const content: Record<string, unknown> = { ...document };
  for (const field of VERSION_METADATA) delete content[field];
  return canonical(content);
}

function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/** A document with a numeric `version` or an `id` runs as a published version (as before the store). */
export function isVersionDocument(document: Record<string, unknown>): boolean {
  return Number.isInteger(document.version) || typeof document.id === 'string';
}

export function fileWorkflowId(file: LoadedWorkflow): string {
  return `wf_${createHash('sha256').update(file.path).digest('hex').slice(0, 16)}`;
}

const str = (value: unknown): string | undefined =>
  typeof value === 'string' && value !== '' ? value : undefined;

/** Creates the workflow, or brings an existing one's draft, name and description up to date. */
async function upsertWorkflow(
  weft: Weft,
  app: AppClient,
  id: string,
  file: LoadedWorkflow,
  draft: Record<string, unknown>,
): Promise<Workflow> {
  const name = displayPath(file.path);
  const existing = await weft.store.getWorkflow(id);
  if (existing === null) {
    // Inserted as the file names it: the registry's workflows.create would scope a custom id to the app
    // (app:id), but this database is the CLI's own and a version file's metadata names its workflow exactly.
    const now = new Date().toISOString();
    const workflow: Workflow = {
      id,
      app_id: app.app_id,
      name,
      description: file.path,
      discoverable: false,
      retention: null,
      draft: draft as WorkflowVersionDraft,
      latest_version: null,
      tests_stats: null,
      archived_at: null,
      created_at: now,
      updated_at: now,
    };
    await weft.store.insertWorkflow(workflow);
    return workflow;
  }
  if (existing.app_id !== app.app_id) {
    throw new CliError(
      `${file.file}: workflow "${id}" is recorded for app "${existing.app_id}" in the run database, not "${app.app_id}". Give the file another workflow_id, or use another database (--db).`,
    );
  }
  if (existing.archived_at !== null) await app.workflows.restore(id);
  if (existing.name !== name || existing.description !== file.path) {
    await app.workflows.update(id, { name, description: file.path });
  }
  if (canonical(existing.draft) !== canonical(draft)) {
    return app.workflows.updateDraft(id, draft as WorkflowVersionDraft);
  }
  return existing;
}

/** Publishes the draft when it differs from the latest version (or there is none). */
async function publishIfChanged(weft: Weft, app: AppClient, id: string, file: LoadedWorkflow): Promise<void> {
  const latest = await weft.store.getLatestVersion(id);
  if (latest !== null && contentKey(latest) === contentKey(file.document)) return;
  await app.versions.publish(id, { notes: `weft run: ${displayPath(file.path)}` });
}

/** Inserts a version file as the version it says it is (or finds it already there, unchanged). */
async function insertVersionFile(
  weft: Weft,
  app: AppClient,
  workflowId: string,
  file: LoadedWorkflow,
): Promise<number> {
  const doc = file.document;
  const workflow = await upsertWorkflow(weft, app, workflowId, file, stripMetadata(doc));
  const latest = await weft.store.getLatestVersion(workflowId);
  const number = Number.isInteger(doc.version) ? (doc.version as number) : (latest?.version ?? 0) + 1;
  if (number < 1) throw new CliError(`${file.file}: "version" must be a number ≥ 1.`);
  const id = str(doc.id) ?? `${workflowId}_v${number}`;
  const existing =
    (await weft.store.getVersionByNumber(workflowId, number)) ?? (await weft.store.getVersion(id));
  if (existing !== null) {
    if (
      existing.workflow_id === workflowId &&
      existing.version === number &&
      contentKey(existing) === contentKey(doc)
    ) {
      return number;
    }
    throw new CliError(
      `${file.file}: version ${number} (id "${existing.id}") of workflow "${workflowId}" is already recorded in the run database with other content, and published versions never change. Bump "version" (and "id") in the file, or run with --store memory.`,
    );
  }
  const now = new Date().toISOString();
  const version = {
    ...stripMetadata(doc),
    id,
    app_id: app.app_id,
    workflow_id: workflowId,
    description: (doc.description as string | null | undefined) ?? null,
    version: number,
    rollback_version: (doc.rollback_version as number | null | undefined) ?? null,
    notes: (doc.notes as string | null | undefined) ?? null,
    created_by: (doc.created_by as PublishedVersion['created_by'] | undefined) ?? null,
    created_at: str(doc.created_at) ?? now,
  } as PublishedVersion;
  await weft.store.insertVersion(version);
  if (workflow.latest_version === null || workflow.latest_version < number) {
    await weft.store.updateWorkflow(workflowId, { latest_version: number, updated_at: now });
  }
  return number;
}

function stripMetadata(document: Record<string, unknown>): Record<string, unknown> {
  const content: Record<string, unknown> = { ...document };
  for (const field of VERSION_METADATA) delete content[field];
  return content;
}

/** Records the workspace's workflows in the store and says what to run. */
export async function syncWorkspace(weft: Weft, workspace: Workspace): Promise<SyncedTarget> {
  const root = workspace.root;
  const app = weft.app(str(root.document.app_id) ?? LOCAL_APP);
  for (const [id, sub] of workspace.workflows) {
    await upsertWorkflow(weft, app, id, sub, sub.document);
    await publishIfChanged(weft, app, id, sub);
  }
  const workflowId = str(root.document.workflow_id) ?? fileWorkflowId(root);
  if (isVersionDocument(root.document)) {
    return { app, workflowId, version: await insertVersionFile(weft, app, workflowId, root) };
  }
  await upsertWorkflow(weft, app, workflowId, root, root.document);
  return { app, workflowId, version: 'draft' };
}
