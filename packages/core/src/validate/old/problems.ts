/** The problem collector (with its per-code cap) and the small text helpers of the validator's messages. */
import type { Problem, Severity } from '../../errors.js';
import { PROBLEM_CODES, PROBLEM_SEVERITY, type ProblemCode, VALIDATION_LIMITS } from './codes.js';

export interface ProblemInput {
  code: ProblemCode;
  path: string;
  /** A function is only called when the problem is kept (not cut by the cap). */
  message: string | (() => string);
  step_key?: string | undefined;
  position?: number | undefined;
  /** Defaults to the code's severity (PROBLEM_SEVERITY). */
  severity?: Severity;
}

/**
 * Collects problems in the order they are found. Past `maxProblemsPerCode` problems of one code, the rest
 * are only counted, and `finish` adds one LIMIT problem per such code saying how many were cut (an error
 * if any cut problem was an error, else a warning).
 */
export class ProblemList {
  readonly #list: Problem[] = [];
  readonly #kept = new Map<string, number>();
  readonly #cut = new Map<string, { count: number; error: boolean }>();
  readonly #max: number;

  constructor(max: number = VALIDATION_LIMITS.maxProblemsPerCode) {
    this.#max = max;
  }

  add(input: ProblemInput): Problem | undefined {
    const severity = input.severity ?? PROBLEM_SEVERITY[input.code];
    const kept = this.#kept.get(input.code) ?? 0;
    if (kept >= this.#max) {
      const cut = this.#cut.get(input.code) ?? { count: 0, error: false };
      cut.count++;
      if (severity === 'error') cut.error = true;
      this.#cut.set(input.code, cut);
      return undefined;
    }
    this.#kept.set(input.code, kept + 1);
    const message = typeof input.message === 'function' ? input.message() : input.message;
    const problem: Problem = { severity, code: input.code, path: input.path, message };
    if (input.step_key !== undefined) problem.step_key = input.step_key;
    if (input.position !== undefined) problem.position = input.position;
    this.#list.push(problem);
    return problem;
  }

  /** False once `code` reached its cap: the caller may skip building an expensive message. */
  hasRoom(code: ProblemCode): boolean {
    return (this.#kept.get(code) ?? 0) < this.#max;
  }

  finish(): Problem[] {
    const out = this.#list.slice();
    for (const [code, cut] of this.#cut) {
      out.push({
        severity: cut.error ? 'error' : 'warning',
        code: PROBLEM_CODES.LIMIT,
        path: '',
        message:
          `${cut.count} more ${code} problem${cut.count === 1 ? ' was' : 's were'} not listed (only the first ` +
          `${this.#max} of each code are). Fix the ones listed and validate again to see the rest.`,
      });
    }
    return out;
  }
}

/** A string for a message: JSON-quoted and shortened. */
export function quote(text: string, max = 60): string {
  return JSON.stringify(text.length > max ? `${text.slice(0, max)}…` : text);
}

/** What a value is, for "but it is …". */
export function describeGot(value: unknown): string {
  if (value === undefined) return 'missing';
  if (value === null) return 'null';
  if (Array.isArray(value))
    return value.length === 0 ? 'an empty array' : `an array (length ${value.length})`;
  switch (typeof value) {
    case 'string':
      return value.length === 0 ? 'an empty string' : `the string ${quote(value, 40)}`;
    case 'number':
      return Number.isFinite(value) ? `the number ${value}` : `${value} (not a JSON number)`;
    case 'boolean':
      return `${value}`;
    case 'object':
      return 'an object';
    default:
      return typeof value;
  }
}

/** A thrown value's message, without ever throwing itself. */
export function safeMessage(error: unknown): string {
  try {
    if (error instanceof Error) return error.message;
    return String(error);
  } catch {
    return 'an unprintable error';
  }
}

/** `provider.messages[0].role` from path segments inside a step (or the document). */
export function fieldName(segments: ReadonlyArray<string | number>): string {
  let out = '';
  for (const s of segments) {
    if (typeof s === 'number' || /^\d+$/.test(s)) out += `[${s}]`;
    else if (/^[A-Za-z_$][\w$]*$/.test(s)) out += out === '' ? s : `.${s}`;
    else out += `[${quote(s, 40)}]`;
  }
  return out === '' ? '(the value itself)' : out;
}

/** Decodes a JSON pointer (RFC 6901) into segments. */
export function pointerSegments(pointer: string): string[] {
  if (pointer === '') return [];
  return pointer
    .slice(1)
    .split('/')
    .map((s) => s.replaceAll('~1', '/').replaceAll('~0', '~'));
}
