/** The run object, with the seed's shape and field names. */
import type { ErrorRecord } from '../errors.js';
import type { WorkflowVersion, WorkflowVersionDraft } from '../model/types.js';
import type { RunStatus, StepStatus } from '../statuses.js';

export const RUN_ORIGINS = ['WORKFLOW', 'TRIGGER', 'RECORD', 'TEST', 'ENDPOINT', 'WEBHOOK'] as const;
export type RunOrigin = (typeof RUN_ORIGINS)[number];

/** Why a step ended SKIPPED (docs/semantics.md, rules 2 and 3). */
export const SKIP_REASONS = {
  /** Its own `conditional` evaluated to false (its outgoing edges are still taken). */
  CONDITIONAL: 'conditional',
  /**
   * No incoming edge was taken: its predecessors were not reached, or a branch chose another way, or it
   * is outside `from_step_key`'s reach.
   */
  NOT_REACHED: 'not_reached',
  /** The run failed or was cancelled before the step could start. */
  RUN_STOPPED: 'run_stopped',
} as const;
export type SkipReason = (typeof SKIP_REASONS)[keyof typeof SKIP_REASONS];

export interface LogEntry {
  level: 'debug' | 'info' | 'warn' | 'error';
  message: string;
  time: string;
  data?: unknown;
  index?: number;
}

/** One entry of the usage ledger: a model call, a sub-workflow (with its own calls nested), … */
export interface UsageCall {
  id: string;
  total: number;
  calls?: UsageCall[];
  [extra: string]: unknown;
}

export interface StepUsage {
  total: number;
  calls: UsageCall[];
}

export interface RunUsage {
  total: number;
  calls: UsageCall[];
  steps: Record<string, StepUsage>;
}

export interface StepRecord {
  status: StepStatus;
  type: string;
  key: string;
  output: unknown;
  logs: LogEntry[];
  calls: UsageCall[];
  start: string | null;
  end: string | null;
  error: ErrorRecord | null;
  /** Attempts made (retries included); 0 when the step never ran its body. */
  attempts: number;
  /** Set when status is SKIPPED. */
  skip_reason?: SkipReason;
  /**
   * Loop steps: the number of elements, and each failed iteration's error by index. `effective_concurrency`
   * only when a cap clipped the loop's `max_concurrency`: the cap it ran under (docs/semantics.md, rule 10).
   */
  iterations?: {
    count: number;
    errors: Array<{ index: number; error: ErrorRecord }>;
    effective_concurrency?: number;
  };
}

export interface Retention {
  /** Seconds after `ended_at` that the run's data is kept; -1 keeps it forever. */
  max_age_in_seconds: number;
  /** Keep failed runs whole whatever their age. */
  preserve_on_failure: boolean;
}

export interface Run {
  id: string;
  result: unknown;
  input: Record<string, unknown>;
  output: Record<string, StepRecord>;
  status: RunStatus;
  origin: RunOrigin;
  error: ErrorRecord | null;
  started_at: string | null;
  ended_at: string | null;
  app_id: string | null;
  workflow_app_id: string | null;
  workflow_id: string | null;
  workflow_version_draft: WorkflowVersionDraft | null;
  workflow_version: WorkflowVersion | null;
  collection_id: string | null;
  record_id: string | null;
  version: number | null;
  usage: RunUsage;
  retention: Retention | null;
  retention_due_at: string | null;
  created_at: string;
  updated_at: string;
  /** Weft extension: the id of the run this one replays. */
  replay_of?: string | null;
  /** Weft extension: the input fields a model filled (their values are in `input`); absent when none. */
  auto_filled?: string[];
}
