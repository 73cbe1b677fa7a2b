/** What built-in handlers get beyond the public StepContext: the compiled step and the expression bindings. */
import type { PlanStep } from '../compile/plan.js';
import type { ExpressionBindings } from '../expressions/jsonata.js';
import type { ContextHost } from '../run/context.js';
import type { StepContext } from './types.js';

export interface InternalStepContext<TConfig = Record<string, unknown>> extends StepContext<TConfig> {
  readonly plan: PlanStep;
  readonly bindings: ExpressionBindings;
  /** The run executing the step. */
  readonly execution: ContextHost;
}

export function internal<T>(context: StepContext<T>): InternalStepContext<T> {
  return context as InternalStepContext<T>;
}
