/**
 * `weft serve ./workflows`: the documents of a folder become workflows of the served app. A file
 * `name.json` is the workflow `name`; `sub/workflow.json` is the workflow `sub` (so the examples'
 * `workflow` steps, which name `support-triage`, find `examples/support-triage/workflow.json`). Side
 * files (`*.fixtures.json`, `*.tests.json`, `weft.json`) are not workflows.
 *
 * Loading is a sync: a workflow that does not exist is created; one whose draft differs gets the new
 * draft; a valid draft that differs from the latest version is published. An invalid document is
 * reported and kept as a draft (it can be fixed and published over HTTP).
 */
import { readdirSync, statSync } from 'node:fs';
import { basename, join, relative } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { type AppClient, isWeftError, ValidationError } from '@weft/core';
import { CliError } from './errors.js';
import { loadWorkflow, providerNames } from './project.js';

const SIDE_FILES = /(\.fixtures\.json|\.tests\.json|^weft\.json)$/i;
const MAX_FILES = 1000;

export interface FolderWorkflow {
  id: string;
  file: string;
  document: Record<string, unknown>;
}

function idOf(dir: string, path: string): string {
  const rel = relative(dir, path).replace(/\\/g, '/');
  const base = basename(rel, '.json');
  const parts = rel.split('/');
  const id = base === 'workflow' && parts.length > 1 ? parts[parts.length - 2]! : rel.replace(/\.json$/i, '');
  return id.replace(/[^A-Za-z0-9._~-]/g, '-').slice(0, 200);
}

/** The workflow documents of `dir` and of its direct subfolders. */
export function folderWorkflows(dir: string): FolderWorkflow[] {
  let stat: ReturnType<typeof statSync>;
  try {
    stat = statSync(dir);
  } catch {
    throw new CliError(`${dir}: no such folder. Give a folder of workflow documents (JSON).`);
  }
  if (!stat.isDirectory())
    throw new CliError(`${dir}: not a folder. Give a folder of workflow documents (JSON).`);
  const files: string[] = [];
  const visit = (folder: string, depth: number) => {
    for (const entry of readdirSync(folder, { withFileTypes: true }).sort((a, b) =>
      a.name.localeCompare(b.name),
    )) {
      if (files.length >= MAX_FILES) return;
      const path = join(folder, entry.name);
      if (
        entry.isDirectory() &&
        depth === 0 &&
        !entry.name.startsWith('.') &&
        entry.name !== 'node_modules'
      ) {
        visit(path, 1);
      } else if (
        entry.isFile() &&
        entry.name.toLowerCase().endsWith('.json') &&
        !SIDE_FILES.test(entry.name)
      ) {
        files.push(path);
      }
    }
  };
  visit(dir, 0);
  const seen = new Map<string, string>();
  return files.map((file) => {
    const id = idOf(dir, file);
    const before = seen.get(id);
    if (before !== undefined)
      throw new CliError(`${file} and ${before} would both be workflow "${id}": rename one.`);
    seen.set(id, file);
    const { document } = loadWorkflow(file);
    return { id, file, document };
  });
}

export function providersOf(workflows: readonly FolderWorkflow[]): string[] {
  return [...new Set(workflows.flatMap((w) => providerNames(w.document)))];
}

export interface SyncLine {
  id: string;
  file: string;
  /** What happened: created, updated, unchanged; published v<n>; or the document's problems. */
  status: string;
  problems: string[];
}

/** Creates, updates and publishes the folder's workflows in `app`. */
export async function syncWorkflows(
  app: AppClient,
  workflows: readonly FolderWorkflow[],
): Promise<SyncLine[]> {
  const lines: SyncLine[] = [];
  for (const w of workflows) {
    const name = typeof w.document.name === 'string' && w.document.name !== '' ? w.document.name : w.id;
    const draft = w.document as never;
    let status: string;
    let existing = await app.workflows.get(w.id).catch((error: unknown) => {
      if (isWeftError(error) && error.code === 'NOT_FOUND') return null;
      throw error;
    });
    if (existing === null) {
      existing = await app.workflows.create({ id: w.id, name, draft });
      status = 'created';
    } else if (!isDeepStrictEqual(existing.draft, w.document)) {
      if (existing.archived_at !== null) await app.workflows.restore(w.id);
      await app.workflows.updateDraft(w.id, draft);
      status = 'updated';
    } else {
      status = 'unchanged';
    }
    const problems: string[] = [];
    const latest = existing.latest_version === null ? null : await app.versions.get(w.id, 'latest');
    if (latest === null || !sameDocument(latest, w.document)) {
      try {
        const version = await app.versions.publish(w.id, { notes: `Loaded from ${w.file} by weft serve.` });
        status += `, published v${version.version}`;
      } catch (error) {
        if (!(error instanceof ValidationError)) throw error;
        for (const p of error.problems.filter((x) => x.severity === 'error').slice(0, 10)) {
          problems.push(`${p.path || '/'} ${p.code} ${p.message}`);
        }
        status += ', not published (invalid)';
      }
    } else {
      status += `, v${latest.version}`;
    }
    lines.push({ id: w.id, file: w.file, status, problems });
  }
  return lines;
}

const VERSION_FIELDS = new Set([
  'id',
  'app_id',
  'workflow_id',
  'description',
  'version',
  'rollback_version',
  'notes',
  'created_by',
  'created_at',
]);

/** Whether a published version has the document's content (its metadata aside). */
function sameDocument(version: Record<string, unknown> | object, document: Record<string, unknown>): boolean {
  const content: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(version)) if (!VERSION_FIELDS.has(key)) content[key] = value;
  const wanted: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(document)) if (!VERSION_FIELDS.has(key)) wanted[key] = value;
  return isDeepStrictEqual(content, wanted);
}
