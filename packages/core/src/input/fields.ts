/**
 * One input field against its definition, as the platform defines the field types (its `InputSchema`):
 *
 * string (`validation: "url"`: an absolute URL) · number (finite) · boolean · object (a plain object;
 * with `fields`, each nested field is checked like a top-level one, and `additional_fields: false`
 * refuses keys it does not define) · date (YYYY-MM-DD) · datetime (ISO 8601 date and time, optional
 * offset) · time (HH:MM[:SS[.fff]]) · select (one of `options`, each a value or `{ value }`; any string
 * with `additional_options: true`) · file (a non-empty string — URL, data URI or file id —, bytes, or an
 * object with a string `url` or `id`, or `data`: the platform's file data object; input/files.ts) · connection (a connection id: a non-empty string, or an object with a
 * string `id`) · content (display-only Markdown: never required, its value never checked).
 *
 * `array: true` expects an array whose every element has the type. A field is required unless it is
 * `optional`, has a `default`, is a `content` field, or allows `auto` (`allowed_modes` with "auto" or
 * "all": the value may be left to a model, so the caller need not give it). `null` counts as missing.
 */
import type { Problem } from '../errors.js';
import { INPUT_FIELD_TYPES } from '../model/schema.js';

export const INPUT_PROBLEM_CODES = {
  NOT_OBJECT: 'input.not_object',
  MISSING: 'input.missing',
  TYPE: 'input.type',
  OPTION: 'input.option',
  /** A key that an object field with `additional_fields: false` does not define. */
  UNKNOWN_FIELD: 'input.unknown_field',
  /** Object fields nested deeper than MAX_FIELD_DEPTH, or more problems than MAX_INPUT_PROBLEMS. */
  LIMIT: 'input.limit',
  /** A file value over MAX_INPUT_FILE_BYTES, or the input's files together over MAX_INPUT_FILES_BYTES. */
  FILE_TOO_LARGE: 'input.file_too_large',
  /** Binary data (a Buffer, a typed array, an ArrayBuffer) where no file field takes it. */
  BINARY: 'input.binary',
} as const;

/** Nested `object` fields are checked to this depth. */
export const MAX_FIELD_DEPTH = 32;
/** Problems listed per input; past it one LIMIT problem counts the rest. */
export const MAX_INPUT_PROBLEMS = 1_000;

/** A field definition as read from a document (any object with a string `type`). */
export type FieldDefinition = Record<string, unknown> & { type: string };

const FIELD_TYPES: ReadonlySet<string> = new Set(INPUT_FIELD_TYPES);

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

export function isFieldDefinition(value: unknown): value is FieldDefinition {
  return isPlainObject(value) && typeof value.type === 'string';
}

/** Whether the caller must give the field a value. */
export function isRequired(field: FieldDefinition): boolean {
  if (field.optional === true || field.default !== undefined || field.type === 'content') return false;
  return !allowsAuto(field);
}

/** The field may be filled by a model (`allowed_modes` includes "auto" or "all"). */
export function allowsAuto(field: FieldDefinition): boolean {
  const modes = field.allowed_modes;
  return Array.isArray(modes) && (modes.includes('auto') || modes.includes('all'));
}

export const pointer = (...parts: Array<string | number>) =>
  parts.map((p) => `/${String(p).replaceAll('~', '~0').replaceAll('/', '~1')}`).join('');

export function describeInput(value: unknown): string {
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

function isAbsoluteUrl(value: string): boolean {
  try {
    new URL(value);
    return true;
  } catch {
    return false;
  }
}

/** Null when `value` fits the field's type (nested fields apart); otherwise what was expected. */
export function typeMismatch(
  field: FieldDefinition,
  value: unknown,
): { code: string; expected: string } | null {
  const type = { code: INPUT_PROBLEM_CODES.TYPE };
  switch (field.type) {
    case 'string':
      if (typeof value !== 'string') return { ...type, expected: 'a string' };
      return field.validation === 'url' && !isAbsoluteUrl(value)
        ? { ...type, expected: 'an absolute URL (the field has `validation: "url"`)' }
        : null;
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
      if (options === null || (field.additional_options === true && typeof value === 'string')) {
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
        value instanceof Uint8Array ||
        (isPlainObject(value) &&
          (typeof value.url === 'string' ||
            typeof value.id === 'string' ||
            typeof value.data === 'string' ||
            value.data instanceof Uint8Array))
        ? null
        : {
            ...type,
            expected:
              'a file: a URL, data URI or file id, a Buffer/Uint8Array, or an object with `url`, `id` or `data`',
          };
    case 'connection':
      return (typeof value === 'string' && value.length > 0) ||
        (isPlainObject(value) && typeof value.id === 'string' && value.id.length > 0)
        ? null
        : { ...type, expected: 'a connection id (a non-empty string, or an object with a string `id`)' };
    default:
      // `content` is display-only; an unknown type is the validator's to report.
      return null;
  }
}

/** Collects problems up to MAX_INPUT_PROBLEMS (then checking stops), dropping exact duplicates. */
export class InputProblemList {
  readonly problems: Problem[] = [];
  readonly #seen = new Set<string>();

  add(code: string, path: string, message: string): void {
    const id = `${code}\0${path}\0${message}`;
    if (this.#seen.has(id) || this.full) return;
    this.#seen.add(id);
    this.problems.push({ severity: 'error', code, path, message });
  }

  get full(): boolean {
    return this.problems.length >= MAX_INPUT_PROBLEMS;
  }

  /** The problems; once the cap is reached, checking stops and one LIMIT problem says so. */
  finish(): Problem[] {
    if (!this.full) return this.problems;
    return [
      ...this.problems,
      {
        severity: 'error',
        code: INPUT_PROBLEM_CODES.LIMIT,
        path: '',
        message: `Only the first ${MAX_INPUT_PROBLEMS} problems are listed; the input was not checked further. Fix those and run again.`,
      },
    ];
  }
}

/**
 * Checks `value` against one field definition: presence, `array`, type, and nested `fields` of object
 * fields (to MAX_FIELD_DEPTH). `label` names the field in messages (`"address.city"`), `path` is its
 * JSON pointer in the input, `source` where it is defined.
 */
export function checkField(
  field: FieldDefinition,
  value: unknown,
  at: { label: string; path: string[]; source: string; depth: number },
  out: InputProblemList,
): void {
  if (!FIELD_TYPES.has(field.type) || field.type === 'content' || out.full) return;
  const { label, source } = at;
  const path = pointer(...at.path);
  const kind = `${field.type}${field.array === true ? '[]' : ''}`;
  if (value === undefined || value === null) {
    if (!isRequired(field)) return;
    out.add(
      INPUT_PROBLEM_CODES.MISSING,
      path,
      `Field "${label}" (${kind}, from ${source}) is required: give it a value, or mark it optional or give it a default.`,
    );
    return;
  }
  if (field.array === true) {
    if (!Array.isArray(value)) {
      out.add(
        INPUT_PROBLEM_CODES.TYPE,
        path,
        `Field "${label}" (from ${source}) must be an array of ${field.type} values; got ${describeInput(value)}.`,
      );
      return;
    }
    for (let index = 0; index < value.length && !out.full; index++) {
      checkOne(
        field,
        value[index],
        { ...at, path: [...at.path, String(index)] },
        `Element ${index} of field "${label}"`,
        out,
      );
    }
    return;
  }
  checkOne(field, value, at, `Field "${label}"`, out);
}

function checkOne(
  field: FieldDefinition,
  value: unknown,
  at: { label: string; path: string[]; source: string; depth: number },
  subject: string,
  out: InputProblemList,
): void {
  const mismatch = typeMismatch(field, value);
  if (mismatch !== null) {
    out.add(
      mismatch.code,
      pointer(...at.path),
      `${subject} (from ${at.source}) must be ${mismatch.expected}; got ${describeInput(value)}.`,
    );
    return;
  }
  if (field.type !== 'object' || !isPlainObject(field.fields) || !isPlainObject(value)) return;
  if (at.depth >= MAX_FIELD_DEPTH) {
    out.add(
      INPUT_PROBLEM_CODES.LIMIT,
      pointer(...at.path),
      `${subject} (from ${at.source}) nests object fields more than ${MAX_FIELD_DEPTH} levels deep; the deeper fields were not checked. Flatten the definition.`,
    );
    return;
  }
  const nested = field.fields;
  for (const [name, sub] of Object.entries(nested)) {
    if (!isFieldDefinition(sub)) continue;
    checkField(
      sub,
      value[name],
      { label: `${at.label}.${name}`, path: [...at.path, name], source: at.source, depth: at.depth + 1 },
      out,
    );
  }
  if (field.additional_fields === false) {
    for (const key of Object.keys(value)) {
      if (Object.hasOwn(nested, key) || out.full) continue;
      out.add(
        INPUT_PROBLEM_CODES.UNKNOWN_FIELD,
        pointer(...at.path, key),
        `${subject} (from ${at.source}) has the key "${key.slice(0, 40)}", which its definition does not have (\`additional_fields: false\`). Remove it; the fields are ${Object.keys(nested).slice(0, 10).join(', ') || 'none'}.`,
      );
    }
  }
}
