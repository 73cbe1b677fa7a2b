/**
 * Loading a workflow file and the files around it:
 * - the document itself (a draft or a version: `{ steps: [...] }`, optionally with embedded `tests`);
 * - sub-workflows of `workflow` steps: `workflow_id` → the `workflows` map of a `weft.json` beside the
 *   workflow (`{ "workflows": { "<id>": "<path>" } }`, paths relative to weft.json), else
 *   `workflows/<id>.json` beside the workflow, else `<id>.json` beside it;
 * - `<name>.fixtures.json` and `<name>.tests.json` beside `<name>.json`.
 */
import { existsSync } from 'node:fs';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { CliError } from './errors.js';
import { isPlainObject, readJson } from './files.js';

export interface LoadedWorkflow {
  /** The path as the user wrote it, or relative to the working directory (for messages). */
  file: string;
  /** Absolute path. */
  path: string;
  /** The document to run (without embedded `tests`). */
  document: Record<string, unknown>;
  /** The embedded `tests` array, if the document has one. */
  embeddedTests: unknown[] | undefined;
}

/** A path for messages: relative to the working directory when that is shorter. */
/** A PostgreSQL connection URL (`--db postgres://…`), rather than a file path. */
export function isPostgresUrl(value: string): boolean {
  return /^postgres(ql)?:\/\//i.test(value);
}

export function displayPath(path: string): string {
  if (isPostgresUrl(path)) return path; // a database URL (redacted by openStore), not a file
  const rel = relative(process.cwd(), path);
  return rel !== '' && !rel.startsWith('..') && rel.length < path.length ? rel : path;
}

export function loadWorkflow(file: string): LoadedWorkflow {
  const path = resolve(file);
  const json = readJson(file, 'workflow');
  if (!isPlainObject(json)) {
    throw new CliError(
      `${file}: expected a workflow document (a JSON object with "steps"), got ${kind(json)}.`,
    );
  }
  const { tests, ...document } = json;
  if (tests !== undefined && !Array.isArray(tests)) {
    throw new CliError(`${file}: "tests" must be an array of tests.`);
  }
  return { file, path, document, embeddedTests: tests as unknown[] | undefined };
}

function kind(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return `a ${typeof value}`;
}

/** `dir/name.json` → `dir/name<suffix>` (e.g. `.fixtures.json`). */
export function sibling(path: string, suffix: string): string {
  const name = basename(path).replace(/\.json$/i, '');
  return join(dirname(path), `${name}${suffix}`);
}

/** Steps of a document that are objects (validation reports the others). */
function stepsOf(document: Record<string, unknown>): Record<string, unknown>[] {
  return Array.isArray(document.steps) ? document.steps.filter(isPlainObject) : [];
}

const isLiteral = (value: unknown): value is string =>
  typeof value === 'string' && value !== '' && !value.includes('{{');

/** Provider names the document's steps name (`provider.provider`, `auto.provider`), templates left out. */
export function providerNames(document: Record<string, unknown>): string[] {
  const names = new Set<string>();
  for (const step of stepsOf(document)) {
    const provider = step.provider;
    if (isPlainObject(provider) && isLiteral(provider.provider)) names.add(provider.provider);
    const auto = step.auto;
    if (isPlainObject(auto) && isLiteral(auto.provider)) names.add(auto.provider);
  }
  return [...names];
}

/** `workflow_id`s of the document's `workflow` steps (templated ids are resolved at run time only). */
export function workflowReferences(document: Record<string, unknown>): string[] {
  const ids = new Set<string>();
  for (const step of stepsOf(document)) {
    if (step.type === 'workflow' && isLiteral(step.workflow_id)) ids.add(step.workflow_id);
  }
  return [...ids];
}

/** Finds and loads sub-workflow files for one root workflow (cached by id). */
export class WorkflowFiles {
  readonly #dir: string;
  readonly #map: Record<string, string> | null;
  readonly #mapFile: string;
  readonly #cache = new Map<string, LoadedWorkflow>();

  constructor(root: LoadedWorkflow) {
    this.#dir = dirname(root.path);
    this.#mapFile = join(this.#dir, 'weft.json');
    this.#map = null;
    if (existsSync(this.#mapFile)) {
      const project = readJson(this.#mapFile, 'project file');
      const workflows = isPlainObject(project) ? project.workflows : undefined;
      if (workflows !== undefined) {
        if (!isPlainObject(workflows) || !Object.values(workflows).every((p) => typeof p === 'string')) {
          throw new CliError(
            `${displayPath(this.#mapFile)}: "workflows" must map workflow ids to file paths.`,
          );
        }
        this.#map = workflows as Record<string, string>;
      }
    }
  }

  /** The places looked at for an id, in order. */
  candidates(id: string): string[] {
    const out: string[] = [];
    const mapped = this.#map?.[id];
    if (mapped !== undefined) out.push(resolve(this.#dir, mapped));
    if (!id.includes('/') && !id.includes('\\') && !id.startsWith('.')) {
      out.push(join(this.#dir, 'workflows', `${id}.json`), join(this.#dir, `${id}.json`));
    }
    return out;
  }

  /** The sub-workflow `id`, or null when no file is found. */
  find(id: string): LoadedWorkflow | null {
    const cached = this.#cache.get(id);
    if (cached !== undefined) return cached;
    const path = this.candidates(id).find((p) => existsSync(p));
    if (path === undefined) return null;
    const loaded = loadWorkflow(displayPath(path));
    this.#cache.set(id, loaded);
    return loaded;
  }

  /** Why `id` was not found, for messages. */
  notFound(id: string): string {
    const looked = this.candidates(id).map(displayPath);
    return (
      `Sub-workflow "${id}" was not found` +
      (looked.length > 0 ? `: looked for ${looked.join(', ')}` : '') +
      (this.#map === null ? '' : ` (and the "workflows" map of ${displayPath(this.#mapFile)})`) +
      '.'
    );
  }

  /**
   * Every sub-workflow reachable from `root` through literal `workflow_id`s, by id. Ids with no file are
   * listed in `missing` (their steps fail when they run).
   */
  scan(root: LoadedWorkflow): { workflows: Map<string, LoadedWorkflow>; missing: string[] } {
    const workflows = new Map<string, LoadedWorkflow>();
    const missing: string[] = [];
    const queue = workflowReferences(root.document);
    while (queue.length > 0) {
      const id = queue.shift()!;
      if (workflows.has(id) || missing.includes(id)) continue;
      const found = this.find(id);
      if (found === null) {
        missing.push(id);
        continue;
      }
      workflows.set(id, found);
      queue.push(...workflowReferences(found.document));
    }
    return { workflows, missing };
  }
}
