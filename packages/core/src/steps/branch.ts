/**
 * `branch` steps: conditions in ascending `order`; the first that is true selects its destinations,
 * else `else`. Output `{ selected: <condition key> | "else" }`; the scheduler reads it to kill the
 * edges to the destinations that were not selected.
 */
import { ERROR_CODES, WeftError } from '../errors.js';
import { normalizeValue, typeName } from '../expressions/jsonata.js';
import { internal } from './internal.js';
import type { StepContext } from './types.js';

export async function branchStep(context: StepContext): Promise<{ selected: string }> {
  const { plan, bindings } = internal(context);
  for (const condition of plan.branch!.conditions) {
    const value = normalizeValue(
      await condition.expression.evaluate(context.scope, bindings, { signal: context.signal }),
    );
    if (value === true) return { selected: condition.key };
    if (value !== false) {
      throw new WeftError(
        ERROR_CODES.EXPRESSION_ERROR,
        `Condition "${condition.key}" of branch "${plan.key}" must evaluate to true or false, got ${typeName(value)} ` +
          `(expression: ${condition.expression.source}).`,
        {
          step_key: plan.key,
          details: {
            field: `conditions.${condition.key}.condition`,
            expression: condition.expression.source,
            got: typeName(value),
          },
          retryable: false,
        },
      );
    }
  }
  return { selected: 'else' };
}
