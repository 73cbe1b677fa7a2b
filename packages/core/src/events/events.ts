/**
 * Run events: a typed eventemitter3 map. Every event carries `run_id`, a per-run monotonic `seq` and a
 * `time` (ISO). Listeners are isolated: one that throws is reported (`onListenerError`, default a
 * process warning) and never breaks the run or the listeners after it.
 */
import { EventEmitter } from 'eventemitter3';
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

/**
 * Registered once for every event name on every store, before anything else, and never removed: an
 * eventemitter3 table only loses a key (`delete`) or is replaced (`new Events()`) when a key's last
 * listener goes, so with the sentinel every store's `_events` gets the 18 keys in `WEFT_EVENT_NAMES` order
 * at creation and keeps them — one hidden class for all stores, across GCs and runs. Without it the table
 * gained and lost keys as listeners came and went and was replaced when a run's listeners were removed at
 * its end, so its hidden classes died at every full GC and the engine's emitting code deoptimised
 * (docs/performance.md, "Stable optimisation").
 */
const SENTINEL: Listener = () => {};

/** A store with the sentinel on every name (exported for the tests that check its keys stay). */
export function newStore(): EventEmitter {
  const store = new EventEmitter();
  for (const event of WEFT_EVENT_NAMES) store.on(event, SENTINEL);
  return store;
}

/**
 * One store alive for the life of the process (with a listener besides the sentinel on one event, for
 * the list form of an entry), so the hidden classes every store goes through stay alive between runs
 * when no run's store is: V8 keeps them weakly, and code optimised against them would be dropped at a GC.
 */
export const SHAPE_KEEPER: EventEmitter = newStore().on(
  'log',
  guarded,
  guardOf(
    () => {},
    'log',
    () => {},
  ),
);

/**
 * A typed emitter whose listeners cannot break the emitter's caller: an eventemitter3 `EventEmitter` is
 * the store and the dispatcher (every name carries the sentinel above, so "listened to" means "more than
 * one listener"). Listeners are called in the order they were added, once per time added, without
 * `this`; adding or removing one during an emit affects the next emit, not the current one.
 */
export class SafeEmitter {
  // Made on the first listener: every run has an emitter, and most runs are never listened to.
  #store: EventEmitter | null = null;
  /**
   * One guard per (listener, event), made when it is added and registered as the context of `guarded`:
   * a function listening to two events reports each error under the event that raised it, `off(event,
   * fn)` removes exactly that event's registrations, and an emit allocates nothing.
   */
  #guards: WeakMap<Listener, Map<WeftEventName, Guard>> | null = null;
  readonly #onError: (error: unknown, event: string) => void;

  constructor(onError?: (error: unknown, event: string) => void) {
    this.#onError = onError ?? reportListenerError;
  }

  on<K extends WeftEventName>(event: K, fn: WeftListener<K>): this {
    checkListener(event, fn);
    this.#store ??= newStore();
    this.#store.on(event, guarded, this.#guard(event, fn));
    return this;
  }

  once<K extends WeftEventName>(event: K, fn: WeftListener<K>): this {
    checkListener(event, fn);
    this.#store ??= newStore();
    // eventemitter3 removes a fired `once` by function alone (no context): with the shared `guarded` that
    // would remove every `once` listener of the event — one added during this very emit included. A
    // `once` gets a function of its own (made on the guard's first `once`; `once` is rare).
    const guard = this.#guard(event, fn);
    guard.once ??= (payload: unknown) => guarded.call(guard, payload);
    this.#store.once(event, guard.once);
    return this;
  }

  /** Removes every registration (`on` or `once`) of `fn` for `event`, or every listener of `event`. */
  off<K extends WeftEventName>(event: K, fn?: WeftListener<K>): this {
    checkEventName(event);
    const store = this.#store;
    if (store === null) return this;
    if (fn === undefined) {
      clear(store, event);
      return this;
    }
    const guard = this.#guards?.get(fn)?.get(event);
    if (guard === undefined) return this;
    store.removeListener(event, guarded, guard);
    if (guard.once !== null) store.removeListener(event, guard.once);
    return this;
  }

  /** True when anything listens to `event` (lets the engine skip building unobserved payloads). */
  has(event: WeftEventName): boolean {
    return this.#store !== null && this.#store.listenerCount(event) > 1;
  }

  emit<K extends WeftEventName>(event: K, payload: WeftEventMap[K]): void {
    this.#store?.emit(event, payload);
  }

  /** Every listener goes; the store and its keys stay (eventemitter3's own would replace its table). */
  removeAllListeners(): void {
    const store = this.#store;
    if (store === null) return;
    for (const event of WEFT_EVENT_NAMES) if (store.listenerCount(event) > 1) clear(store, event);
    this.#guards = null;
  }

  #guard(event: WeftEventName, fn: Listener): Guard {
    this.#guards ??= new WeakMap();
    let byEvent = this.#guards.get(fn);
    if (byEvent === undefined) {
      byEvent = new Map();
      this.#guards.set(fn, byEvent);
    }
    let guard = byEvent.get(event);
    if (guard === undefined) {
      guard = guardOf(fn, event, this.#onError);
      byEvent.set(event, guard);
    }
    return guard;
  }
}

/** What `guarded` calls a listener with: the listener, the event it listens to, the error reporter. */
interface Guard {
  readonly fn: Listener;
  readonly event: WeftEventName;
  readonly onError: (error: unknown, event: string) => void;
  /** What `once` registers for this (listener, event); null until the first `once`. */
  once: Listener | null;
}

/** One allocation site, so one shape for every guard. */
function guardOf(fn: Listener, event: WeftEventName, onError: Guard['onError']): Guard {
  return { fn, event, onError, once: null };
}

/**
 * Every user listener is registered with eventemitter3 as this one function, with its `Guard` as the
 * context: one function for all emitters, runs and listeners. A closure per listener (as before) was a
 * new function per run, whose optimised code V8 keeps only weakly: after each full GC every run's
 * wrappers were interpreted and optimised again, on every emit of an observed run (docs/performance.md,
 * issue 16, W1-obs). The listener is called without `this`, as documented.
 */
function guarded(this: Guard, payload: unknown): void {
  const fn = this.fn;
  try {
    fn(payload);
  } catch (error) {
    try {
      this.onError(error, this.event);
    } catch {
      // the error reporter itself failed: nothing more can be done safely
    }
  }
}

/** Removes every listener of `event` but the sentinel, so that the key stays. */
export function clear(store: EventEmitter, event: WeftEventName): void {
  for (const fn of new Set(store.listeners(event))) if (fn !== SENTINEL) store.removeListener(event, fn);
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
