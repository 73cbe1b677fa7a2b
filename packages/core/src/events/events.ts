/**
 * Run events: a typed eventemitter3 map. Every event carries `run_id`, a per-run monotonic `seq` and a
 * `time` (ISO). Listeners are isolated: one that throws is reported (`onListenerError`, default a
 * process warning) and never breaks the run or the listeners after it.
 */
import { EventEmitter } from 'eventemitter3';
import { ERROR_CODES, type ErrorRecord, invalidArgument, WeftError } from '../errors.js';
import type { ModelNeeds } from '../providers/auto-model.js';
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
  log: EventBase & { step_key?: string } & LogEntry;
  'model.delta': EventBase & { step_key: string; delta: string; index?: number };
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
  'model.selected': true,
};
export const WEFT_EVENT_NAMES = Object.freeze(Object.keys(EVENT_NAME_SET) as WeftEventName[]);
export type WeftEvent<K extends WeftEventName = WeftEventName> = WeftEventMap[K];
export type WeftListener<K extends WeftEventName> = (event: WeftEventMap[K]) => void;

/** A typed eventemitter3 emitter whose listeners cannot break the emitter's caller. */
export class SafeEmitter {
  // Made on the first listener: every run has an emitter, and most runs are never listened to.
  #emitter: EventEmitter | null = null;
  /**
   * One wrapper per (listener, event): a function listening to two events reports each error under the
   * event that raised it, and `off(event, fn)` removes exactly that event's wrapper.
   */
  #wrappers: WeakMap<(...args: any[]) => void, Map<string, (event: unknown) => void>> | null = null;
  readonly #onError: (error: unknown, event: string) => void;

  constructor(onError?: (error: unknown, event: string) => void) {
    this.#onError = onError ?? reportListenerError;
  }

  #wrap(event: string, fn: (event: any) => void): (event: unknown) => void {
    this.#wrappers ??= new WeakMap();
    let byEvent = this.#wrappers.get(fn);
    if (byEvent === undefined) {
      byEvent = new Map();
      this.#wrappers.set(fn, byEvent);
    }
    let wrapper = byEvent.get(event);
    if (wrapper === undefined) {
      const onError = this.#onError;
      wrapper = (payload: unknown) => {
        try {
          fn(payload);
        } catch (error) {
          try {
            onError(error, event);
          } catch {
            // the error reporter itself failed: nothing more can be done safely
          }
        }
      };
      byEvent.set(event, wrapper);
    }
    return wrapper;
  }

  on<K extends WeftEventName>(event: K, fn: WeftListener<K>): this {
    checkListener(event, fn);
    this.#emitter ??= new EventEmitter();
    this.#emitter.on(event, this.#wrap(event, fn));
    return this;
  }

  once<K extends WeftEventName>(event: K, fn: WeftListener<K>): this {
    checkListener(event, fn);
    this.#emitter ??= new EventEmitter();
    this.#emitter.once(event, this.#wrap(event, fn));
    return this;
  }

  off<K extends WeftEventName>(event: K, fn?: WeftListener<K>): this {
    checkEventName(event);
    this.#emitter?.off(event, fn === undefined ? undefined : (this.#wrappers?.get(fn)?.get(event) ?? fn));
    return this;
  }

  /** True when anything listens to `event` (lets the engine skip building unobserved payloads). */
  has(event: WeftEventName): boolean {
    return this.#emitter !== null && this.#emitter.listenerCount(event) > 0;
  }

  emit<K extends WeftEventName>(event: K, payload: WeftEventMap[K]): void {
    this.#emitter?.emit(event, payload);
  }

  removeAllListeners(): void {
    this.#emitter?.removeAllListeners();
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
