/**
 * `MemoryStore`: the default `WeftStore`, in process memory. Each list has its own ordered index
 * (per app, per app and workflow, per workflow, by due date), so a page never scans other apps'
 * records. Records are copied in and out; published versions are deep-frozen and shared.
 *
 * Index keys are `created_at` plus an insertion sequence, so records created in the same millisecond
 * still list newest first in the order they were inserted (a SQL store would use an autoincrement id).
 */

import { ERROR_CODES, WeftError } from '../errors.js';
import type { StepRecord } from '../run/types.js';
import type { RunStatus } from '../statuses.js';
import { copy, deepFreeze } from './copy.js';
import { pageLimit, versionSortKey } from './cursor.js';
import { purgeRunRow, purgeStepRecord } from './purge.js';
import { SortedIndex } from './sorted-index.js';
import type { RunCondition, WeftStore } from './store.js';
import type {
  AppVariable,
  DiscoverQuery,
  Page,
  PublishedVersion,
  RunPatch,
  RunQuery,
  RunRow,
  TestPatch,
  TestQuery,
  VersionQuery,
  Workflow,
  WorkflowPatch,
  WorkflowQuery,
  WorkflowTest,
} from './types.js';

function indexIn(map: Map<string, SortedIndex>, key: string): SortedIndex {
  let index = map.get(key);
  if (index === undefined) {
    index = new SortedIndex();
    map.set(key, index);
  }
  return index;
}

function asSet<T>(value: T | readonly T[] | undefined): Set<T> | null {
  if (value === undefined) return null;
  return new Set(Array.isArray(value) ? (value as readonly T[]) : [value as T]);
}

/** Whether a run belongs in the due index. */
function purgeable(run: RunRow): boolean {
  return (
    run.retention_due_at !== null &&
    run.purged_at === null &&
    !(run.status === 'FAILED' && run.retention?.preserve_on_failure === true)
  );
}

export class MemoryStore implements WeftStore {
  #seq = 0;
  /** The index key of each workflow, run and test (by id). */
  readonly #keys = new Map<string, string>();
  readonly #workflows = new Map<string, Workflow>();
  readonly #workflowsByApp = new Map<string, SortedIndex>();
  readonly #discoverable = new SortedIndex();

  readonly #versions = new Map<string, PublishedVersion>();
  /** workflow id → version number → version. */
  readonly #versionsByWorkflow = new Map<string, Map<number, PublishedVersion>>();
  readonly #versionIndex = new Map<string, SortedIndex>();

  readonly #runs = new Map<string, RunRow>();
  readonly #runsByApp = new Map<string, SortedIndex>();
  readonly #runsByAppWorkflow = new Map<string, SortedIndex>();
  readonly #due = new SortedIndex();
  readonly #steps = new Map<string, Map<string, StepRecord>>();

  readonly #tests = new Map<string, WorkflowTest>();
  readonly #testsByWorkflow = new Map<string, SortedIndex>();

  readonly #variables = new Map<string, Map<string, AppVariable>>();

  #key(kind: string, id: string, createdAt: string): string {
    const key = `${createdAt}#${(++this.#seq).toString(36).padStart(10, '0')}`;
    this.#keys.set(`${kind}:${id}`, key);
    return key;
  }

  #keyOf(kind: string, id: string): string {
    return this.#keys.get(`${kind}:${id}`)!;
  }

  // ── workflows ────────────────────────────────────────────────────────────────────────────────────

  async insertWorkflow(workflow: Workflow): Promise<void> {
    if (this.#workflows.has(workflow.id)) {
      throw new WeftError(ERROR_CODES.CONFLICT, `A workflow with id "${workflow.id}" already exists.`);
    }
    const stored = copy(workflow);
    this.#workflows.set(stored.id, stored);
    indexIn(this.#workflowsByApp, stored.app_id).insert(
      this.#key('w', stored.id, stored.created_at),
      stored.id,
    );
    this.#indexDiscoverable(stored);
  }

  #indexDiscoverable(w: Workflow): void {
    const key = this.#keyOf('w', w.id);
    if (w.discoverable && w.archived_at === null) this.#discoverable.insert(key, w.id);
    else this.#discoverable.remove(key, w.id);
  }

  async getWorkflow(id: string): Promise<Workflow | null> {
    const w = this.#workflows.get(id);
    return w === undefined ? null : copy(w);
  }

  async updateWorkflow(id: string, patch: WorkflowPatch): Promise<Workflow | null> {
    const current = this.#workflows.get(id);
    if (current === undefined) return null;
    const next: Workflow = { ...current, ...copy(patch) };
    this.#workflows.set(id, next);
    this.#indexDiscoverable(next);
    return copy(next);
  }

  async listWorkflows(query: WorkflowQuery): Promise<Page<Workflow>> {
    const limit = pageLimit(query);
    const index = this.#workflowsByApp.get(query.app_id);
    if (index === undefined) return { data: [], next_cursor: null };
    const page = index.page({
      cursor: query.cursor,
      limit,
      filter:
        query.include_archived === true ? undefined : (id) => this.#workflows.get(id)!.archived_at === null,
    });
    return { data: page.data.map((id) => copy(this.#workflows.get(id)!)), next_cursor: page.next_cursor };
  }

  async listDiscoverableWorkflows(query: DiscoverQuery): Promise<Page<Workflow>> {
    const limit = pageLimit(query);
    const exclude = query.exclude_app_id;
    const page = this.#discoverable.page({
      cursor: query.cursor,
      limit,
      filter: exclude === undefined ? undefined : (id) => this.#workflows.get(id)!.app_id !== exclude,
    });
    return { data: page.data.map((id) => copy(this.#workflows.get(id)!)), next_cursor: page.next_cursor };
  }

  // ── versions ─────────────────────────────────────────────────────────────────────────────────────

  async insertVersion(version: PublishedVersion): Promise<void> {
    const byNumber = this.#versionsByWorkflow.get(version.workflow_id);
    if (this.#versions.has(version.id) || byNumber?.has(version.version) === true) {
      throw new WeftError(
        ERROR_CODES.IMMUTABLE_VERSION,
        `Version ${version.version} (id "${version.id}") of workflow "${version.workflow_id}" already exists and published versions never change. Publish a new version instead.`,
        { details: { workflow_id: version.workflow_id, version: version.version, id: version.id } },
      );
    }
    const stored = deepFreeze(copy(version));
    this.#versions.set(stored.id, stored);
    let map = byNumber;
    if (map === undefined) {
      map = new Map();
      this.#versionsByWorkflow.set(stored.workflow_id, map);
    }
    map.set(stored.version, stored);
    indexIn(this.#versionIndex, stored.workflow_id).insert(versionSortKey(stored.version), stored.id);
  }

  async getVersion(id: string): Promise<PublishedVersion | null> {
    return this.#versions.get(id) ?? null;
  }

  async getVersionByNumber(workflowId: string, version: number): Promise<PublishedVersion | null> {
    return this.#versionsByWorkflow.get(workflowId)?.get(version) ?? null;
  }

  async getLatestVersion(workflowId: string): Promise<PublishedVersion | null> {
    const last = this.#versionIndex.get(workflowId)?.last();
    return last === undefined ? null : this.#versions.get(last.id)!;
  }

  async listVersions(query: VersionQuery): Promise<Page<PublishedVersion>> {
    const limit = pageLimit(query);
    const index = this.#versionIndex.get(query.workflow_id);
    if (index === undefined) return { data: [], next_cursor: null };
    const page = index.page({ cursor: query.cursor, limit });
    return { data: page.data.map((id) => this.#versions.get(id)!), next_cursor: page.next_cursor };
  }

  // ── runs ─────────────────────────────────────────────────────────────────────────────────────────

  async insertRun(run: RunRow): Promise<void> {
    if (this.#runs.has(run.id)) {
      throw new WeftError(ERROR_CODES.CONFLICT, `A run with id "${run.id}" already exists.`);
    }
    const stored = copy(run);
    this.#runs.set(stored.id, stored);
    const key = this.#key('r', stored.id, stored.created_at);
    indexIn(this.#runsByApp, stored.app_id ?? '').insert(key, stored.id);
    if (stored.workflow_id !== null) {
      indexIn(this.#runsByAppWorkflow, `${stored.app_id ?? ''}\0${stored.workflow_id}`).insert(
        key,
        stored.id,
      );
    }
    if (purgeable(stored)) this.#due.insert(stored.retention_due_at!, stored.id);
  }

  async getRun(id: string): Promise<RunRow | null> {
    const run = this.#runs.get(id);
    return run === undefined ? null : copy(run);
  }

  async updateRun(id: string, patch: RunPatch, condition?: RunCondition): Promise<RunRow | null> {
    const current = this.#runs.get(id);
    if (current === undefined) return null;
    if (condition?.status_in !== undefined && !condition.status_in.includes(current.status)) return null;
    const next: RunRow = { ...current, ...copy(patch) };
    this.#replaceRun(current, next);
    return copy(next);
  }

  #replaceRun(current: RunRow, next: RunRow): void {
    if (purgeable(current)) this.#due.remove(current.retention_due_at!, current.id);
    this.#runs.set(next.id, next);
    if (purgeable(next)) this.#due.insert(next.retention_due_at!, next.id);
  }

  async listRuns(query: RunQuery): Promise<Page<RunRow>> {
    const limit = pageLimit(query);
    const index =
      query.workflow_id === undefined
        ? this.#runsByApp.get(query.app_id)
        : this.#runsByAppWorkflow.get(`${query.app_id}\0${query.workflow_id}`);
    if (index === undefined) return { data: [], next_cursor: null };
    const statuses = asSet<RunStatus>(query.status);
    const origins = asSet(query.origin);
    const filter =
      statuses === null && origins === null
        ? undefined
        : (id: string) => {
            const run = this.#runs.get(id)!;
            return (
              (statuses === null || statuses.has(run.status)) && (origins === null || origins.has(run.origin))
            );
          };
    const page = index.page({
      cursor: query.cursor,
      limit,
      min: query.created_after,
      max: query.created_before,
      filter,
    });
    return { data: page.data.map((id) => copy(this.#runs.get(id)!)), next_cursor: page.next_cursor };
  }

  async saveStepResult(runId: string, key: string, record: StepRecord): Promise<void> {
    let steps = this.#steps.get(runId);
    if (steps === undefined) {
      steps = new Map();
      this.#steps.set(runId, steps);
    }
    steps.set(key, copy(record));
  }

  async getStepResults(runIds: readonly string[]): Promise<Map<string, Record<string, StepRecord>>> {
    const out = new Map<string, Record<string, StepRecord>>();
    for (const id of runIds) {
      const record: Record<string, StepRecord> = {};
      for (const [key, step] of this.#steps.get(id) ?? []) record[key] = copy(step);
      out.set(id, record);
    }
    return out;
  }

  async listRunsDue(now: string, limit: number): Promise<RunRow[]> {
    return this.#due.ascendingUpTo(now, limit).map((id) => copy(this.#runs.get(id)!));
  }

  async purgeRun(id: string, purgedAt: string): Promise<RunRow | null> {
    const current = this.#runs.get(id);
    if (current === undefined) return null;
    if (current.purged_at !== null) return copy(current);
    const next = purgeRunRow(current, purgedAt);
    this.#replaceRun(current, next);
    const steps = this.#steps.get(id);
    if (steps !== undefined) for (const [key, record] of steps) steps.set(key, purgeStepRecord(record));
    return copy(next);
  }

  // ── tests ────────────────────────────────────────────────────────────────────────────────────────

  async insertTest(test: WorkflowTest): Promise<void> {
    if (this.#tests.has(test.id)) {
      throw new WeftError(ERROR_CODES.CONFLICT, `A test with id "${test.id}" already exists.`);
    }
    const stored = copy(test);
    this.#tests.set(stored.id, stored);
    indexIn(this.#testsByWorkflow, stored.workflow_id).insert(
      this.#key('t', stored.id, stored.created_at),
      stored.id,
    );
  }

  async getTest(id: string): Promise<WorkflowTest | null> {
    const test = this.#tests.get(id);
    return test === undefined ? null : copy(test);
  }

  async updateTest(id: string, patch: TestPatch): Promise<WorkflowTest | null> {
    const current = this.#tests.get(id);
    if (current === undefined) return null;
    const next = { ...current, ...copy(patch) };
    this.#tests.set(id, next);
    return copy(next);
  }

  async deleteTest(id: string): Promise<boolean> {
    const test = this.#tests.get(id);
    if (test === undefined) return false;
    this.#tests.delete(id);
    this.#testsByWorkflow.get(test.workflow_id)?.remove(this.#keyOf('t', id), id);
    this.#keys.delete(`t:${id}`);
    return true;
  }

  async listTests(query: TestQuery): Promise<Page<WorkflowTest>> {
    const limit = pageLimit(query);
    const index = this.#testsByWorkflow.get(query.workflow_id);
    if (index === undefined) return { data: [], next_cursor: null };
    const page = index.page({ cursor: query.cursor, limit });
    return { data: page.data.map((id) => copy(this.#tests.get(id)!)), next_cursor: page.next_cursor };
  }

  // ── variables ────────────────────────────────────────────────────────────────────────────────────

  async setVariable(appId: string, variable: AppVariable): Promise<void> {
    let vars = this.#variables.get(appId);
    if (vars === undefined) {
      vars = new Map();
      this.#variables.set(appId, vars);
    }
    vars.set(variable.key, copy(variable));
  }

  async listVariables(appId: string): Promise<AppVariable[]> {
    const vars = [...(this.#variables.get(appId)?.values() ?? [])];
    vars.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    return vars.map(copy);
  }

  async deleteVariable(appId: string, key: string): Promise<boolean> {
    return this.#variables.get(appId)?.delete(key) ?? false;
  }
}
