/**
 * Run input checking against a version's input definition: the fields of the workflow-level `input`
 * and of every `input` step the run will start (with `from_step_key`, only that step and the input steps
 * downstream of it), with `input_default` merged over nothing and the run input over it. Every problem is
 * reported (a missing required field, a wrong type, a value outside a select's options, …), so that a bad
 * input fails with INVALID_INPUT before any step runs. `engine.start` and the registry both call it.
 * The field rules are in fields.ts.
 */
import { ERROR_CODES, type Problem, WeftError } from '../errors.js';
import { downstreamKeys } from '../registry/downstream.js';
import {
  checkField,
  describeInput,
  type FieldDefinition,
  INPUT_PROBLEM_CODES,
  InputProblemList,
  isFieldDefinition,
  isPlainObject,
} from './fields.js';

export { INPUT_PROBLEM_CODES } from './fields.js';

export interface InputFieldSite {
  name: string;
  field: FieldDefinition;
  /** Where it is defined, for messages: "the workflow input" or `input step "x"`. */
  source: string;
  /** The input step that defines it; undefined for the workflow-level input. */
  step_key?: string;
}

export interface InputCheckOptions {
  /** The run starts from this step: only input steps at or downstream of it are checked. */
  from_step_key?: string | undefined;
}

/** Every input field the document defines (workflow-level first, then input steps in order). */
export function inputDefinitions(document: unknown, options: InputCheckOptions = {}): InputFieldSite[] {
  const out: InputFieldSite[] = [];
  if (!isPlainObject(document)) return out;
  const add = (fields: unknown, source: string, stepKey?: string) => {
    if (!isPlainObject(fields)) return;
    for (const [name, field] of Object.entries(fields)) {
      if (isFieldDefinition(field))
        out.push({ name, field, source, ...(stepKey === undefined ? {} : { step_key: stepKey }) });
    }
  };
  add(document.input, 'the workflow input');
  if (!Array.isArray(document.steps)) return out;
  const from = options.from_step_key;
  const started =
    from === undefined
      ? null
      : downstreamKeys({ steps: document.steps.filter(isPlainObject) as never }, from);
  for (const step of document.steps) {
    if (!isPlainObject(step) || step.type !== 'input') continue;
    const key = String(step.key);
    if (started !== null && !started.has(key)) continue;
    add(step.input, `input step "${key}"`, key);
  }
  return out;
}

/** Every problem of `input` against the document's input definition; empty when it fits. */
export function inputProblems(document: unknown, input: unknown, options: InputCheckOptions = {}): Problem[] {
  return problemsFor(inputDefinitions(document, options), document, input);
}

/** inputProblems over definitions already collected (the engine caches them per plan). */
export function problemsFor(sites: readonly InputFieldSite[], document: unknown, input: unknown): Problem[] {
  if (input !== undefined && !isPlainObject(input)) {
    return [
      {
        severity: 'error',
        code: INPUT_PROBLEM_CODES.NOT_OBJECT,
        path: '',
        message: `The run input must be an object of field values, got ${describeInput(input)}.`,
      },
    ];
  }
  if (sites.length === 0) return [];
  const defaults =
    isPlainObject(document) && isPlainObject(document.input_default) ? document.input_default : {};
  const values: Record<string, unknown> = { ...defaults, ...(input ?? {}) };
  const out = new InputProblemList();
  for (const { name, field, source } of sites) {
    const value = Object.hasOwn(values, name) ? values[name] : undefined;
    checkField(field, value, { label: name, path: [name], source, depth: 0 }, out);
  }
  return out.finish();
}

/** The INVALID_INPUT error carrying every problem (`details.problems`). */
export function invalidInput(problems: readonly Problem[]): WeftError {
  return new WeftError(
    ERROR_CODES.INVALID_INPUT,
    `The run input does not match the workflow's input definition (${problems.length} problem${problems.length === 1 ? '' : 's'}): ` +
      problems
        .slice(0, 5)
        .map((p) => `${p.path || '/'}: ${p.message}`)
        .join(' ') +
      (problems.length > 5 ? ` …and ${problems.length - 5} more (see details.problems).` : '') +
      ' Fix the input and run again; nothing ran.',
    { details: { problems }, retryable: false },
  );
}

/** Throws INVALID_INPUT carrying every problem (`details.problems`) when the input does not fit. */
export function assertValidInput(document: unknown, input: unknown, options: InputCheckOptions = {}): void {
  const problems = inputProblems(document, input, options);
  if (problems.length > 0) throw invalidInput(problems);
}
