/**
 * The `StepContext` a handler receives: one small object per execution. `signal`, `usage`, `log` and
 * `emit` are made on first use (most handlers never touch them), and `idempotency_key` is computed when
 * read.
 */
import type { Plan, PlanStep } from '../compile/plan.js';
import type { ExpressionBindings } from '../expressions/jsonata.js';
import type { Step } from '../model/types.js';
import type { InternalStepContext } from '../steps/internal.js';
import type { HandlerEventData, HandlerEventName, RunInfo } from '../steps/types.js';
import type { TranscriptTurn } from './agent.js';
import type { RepliedToolCall } from './journal.js';
import type { UsageCall } from './types.js';

/** What a context asks of its run (run/runner.ts). */
export interface ContextHost {
  /** The run's signal (made on first use). */
  readonly signal: AbortSignal;
  /** `ctx.usage.record`: throws BUDGET_EXCEEDED when the call takes the run over its budget. */
  recordUsage(step: number, index: number | undefined, call: UsageCall): void;
  log(step: number, index: number | undefined, level: LogLevel, message: string, data: unknown): void;
  emit(step: number, index: number | undefined, event: HandlerEventName, data: unknown): void;
  /** A model step's tool loop (null when the step has no tools): see `AgentPort`. */
  agentPort(step: number, index: number | undefined, attempt: number): AgentPort | null;
  /** The run's plan: a model step reads the input definition's file flags from it (steps/model-files.ts). */
  readonly plan?: Plan;
}

/**
 * What a `model` step with tools asks of its run (steps/model.ts): the turns so far — from this attempt,
 * an earlier one, or before a crash, since they are journaled — a way to record a reply with tool calls
 * (the scheduler then runs them: run/agent.ts), to wait for them, and a slot of the caps for a model call.
 */
export interface AgentPort {
  turns(): TranscriptTurn[];
  /** Records the reply to model call `turn` (= turns().length + 1) and starts its tool calls. */
  replied(reply: {
    turn: number;
    message: string;
    refusal: string | null;
    model: string | null;
    tool_calls: RepliedToolCall[];
  }): void;
  /** Resolves once every call of the last turn has settled; rejects with the signal's reason when it fires. */
  settled(signal: AbortSignal): Promise<void>;
  /** Runs a model call under the run's and the engine's caps (the step itself holds no slot). */
  slot<T>(task: () => Promise<T>): Promise<T>;
}

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

/**
 * `run id + step key (+ iteration)`, each part URI-encoded so that no two executions of different steps
 * or iterations share one: stable across attempts and across a resume.
 */
export function idempotencyKey(runId: string, stepKey: string, index: number | undefined): string {
  const base = `${encodeURIComponent(runId)}:${encodeURIComponent(stepKey)}`;
  return index === undefined ? base : `${base}:${index}`;
}

export class ExecutionContext implements InternalStepContext {
  readonly step: Readonly<Step>;
  readonly config: Record<string, unknown>;
  readonly scope: Readonly<Record<string, unknown>>;
  readonly item: unknown;
  readonly index: number | undefined;
  readonly attempt: number;
  readonly vars: Readonly<Record<string, unknown>>;
  readonly run: RunInfo;
  readonly plan: PlanStep;
  readonly bindings: ExpressionBindings;
  /** The run (workflow steps reach their parent's per-run cap through it). */
  readonly execution: ContextHost;
  #signal: AbortSignal | null;
  #usage: { record(call: UsageCall): void } | null = null;
  #log: InternalStepContext['log'] | null = null;
  #emit: InternalStepContext['emit'] | null = null;

  constructor(
    host: ContextHost,
    plan: PlanStep,
    config: Record<string, unknown>,
    scope: Record<string, unknown>,
    item: unknown,
    index: number | undefined,
    attempt: number,
    /** Null: the run's signal, asked of the host when read (most handlers never read it). */
    signal: AbortSignal | null,
    vars: Readonly<Record<string, unknown>>,
    run: RunInfo,
    bindings: ExpressionBindings,
  ) {
    this.step = plan.step;
    this.config = config;
    this.scope = scope;
    this.item = item;
    this.index = index;
    this.attempt = attempt;
    this.#signal = signal;
    this.vars = vars;
    this.run = run;
    this.plan = plan;
    this.bindings = bindings;
    this.execution = host;
  }

  get signal(): AbortSignal {
    this.#signal ??= this.execution.signal;
    return this.#signal;
  }

  /** Appended to the idempotency key: an external tool call's context is one per call (`:tool:<call id>`). */
  idempotencySuffix = '';

  get idempotency_key(): string {
    return idempotencyKey(this.run.id, this.plan.key, this.index) + this.idempotencySuffix;
  }

  get usage(): { record(call: UsageCall): void } {
    const step = this.plan.index;
    const index = this.index;
    const host = this.execution;
    this.#usage ??= { record: (call: UsageCall) => host.recordUsage(step, index, call) };
    return this.#usage;
  }

  // Bound functions, not methods: handlers may destructure them (`const { log } = ctx`).
  get log(): InternalStepContext['log'] {
    const step = this.plan.index;
    const index = this.index;
    const host = this.execution;
    this.#log ??= (level, message, data) => host.log(step, index, level, message, data);
    return this.#log;
  }

  get emit(): InternalStepContext['emit'] {
    const step = this.plan.index;
    const index = this.index;
    const host = this.execution;
    this.#emit ??= <K extends HandlerEventName>(event: K, data: HandlerEventData<K>) =>
      host.emit(step, index, event, data);
    return this.#emit;
  }

  /**
   * Replaces this execution's `emit` (engine.ts routes `model.delta` through a DeltaRedactor). A method,
   * not a copy of the context: the getters above read private fields, which a spread or a prototype
   * copy would not carry.
   */
  wrapEmit(wrap: (emit: InternalStepContext['emit']) => InternalStepContext['emit']): void {
    this.#emit = wrap(this.emit);
  }
}

/**
 * One context kept for the life of the process. V8 holds the hidden classes (maps) of an object shape
 * weakly: when no ExecutionContext is alive — between runs, after a full GC — its maps are collected, and
 * the optimised code of the scheduler's hot paths that embeds them is thrown away ("weak objects" under
 * `--trace-deopt`) and optimised again during the next run. This one instance keeps them alive
 * (docs/performance.md, "Stable optimisation").
 */
const idle: ContextHost = {
  get signal(): AbortSignal {
    return AbortSignal.abort();
  },
  recordUsage() {},
  log() {},
  emit() {},
  agentPort: () => null,
};
export const KEEP_SHAPE_ALIVE = new ExecutionContext(
  idle,
  { index: 0, key: '', step: {} } as unknown as PlanStep,
  {},
  {},
  undefined,
  undefined,
  1,
  null,
  {},
  {} as RunInfo,
  {} as ExpressionBindings,
);
