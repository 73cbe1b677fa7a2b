/**
 * Weft's error model. Every failure that crosses a public boundary is a `WeftError` with a stable
 * `code` from `ERROR_CODES`; `ensureWeftError` is the one place where unknown throwables become one.
 * Codes are documented in docs/errors.md — adding a code means documenting it there.
 */

export const ERROR_CODES = {
  /** The document failed validation; `ValidationError.problems` lists every problem. */
  VALIDATION_FAILED: 'VALIDATION_FAILED',
  /** Input exceeded a hard size/depth bound before it could be examined. */
  LIMIT: 'LIMIT',
  /** A JSONata expression failed to evaluate or produced a value of the wrong type. */
  EXPRESSION_ERROR: 'EXPRESSION_ERROR',
  /** A JSONata expression exceeded its time, depth or size budget. */
  EXPRESSION_LIMIT: 'EXPRESSION_LIMIT',
  /** An item-form loop produced more than `limits.maxLoopIterations` elements. */
  LOOP_LIMIT: 'LOOP_LIMIT',
  /** A step attempt ran longer than its `timeout_ms`. */
  STEP_TIMEOUT: 'STEP_TIMEOUT',
  /** A step handler threw something that carried no Weft code. */
  STEP_FAILED: 'STEP_FAILED',
  /** No handler is registered for the step's type (or the service type/action). */
  HANDLER_NOT_FOUND: 'HANDLER_NOT_FOUND',
  /** A `service` step calls a service action that neither Weft nor the host provides. */
  SERVICE_NOT_CONFIGURED: 'SERVICE_NOT_CONFIGURED',
  /** A model step named a provider that is not registered. */
  PROVIDER_NOT_FOUND: 'PROVIDER_NOT_FOUND',
  PROVIDER_AUTH: 'PROVIDER_AUTH',
  PROVIDER_RATE_LIMIT: 'PROVIDER_RATE_LIMIT',
  PROVIDER_BAD_REQUEST: 'PROVIDER_BAD_REQUEST',
  PROVIDER_UNAVAILABLE: 'PROVIDER_UNAVAILABLE',
  PROVIDER_TIMEOUT: 'PROVIDER_TIMEOUT',
  /** A model step asked for `response_format: json` and the reply was not JSON. */
  INVALID_MODEL_OUTPUT: 'INVALID_MODEL_OUTPUT',
  /**
   * A model step's tool loop made `max_iterations` model calls and the model still called tools; the
   * transcript is in `details.transcript`.
   */
  MAX_ITERATIONS: 'MAX_ITERATIONS',
  /**
   * The model called a tool the step does not have, or with arguments that are not JSON or do not fit
   * the tool's input definition. The model gets it as the tool's result and may call again.
   */
  INVALID_TOOL_CALL: 'INVALID_TOOL_CALL',
  /**
   * A model step's `{{ FIELD:contents }}` or `{{ FIELD:images }}` got a file Weft cannot read that way (a
   * PDF's text without an extractor registered, `:images` of a document).
   */
  UNSUPPORTED_FILE_TYPE: 'UNSUPPORTED_FILE_TYPE',
  /**
   * A `model` step left the model to Weft (`model: "auto"`, `provider: "auto"`, or an `auto` block without
   * a model) and no model of the registered providers' catalogues serves what the step needs;
   * `details.unmet` lists, per candidate, what it lacks.
   */
  NO_MODEL_FITS: 'NO_MODEL_FITS',
  /**
   * Input fields left to a model (`allowed_modes` with "auto") could not be filled: the model's answer did
   * not fit the fields twice (`details.problems`), or the call failed (`details.cause`).
   */
  AUTO_FILL_FAILED: 'AUTO_FILL_FAILED',
  /** The host's `http.allow` hook refused the URL of an `http_request` step. */
  HTTP_FORBIDDEN: 'HTTP_FORBIDDEN',
  /** A `workflow` step would nest sub-workflows deeper than `limits.maxWorkflowDepth`. */
  SUBWORKFLOW_DEPTH: 'SUBWORKFLOW_DEPTH',
  /** The run spent more than `limits.maxCredits`. */
  BUDGET_EXCEEDED: 'BUDGET_EXCEEDED',
  /** The run or step was cancelled. */
  CANCELLED: 'CANCELLED',
  /** An argument passed to a Weft API was wrong (the message quotes the parameter). */
  INVALID_ARGUMENT: 'INVALID_ARGUMENT',
  /** A run input did not match the version's input definition. */
  INVALID_INPUT: 'INVALID_INPUT',
  NOT_FOUND: 'NOT_FOUND',
  CONFLICT: 'CONFLICT',
  NOT_CANCELLABLE: 'NOT_CANCELLABLE',
  FORBIDDEN: 'FORBIDDEN',
  IMMUTABLE_VERSION: 'IMMUTABLE_VERSION',
  /** HTTP server: no API key, or one that is not known (401). */
  UNAUTHORIZED: 'UNAUTHORIZED',
  /** HTTP server: the API key made too many requests; retry after the `retry-after` header (429). */
  RATE_LIMITED: 'RATE_LIMITED',
  /** A journal append by a process that no longer owns the run (its lease was taken over or ended). */
  LEASE_LOST: 'LEASE_LOST',
  /** Journal entries that do not continue the run's journal (a gap or a repeated seq). */
  JOURNAL_CONFLICT: 'JOURNAL_CONFLICT',
  /** The store failed (disk, lock, corrupt file): the write did not happen. */
  STORE_ERROR: 'STORE_ERROR',
  /** The database was written by a newer Weft (its schema version is higher than this one knows). */
  STORE_SCHEMA_TOO_NEW: 'STORE_SCHEMA_TOO_NEW',
  /** A value the store wrote and reads back is damaged (`details.table`, `details.run_id`): nothing was changed. */
  STORE_CORRUPT: 'STORE_CORRUPT',
  /** A run interrupted by a crash could not be resumed here (its document or journal no longer runs): it ended FAILED. */
  RESUME_FAILED: 'RESUME_FAILED',
  /** `runs.wait` on a live run that no process holds, in a Weft that does not resume runs (`recover: false`). */
  RUN_ORPHANED: 'RUN_ORPHANED',
  /** The run was suspended by `weft.suspend` (its execution in this process stopped; it resumes elsewhere). */
  RUN_SUSPENDED: 'RUN_SUSPENDED',
  /** A client-only Weft (`worker: false`) waited for a run that no worker claimed within `noWorkerMs`. */
  NO_WORKER: 'NO_WORKER',
  /** A bug in Weft: please report it. */
  INTERNAL: 'INTERNAL',
  /** A document, input or value was larger than a configured limit (`details.limit` says which); nothing ran. */
  LIMIT_EXCEEDED: 'LIMIT_EXCEEDED',
  /** A response body (provider, `http_request`, `browser`) was larger than `maxResponseBytes`. */
  RESPONSE_TOO_LARGE: 'RESPONSE_TOO_LARGE',
  /** A call ran past its total deadline (`totalTimeoutMs`: every attempt and the whole stream included). */
  TIMEOUT: 'TIMEOUT',
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

/** The serialised form of an error, as it appears on a run and on a step. */
export interface ErrorRecord {
  code: ErrorCode | (string & {});
  message: string;
  step_key?: string;
  details?: Record<string, unknown>;
}

export interface WeftErrorOptions {
  step_key?: string;
  details?: Record<string, unknown>;
  /** Whether a retry may succeed. Defaults per code (see `RETRYABLE_BY_DEFAULT`). */
  retryable?: boolean;
  cause?: unknown;
}

const RETRYABLE_BY_DEFAULT: ReadonlySet<string> = new Set([
  ERROR_CODES.STEP_FAILED,
  ERROR_CODES.STEP_TIMEOUT,
  ERROR_CODES.PROVIDER_RATE_LIMIT,
  ERROR_CODES.PROVIDER_UNAVAILABLE,
  ERROR_CODES.PROVIDER_TIMEOUT,
  // A total deadline spent: a step retry starts a fresh call with a fresh deadline (its retry policy bounds it).
  ERROR_CODES.TIMEOUT,
]);

export class WeftError extends Error {
  override readonly name: string = 'WeftError';
  readonly code: ErrorCode | (string & {});
  readonly step_key: string | undefined;
  readonly details: Record<string, unknown> | undefined;
  readonly retryable: boolean;

  constructor(code: ErrorCode | (string & {}), message: string, options: WeftErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.step_key = options.step_key;
    this.details = options.details;
    this.retryable = options.retryable ?? RETRYABLE_BY_DEFAULT.has(code);
  }

  toJSON(): ErrorRecord {
    const record: ErrorRecord = { code: this.code, message: this.message };
    if (this.step_key !== undefined) record.step_key = this.step_key;
    if (this.details !== undefined) record.details = this.details;
    return record;
  }
}

export type Severity = 'error' | 'warning';

/** One finding of the validator. `path` is a JSON pointer into the document. */
export interface Problem {
  severity: Severity;
  code: string;
  path: string;
  step_key?: string;
  message: string;
  /** For expression problems: 0-based character offset inside the expression. */
  position?: number;
}

export class ValidationError extends WeftError {
  override readonly name: string = 'ValidationError';
  readonly problems: readonly Problem[];

  constructor(problems: readonly Problem[], message?: string) {
    const errors = problems.filter((p) => p.severity === 'error');
    super(
      ERROR_CODES.VALIDATION_FAILED,
      message ??
        `The workflow document is invalid (${errors.length} error${errors.length === 1 ? '' : 's'}): ` +
          errors
            .slice(0, 5)
            .map((p) => `${p.path || '/'} ${p.code}: ${p.message}`)
            .join('; ') +
          (errors.length > 5 ? `; and ${errors.length - 5} more` : ''),
      { details: { problems } },
    );
    this.problems = problems;
  }
}

/** Thrown (and recorded) when a run or step is cancelled. */
export class CancelledError extends WeftError {
  override readonly name: string = 'CancelledError';
  constructor(message = 'The run was cancelled.', options: WeftErrorOptions = {}) {
    super(ERROR_CODES.CANCELLED, message, { ...options, retryable: false });
  }
}

export function isWeftError(value: unknown): value is WeftError {
  return value instanceof WeftError;
}

/**
 * The boundary: whatever a handler, provider or expression threw becomes a WeftError.
 * Errors that already carry a Weft code keep it; AbortErrors become CANCELLED; anything
 * else becomes `fallback` (STEP_FAILED by default) with the original message kept.
 */
export function ensureWeftError(
  value: unknown,
  fallback: ErrorCode = ERROR_CODES.STEP_FAILED,
  options: WeftErrorOptions = {},
): WeftError {
  if (value instanceof WeftError) {
    if (options.step_key !== undefined && value.step_key === undefined) {
      return new WeftError(value.code, value.message, {
        step_key: options.step_key,
        details: value.details,
        retryable: value.retryable,
        cause: value,
      });
    }
    return value;
  }
  if (value instanceof Error) {
    if (value.name === 'AbortError') return new CancelledError(value.message || undefined, options);
    const code = (value as { code?: unknown }).code;
    if (typeof code === 'string' && code in ERROR_CODES) {
      return new WeftError(code, value.message, { ...options, cause: value });
    }
    return new WeftError(fallback, value.message || value.name, { ...options, cause: value });
  }
  let text: string;
  try {
    text = typeof value === 'string' ? value : (JSON.stringify(value) ?? String(value));
  } catch {
    text = String(value);
  }
  return new WeftError(fallback, text.length > 500 ? `${text.slice(0, 500)}…` : text, options);
}

/** Builds the INVALID_ARGUMENT error p-limit-style: it quotes the parameter. */
export function invalidArgument(parameter: string, expected: string, got: unknown): WeftError {
  return new WeftError(
    ERROR_CODES.INVALID_ARGUMENT,
    `Expected \`${parameter}\` to be ${expected}, got ${describeValue(got)}.`,
    { details: { parameter } },
  );
}

export function describeValue(value: unknown): string {
  if (value === undefined) return 'undefined';
  if (value === null) return 'null';
  if (Array.isArray(value)) return `an array (length ${value.length})`;
  if (typeof value === 'string')
    return `a string ${JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value)}`;
  if (typeof value === 'object') return 'an object';
  return `${typeof value} ${String(value)}`;
}
