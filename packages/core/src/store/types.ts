/**
 * The records a `WeftStore` keeps: workflows, their immutable published versions, runs (run-level fields
 * and, separately, one record per step), tests and per-app variables. Field names follow the Workflows
 * API (snake_case). Timestamps are ISO 8601 strings.
 */

import type { CreatedBy, WorkflowVersion, WorkflowVersionDraft } from '../model/types.js';
import type { Retention, Run, RunOrigin } from '../run/types.js';
import type { RunStatus } from '../statuses.js';

export interface Workflow {
  id: string;
  /** The app that owns the workflow. */
  app_id: string;
  name: string;
  description: string | null;
  /** Other apps can discover, read (published versions only) and run it. */
  discoverable: boolean;
  /** Default retention of its runs (a run's own `retention` wins; else the engine's default). */
  retention: Retention | null;
  /** The editable document. Runs of `version: "draft"` pin a snapshot of it. */
  draft: WorkflowVersionDraft;
  /** The number of the latest published version, null before the first publish. */
  latest_version: number | null;
  tests_stats: TestsStats | null;
  archived_at: string | null;
  created_at: string;
  updated_at: string;
}

/** A workflow as other apps see it (Discover): no draft, no tests. */
export type DiscoverableWorkflow = Omit<Workflow, 'draft' | 'tests_stats'>;

/** Fields of a workflow that can change after creation. */
export type WorkflowPatch = Partial<
  Pick<
    Workflow,
    | 'name'
    | 'description'
    | 'discoverable'
    | 'retention'
    | 'draft'
    | 'latest_version'
    | 'tests_stats'
    | 'archived_at'
  >
> & { updated_at: string };

/** A published version: immutable once written (deep-frozen in memory; never updated by any store). */
export type PublishedVersion = WorkflowVersion & {
  id: string;
  app_id: string;
  workflow_id: string;
  version: number;
  description: string | null;
  rollback_version: number | null;
  notes: string | null;
  created_by: CreatedBy | null;
  created_at: string;
};

/** A run as the registry returns it: the engine's `Run` plus when its data was purged. */
export interface RunRecord extends Run {
  replay_of: string | null;
  /** When retention purged the run's data (input, outputs, logs, error details); null while kept. */
  purged_at: string | null;
}

/** A run's row: every run-level field. Step records are stored one by one (`saveStepResult`). */
export type RunRow = Omit<RunRecord, 'output'>;

/** Run-level fields that change after the run is created. */
export type RunPatch = Partial<
  Pick<
    RunRow,
    | 'status'
    | 'result'
    | 'error'
    /** Set when the run begins with input fields a model filled (run/auto-fill.ts). */
    | 'input'
    | 'started_at'
    | 'ended_at'
    | 'usage'
    | 'retention'
    | 'retention_due_at'
    | 'updated_at'
  >
>;

/** A test's status, as the platform has it: DRAFT until it first runs, RUNNING while it runs. */
export const TEST_STATUSES = ['DRAFT', 'RUNNING', 'CANCELLED', 'PASSED', 'FAILED'] as const;
export type TestStatus = (typeof TEST_STATUSES)[number];
/** An expectation's status. */
export type ExpectationStatus = 'PASSED' | 'FAILED';

export interface TestExpectation {
  key: string;
  name: string;
  /**
   * JSONata boolean over `{ result, output, status, usage, error, input, step }` of the finished run. With
   * `expectation_id`: the library expectation's script as of the test's last write or run (a copy for
   * reading; every run evaluates the library's current script).
   */
  script: string;
  /** A workflow-level library expectation (`tests.expectations`) whose script this expectation runs. */
  expectation_id?: string;
}

export interface ExpectationResult {
  key: string;
  name: string;
  status: ExpectationStatus;
  /** Why it failed (false, a non-boolean value, an expression error, no run). */
  message: string | null;
  /** The library expectation it ran, when the test's expectation references one. */
  expectation_id?: string;
  /** The script evaluated (for a library reference: the library's script at that run). */
  script?: string;
  /** What the script evaluated to (null when it failed to evaluate, or when its JSON passes 1 KB). */
  output?: unknown;
  /** The Weft error code when the script could not be evaluated (an expression error, a deleted library expectation). */
  code?: string;
}

/**
 * An expectation of a workflow's library (the platform's WorkflowExpectationSchema): a named script that
 * tests of the workflow reference by `expectation_id` instead of carrying their own.
 */
export interface WorkflowExpectation {
  id: string;
  app_id: string;
  workflow_id: string;
  /** 1–256 characters. */
  name: string;
  /** In the workflow's language, like a test's expectation script. */
  script: string;
  created_at: string;
  updated_at: string;
}

export type ExpectationPatch = Partial<Pick<WorkflowExpectation, 'name' | 'script'>> & { updated_at: string };

export interface WorkflowTest {
  id: string;
  app_id: string;
  workflow_id: string;
  name: string;
  input: Record<string, unknown>;
  /** The step the test's run starts from (its `from_step_key`); its record is `step` in expectation scripts. */
  step_key: string | null;
  expectations: TestExpectation[];
  /** DRAFT until the test first runs. */
  status: TestStatus;
  results: ExpectationResult[];
  last_run_id: string | null;
  last_run_at: string | null;
  created_at: string;
  updated_at: string;
}

export type TestPatch = Partial<
  Pick<
    WorkflowTest,
    'name' | 'input' | 'step_key' | 'expectations' | 'status' | 'results' | 'last_run_id' | 'last_run_at'
  >
> & { updated_at: string };

/** The platform's WorkflowTestStatsSchema. */
export interface TestsStats {
  total_count: number;
  running_count: number;
  cancelled_count: number;
  passing_count: number;
  failing_count: number;
  expectations_failing_count: number;
  expectations_passing_count: number;
}

/** A variable of an app; runs see it as `$vars.<key>`. */
export interface AppVariable {
  key: string;
  value: unknown;
  secret: boolean;
  created_at: string;
  updated_at: string;
}

/** One page of a list, newest first. Pass `next_cursor` back as `cursor` for the next page. */
export interface Page<T> {
  data: T[];
  next_cursor: string | null;
}

export interface PageQuery {
  /** An opaque cursor from a previous page's `next_cursor`. */
  cursor?: string | null;
  /** 1–100; default 20. */
  limit?: number;
}

export interface WorkflowQuery extends PageQuery {
  app_id: string;
  include_archived?: boolean;
}

export interface DiscoverQuery extends PageQuery {
  /** Leave out this app's own workflows. */
  exclude_app_id?: string;
}

export interface VersionQuery extends PageQuery {
  workflow_id: string;
}

export interface RunQuery extends PageQuery {
  app_id: string;
  workflow_id?: string;
  status?: RunStatus | readonly RunStatus[];
  origin?: RunOrigin | readonly RunOrigin[];
  /** Inclusive lower bound on `created_at` (ISO). */
  created_after?: string;
  /** Exclusive upper bound on `created_at` (ISO). */
  created_before?: string;
}

export interface TestQuery extends PageQuery {
  workflow_id: string;
}

export interface ExpectationQuery extends PageQuery {
  workflow_id: string;
  /**
   * Only expectations whose name contains this text, compared after `toLowerCase()` of both (stores keep
   * the lowercased name beside the record, so every store matches alike). Empty: every expectation.
   */
  search?: string;
}

/**
 * An API key of the HTTP server (`@weft/server`): it authenticates requests for one app. Only a
 * SHA-256 hash of the key is kept; the key itself is shown once, when it is created.
 */
export interface ApiKeyRecord {
  id: string;
  /** The one app the key acts for. */
  app_id: string;
  /** Lowercase hex SHA-256 of the whole key string. */
  hash: string;
  /** A label for people (where the key is used). */
  name: string | null;
  created_at: string;
}

/** A run query without paging: what `countRuns` counts. */
export type RunCountQuery = Omit<RunQuery, 'cursor' | 'limit'>;
