/** What every registry operation shares. Internal. */
import { invalidArgument } from '../errors.js';
import type { Engine } from '../run/engine.js';
import type { Retention } from '../run/types.js';
import type { WeftStore } from '../store/store.js';
import type { KeyedMutex } from './mutex.js';
import type { Ownership } from './owner.js';
import type { RunRecorder, StoreErrorReporter } from './recorder.js';
import type { Recovery } from './recovery.js';

export interface RegistryContext {
  readonly engine: Engine;
  readonly store: WeftStore;
  readonly recorder: RunRecorder;
  /** This Weft as an owner of runs in the store: its id and leases. */
  readonly owner: Ownership;
  /** Resumes runs whose owner died (`weft.recover()`, and by itself when `autoRecover`). */
  readonly recovery: Recovery;
  /** Whether this Weft resumes orphaned runs by itself (`recover` option), `runs.wait` included. */
  readonly autoRecover: boolean;
  /**
   * A client-only Weft (`worker: false`): its runs are enqueued in the store (PENDING, unowned) for the
   * workers sharing it, never executed here.
   */
  readonly enqueue: boolean;
  /** A client-only Weft: how long a run it waits for may stay unclaimed with no worker in sight (NO_WORKER). */
  readonly noWorkerMs: number;
  /** `limits.cancelGraceMs`: how long a cancelled run's running steps get to settle. */
  readonly cancelGraceMs: number;
  /** Where store failures (and runs that could not be resumed) are reported. */
  readonly report: StoreErrorReporter;
  readonly locks: KeyedMutex;
  readonly ids: () => string;
  /** The clock's now, as an ISO string. */
  now(): string;
  /** The engine-wide default retention (WeftOptions.retention). */
  readonly defaultRetention: Retention | null;
  /** What stops when the Weft closes: a client's background runs stop following their signal. */
  readonly closing: CloseHooks;
}

/** Callbacks called once when the Weft closes; `closed` from then on. */
export class CloseHooks {
  readonly #hooks = new Set<() => void>();
  #closed = false;

  get closed(): boolean {
    return this.#closed;
  }

  add(hook: () => void): void {
    this.#hooks.add(hook);
  }

  delete(hook: () => void): void {
    this.#hooks.delete(hook);
  }

  close(): void {
    this.#closed = true;
    for (const hook of [...this.#hooks]) hook();
    this.#hooks.clear();
  }
}

/** An ISO timestamp from a Date, epoch milliseconds or a date string. */
export function toIso(value: Date | number | string, parameter: string): string {
  const ms =
    value instanceof Date
      ? value.getTime()
      : typeof value === 'number'
        ? value
        : typeof value === 'string'
          ? Date.parse(value)
          : Number.NaN;
  // Out of Date's range, toISOString would throw a RangeError.
  if (!Number.isFinite(ms) || Math.abs(ms) > 8.64e15) {
    throw invalidArgument(parameter, 'a Date, epoch milliseconds or an ISO date string', value);
  }
  return new Date(ms).toISOString();
}
