/** `input` steps: where the run input enters. Output: the run input for the step's fields, defaults applied. */
import { getOwn, setOwn } from '../json-data.js';
import type { InputField } from '../model/types.js';
import type { StepContext } from './types.js';

export function inputStep(context: StepContext<{ input?: Record<string, InputField> }>): unknown {
  const input = (context.scope.input ?? {}) as Record<string, unknown>;
  const fields = context.config.input;
  if (fields === undefined) return input;
  const output: Record<string, unknown> = {};
  for (const [name, field] of Object.entries(fields)) {
    // Own properties only: a field named "constructor" must not read Object's constructor.
    const value = getOwn(input, name);
    setOwn(output, name, value !== undefined ? value : field.default !== undefined ? field.default : null);
  }
  return output;
}
