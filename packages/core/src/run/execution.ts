/**
 * One run of a plan: the scheduler. It keeps, per step, the number of predecessors that have not settled
 * and the number of live incoming edges; a step starts the moment its last predecessor settles (no
 * superstep barrier). Statuses move through the compiled xstate lifecycles (lifecycle/lifecycle.ts).
 * The rules implemented here are written out in docs/semantics.md.
 */
import type { LimitFunction } from 'p-limit';
import pLimit from 'p-limit';
import { BAIL } from '../compile/fast-expression.js';
import type { Plan, PlanStep } from '../compile/plan.js';
import { CancelledError, ERROR_CODES, type ErrorRecord, ensureWeftError, WeftError } from '../errors.js';
import type { WeftEventMap, WeftEventName } from '../events/events.js';
import { type ExpressionBindings, normalizeValue, typeName } from '../expressions/jsonata.js';
import { renderTemplate } from '../expressions/template.js';
import { type RunStatus, runLifecycle, type StepStatus, stepLifecycle } from '../lifecycle/lifecycle.js';
import type { HandlerEventData, HandlerEventName, RunInfo, StepContext } from '../steps/types.js';
import { UsageLedger } from '../usage/ledger.js';
import type { EngineCore, HandlerEntry } from './engine-core.js';
import type { RunHandleEvents } from './handle.js';
import type { StartOptions } from './options.js';
import { computeRetentionDueAt, normalizeRetention } from './retention.js';
import { resolveRetry, retryDelay, sleep } from './retry.js';
import {
  type LogEntry,
  type Run,
  SKIP_REASONS,
  type SkipReason,
  type StepRecord,
  type UsageCall,
} from './types.js';
import { mergeSecrets, redact, resolveVariables } from './variables.js';

/** What a step's body produced, before it is turned into a record. */
type Outcome =
  | { kind: 'completed'; output: unknown }
  | { kind: 'failed'; error: WeftError }
  | { kind: 'cancelled'; reason: string }
  | { kind: 'skipped'; reason: SkipReason };

interface StepState {
  status: StepStatus;
  /** Predecessors not yet settled. */
  waiting: number;
  /** Live incoming edges so far (entries start with one: the run start). */
  live: number;
  startedAt: number;
  attempts: number;
  logs: LogEntry[] | null;
  /** For branches: the plan indices its chosen condition (or else) leads to. */
  selected: readonly number[] | null;
  iterations: StepRecord['iterations'];
  record: StepRecord | null;
}

const EMPTY: readonly number[] = Object.freeze([]);

export class RunExecution {
  readonly id: string;
  readonly plan: Plan;
  status: RunStatus = runLifecycle.initial;
  readonly done: Promise<Run>;

  readonly #core: EngineCore;
  readonly #options: StartOptions;
  readonly #events: RunHandleEvents;
  readonly #states: StepState[];
  /** The run's AbortController, made on first use (a run whose steps are all skipped needs none). */
  #controller: AbortController | null = null;
  /** The per-run cap; created on first use (a run that can never reach it does not need one). */
  #runLimit: LimitFunction | null;
  /**
   * True when the plan can never have more executions at once than the per-run cap (`maxParallel`): its
   * executions then skip the run's p-limit, which could never make one wait. Never for a run sharing
   * its parent's cap.
   */
  readonly #runCapUnreachable: boolean;
  readonly #ledger = new UsageLedger();
  readonly #vars: Record<string, unknown>;
  readonly #secrets: string[];
  readonly #scope: Record<string, unknown>;
  readonly #stepsScope: Record<string, unknown>;
  readonly #runInfo: RunInfo;
  readonly #input: Record<string, unknown>;
  readonly #createdAt: number;
  #startedAt: number | null = null;
  #endedAt: number | null = null;
  #unsettled: number;
  /** Handlers (attempts) whose promise has not settled yet, across the run. */
  #inFlight = 0;
  /** Engine slots set aside for this run (slots.ts); while > 0 its executions skip the engine's p-limit. */
  #reservedSlots = 0;
  /** Executions that skipped the engine's p-limit and have not settled: the reservation outlives them. */
  #holding = 0;
  #graceTimer: ReturnType<typeof setTimeout> | null = null;
  #graceExpired = false;
  #ended = false;
  /** Steps whose last predecessor settled, started in order by #drain (iteratively: long skip chains cannot overflow the stack). */
  readonly #readyQueue: PlanStep[] = [];
  #draining = false;
  #seq = 0;
  #error: WeftError | null = null;
  #stopReason: string | null = null;
  #lastCompleted = -1;
  #lastCompletedCode = -1;
  #plainBindings: ExpressionBindings | null = null;
  #resolveDone!: (run: Run) => void;
  #run: Run | null = null;

  constructor(core: EngineCore, plan: Plan, options: StartOptions, events: RunHandleEvents) {
    this.#core = core;
    this.plan = plan;
    this.#options = options;
    this.#events = events;
    this.id = options.id ?? core.ids();
    this.#createdAt = core.clock.now();
    // A sub-workflow run shares its parent's per-run cap (engine.ts passes it).
    const shared = (options as { runLimit?: LimitFunction }).runLimit;
    this.#runLimit = shared ?? null;
    this.#runCapUnreachable = shared === undefined && maxParallel(core, plan) <= core.runConcurrency;
    const variables = resolveVariables(core.variables, options.variables);
    this.#vars = variables.values;
    // A sub-workflow run also redacts its parent's secrets (engine.ts passes them: issue 11, item 5).
    const inherited = (options as { secrets?: readonly string[] }).secrets;
    this.#secrets = inherited === undefined ? variables.secrets : mergeSecrets(variables.secrets, inherited);
    const doc = plan.document;
    this.#input = { ...(doc.input_default ?? {}), ...(options.input ?? {}) };
    this.#runInfo = Object.freeze({
      id: this.id,
      origin: options.origin ?? 'WORKFLOW',
      app_id: options.app_id ?? null,
      workflow_id: options.workflow_id ?? null,
      version: options.version ?? versionNumberOf(doc),
    });
    this.#stepsScope = {};
    this.#scope = { input: this.#input };
    this.#unsettled = plan.steps.length;
    this.#states = plan.steps.map(() => ({
      status: stepLifecycle.initial,
      waiting: 0,
      live: 0,
      startedAt: 0,
      attempts: 0,
      logs: null,
      selected: null,
      iterations: undefined,
      record: null,
    }));
    this.done = new Promise<Run>((resolve) => {
      this.#resolveDone = resolve;
    });
  }

  get signal(): AbortSignal {
    this.#controller ??= new AbortController();
    return this.#controller.signal;
  }

  get runLimit(): LimitFunction {
    this.#runLimit ??= pLimit(this.#core.runConcurrency);
    return this.#runLimit;
  }

  /** What this run redacts (engine.ts buffers `model.delta` with it and hands it to sub-workflow runs). */
  get secrets(): readonly string[] {
    return this.#secrets;
  }

  get usageTotal(): number {
    return this.#ledger.total;
  }

  /** Starts the run. Called on the microtask after `engine.start`, so listeners attached synchronously see everything. */
  begin(): void {
    if (this.status !== 'PENDING') return;
    const external = this.#options.signal;
    if (external !== undefined) {
      if (external.aborted) {
        this.cancel(abortReason(external));
        return;
      }
      external.addEventListener('abort', () => this.cancel(abortReason(external)), { once: true });
    }
    this.#transition('START');
    this.#startedAt = this.#core.clock.now();
    this.#emit('run.started', () => ({ status: this.status }));
    if (this.plan.steps.length === 0) {
      this.#maybeEnd();
      return;
    }

    const width = Math.min(maxParallel(this.#core, this.plan), this.#core.runConcurrency);
    if (this.#core.engineSlots.reserve(width)) this.#reservedSlots = width;

    const states = this.#states;
    const steps = this.plan.steps;
    // Indexed loops here and in the other per-step loops: they run for every step of every run.
    for (let i = 0; i < steps.length; i++) states[i]!.waiting = steps[i]!.preds.length;
    const from = this.#options.from_step_key;
    // engine.start has checked that from_step_key names a step.
    if (from !== undefined) states[this.plan.byKey.get(from)!.index]!.live = 1;
    else for (const i of this.plan.entries) states[i]!.live = 1;
    this.#draining = true;
    // Replay: settle the kept steps first, then start whatever became ready.
    const preset = this.#options.preset;
    if (preset !== undefined) {
      for (const s of this.plan.steps) {
        const record = preset[s.key];
        if (record !== undefined) this.#applyPreset(s, record);
      }
    }
    for (let i = 0; i < steps.length; i++) {
      const st = states[i]!;
      if (st.waiting === 0 && st.status === 'PENDING') this.#readyQueue.push(steps[i]!);
    }
    this.#drain();
  }

  /** Cancels the run. Returns false when it had already ended. */
  cancel(reason = 'Cancelled by the caller.'): boolean {
    if (runLifecycle.isFinal(this.status) || this.#ended || this.#stopReason !== null) return false;
    if (this.status === 'PENDING') {
      // Cancelled before it began: no step ran, so every step ends SKIPPED.
      this.#stopReason = reason;
      this.#transition('CANCEL');
      for (const s of this.plan.steps) this.#settle(s, { kind: 'skipped', reason: SKIP_REASONS.RUN_STOPPED });
      this.#end();
      return true;
    }
    this.#stop(reason, null);
    return true;
  }

  // ── scheduling ──────────────────────────────────────────────────────────────────────────────────

  #drain(): void {
    this.#draining = true;
    const queue = this.#readyQueue;
    try {
      for (let i = 0; i < queue.length; i++) this.#ready(queue[i]!);
    } finally {
      queue.length = 0;
      this.#draining = false;
    }
  }

  #ready(s: PlanStep): void {
    const st = this.#states[s.index]!;
    // A step can be queued twice when replay presets make it ready in begin(); it starts once.
    if (st.status !== 'PENDING') return;
    if (this.#stopReason !== null || st.live === 0) {
      const reason = this.#stopReason !== null ? SKIP_REASONS.RUN_STOPPED : SKIP_REASONS.NO_LIVE_INPUT;
      this.#settle(s, { kind: 'skipped', reason });
      return;
    }
    st.status = stepLifecycle.next(st.status, 'START')!;
    st.startedAt = this.#core.clock.now();
    const quick = this.#fastStep(s, st);
    if (quick !== null && !(quick instanceof Promise)) {
      this.#settle(s, quick);
      return;
    }
    (quick ?? this.#runStep(s, st)).then(
      (outcome) => this.#settle(s, outcome),
      (error) => this.#settle(s, { kind: 'failed', error: ensureWeftError(error, ERROR_CODES.INTERNAL) }),
    );
  }

  /**
   * The fast path (docs/performance.md) of a plain step — no loop, no templates, no timeout, one attempt,
   * a slotted handler — in a run that skips both p-limits, when the fast expression path answers its
   * `conditional` (if any). It does what #runStep → #execute → #attempt do, in one synchronous call: a
   * handler that returns a value (not a promise) settles its step without a single promise or microtask.
   * Returns null when the step does not qualify: #runStep runs it (re-evaluating a conditional that the
   * fast path left to JSONata — evaluation is pure).
   */
  #fastStep(s: PlanStep, st: StepState): Outcome | Promise<Outcome> | null {
    if (this.#reservedSlots === 0 || !this.#runCapUnreachable || s.loop !== null) return null;
    const entry = profileOf(this.#core, this.plan).fast[s.index]!;
    if (entry === null || (s.conditional !== null && s.conditional.fast === null)) return null;
    let bindings: ExpressionBindings | undefined;
    if (s.conditional !== null) {
      bindings = this.#bindings();
      const value = s.conditional.fast!(this.#scope, bindings);
      if (value === false) return CONDITIONAL_FALSE;
      // BAIL, or not a boolean (an error #runStep reports).
      if (value !== true) return null;
    }
    if (this.#listens('step.started')) this.#emitStarted(s);
    st.attempts++;
    bindings ??= this.#bindings();
    if (entry.inline !== undefined) {
      // A built-in handler answered synchronously (a `code` step whose expression the fast path takes).
      const output = entry.inline(s, this.#scope, bindings);
      if (output !== BAIL) {
        return this.#stopReason === null
          ? { kind: 'completed', output }
          : { kind: 'cancelled', reason: this.#stopReason };
      }
    }
    let result: unknown;
    try {
      result = this.#fastInvoke(s, entry, undefined, undefined, this.signal, bindings);
    } catch (error) {
      return this.#outcomeOf(error);
    }
    if (isPromiseLike(result)) return this.#fastAwait(s, result);
    return this.#stopReason === null
      ? { kind: 'completed', output: result }
      : { kind: 'cancelled', reason: this.#stopReason };
  }

  /**
   * Calls the handler of a fast-path execution (one attempt, no timeout, no templates). Returns its output,
   * or its pending promise (the caller calls #fastSettled once that settles); a handler that throws
   * synchronously is settled here and rethrown as the WeftError #execute would raise.
   */
  #fastInvoke(
    s: PlanStep,
    entry: HandlerEntry,
    item: unknown,
    index: number | undefined,
    signal: AbortSignal,
    bindings: ExpressionBindings,
  ): unknown {
    this.#holding++;
    const context = this.#context(
      s,
      s.config.base as Record<string, unknown>,
      item,
      index,
      1,
      signal,
      bindings,
    );
    this.#inFlight++;
    let result: unknown;
    try {
      result = entry.run(context);
    } catch (error) {
      this.#fastSettled();
      throw ensureWeftError(error, ERROR_CODES.STEP_FAILED, { step_key: s.key });
    }
    if (!isPromiseLike(result)) this.#fastSettled();
    return result;
  }

  async #fastAwait(s: PlanStep, pending: PromiseLike<unknown>): Promise<Outcome> {
    let output: unknown;
    try {
      output = await pending;
    } catch (error) {
      this.#fastSettled();
      return this.#outcomeOf(ensureWeftError(error, ERROR_CODES.STEP_FAILED, { step_key: s.key }));
    }
    this.#fastSettled();
    return this.#stopReason === null
      ? { kind: 'completed', output }
      : { kind: 'cancelled', reason: this.#stopReason };
  }

  /**
   * One loop iteration on the fast path: what #execute and #attempt do for a single attempt without a
   * timeout or templates. Returns the output when the handler returns one, or the handler's pending
   * promise — the caller then calls #fastSettled once it settles and turns a rejection into the
   * WeftError #execute would. Throws that WeftError when the handler throws.
   */
  #fastIteration(
    s: PlanStep,
    st: StepState,
    entry: HandlerEntry,
    item: unknown,
    index: number,
    signal: AbortSignal,
  ): unknown {
    if (signal.aborted) throw new CancelledError(abortReason(signal));
    st.attempts++;
    const bindings = this.#bindings(item, index);
    if (entry.inline !== undefined) {
      const output = entry.inline(s, this.#scope, bindings);
      if (output !== BAIL) return output;
    }
    return this.#fastInvoke(s, entry, item, index, signal, bindings);
  }

  /** A fast-path handler settled: it is no longer in flight, nor holding one of the reserved slots. */
  #fastSettled(): void {
    this.#handlerSettled();
    if (--this.#holding === 0 && this.#ended) this.#releaseSlots();
  }

  async #runStep(s: PlanStep, st: StepState): Promise<Outcome> {
    if (s.conditional !== null) {
      let value: unknown;
      try {
        value = normalizeValue(
          await s.conditional.evaluate(this.#scope, this.#bindings(), { signal: this.signal }),
        );
      } catch (error) {
        return { kind: 'failed', error: ensureWeftError(error, ERROR_CODES.EXPRESSION_ERROR) };
      }
      if (value === false) return { kind: 'skipped', reason: SKIP_REASONS.CONDITIONAL_FALSE };
      if (value !== true) {
        return {
          kind: 'failed',
          error: new WeftError(
            ERROR_CODES.EXPRESSION_ERROR,
            `The \`conditional\` of step "${s.key}" must evaluate to true or false, got ${typeName(value)} ` +
              `(expression: ${s.conditional.source}). Compare explicitly, e.g. ${s.conditional.language === 'javascript' ? "`return x === 'yes';`" : '`$exists(x)` or `x = "yes"`'}.`,
            {
              step_key: s.key,
              details: { field: 'conditional', expression: s.conditional.source, got: typeName(value) },
              retryable: false,
            },
          ),
        };
      }
    }
    if (this.#stopReason !== null) return { kind: 'skipped', reason: SKIP_REASONS.RUN_STOPPED };

    const entry = this.#core.handlerFor(s.type);
    if (entry === undefined) {
      return {
        kind: 'failed',
        error: new WeftError(
          ERROR_CODES.HANDLER_NOT_FOUND,
          `No handler is registered for step type "${s.type}" (step "${s.key}"). Register one with createEngine({ steps: { ${JSON.stringify(s.type)}: handler } }).`,
          { step_key: s.key, retryable: false },
        ),
      };
    }
    if (s.loop !== null) return this.#runLoop(s, st, entry);
    this.#emit('step.started', () => ({ step_key: s.key, type: s.type, attempt: 1 }));
    try {
      const output = await this.#execute(s, st, entry, undefined, undefined, this.signal);
      if (this.#stopReason !== null) return { kind: 'cancelled', reason: this.#stopReason };
      return { kind: 'completed', output };
    } catch (error) {
      return this.#outcomeOf(error);
    }
  }

  #outcomeOf(error: unknown): Outcome {
    const e = ensureWeftError(error);
    // After a stop, a running step ends CANCELLED — unless its own error is what stopped the run (a budget).
    if (this.#stopReason !== null && e !== this.#error && e.cause !== this.#error) {
      return { kind: 'cancelled', reason: this.#stopReason };
    }
    return { kind: 'failed', error: e };
  }

  async #runLoop(s: PlanStep, st: StepState, entry: HandlerEntry): Promise<Outcome> {
    let elements: unknown[];
    try {
      elements = await this.#loopElements(s);
    } catch (error) {
      return { kind: 'failed', error: ensureWeftError(error, ERROR_CODES.EXPRESSION_ERROR) };
    }
    const count = elements.length;
    st.iterations = { count, errors: [] };
    this.#emit('step.started', () => ({ step_key: s.key, type: s.type, attempt: 1 }));
    if (count === 0) return { kind: 'completed', output: [] };

    // Iterations share one controller so that, with throw_on_error, the first failure aborts the others.
    const loop = linkedController(this.signal);
    const cap = Math.max(1, s.maxConcurrency ?? this.#core.limits.loopConcurrency);
    const limit = pLimit(cap);
    const outputs: unknown[] = new Array(count).fill(null);
    let firstError: WeftError | null = null;
    // Iterations take the fast path (#fastIteration) when the step and the run qualify, as for #fastStep.
    const fast =
      this.#reservedSlots > 0 &&
      this.#runCapUnreachable &&
      profileOf(this.#core, this.plan).fast[s.index] !== null;
    const iteration = async (index: number): Promise<void> => {
      // Checked here, when a queued iteration gets its slot: nothing new starts after a failure or stop.
      if (firstError !== null || loop.signal.aborted) return;
      try {
        // Output slots are written by index, so the array is in element order whatever the finishing order.
        if (fast) {
          let output = this.#fastIteration(s, st, entry, elements[index], index, loop.signal);
          if (isPromiseLike(output)) {
            // The handler's own promise: account for it here rather than in one more async frame.
            try {
              output = await output;
            } catch (error) {
              this.#fastSettled();
              throw ensureWeftError(error, ERROR_CODES.STEP_FAILED, { step_key: s.key });
            }
            this.#fastSettled();
          }
          outputs[index] = output;
        } else {
          outputs[index] = await this.#execute(s, st, entry, elements[index], index, loop.signal);
        }
        if (this.#listens('loop.iteration')) {
          this.#emit('loop.iteration', () => ({
            step_key: s.key,
            type: s.type,
            index,
            count,
            status: 'COMPLETED' as const,
          }));
        }
      } catch (error) {
        const e = ensureWeftError(error);
        const cancelled =
          e.code === ERROR_CODES.CANCELLED && (firstError !== null || this.#stopReason !== null);
        this.#emit('loop.iteration', () => ({
          step_key: s.key,
          type: s.type,
          index,
          count,
          status: cancelled ? ('CANCELLED' as const) : ('FAILED' as const),
          error: this.#redact(e.toJSON()),
        }));
        if (cancelled) return;
        st.iterations!.errors.push({ index, error: this.#redact(e.toJSON()) });
        if (s.throwOnError && firstError === null) {
          firstError = new WeftError(e.code, `Iteration ${index} of step "${s.key}" failed: ${e.message}`, {
            step_key: s.key,
            details: { ...e.details, index },
            retryable: false,
            cause: e,
          });
          loop.abort();
        }
      }
    };
    try {
      await submitInOrder(count, cap, limit, iteration, () => firstError !== null || loop.signal.aborted);
    } finally {
      loop.dispose();
    }
    if (this.#stopReason !== null) return { kind: 'cancelled', reason: this.#stopReason };
    if (firstError !== null) return { kind: 'failed', error: firstError };
    st.iterations!.errors.sort((a, b) => a.index - b.index);
    return { kind: 'completed', output: outputs };
  }

  async #loopElements(s: PlanStep): Promise<unknown[]> {
    const expression = s.loop!;
    const max = this.#core.limits.maxLoopIterations;
    const limitError = () =>
      new WeftError(
        ERROR_CODES.LOOP_LIMIT,
        `The loop of step "${s.key}" produced more than ${max} elements. Raise limits.maxLoopIterations or shorten the collection.`,
        { step_key: s.key, details: { field: 'loop', limit: max }, retryable: false },
      );
    if (!expression.usesIndex) {
      const value = normalizeValue(
        await expression.evaluate(this.#scope, this.#bindings(), { signal: this.signal }),
      );
      if (!Array.isArray(value)) {
        throw new WeftError(
          ERROR_CODES.EXPRESSION_ERROR,
          `The \`loop\` of step "${s.key}" must evaluate to an array, got ${typeName(value)} (expression: ${expression.source}). ` +
            'Use the collection form (an array) or the item form (an expression using $index).',
          {
            step_key: s.key,
            details: { field: 'loop', expression: expression.source, got: typeName(value) },
            retryable: false,
          },
        );
      }
      if (value.length > max) throw limitError();
      return value;
    }
    const elements: unknown[] = [];
    for (let index = 0; ; index++) {
      if (this.signal.aborted) throw new CancelledError();
      // The loop expression sees `index` and, as `item`, the element it returned before (undefined at 0).
      const value = normalizeValue(
        await expression.evaluate(this.#scope, this.#bindings(elements[index - 1], index), {
          signal: this.signal,
        }),
      );
      if (value === null || value === undefined || value === false) return elements;
      if (index >= max) throw limitError();
      elements.push(value);
    }
  }

  /**
   * One execution unit (the step body, or one loop iteration) with its retries. Each attempt takes a
   * slot of the run's cap and of the engine's cap (p-limit); waiting between attempts holds none.
   * Fast paths: the run's p-limit is skipped when the run can never reach its cap (#runCapUnreachable),
   * the engine's when the run holds a reservation of engine slots (slots.ts).
   */
  async #execute(
    s: PlanStep,
    st: StepState,
    entry: HandlerEntry,
    item: unknown,
    index: number | undefined,
    signal: AbortSignal,
  ): Promise<unknown> {
    const retry = resolveRetry(this.#core.retry, s.retry);
    const timeoutMs = s.timeoutMs ?? this.#core.limits.stepTimeoutMs;
    for (let attempt = 1; ; attempt++) {
      if (signal.aborted) throw new CancelledError(abortReason(signal));
      st.attempts++;
      try {
        if (entry.slots && this.#reservedSlots > 0) {
          this.#holding++;
          try {
            return await (this.#runCapUnreachable
              ? this.#attempt(s, entry, item, index, attempt, signal, timeoutMs)
              : this.runLimit(() => this.#attempt(s, entry, item, index, attempt, signal, timeoutMs)));
          } finally {
            if (--this.#holding === 0 && this.#ended) this.#releaseSlots();
          }
        }
        const run = () => this.#attempt(s, entry, item, index, attempt, signal, timeoutMs);
        if (!entry.slots) return await run();
        if (this.#runCapUnreachable) return await this.#core.engineLimit(run);
        return await this.runLimit(() => this.#core.engineLimit(run));
      } catch (error) {
        const e = ensureWeftError(error, ERROR_CODES.STEP_FAILED, { step_key: s.key });
        if (signal.aborted || e.code === ERROR_CODES.CANCELLED) throw e;
        if (!e.retryable || attempt >= retry.max_attempts) throw e;
        const delay = retryDelay(retry, attempt, this.#core.random);
        this.#emit('step.retrying', () => ({
          step_key: s.key,
          type: s.type,
          attempt: attempt + 1,
          delay_ms: delay,
          error: this.#redact(e.toJSON()),
          ...(index === undefined ? {} : { index }),
        }));
        await sleep(delay, signal);
      }
    }
  }

  async #attempt(
    s: PlanStep,
    entry: HandlerEntry,
    item: unknown,
    index: number | undefined,
    attempt: number,
    parent: AbortSignal,
    timeoutMs: number | undefined,
  ): Promise<unknown> {
    if (parent.aborted) throw new CancelledError(abortReason(parent));
    const bindings = this.#bindings(item, index);
    const config = await this.#resolveConfig(s, bindings, parent);
    const timed = timeoutMs === undefined ? null : linkedController(parent);
    const signal = timed?.signal ?? parent;
    const context = this.#context(s, config, item, index, attempt, signal, bindings);
    // In flight counts the handler itself, not our wait for it: a handler that outlives its timeout
    // still holds the run open (up to the grace period), so `done` never resolves under a live handler.
    this.#inFlight++;
    let result: unknown;
    try {
      result = entry.run(context);
    } catch (error) {
      this.#handlerSettled();
      timed?.dispose();
      throw error;
    }
    if (!isPromiseLike(result)) {
      this.#handlerSettled();
      timed?.dispose();
      return result;
    }
    const tracked = result.then(
      (value) => {
        this.#handlerSettled();
        return value;
      },
      (error: unknown) => {
        this.#handlerSettled();
        throw error;
      },
    );
    if (timed === null) return tracked;
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      return await new Promise<unknown>((resolve, reject) => {
        timer = setTimeout(() => {
          const error = new WeftError(
            ERROR_CODES.STEP_TIMEOUT,
            `Step "${s.key}" timed out after ${timeoutMs} ms.`,
            {
              step_key: s.key,
              details: { timeout_ms: timeoutMs, attempt },
            },
          );
          timed.abort(error);
          reject(error);
        }, timeoutMs);
        tracked.then(resolve, reject);
      });
    } finally {
      clearTimeout(timer);
      timed.dispose();
    }
  }

  #handlerSettled(): void {
    this.#inFlight--;
    if (this.#inFlight === 0) this.#maybeEnd();
  }

  async #resolveConfig(
    s: PlanStep,
    bindings: ExpressionBindings,
    signal: AbortSignal,
  ): Promise<Record<string, unknown>> {
    const { base, templates } = s.config;
    if (templates.length === 0) return base as Record<string, unknown>;
    const config = structuredClone(base) as Record<string, unknown>;
    for (const { path, template } of templates) {
      const value = await renderTemplate(template, this.#scope, bindings, { signal });
      let target = config as Record<string | number, unknown>;
      for (let i = 0; i < path.length - 1; i++) target = target[path[i]!] as Record<string | number, unknown>;
      target[path[path.length - 1]!] = value;
    }
    return config;
  }

  #bindings(item?: unknown, index?: number): ExpressionBindings {
    // Outside loops every evaluation of the run binds the same values: one object serves (it is read-only).
    if (item === undefined && index === undefined) {
      this.#plainBindings ??= {
        input: this.#input,
        steps: this.#stepsScope,
        vars: this.#vars,
        run: this.#runInfo,
        item: undefined,
        index: undefined,
      };
      return this.#plainBindings;
    }
    return { input: this.#input, steps: this.#stepsScope, vars: this.#vars, run: this.#runInfo, item, index };
  }

  #context(
    s: PlanStep,
    config: Record<string, unknown>,
    item: unknown,
    index: number | undefined,
    attempt: number,
    signal: AbortSignal,
    bindings: ExpressionBindings,
  ): StepContext & { bindings: typeof bindings; plan: PlanStep; execution: RunExecution } {
    const st = this.#states[s.index]!;
    return {
      step: s.step,
      config,
      scope: this.#scope,
      item,
      index,
      attempt,
      signal,
      vars: this.#vars,
      run: this.#runInfo,
      usage: { record: (call: UsageCall) => this.#recordUsage(s, call) },
      log: (level, message, data) => {
        const entryLog: LogEntry = {
          level,
          message: String(message),
          time: this.#iso(this.#core.clock.now()),
        };
        if (data !== undefined) entryLog.data = data;
        if (index !== undefined) entryLog.index = index;
        const safe = this.#redact(entryLog);
        if (st.logs === null) st.logs = [];
        st.logs.push(safe);
        this.#emit('log', () => ({ step_key: s.key, ...safe }));
      },
      emit: <K extends HandlerEventName>(event: K, data: HandlerEventData<K>) => {
        this.#emit(event, () => ({ step_key: s.key, ...this.#redact(data) }) as never);
      },
      bindings,
      plan: s,
      execution: this,
    };
  }

  #recordUsage(s: PlanStep, call: UsageCall): void {
    const safe = this.#redact(call);
    const total = this.#ledger.record(s.key, safe);
    this.#emit('usage', () => ({ step_key: s.key, call: safe, total }));
    const max = this.#core.limits.maxCredits;
    if (total > max && this.#stopReason === null) {
      const error = new WeftError(
        ERROR_CODES.BUDGET_EXCEEDED,
        `The run spent ${round(total)} credits, over its budget of ${max} (limits.maxCredits). Raise the budget or use a cheaper model.`,
        { step_key: s.key, details: { spent: total, budget: max }, retryable: false },
      );
      // The budget fails the run whatever the step's throw_on_error; the step itself fails with it.
      this.#failRun(error);
      throw error;
    }
  }

  // ── settling ────────────────────────────────────────────────────────────────────────────────────

  #applyPreset(s: PlanStep, record: StepRecord): void {
    const st = this.#states[s.index]!;
    st.status = record.status;
    st.attempts = record.attempts ?? 0;
    st.logs = record.logs ?? null;
    st.iterations = record.iterations;
    if (s.branch !== null && record.status === 'COMPLETED') st.selected = selectedTargets(s, record.output);
    st.record = record;
    for (const call of record.calls ?? []) this.#ledger.record(s.key, call);
    this.#publish(s, record);
    this.#propagate(s, st);
  }

  #settle(s: PlanStep, outcome: Outcome): void {
    const st = this.#states[s.index]!;
    if (stepLifecycle.isFinal(st.status)) return;
    const now = this.#core.clock.now();
    let output: unknown = null;
    let error: WeftError | null = null;
    switch (outcome.kind) {
      case 'completed':
        st.status = stepLifecycle.next(st.status, 'COMPLETE')!;
        output = outcome.output;
        if (s.branch !== null) st.selected = selectedTargets(s, output);
        break;
      case 'failed':
        st.status = stepLifecycle.next(st.status, 'FAIL')!;
        error = outcome.error;
        break;
      case 'cancelled':
        st.status = stepLifecycle.next(st.status, 'CANCEL')!;
        break;
      case 'skipped':
        st.status = stepLifecycle.next(st.status, 'SKIP')!;
        break;
    }
    const record: StepRecord = {
      status: st.status,
      type: s.type,
      key: s.key,
      output: this.#redact(output),
      logs: st.logs ?? [],
      calls: this.#ledger.forStep(s.key),
      start: outcome.kind === 'skipped' && st.startedAt === 0 ? null : this.#iso(st.startedAt || now),
      end: this.#iso(now),
      error: error === null ? null : this.#redact(errorRecordOf(error, s.key)),
      attempts: st.attempts,
    };
    if (outcome.kind === 'skipped') record.skip_reason = outcome.reason;
    if (st.iterations !== undefined) record.iterations = st.iterations;
    st.record = record;
    // The scope keeps the real (unredacted) output: expressions may need what a secret-bearing step returned.
    this.#publish(s, record, output);

    if (outcome.kind === 'completed') {
      this.#lastCompleted = s.index;
      if (s.type === 'code') this.#lastCompletedCode = s.index;
    }
    if (this.#listens(SETTLED_EVENT[outcome.kind])) this.#emitSettled(s, outcome, record);
    if (outcome.kind === 'failed' && s.throwOnError && this.#stopReason === null) {
      this.#failRun(error!);
    }
    this.#propagate(s, st);
  }

  /** The settling event (a method of its own: the payload closures would otherwise cost #settle a context). */
  #emitSettled(s: PlanStep, outcome: Outcome, record: StepRecord): void {
    switch (outcome.kind) {
      case 'completed':
        this.#emit('step.completed', () => ({ step_key: s.key, type: s.type, output: record.output }));
        break;
      case 'failed':
        this.#emit('step.failed', () => ({ step_key: s.key, type: s.type, error: record.error! }));
        break;
      case 'cancelled':
        this.#emit('step.cancelled', () => ({ step_key: s.key, type: s.type, reason: outcome.reason }));
        break;
      case 'skipped':
        this.#emit('step.skipped', () => ({ step_key: s.key, type: s.type, reason: outcome.reason }));
        break;
    }
  }

  #emitStarted(s: PlanStep): void {
    this.#emit('step.started', () => ({ step_key: s.key, type: s.type, attempt: 1 }));
  }

  /**
   * Whether anyone listens to `event`. When not, the event's `seq` is spent all the same (seq numbers
   * count every event of the run) and the caller skips building its payload.
   */
  #listens(event: WeftEventName): boolean {
    if (this.#events.has(event) || this.#core.events.has(event)) return true;
    this.#seq++;
    return false;
  }

  #publish(s: PlanStep, record: StepRecord, realOutput: unknown = record.output): void {
    const view = Object.freeze({ status: record.status, output: realOutput, error: record.error });
    // `$steps` is kept only for plans that may read it (plan.usesSteps): one map fewer to grow per step.
    if (this.plan.usesSteps) this.#stepsScope[s.key] = view;
    // The run input keeps the name `input` even when a step is keyed "input" (reach it as $steps.input).
    if (s.key !== 'input') this.#scope[s.key] = view;
  }

  /** Rule 2: settle the edges out of `s`, then start (or skip) every successor that became ready. */
  #propagate(s: PlanStep, st: StepState): void {
    this.#unsettled--;
    const live =
      st.status === 'COMPLETED' || (st.status === 'FAILED' && !s.throwOnError && this.#stopReason === null);
    const states = this.#states;
    const steps = this.plan.steps;
    const succs = s.succs;
    for (let i = 0; i < succs.length; i++) {
      const t = succs[i]!;
      const target = states[t]!;
      if (live && (s.direct === null || s.direct.has(t) || (st.selected ?? EMPTY).includes(t))) target.live++;
      if (--target.waiting === 0 && target.status === 'PENDING') this.#readyQueue.push(steps[t]!);
    }
    if (!this.#draining) this.#drain();
    if (this.#unsettled === 0) this.#maybeEnd();
  }

  // ── stopping ────────────────────────────────────────────────────────────────────────────────────

  #failRun(error: WeftError): void {
    if (this.#stopReason !== null) return;
    this.#error = error;
    this.#stop(`The run failed: ${error.message}`, error);
  }

  /**
   * Stops the run (failure or cancellation): no step starts any more and running handlers are aborted.
   * Pending steps are settled SKIPPED as their predecessors settle; the run ends once every handler has
   * settled, or once the grace period has passed (handlers that ignore their signal are abandoned).
   */
  #stop(reason: string, error: WeftError | null): void {
    this.#stopReason = reason;
    this.#controller ??= new AbortController();
    this.#controller.abort(error ?? new CancelledError(reason));
    this.#startGrace();
    this.#maybeEnd();
  }

  #startGrace(): void {
    if (this.#graceTimer !== null || this.#ended) return;
    this.#graceTimer = setTimeout(() => {
      this.#graceExpired = true;
      for (const s of this.plan.steps) {
        if (this.#states[s.index]!.status === 'RUNNING') {
          this.#settle(s, {
            kind: 'cancelled',
            reason: this.#stopReason ?? 'Abandoned after the grace period.',
          });
        }
      }
      this.#maybeEnd();
    }, this.#core.limits.cancelGraceMs);
  }

  /** Ends the run once every step has settled and no handler is still running (or the grace period is over). */
  #maybeEnd(): void {
    if (this.#ended || this.#unsettled > 0 || this.status !== 'RUNNING') return;
    if (this.#inFlight > 0 && !this.#graceExpired) {
      // e.g. a timed-out handler that ignores its signal: give it the grace period, then end anyway.
      this.#startGrace();
      return;
    }
    this.#transition(this.#error !== null ? 'FAIL' : this.#stopReason !== null ? 'CANCEL' : 'COMPLETE');
    this.#end();
  }

  #end(): void {
    if (this.#ended) return;
    this.#ended = true;
    if (this.#holding === 0) this.#releaseSlots();
    if (this.#graceTimer !== null) clearTimeout(this.#graceTimer);
    this.#endedAt = this.#core.clock.now();
    const run = this.snapshot();
    this.#run = run;
    if (this.status === 'COMPLETED') this.#emit('run.completed', () => ({ run }));
    else if (this.status === 'FAILED') this.#emit('run.failed', () => ({ run, error: run.error! }));
    else this.#emit('run.cancelled', () => ({ run, reason: this.#stopReason ?? 'Cancelled.' }));
    this.#resolveDone(run);
  }

  /** Gives the run's engine slots back (once it has ended and none of its executions is in flight). */
  #releaseSlots(): void {
    const n = this.#reservedSlots;
    if (n === 0) return;
    this.#reservedSlots = 0;
    this.#core.engineSlots.release(n);
  }

  #transition(event: 'START' | 'COMPLETE' | 'FAIL' | 'CANCEL'): void {
    const next = runLifecycle.next(this.status, event);
    if (next === undefined) {
      throw new WeftError(
        ERROR_CODES.INTERNAL,
        `Run ${this.id}: no transition ${event} from ${this.status}.`,
      );
    }
    this.status = next;
  }

  // ── records and events ──────────────────────────────────────────────────────────────────────────

  /** The run object as it stands now (final once `done` has resolved). */
  snapshot(): Run {
    if (this.#run !== null) return this.#run;
    const output: Record<string, StepRecord> = {};
    const steps = this.plan.steps;
    for (let i = 0; i < steps.length; i++) {
      const s = steps[i]!;
      const st = this.#states[i]!;
      output[s.key] = st.record ?? {
        status: st.status,
        type: s.type,
        key: s.key,
        output: null,
        logs: st.logs ?? [],
        calls: this.#ledger.forStep(s.key),
        start: st.startedAt === 0 ? null : this.#iso(st.startedAt),
        end: null,
        error: null,
        attempts: st.attempts,
      };
    }
    const o = this.#options;
    const doc = this.plan.document;
    const isDraft =
      o.draft ??
      !(
        typeof (doc as { version?: unknown }).version === 'number' ||
        typeof (doc as { id?: unknown }).id === 'string'
      );
    const retention = normalizeRetention(o.retention);
    const endedAt = this.#endedAt === null ? null : this.#iso(this.#endedAt);
    const run: Run = {
      id: this.id,
      result: this.#redact(this.#result()),
      input: this.#redact(this.#input),
      output,
      status: this.status,
      origin: this.#runInfo.origin,
      error: this.#error === null ? null : this.#redact(errorRecordOf(this.#error)),
      started_at: this.#startedAt === null ? null : this.#iso(this.#startedAt),
      ended_at: endedAt,
      app_id: o.app_id ?? null,
      workflow_app_id: o.workflow_app_id ?? o.app_id ?? null,
      workflow_id: o.workflow_id ?? null,
      workflow_version_draft: isDraft ? doc : null,
      workflow_version: isDraft ? null : (doc as Run['workflow_version']),
      collection_id: o.collection_id ?? null,
      record_id: o.record_id ?? null,
      version: this.#runInfo.version,
      usage: this.#ledger.toJSON(),
      retention,
      retention_due_at: computeRetentionDueAt(retention, endedAt),
      created_at: this.#iso(this.#createdAt),
      updated_at: this.#iso(this.#endedAt ?? this.#startedAt ?? this.#createdAt),
    };
    if (o.replay_of !== undefined) run.replay_of = o.replay_of;
    return run;
  }

  /** Rule 8. */
  #result(): unknown {
    const i = this.#lastCompletedCode >= 0 ? this.#lastCompletedCode : this.#lastCompleted;
    if (i < 0) return null;
    const output = this.#states[i]!.record?.output;
    if (
      this.#lastCompletedCode >= 0 &&
      output !== null &&
      typeof output === 'object' &&
      !Array.isArray(output)
    ) {
      if (Object.hasOwn(output, 'result')) return (output as { result: unknown }).result;
    }
    return output ?? null;
  }

  #redact<T>(value: T): T {
    return this.#secrets.length === 0 ? value : redact(value, this.#secrets);
  }

  #iso(ms: number): string {
    return isoOf(ms);
  }

  /** Emits to the run's listeners and the engine's; the payload is built only when someone listens. */
  #emit<K extends WeftEventName>(
    event: K,
    build: () => Omit<WeftEventMap[K], 'run_id' | 'seq' | 'time'>,
  ): void {
    const seq = ++this.#seq;
    const local = this.#events.has(event);
    const global = this.#core.events.has(event);
    if (!local && !global) return;
    const payload = {
      run_id: this.id,
      seq,
      time: this.#iso(this.#core.clock.now()),
      ...build(),
    } as WeftEventMap[K];
    if (local) this.#events.emit(event, payload);
    if (global) this.#core.events.emit(event, payload);
  }
}

/**
 * Calls `limit(task, i)` for i = 0 … count−1, in order, and resolves once every call has settled (rejects
 * with the first rejection, as Promise.all would). p-limit enforces the cap; this only keeps at most
 * 2 × cap calls waiting in its queue, so that a loop over 100,000 elements holds a few hundred promises
 * rather than 100,000 (docs/performance.md, W7). Once `stopped()`, the calls not yet made are skipped:
 * they would have returned at once (an iteration checks the same thing when it gets its slot).
 */
function submitInOrder(
  count: number,
  cap: number,
  limit: LimitFunction,
  task: (index: number) => Promise<void>,
  stopped: () => boolean,
): Promise<void> {
  const window = cap >= count ? count : Math.min(count, 2 * cap);
  return new Promise<void>((resolve, reject) => {
    let next = 0;
    let pending = 0;
    let failed = false;
    const settled = () => {
      pending--;
      submit();
    };
    const fail = (error: unknown) => {
      failed = true;
      reject(error);
    };
    const submit = () => {
      if (failed) return;
      if (stopped()) next = count;
      while (next < count && pending < window) {
        pending++;
        limit(task, next++).then(settled, fail);
      }
      if (pending === 0) resolve();
    };
    submit();
  });
}

const SETTLED_EVENT = {
  completed: 'step.completed',
  failed: 'step.failed',
  cancelled: 'step.cancelled',
  skipped: 'step.skipped',
} as const;

const CONDITIONAL_FALSE: Outcome = Object.freeze({ kind: 'skipped', reason: SKIP_REASONS.CONDITIONAL_FALSE });

/** What the scheduler works out once per engine and plan. */
interface PlanProfile {
  /**
   * An upper bound on the executions of one run in flight at once (each holding a slot of the run's
   * cap): steps running together lie on distinct chains of the plan's chain cover, a step holds one slot
   * at a time (its attempts are sequential; waiting between them holds none), and a loop at most its
   * loop cap. Infinity when a step takes no slot itself (a `workflow` step: its child run's executions
   * count against this run's cap).
   */
  maxParallel: number;
  /**
   * By step index: the handler when the step's executions qualify for the fast path (#fastStep,
   * #fastIteration: a slotted handler, no templates, no timeout, one attempt); else null.
   */
  fast: Array<HandlerEntry | null>;
}

const PROFILES = new WeakMap<EngineCore, WeakMap<Plan, PlanProfile>>();

function profileOf(core: EngineCore, plan: Plan): PlanProfile {
  let byPlan = PROFILES.get(core);
  if (byPlan === undefined) {
    byPlan = new WeakMap();
    PROFILES.set(core, byPlan);
  }
  let profile = byPlan.get(plan);
  if (profile === undefined) {
    const widest = new Array<number>(plan.chains).fill(0);
    let bound = 0;
    const fast: Array<HandlerEntry | null> = [];
    for (const s of plan.steps) {
      const entry = core.handlerFor(s.type);
      if (entry?.slots === false) bound = Number.POSITIVE_INFINITY;
      const w = s.loop === null ? 1 : Math.max(1, s.maxConcurrency ?? core.limits.loopConcurrency);
      if (w > widest[s.chain]!) widest[s.chain] = w;
      const plain =
        entry?.slots === true &&
        s.config.templates.length === 0 &&
        (s.timeoutMs ?? core.limits.stepTimeoutMs) === undefined &&
        resolveRetry(core.retry, s.retry).max_attempts <= 1;
      fast.push(plain ? entry : null);
    }
    if (bound === 0) for (const w of widest) bound += w;
    profile = { maxParallel: bound, fast };
    byPlan.set(plan, profile);
  }
  return profile;
}

function maxParallel(core: EngineCore, plan: Plan): number {
  return profileOf(core, plan).maxParallel;
}

let isoMs = Number.NaN;
let isoText = '';

/**
 * `new Date(ms).toISOString()`, cached for the last millisecond seen: a run stamps every step's start
 * and end, and many steps settle within one millisecond (formatting was the scheduler's top cost).
 */
function isoOf(ms: number): string {
  if (ms !== isoMs) {
    isoText = new Date(ms).toISOString();
    isoMs = ms;
  }
  return isoText;
}

function selectedTargets(s: PlanStep, output: unknown): readonly number[] {
  const selected = (output as { selected?: unknown } | null)?.selected;
  const branch = s.branch!;
  if (selected === 'else') return branch.elseTargets;
  return branch.conditions.find((c) => c.key === selected)?.targets ?? EMPTY;
}

function errorRecordOf(error: WeftError, stepKey?: string): ErrorRecord {
  const record = error.toJSON();
  if (record.step_key === undefined && stepKey !== undefined) record.step_key = stepKey;
  return record;
}

function versionNumberOf(doc: unknown): number | null {
  const v = (doc as { version?: unknown }).version;
  return typeof v === 'number' ? v : null;
}

function abortReason(signal: AbortSignal): string {
  const r = signal.reason as unknown;
  if (r instanceof Error) return r.message;
  if (typeof r === 'string') return r;
  return 'Cancelled by the caller.';
}

function isPromiseLike(value: unknown): value is Promise<unknown> {
  return (
    value !== null && typeof value === 'object' && typeof (value as { then?: unknown }).then === 'function'
  );
}

function round(n: number): number {
  return Math.round(n * 1e6) / 1e6;
}

/** An AbortController that also aborts when `parent` does; `dispose` unhooks it. */
function linkedController(parent: AbortSignal): AbortController & { dispose(): void } {
  const controller = new AbortController() as AbortController & { dispose(): void };
  if (parent.aborted) {
    controller.abort(parent.reason);
    controller.dispose = () => {};
    return controller;
  }
  const onAbort = () => controller.abort(parent.reason);
  parent.addEventListener('abort', onAbort, { once: true });
  controller.dispose = () => parent.removeEventListener('abort', onAbort);
  return controller;
}
