/**
 * The engine-wide cap (`concurrency.engine`): a p-limit, plus reservations. A run whose executions can
 * never exceed `n` at once (see `maxParallel` in profile.ts) may set `n` engine slots aside when it
 * begins; its executions then skip the engine's p-limit, and the p-limit's own concurrency is lowered
 * by `n` for as long as the reservation lasts. So at any moment
 *
 *   executions in flight = (through the p-limit ≤ cap − reserved) + (reserved runs' ≤ reserved) ≤ cap:
 *
 * the cap is never exceeded. A reservation is granted only while nothing is queued on the p-limit (no
 * one is overtaken) and the engine stays at most half reserved (reservations cannot starve the runs
 * that queue); otherwise the run's executions take the p-limit as before.
 */
import type { LimitFunction } from 'p-limit';
import pLimit from 'p-limit';

export class EngineSlots {
  readonly cap: number;
  readonly limit: LimitFunction;
  #reserved = 0;

  constructor(cap: number) {
    this.cap = cap;
    this.limit = pLimit(cap);
  }

  /** Slots currently set aside for runs. */
  get reserved(): number {
    return this.#reserved;
  }

  /** Sets `n` slots aside if the engine has the room for them; false when the run must use the p-limit. */
  reserve(n: number): boolean {
    if (this.cap === Number.POSITIVE_INFINITY) return true;
    const limit = this.limit;
    const reserved = this.#reserved + n;
    if (limit.pendingCount > 0 || 2 * reserved > this.cap || limit.activeCount > this.cap - reserved) {
      return false;
    }
    this.#reserved = reserved;
    limit.concurrency = this.cap - reserved;
    return true;
  }

  /** Gives back a reservation once none of the run's executions is in flight any more. */
  release(n: number): void {
    if (this.cap === Number.POSITIVE_INFINITY) return;
    this.#reserved -= n;
    // Raising p-limit's concurrency starts queued executions (on a microtask).
    this.limit.concurrency = this.cap - this.#reserved;
  }
}
