/**
 * `MemoryStore`: the default `WeftStore`, in process memory. Each list has its own ordered index
 * (per app, per app and workflow, per workflow, by due date), so a page never scans other apps'
 * records. Records are copied in and out; published versions are deep-frozen and shared.
 *
 * Index keys are `created_at` plus an insertion sequence, so records created in the same millisecond
 * still list newest first in the order they were inserted (a SQL store would use an autoincrement id).
 *
 * Memory is bounded against retention: a purged run keeps its shell (purge.ts) only among the
 * `maxPurgedRuns` most recently purged; older shells are deleted whole, so a long-lived process that
 * sweeps does not grow by one shell per run forever.
 */

import { ERROR_CODES, invalidArgument, WeftError } from '../errors.js';
import type { StepRecord } from '../run/types.js';
import type { RunStatus } from '../statuses.js';
import { copy, deepFreeze } from './copy.js';
import { pageLimit, versionSortKey } from './cursor.js';
import { type FrozenWorkflowReads, MAX_FROZEN_WORKFLOWS } from './frozen-reads.js';
import {
  type AppendOutcome,
  type ClaimRequest,
  type ClaimResult,
  checkAppend,
  checkAppends,
  checkBatch,
  checkClaim,
  checkGroupAppend,
  checkLeaseGrant,
  checkOwnerId,
  checkRecoverableLimit,
  checkTime,
  decideClaim,
  entryData,
  insertedLease,
  isLiveStatus,
  type JournalAppend,
  type JournalBatch,
  type JournalEntry,
  type JournalQuery,
  journalRange,
  type LeaseGrant,
  loadedEntry,
  type RunLease,
  refused,
  runNotFoundInStore,
} from './journal.js';
import {
  checkNoticeRunId,
  checkTopic,
  MAX_NOTICE_RUN_ID,
  NoticeHub,
  type NoticeListener,
  type NoticeTopic,
  type StoreNotices,
} from './notices.js';
import { checkAnnounce, type StorePresence } from './presence.js';
import { purgeRunRow, purgeStepRecord } from './purge.js';
import { SortedIndex } from './sorted-index.js';
import type { RunCondition, WeftStore } from './store.js';
import type {
  ApiKeyRecord,
  AppVariable,
  DiscoverQuery,
  ExpectationPatch,
  ExpectationQuery,
  Page,
  PublishedVersion,
  RunCountQuery,
  RunPatch,
  RunQuery,
  RunRow,
  TestPatch,
  TestQuery,
  VersionQuery,
  Workflow,
  WorkflowExpectation,
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

/**
 * An entry as kept: a deep copy carrying its run's id. One copy of the entry itself — the general
 * `loadedEntry(…, copy(entryData(e)))` made three objects per entry (most of the memory store's cost of
 * an append); a frozen entry, which `copy` would share, takes that way.
 */
function storedEntry(runId: string, e: JournalEntry): JournalEntry {
  if (Object.isFrozen(e)) return loadedEntry(runId, e.seq, e.type, e.at, copy(entryData(e)));
  const stored = copy(e);
  if (stored.run_id !== runId) stored.run_id = runId;
  return stored;
}

export interface MemoryStoreOptions {
  /**
   * How many purged runs keep their shell (docs/retention.md); past it, the shells purged longest ago
   * are deleted whole (the run is then NOT_FOUND). Default 10,000 (a shell is about 2 KB: ~20 MB).
   * `Infinity` keeps every shell.
   */
  maxPurgedRuns?: number;
}

export const DEFAULT_MAX_PURGED_RUNS = 10_000;

/** A run's ownership and journal, beside its row. */
interface RunState {
  owner_id: string | null;
  lease_until: string | null;
  journal: JournalEntry[];
  /** The seq of the last entry (stays when a purge deletes the entries). */
  journal_seq: number;
}

export class MemoryStore implements WeftStore, StoreNotices, StorePresence, FrozenWorkflowReads {
  readonly #maxPurgedRuns: number;
  #seq = 0;
  /** The index key of each workflow, run and test (by id). */
  readonly #keys = new Map<string, string>();
  readonly #workflows = new Map<string, Workflow>();
  /** Deep-frozen copies for `getFrozenWorkflow`, least recently read first; dropped when a workflow changes. */
  readonly #frozenWorkflows = new Map<string, Workflow>();
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

  readonly #expectations = new Map<string, WorkflowExpectation>();
  readonly #expectationsByWorkflow = new Map<string, SortedIndex>();

  readonly #variables = new Map<string, Map<string, AppVariable>>();

  readonly #apiKeys = new Map<string, ApiKeyRecord>();
  readonly #apiKeysByHash = new Map<string, ApiKeyRecord>();
  readonly #state = new Map<string, RunState>();
  /** Ids of live (PENDING or RUNNING) runs: the candidates for recovery. */
  readonly #live = new Set<string>();
  /** Ids of purged runs, oldest purge first. */
  readonly #purged = new Set<string>();
  /** Notices, in-process (docs/durability.md — Notices). */
  readonly #notices = new NoticeHub();

  constructor(options: MemoryStoreOptions = {}) {
    if (options === null || typeof options !== 'object')
      throw invalidArgument('options', 'an object', options);
    const max = options.maxPurgedRuns ?? DEFAULT_MAX_PURGED_RUNS;
    if (!(max === Number.POSITIVE_INFINITY || (Number.isInteger(max) && max >= 0))) {
      throw invalidArgument('maxPurgedRuns', 'an integer ≥ 0 or Infinity', max);
    }
    this.#maxPurgedRuns = max;
  }

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

  async getFrozenWorkflow(id: string): Promise<Workflow | null> {
    const frozen = this.#frozenWorkflows.get(id);
    if (frozen !== undefined) {
      this.#frozenWorkflows.delete(id);
      this.#frozenWorkflows.set(id, frozen);
      return frozen;
    }
    const w = this.#workflows.get(id);
    if (w === undefined) return null;
    const made = deepFreeze(copy(w));
    if (this.#frozenWorkflows.size >= MAX_FROZEN_WORKFLOWS) {
      this.#frozenWorkflows.delete(this.#frozenWorkflows.keys().next().value!);
    }
    this.#frozenWorkflows.set(id, made);
    return made;
  }

  async updateWorkflow(id: string, patch: WorkflowPatch): Promise<Workflow | null> {
    const current = this.#workflows.get(id);
    if (current === undefined) return null;
    this.#frozenWorkflows.delete(id);
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

  async insertRun(run: RunRow, lease?: LeaseGrant): Promise<void> {
    const grant = lease === undefined ? undefined : checkLeaseGrant(lease);
    this.#checkNewRun(run);
    this.#insertRun(run, grant);
  }

  #checkNewRun(run: RunRow): void {
    if (this.#runs.has(run.id)) {
      throw new WeftError(ERROR_CODES.CONFLICT, `A run with id "${run.id}" already exists.`);
    }
  }

  #insertRun(run: RunRow, grant: LeaseGrant | undefined): void {
    const stored = copy(run);
    this.#runs.set(stored.id, stored);
    const owned = grant !== undefined && isLiveStatus(stored.status);
    this.#state.set(stored.id, {
      owner_id: owned ? grant.owner_id : null,
      lease_until: owned ? grant.lease_until : null,
      journal: [],
      journal_seq: 0,
    });
    if (isLiveStatus(stored.status)) this.#live.add(stored.id);
    const key = this.#key('r', stored.id, stored.created_at);
    indexIn(this.#runsByApp, stored.app_id ?? '').insert(key, stored.id);
    if (stored.workflow_id !== null) {
      indexIn(this.#runsByAppWorkflow, `${stored.app_id ?? ''}\0${stored.workflow_id}`).insert(
        key,
        stored.id,
      );
    }
    if (purgeable(stored)) this.#due.insert(stored.retention_due_at!, stored.id);
    if (isLiveStatus(stored.status) && !owned) this.#notice('run.pending', stored.id);
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
    if (!isLiveStatus(next.status)) {
      // A run that has ended has no owner.
      this.#live.delete(next.id);
      const state = this.#state.get(next.id);
      if (state !== undefined) {
        state.owner_id = null;
        state.lease_until = null;
      }
      if (isLiveStatus(current.status)) this.#notice('run.ended', next.id);
    } else this.#live.add(next.id);
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

  // countRuns' own copy of listRuns' index choice and filter (kept apart so listRuns is unchanged).
  #runIndex(query: RunCountQuery): SortedIndex | undefined {
    return query.workflow_id === undefined
      ? this.#runsByApp.get(query.app_id)
      : this.#runsByAppWorkflow.get(`${query.app_id}\0${query.workflow_id}`);
  }

  #runFilter(query: RunCountQuery): ((id: string) => boolean) | undefined {
    const statuses = asSet<RunStatus>(query.status);
    const origins = asSet(query.origin);
    if (statuses === null && origins === null) return undefined;
    return (id: string) => {
      const run = this.#runs.get(id)!;
      return (statuses === null || statuses.has(run.status)) && (origins === null || origins.has(run.origin));
    };
  }

  async countRuns(query: RunCountQuery): Promise<number> {
    const index = this.#runIndex(query);
    if (index === undefined) return 0;
    return index.count({
      min: query.created_after,
      max: query.created_before,
      filter: this.#runFilter(query),
    });
  }

  // Step records are keyed by run id whether or not the run row exists yet (the registry may write a
  // preset record before its insert lands), as before the journal existed.
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
    const state = this.#state.get(id);
    if (state !== undefined) state.journal = [];
    this.#purged.add(id);
    while (this.#purged.size > this.#maxPurgedRuns) this.#forget(this.#purged.values().next().value!);
    return copy(next);
  }

  /** Deletes every trace of a purged run (its shell is past `maxPurgedRuns`). */
  #forget(id: string): void {
    this.#purged.delete(id);
    const run = this.#runs.get(id);
    if (run === undefined) return;
    const key = this.#keyOf('r', id);
    this.#runsByApp.get(run.app_id ?? '')?.remove(key, id);
    if (run.workflow_id !== null) {
      this.#runsByAppWorkflow.get(`${run.app_id ?? ''}\0${run.workflow_id}`)?.remove(key, id);
    }
    if (purgeable(run)) this.#due.remove(run.retention_due_at!, id);
    this.#runs.delete(id);
    this.#steps.delete(id);
    this.#state.delete(id);
    this.#live.delete(id);
    this.#keys.delete(`r:${id}`);
  }

  // ── journal and leases ───────────────────────────────────────────────────────────────────────────

  #lease(id: string): RunLease | null {
    const run = this.#runs.get(id);
    const state = this.#state.get(id);
    if (run === undefined || state === undefined) return null;
    return {
      run_id: id,
      status: run.status,
      owner_id: state.owner_id,
      lease_until: state.lease_until,
      journal_seq: state.journal_seq,
    };
  }

  async appendJournal(runId: string, batch: JournalBatch): Promise<RunLease> {
    const checked = checkBatch(batch, runId);
    const lease = this.#lease(runId);
    if (lease === null) throw runNotFoundInStore(runId);
    checkAppend(lease, checked);
    return this.#apply(runId, checked);
  }

  async appendJournals(appends: readonly JournalAppend[]): Promise<AppendOutcome[]> {
    checkAppends(appends);
    return appends.map((append, i): AppendOutcome => {
      try {
        const { batch, grant } = checkGroupAppend(append, i);
        if (append.insert === undefined || grant === undefined) {
          const lease = this.#lease(append.run_id);
          if (lease === null) throw runNotFoundInStore(append.run_id);
          checkAppend(lease, batch);
        } else {
          // Checked against the lease the run would be inserted with, before anything is written.
          this.#checkNewRun(append.insert);
          checkAppend(insertedLease(append.insert, grant), batch);
          this.#insertRun(append.insert, grant);
        }
        return { ok: true, lease: this.#apply(append.run_id, batch) };
      } catch (error) {
        return refused(error);
      }
    });
  }

  /** Writes a checked batch: entries, step records, run patch, lease. Never throws. */
  #apply(runId: string, checked: JournalBatch): RunLease {
    const entries = checked.entries.map((e) => storedEntry(runId, e));
    const patch = checked.run === undefined ? undefined : copy(checked.run);
    const steps =
      checked.steps === undefined ? [] : Object.entries(checked.steps).map(([k, r]) => [k, copy(r)] as const);
    const state = this.#state.get(runId)!;
    for (const entry of entries) state.journal.push(entry);
    if (entries.length > 0) state.journal_seq = entries[entries.length - 1]!.seq;
    if (checked.lease_until !== undefined) state.lease_until = checked.lease_until;
    let stepMap = this.#steps.get(runId);
    if (stepMap === undefined && steps.length > 0) {
      stepMap = new Map();
      this.#steps.set(runId, stepMap);
    }
    for (const [key, record] of steps) stepMap!.set(key, record);
    if (patch !== undefined) {
      const current = this.#runs.get(runId)!;
      this.#replaceRun(current, { ...current, ...patch });
    }
    return this.#lease(runId)!;
  }

  async loadJournal(runId: string, query?: JournalQuery): Promise<JournalEntry[]> {
    const { after, limit } = journalRange(query);
    const journal = this.#state.get(runId)?.journal ?? [];
    // Seqs are consecutive from journal[0].seq, so the start is found without a search.
    const first = journal[0]?.seq ?? 1;
    const from = Math.max(0, after + 1 - first);
    return journal.slice(from, from + limit).map((e) => copy(e));
  }

  async claimRun(runId: string, claim: ClaimRequest): Promise<ClaimResult> {
    const checked = checkClaim(claim);
    const decision = decideClaim(this.#lease(runId), checked);
    if (decision !== 'GRANT') return decision;
    const state = this.#state.get(runId)!;
    state.owner_id = checked.owner_id;
    state.lease_until = checked.lease_until;
    return { claimed: true, lease: this.#lease(runId)! };
  }

  async renewLeases(ownerId: string, leaseUntil: string, runIds?: readonly string[]): Promise<string[]> {
    checkOwnerId(ownerId, 'ownerId');
    const until = checkTime(leaseUntil, 'leaseUntil');
    if (runIds !== undefined && !Array.isArray(runIds))
      throw invalidArgument('runIds', 'an array of run ids', runIds);
    const renewed: string[] = [];
    for (const id of runIds ?? this.#live) {
      const state = this.#state.get(id);
      if (state === undefined || state.owner_id !== ownerId || !this.#live.has(id)) continue;
      state.lease_until = until;
      renewed.push(id);
    }
    return renewed;
  }

  async releaseRun(runId: string, ownerId: string): Promise<boolean> {
    checkOwnerId(ownerId, 'ownerId');
    const state = this.#state.get(runId);
    if (state === undefined || state.owner_id !== ownerId) return false;
    state.owner_id = null;
    state.lease_until = null;
    if (this.#live.has(runId)) this.#notice('run.pending', runId);
    return true;
  }

  async claimRuns(claim: ClaimRequest, limit: number): Promise<RunLease[]> {
    const checked = checkClaim(claim);
    checkRecoverableLimit(limit);
    // One synchronous pass: no other caller can interleave, so the runs listed are the runs claimed.
    return this.#recoverable(checked.now, limit).map((lease) => {
      const state = this.#state.get(lease.run_id)!;
      state.owner_id = checked.owner_id;
      state.lease_until = checked.lease_until;
      return this.#lease(lease.run_id)!;
    });
  }

  // ── notices ──────────────────────────────────────────────────────────────────────────────────────

  subscribe(topic: NoticeTopic, listener: NoticeListener): () => void {
    return this.#notices.subscribe(topic, listener);
  }

  async notify(topic: NoticeTopic, runId: string): Promise<void> {
    this.#notices.emit(checkTopic(topic), checkNoticeRunId(runId));
  }

  #notice(topic: NoticeTopic, runId: string): void {
    if (runId.length <= MAX_NOTICE_RUN_ID) this.#notices.emit(topic, runId);
  }

  // ── worker presence (presence.ts) ────────────────────────────────────────────────────────────────

  /** Worker owner id → until (ISO). Bounded by the workers alive: a count sweeps the ones run out. */
  readonly #workers = new Map<string, string>();

  async announceWorker(ownerId: string, until: string): Promise<void> {
    const checked = checkAnnounce(ownerId, until);
    this.#workers.set(checked.ownerId, checked.until);
  }

  async withdrawWorker(ownerId: string): Promise<void> {
    this.#workers.delete(checkOwnerId(ownerId, 'ownerId'));
  }

  async countWorkers(now: string): Promise<number> {
    const at = checkTime(now, 'now');
    let alive = 0;
    for (const [id, until] of this.#workers) {
      if (until >= at) alive++;
      else this.#workers.delete(id);
    }
    return alive;
  }

  async getLease(runId: string): Promise<RunLease | null> {
    return this.#lease(runId);
  }

  // Scans the live runs: a memory store holds few of them (they are what is running now).
  async listRecoverableRuns(now: string, limit: number): Promise<RunLease[]> {
    const at = checkTime(now, 'now');
    checkRecoverableLimit(limit);
    return this.#recoverable(at, limit);
  }

  #recoverable(at: string, limit: number): RunLease[] {
    const out: RunLease[] = [];
    for (const id of this.#live) {
      const lease = this.#lease(id)!;
      if (lease.owner_id === null || lease.lease_until === null || lease.lease_until < at) out.push(lease);
    }
    // Unowned first, then the lease that ended first; ties by id, so the order is stable.
    out.sort((a, b) => {
      const ka = a.lease_until ?? '';
      const kb = b.lease_until ?? '';
      if (ka !== kb) return ka < kb ? -1 : 1;
      return a.run_id < b.run_id ? -1 : a.run_id > b.run_id ? 1 : 0;
    });
    return out.slice(0, limit);
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

  // ── the expectation library ──────────────────────────────────────────────────────────────────────

  async insertExpectation(expectation: WorkflowExpectation): Promise<void> {
    if (this.#expectations.has(expectation.id)) {
      throw new WeftError(ERROR_CODES.CONFLICT, `An expectation with id "${expectation.id}" already exists.`);
    }
    const stored = copy(expectation);
    this.#expectations.set(stored.id, stored);
    indexIn(this.#expectationsByWorkflow, stored.workflow_id).insert(
      this.#key('e', stored.id, stored.created_at),
      stored.id,
    );
  }

  async getExpectation(id: string): Promise<WorkflowExpectation | null> {
    const expectation = this.#expectations.get(id);
    return expectation === undefined ? null : copy(expectation);
  }

  async updateExpectation(id: string, patch: ExpectationPatch): Promise<WorkflowExpectation | null> {
    const current = this.#expectations.get(id);
    if (current === undefined) return null;
    const next = { ...current, ...copy(patch) };
    this.#expectations.set(id, next);
    return copy(next);
  }

  async deleteExpectation(id: string): Promise<boolean> {
    const expectation = this.#expectations.get(id);
    if (expectation === undefined) return false;
    this.#expectations.delete(id);
    this.#expectationsByWorkflow.get(expectation.workflow_id)?.remove(this.#keyOf('e', id), id);
    this.#keys.delete(`e:${id}`);
    return true;
  }

  async listExpectations(query: ExpectationQuery): Promise<Page<WorkflowExpectation>> {
    const limit = pageLimit(query);
    const index = this.#expectationsByWorkflow.get(query.workflow_id);
    if (index === undefined) return { data: [], next_cursor: null };
    const search = query.search?.toLowerCase() ?? '';
    const page = index.page({
      cursor: query.cursor,
      limit,
      filter:
        search === '' ? undefined : (id) => this.#expectations.get(id)!.name.toLowerCase().includes(search),
    });
    return {
      data: page.data.map((id) => copy(this.#expectations.get(id)!)),
      next_cursor: page.next_cursor,
    };
  }

  async countExpectations(workflowId: string): Promise<number> {
    return this.#expectationsByWorkflow.get(workflowId)?.count({}) ?? 0;
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

  // ── API keys ─────────────────────────────────────────────────────────────────────────────────────

  async insertApiKey(key: ApiKeyRecord): Promise<void> {
    if (this.#apiKeys.has(key.id) || this.#apiKeysByHash.has(key.hash)) {
      throw new WeftError(
        ERROR_CODES.CONFLICT,
        `An API key with id "${key.id}" (or the same hash) already exists.`,
      );
    }
    const stored = copy(key);
    this.#apiKeys.set(stored.id, stored);
    this.#apiKeysByHash.set(stored.hash, stored);
  }

  async getApiKeyByHash(hash: string): Promise<ApiKeyRecord | null> {
    const key = this.#apiKeysByHash.get(hash);
    return key === undefined ? null : copy(key);
  }

  async listApiKeys(appId: string): Promise<ApiKeyRecord[]> {
    // Insertion order is creation order.
    return [...this.#apiKeys.values()].filter((k) => k.app_id === appId).map(copy);
  }

  async deleteApiKey(id: string): Promise<boolean> {
    const key = this.#apiKeys.get(id);
    if (key === undefined) return false;
    this.#apiKeys.delete(id);
    this.#apiKeysByHash.delete(key.hash);
    return true;
  }
}
