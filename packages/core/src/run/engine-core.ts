/** What a run needs from its engine: shared caps, handlers, providers, limits. Internal. */
import type { LimitFunction } from 'p-limit';
import type { PlanStep } from '../compile/plan.js';
import type { SafeEmitter } from '../events/events.js';
import type { ExpressionBindings } from '../expressions/jsonata.js';
import type { RetryPolicy } from '../model/types.js';
import type { StepHandler } from '../steps/types.js';
import type { Clock, EngineLimits } from './options.js';
import type { EngineSlots } from './slots.js';
import type { Variable } from './variables.js';

export interface HandlerEntry {
  run: StepHandler;
  /**
   * Whether an execution takes a slot of the run's and the engine's caps. Coordinators that only wait
   * for other executions (the `workflow` step waits for its child run's steps) take none, or nested
   * sub-workflows could deadlock on the very caps their children need.
   */
  slots: boolean;
  /**
   * A synchronous form of a built-in handler, for the scheduler's fast path (inline.ts): the step's
   * output, or BAIL when only the handler itself can answer. Only for handlers that need nothing of
   * their context but the compiled step and the expression bindings.
   */
  inline?: (plan: PlanStep, scope: Record<string, unknown>, bindings: ExpressionBindings) => unknown;
}

export interface EngineCore {
  readonly clock: Clock;
  readonly ids: () => string;
  readonly random: () => number;
  readonly limits: EngineLimits;
  readonly retry: RetryPolicy | undefined;
  readonly variables: readonly Variable[];
  /** `concurrency.run`: the per-run cap (its default when the engine was not given one). */
  readonly runConcurrency: number;
  /** Whether `concurrency.run` was given: then it clips loops; the default gives way to them (profile.ts). */
  readonly runConcurrencyExplicit: boolean;
  /** `concurrency.engine`. */
  readonly engineConcurrency: number;
  readonly engineLimit: LimitFunction;
  /** The engine cap's reservations (slots.ts); `engineSlots.limit` is `engineLimit`. */
  readonly engineSlots: EngineSlots;
  readonly events: SafeEmitter;
  handlerFor(type: string): HandlerEntry | undefined;
}
