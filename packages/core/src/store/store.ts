/**
 * `WeftStore`: where the registry keeps workflows, versions, runs, step results, tests and variables.
 * Every method is async so that durable stores (SQLite, Postgres) implement the same interface as the
 * in-memory default (`MemoryStore`).
 *
 * Contract for implementations (the tests in memory.test.ts are written against it):
 * - A run's step results are written one by one as each step settles (`saveStepResult`, an upsert
 *   keyed by run id and step key); run-level fields change through `updateRun(id, patch)`. Nothing
 *   ever rewrites a whole-run snapshot.
 * - Every list is an indexed query, newest first, with an opaque cursor (see cursor.ts): workflows by
 *   (app_id, created_at, id); discoverable workflows by (discoverable, created_at, id); versions by
 *   (workflow_id, version); runs by (app_id, created_at, id) and (app_id, workflow_id, created_at, id);
 *   tests and library expectations by (workflow_id, created_at, id); runs due for purge by (retention_due_at, id).
 * - Published versions are immutable: `insertVersion` fails with IMMUTABLE_VERSION when a version with
 *   the same id, or the same (workflow_id, version), exists; there is no update.
 * - Values returned are the caller's to keep: changing them never changes what is stored.
 * - Implementations never interpret app scoping: the registry checks `app_id` on every record it reads.
 * - Journal and leases (journal.ts, docs/durability.md): an append checks the owner and the seqs and
 *   writes the entries with the run patch and step records they imply in one transaction. A run that
 *   ends — through `appendJournal`, `updateRun` or anything else — loses its owner in the same write.
 * - Retention (docs/retention.md): `purgeRun` deletes the run's journal and keeps its shell (purge.ts).
 *
 * The shared contract test suite (`describeStoreContract` in @weft/testing) checks every store against
 * all of this.
 */

import type { StepRecord } from '../run/types.js';
import type { RunStatus } from '../statuses.js';
import type { JournalStore, LeaseGrant } from './journal.js';
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

/** A precondition on `updateRun`: the update applies only when the run's current status is one of these. */
export interface RunCondition {
  status_in?: readonly RunStatus[];
}

export interface WeftStore extends JournalStore {
  // ── workflows ────────────────────────────────────────────────────────────────────────────────────
  /** Fails with CONFLICT when the id exists. */
  insertWorkflow(workflow: Workflow): Promise<void>;
  getWorkflow(id: string): Promise<Workflow | null>;
  /** Applies the patch atomically; null when there is no such workflow. */
  updateWorkflow(id: string, patch: WorkflowPatch): Promise<Workflow | null>;
  /** One app's workflows, newest first (archived ones only with `include_archived`). */
  listWorkflows(query: WorkflowQuery): Promise<Page<Workflow>>;
  /** Discoverable, non-archived workflows of every app, newest first. */
  listDiscoverableWorkflows(query: DiscoverQuery): Promise<Page<Workflow>>;

  // ── versions (immutable) ─────────────────────────────────────────────────────────────────────────
  /** Fails with IMMUTABLE_VERSION when the id or (workflow_id, version) exists. */
  insertVersion(version: PublishedVersion): Promise<void>;
  getVersion(id: string): Promise<PublishedVersion | null>;
  getVersionByNumber(workflowId: string, version: number): Promise<PublishedVersion | null>;
  getLatestVersion(workflowId: string): Promise<PublishedVersion | null>;
  /** Newest (highest number) first. */
  listVersions(query: VersionQuery): Promise<Page<PublishedVersion>>;

  // ── runs ─────────────────────────────────────────────────────────────────────────────────────────
  /**
   * Fails with CONFLICT when the id exists. With `lease`, a live run is inserted already owned (so that
   * no other process can claim it between the insert and a claim); its journal starts empty.
   */
  insertRun(run: RunRow, lease?: LeaseGrant): Promise<void>;
  getRun(id: string): Promise<RunRow | null>;
  /**
   * Applies the patch atomically and returns the updated row; null when there is no such run or the
   * condition does not hold (read the run again to tell which). A patch that ends the run releases its
   * lease.
   */
  updateRun(id: string, patch: RunPatch, condition?: RunCondition): Promise<RunRow | null>;
  /** One app's runs, newest first, filtered. */
  listRuns(query: RunQuery): Promise<Page<RunRow>>;
  /** How many runs `listRuns` would list with these filters, all pages together. */
  countRuns(query: RunCountQuery): Promise<number>;
  /** Upserts the record of one step of one run. */
  saveStepResult(runId: string, key: string, record: StepRecord): Promise<void>;
  /** The step records of each run (one query for a page of runs). Runs without records map to {}. */
  getStepResults(runIds: readonly string[]): Promise<Map<string, Record<string, StepRecord>>>;
  /**
   * Runs whose data is due for purging at `now`: `retention_due_at <= now`, not purged yet, and not
   * (FAILED with `retention.preserve_on_failure`). Oldest due first, at most `limit`.
   */
  listRunsDue(now: string, limit: number): Promise<RunRow[]>;
  /**
   * Purges a run's data (see purge.ts for exactly what goes), deletes its journal and sets `purged_at`.
   * Returns the purged row; null when there is no such run. Purging twice is a no-op.
   */
  purgeRun(id: string, purgedAt: string): Promise<RunRow | null>;

  // ── tests ────────────────────────────────────────────────────────────────────────────────────────
  insertTest(test: WorkflowTest): Promise<void>;
  getTest(id: string): Promise<WorkflowTest | null>;
  updateTest(id: string, patch: TestPatch): Promise<WorkflowTest | null>;
  deleteTest(id: string): Promise<boolean>;
  /** One workflow's tests, newest first. */
  listTests(query: TestQuery): Promise<Page<WorkflowTest>>;

  // ── the expectation library (per workflow) ───────────────────────────────────────────────────────
  /** Fails with CONFLICT when the id exists. */
  insertExpectation(expectation: WorkflowExpectation): Promise<void>;
  getExpectation(id: string): Promise<WorkflowExpectation | null>;
  /** Applies the patch atomically; null when there is no such expectation. */
  updateExpectation(id: string, patch: ExpectationPatch): Promise<WorkflowExpectation | null>;
  deleteExpectation(id: string): Promise<boolean>;
  /** One workflow's expectations, newest first; `search` matches the lowercased name (see ExpectationQuery). */
  listExpectations(query: ExpectationQuery): Promise<Page<WorkflowExpectation>>;
  /** How many expectations the workflow's library holds (the registry caps it). */
  countExpectations(workflowId: string): Promise<number>;

  // ── variables ────────────────────────────────────────────────────────────────────────────────────
  /** Upserts by (appId, key). */
  setVariable(appId: string, variable: AppVariable): Promise<void>;
  /** Every variable of the app, secret values included (the registry hides them), sorted by key. */
  listVariables(appId: string): Promise<AppVariable[]>;
  deleteVariable(appId: string, key: string): Promise<boolean>;

  // ── API keys (the HTTP server's; only their hashes) ──────────────────────────────────────────────
  /** Fails with CONFLICT when the id or the hash exists. */
  insertApiKey(key: ApiKeyRecord): Promise<void>;
  /** The key whose `hash` this is (the server's lookup on every request); null when there is none. */
  getApiKeyByHash(hash: string): Promise<ApiKeyRecord | null>;
  /** One app's keys, oldest first. */
  listApiKeys(appId: string): Promise<ApiKeyRecord[]>;
  deleteApiKey(id: string): Promise<boolean>;
}
