/** `input` steps: where the run input enters. Output: the run input for the step's fields, defaults applied. */
import type { InputField } from '../model/types.js';
import type { StepContext } from './types.js';

export function inputStep(context: StepContext<{ input?: Record<string, InputField> }>): unknown {
  const input = (context.scope.input ?? {}) as Record<string, unknown>;
  const fields = context.config.input;
  if (fields === undefined) return input;
  const output: Record<string, unknown> = {};
  for (const [name, field] of Object.entries(fields)) {
    const value = input[name];
    if (value !== undefined) output[name] = value;
    else if (field.default !== undefined) output[name] = field.default;
    else output[name] = null;
  }
  return output;
}
