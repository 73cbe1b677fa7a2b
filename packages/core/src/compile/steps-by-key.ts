/**
 * `Plan.byKey`: the plan's steps by key, read through the key → index map the compiler has anyway,
 * instead of a second Map of every step (100,000 insertions for a 100,000-step document: issue 11,
 * item 4). A read-only Map in every way a caller can observe.
 */
import type { PlanStep } from './plan.js';

export class StepsByKey implements ReadonlyMap<string, PlanStep> {
  readonly #indexOf: ReadonlyMap<string, number>;
  readonly #steps: readonly PlanStep[];

  /** `indexOf` maps each key of `steps` to its index there, and nothing else. */
  constructor(indexOf: ReadonlyMap<string, number>, steps: readonly PlanStep[]) {
    this.#indexOf = indexOf;
    this.#steps = steps;
  }

  get size(): number {
    return this.#indexOf.size;
  }

  get(key: string): PlanStep | undefined {
    const i = this.#indexOf.get(key);
    return i === undefined ? undefined : this.#steps[i];
  }

  has(key: string): boolean {
    return this.#indexOf.has(key);
  }

  forEach(
    callback: (value: PlanStep, key: string, map: ReadonlyMap<string, PlanStep>) => void,
    thisArg?: unknown,
  ): void {
    for (const [key, i] of this.#indexOf) callback.call(thisArg, this.#steps[i]!, key, this);
  }

  *entries(): MapIterator<[string, PlanStep]> {
    for (const [key, i] of this.#indexOf) yield [key, this.#steps[i]!];
  }

  keys(): MapIterator<string> {
    return this.#indexOf.keys();
  }

  *values(): MapIterator<PlanStep> {
    for (const i of this.#indexOf.values()) yield this.#steps[i]!;
  }

  [Symbol.iterator](): MapIterator<[string, PlanStep]> {
    return this.entries();
  }

  get [Symbol.toStringTag](): string {
    return 'Map';
  }
}
