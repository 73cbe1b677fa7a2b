/**
 * The run's usage ledger. Invariant (checked by property tests): total = Σ steps[k].total = Σ calls[i].total,
 * and every call appears once in `calls` and once in its step's `calls`.
 */
import { ERROR_CODES, WeftError } from '../errors.js';
import type { RunUsage, StepUsage, UsageCall } from '../run/types.js';

export class UsageLedger {
  total = 0;
  readonly calls: UsageCall[] = [];
  readonly steps: Record<string, StepUsage> = {};

  /** Records a call; returns the run total after it. */
  record(stepKey: string, call: UsageCall): number {
    if (call === null || typeof call !== 'object' || typeof call.id !== 'string') {
      throw new WeftError(
        ERROR_CODES.INVALID_ARGUMENT,
        'Expected `usage.record(call)` to get `{ id: string, total: number }`.',
        {
          step_key: stepKey,
        },
      );
    }
    const total = Number.isFinite(call.total) && call.total >= 0 ? call.total : 0;
    const entry = total === call.total ? call : { ...call, total };
    let step = this.steps[stepKey];
    if (step === undefined) {
      step = { total: 0, calls: [] };
      this.steps[stepKey] = step;
    }
    step.total += total;
    step.calls.push(entry);
    this.calls.push(entry);
    this.total += total;
    return this.total;
  }

  forStep(stepKey: string): UsageCall[] {
    // Most runs record nothing: skip the keyed miss (a slow, megamorphic lookup per distinct step key).
    if (this.calls.length === 0) return [];
    return Object.hasOwn(this.steps, stepKey) ? this.steps[stepKey]!.calls : [];
  }

  toJSON(): RunUsage {
    return { total: this.total, calls: this.calls, steps: this.steps };
  }
}
