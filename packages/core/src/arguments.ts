/**
 * Checks of the arguments of public entry points. Each throws INVALID_ARGUMENT quoting the parameter
 * (`invalidArgument`), synchronously, before anything is created — a bad option never surfaces later as
 * a TypeError from a microtask. `undefined` means "not given" for every optional check.
 */
import { ERROR_CODES, invalidArgument, WeftError } from './errors.js';

export type Plain = Record<string, unknown>;

export function isPlainObject(value: unknown): value is Plain {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/** An options object: undefined (→ `{}`) or a plain object. */
export function optionsObject(value: unknown, parameter: string): Plain {
  if (value === undefined) return {};
  if (!isPlainObject(value)) throw invalidArgument(parameter, 'an object', value);
  return value;
}

/** Runs `check`; anything it throws that is not a WeftError (a throwing getter, a Proxy trap) becomes one. */
export function readingArguments<T>(parameter: string, check: () => T): T {
  try {
    return check();
  } catch (error) {
    if (error instanceof WeftError) throw error;
    throw new WeftError(
      ERROR_CODES.INVALID_ARGUMENT,
      `Expected \`${parameter}\` to be plain data, but reading it threw (${error instanceof Error ? error.message : typeof error}).`,
      { details: { parameter } },
    );
  }
}

export function optionalFunction(value: unknown, parameter: string, expected = 'a function'): void {
  if (value !== undefined && typeof value !== 'function') throw invalidArgument(parameter, expected, value);
}

export function optionalBoolean(value: unknown, parameter: string): void {
  if (value !== undefined && typeof value !== 'boolean')
    throw invalidArgument(parameter, 'true or false', value);
}

export function optionalString(value: unknown, parameter: string): void {
  if (value !== undefined && typeof value !== 'string') throw invalidArgument(parameter, 'a string', value);
}

export function optionalNonEmptyString(value: unknown, parameter: string): void {
  if (value !== undefined && (typeof value !== 'string' || value === '')) {
    throw invalidArgument(parameter, 'a non-empty string', value);
  }
}

/** undefined, null or a string. */
export function nullableString(value: unknown, parameter: string): void {
  if (value !== undefined && value !== null && typeof value !== 'string') {
    throw invalidArgument(parameter, 'a string or null', value);
  }
}

/** An integer ≥ `min` (Infinity allowed when `infinity`). */
export function optionalInteger(
  value: unknown,
  parameter: string,
  min: number,
  options: { infinity?: boolean; max?: number } = {},
): void {
  if (value === undefined) return;
  const ok =
    typeof value === 'number' &&
    ((options.infinity === true && value === Number.POSITIVE_INFINITY) ||
      (Number.isInteger(value) && value >= min && value <= (options.max ?? Number.MAX_SAFE_INTEGER)));
  if (!ok) {
    throw invalidArgument(
      parameter,
      `an integer ≥ ${min}${options.max === undefined ? '' : ` and ≤ ${options.max}`}${options.infinity === true ? ' or Infinity' : ''}`,
      value,
    );
  }
}

/** A number ≥ `min` (finite unless `infinity`). */
export function optionalNumber(
  value: unknown,
  parameter: string,
  min: number,
  options: { infinity?: boolean } = {},
): void {
  if (value === undefined) return;
  const ok =
    typeof value === 'number' &&
    !Number.isNaN(value) &&
    value >= min &&
    (options.infinity === true || Number.isFinite(value));
  if (!ok) {
    throw invalidArgument(
      parameter,
      `a number ≥ ${min}${options.infinity === true ? ' (Infinity allowed)' : ''}`,
      value,
    );
  }
}

/** One of `allowed`. */
export function optionalOneOf(value: unknown, parameter: string, allowed: readonly unknown[]): void {
  if (value !== undefined && !allowed.includes(value)) {
    throw invalidArgument(parameter, `one of ${allowed.map((a) => JSON.stringify(a)).join(', ')}`, value);
  }
}

/** A real AbortSignal: an object that merely looks like one would break the run later, in a microtask. */
export function optionalSignal(value: unknown, parameter: string): void {
  if (value !== undefined && !(value instanceof AbortSignal)) {
    throw invalidArgument(parameter, 'an AbortSignal (e.g. new AbortController().signal)', value);
  }
}

/** `{ [name]: value }` with every value checked by `each`. */
export function optionalRecord(
  value: unknown,
  parameter: string,
  each: (item: unknown, parameter: string, name: string) => void,
): void {
  if (value === undefined) return;
  if (!isPlainObject(value)) throw invalidArgument(parameter, 'an object', value);
  for (const name of Object.keys(value)) each(value[name], `${parameter}.${name}`, name);
}
