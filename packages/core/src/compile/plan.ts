/** The execution plan: an immutable, pre-parsed form of a valid version, shared by all its runs. */

import type { CompiledTemplate } from '../expressions/template.js';
import type { RetryPolicy, Step, VersionDocument } from '../model/types.js';
import type { AgentPlan } from './agent.js';
import type { FastCompiledExpression } from './fast-expression.js';

export interface CompiledBranchCondition {
  readonly key: string;
  readonly order: number;
  readonly expression: FastCompiledExpression;
  /** Plan indices of the condition's destinations. */
  readonly targets: readonly number[];
}

export interface CompiledBranch {
  /** Sorted by ascending `order` (document order breaks ties). */
  readonly conditions: readonly CompiledBranchCondition[];
  readonly elseTargets: readonly number[];
}

/** The step's own fields (common fields removed) with every template compiled once. */
export interface CompiledConfig {
  readonly base: Readonly<Record<string, unknown>>;
  readonly templates: ReadonlyArray<{
    readonly path: ReadonlyArray<string | number>;
    readonly template: CompiledTemplate;
    /**
     * The template is a whole-field path into one step of the plan (`"{{ STEP.output… }}"`): the run
     * reads that step's scope view by index instead of looking its key up in the scope (null otherwise).
     */
    readonly ref: StepRef | null;
  }>;
  /**
   * The containers a run copies before writing rendered templates into them: every proper prefix of a
   * template's path, shortest first (the rest of the config is `base` itself, shared and frozen).
   */
  readonly copies: ReadonlyArray<ReadonlyArray<string | number>>;
  /**
   * Whether every segment of every template has a synchronous fast path (compile/fast-expression.ts): the
   * run then renders the config synchronously when none of them bails (run/evaluate.ts, `configNow`).
   */
  readonly sync: boolean;
}

/** A whole-field template `{{ KEY.k1.….kn }}` where KEY is the key of plan step `step`: `keys` = k1…kn. */
export interface StepRef {
  readonly step: number;
  readonly keys: readonly string[];
}

export interface ResolvedRetry {
  readonly max_attempts: number;
  readonly interval_ms: number;
  readonly backoff_rate: number;
  readonly max_delay_ms: number;
  readonly jitter: boolean;
}

export interface PlanStep {
  /** Position in `Plan.steps` (notes are not in the plan). */
  readonly index: number;
  readonly key: string;
  readonly type: string;
  /** The step as written in the (frozen) document. */
  readonly step: Readonly<Step>;
  /** Distinct predecessor indices. */
  readonly preds: readonly number[];
  /** Distinct successor indices: `destinations`, plus branch condition and `else` targets. */
  readonly succs: readonly number[];
  /** For a branch: successors reached through its own `destinations` (always live when it completes). */
  readonly direct: ReadonlySet<number> | null;
  readonly branch: CompiledBranch | null;
  /** Expressions carry a synchronous fast path when they are simple enough (fast-expression.ts). */
  readonly conditional: FastCompiledExpression | null;
  readonly loop: FastCompiledExpression | null;
  /** The `code` step's expression. */
  readonly code: FastCompiledExpression | null;
  readonly config: CompiledConfig;
  readonly throwOnError: boolean;
  /** Explicit per-step retry policy (merged with the engine default at run time). */
  readonly retry: RetryPolicy | null;
  readonly timeoutMs: number | null;
  readonly maxConcurrency: number | null;
  /** A `model` step with tools: its tool loop (compile/agent.ts). */
  readonly agent: AgentPlan | null;
  /**
   * A tool-only step (a model step names it as a tool): the plan indices of the model steps that call
   * it. It never runs on its own: it is not an entry and has no edges.
   */
  readonly toolOf: readonly number[] | null;
  /**
   * The step's chain in `Plan.chains` (a cover of the graph by chains: paths along its edges). Two steps
   * of one chain are ordered (one is reachable from the other), so they never run at the same time.
   */
  readonly chain: number;
}

export interface Plan {
  /** Content hash of the document (and of the engine's default expression language). */
  readonly hash: string;
  /** A frozen deep copy of the document the plan was compiled from. */
  readonly document: Readonly<VersionDocument>;
  readonly steps: readonly PlanStep[];
  readonly byKey: ReadonlyMap<string, PlanStep>;
  /** Default entries (rule 1), used when the run gives no `from_step_key`. */
  readonly entries: readonly number[];
  /** Keys of the note steps, which never run. */
  readonly notes: readonly string[];
  /**
   * How many chains cover the steps (see `PlanStep.chain`): an upper bound on how many steps can run at
   * once, since steps running together are pairwise unordered, so on distinct chains. The scheduler
   * uses it to skip a concurrency cap the run can never reach. 0 for an empty plan.
   */
  readonly chains: number;
  /**
   * Whether anything in the plan may read `$steps` (an expression mentioning it, or any template): when
   * not, runs do not maintain the `$steps` map (the scope, `ctx.scope`, is always maintained).
   */
  readonly usesSteps: boolean;
  /**
   * Whether a template (`StepRef`) or a conditional's fast path (`stepViews`) of the plan reads a step by
   * index: runs then keep their views by step.
   */
  readonly stepRefs: boolean;
}
