/**
 * Coded provider errors. Every error a provider throws is a `WeftError` whose `details` carry
 * `{ provider, status, attempts }`; the HTTP client strips secrets from the final error in one place
 * (`finalizeError`), and never attaches the raw cause (a fetch error may quote a URL or a header).
 */
import { ERROR_CODES, type ErrorCode, WeftError } from '@weft/core';

/** Errors made by `providerError`; `attempts` is filled in by the client when the error leaves it. */
const OWN = new WeakSet<WeftError>();
/** Errors the client may retry itself (429, 5xx, network) as long as no output reached the caller. */
const TRANSIENT = new WeakSet<WeftError>();

export interface ProviderErrorOptions {
  provider: string;
  /** HTTP status, when the error came from a response. */
  status?: number;
  /** The client may retry it (before any output reached the caller). */
  transient?: boolean;
  /** More details (the provider's own error `type`/`code`, `retry_after_ms`, ...). */
  details?: Record<string, unknown>;
}

export function providerError(code: ErrorCode, message: string, options: ProviderErrorOptions): WeftError {
  const details: Record<string, unknown> = {
    ...options.details,
    provider: options.provider,
    status: options.status ?? null,
    attempts: 0,
  };
  const error = new WeftError(code, message, { details });
  OWN.add(error);
  if (options.transient === true) TRANSIENT.add(error);
  return error;
}

export function isTransient(error: unknown): boolean {
  return error instanceof WeftError && TRANSIENT.has(error);
}

export function isProviderError(error: unknown): error is WeftError {
  return error instanceof WeftError && OWN.has(error);
}

/** Statuses the client retries: 408, 429 and every 5xx (Anthropic's 529 "overloaded" included). */
export function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 429 || status >= 500;
}

/** 401/403 → AUTH, 429 → RATE_LIMIT, 408/5xx → UNAVAILABLE, any other status → BAD_REQUEST. */
export function codeForStatus(status: number): ErrorCode {
  if (status === 401 || status === 403) return ERROR_CODES.PROVIDER_AUTH;
  if (status === 429) return ERROR_CODES.PROVIDER_RATE_LIMIT;
  if (status === 408 || status >= 500) return ERROR_CODES.PROVIDER_UNAVAILABLE;
  return ERROR_CODES.PROVIDER_BAD_REQUEST;
}

export interface ErrorBody {
  /** The provider's own message, or the start of the body when it is not JSON. */
  message: string | undefined;
  /** The provider's error type/code (`invalid_request_error`, `rate_limit_exceeded`, ...). */
  type: string | undefined;
  code: string | undefined;
}

const MAX_MESSAGE = 500;

/**
 * Reads an error body of any of the common shapes: OpenAI's `{ error: { message, type, code } }`,
 * Anthropic's `{ type: "error", error: { type, message } }`, and the `{ error: "..." }`,
 * `{ message }` and `{ detail }` of compatible servers. Falls back to the text itself.
 */
export function parseErrorBody(text: string): ErrorBody {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    const trimmed = text.trim();
    return { message: trimmed === '' ? undefined : truncate(trimmed), type: undefined, code: undefined };
  }
  if (body === null || typeof body !== 'object') {
    return { message: truncate(String(body)), type: undefined, code: undefined };
  }
  const record = body as Record<string, unknown>;
  const error = record.error;
  if (typeof error === 'string') return { message: truncate(error), type: undefined, code: undefined };
  if (error !== null && typeof error === 'object') {
    const e = error as Record<string, unknown>;
    return {
      message: stringOr(e.message),
      type: stringOr(e.type),
      code: stringOr(e.code) ?? (typeof e.code === 'number' ? String(e.code) : undefined),
    };
  }
  const message = stringOr(record.message) ?? stringOr(record.detail);
  return { message, type: stringOr(record.type), code: stringOr(record.code) };
}

function stringOr(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? truncate(value) : undefined;
}

/** Cuts at MAX_MESSAGE characters, marking the cut with `…` (redaction looks for secrets cut there). */
function truncate(text: string): string {
  return text.length > MAX_MESSAGE ? `${text.slice(0, MAX_MESSAGE)}…` : text;
}

const STATUS_TEXT: Record<number, string> = {
  400: 'bad request',
  401: 'authentication failed',
  403: 'permission denied',
  404: 'not found',
  408: 'request timeout',
  409: 'conflict',
  413: 'request too large',
  422: 'unprocessable request',
  429: 'rate limited',
  500: 'internal server error',
  502: 'bad gateway',
  503: 'service unavailable',
  504: 'gateway timeout',
  529: 'overloaded',
};

/** The error for a non-2xx response. */
export function errorForStatus(provider: string, status: number, bodyText: string): WeftError {
  const body = parseErrorBody(bodyText);
  const what =
    status >= 300 && status < 400
      ? 'redirected the request (redirects are not followed: check baseURL)'
      : (STATUS_TEXT[status] ?? (status >= 500 ? 'server error' : 'request rejected'));
  const message = `${provider}: HTTP ${status} ${what}${body.message === undefined ? '' : `: ${body.message}`}`;
  const details: Record<string, unknown> = {};
  if (body.type !== undefined) details.type = body.type;
  if (body.code !== undefined) details.code = body.code;
  return providerError(codeForStatus(status), message, {
    provider,
    status,
    transient: isRetryableStatus(status),
    details,
  });
}

/**
 * Replaces every occurrence of a secret in a string with `[REDACTED]`, and a prefix of one (8 characters or
 * more) that a truncation left before a `…` or at the end of the string.
 */
export function redactText(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const secret of secrets) {
    if (out.includes(secret)) out = out.split(secret).join('[REDACTED]');
    if (secret.length > MIN_PREFIX) out = redactCutPrefix(out, secret);
  }
  return out;
}

const MIN_PREFIX = 8;

function redactCutPrefix(text: string, secret: string): string {
  const head = secret.slice(0, MIN_PREFIX);
  let out = text;
  for (let from = out.length; from >= 0; ) {
    const at = out.lastIndexOf(head, from);
    if (at < 0) break;
    let end = at + head.length;
    while (end < out.length && end - at < secret.length && out[end] === secret[end - at]) end++;
    if (end === out.length || out.startsWith('…', end))
      out = `${out.slice(0, at)}[REDACTED]${out.slice(end)}`;
    from = at - 1;
  }
  return out;
}

/** Deep copy of a JSON-like value with every secret replaced (strings and object keys). */
export function redactValue<T>(value: T, secrets: readonly string[]): T {
  if (secrets.length === 0) return value;
  const walk = (v: unknown, depth: number): unknown => {
    if (typeof v === 'string') return redactText(v, secrets);
    if (v === null || typeof v !== 'object' || depth > 64) return v;
    if (Array.isArray(v)) return v.map((item) => walk(item, depth + 1));
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(v)) out[redactText(key, secrets)] = walk(item, depth + 1);
    return out;
  };
  return walk(value, 0) as T;
}

/** Secrets worth redacting: non-empty, and long enough that replacing them cannot mangle ordinary text. */
export function usableSecrets(secrets: ReadonlyArray<string | undefined> | undefined): string[] {
  return (secrets ?? []).filter((s): s is string => typeof s === 'string' && s.length >= 4);
}

/**
 * The error as it leaves the client: a fresh WeftError with the attempt count, secrets redacted from
 * the message and details, and no `cause`.
 */
export function finalizeError(error: WeftError, attempts: number, secrets: readonly string[]): WeftError {
  const details = redactValue({ ...error.details, attempts }, secrets);
  return new WeftError(error.code, redactText(error.message, secrets), {
    details,
    retryable: error.retryable,
  });
}

/** A short, secret-free description of a fetch/stream failure (`ECONNRESET`, `other side closed`). */
export function describeNetworkError(error: unknown): string {
  const parts: string[] = [];
  let current: unknown = error;
  for (let depth = 0; depth < 4 && current instanceof Error; depth++) {
    const code = (current as { code?: unknown }).code;
    const piece = typeof code === 'string' ? code : current.message;
    if (piece !== '' && !parts.includes(piece)) parts.push(piece);
    current = (current as { cause?: unknown }).cause;
  }
  return parts.length === 0 ? 'network error' : parts.join(': ');
}

/**
 * The error for an error reported inside a 200 stream (Anthropic's `event: error`, or an OpenAI-style
 * `{"error": {...}}` chunk), classified by the provider's error type or code.
 */
export function errorForStreamError(provider: string, error: unknown): WeftError {
  const body = parseErrorBody(JSON.stringify({ error }));
  const kind = `${body.type ?? ''} ${body.code ?? ''}`.toLowerCase();
  let code: ErrorCode = ERROR_CODES.PROVIDER_UNAVAILABLE;
  let transient = true;
  if (kind.includes('rate_limit')) code = ERROR_CODES.PROVIDER_RATE_LIMIT;
  else if (kind.includes('quota') || kind.includes('billing')) {
    code = ERROR_CODES.PROVIDER_RATE_LIMIT;
    transient = false;
  } else if (kind.includes('auth') || kind.includes('permission')) {
    code = ERROR_CODES.PROVIDER_AUTH;
    transient = false;
  } else if (/invalid_request|not_found|too_large|bad_request/.test(kind)) {
    code = ERROR_CODES.PROVIDER_BAD_REQUEST;
    transient = false;
  }
  const details: Record<string, unknown> = {};
  if (body.type !== undefined) details.type = body.type;
  if (body.code !== undefined) details.code = body.code;
  const message = `${provider}: the stream reported an error${body.message === undefined ? '' : `: ${body.message}`}`;
  return providerError(code, message, { provider, status: 200, transient, details });
}
