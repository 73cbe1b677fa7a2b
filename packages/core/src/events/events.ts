/**
 * Run events: a typed map of events to listeners. Every event carries `run_id`, a per-run monotonic `seq`
 * and a `time` (ISO). Listeners are isolated: one that throws is reported (`onListenerError`, default a
 * process warning) and never breaks the run or the listeners after it.
 */
import { ERROR_CODES, type ErrorRecord, invalidArgument, WeftError } from '../errors.js';
import type { ModelNeeds } from '../providers/auto-model.js';
import type { ModelToolCallDelta } from '../providers/provider.js';
import type { LogEntry, Run, SkipReason, UsageCall } from '../run/types.js';
import type { RunStatus } from '../statuses.js';

export interface EventBase {
  run_id: string;
  seq: number;
  time: string;
}

export interface StepEventBase extends EventBase {
  step_key: string;
  type: string;
  /** A tool-only step's events: the model step that calls it (docs/semantics.md, "Tools"). */
  parent_step_key?: string;
}

export interface WeftEventMap {
  'run.started': EventBase & { status: RunStatus };
  'run.completed': EventBase & { run: Run };
  'run.failed': EventBase & { run: Run; error: ErrorRecord };
  'run.cancelled': EventBase & { run: Run; reason: string };
  'step.started': StepEventBase & { attempt: number };
  'step.completed': StepEventBase & { output: unknown };
  'step.skipped': StepEventBase & { reason: SkipReason };
  'step.failed': StepEventBase & { error: ErrorRecord };
  'step.cancelled': StepEventBase & { reason: string };
  'step.retrying': StepEventBase & { attempt: number; delay_ms: number; error: ErrorRecord; index?: number };
  /**
   * A loop step has its elements and starts its iterations. `max_concurrency`: the cap it asked for (its
   * own, else `limits.loopConcurrency`); `effective_concurrency`: the cap it runs under, lower when the
   * run's or the engine's cap clips it (docs/semantics.md, rule 10).
   */
  'loop.started': StepEventBase & { count: number; max_concurrency: number; effective_concurrency: number };
  'loop.iteration': StepEventBase & {
    index: number;
    count: number;
    status: 'COMPLETED' | 'FAILED' | 'CANCELLED';
    error?: ErrorRecord;
  };
  usage: EventBase & { step_key: string; call: UsageCall; total: number };
  log: EventBase & { step_key?: string; parent_step_key?: string } & LogEntry;
  /**
   * A streaming provider's delta: text (`delta`), or a fragment of a tool call (`tool_call`, with `delta`
   * empty).
   */
  'model.delta': EventBase & {
    step_key: string;
    delta: string;
    index?: number;
    tool_call?: ModelToolCallDelta;
  };
  /** A model step's model called a tool (`name` as the document names it). */
  'tool.called': EventBase & {
    step_key: string;
    index?: number;
    id: string;
    name: string;
    input: unknown;
  };
  /** A tool call ended: its output, or the error the model gets as its result. */
  'tool.result': EventBase & {
    step_key: string;
    index?: number;
    id: string;
    name: string;
    status: 'COMPLETED' | 'FAILED' | 'CANCELLED';
    output?: unknown;
    error?: ErrorRecord;
  };
  /**
   * Weft chose a `model` step's model (`model: "auto"`): which one, why, and what the step needed
   * (providers/auto-model.ts). Emitted before the call.
   */
  'model.selected': EventBase & {
    step_key: string;
    provider: string;
    model: string;
    reason: string;
    needs: ModelNeeds;
    index?: number;
  };
}

export type WeftEventName = keyof WeftEventMap;

/** Every event name (a Record, so that tsc says so when the map gains an event). */
const EVENT_NAME_SET: Record<WeftEventName, true> = {
  'run.started': true,
  'run.completed': true,
  'run.failed': true,
  'run.cancelled': true,
  'step.started': true,
  'step.completed': true,
  'step.skipped': true,
  'step.failed': true,
  'step.cancelled': true,
  'step.retrying': true,
  'loop.started': true,
  'loop.iteration': true,
  usage: true,
  log: true,
  'model.delta': true,
  'tool.called': true,
  'tool.result': true,
  'model.selected': true,
};
export const WEFT_EVENT_NAMES = Object.freeze(Object.keys(EVENT_NAME_SET) as WeftEventName[]);
export type WeftEvent<K extends WeftEventName = WeftEventName> = WeftEventMap[K];
export type WeftListener<K extends WeftEventName> = (event: WeftEventMap[K]) => void;

type Listener = (event: any) => void;
type Table = Record<WeftEventName, readonly Listener[]>;

/** Shared by every table for an event nobody listens to; never mutated (lists are copied on write). */
const NONE: readonly Listener[] = [];

/**
 * A listener table: every event a key from the start, so that all tables have one shape (the literal's)
 * whatever is listened to, and keep it across GCs and runs — a table whose keys came and went with the
 * listeners (eventemitter3's, reset when a run's listeners were removed) lost its hidden class at every
 * full GC, and the engine's emitting code its optimisation (docs/performance.md, "Stable optimisation").
 */
function emptyTable(): Table {
  return {
    'run.started': NONE,
    'run.completed': NONE,
    'run.failed': NONE,
    'run.cancelled': NONE,
    'step.started': NONE,
    'step.completed': NONE,
    'step.skipped': NONE,
    'step.failed': NONE,
    'step.cancelled': NONE,
    'step.retrying': NONE,
    'loop.started': NONE,
    'loop.iteration': NONE,
    usage: NONE,
    log: NONE,
    'model.delta': NONE,
    'tool.called': NONE,
    'tool.result': NONE,
    'model.selected': NONE,
  };
}

/**
 * A typed emitter whose listeners cannot break the emitter's caller. Listeners are called in the order
 * they were added, once per time added, without `this`; adding or removing one during an emit affects
 * the next emit, not the current one (lists are copied on write, so an emit allocates nothing).
 */
export class SafeEmitter {
  // Made on the first listener: every run has an emitter, and most runs are never listened to.
  #table: Table | null = null;
  /** `once` registrations not fired yet: the event and the function each added, by listener (for `off`). */
  #onces: Map<Listener, Array<{ event: WeftEventName; once: Listener }>> | null = null;
  readonly #onError: (error: unknown, event: string) => void;

  constructor(onError?: (error: unknown, event: string) => void) {
    this.#onError = onError ?? reportListenerError;
  }

  on<K extends WeftEventName>(event: K, fn: WeftListener<K>): this {
    checkListener(event, fn);
    this.#add(event, fn);
    return this;
  }

  once<K extends WeftEventName>(event: K, fn: WeftListener<K>): this {
    checkListener(event, fn);
    const once: Listener = (payload) => {
      this.#remove(event, once);
      this.#forgetOnce(fn, once);
      fn(payload);
    };
    this.#onces ??= new Map();
    const added = this.#onces.get(fn);
    if (added === undefined) this.#onces.set(fn, [{ event, once }]);
    else added.push({ event, once });
    this.#add(event, once);
    return this;
  }

  off<K extends WeftEventName>(event: K, fn?: WeftListener<K>): this {
    checkEventName(event);
    const table = this.#table;
    if (table === null) return this;
    if (fn === undefined) {
      table[event] = NONE;
      return this;
    }
    this.#remove(event, fn);
    const onces = this.#onces?.get(fn);
    if (onces !== undefined) {
      for (const added of onces) {
        if (added.event !== event) continue;
        this.#remove(event, added.once);
        this.#forgetOnce(fn, added.once);
      }
    }
    return this;
  }

  /** True when anything listens to `event` (lets the engine skip building unobserved payloads). */
  has(event: WeftEventName): boolean {
    return this.#table !== null && this.#table[event].length > 0;
  }

  emit<K extends WeftEventName>(event: K, payload: WeftEventMap[K]): void {
    if (this.#table === null) return;
    const list = this.#table[event];
    for (let k = 0; k < list.length; k++) {
      const fn = list[k]!;
      try {
        fn(payload);
      } catch (error) {
        this.#report(error, event);
      }
    }
  }

  removeAllListeners(): void {
    // Keeps the table (its shape) when there is one: emptied in place.
    const table = this.#table;
    if (table !== null) for (const event of WEFT_EVENT_NAMES) table[event] = NONE;
    this.#onces = null;
  }

  #add(event: WeftEventName, fn: Listener): void {
    this.#table ??= emptyTable();
    const list = this.#table[event];
    const next = new Array<Listener>(list.length + 1);
    for (let k = 0; k < list.length; k++) next[k] = list[k]!;
    next[list.length] = fn;
    this.#table[event] = next;
  }

  /** Removes every registration of `fn` for `event`. */
  #remove(event: WeftEventName, fn: Listener): void {
    const table = this.#table;
    if (table === null) return;
    const list = table[event];
    if (!list.includes(fn)) return;
    const rest = list.filter((f) => f !== fn);
    table[event] = rest.length === 0 ? NONE : rest;
  }

  #forgetOnce(fn: Listener, once: Listener): void {
    const added = this.#onces?.get(fn);
    if (added === undefined) return;
    const rest = added.filter((a) => a.once !== once);
    if (rest.length === 0) this.#onces!.delete(fn);
    else this.#onces!.set(fn, rest);
  }

  #report(error: unknown, event: string): void {
    try {
      this.#onError(error, event);
    } catch {
      // the error reporter itself failed: nothing more can be done safely
    }
  }
}

/** A listener for an event that does not exist would never be called: say so instead. */
function checkEventName(event: unknown): void {
  if (typeof event !== 'string' || !Object.hasOwn(EVENT_NAME_SET, event)) {
    throw new WeftError(
      ERROR_CODES.INVALID_ARGUMENT,
      `Expected \`event\` to be one of ${WEFT_EVENT_NAMES.join(', ')}, got ${describeEvent(event)}.`,
      { details: { parameter: 'event' } },
    );
  }
}

function checkListener(event: unknown, fn: unknown): void {
  checkEventName(event);
  if (typeof fn !== 'function') throw invalidArgument('listener', 'a function (event) => void', fn);
}

function describeEvent(event: unknown): string {
  if (typeof event === 'string') return JSON.stringify(event.length > 40 ? `${event.slice(0, 40)}…` : event);
  return typeof event === 'symbol' ? 'a symbol' : typeof event;
}

function reportListenerError(error: unknown, event: string): void {
  const message = error instanceof Error ? error.message : String(error);
  process.emitWarning(`A listener of "${event}" threw: ${message}`, { code: 'WEFT_LISTENER_ERROR' });
}
