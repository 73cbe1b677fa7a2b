/**
 * A run's state, as the scheduler's `decide` (scheduler.ts) owns it. Everything the run's future depends
 * on is here, and nothing else changes it but `decide`: folding the same journal entries from the same
 * initial state gives the same state (what `engine.resume` relies on).
 *
 * Per-step data is kept as arrays indexed by plan step (struct of arrays): a run allocates a handful of
 * arrays, not an object per step, and the scheduler's hot paths touch numbers in typed arrays. The rare
 * per-step data (an error, logs, a loop, a replay preset) lives in a `StepExtra` made on demand.
 */
import type { Plan, ResolvedRetry } from '../compile/plan.js';
import type { ErrorRecord } from '../errors.js';
import { type RunStatus, runLifecycle, STEP } from '../lifecycle/lifecycle.js';
import { UsageLedger } from '../usage/ledger.js';
import type { RunMeta } from './journal.js';
import type { LogEntry, StepRecord } from './types.js';

/** Where an execution unit (a step body, or one loop iteration) stands. */
export const UNIT = {
  /** Not begun. */
  IDLE: 0,
  /** The scheduler asked for an attempt (`invoke`); its `step.started` has not come yet. */
  QUEUED: 1,
  /** The attempt's handler was called (`step.started`) and has not settled. */
  RUNNING: 2,
  /** Waiting out a retry back-off. */
  WAITING: 3,
  /** Settled: completed, failed for good, or cancelled. */
  DONE: 4,
} as const;

/** What a RUNNING step is doing. */
export const STAGE = {
  NONE: 0,
  /** Its `conditional` is being evaluated. */
  CONDITIONAL: 1,
  /** Its `loop` is being evaluated. */
  LOOP: 2,
  /** Its body runs (a step without a loop). */
  BODY: 3,
  /** Its iterations run. */
  ITERATIONS: 4,
  /** A tool-only step: the model steps that call it may invoke it (run/agent.ts). */
  TOOL: 5,
} as const;

/** Why a step ended SKIPPED, by index (0: it did not). See SKIP_REASONS in types.ts. */
export const SKIP = {
  NONE: 0,
  CONDITIONAL: 1,
  NOT_REACHED: 2,
  RUN_STOPPED: 3,
  TOOL_NOT_CALLED: 4,
} as const;

/** Attempts of a set of execution units: the step bodies of a run (by step), or a loop's iterations. */
export interface Units {
  readonly phase: Uint8Array;
  /** The current (or last) attempt's number; 0 before the first. */
  readonly attempt: Int32Array;
  /**
   * Failed attempts (what the retry budget counts); made on the first failure. Attempts lost with a
   * crashed process are not failures.
   */
  failures: Int32Array | null;
  /** A WAITING unit's retry deadline, or a RUNNING unit's timeout (ms since the epoch); made on first use. */
  deadline: Float64Array | null;
}

export function createUnits(n: number): Units {
  return { phase: new Uint8Array(n), attempt: new Int32Array(n), failures: null, deadline: null };
}

export interface LoopState {
  readonly elements: readonly unknown[];
  /** Iteration outputs by index (null for a failed iteration). */
  readonly outputs: unknown[];
  readonly units: Units;
  /** Iterations queued, running or waiting to retry. */
  running: number;
  /** The next iteration to start: iterations start in element order. */
  next: number;
  /** The first iteration failure, with `throw_on_error`: no iteration starts after it. */
  firstError: ErrorRecord | null;
  /** Each failed iteration's error (rule 4). */
  readonly errors: Array<{ index: number; error: ErrorRecord }>;
}

/** Where one tool call of a model step stands (run/agent.ts). */
export const CALL = {
  /** A sequential turn's call waiting for the ones before it. */
  PENDING: 0,
  /** Asked for (`invoke` of its tool step, or `invokeTool`), not begun. */
  QUEUED: 1,
  /** Begun: its tool step's execution started, or its external tool's `tool.started`. */
  RUNNING: 2,
  COMPLETED: 3,
  FAILED: 4,
  CANCELLED: 5,
} as const;

/** One tool call a model step's unit (its body, or one loop iteration) made. */
export interface AgentCall {
  /** The provider's id of the call. */
  readonly id: string;
  /** The tool as the document names it (or, for a call the model got wrong, the name it used). */
  readonly name: string;
  /** The arguments (the raw text when they were not JSON). */
  readonly input: unknown;
  /** The turn (1-based model call) that made it. */
  readonly turn: number;
  /** A step tool's plan index, else -1. */
  readonly step: number;
  /** Its tool step's invocation (`tool_index`), or -1. */
  unit: number;
  status: number;
  output: unknown;
  error: ErrorRecord | null;
}

export interface AgentTurn {
  readonly message: string;
  readonly refusal: string | null;
  readonly model: string | null;
  /** Its calls: `calls[first]` … `calls[first + count - 1]`. */
  readonly first: number;
  readonly count: number;
}

/** A model step unit's tool loop as far as it went: the replies with tool calls, and the calls. */
export interface AgentState {
  readonly turns: AgentTurn[];
  readonly calls: AgentCall[];
  /** Calls of the last turn not settled. */
  open: number;
  /** The unit has ended: no call starts any more. */
  done: boolean;
}

/** A tool-only step: its invocations, each an execution unit (`index` = its `tool_index`). */
export interface ToolState {
  readonly invocations: Array<{ parent: number; parentIndex: number; call: number; input: unknown }>;
  units: Units;
  /** Outputs by invocation (null unless completed). */
  readonly outputs: unknown[];
  /** Each invocation's outcome: a CALL status once settled. */
  readonly status: number[];
  readonly errors: Array<{ index: number; error: ErrorRecord }>;
  running: number;
}

/** A step's rarer data. */
export interface StepExtra {
  error: ErrorRecord | null;
  logs: LogEntry[] | null;
  loop: LoopState | null;
  /** Replay: the record kept from the original run. */
  preset: StepRecord | null;
  /** A model step with tools: its units' tool loops, by unit index (-1: the body). */
  agents: Map<number, AgentState> | null;
  /** A tool-only step's invocations. */
  tool: ToolState | null;
  /** A `workflow` step's child runs, by unit index (-1: the body): the last one each unit started. */
  children?: Map<number, string>;
}

export function extraOf(state: RunState, i: number): StepExtra {
  let extra = state.extras[i];
  if (extra === undefined) {
    extra = { error: null, logs: null, loop: null, preset: null, agents: null, tool: null };
    state.extras[i] = extra;
  }
  return extra;
}

export function errorOf(state: RunState, i: number): ErrorRecord | null {
  return state.extras[i]?.error ?? null;
}

/** The step's loop (the caller knows it has one). */
export function loopOf(state: RunState, i: number): LoopState {
  return state.extras[i]!.loop!;
}

/** What the scheduler knows of the engine and the plan: fixed for the run. */
export interface RunSettings {
  /** Per step: the retry policy (the engine's merged under the step's). */
  readonly retry: readonly ResolvedRetry[];
  /** Per step: the per-attempt timeout, or undefined. */
  readonly timeoutMs: ReadonlyArray<number | undefined>;
  /**
   * Per step: its loop's concurrency cap, as the run applies it (`effective_concurrency`): the requested
   * one (`loopRequested`) clipped by the run's and the engine's caps (docs/semantics.md, rule 10).
   */
  readonly loopCap: readonly number[];
  /** Per step: the loop's requested `max_concurrency` (else `limits.loopConcurrency`). */
  readonly loopRequested: readonly number[];
  /** Per step: true when no handler is registered for its type. */
  readonly missing: readonly boolean[];
  readonly cancelGraceMs: number;
  readonly maxCredits: number;
}

export interface RunState {
  readonly plan: Plan;
  readonly settings: RunSettings;
  readonly runId: string;
  status: RunStatus;
  /** ISO times of the run. */
  createdAt: string;
  startedAt: string | null;
  endedAt: string | null;
  input: Record<string, unknown>;
  fromStepKey: string | null;
  meta: RunMeta;
  /** Input fields a model filled (run/auto-fill.ts); empty when none. */
  autoFilled: readonly string[];
  /** The seq of the last entry consumed. */
  seq: number;

  // ── per step, by plan index ──
  /** Status, as an index into `stepLifecycle.states` (see STEP). */
  readonly stepStatus: Uint8Array;
  readonly stage: Uint8Array;
  /** Predecessors that have not settled. */
  readonly waiting: Int32Array;
  /** 1 once at least one incoming edge was taken (or the step is an entry). */
  readonly taken: Uint8Array;
  readonly skip: Uint8Array;
  /** Attempts made, iterations included (the record's `attempts`). */
  readonly attempts: Int32Array;
  readonly stepStartedAt: Array<string | null>;
  readonly stepEndedAt: Array<string | null>;
  /** The output a settled step publishes (null unless COMPLETED), unredacted: expressions read it. */
  readonly outputs: unknown[];
  /** What few steps have (see `extraOf`); undefined for the others. */
  readonly extras: Array<StepExtra | undefined>;
  /** The step bodies' attempts (steps without a loop). */
  readonly body: Units;
  /**
   * Steps made ready and not yet started or skipped: a worklist `decide` empties before it returns
   * (`readyCount` entries; the array keeps its capacity from step to step).
   */
  readonly ready: number[];
  readyCount: number;

  readonly ledger: UsageLedger;
  /** Steps not settled yet. */
  unsettled: number;
  /** Set once the run stops (failure or cancellation): nothing starts after it. */
  stopReason: string | null;
  error: ErrorRecord | null;
  /** The step (and entry seq) whose usage took the run past `maxCredits`, or -1. */
  budgetStep: number;
  budgetSeq: number;
  /** When the cancellation grace period ends (ms), or NaN. */
  graceDeadline: number;
  /** Every step has settled: the run waits for `run.ended`, with this status. */
  ending: 'COMPLETED' | 'FAILED' | 'CANCELLED' | null;
  /** Rule 8: the step that completed last, and the `code` step that completed last (-1: none). */
  lastCompleted: number;
  lastCompletedCode: number;
}

/** What a run is created with (the data of its `run.started` entry). */
export interface RunInit {
  runId: string;
  createdAt: string;
  input: Record<string, unknown>;
  fromStepKey: string | null;
  meta: RunMeta;
}

/**
 * `size` is the plan's step count; 0 only for the shape keeper of a long run (runner.ts, `KEPT`): a state
 * of the same shape holding no per-step data.
 */
export function createRunState(
  plan: Plan,
  settings: RunSettings,
  init: RunInit,
  size = plan.steps.length,
): RunState {
  const n = size;
  return {
    plan,
    settings,
    runId: init.runId,
    status: runLifecycle.initial,
    createdAt: init.createdAt,
    startedAt: null,
    endedAt: null,
    input: init.input,
    fromStepKey: init.fromStepKey,
    meta: init.meta,
    autoFilled: [],
    seq: 0,
    stepStatus: new Uint8Array(n).fill(STEP.PENDING),
    stage: new Uint8Array(n),
    waiting: new Int32Array(n),
    taken: new Uint8Array(n),
    skip: new Uint8Array(n),
    attempts: new Int32Array(n),
    stepStartedAt: new Array<string | null>(n).fill(null),
    stepEndedAt: new Array<string | null>(n).fill(null),
    outputs: new Array<unknown>(n).fill(null),
    extras: new Array<StepExtra | undefined>(n),
    body: createUnits(n),
    ready: [],
    readyCount: 0,
    ledger: new UsageLedger(),
    unsettled: n,
    stopReason: null,
    error: null,
    budgetStep: -1,
    budgetSeq: -1,
    graceDeadline: Number.NaN,
    ending: null,
    lastCompleted: -1,
    lastCompletedCode: -1,
  };
}
