/**
 * The `worker` option of createWeft (docs/durability.md, "Workers"), apart from the worker itself: the
 * public types must not pull the registry's internals into the API surface.
 */
import { invalidArgument } from '../errors.js';

export interface WorkerOptions {
  /** Runs this process executes at once (its own and claimed ones): 1–10,000. Default 10. */
  concurrency?: number;
  /** How often the store is scanned for runs to claim without a notice. Default `owner.leaseMs / 3`. */
  pollMs?: number;
}

export interface WorkerSettings {
  concurrency: number;
  pollMs: number;
}

export function checkWorkerOptions(value: unknown, leaseMs: number): WorkerSettings | null {
  if (value === undefined || value === false) return null;
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw invalidArgument('worker', 'false or an object { concurrency?, pollMs? }', value);
  }
  const { concurrency = 10, pollMs = Math.max(10, Math.floor(leaseMs / 3)) } = value as WorkerOptions;
  if (!(Number.isInteger(concurrency) && concurrency >= 1 && concurrency <= 10_000)) {
    throw invalidArgument('worker.concurrency', 'a whole number from 1 to 10,000', concurrency);
  }
  if (!(Number.isInteger(pollMs) && pollMs >= 10 && pollMs <= 86_400_000)) {
    throw invalidArgument('worker.pollMs', 'a whole number of milliseconds from 10 to 86,400,000', pollMs);
  }
  return { concurrency, pollMs };
}

/**
 * `noWorkerMs` (a client-only Weft): a whole number of ms from 10 to 86,400,000, or Infinity (wait as
 * long as it takes). Default the lease: a live idle worker claims within its `pollMs` (a third of its
 * lease by default), sooner on the `run.pending` notice.
 */
export function checkNoWorkerMs(value: unknown, leaseMs: number): number {
  if (value === undefined) return leaseMs;
  if (value === Number.POSITIVE_INFINITY) return value;
  if (!(typeof value === 'number' && Number.isInteger(value) && value >= 10 && value <= 86_400_000)) {
    throw invalidArgument(
      'noWorkerMs',
      'a whole number of milliseconds from 10 to 86,400,000, or Infinity',
      value,
    );
  }
  return value;
}
