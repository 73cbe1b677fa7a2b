/**
 * Run input checking against a version's input definition: the fields of the workflow-level `input`
 * and of every `input` step, with `input_default` merged over nothing and the run input over it. Every
 * problem is reported (a missing required field, a wrong type, a value outside a select's options), so
 * that a bad input fails with INVALID_INPUT before any step runs.
 *
 * Field types: string · number (finite) · boolean · object (a plain object) · date (YYYY-MM-DD) ·
 * datetime (ISO 8601 date and time, optional offset) · time (HH:MM[:SS[.fff]]) · select (one of
 * `options`; an option may be a value or `{ value }`) · file (a non-empty string — URL, data URI or file
 * id — or an object with a string `url` or `id`) · content (a string, or a content part `{ type }`, or an
 * array of parts). `array: true` expects an array whose every element has the type. A field is required
 * unless `optional: true` or it has a `default`; null counts as missing.
 */
import { ERROR_CODES, type Problem, WeftError } from '../errors.js';
import { INPUT_FIELD_TYPES } from '../model/schema.js';
import type { InputField } from '../model/types.js';

export const INPUT_PROBLEM_CODES = {
  NOT_OBJECT: 'input.not_object',
  MISSING: 'input.missing',
  TYPE: 'input.type',
  OPTION: 'input.option',
} as const;

interface FieldDefinition {
  name: string;
  field: InputField;
  /** Where it is defined, for messages: "the workflow input" or `input step "x"`. */
  source: string;
}

const FIELD_TYPES: ReadonlySet<string> = new Set(INPUT_FIELD_TYPES);

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** Every input field the document defines (workflow-level first, then input steps in order). */
export function inputDefinitions(document: unknown): FieldDefinition[] {
  const out: FieldDefinition[] = [];
  if (!isPlainObject(document)) return out;
  const add = (fields: unknown, source: string) => {
    if (!isPlainObject(fields)) return;
    for (const [name, field] of Object.entries(fields)) {
      if (isPlainObject(field) && typeof field.type === 'string') {
        out.push({ name, field: field as InputField, source });
      }
    }
  };
  add(document.input, 'the workflow input');
  if (Array.isArray(document.steps)) {
    for (const step of document.steps) {
      if (isPlainObject(step) && step.type === 'input') add(step.input, `input step "${String(step.key)}"`);
    }
  }
  return out;
}

const pointer = (...parts: Array<string | number>) =>
  parts.map((p) => `/${String(p).replaceAll('~', '~0').replaceAll('/', '~1')}`).join('');

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string')
    return `the string ${JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value)}`;
  if (typeof value === 'object') return 'an object';
  return `${typeof value} ${String(value)}`;
}

function validDate(y: number, m: number, d: number): boolean {
  if (m < 1 || m > 12 || d < 1) return false;
  const days = new Date(Date.UTC(y, m, 0)).getUTCDate();
  return d <= days;
}

const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const DATETIME =
  /^(\d{4})-(\d{2})-(\d{2})[T ]([01]\d|2[0-3]):([0-5]\d)(?::([0-5]\d)(?:\.\d{1,9})?)?(?:Z|[+-](?:[01]\d|2[0-3]):?[0-5]\d)?$/i;
const TIME = /^([01]\d|2[0-3]):([0-5]\d)(?::([0-5]\d)(?:\.\d{1,9})?)?$/;

function optionValue(option: unknown): unknown {
  return isPlainObject(option) && 'value' in option ? option.value : option;
}

function isContentPart(value: unknown): boolean {
  return isPlainObject(value) && typeof value.type === 'string' && value.type.length > 0;
}

/** Null when `value` fits the field type; otherwise what was expected. */
function typeMismatch(field: InputField, value: unknown): { code: string; expected: string } | null {
  const type = { code: INPUT_PROBLEM_CODES.TYPE };
  switch (field.type) {
    case 'string':
      return typeof value === 'string' ? null : { ...type, expected: 'a string' };
    case 'number':
      return typeof value === 'number' && Number.isFinite(value)
        ? null
        : { ...type, expected: 'a finite number' };
    case 'boolean':
      return typeof value === 'boolean' ? null : { ...type, expected: 'true or false' };
    case 'object':
      return isPlainObject(value) ? null : { ...type, expected: 'an object' };
    case 'date': {
      const m = typeof value === 'string' ? DATE.exec(value) : null;
      return m !== null && validDate(Number(m[1]), Number(m[2]), Number(m[3]))
        ? null
        : { ...type, expected: 'a date "YYYY-MM-DD"' };
    }
    case 'datetime': {
      const m = typeof value === 'string' ? DATETIME.exec(value) : null;
      return m !== null && validDate(Number(m[1]), Number(m[2]), Number(m[3]))
        ? null
        : { ...type, expected: 'an ISO 8601 date and time, e.g. "2024-05-01T09:30:00Z"' };
    }
    case 'time':
      return typeof value === 'string' && TIME.test(value)
        ? null
        : { ...type, expected: 'a time "HH:MM" or "HH:MM:SS"' };
    case 'select': {
      const options = Array.isArray(field.options) ? field.options.map(optionValue) : null;
      if (options === null) {
        return ['string', 'number', 'boolean'].includes(typeof value)
          ? null
          : { ...type, expected: 'a string, number or boolean' };
      }
      return options.some((o) => o === value)
        ? null
        : {
            code: INPUT_PROBLEM_CODES.OPTION,
            expected: `one of ${options
              .slice(0, 10)
              .map((o) => JSON.stringify(o))
              .join(', ')}${options.length > 10 ? ', …' : ''}`,
          };
    }
    case 'file':
      return (typeof value === 'string' && value.length > 0) ||
        (isPlainObject(value) && (typeof value.url === 'string' || typeof value.id === 'string'))
        ? null
        : { ...type, expected: 'a file: a URL, data URI or file id, or an object with `url` or `id`' };
    case 'content':
      return typeof value === 'string' ||
        isContentPart(value) ||
        (Array.isArray(value) && value.every(isContentPart))
        ? null
        : { ...type, expected: 'content: a string, a part `{ type, … }` or an array of parts' };
    default:
      // An unknown field type is the validator's to report; the input is not checked against it.
      return null;
  }
}

/** Every problem of `input` against the document's input definition; empty when it fits. */
export function inputProblems(document: unknown, input: unknown): Problem[] {
  if (input !== undefined && !isPlainObject(input)) {
    return [
      {
        severity: 'error',
        code: INPUT_PROBLEM_CODES.NOT_OBJECT,
        path: '',
        message: `The run input must be an object of field values, got ${describe(input)}.`,
      },
    ];
  }
  const defaults =
    isPlainObject(document) && isPlainObject(document.input_default) ? document.input_default : {};
  const values: Record<string, unknown> = { ...defaults, ...(input ?? {}) };
  const problems: Problem[] = [];
  const seen = new Set<string>();
  const report = (problem: Problem) => {
    const id = `${problem.code}\0${problem.path}\0${problem.message}`;
    if (seen.has(id)) return;
    seen.add(id);
    problems.push(problem);
  };
  for (const { name, field, source } of inputDefinitions(document)) {
    if (!FIELD_TYPES.has(field.type)) continue;
    const value = values[name];
    if (value === undefined || value === null) {
      if (field.optional === true || field.default !== undefined) continue;
      report({
        severity: 'error',
        code: INPUT_PROBLEM_CODES.MISSING,
        path: pointer(name),
        message: `Field "${name}" (${field.type}${field.array === true ? '[]' : ''}, from ${source}) is required: give it a value, or mark it optional or give it a default.`,
      });
      continue;
    }
    if (field.array === true) {
      if (!Array.isArray(value)) {
        report({
          severity: 'error',
          code: INPUT_PROBLEM_CODES.TYPE,
          path: pointer(name),
          message: `Field "${name}" (from ${source}) must be an array of ${field.type} values; got ${describe(value)}.`,
        });
        continue;
      }
      value.forEach((element, index) => {
        const mismatch = typeMismatch(field, element);
        if (mismatch !== null) {
          report({
            severity: 'error',
            code: mismatch.code,
            path: pointer(name, index),
            message: `Element ${index} of field "${name}" (from ${source}) must be ${mismatch.expected}; got ${describe(element)}.`,
          });
        }
      });
      continue;
    }
    const mismatch = typeMismatch(field, value);
    if (mismatch !== null) {
      report({
        severity: 'error',
        code: mismatch.code,
        path: pointer(name),
        message: `Field "${name}" (from ${source}) must be ${mismatch.expected}; got ${describe(value)}.`,
      });
    }
  }
  return problems;
}

/** Throws INVALID_INPUT carrying every problem (`details.problems`) when the input does not fit. */
export function assertValidInput(document: unknown, input: unknown): void {
  const problems = inputProblems(document, input);
  if (problems.length === 0) return;
  throw new WeftError(
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
