/**
 * The public shape of the registry: `createWeft(options)` returns a `Weft`; `weft.app(appId)` returns
 * an `AppClient` whose methods map one to one to the Workflows API operations (docs/api.md has the table).
 * Every method is scoped to the app: another app's workflows, versions and runs are NOT_FOUND, except
 * discoverable workflows through `discover`.
 */

import type { ErrorRecord } from '../errors.js';
import type { CreatedBy, WorkflowVersionDraft } from '../model/types.js';
import type { Engine } from '../run/engine.js';
import type { RunHandle } from '../run/handle.js';
import type { EngineOptions, WorkflowResolver } from '../run/options.js';
import type { Retention, RunOrigin } from '../run/types.js';
import type { RunStatus } from '../statuses.js';
import type { WeftStore } from '../store/store.js';
import type {
  DiscoverableWorkflow,
  Page,
  PageQuery,
  PublishedVersion,
  RunRecord,
  TestExpectation,
  TestsStats,
  Workflow,
  WorkflowExpectation,
  WorkflowTest,
} from '../store/types.js';
import type { OwnerOptions } from './owner.js';
import type { WorkerOptions } from './worker-options.js';

/** What `weft.recover()` did (docs/durability.md, "Recovery"). */
export interface RecoverResult {
  /** Runs now resumed in this process. */
  resumed: string[];
  /**
   * Runs that could not be resumed here (`error`: RESUME_FAILED): they ended FAILED with that error — or
   * CANCELLED with the caller's reason when their row held a cancel request (`error.details.status`).
   */
  failed: Array<{ run_id: string; error: ErrorRecord }>;
}

/** `weft.suspend(options)` (docs/api.md, docs/durability.md "Suspending"). */
export interface SuspendOptions {
  /**
   * How long the steps running when `suspend` is called may take to settle, in ms (0 to 3,600,000).
   * At its end the executions still in flight are abandoned, as after a lost lease: they run again when
   * the run is resumed. Default 10,000.
   */
  graceMs?: number;
}

/** What `weft.suspend()` did with the runs in progress here. */
export interface SuspendResult {
  /** Runs left RUNNING in the store without an owner: the next Weft with recovery on it resumes them. */
  suspended: string[];
  /** Runs that ended meanwhile (their last running steps completed them, or they were ending). */
  ended: string[];
  /** Runs cancelled instead: not yet in the store (still PENDING, auto-filling their input). */
  cancelled: string[];
}

export interface WeftOptions extends Omit<EngineOptions, 'workflows' | 'journal'> {
  /**
   * Where everything is kept. Default: a new MemoryStore. Every run is journaled to it as it goes, under
   * a lease of this Weft (docs/durability.md).
   */
  store?: WeftStore;
  /** This Weft as an owner of the runs it executes: its id, the lease and the heartbeat (docs/durability.md). */
  owner?: OwnerOptions;
  /**
   * Resume the runs whose process died (live in the store, their owner's lease ended): when the Weft
   * opens, every `intervalMs` (default `owner.leaseMs / 3`), and when `runs.wait` meets one. Default true
   * with a store given, false with the default MemoryStore (nobody else writes it). With `false`, only
   * `weft.recover()` resumes runs. The Weft must be able to run them: the same step types, providers and
   * services as the process that started them.
   */
  recover?: boolean | { intervalMs?: number };
  /**
   * Workers on a shared store (docs/durability.md, "Workers"). `{ concurrency, pollMs }`: this Weft also
   * executes the runs other processes enqueued and those whose process died — claimed with
   * `store.claimRuns`, at most `concurrency` runs at once (default 10), looked for on `run.pending`
   * notices and every `pollMs` (default `owner.leaseMs / 3`); a `run.cancel` notice cancels a run
   * executing here. `false`: a client only — runs are enqueued (PENDING, unowned) for the workers and
   * waited for, never executed here (`recover` then defaults to false). Default: neither (every run
   * executes where it starts).
   */
  worker?: WorkerOptions | false;
  /**
   * A client-only Weft (`worker: false`): a wait for one of its runs (`runs.wait`, a foreground
   * `runs.run`) fails NO_WORKER when the run stayed PENDING and unclaimed this many ms and the store's
   * worker presence says no worker is alive (stores without presence wait on). The run stays enqueued;
   * the call's `signal`, if any, still cancels it until it has ended or this Weft closes.
   * Default `owner.leaseMs` (15,000); `Infinity` waits as long as it takes. Ignored by other Wefts.
   */
  noWorkerMs?: number;
  /** Retention of runs whose workflow has none (a number is max_age_in_seconds). Default: keep forever. */
  retention?: Retention | number | null;
  /** Sweep retention every this many ms (the timer is unref'd; `close()` stops it). Default: no timer. */
  sweepIntervalMs?: number;
  /**
   * Called when a store call fails outside a caller's request (a heartbeat, an end written again later,
   * a recovery pass) and for each run that could not be resumed (`operation: "resume"`). A failed journal
   * append is not reported here: the run itself ends FAILED with STORE_ERROR. Default: a process warning.
   */
  onStoreError?: (error: unknown, context: { operation: string; run_id?: string }) => void;
  /**
   * Resolves `workflow` steps whose `workflow_id` is not in the store (e.g. the CLI's workflow files).
   * Default: none — such a step fails NOT_FOUND.
   */
  workflows?: WorkflowResolver;
}

export interface SweepResult {
  /** Ids of the runs whose data was purged by this sweep. */
  purged: string[];
}

export interface Weft {
  readonly engine: Engine;
  readonly store: WeftStore;
  /** Everything an app can do, scoped to it. */
  app(appId: string): AppClient;
  /** Purges the data of every run due at `now` (default: the clock's now). */
  sweep(now?: Date | number | string): Promise<SweepResult>;
  /** This Weft's owner id in the store (`owner.id`, or the one generated). */
  readonly ownerId: string;
  /**
   * Resumes, in this process, the runs whose owner's lease has ended (or only `runIds`, if nobody holds
   * them): each is claimed, then resumed from its journal. Runs that cannot be resumed here end FAILED
   * with RESUME_FAILED.
   */
  recover(runIds?: readonly string[]): Promise<RecoverResult>;
  /** Resolves once every journal entry written so far is in the store. */
  idle(): Promise<void>;
  /**
   * Stops the retention and recovery timers and waits for the journal entries written so far. Runs in
   * flight keep running (and their leases renewed) until they end.
   */
  close(): Promise<void>;
  /**
   * Closes this Weft and suspends every run in progress here, so that another Weft on the store (the next
   * process) resumes them (docs/durability.md, "Suspending"): this Weft starts and resumes no run any
   * more; no step starts that was not already running; the running ones get `graceMs` to settle, then the
   * executions still in flight are abandoned; each run's journal is flushed and its lease released, no
   * end written — it stays RUNNING in the store, unowned. Meant for a process that is about to exit, on a
   * store another process can open: on a MemoryStore nothing outlives the process, cancel runs instead.
   */
  suspend(options?: SuspendOptions): Promise<SuspendResult>;
}

// ── workflows ─────────────────────────────────────────────────────────────────────────────────────

export interface CreateWorkflowInput {
  name: string;
  description?: string | null;
  discoverable?: boolean;
  /** Default retention of the workflow's runs. */
  retention?: Retention | number | null;
  /** The initial draft. Default `{ steps: [] }`. */
  draft?: WorkflowVersionDraft;
  /** Fixes the id (default: generated). */
  id?: string;
}

export interface UpdateWorkflowInput {
  name?: string;
  description?: string | null;
  discoverable?: boolean;
  retention?: Retention | number | null;
}

export interface ListWorkflowsQuery extends PageQuery {
  include_archived?: boolean;
}

export interface WorkflowsApi {
  create(input: CreateWorkflowInput): Promise<Workflow>;
  /** Get a Workflow. */
  get(workflowId: string): Promise<Workflow>;
  /** Get Workflows: newest first. */
  list(query?: ListWorkflowsQuery): Promise<Page<Workflow>>;
  update(workflowId: string, patch: UpdateWorkflowInput): Promise<Workflow>;
  /** Replaces the draft (runs already started keep the snapshot they pinned). */
  updateDraft(workflowId: string, draft: WorkflowVersionDraft): Promise<Workflow>;
  /** Hides the workflow from lists and discovery; it can no longer be run, edited or published. */
  archive(workflowId: string): Promise<Workflow>;
  restore(workflowId: string): Promise<Workflow>;
}

// ── versions ──────────────────────────────────────────────────────────────────────────────────────

/** `"latest"`, a version number, or a version id. */
export type PublishedVersionRef = 'latest' | number | string;
/** What to run: a published version, or `"draft"` (the draft as it is at start). Default `"latest"`. */
export type VersionRef = PublishedVersionRef | 'draft';

export interface PublishInput {
  notes?: string | null;
  /** Default: the workflow's description. */
  description?: string | null;
  created_by?: CreatedBy | null;
}

export interface VersionsApi {
  /** Validates the draft and publishes it as the next version number. */
  publish(workflowId: string, input?: PublishInput): Promise<PublishedVersion>;
  /** Get Workflow Versions: highest number first. */
  list(workflowId: string, query?: PageQuery): Promise<Page<PublishedVersion>>;
  /** Get a Workflow Version: by number, id or "latest". */
  get(workflowId: string, ref: PublishedVersionRef): Promise<PublishedVersion>;
  /** Publishes a new version with version `version`'s document and `rollback_version: version`. */
  rollback(workflowId: string, version: number, input?: PublishInput): Promise<PublishedVersion>;
  /** Always fails with IMMUTABLE_VERSION (NOT_FOUND if there is no such version): versions never change. */
  update(workflowId: string, ref: PublishedVersionRef, patch: unknown): Promise<never>;
}

// ── runs ──────────────────────────────────────────────────────────────────────────────────────────

export interface RunWorkflowInput {
  /** Default "latest". Discoverable workflows cannot run "draft". */
  version?: VersionRef;
  input?: Record<string, unknown>;
  from_step_key?: string;
  /** This run's retention (else the workflow's, else the engine's). */
  retention?: Retention | number | null;
  origin?: RunOrigin;
  collection_id?: string | null;
  record_id?: string | null;
  /** Return the run at once (RUNNING) instead of when it ends. */
  background?: boolean;
  /**
   * Aborting it cancels the run (docs/semantics.md, "Cancellation"): a foreground call then resolves with
   * the run CANCELLED (or as it ended, when its end won the race). Already aborted: the run is created
   * CANCELLED, never begun. On a client-only Weft (`worker: false`) the run is cancelled on the worker
   * executing it (docs/durability.md, "Workers"). The run records the signal's reason (an Error's
   * message or a string, else "Cancelled by the caller."; at most 1,000 characters) as its `error`.
   */
  signal?: AbortSignal;
  /**
   * Called synchronously with the run's handle once the run exists, before its first step: subscribe
   * to its events (`handle.on`) here to miss none (the HTTP server streams runs this way). Not called
   * when the run cannot start (unknown workflow, invalid input or document). If it throws, the error
   * is reported as a process warning and the run goes on.
   */
  onStart?: (handle: RunHandle) => void;
}

export interface ListRunsQuery extends PageQuery {
  workflow_id?: string;
  status?: RunStatus | readonly RunStatus[];
  origin?: RunOrigin | readonly RunOrigin[];
  /** Inclusive. */
  created_after?: Date | string | number;
  /** Exclusive. */
  created_before?: Date | string | number;
}

export interface ReplayInput {
  /** Keep the original records of the steps not downstream of this step; run the rest again. */
  from_step_key?: string;
  /** The platform's name for `from_step_key` (its ReplayRunSchema); give either, or both equal. */
  stepKey?: string;
  background?: boolean;
  /** Default: the original run's retention. */
  retention?: Retention | number | null;
  /** Default: the original run's origin. */
  origin?: RunOrigin;
  /** As `RunWorkflowInput.signal`. */
  signal?: AbortSignal;
  /** As `RunWorkflowInput.onStart`. */
  onStart?: (handle: RunHandle) => void;
}

export interface RunsApi {
  /** Run a Workflow. */
  run(workflowId: string, input?: RunWorkflowInput): Promise<RunRecord>;
  /** Get a Workflow Run. */
  get(runId: string): Promise<RunRecord>;
  /** Get Workflow Runs: newest first. */
  list(query?: ListRunsQuery): Promise<Page<RunRecord>>;
  /**
   * Cancel a Workflow Run: PENDING or RUNNING → CANCELLED; an ended run fails with NOT_CANCELLABLE. The
   * run records `reason` (default "Cancelled through the registry."; at most 1,000 characters, a longer
   * one cut with "…") as its `error` (code CANCELLED), wherever it executes.
   */
  cancel(runId: string, reason?: string): Promise<RunRecord>;
  /** Replay a Workflow Run: a new run of the same pinned version and input, linked by `replay_of`. */
  replay(runId: string, input?: ReplayInput): Promise<RunRecord>;
  /** Update Run Data Retention Configuration: sets the run's retention and recomputes `retention_due_at`. */
  updateRetention(runId: string, retention: Retention | number): Promise<RunRecord>;
  /**
   * Resolves with the run once it has ended and been stored — wherever it runs: in this process, in
   * another one sharing the store (polled), or, when its process died, here once resumed (RUN_ORPHANED
   * with `recover: false`).
   */
  wait(runId: string): Promise<RunRecord>;
}

// ── discover ──────────────────────────────────────────────────────────────────────────────────────

export interface DiscoverApi {
  /** Discover Workflows: other apps' discoverable workflows, newest first. */
  list(query?: PageQuery): Promise<Page<DiscoverableWorkflow>>;
  /** Get Discoverable Workflow. */
  get(workflowId: string): Promise<DiscoverableWorkflow>;
  /** The published versions of a discoverable workflow, highest first. */
  listVersions(workflowId: string, query?: PageQuery): Promise<Page<PublishedVersion>>;
  /** Get Discoverable Workflow Version (published only: "draft" is FORBIDDEN). */
  getVersion(workflowId: string, ref: PublishedVersionRef): Promise<PublishedVersion>;
  /** Run Discoverable Workflow: the run's `app_id` is this app, `workflow_app_id` the owner's. */
  run(workflowId: string, input?: RunWorkflowInput): Promise<RunRecord>;
  /** Cancel a Discoverable Workflow Run (one of this app's runs of that workflow). */
  cancel(workflowId: string, runId: string, reason?: string): Promise<RunRecord>;
}

// ── tests ─────────────────────────────────────────────────────────────────────────────────────────

/**
 * An expectation of a test: its own `script`, or `expectation_id` naming an expectation of the workflow's
 * library (then the library's script runs, and a `script` given beside it is ignored; `name` defaults to
 * the library expectation's name).
 */
export type TestExpectationInput = Omit<TestExpectation, 'name' | 'script'> & {
  name?: string;
  script?: string;
};

export interface CreateTestInput {
  name: string;
  input?: Record<string, unknown>;
  step_key?: string | null;
  expectations?: TestExpectationInput[];
}

export type UpdateTestInput = Partial<CreateTestInput>;

/** `all` runs every test; `failed` runs the tests whose last status is FAILED; `expectations` runs nothing
 * and evaluates each test's expectations against its last run again. */
export const TEST_RUN_MODES = ['all', 'failed', 'expectations'] as const;
export type TestRunMode = (typeof TEST_RUN_MODES)[number];

/** How one test runs (the platform's RunWorkflowTestSchema). */
export interface RunTestInput {
  /** The version the test runs. Default "draft". */
  version?: VersionRef;
  /** The platform's field: this version number (same as `version: n`; both given and different: INVALID_ARGUMENT). */
  workflow_version_number?: number;
  /** Return at once with the test RUNNING; `tests.wait(testId)` resolves when it has finished. */
  execute_async?: boolean;
  /** Run nothing: evaluate the expectations against the test's last run again (`mode: "expectations"`). */
  execute_expectations_only?: boolean;
}

/** How a workflow's tests run (the platform's RunWorkflowTestsSchema, plus Weft's `mode` and `test_ids`). */
export interface RunTestsInput extends RunTestInput {
  mode?: TestRunMode;
  /** The platform's field: only the tests whose last status is FAILED (`mode: "failed"`). */
  execute_failed_only?: boolean;
  /** Only these tests (default: every test the mode selects). */
  test_ids?: readonly string[];
}

export interface TestRunReport {
  /** The tests that were run (or re-evaluated), with their new status and results (RUNNING when async). */
  tests: WorkflowTest[];
  stats: TestsStats;
}

/** A library expectation: a name (1–256 characters) and a script in the workflow's language. */
export interface CreateExpectationInput {
  name: string;
  script: string;
}

export type UpdateExpectationInput = Partial<CreateExpectationInput>;

export interface ExpectationListQuery extends PageQuery {
  /** Only expectations whose name contains this text (case-insensitive). */
  search?: string;
}

/**
 * The workflow's expectation library (the platform's `/tests/expectations`): named scripts that its tests
 * reference by `expectation_id`. Deleting one leaves the tests that reference it in place: their next
 * run fails that expectation (code NOT_FOUND) until the test is updated.
 */
export interface ExpectationsApi {
  create(workflowId: string, input: CreateExpectationInput): Promise<WorkflowExpectation>;
  get(expectationId: string): Promise<WorkflowExpectation>;
  /** Newest first. */
  list(workflowId: string, query?: ExpectationListQuery): Promise<Page<WorkflowExpectation>>;
  update(expectationId: string, patch: UpdateExpectationInput): Promise<WorkflowExpectation>;
  delete(expectationId: string): Promise<void>;
}

export interface TestsApi {
  /** The workflow-level expectation library its tests reference by `expectation_id`. */
  readonly expectations: ExpectationsApi;
  /** A new test has status DRAFT. */
  create(workflowId: string, input: CreateTestInput): Promise<WorkflowTest>;
  get(testId: string): Promise<WorkflowTest>;
  list(workflowId: string, query?: PageQuery): Promise<Page<WorkflowTest>>;
  update(testId: string, patch: UpdateTestInput): Promise<WorkflowTest>;
  delete(testId: string): Promise<void>;
  /** Run Tests: every test of the workflow (or those `mode` / `execute_failed_only` / `test_ids` select). */
  run(workflowId: string, input?: RunTestsInput): Promise<TestRunReport>;
  /** Run a workflow test: one test. */
  runTest(testId: string, input?: RunTestInput): Promise<WorkflowTest>;
  /** Get Tests Stats: the platform's counts over the workflow's tests. */
  stats(workflowId: string): Promise<TestsStats>;
  /** Resolves with the test once it is no longer RUNNING (after `execute_async`). */
  wait(testId: string): Promise<WorkflowTest>;
}

// ── variables ─────────────────────────────────────────────────────────────────────────────────────

/** A variable as listed: secret values are never returned. */
export interface VariableView {
  key: string;
  secret: boolean;
  /** Absent when `secret`. */
  value?: unknown;
  created_at: string;
  updated_at: string;
}

export interface VariablesApi {
  set(key: string, value: unknown, options?: { secret?: boolean }): Promise<VariableView>;
  list(): Promise<VariableView[]>;
  delete(key: string): Promise<void>;
}

export interface AppClient {
  readonly app_id: string;
  readonly workflows: WorkflowsApi;
  readonly versions: VersionsApi;
  readonly runs: RunsApi;
  readonly discover: DiscoverApi;
  readonly tests: TestsApi;
  readonly variables: VariablesApi;
}
