/**
 * JSONata, parsed once and evaluated under bounds. Every expression in a document (conditional, loop,
 * code, branch conditions, templates) goes through `compileExpression`, so parsing happens once per
 * plan. Evaluation crosses the evaluation boundary (boundary.ts): it runs in a sandbox worker that is
 * terminated at the deadline, under a memory cap, with its value's size capped — never on the host's
 * event loop. Only the synchronous fast path (compile/fast-expression.ts) answers on the main thread.
 */
import jsonata from 'jsonata';
import { ERROR_CODES, WeftError } from '../errors.js';
import { evaluateInWorker, subsetForJsonata } from './boundary.js';
import { LIMIT_KINDS, type LimitKind, limitFailure } from './limit.js';

export interface ExpressionLimits {
  /** Wall-clock budget of one evaluation, in ms. */
  timeoutMs: number;
  /** Maximum evaluation depth (nested calls / recursion). */
  maxDepth: number;
  /** Maximum length of any one sequence an evaluation builds. */
  maxSequence: number;
  /**
   * Maximum length of a string a JSONata evaluation builds — with `&`, or returned by a function (`$pad`,
   * `$join`, `$string`, …) — outside the fast path. Strings read from the scope are not limited.
   */
  maxStringLength: number;
  /**
   * Heap one evaluation may use, in bytes: the JavaScript sandbox's heap (QuickJS), and the old
   * generation of the worker that evaluates JSONata. Past it: EXPRESSION_LIMIT (`memory`).
   */
  maxMemoryBytes: number;
  /** Characters of the JSON text of an evaluation's value. Past it: EXPRESSION_LIMIT (`result`). */
  maxResultChars: number;
  /**
   * Main-thread time a JavaScript evaluation may take before it is interrupted and re-run in a worker
   * with the rest of its deadline (evaluation is pure, so re-running is safe). Also the most the
   * sandbox runs on the main thread before it lets the event loop turn. Default 5 ms.
   */
  inlineBudgetMs: number;
  /** `console.log` lines a JavaScript evaluation keeps (the rest are counted in one line). */
  maxLogEntries: number;
  /** Characters kept of one `console.log` line. */
  maxLogChars: number;
}

export const DEFAULT_EXPRESSION_LIMITS: ExpressionLimits = {
  timeoutMs: 1000,
  maxDepth: 250,
  maxSequence: 1_000_000,
  maxStringLength: 10_000_000,
  maxMemoryBytes: 64 * 1024 * 1024,
  maxResultChars: 10_000_000,
  inlineBudgetMs: 5,
  maxLogEntries: 100,
  maxLogChars: 2_000,
};

/** What the caller of an evaluation passes: how to stop it and where its logs go. */
export interface EvaluateOptions {
  /**
   * Aborting it interrupts a running evaluation: it rejects with the signal's reason (a step's
   * `timeout_ms` → STEP_TIMEOUT, `cancel()` → CANCELLED).
   */
  signal?: AbortSignal;
  /** Receives the evaluation's `console.log` lines (JavaScript). */
  log?: (level: 'debug' | 'info' | 'warn' | 'error', message: string) => void;
}

/** Hard bound on the text of any one expression (the validator reports LIMIT past it). */
export const MAX_EXPRESSION_LENGTH = 100_000;

/** Where an expression lives, for error messages. */
export interface ExpressionSite {
  step_key?: string;
  /** The field, e.g. "conditional", "loop", "code", "conditions.high.condition", "url". */
  field: string;
}

export interface ExpressionSyntaxError {
  message: string;
  /** 0-based character offset in the expression where the problem was found. */
  position: number;
  token?: string;
  jsonata_code?: string;
}

export type ParseResult =
  | { ok: true; expression: jsonata.Expression }
  | { ok: false; error: ExpressionSyntaxError };

interface JsonataErrorLike {
  code?: string;
  position?: number;
  token?: string;
  message?: string;
  value?: unknown;
}

/** Parses an expression; never throws. */
export function parseExpression(
  source: string,
  limits: ExpressionLimits = DEFAULT_EXPRESSION_LIMITS,
): ParseResult {
  if (source.length > MAX_EXPRESSION_LENGTH) {
    return {
      ok: false,
      error: {
        message: `The expression is ${source.length} characters long; the limit is ${MAX_EXPRESSION_LENGTH}.`,
        position: 0,
      },
    };
  }
  try {
    const expression = jsonata(source, {
      timeout: limits.timeoutMs,
      stack: limits.maxDepth,
      sequence: limits.maxSequence,
    });
    return { ok: true, expression };
  } catch (error) {
    const e = error as JsonataErrorLike;
    // jsonata reports the 1-based position just past the offending token; make it a 0-based offset.
    const position = typeof e.position === 'number' ? Math.max(0, e.position - 1) : 0;
    const result: ExpressionSyntaxError = { message: e.message ?? String(error), position };
    if (e.token !== undefined) result.token = String(e.token);
    if (e.code !== undefined) result.jsonata_code = e.code;
    return { ok: false, error: result };
  }
}

/** Variables available to every expression; see docs/semantics.md, rule 7. */
export interface ExpressionBindings {
  input: unknown;
  steps: unknown;
  vars: unknown;
  run: unknown;
  item?: unknown;
  index?: number;
}

/** A parsed expression, ready to evaluate any number of times (concurrently too). */
export interface CompiledExpression {
  readonly source: string;
  readonly site: ExpressionSite;
  /** `jsonata` or `javascript`. */
  readonly language: ExpressionLanguage;
  /** True when the expression refers to `$index` (a loop in item form; always for JavaScript loops). */
  readonly usesIndex: boolean;
  evaluate(document: unknown, bindings: ExpressionBindings, options?: EvaluateOptions): Promise<unknown>;
}

export const EXPRESSION_LANGUAGES = ['jsonata', 'javascript'] as const;
export type ExpressionLanguage = (typeof EXPRESSION_LANGUAGES)[number];

/** JSONata's error codes for its limits, and which limit each is. */
const LIMIT_CODES: ReadonlyMap<string, LimitKind> = new Map([
  ['D1011', LIMIT_KINDS.DEPTH],
  ['D1012', LIMIT_KINDS.TIME],
  ['D2014', LIMIT_KINDS.SEQUENCE],
  ['D2015', LIMIT_KINDS.SEQUENCE],
  ['U1001', LIMIT_KINDS.STRING],
]);

function truncate(text: string, max = 120): string {
  return text.length > max ? `${text.slice(0, max)}…` : text;
}

/** Turns whatever jsonata threw during evaluation into a coded WeftError that says where. */
export function expressionFailure(error: unknown, source: string, site: ExpressionSite): WeftError {
  if (error instanceof WeftError) return error;
  const e = (error ?? {}) as JsonataErrorLike;
  const isStackOverflow = error instanceof RangeError || (e as { name?: unknown }).name === 'RangeError';
  const limit = isStackOverflow
    ? LIMIT_KINDS.DEPTH
    : e.code === undefined
      ? undefined
      : LIMIT_CODES.get(e.code);
  const position = typeof e.position === 'number' ? Math.max(0, e.position - 1) : undefined;
  if (limit !== undefined) {
    const failure = limitFailure(
      limit,
      site,
      source,
      typeof e.value === 'number' ? e.value : undefined,
      isStackOverflow ? 'the evaluator ran out of stack' : e.message,
    );
    if (position !== undefined) failure.details!.position = position;
    if (e.code !== undefined) failure.details!.jsonata_code = e.code;
    return failure;
  }
  const what = e.message ?? String(error);
  const where =
    site.step_key === undefined ? `\`${site.field}\`` : `\`${site.field}\` of step "${site.step_key}"`;
  const details: Record<string, unknown> = { field: site.field, expression: truncate(source, 500) };
  if (position !== undefined) details.position = position;
  if (e.code !== undefined) details.jsonata_code = e.code;
  return new WeftError(
    ERROR_CODES.EXPRESSION_ERROR,
    `The expression in ${where} failed${position === undefined ? '' : ` at position ${position}`}: ${what} ` +
      `(expression: ${truncate(source)}).`,
    { ...(site.step_key === undefined ? {} : { step_key: site.step_key }), details, retryable: false },
  );
}

function referencesIndex(node: unknown, depth = 0): boolean {
  if (depth > 2000 || node === null || typeof node !== 'object') return false;
  const n = node as { type?: unknown; value?: unknown };
  if (n.type === 'variable' && n.value === 'index') return true;
  for (const child of Object.values(node)) {
    if (child !== null && typeof child === 'object' && referencesIndex(child, depth + 1)) return true;
  }
  return false;
}

function disabled(name: string) {
  return () => {
    throw { code: 'WEFT_DISABLED', message: `$${name}() is not available in Weft expressions.` };
  };
}

/**
 * Parses `source` once and returns an evaluator. Throws an EXPRESSION_ERROR WeftError (with the
 * position) when the expression does not parse; the validator reports these before anything runs.
 */
export function compileExpression(
  source: string,
  site: ExpressionSite,
  limits: ExpressionLimits = DEFAULT_EXPRESSION_LIMITS,
): CompiledExpression {
  const parsed = parseExpression(source, limits);
  if (!parsed.ok) {
    throw expressionFailure({ ...parsed.error, position: parsed.error.position + 1 }, source, site);
  }
  const usesIndex = referencesIndex(parsed.expression.ast());
  // Which parts of the scope and bindings the expression can read: only those cross to the worker. Made
  // on the first evaluation that gets here (the AST parsed again: microseconds, against a worker's
  // round trip), not at compile time: most expressions are answered by the fast path and never do, and
  // a plan keeps what each of its expressions holds — two Sets and three closures, ~500 bytes each.
  let subset: ReturnType<typeof subsetForJsonata> | null = null;
  return {
    source,
    site,
    language: 'jsonata',
    usesIndex,
    evaluate(document, bindings, options) {
      if (subset === null) {
        // It parsed when compiled, so it parses again; a failure would still be reported, not thrown.
        const again = parseExpression(source, limits);
        if (!again.ok) {
          return Promise.reject(
            expressionFailure({ ...again.error, position: again.error.position + 1 }, source, site),
          );
        }
        subset = subsetForJsonata(again.expression.ast());
      }
      return evaluateInWorker(
        { language: 'jsonata', source, site, limits, ...subset(document, bindings) },
        options,
      );
    },
  };
}

/**
 * JSONata with Weft's functions (`$pad` bounded, `$eval` disabled), evaluated directly on the calling
 * thread: only time, depth and sequence are bounded (by JSONata, between nodes), so a regex or a string
 * operation can still block. The sandbox worker runs this; tests use it as the unlimited reference.
 */
export function compileUnguarded(
  source: string,
  site: ExpressionSite,
  limits: ExpressionLimits = DEFAULT_EXPRESSION_LIMITS,
): CompiledExpression {
  const parsed = parseExpression(source, limits);
  if (!parsed.ok) {
    throw expressionFailure({ ...parsed.error, position: parsed.error.position + 1 }, source, site);
  }
  const expression = parsed.expression;
  expression.assign('eval', disabled('eval'));
  const maxString = limits.maxStringLength;
  expression.registerFunction(
    'pad',
    (str: string | undefined, width: number, char?: string) => {
      if (Math.abs(width) > maxString) {
        throw {
          code: 'U1001',
          message: `$pad width ${width} exceeds the string limit of ${maxString} characters.`,
        };
      }
      if (str === undefined) return undefined;
      const fill = char === undefined || char.length === 0 ? ' ' : char;
      const padding = Math.max(0, Math.abs(width) - [...str].length);
      if (padding === 0) return str;
      const pad = fill.repeat(Math.ceil(padding / fill.length)).slice(0, padding);
      return width > 0 ? str + pad : pad + str;
    },
    '<s-ns?:s>',
  );
  const usesIndex = referencesIndex(expression.ast());
  return {
    source,
    site,
    language: 'jsonata',
    usesIndex,
    async evaluate(document, bindings) {
      try {
        return await expression.evaluate(document, bindings as unknown as Record<string, unknown>);
      } catch (error) {
        throw expressionFailure(error, source, site);
      }
    },
  };
}

/** JSONata returns sequences as arrays tagged `sequence`; give callers plain JSON values. */
export function normalizeValue(value: unknown): unknown {
  if (Array.isArray(value) && (value as { sequence?: boolean }).sequence === true) {
    return Array.from(value);
  }
  return value;
}

/** The JSON type name of a value, for messages ("got a string"). */
export function typeName(value: unknown): string {
  if (value === undefined) return 'undefined';
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  return typeof value;
}
