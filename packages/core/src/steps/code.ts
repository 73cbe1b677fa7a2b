/** `code` steps: the value of the JSONata expression is the output (an empty expression outputs null). */
import { normalizeValue } from '../expressions/jsonata.js';
import { internal } from './internal.js';
import type { StepContext } from './types.js';

export async function codeStep(context: StepContext): Promise<unknown> {
  const { plan, bindings } = internal(context);
  if (plan.code === null) return null;
  const value = normalizeValue(await plan.code.evaluate(context.scope, bindings));
  return value === undefined ? null : value;
}
