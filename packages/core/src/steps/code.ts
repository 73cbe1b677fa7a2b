/**
 * `code` steps: the value of the expression is the output (an empty expression, or JavaScript that
 * returns undefined, outputs null). JavaScript's `console.log` lines go to the step's logs; the step's
 * signal (its `timeout_ms`, the run's cancellation) interrupts a running evaluation.
 */
import { normalizeValue } from '../expressions/jsonata.js';
import { detachScope, mayReturnScope } from './detach-scope.js';
import { internal } from './internal.js';
import type { StepContext } from './types.js';

export async function codeStep(context: StepContext): Promise<unknown> {
  const { plan, bindings } = internal(context);
  if (plan.code === null) return null;
  let value = normalizeValue(
    await plan.code.evaluate(context.scope, bindings, {
      signal: context.signal,
      log: (level, message) => context.log(level, message),
    }),
  );
  // `$` is the live scope: detach it so that the output never contains itself (detach-scope.ts).
  if (mayReturnScope(plan.code.source)) value = detachScope(value, context.scope);
  return value === undefined ? null : value;
}
