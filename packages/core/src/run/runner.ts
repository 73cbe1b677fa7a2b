/**
 * The runner: the thin layer of effects around the scheduler's pure `decide` (scheduler.ts). It turns
 * what happens — a run begins, a handler is called or answers, an expression is evaluated, a timer goes
 * off, a caller cancels — into journal entries, feeds each to `decide` (and to the journal sink, if any),
 * and performs the commands `decide` writes: call handlers (through the run's and the engine's caps),
 * evaluate expressions, set timers, abort signals, publish settled steps to the expression scope, emit
 * events, end the run.
 *
 * Fast paths (docs/performance.md) stay: a handler that returns a plain value settles its step in the same
 * call, without a promise or a microtask, and the steps it makes ready start in the same drain loop — the
 * journal receives exactly the entries the slower paths would produce.
 */
import type { LimitFunction } from 'p-limit';
import pLimit from 'p-limit';
import { BAIL } from '../compile/fast-expression.js';
import type { Plan } from '../compile/plan.js';
import { CancelledError, ERROR_CODES, type ErrorRecord, ensureWeftError, WeftError } from '../errors.js';
import type { WeftEventMap, WeftEventName } from '../events/events.js';
import type { ExpressionBindings } from '../expressions/jsonata.js';
import { setOwn } from '../json-data.js';
import { runLifecycle, STEP, stepLifecycle } from '../lifecycle/lifecycle.js';
import type { HandlerEventName, RunInfo } from '../steps/types.js';
import { agentIfAny, invocationAbandoned, toolOf, transcriptOf } from './agent.js';
import { isCurrent, timeoutError } from './attempt.js';
import { boundCancelReason, cancelReasonOf, DEFAULT_CANCEL_REASON } from './cancel-reason.js';
import { CommandQueue, EVALUATION, type IterationStatus, OP } from './commands.js';
import { type AgentPort, type ContextHost, ExecutionContext, type LogLevel } from './context.js';
import type { EngineCore, HandlerEntry } from './engine-core.js';
import { conditionalNow, configNow, evaluateConditional, evaluateLoop, renderConfig } from './evaluate.js';
import type { RunHandleEvents } from './handle.js';
import {
  AUTO_FILL_USAGE_KEY,
  type AutoFillRecord,
  type JournalEntry,
  type JournalSink,
  type JournalWriter,
  RunJournal,
  type RunMeta,
  type RunStartedEntry,
  type StepEvaluatedEntry,
  type StepSettledEntry,
  type StepStartedEntry,
  type ToolSettledEntry,
  writerFor,
} from './journal.js';
import { type PlanProfile, profileOf, settingsUnder } from './profile.js';
import { runFields, runRecord, skipReasonOf, stepRecord } from './record.js';
import { decide, decideEvaluated, decideSettled, decideStarted } from './scheduler.js';
import { CALL, createRunState, errorOf, loopOf, type RunInit, type RunState, STAGE, UNIT } from './state.js';
import type { LogEntry, Run, StepRecord, UsageCall } from './types.js';
import { mergeSecrets, redact, resolveVariables, type Variable } from './variables.js';

/** How a run is created: from `engine.start`, or from a journal by `engine.resume`. */
export interface RunnerOptions {
  init: RunInit;
  variables: readonly Variable[] | undefined;
  signal: AbortSignal | undefined;
  journal: JournalSink | null;
  preset: Record<string, StepRecord> | null;
  /** A sub-workflow run shares its parent's per-run cap. */
  runLimit: LimitFunction | undefined;
  /** …and redacts its parent's secrets from everything it records (its input and outputs included). */
  secrets?: readonly string[] | undefined;
  /**
   * Input fields left to a model, filled before `run.started` (run/auto-fill.ts); `redact` hides the
   * run's secrets in what is sent. Null: nothing to fill.
   */
  autoFill?: AutoFillStart | null;
  /** Only for the shape keeper of a long run (`KEPT`): a runner that holds no per-step data and never begins. */
  shapesOnly?: boolean;
}

/** Fills the run's auto fields; rejects only when cancelled. */
export type AutoFillStart = (
  signal: AbortSignal,
  redact: <T>(value: T) => T,
) => Promise<AutoFillRecord & { values: Record<string, unknown> }>;

/**
 * The most recent finished run of each engine, kept referenced (at most one per engine). V8 holds the
 * hidden classes (maps) of objects weakly: when no runner, run state or step record is alive — between
 * runs, at a full GC — their maps are collected, and the optimised code of every hot path of the
 * scheduler, which embeds them, is thrown away ("weak objects" under `--trace-deopt`) and optimised again
 * during the next run: a run after a GC paid several µs per step for it. One live run keeps every map
 * alive (docs/performance.md, "Stable optimisation").
 *
 * A run of more than KEEP_SHAPES_MAX_STEPS steps is not kept itself (its records and outputs would stay in
 * memory): while the engine keeps no shorter run, a stand-in does — a runner of the same plan holding no
 * per-step data, with one object of each other shape a run makes (`#shapes`). Without it every run of a
 * long workflow after a GC was a run of cold code: 3–4× the cost per step of a 1,000-step run (W7a).
 */
const KEPT = new WeakMap<EngineCore, Runner | readonly unknown[]>();
const KEEP_SHAPES_MAX_STEPS = 1_000;

/** An execution with something to undo when it ends: its timeout's controller, its slot. */
interface Execution {
  readonly controller: LinkedController;
  release: (() => void) | null;
}

const SETTLED_EVENT = ['', '', 'step.completed', 'step.failed', 'step.cancelled', 'step.skipped'] as const;
const MAX_TIMER_MS = 2_147_483_647;

export class Runner implements ContextHost {
  /** The handle the engine made for it (engine.ts sets it): a field of its own, so all runners share one shape. */
  handle: unknown = null;
  readonly id: string;
  readonly plan: Plan;
  readonly state: RunState;
  readonly done: Promise<Run>;

  readonly #core: EngineCore;
  readonly #profile: PlanProfile;
  readonly #events: RunHandleEvents;
  readonly #queue = new CommandQueue();
  #draining = false;
  /** Folding a journal: commands only rebuild the scope; nothing is called, emitted or written. */
  #replaying = false;
  readonly #external: AbortSignal | undefined;
  #onExternalAbort: (() => void) | null = null;
  /** The run's AbortController, made on first use (a run whose steps are all skipped needs none). */
  #controller: AbortController | null = null;
  #loopControllers: Map<number, LinkedController> | null = null;
  /** The per-run cap; created on first use (a run that can never reach it does not need one). */
  #runLimit: LimitFunction | null;
  /** The run's cap (profile.ts, `runCap`; a sub-workflow run's is its parent's). */
  readonly #runCap: number;
  /**
   * True when the plan can never have more executions at once than the per-run cap: its executions then
   * skip the run's p-limit, which could never make one wait. Never for a run sharing its parent's cap.
   */
  readonly #runCapUnreachable: boolean;
  /** Engine slots set aside for this run (slots.ts); while > 0 its executions skip the engine's p-limit. */
  #reservedSlots = 0;
  /** Executions that skipped the engine's p-limit and have not settled: the reservation outlives them. */
  #holding = 0;
  /** Handlers called and not settled, across the run (an abandoned one counts until it answers). */
  #inFlight = 0;
  #executions: Map<string, Execution> | null = null;
  /** Tool calls in flight (`s:step:tool_index`, `x:step:index:call`): their model step's end aborts them. */
  #callControllers: Map<string, LinkedController> | null = null;
  /** Model steps waiting for their last turn's tool calls (`step:index`). */
  #agentWaiters: Map<string, Array<() => void>> | null = null;
  #timers: Map<string, ReturnType<typeof setTimeout>> | null = null;
  /** The grace period (after a stop, or for handlers outliving every step) is over. */
  #graceExpired = false;
  /** `decide` said every step has settled; the run ends once no handler runs. */
  #ending = false;
  #waitingForHandlers = false;
  /** The end is under way (the journal is being flushed, `run.ended` fed). */
  #endStarted = false;
  /** The `run.ended` entry is being written: a journal failure now is handled by the ending itself. */
  #endEntryPending = false;
  /** The run has ended: its final event is out, `done` resolved; nothing more is emitted for it. */
  #ended = false;
  /**
   * While the run is suspended (`suspend`): 1 for each step that was running when it began — only those
   * go on (their attempts, iterations and tool calls); every other step is not started. Else null.
   */
  #settling: Uint8Array | null = null;
  /** Attempts not started because the run is suspended (triples step, index, attempt). */
  #held: number[] | null = null;
  /** Callers of `suspend` waiting for the steps of `#settling` to settle. */
  #suspendWaiters: Array<() => void> | null = null;
  readonly #vars: Record<string, unknown>;
  readonly #secrets: string[];
  readonly #scope: Record<string, unknown>;
  readonly #stepsScope: Record<string, unknown>;
  /** The scope's views by plan step, for a plan whose templates read steps by index (`plan.stepRefs`). */
  readonly #views: unknown[] | null;
  readonly #runInfo: RunInfo;
  #plainBindings: ExpressionBindings | null = null;
  /** Events emitted (public `seq`; every event counts, listened to or not). */
  #seq = 0;
  /** Synchronous passes of the drain loop, and calls into user code (handlers, listeners), so far. */
  #turn = 0;
  #userCalls = 0;
  /** The last clock reading, and when it was taken (see #now). */
  #clockAt = '';
  #clockTurn = -1;
  #clockUserCalls = -1;
  readonly #journal: RunJournal | null;
  readonly #writer: JournalWriter | null;
  readonly #preset: Record<string, StepRecord> | null;
  /**
   * Without a journal nothing keeps an entry once `decide` has read it, so the two entries every
   * execution makes are one object each, reused (two allocations fewer per step).
   */
  readonly #startedScratch: StepStartedEntry | null;
  readonly #completedScratch: StepSettledEntry | null;
  readonly #evaluatedScratch: StepEvaluatedEntry | null;
  #resolveDone!: (run: Run) => void;
  #run: Run | null = null;
  #autoFill: AutoFillStart | null;
  /** Aborts auto-fill's model calls when the run is cancelled before it began. */
  #fillController: AbortController | null = null;

  constructor(core: EngineCore, plan: Plan, options: RunnerOptions, events: RunHandleEvents) {
    this.#core = core;
    this.plan = plan;
    this.#events = events;
    this.#profile = profileOf(core, plan);
    this.id = options.init.runId;
    // A sub-workflow run works under its parent's cap (the limit it shares), else under its plan's.
    this.#runCap = options.runLimit?.concurrency ?? this.#profile.runCap;
    const settings = settingsUnder(this.#profile, this.#runCap);
    this.state = createRunState(plan, settings, options.init, options.shapesOnly ? 0 : plan.steps.length);
    this.#external = options.signal;
    this.#preset = options.preset;
    this.#autoFill = options.autoFill ?? null;
    this.#runLimit = options.runLimit ?? null;
    this.#runCapUnreachable = options.runLimit === undefined && this.#profile.maxParallel <= this.#runCap;
    const variables = resolveVariables(core.variables, options.variables);
    this.#vars = variables.values;
    // A sub-workflow run also redacts its parent's secrets (engine.ts passes them: issue 11, item 5).
    const inherited = options.secrets;
    this.#secrets = inherited === undefined ? variables.secrets : mergeSecrets(variables.secrets, inherited);
    const meta = options.init.meta;
    this.#runInfo = Object.freeze({
      id: this.id,
      origin: meta.origin,
      app_id: meta.app_id,
      workflow_id: meta.workflow_id,
      version: meta.version,
    });
    this.#stepsScope = {};
    this.#scope = { input: this.state.input };
    this.#views = plan.stepRefs ? new Array<unknown>(options.shapesOnly ? 0 : plan.steps.length) : null;
    if (options.journal !== null) {
      this.#writer = writerFor(options.journal, core.limits.journalTimeoutMs);
      this.#journal = new RunJournal(this.id, this.#writer, (error) => this.#journalFailed(error));
    } else {
      this.#writer = null;
      this.#journal = null;
    }
    if (this.#journal === null) {
      this.#startedScratch = {
        run_id: this.id,
        seq: 0,
        type: 'step.started',
        at: '',
        key: '',
        index: null,
        attempt: 0,
      };
      this.#completedScratch = {
        run_id: this.id,
        seq: 0,
        type: 'step.settled',
        at: '',
        key: '',
        index: null,
        attempt: 0,
        outcome: 'completed',
        output: null,
        error: null,
        retryable: false,
        jitter: 0,
      };
      this.#evaluatedScratch = {
        run_id: this.id,
        seq: 0,
        type: 'step.evaluated',
        at: '',
        key: '',
        field: 'conditional',
        value: null,
        error: null,
      };
    } else {
      this.#startedScratch = null;
      this.#completedScratch = null;
      this.#evaluatedScratch = null;
    }
    this.done = new Promise<Run>((resolve) => {
      this.#resolveDone = resolve;
    });
  }

  get signal(): AbortSignal {
    this.#controller ??= new AbortController();
    return this.#controller.signal;
  }

  /** What this run redacts (engine.ts buffers `model.delta` with it and hands it to sub-workflow runs). */
  get secrets(): readonly string[] {
    return this.#secrets;
  }

  get runLimit(): LimitFunction {
    this.#runLimit ??= pLimit(this.#runCap);
    return this.#runLimit;
  }

  // ── beginning, resuming, cancelling ─────────────────────────────────────────────────────────────

  /** Starts the run. Called on the microtask after `engine.start`, so listeners attached synchronously see everything. */
  begin(): void {
    if (this.state.status !== 'PENDING' || this.state.stopReason !== null) return;
    if (this.#watchExternal()) return;
    const fill = this.#autoFill;
    if (fill !== null) {
      this.#autoFill = null;
      void this.#fillThenStart(fill);
      return;
    }
    this.#runStarted(undefined);
  }

  /**
   * Auto-fill (before the first step, once per run): the values join the input, and `run.started`
   * records them with the calls, or the error that fails the run.
   */
  async #fillThenStart(fill: AutoFillStart): Promise<void> {
    const controller = new AbortController();
    this.#fillController = controller;
    let record: AutoFillRecord;
    try {
      const result = await fill(controller.signal, (value) => this.#redact(value));
      for (const [name, value] of Object.entries(result.values)) setOwn(this.state.input, name, value);
      record = { fields: result.fields, calls: result.calls, error: result.error };
    } catch (error) {
      const e = ensureWeftError(error);
      record = { fields: [], calls: [], error: e.toJSON() };
    } finally {
      this.#fillController = null;
    }
    // Cancelled while filling: the run has ended without beginning.
    if (this.state.status !== 'PENDING' || this.state.stopReason !== null) return;
    this.#runStarted(record);
    if (record.calls.length > 0 && this.state.seq > 0) {
      let total = 0;
      for (const call of record.calls) {
        total += call.total;
        const running = total;
        this.#emit('usage', () => ({ step_key: AUTO_FILL_USAGE_KEY, call, total: running }));
      }
    }
  }

  #runStarted(autoFill: AutoFillRecord | undefined): void {
    const entry = this.#startedEntry();
    if (autoFill !== undefined) entry.auto_fill = autoFill;
    this.#feed(entry);
  }

  #startedEntry(): RunStartedEntry {
    const init = this.state;
    return {
      run_id: this.id,
      seq: this.#next(),
      type: 'run.started',
      at: this.#now(),
      plan_hash: this.plan.hash,
      input: init.input,
      from_step_key: init.fromStepKey,
      created_at: init.createdAt,
      meta: init.meta,
      preset: this.#preset,
    };
  }

  /**
   * Folds a journal into the state (synchronously: a journal that is not a possible run of this plan
   * throws, before any handle exists). Nothing is called, emitted or written.
   */
  fold(entries: readonly JournalEntry[]): void {
    this.#replaying = true;
    try {
      for (const entry of entries) {
        decide(this.state, entry, this.#queue);
        this.#drain();
      }
    } catch (error) {
      const e = ensureWeftError(error);
      throw new WeftError(
        ERROR_CODES.INVALID_ARGUMENT,
        `Expected \`journal\` to be a journal of a run of this document: ${e.message}`,
        { details: { parameter: 'journal', ...e.details }, cause: e },
      );
    } finally {
      this.#replaying = false;
    }
  }

  /** After `fold`: goes on from where the journal ends (on the microtask after `engine.resume`). */
  resume(): void {
    if (this.state.status !== 'RUNNING') {
      // The journal ends with the run: nothing to do but hand back the run it describes.
      this.#finish();
      return;
    }
    this.#reserveSlots();
    this.#feed({ run_id: this.id, seq: this.#next(), type: 'run.resumed', at: this.#now() });
    this.#watchExternal();
  }

  /** Cancels the run. Returns false when it had already ended (or was ending, or stopping). */
  cancel(text: string = DEFAULT_CANCEL_REASON): boolean {
    const state = this.state;
    if (
      this.#ended ||
      state.ending !== null ||
      state.stopReason !== null ||
      runLifecycle.isFinal(state.status)
    ) {
      return false;
    }
    // The caller's text, bounded: it is journaled, and recorded as the run's error.
    const reason = boundCancelReason(text);
    this.#feed({ run_id: this.id, seq: this.#next(), type: 'cancel.requested', at: this.#now(), reason });
    this.#fillController?.abort(new CancelledError(reason));
    return true;
  }

  /** Follows the caller's signal; true when it has already fired (the run is then cancelled). */
  #watchExternal(): boolean {
    const external = this.#external;
    if (external === undefined || this.#onExternalAbort !== null) return false;
    if (external.aborted) {
      this.cancel(abortReason(external));
      return true;
    }
    this.#onExternalAbort = () => this.cancel(abortReason(external));
    external.addEventListener('abort', this.#onExternalAbort, { once: true });
    return false;
  }

  // ── feeding decide ──────────────────────────────────────────────────────────────────────────────

  /**
   * Journals the entry, lets `decide` consume it, and performs what it asks for. Entries are made with
   * their `seq` (`#seq()`) right before they are fed: writing it here would be a store into every shape
   * of entry, which V8 makes slow.
   */
  #feed(entry: JournalEntry): void {
    if (this.#journal !== null && !this.#journal.dropped) this.#write(entry);
    try {
      decide(this.state, entry, this.#queue);
    } catch (error) {
      this.#crash(error);
      return;
    }
    this.#drain();
  }

  /** The seq of the next entry. */
  #next(): number {
    return this.state.seq + 1;
  }

  /**
   * `#feed` for the entries of an execution (monomorphic paths: see `decideStarted`). The entry was
   * stamped (`#now`) just before, with nothing in between: the drain may keep using that reading.
   */
  #feedStarted(entry: StepStartedEntry, step: number): void {
    if (this.#journal !== null && !this.#journal.dropped) this.#write(entry);
    try {
      decideStarted(this.state, entry, this.#queue, step);
    } catch (error) {
      this.#crash(error);
      return;
    }
    this.#drain(true);
  }

  #feedSettled(entry: StepSettledEntry, step: number): void {
    if (this.#journal !== null && !this.#journal.dropped) this.#write(entry);
    try {
      decideSettled(this.state, entry, this.#queue, step);
    } catch (error) {
      this.#crash(error);
      return;
    }
    this.#drain(true);
  }

  /** Returns what was written: a secret never reaches a sink, the journal gets a redacted copy. */
  #write(entry: JournalEntry): JournalEntry {
    const written = this.#secrets.length === 0 ? entry : redact(entry, this.#secrets);
    this.#writer!.write(this.#journal!, written);
    return written;
  }

  /**
   * `stamped`: the caller has just stamped the entry it fed with a clock reading (`#now`), outside a
   * drain and so fresh, and nothing ran since: the reading belongs to the synchronous stretch this drain
   * continues, and serves its facts until user code runs (see `#now`). A drain that starts later (after
   * an await, a timer) never inherits a reading: its first fact reads the clock.
   */
  #drain(stamped = false): void {
    if (this.#draining) return;
    this.#draining = true;
    if (stamped && this.#clockTurn === this.#turn) this.#clockTurn = this.#turn + 1;
    this.#turn++;
    const q = this.#queue;
    try {
      for (let p = q.take(); p >= 0; p = q.take()) {
        const slots = q.slots;
        const op = slots[p] as number;
        if (this.#replaying) {
          if (op === OP.STEP_SETTLED) this.#publish(slots[p + 1] as number);
          continue;
        }
        const obj = slots[p + 5];
        slots[p + 5] = 0;
        this.#execute(
          op,
          slots[p + 1] as number,
          slots[p + 2] as number,
          slots[p + 3] as number,
          slots[p + 4] as number,
          obj,
        );
      }
    } catch (error) {
      q.clear();
      if (this.#replaying) throw error;
      this.#crash(error);
    } finally {
      this.#draining = false;
    }
  }

  #execute(op: number, i: number, index: number, attempt: number, num: number, obj: unknown): void {
    switch (op) {
      case OP.INVOKE:
        if (index < 0 && attempt === 1 && this.#listens('step.started')) this.#emitStarted(i);
        this.#invoke(i, index, attempt);
        break;
      case OP.STEP_SETTLED:
        this.#publish(i);
        if (this.state.extras[i]?.preset == null) this.#emitSettled(i);
        if (this.#suspendWaiters !== null) this.#checkSuspended();
        break;
      case OP.STEP_STARTED:
        // Only loops start a step apart from its first execution (loop.ts).
        if (this.#listens('step.started')) this.#emitStarted(i);
        if (this.#listens('loop.started')) this.#emitLoopStarted(i);
        break;
      case OP.EVALUATE:
        this.#evaluate(i, num);
        break;
      case OP.SET_TIMER:
        this.#setTimer(obj as number, i, index, attempt, num);
        break;
      case OP.CLEAR_TIMER:
        this.#clearTimer(obj as number, i, index, attempt);
        break;
      case OP.ITERATION:
        if (this.#listens('loop.iteration')) this.#emitIteration(i, index, obj);
        break;
      case OP.RETRYING:
        this.#emitRetrying(i, index, attempt, num, obj as ErrorRecord);
        break;
      case OP.USAGE:
        this.#emitUsage(i, obj as UsageCall, num);
        break;
      case OP.LOG:
        this.#emitLog(i, obj as LogEntry);
        break;
      case OP.ABORT:
        this.#abortExecution(i, index, attempt);
        break;
      case OP.ABORT_LOOP:
        this.#loopController(i).abort();
        break;
      case OP.STOP:
        this.#abortRun();
        break;
      case OP.RUN_STARTED:
        this.#reserveSlots();
        this.#emitRunStarted();
        break;
      case OP.INVOKE_TOOL:
        this.#slotted(() => this.#startTool(i, index, num));
        break;
      case OP.CANCEL_CALL:
        this.#cancelCall(i, index, num);
        break;
      case OP.TOOLS_SETTLED:
        this.#wakeAgent(i, index);
        break;
      case OP.CALL_EVENT:
        this.#emitCall(i, index, num, attempt === 1);
        break;
      case OP.END:
        this.#beginEnd();
        break;
      case OP.ENDED:
        this.#finish();
        break;
    }
  }

  // Each event payload is built in a method of its own: a closure in #execute would cost it a context
  // allocation on every call, whatever the command.
  #emitUsage(i: number, call: UsageCall, total: number): void {
    const key = this.plan.steps[i]!.key;
    this.#emit('usage', () => ({ step_key: key, call, total }));
  }

  #emitLog(i: number, entry: LogEntry): void {
    const key = this.plan.steps[i]!.key;
    const parent = this.#parentKey(i, entry.index);
    this.#emit('log', () =>
      parent === undefined
        ? { step_key: key, ...entry }
        : { step_key: key, parent_step_key: parent, ...entry },
    );
  }

  /** A tool step's events carry the model step calling it (invocation `index`'s, else the first caller). */
  #parentKey(i: number, index: number | undefined): string | undefined {
    const s = this.plan.steps[i]!;
    if (s.toolOf === null) return undefined;
    const inv = index === undefined ? undefined : this.state.extras[i]?.tool?.invocations[index];
    return this.plan.steps[inv?.parent ?? s.toolOf[0]!]!.key;
  }

  #emitRunStarted(): void {
    this.#emit('run.started', () => ({ status: this.state.status }));
  }

  #abortRun(): void {
    const state = this.state;
    this.#controller ??= new AbortController();
    this.#controller.abort(
      state.error !== null ? weftErrorOf(state.error) : new CancelledError(state.stopReason ?? undefined),
    );
  }

  /** A bug: `decide` refused a fact the runner produced. The run ends FAILED with the INTERNAL error. */
  #crash(error: unknown): void {
    if (this.#ended) return;
    const state = this.state;
    state.error = ensureWeftError(error, ERROR_CODES.INTERNAL).toJSON();
    state.stopReason ??= state.error.message;
    state.status = 'FAILED';
    state.endedAt = this.#now();
    this.#controller?.abort(weftErrorOf(state.error));
    this.#finish();
  }

  // ── evaluating ──────────────────────────────────────────────────────────────────────────────────

  #evaluate(i: number, field: number): void {
    const s = this.plan.steps[i]!;
    if (field === EVALUATION.CONDITIONAL) {
      const bindings = this.#bindings(undefined, undefined);
      const now = conditionalNow(s, this.#scope, bindings, this.#views);
      if (now !== undefined) {
        this.#evaluated(i, 'conditional', now, null);
        return;
      }
      evaluateConditional(s, this.#scope, bindings, this.signal).then(
        (value) => this.#evaluated(i, 'conditional', value, null),
        (error) => this.#evaluated(i, 'conditional', null, error),
      );
      return;
    }
    evaluateLoop(
      s,
      this.#scope,
      (item, index) => this.#bindings(item, index),
      this.#core.limits.maxLoopIterations,
      this.signal,
    ).then(
      (elements) => this.#evaluated(i, 'loop', elements, null),
      (error) => this.#evaluated(i, 'loop', null, error),
    );
  }

  #evaluated(
    i: number,
    field: 'conditional' | 'loop',
    value: boolean | unknown[] | null,
    error: unknown,
  ): void {
    const state = this.state;
    const stage = field === 'conditional' ? STAGE.CONDITIONAL : STAGE.LOOP;
    // The grace period may have ended the step meanwhile.
    if (this.#ended || state.stepStatus[i] !== STEP.RUNNING || state.stage[i] !== stage) return;
    const s = this.plan.steps[i]!;
    const recorded =
      error === null ? null : errorRecordOf(ensureWeftError(error, ERROR_CODES.EXPRESSION_ERROR), s.key);
    // Without a journal nothing keeps the entry once `decide` has read it: one object serves every
    // evaluation of the run (as for executions' entries), its value dropped after.
    const scratch = this.#evaluatedScratch;
    let entry: StepEvaluatedEntry;
    if (scratch !== null) {
      scratch.seq = this.#next();
      scratch.at = this.#now();
      scratch.key = s.key;
      scratch.field = field;
      scratch.value = error === null ? value : null;
      scratch.error = recorded;
      entry = scratch;
    } else {
      entry = {
        run_id: this.id,
        seq: this.#next(),
        type: 'step.evaluated',
        at: this.#now(),
        key: s.key,
        field,
        value: error === null ? value : null,
        error: recorded,
      };
    }
    if (this.#journal !== null && !this.#journal.dropped) this.#write(entry);
    try {
      decideEvaluated(state, entry, this.#queue, i);
    } catch (e) {
      this.#crash(e);
      return;
    } finally {
      if (scratch !== null) {
        scratch.value = null;
        scratch.error = null;
      }
    }
    this.#drain(true);
  }

  // ── executions ──────────────────────────────────────────────────────────────────────────────────

  /**
   * One attempt, through the caps (rule 10). Fast paths: the run's p-limit is skipped when the run can
   * never reach its cap, the engine's when the run holds a reservation of engine slots (slots.ts).
   */
  #invoke(i: number, index: number, attempt: number): void {
    const entry = this.#profile.handlers[i]!;
    if (!entry.slots) {
      this.#start(i, index, attempt);
    } else if (this.#reservedSlots > 0 && this.#runCapUnreachable) {
      this.#holding++;
      const pending = this.#start(i, index, attempt);
      if (pending === undefined) this.#released();
      else pending.then(this.#releaseHolding, this.#releaseHolding);
    } else {
      this.#invokeLimited(i, index, attempt);
    }
  }

  /** Through the run's cap, the engine's, or both (a method of its own: its closure costs a context). */
  #invokeLimited(i: number, index: number, attempt: number): void {
    const task = () => this.#start(i, index, attempt);
    if (this.#reservedSlots > 0) {
      this.#holding++;
      this.runLimit(task).then(this.#releaseHolding, this.#releaseHolding);
    } else if (this.#runCapUnreachable) {
      void this.#core.engineLimit(task);
    } else {
      void this.runLimit(() => this.#core.engineLimit(task));
    }
  }

  readonly #releaseHolding = () => this.#released();

  #released(): void {
    if (--this.#holding === 0 && this.#ended) this.#releaseSlots();
  }

  /**
   * Starts an attempt that has its slot. Returns undefined when it is over already (its handler answered
   * synchronously), else a promise that resolves when its slot is free again: when its handler answers,
   * or when it times out.
   */
  #start(i: number, index: number, attempt: number): Promise<void> | undefined {
    const state = this.state;
    // The step may have ended while this attempt waited for its slot (the grace period, a failure).
    if (this.#ended || !isCurrent(state, i, index, attempt, UNIT.QUEUED)) return undefined;
    const s = this.plan.steps[i]!;
    if (s.toolOf !== null) return this.#startInvocation(i, index, attempt);
    // Suspended: a step that was not running does not start. Nothing of its attempt is journaled, so a
    // resume starts it as if the process had stopped just before; here it waits for `abandon`.
    if (this.#settling !== null && this.#settling[i] === 0) {
      this.#held ??= [];
      this.#held.push(i, index, attempt);
      return undefined;
    }
    // A step's body gets the run's signal, made only if the handler reads it: an AbortController costs
    // microseconds in Node 20, more than a whole synchronous step. Iterations get their loop's.
    const signal = index < 0 ? null : this.#loopController(i).signal;
    // Given up before it began when the run stopped (or the loop failed) meanwhile: `decide` knows at
    // once, the signal only once the STOP command behind this one has run.
    if (state.stopReason !== null || (index >= 0 && loopOf(state, i).firstError !== null)) {
      this.#settled(i, index, attempt, new CancelledError(state.stopReason ?? 'Another iteration failed.'));
      return undefined;
    }
    const aborted = signal === null ? this.#controller?.signal : signal;
    if (aborted?.aborted === true) {
      this.#settled(i, index, attempt, ensureWeftError(new CancelledError(abortReason(aborted))));
      return undefined;
    }
    const item = index < 0 ? undefined : loopOf(state, i).elements[index];
    const itemIndex = index < 0 ? undefined : index;
    const bindings = this.#bindings(item, itemIndex);
    return this.#runUnit(i, index, attempt, this.#scope, item, itemIndex, signal, bindings);
  }

  /** The handler (or its inline form) of an attempt that has its slot, over `scope`. */
  #runUnit(
    i: number,
    index: number,
    attempt: number,
    scope: Record<string, unknown>,
    item: unknown,
    itemIndex: number | undefined,
    signal: AbortSignal | null,
    bindings: ExpressionBindings,
  ): Promise<void> | undefined {
    const s = this.plan.steps[i]!;
    const entry = this.#profile.handlers[i]!;
    if (entry.inline !== undefined) {
      // A built-in handler answered synchronously (a `code` step whose expression the fast path takes).
      const output = entry.inline(s, scope, bindings);
      if (output !== BAIL) {
        this.#started(i, index, attempt);
        this.#completed(i, index, attempt, output);
        return undefined;
      }
    }
    const config = configNow(s, this.#scope, bindings, this.#views);
    if (config === undefined)
      return this.#render(i, index, attempt, entry, scope, item, itemIndex, signal, bindings);
    return this.#call(i, index, attempt, entry, config, scope, item, itemIndex, signal, bindings);
  }

  /**
   * An invocation of a tool-only step by a model step (run/agent.ts): the step runs with `input` bound to
   * the call's arguments, under a signal of its own (its model step's end aborts it).
   */
  #startInvocation(t: number, k: number, attempt: number): Promise<void> | undefined {
    const state = this.state;
    if (state.stopReason !== null || invocationAbandoned(state, t, k)) {
      this.#settled(
        t,
        k,
        attempt,
        new CancelledError(state.stopReason ?? 'The model step that called this tool has ended.'),
      );
      return undefined;
    }
    const input = toolOf(state, t).invocations[k]!.input;
    const controller = linkedController(this.signal);
    this.#callControllers ??= new Map();
    this.#callControllers.get(`s:${t}:${k}`)?.dispose();
    this.#callControllers.set(`s:${t}:${k}`, controller);
    const scope = { ...this.#scope, input };
    const bindings: ExpressionBindings = {
      input: input as Record<string, unknown>,
      steps: this.#stepsScope,
      vars: this.#vars,
      run: this.#runInfo,
      item: undefined,
      index: undefined,
    };
    return this.#runUnit(t, k, attempt, scope, undefined, k, controller.signal, bindings);
  }

  /** Templates first (they may be asynchronous), then the handler. */
  async #render(
    i: number,
    index: number,
    attempt: number,
    entry: HandlerEntry,
    scope: Record<string, unknown>,
    item: unknown,
    itemIndex: number | undefined,
    signal: AbortSignal | null,
    bindings: ExpressionBindings,
  ): Promise<void> {
    const s = this.plan.steps[i]!;
    let config: Record<string, unknown>;
    try {
      config = await renderConfig(s, scope, bindings, signal ?? this.signal);
    } catch (error) {
      if (this.#ended || !isCurrent(this.state, i, index, attempt, UNIT.QUEUED)) return;
      this.#started(i, index, attempt);
      this.#settled(
        i,
        index,
        attempt,
        ensureWeftError(error, ERROR_CODES.EXPRESSION_ERROR, { step_key: s.key }),
      );
      return;
    }
    if (this.#ended || !isCurrent(this.state, i, index, attempt, UNIT.QUEUED)) return;
    await this.#call(i, index, attempt, entry, config, scope, item, itemIndex, signal, bindings);
  }

  /** `signal` null: the step body's, the run's signal (made when the handler reads it). */
  #call(
    i: number,
    index: number,
    attempt: number,
    entry: HandlerEntry,
    config: Record<string, unknown>,
    scope: Record<string, unknown>,
    item: unknown,
    itemIndex: number | undefined,
    signal: AbortSignal | null,
    bindings: ExpressionBindings,
  ): Promise<void> | undefined {
    const s = this.plan.steps[i]!;
    let execution: Execution | null = null;
    let ctxSignal = signal;
    if (this.state.settings.timeoutMs[i] !== undefined) {
      execution = { controller: linkedController(signal ?? this.signal), release: null };
      this.#executions ??= new Map();
      this.#executions.set(executionKey(i, index, attempt), execution);
      ctxSignal = execution.controller.signal;
    }
    const context = new ExecutionContext(
      this,
      s,
      config,
      scope,
      item,
      itemIndex,
      attempt,
      ctxSignal,
      this.#vars,
      this.#runInfo,
      bindings,
    );
    this.#started(i, index, attempt);
    // In flight counts the handler itself, not our wait for it: a handler that outlives its timeout
    // still holds the run open (up to the grace period), so `done` never resolves under a live handler.
    this.#inFlight++;
    let result: unknown;
    try {
      this.#userCalls++;
      result = entry.run(context);
    } catch (error) {
      this.#handlerAnswered(i, index, attempt, execution, false, error);
      return undefined;
    }
    if (!isPromiseLike(result)) {
      // Answered at once: nothing can have settled this attempt meanwhile (no timer fired, the run
      // cannot have ended), so it is news — the checks of #handlerAnswered are not needed.
      this.#inFlight--;
      if (execution !== null) this.#disposeExecution(i, index, attempt, execution);
      this.#completed(i, index, attempt, result);
      return undefined;
    }
    return this.#await(i, index, attempt, execution, result);
  }

  #disposeExecution(i: number, index: number, attempt: number, execution: Execution): void {
    execution.controller.dispose();
    this.#executions!.delete(executionKey(i, index, attempt));
  }

  /**
   * Waits for a handler's promise; resolves when the attempt's slot is free: when the handler answers, or
   * earlier when the attempt times out (its `release`).
   */
  #await(
    i: number,
    index: number,
    attempt: number,
    execution: Execution | null,
    result: PromiseLike<unknown>,
  ): Promise<void> {
    // Without a timeout the slot is free exactly when the handler answers: the promise `then` derives
    // serves, without a promise of our own, its executor and resolving functions (W2: every step pays it).
    if (execution === null && result instanceof Promise) {
      return result.then(
        (value) => this.#handlerAnswered(i, index, attempt, null, true, value),
        (error: unknown) => this.#handlerAnswered(i, index, attempt, null, false, error),
      );
    }
    return new Promise<void>((release) => {
      if (execution !== null) execution.release = release;
      result.then(
        (value) => {
          this.#handlerAnswered(i, index, attempt, execution, true, value);
          release();
        },
        (error: unknown) => {
          this.#handlerAnswered(i, index, attempt, execution, false, error);
          release();
        },
      );
    });
  }

  #handlerAnswered(
    i: number,
    index: number,
    attempt: number,
    execution: Execution | null,
    ok: boolean,
    value: unknown,
  ): void {
    this.#inFlight--;
    if (execution !== null) this.#disposeExecution(i, index, attempt, execution);
    if (this.#callControllers !== null && this.plan.steps[i]!.toolOf !== null) {
      const key = `s:${i}:${index}`;
      this.#callControllers.get(key)?.dispose();
      this.#callControllers.delete(key);
    }
    // A late answer (the attempt timed out, the step was abandoned, the run ended) is not news.
    if (!this.#ended && isCurrent(this.state, i, index, attempt, UNIT.RUNNING)) {
      if (ok) this.#completed(i, index, attempt, value);
      else {
        const key = this.plan.steps[i]!.key;
        this.#settled(i, index, attempt, ensureWeftError(value, ERROR_CODES.STEP_FAILED, { step_key: key }));
      }
    }
    if (this.#inFlight === 0 && this.#waitingForHandlers) this.#endNow();
  }

  #started(i: number, index: number, attempt: number): void {
    const scratch = this.#startedScratch;
    if (scratch !== null) {
      scratch.seq = this.#next();
      scratch.at = this.#now();
      scratch.key = this.plan.steps[i]!.key;
      scratch.index = index < 0 ? null : index;
      scratch.attempt = attempt;
      this.#feedStarted(scratch, i);
      return;
    }
    this.#feedStarted(
      {
        run_id: this.id,
        seq: this.#next(),
        type: 'step.started',
        at: this.#now(),
        key: this.plan.steps[i]!.key,
        index: index < 0 ? null : index,
        attempt,
      },
      i,
    );
  }

  #completed(i: number, index: number, attempt: number, output: unknown): void {
    const scratch = this.#completedScratch;
    if (scratch !== null) {
      scratch.seq = this.#next();
      scratch.at = this.#now();
      scratch.key = this.plan.steps[i]!.key;
      scratch.index = index < 0 ? null : index;
      scratch.attempt = attempt;
      scratch.output = output;
      this.#feedSettled(scratch, i);
      scratch.output = null;
      return;
    }
    const entry: StepSettledEntry = {
      run_id: this.id,
      seq: this.#next(),
      type: 'step.settled',
      at: this.#now(),
      key: this.plan.steps[i]!.key,
      index: index < 0 ? null : index,
      attempt,
      outcome: 'completed',
      output,
      error: null,
      retryable: false,
      jitter: 0,
    };
    this.#feedSettled(entry, i);
  }

  #settled(i: number, index: number, attempt: number, error: WeftError): void {
    const key = this.plan.steps[i]!.key;
    const entry: StepSettledEntry = {
      run_id: this.id,
      seq: this.#next(),
      type: 'step.settled',
      at: this.#now(),
      key,
      index: index < 0 ? null : index,
      attempt,
      outcome: 'failed',
      output: null,
      error: errorRecordOf(error, key),
      retryable: error.retryable,
      jitter: this.#jitter(),
    };
    this.#feedSettled(entry, i);
  }

  #jitter(): number {
    const r = this.#core.random();
    return r >= 0 && r < 1 ? r : 0;
  }

  /** The attempt timed out: its signal fires with the STEP_TIMEOUT error and its slot is free. */
  #abortExecution(i: number, index: number, attempt: number): void {
    const execution = this.#executions?.get(executionKey(i, index, attempt));
    if (execution === undefined) return;
    const s = this.plan.steps[i]!;
    execution.controller.abort(timeoutError(s.key, this.state.settings.timeoutMs[i]!, attempt));
    execution.release?.();
    execution.release = null;
  }

  /** Iterations share one controller so that, with throw_on_error, the first failure aborts the others. */
  #loopController(i: number): LinkedController {
    this.#loopControllers ??= new Map();
    let controller = this.#loopControllers.get(i);
    if (controller === undefined) {
      controller = linkedController(this.signal);
      this.#loopControllers.set(i, controller);
    }
    return controller;
  }

  // ── tools (run/agent.ts) ────────────────────────────────────────────────────────────────────────

  /** `task` under the run's and the engine's caps, like an execution; it resolves when its slot is free. */
  #slotted(task: () => Promise<void> | undefined): void {
    if (this.#reservedSlots > 0 && this.#runCapUnreachable) {
      this.#holding++;
      const pending = task();
      if (pending === undefined) this.#released();
      else pending.then(this.#releaseHolding, this.#releaseHolding);
      return;
    }
    this.#slot(async () => {
      await task();
    });
  }

  /** A model call (or any task) under the run's and the engine's caps. */
  #slot<T>(task: () => Promise<T>): Promise<T> {
    if (this.#reservedSlots > 0) {
      this.#holding++;
      const pending = this.runLimit(task);
      pending.then(this.#releaseHolding, this.#releaseHolding);
      return pending;
    }
    if (this.#runCapUnreachable) return this.#core.engineLimit(task);
    return this.runLimit(() => this.#core.engineLimit(task));
  }

  /** Call `c` of model step `i`'s unit `index`: an external tool's handler (`tool.started`, `tool.settled`). */
  #startTool(i: number, index: number, c: number): Promise<void> | undefined {
    const state = this.state;
    const agent = agentIfAny(state, i, index);
    const call = agent?.calls[c];
    if (this.#ended || agent === undefined || call === undefined || call.status !== CALL.QUEUED)
      return undefined;
    const s = this.plan.steps[i]!;
    if (state.stopReason !== null || agent.done) {
      this.#toolSettled(i, index, c, false, new CancelledError(state.stopReason ?? 'The model step ended.'));
      return undefined;
    }
    const name = s.agent!.tools.find((tool) => tool.name === call.name)?.target ?? call.name;
    const definition = this.#core.tools.get(name);
    if (definition === undefined) {
      this.#toolSettled(
        i,
        index,
        c,
        false,
        new WeftError(ERROR_CODES.HANDLER_NOT_FOUND, `No tool "${name}" is registered on the engine.`, {
          step_key: s.key,
          retryable: false,
        }),
      );
      return undefined;
    }
    this.#feed({
      run_id: this.id,
      seq: this.#next(),
      type: 'tool.started',
      at: this.#now(),
      key: s.key,
      index: index < 0 ? null : index,
      call: c,
    });
    // `#feed` ran the decider: the call is RUNNING now, unless the run stopped meanwhile.
    if (this.#ended || (call.status as number) !== CALL.RUNNING) return undefined;
    const controller = linkedController(this.signal);
    const key = `x:${i}:${index}:${c}`;
    this.#callControllers ??= new Map();
    this.#callControllers.set(key, controller);
    const context = new ExecutionContext(
      this,
      s,
      call.input as Record<string, unknown>,
      this.#scope,
      undefined,
      index < 0 ? undefined : index,
      1,
      controller.signal,
      this.#vars,
      this.#runInfo,
      this.#bindings(undefined, undefined),
    );
    context.idempotencySuffix = `:tool:${encodeURIComponent(call.id)}`;
    this.#inFlight++;
    const answered = (ok: boolean, value: unknown) => {
      this.#inFlight--;
      controller.dispose();
      this.#callControllers?.delete(key);
      if (!this.#ended && call.status === CALL.RUNNING) this.#toolSettled(i, index, c, ok, value);
      if (this.#inFlight === 0 && this.#waitingForHandlers) this.#endNow();
    };
    let result: unknown;
    try {
      this.#userCalls++;
      result = definition.handler(call.input, context);
    } catch (error) {
      answered(false, error);
      return undefined;
    }
    if (!isPromiseLike(result)) {
      answered(true, result);
      return undefined;
    }
    return new Promise<void>((release) => {
      result.then(
        (value) => {
          answered(true, value);
          release();
        },
        (error: unknown) => {
          answered(false, error);
          release();
        },
      );
    });
  }

  #toolSettled(i: number, index: number, c: number, ok: boolean, value: unknown): void {
    const key = this.plan.steps[i]!.key;
    const entry: ToolSettledEntry = {
      run_id: this.id,
      seq: this.#next(),
      type: 'tool.settled',
      at: this.#now(),
      key,
      index: index < 0 ? null : index,
      call: c,
      outcome: ok ? 'completed' : 'failed',
      output: ok ? (value === undefined ? null : value) : null,
      error: ok
        ? null
        : errorRecordOf(ensureWeftError(value, ERROR_CODES.STEP_FAILED, { step_key: key }), key),
    };
    this.#feed(entry);
  }

  /** The unit that made the call has ended: abort the call's handler, if it runs. */
  #cancelCall(i: number, index: number, c: number): void {
    const call = agentIfAny(this.state, i, index)?.calls[c];
    if (call === undefined) return;
    const key = call.step >= 0 ? `s:${call.step}:${call.unit}` : `x:${i}:${index}:${c}`;
    this.#callControllers
      ?.get(key)
      ?.abort(new CancelledError('The model step that called this tool has ended.'));
  }

  #wakeAgent(i: number, index: number): void {
    const key = `${i}:${index}`;
    const waiters = this.#agentWaiters?.get(key);
    if (waiters === undefined) return;
    this.#agentWaiters!.delete(key);
    for (const wake of waiters) wake();
  }

  #emitCall(i: number, index: number, c: number, settled: boolean): void {
    const call = agentIfAny(this.state, i, index)?.calls[c];
    if (call === undefined) return;
    const s = this.plan.steps[i]!;
    const at = index < 0 ? {} : { index };
    if (!settled) {
      this.#emit('tool.called', () => ({
        step_key: s.key,
        ...at,
        id: call.id,
        name: call.name,
        input: this.#redact(call.input),
      }));
      return;
    }
    const status: 'COMPLETED' | 'FAILED' | 'CANCELLED' =
      call.status === CALL.COMPLETED ? 'COMPLETED' : call.status === CALL.CANCELLED ? 'CANCELLED' : 'FAILED';
    this.#emit('tool.result', () => ({
      step_key: s.key,
      ...at,
      id: call.id,
      name: call.name,
      status,
      ...(status === 'COMPLETED'
        ? { output: this.#redact(call.output) }
        : { error: this.#redact(call.error!) }),
    }));
  }

  agentPort(i: number, index: number | undefined, attempt: number): AgentPort | null {
    const s = this.plan.steps[i]!;
    if (s.agent === null) return null;
    const unit = index ?? -1;
    const waitKey = `${i}:${unit}`;
    return {
      turns: () => transcriptOf(this.state, i, unit),
      replied: (reply) => {
        // An attempt that timed out, or a run that ended, may still answer: that is not news any more.
        if (this.#ended || !isCurrent(this.state, i, unit, attempt, UNIT.RUNNING)) {
          throw new CancelledError('This attempt of the model step is no longer the current one.');
        }
        this.#feed({
          run_id: this.id,
          seq: this.#next(),
          type: 'model.replied',
          at: this.#now(),
          key: s.key,
          index: index ?? null,
          attempt,
          ...reply,
        });
      },
      settled: (signal) =>
        new Promise<void>((resolve, reject) => {
          const agent = agentIfAny(this.state, i, unit);
          if (agent === undefined || agent.open === 0 || this.#ended) {
            resolve();
            return;
          }
          if (signal.aborted) {
            reject(signal.reason);
            return;
          }
          const onAbort = () => reject(signal.reason);
          signal.addEventListener('abort', onAbort, { once: true });
          this.#agentWaiters ??= new Map();
          let waiters = this.#agentWaiters.get(waitKey);
          if (waiters === undefined) {
            waiters = [];
            this.#agentWaiters.set(waitKey, waiters);
          }
          waiters.push(() => {
            signal.removeEventListener('abort', onAbort);
            resolve();
          });
        }),
      slot: (task) => this.#slot(task),
    };
  }

  // ── what handlers report (ctx.usage, ctx.log, ctx.emit) ────────────────────────────────────────

  recordUsage(i: number, index: number | undefined, call: UsageCall): void {
    // After the run's end, a straggler's usage is dropped: the run's ledger and events are final.
    if (this.#ended) return;
    const key = this.plan.steps[i]!.key;
    if (call === null || typeof call !== 'object' || typeof call.id !== 'string') {
      throw new WeftError(
        ERROR_CODES.INVALID_ARGUMENT,
        'Expected `usage.record(call)` to get `{ id: string, total: number }`.',
        { step_key: key },
      );
    }
    let owner = key;
    let ownerIndex = index ?? null;
    let recorded = call;
    const s = this.plan.steps[i]!;
    if (s.toolOf !== null && index !== undefined) {
      // A tool step's usage is its model step's (the tool's calls roll up under it).
      const inv = toolOf(this.state, i).invocations[index]!;
      owner = this.plan.steps[inv.parent]!.key;
      ownerIndex = inv.parentIndex < 0 ? null : inv.parentIndex;
      recorded = { ...call, tool_step_key: key, tool_index: index };
    }
    const seq = this.state.seq + 1;
    this.#feed({
      run_id: this.id,
      seq: this.#next(),
      type: 'usage.recorded',
      at: this.#now(),
      key: owner,
      index: ownerIndex,
      call: this.#redact(recorded),
    });
    if (this.state.budgetSeq === seq) throw weftErrorOf(this.state.error!);
  }

  log(i: number, index: number | undefined, level: LogLevel, message: string, data: unknown): void {
    if (this.#ended) return;
    const entry: LogEntry = { level, message: String(message), time: this.#now() };
    if (data !== undefined) entry.data = data;
    if (index !== undefined) entry.index = index;
    this.#feed({
      run_id: this.id,
      seq: this.#next(),
      type: 'step.logged',
      at: entry.time,
      key: this.plan.steps[i]!.key,
      log: this.#redact(entry),
    });
  }

  /**
   * A `workflow` step's execution starts child run `childRunId`: journaled (`child.started`) before the
   * child's first entry, so that the unit run again after a crash re-attaches to it (`childOf`).
   */
  childStarted(i: number, index: number | undefined, attempt: number, childRunId: string): void {
    if (this.#ended) return;
    this.#feed({
      run_id: this.id,
      seq: this.#next(),
      type: 'child.started',
      at: this.#now(),
      key: this.plan.steps[i]!.key,
      index: index ?? null,
      attempt,
      child_run_id: childRunId,
    });
  }

  /** The child run an execution of step `i`'s unit `index` started (journaled), if any. */
  childOf(i: number, index: number | undefined): string | undefined {
    return this.state.extras[i]?.children?.get(index ?? -1);
  }

  emit(i: number, _index: number | undefined, event: HandlerEventName, data: unknown): void {
    if (this.#ended) return;
    const key = this.plan.steps[i]!.key;
    this.#emit(event, () => ({ step_key: key, ...(this.#redact(data) as object) }) as never);
  }

  // ── timers ──────────────────────────────────────────────────────────────────────────────────────

  #setTimer(timer: number, i: number, index: number, attempt: number, due: number): void {
    this.#timers ??= new Map();
    const key = `${timer}:${i}:${index}:${attempt}`;
    const fire = () => {
      this.#timers?.delete(key);
      if (this.#ended) return;
      const now = this.#core.clock.now();
      // setTimeout caps a delay at ~24.8 days: longer waits are taken in several turns.
      if (now < due - 1 && due - now > MAX_TIMER_MS / 2) {
        this.#timers!.set(key, setTimeout(fire, Math.min(MAX_TIMER_MS, due - now)));
        return;
      }
      this.#timerFired(timer, i, index, attempt);
    };
    this.#timers.set(
      key,
      setTimeout(fire, Math.min(MAX_TIMER_MS, Math.max(0, due - this.#core.clock.now()))),
    );
  }

  #clearTimer(timer: number, i: number, index: number, attempt: number): void {
    const key = `${timer}:${i}:${index}:${attempt}`;
    const handle = this.#timers?.get(key);
    if (handle === undefined) return;
    clearTimeout(handle);
    this.#timers!.delete(key);
  }

  #timerFired(timer: number, i: number, index: number, attempt: number): void {
    const state = this.state;
    const name = timer === 0 ? 'timeout' : timer === 1 ? 'retry' : 'grace';
    if (name === 'grace') {
      this.#graceExpired = true;
      if (state.stopReason === null || Number.isNaN(state.graceDeadline)) return;
    } else if (!isCurrent(state, i, index, attempt, name === 'timeout' ? UNIT.RUNNING : UNIT.WAITING)) {
      return;
    }
    this.#feed({
      run_id: this.id,
      seq: this.#next(),
      type: 'timer.fired',
      at: this.#now(),
      timer: name,
      key: i < 0 ? null : this.plan.steps[i]!.key,
      index: index < 0 ? null : index,
      attempt,
      jitter: name === 'timeout' ? this.#jitter() : 0,
    });
    if (name === 'grace' && this.#waitingForHandlers) this.#endNow();
  }

  // ── ending ──────────────────────────────────────────────────────────────────────────────────────

  /** Every step has settled: end once no handler runs, or once the grace period is over. */
  #beginEnd(): void {
    if (this.#ending) return;
    this.#ending = true;
    if (this.#inFlight === 0 || this.#graceExpired) {
      this.#endNow();
      return;
    }
    // e.g. a timed-out handler that ignores its signal: give it the grace period, then end anyway.
    this.#waitingForHandlers = true;
    if (this.state.stopReason === null || Number.isNaN(this.state.graceDeadline)) {
      this.#timers ??= new Map();
      this.#timers.set(
        'linger',
        setTimeout(() => {
          this.#graceExpired = true;
          this.#endNow();
        }, this.#core.limits.cancelGraceMs),
      );
    }
  }

  #endNow(): void {
    if (this.#endStarted) return;
    this.#endStarted = true;
    this.#waitingForHandlers = false;
    if (this.#journal === null || this.#journal.dropped) {
      this.#feed(this.#endEntry());
      return;
    }
    void this.#endJournaled(this.#journal);
  }

  /**
   * With a journal, the run ends only once its entries are acknowledged — `done` never resolves with a
   * run the store has not got — and its `run.ended` entry counts only once written (it goes in the same
   * batch as the entries before it). A failed append ends the run FAILED with STORE_ERROR; when even that
   * end cannot be written, the run gives its journal up and ends in memory.
   */
  async #endJournaled(journal: RunJournal): Promise<void> {
    const failedBefore = journal.failure !== null;
    const entry = this.#endEntry();
    this.#endEntryPending = true;
    const written = this.#write(entry);
    const ok = await journal.flushed();
    this.#endEntryPending = false;
    if (ok) {
      this.#decideEnd(entry);
      return;
    }
    // The end was not written: it never happened. Record the failure, then end FAILED.
    this.#writer!.unwrite(journal, written);
    if (failedBefore) {
      this.#writer!.drop(journal);
      this.#feed(this.#endEntry());
      return;
    }
    this.#feed({
      run_id: this.id,
      seq: this.#next(),
      type: 'journal.failed',
      at: this.#now(),
      error: journal.failure!.toJSON(),
    });
    const failed = this.#endEntry();
    this.#write(failed);
    if (await journal.flushed()) {
      this.#decideEnd(failed);
      return;
    }
    this.#writer!.drop(journal);
    this.#decideEnd(failed);
  }

  #decideEnd(entry: JournalEntry): void {
    try {
      decide(this.state, entry, this.#queue);
    } catch (error) {
      this.#crash(error);
      return;
    }
    this.#drain();
  }

  #endEntry(): JournalEntry {
    return {
      run_id: this.id,
      seq: this.#next(),
      type: 'run.ended',
      at: this.#now(),
      status: this.state.ending!,
    };
  }

  #journalFailed(error: WeftError): void {
    if (this.#ended || this.#endEntryPending) return;
    this.#feed({
      run_id: this.id,
      seq: this.#next(),
      type: 'journal.failed',
      at: this.#now(),
      error: error.toJSON(),
    });
  }

  /** The run has ended (or the journal given to `resume` ended with it): final event, `done`. */
  #finish(): void {
    if (this.#ended) return;
    this.#ended = true;
    if (this.#onExternalAbort !== null) {
      this.#external!.removeEventListener('abort', this.#onExternalAbort);
      this.#onExternalAbort = null;
    }
    if (this.#timers !== null) {
      for (const handle of this.#timers.values()) clearTimeout(handle);
      this.#timers = null;
    }
    if (this.#loopControllers !== null) {
      for (const controller of this.#loopControllers.values()) controller.dispose();
    }
    if (this.#callControllers !== null) {
      for (const controller of this.#callControllers.values()) controller.dispose();
      this.#callControllers = null;
    }
    if (this.#agentWaiters !== null) {
      // A model step still waiting for its tools when the run ends (abandoned after the grace period).
      for (const waiters of this.#agentWaiters.values()) for (const wake of waiters) wake();
      this.#agentWaiters = null;
    }
    if (this.#holding === 0) this.#releaseSlots();
    if (this.#suspendWaiters !== null) this.#checkSuspended();
    const run = this.snapshot();
    this.#run = run;
    if (run.status === 'COMPLETED') this.#emit('run.completed', () => ({ run }));
    else if (run.status === 'FAILED') this.#emit('run.failed', () => ({ run, error: run.error! }));
    else if (run.status === 'CANCELLED') {
      this.#emit('run.cancelled', () => ({ run, reason: this.state.stopReason ?? 'Cancelled.' }));
    }
    if (this.plan.steps.length <= KEEP_SHAPES_MAX_STEPS) KEPT.set(this.#core, this);
    else if (!KEPT.has(this.#core)) KEPT.set(this.#core, this.#shapes());
    this.#resolveDone(run);
  }

  /**
   * The stand-in `KEPT` holds for a long run: a runner of the same plan with no per-step data, its run
   * object, run fields and `run.started` entry, the run's last step record and `run.ended` entry, and a scope view — each made where a run
   * makes them, so that they share the run's maps; what they hold of the run is one step's record without
   * its output or logs. Nothing of it is reachable from outside or ever runs.
   */
  #shapes(): readonly unknown[] {
    const last = this.plan.steps.length - 1;
    const twin = new Runner(
      this.#core,
      this.plan,
      {
        init: {
          runId: this.id,
          createdAt: this.state.createdAt,
          input: {},
          fromStepKey: this.state.fromStepKey,
          meta: this.state.meta,
        },
        variables: undefined,
        signal: undefined,
        journal: null,
        preset: null,
        runLimit: undefined,
        shapesOnly: true,
      },
      this.#events,
    );
    const record = stepRecord(this.state, last, this.#secrets);
    record.output = null;
    record.logs = [];
    twin.#run = runRecord(twin.state, this.plan.document, twin.#secrets);
    // `fields()` too: `runRecord` builds the run object from a `runFields` object, whose map is embedded in
    // its optimised code; without one alive, that map died at a GC and `runRecord` deoptimised once per
    // long run after it ("weak objects", then "insufficient type feedback": W7a).
    return [
      twin,
      record,
      twin.fields(),
      twin.#startedEntry(),
      this.#endEntry(),
      scopeView(STEP.COMPLETED, null, null),
    ];
  }

  // ── slots ───────────────────────────────────────────────────────────────────────────────────────

  #reserveSlots(): void {
    if (this.plan.steps.length === 0 || this.#reservedSlots > 0) return;
    const width = Math.min(this.#profile.maxParallel, this.#runCap);
    if (this.#core.engineSlots.reserve(width)) this.#reservedSlots = width;
  }

  /** Gives the run's engine slots back (once it has ended and none of its executions is in flight). */
  #releaseSlots(): void {
    const n = this.#reservedSlots;
    if (n === 0) return;
    this.#reservedSlots = 0;
    this.#core.engineSlots.release(n);
  }

  // ── scope, records, events ──────────────────────────────────────────────────────────────────────

  /** A settled step joins the expression scope (docs/semantics.md, rule 7). */
  #publish(i: number): void {
    const state = this.state;
    const s = this.plan.steps[i]!;
    const status = state.stepStatus[i]!;
    const error = errorOf(state, i);
    // The scope keeps the real (unredacted) output: expressions may need what a secret-bearing step returned.
    const view = scopeView(
      status,
      status === STEP.COMPLETED ? state.outputs[i] : null,
      error === null ? null : this.#redact(error),
    );
    // `$steps` is kept only for plans that may read it (plan.usesSteps): one map fewer to grow per step.
    if (this.plan.usesSteps) this.#stepsScope[s.key] = view;
    // The run input keeps the name `input` even when a step is keyed "input" (reach it as $steps.input).
    if (s.key !== 'input') this.#scope[s.key] = view;
    if (this.#views !== null) this.#views[i] = view;
  }

  // ── what a durable store projects (the registry, registry/journal-sink.ts) ─────────────────────

  /** Step `i`'s record as the run object shows it (redacted). */
  stepRecord(i: number): StepRecord {
    return stepRecord(this.state, i, this.#secrets);
  }

  /** The run object without its step records (redacted): a store's run row. */
  fields(): ReturnType<typeof runFields> {
    return runFields(this.state, this.plan.document, this.#secrets);
  }

  /**
   * Resolves true once every journal entry written so far is acknowledged by the sink (at once without a
   * journal), false as soon as an append failed.
   */
  journalFlushed(): Promise<boolean> {
    return this.#journal === null || this.#journal.dropped ? Promise.resolve(true) : this.#journal.flushed();
  }

  /**
   * Stops writing this run's journal and stops the run, which ends FAILED with `error`: its journal is
   * no longer this process's to write (the lease went to another owner, the run ended elsewhere, the
   * store refused it). Nothing more is written for it; its handlers' signals fire. No-op once ended.
   */
  abandon(error: WeftError): void {
    const journal = this.#journal;
    if (this.#ended || journal === null) return;
    this.#writer!.drop(journal);
    journal.failed(error);
    // The attempts a suspension held back end now, as they would have had they waited for a slot.
    const held = this.#held ?? [];
    this.#held = null;
    for (let h = 0; h < held.length; h += 3) {
      const [i, index, attempt] = [held[h]!, held[h + 1]!, held[h + 2]!];
      if (this.#ended || !isCurrent(this.state, i, index, attempt, UNIT.QUEUED)) continue;
      this.#settled(i, index, attempt, new CancelledError(this.state.stopReason ?? error.message));
    }
  }

  /**
   * Suspends the run (the registry's `weft.suspend`, docs/durability.md "Suspending"): from now on no step
   * that is not running starts (its condition or loop list may still be evaluated and journaled, as
   * before a crash); the steps running go on — their retries, iterations and tool calls
   * included. Resolves once each of them has settled, or the run has ended (a run whose last steps were
   * running completes). The run does not end by itself: its journal is a prefix of the run, which the
   * caller flushes and then abandons here (`abandon`) for another process to resume.
   */
  suspend(): Promise<void> {
    if (this.#ended) return Promise.resolve();
    if (this.#settling === null) {
      const status = this.state.stepStatus;
      const settling = new Uint8Array(status.length);
      for (let i = 0; i < status.length; i++) if (status[i] === STEP.RUNNING) settling[i] = 1;
      this.#settling = settling;
    }
    this.#suspendWaiters ??= [];
    const waiters = this.#suspendWaiters;
    const settled = new Promise<void>((resolve) => waiters.push(resolve));
    this.#checkSuspended();
    return settled;
  }

  /** Wakes the callers of `suspend` once no step of `#settling` is running (or the run has ended). */
  #checkSuspended(): void {
    const settling = this.#settling!;
    if (!this.#ended) {
      const status = this.state.stepStatus;
      for (let i = 0; i < settling.length; i++) if (settling[i] === 1 && status[i] === STEP.RUNNING) return;
    }
    const waiters = this.#suspendWaiters!;
    this.#suspendWaiters = null;
    for (const wake of waiters) wake();
  }

  /** The run object as it stands now (final once `done` has resolved). */
  snapshot(): Run {
    if (this.#run !== null) return this.#run;
    return runRecord(this.state, this.plan.document, this.#secrets);
  }

  #bindings(item: unknown, index: number | undefined): ExpressionBindings {
    // Outside loops every evaluation of the run binds the same values: one object serves (it is read-only).
    if (item === undefined && index === undefined) {
      this.#plainBindings ??= {
        input: this.state.input,
        steps: this.#stepsScope,
        vars: this.#vars,
        run: this.#runInfo,
        item: undefined,
        index: undefined,
      };
      return this.#plainBindings;
    }
    return {
      input: this.state.input,
      steps: this.#stepsScope,
      vars: this.#vars,
      run: this.#runInfo,
      item,
      index,
    };
  }

  #redact<T>(value: T): T {
    return this.#secrets.length === 0 ? value : redact(value, this.#secrets);
  }

  /**
   * The time of a fact (ISO). Within one synchronous pass of the drain loop, a reading is reused as long
   * as no user code (a handler, a listener) has run since it was taken: between a step settling and the
   * next one starting only the engine's own bookkeeping runs — microseconds, below the ISO time's
   * millisecond — and a clock read costs as much as a whole step's scheduling on some machines (~160 ns
   * here: `Date.now()`). The pass that a just-stamped fact starts keeps that fact's reading (`#drain`):
   * a handler's answer is stamped once, not once for the fact and again for the next step's start.
   */
  #now(): string {
    if (this.#draining && this.#clockTurn === this.#turn && this.#clockUserCalls === this.#userCalls) {
      return this.#clockAt;
    }
    const at = isoOf(this.#core.clock.now());
    this.#clockAt = at;
    this.#clockTurn = this.#turn;
    this.#clockUserCalls = this.#userCalls;
    return at;
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

  /** Emits to the run's listeners and the engine's; the payload is built only when someone listens. */
  #emit<K extends WeftEventName>(
    event: K,
    build: () => Omit<WeftEventMap[K], 'run_id' | 'seq' | 'time'>,
  ): void {
    const seq = ++this.#seq;
    const local = this.#events.has(event);
    const global = this.#core.events.has(event);
    if (!local && !global) return;
    const payload = { run_id: this.id, seq, time: this.#now(), ...build() } as WeftEventMap[K];
    this.#deliver(event, payload);
  }

  /**
   * Hands a built payload to the run's listeners and the engine's (the caller knows someone listens).
   * No `has` check again per emitter: an emitter nobody listened to yet has no store (`emit` is a null
   * check), and one whose listeners have gone calls only its no-op sentinel — each cheaper than asking.
   */
  #deliver<K extends WeftEventName>(event: K, payload: WeftEventMap[K]): void {
    this.#userCalls++;
    this.#events.emit(event, payload);
    this.#core.events.emit(event, payload);
  }

  /**
   * `step.started` (the caller checked `#listens`). The two events of every step are built here as plain
   * literals, one shape each, without the closure and spread of `#emit`.
   */
  #emitStarted(i: number): void {
    const s = this.plan.steps[i]!;
    const parent = this.#parentKey(i, s.toolOf === null ? undefined : 0);
    const seq = ++this.#seq;
    const time = this.#now();
    this.#deliver(
      'step.started',
      parent === undefined
        ? { run_id: this.id, seq, time, step_key: s.key, type: s.type, attempt: 1 }
        : { run_id: this.id, seq, time, step_key: s.key, type: s.type, attempt: 1, parent_step_key: parent },
    );
  }

  /** The settling event (a method of its own: the payload closures would otherwise cost the caller a context). */
  #emitSettled(i: number): void {
    const state = this.state;
    const status = state.stepStatus[i]!;
    const event = SETTLED_EVENT[status] as
      | 'step.completed'
      | 'step.failed'
      | 'step.cancelled'
      | 'step.skipped';
    if (!this.#listens(event)) return;
    const s = this.plan.steps[i]!;
    const parent = this.#parentKey(i, undefined);
    if (status === STEP.COMPLETED) {
      const seq = ++this.#seq;
      const time = this.#now();
      const output = this.#redact(state.outputs[i]);
      this.#deliver(
        'step.completed',
        parent === undefined
          ? { run_id: this.id, seq, time, step_key: s.key, type: s.type, output }
          : { run_id: this.id, seq, time, step_key: s.key, type: s.type, parent_step_key: parent, output },
      );
      return;
    }
    const base =
      parent === undefined
        ? { step_key: s.key, type: s.type }
        : { step_key: s.key, type: s.type, parent_step_key: parent };
    switch (status) {
      case STEP.FAILED:
        this.#emit('step.failed', () => ({ ...base, error: this.#redact(errorOf(state, i)!) }));
        break;
      case STEP.CANCELLED:
        this.#emit('step.cancelled', () => ({ ...base, reason: state.stopReason ?? 'Cancelled.' }));
        break;
      case STEP.SKIPPED:
        this.#emit('step.skipped', () => ({ ...base, reason: skipReasonOf(state, i)! }));
        break;
    }
  }

  #emitLoopStarted(i: number): void {
    const s = this.plan.steps[i]!;
    const { settings } = this.state;
    const count = loopOf(this.state, i).elements.length;
    this.#emit('loop.started', () => ({
      step_key: s.key,
      type: s.type,
      count,
      max_concurrency: settings.loopRequested[i]!,
      effective_concurrency: settings.loopCap[i]!,
    }));
  }

  #emitIteration(i: number, index: number, obj: unknown): void {
    const s = this.plan.steps[i]!;
    const count = loopOf(this.state, i).elements.length;
    const status = (
      typeof obj === 'string' ? obj : (obj as { status: IterationStatus }).status
    ) as IterationStatus;
    const error = typeof obj === 'string' ? undefined : (obj as { error: ErrorRecord }).error;
    this.#emit('loop.iteration', () => ({
      step_key: s.key,
      type: s.type,
      index,
      count,
      status,
      ...(error === undefined ? {} : { error: this.#redact(error) }),
    }));
  }

  #emitRetrying(i: number, index: number, attempt: number, delay: number, error: ErrorRecord): void {
    const s = this.plan.steps[i]!;
    this.#emit('step.retrying', () => ({
      step_key: s.key,
      type: s.type,
      attempt,
      delay_ms: delay,
      error: this.#redact(error),
      ...(index < 0 ? {} : { index }),
    }));
  }
}

/** A settled step as expressions see it (`STEP.x` as a status); one allocation site, one shape. */
function scopeView(status: number, output: unknown, error: ErrorRecord | null) {
  return Object.freeze({ status: stepLifecycle.states[status]!, output, error });
}

/** An AbortController that also aborts when `parent` does; `dispose` unhooks it. */
interface LinkedController extends AbortController {
  dispose(): void;
}

function linkedController(parent: AbortSignal): LinkedController {
  const controller = new AbortController() as LinkedController;
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

function executionKey(i: number, index: number, attempt: number): string {
  return `${i}:${index}:${attempt}`;
}

function errorRecordOf(error: WeftError, stepKey: string): ErrorRecord {
  const record = error.toJSON();
  if (record.step_key === undefined) record.step_key = stepKey;
  return record;
}

/** The WeftError a recorded error stands for (what a signal aborts with, what `usage.record` throws). */
function weftErrorOf(record: ErrorRecord): WeftError {
  return new WeftError(record.code, record.message, {
    ...(record.step_key === undefined ? {} : { step_key: record.step_key }),
    ...(record.details === undefined ? {} : { details: record.details }),
    retryable: false,
  });
}

function abortReason(signal: AbortSignal): string {
  return cancelReasonOf(signal.reason);
}

function isPromiseLike(value: unknown): value is PromiseLike<unknown> {
  return (
    value !== null && typeof value === 'object' && typeof (value as { then?: unknown }).then === 'function'
  );
}

let isoMs = Number.NaN;
let isoText = '';

/**
 * `new Date(ms).toISOString()`, cached for the last millisecond seen: every journal entry carries its
 * time, and many are made within one millisecond (formatting was once the scheduler's top cost).
 */
export function isoOf(ms: number): string {
  if (ms !== isoMs) {
    isoText = new Date(ms).toISOString();
    isoMs = ms;
  }
  return isoText;
}

/** The run metadata of `engine.start`'s options (the `meta` of `run.started`). */
export function metaOf(
  options: {
    origin?: RunMeta['origin'];
    app_id?: string | null;
    workflow_app_id?: string | null;
    workflow_id?: string | null;
    collection_id?: string | null;
    record_id?: string | null;
    version?: number | null;
    draft?: boolean;
    replay_of?: string | null;
  },
  document: unknown,
  retention: RunMeta['retention'],
): RunMeta {
  const doc = document as { version?: unknown; id?: unknown };
  return {
    origin: options.origin ?? 'WORKFLOW',
    app_id: options.app_id ?? null,
    workflow_app_id: options.workflow_app_id ?? options.app_id ?? null,
    workflow_id: options.workflow_id ?? null,
    collection_id: options.collection_id ?? null,
    record_id: options.record_id ?? null,
    version: options.version ?? (typeof doc.version === 'number' ? doc.version : null),
    draft: options.draft ?? !(typeof doc.version === 'number' || typeof doc.id === 'string'),
    retention,
    replay_of: options.replay_of ?? null,
  };
}
