/**
 * The one place where provider HTTP reliability lives: per-attempt timeout, the caller's AbortSignal
 * wired to the request itself, retries (429, 408, 5xx, network) with full-jitter backoff or the server's
 * `Retry-After`, coded errors, and secret redaction of everything thrown.
 */
import { CancelledError, ERROR_CODES, invalidArgument, type WeftError } from '@weft/core';
import {
  describeNetworkError,
  errorForStatus,
  finalizeError,
  isProviderError,
  isTransient,
  providerError,
  redactText,
  redactValue,
  usableSecrets,
} from './errors.js';
import { backoffDelay, DEFAULT_RETRY, parseRetryAfter, type RetryOptions, sleep } from './retry.js';
import { DEFAULT_MAX_EVENT_SIZE, SSEDecoder, type SSEEvent, SSEEventTooLarge } from './sse.js';

export type FetchLike = (url: string, init: RequestInit) => Promise<Response>;

export const DEFAULT_TIMEOUT_MS = 60_000;
/** 10 minutes: a long streamed completion, its retries and their waits included. */
export const DEFAULT_TOTAL_TIMEOUT_MS = 600_000;
/** 10 MB of response body (a streamed reply counts its wire bytes). */
export const DEFAULT_MAX_RESPONSE_BYTES = 10 * 1024 * 1024;
/** Error bodies are only read for their message: the rest is not read at all. */
const MAX_ERROR_BODY_BYTES = 64 * 1024;

export interface HttpClientOptions {
  /** The provider name, as it appears in messages and `details.provider`. */
  provider: string;
  /**
   * Per-attempt timeout in ms (default 60 000) → PROVIDER_TIMEOUT. For a streamed reply it is an idle
   * timeout: it restarts with every chunk received.
   */
  timeoutMs?: number;
  /**
   * Deadline of one call in ms, every attempt, retry wait and the whole stream included (default 600 000)
   * → TIMEOUT, never retried by the client. Unlike `timeoutMs`, nothing the server sends extends it.
   */
  totalTimeoutMs?: number;
  /** Largest response body read, in bytes (default 10 MB; a stream counts its wire bytes) → RESPONSE_TOO_LARGE. */
  maxResponseBytes?: number;
  /** Largest server-sent event (or line), in characters (default 1,000,000) → RESPONSE_TOO_LARGE. */
  maxEventSize?: number;
  retry?: RetryOptions;
  /** Defaults to the global `fetch` (Node ≥ 20). */
  fetch?: FetchLike;
  /** Waits between attempts; must reject (or return early) when the signal aborts. */
  sleep?: (ms: number, signal: AbortSignal | undefined) => Promise<void>;
  /** In [0, 1): the jitter source. */
  random?: () => number;
  /** For `Retry-After` HTTP dates. */
  now?: () => number;
  /** Strings never to let out in an error or a `raw` body: the API key, typically. */
  secrets?: ReadonlyArray<string | undefined>;
}

export interface AttemptContext {
  readonly provider: string;
  /** 1-based. */
  readonly attempt: number;
  /** Aborts when the attempt times out or the caller cancels. */
  readonly signal: AbortSignal;
  /** Restarts the timeout: streaming readers call it for every chunk. */
  touch(): void;
  /** Output reached the caller (a delta was emitted): a failure from now on is not retried. */
  commit(): void;
  /** The client's `maxResponseBytes`: readText, readJson and readEvents stop past it. */
  readonly maxResponseBytes: number;
  /** The client's `maxEventSize`, for readEvents. */
  readonly maxEventSize: number;
}

export interface PostRequest<T> {
  url: string;
  headers: Record<string, string>;
  /** JSON-serialised once, sent on every attempt. */
  body: unknown;
  signal?: AbortSignal;
  /** Reads a 2xx response. Errors from `providerError(..., { transient: true })` are retried. */
  read(response: Response, context: AttemptContext): Promise<T>;
}

export interface HttpClient {
  readonly provider: string;
  readonly timeoutMs: number;
  readonly totalTimeoutMs: number;
  readonly maxAttempts: number;
  post<T>(request: PostRequest<T>): Promise<T>;
  /** Deep copy of a value with every secret replaced by `[REDACTED]`. */
  redact<T>(value: T): T;
}

type Outcome<T> =
  | { ok: true; value: T }
  | { ok: false; error: WeftError; retry: boolean; retryAfterMs?: number | undefined };

export function createHttpClient(options: HttpClientOptions): HttpClient {
  const provider = options.provider;
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  if (!(typeof timeoutMs === 'number' && timeoutMs > 0)) {
    throw invalidArgument('timeoutMs', 'a positive number of milliseconds', timeoutMs);
  }
  const totalTimeoutMs = options.totalTimeoutMs ?? DEFAULT_TOTAL_TIMEOUT_MS;
  if (!(typeof totalTimeoutMs === 'number' && totalTimeoutMs > 0 && totalTimeoutMs <= 2_147_483_647)) {
    throw invalidArgument(
      'totalTimeoutMs',
      'a positive number of milliseconds (≤ 2147483647)',
      totalTimeoutMs,
    );
  }
  const maxResponseBytes = options.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES;
  if (!(Number.isInteger(maxResponseBytes) && maxResponseBytes >= 1)) {
    throw invalidArgument('maxResponseBytes', 'a positive integer', maxResponseBytes);
  }
  const maxEventSize = options.maxEventSize ?? DEFAULT_MAX_EVENT_SIZE;
  if (!(Number.isInteger(maxEventSize) && maxEventSize >= 1)) {
    throw invalidArgument('maxEventSize', 'a positive integer', maxEventSize);
  }
  const retry = { ...DEFAULT_RETRY, ...definedOnly(options.retry ?? {}) };
  if (!(Number.isInteger(retry.maxAttempts) && retry.maxAttempts >= 1)) {
    throw invalidArgument('retry.maxAttempts', 'an integer ≥ 1', retry.maxAttempts);
  }
  for (const key of ['baseDelayMs', 'maxDelayMs', 'maxRetryAfterMs'] as const) {
    if (!(typeof retry[key] === 'number' && retry[key] >= 0)) {
      throw invalidArgument(`retry.${key}`, 'a number ≥ 0', retry[key]);
    }
  }
  const fetchImpl: FetchLike = options.fetch ?? ((url, init) => globalThis.fetch(url, init));
  const wait = options.sleep ?? sleep;
  const random = options.random ?? Math.random;
  const now = options.now ?? Date.now;
  const secrets = usableSecrets(options.secrets);

  const cancelled = (attempts: number): CancelledError =>
    new CancelledError(`${provider}: the request was cancelled.`, { details: { provider, attempts } });

  const deadlineError = (attempts: number): WeftError =>
    providerError(
      ERROR_CODES.TIMEOUT,
      `${provider}: no complete answer within ${totalTimeoutMs} ms (totalTimeoutMs, ${attempts} attempt${attempts === 1 ? '' : 's'}).`,
      { provider, details: { total_timeout_ms: totalTimeoutMs } },
    );

  async function attemptOnce<T>(
    request: PostRequest<T>,
    body: string,
    attempt: number,
    deadline: AbortSignal,
  ): Promise<Outcome<T>> {
    const controller = new AbortController();
    let stop: 'timeout' | 'cancel' | 'deadline' | undefined;
    let responded = false;
    let committed = false;
    const onCallerAbort = () => {
      stop ??= 'cancel';
      controller.abort();
    };
    request.signal?.addEventListener('abort', onCallerAbort, { once: true });
    const onDeadline = () => {
      stop ??= 'deadline';
      controller.abort();
    };
    deadline.addEventListener('abort', onDeadline, { once: true });
    let timer: ReturnType<typeof setTimeout> | undefined;
    const arm = () => {
      if (timer !== undefined) clearTimeout(timer);
      timer = setTimeout(() => {
        stop ??= 'timeout';
        controller.abort();
      }, timeoutMs);
    };
    const stopped = (): Outcome<T> => {
      if (stop === 'cancel') return { ok: false, error: cancelled(attempt), retry: false };
      if (stop === 'deadline') return { ok: false, error: deadlineError(attempt), retry: false };
      const message = responded
        ? `${provider}: the response stalled: nothing received for ${timeoutMs} ms.`
        : `${provider}: no response within ${timeoutMs} ms.`;
      return {
        ok: false,
        error: providerError(ERROR_CODES.PROVIDER_TIMEOUT, message, {
          provider,
          details: { timeout_ms: timeoutMs },
        }),
        retry: false,
      };
    };
    arm();
    try {
      if (request.signal?.aborted) onCallerAbort();
      if (deadline.aborted) onDeadline();
      if (stop !== undefined) return stopped();
      let response: Response;
      try {
        response = await fetchImpl(request.url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...request.headers },
          body,
          signal: controller.signal,
          // A redirect would carry custom auth headers (api-key, x-api-key) to another host.
          redirect: 'manual',
        });
      } catch (error) {
        if (stop !== undefined) return stopped();
        return {
          ok: false,
          error: providerError(
            ERROR_CODES.PROVIDER_UNAVAILABLE,
            `${provider}: could not reach the server (${describeNetworkError(error)}).`,
            { provider, transient: true },
          ),
          retry: true,
        };
      }
      responded = true;
      if (response.status < 200 || response.status >= 300) {
        let text: string;
        try {
          // Only the start of an error body is read: the message is in it, and the rest may be huge.
          text = (await readCapped(response, MAX_ERROR_BODY_BYTES)).text;
        } catch (error) {
          if (stop !== undefined) return stopped();
          const lost = connectionLost(provider, error, response.status);
          return { ok: false, error: lost, retry: true };
        }
        // Redacted before it is parsed and cut: a cut through a secret would leave its start behind.
        const error = errorForStatus(provider, response.status, redactText(text, secrets));
        const retryAfterMs = parseRetryAfter(response.headers, now());
        if (retryAfterMs !== undefined && error.details !== undefined) {
          error.details.retry_after_ms = retryAfterMs;
        }
        return { ok: false, error, retry: isTransient(error), retryAfterMs };
      }
      const context: AttemptContext = {
        provider,
        attempt,
        signal: controller.signal,
        touch: arm,
        commit: () => {
          committed = true;
        },
        maxResponseBytes,
        maxEventSize,
      };
      try {
        return { ok: true, value: await request.read(response, context) };
      } catch (error) {
        // Release the connection whatever happened (a no-op when the body was consumed).
        controller.abort();
        if (stop !== undefined) return stopped();
        if (isProviderError(error)) return { ok: false, error, retry: isTransient(error) && !committed };
        throw error;
      }
    } finally {
      if (timer !== undefined) clearTimeout(timer);
      request.signal?.removeEventListener('abort', onCallerAbort);
      deadline.removeEventListener('abort', onDeadline);
    }
  }

  async function post<T>(request: PostRequest<T>): Promise<T> {
    const body = JSON.stringify(request.body);
    // One deadline for the whole call: attempts, the waits between them and every chunk of a stream.
    const deadline = new AbortController();
    const deadlineTimer = setTimeout(() => deadline.abort(), totalTimeoutMs);
    const started = Date.now();
    try {
      for (let attempt = 1; ; attempt++) {
        if (request.signal?.aborted) throw cancelled(attempt - 1);
        const outcome = await attemptOnce(request, body, attempt, deadline.signal);
        if (outcome.ok) return outcome.value;
        if (outcome.error.code === ERROR_CODES.CANCELLED) throw outcome.error;
        if (!outcome.retry || attempt >= retry.maxAttempts) {
          throw finalizeError(outcome.error, attempt, secrets);
        }
        let delay: number;
        if (outcome.retryAfterMs !== undefined) {
          if (outcome.retryAfterMs > retry.maxRetryAfterMs)
            throw finalizeError(outcome.error, attempt, secrets);
          delay = outcome.retryAfterMs;
        } else {
          delay = backoffDelay(attempt, retry, random);
        }
        // Waiting past the deadline would only end in TIMEOUT: say so now, with the real error.
        if (Date.now() - started + delay >= totalTimeoutMs)
          throw finalizeError(outcome.error, attempt, secrets);
        try {
          await wait(delay, request.signal);
        } catch {
          throw cancelled(attempt);
        }
        if (deadline.signal.aborted) throw finalizeError(deadlineError(attempt), attempt, secrets);
      }
    } finally {
      clearTimeout(deadlineTimer);
    }
  }

  return {
    provider,
    timeoutMs,
    totalTimeoutMs,
    maxAttempts: retry.maxAttempts,
    post,
    redact: (value) => redactValue(value, secrets),
  };
}

function definedOnly<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}

function connectionLost(provider: string, error: unknown, status: number): WeftError {
  return providerError(
    ERROR_CODES.PROVIDER_UNAVAILABLE,
    `${provider}: the connection closed mid-response (${describeNetworkError(error)}).`,
    { provider, status, transient: true },
  );
}

/**
 * Reads at most `max` bytes of the body as UTF-8 text: the rest is not read (the connection is released).
 * `truncated` says whether there was more.
 */
export async function readCapped(
  response: Response,
  max: number,
): Promise<{ text: string; truncated: boolean }> {
  const reader = response.body?.getReader();
  if (reader === undefined) return { text: '', truncated: false };
  const decoder = new TextDecoder();
  let text = '';
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return { text: text + decoder.decode(), truncated: false };
    const room = max - total;
    total += value.byteLength;
    if (value.byteLength > room) {
      text += decoder.decode(value.subarray(0, room));
      await reader.cancel().catch(() => {});
      return { text, truncated: true };
    }
    text += decoder.decode(value, { stream: true });
  }
}

export function responseTooLarge(provider: string, status: number, max: number): WeftError {
  return providerError(
    ERROR_CODES.RESPONSE_TOO_LARGE,
    `${provider}: the response is larger than ${max.toLocaleString('en-US')} bytes (maxResponseBytes); reading stopped there.`,
    { provider, status, details: { max_bytes: max } },
  );
}

/**
 * Reads the whole body as text, up to the client's `maxResponseBytes` (RESPONSE_TOO_LARGE past it); a
 * dropped connection becomes a (retryable) PROVIDER_UNAVAILABLE.
 */
export async function readText(response: Response, context: AttemptContext): Promise<string> {
  const max = context.maxResponseBytes;
  const declared = Number(response.headers.get('content-length'));
  if (Number.isFinite(declared) && declared > max) {
    await response.body?.cancel().catch(() => {});
    throw responseTooLarge(context.provider, response.status, max);
  }
  let read: { text: string; truncated: boolean };
  try {
    read = await readCapped(response, max);
  } catch (error) {
    throw connectionLost(context.provider, error, response.status);
  }
  if (read.truncated) throw responseTooLarge(context.provider, response.status, max);
  return read.text;
}

/**
 * Reads the body as JSON. A body that is not JSON is PROVIDER_UNAVAILABLE (the server or a proxy in
 * between is at fault) and is not retried by the client: the call may already have been billed.
 */
export async function readJson(response: Response, context: AttemptContext): Promise<unknown> {
  const text = await readText(response, context);
  try {
    return JSON.parse(text);
  } catch {
    throw malformedResponse(context.provider, response.status, text);
  }
}

export function malformedResponse(provider: string, status: number, text: string): WeftError {
  const trimmed = text.trim();
  const start = trimmed.length > 120 ? `${trimmed.slice(0, 120)}…` : trimmed;
  return providerError(
    ERROR_CODES.PROVIDER_UNAVAILABLE,
    `${provider}: the response is not valid JSON (HTTP ${status})${start === '' ? '' : `: ${start}`}`,
    { provider, status, details: { reason: 'malformed_response' } },
  );
}

/**
 * The server-sent events of a streamed body. Every chunk restarts the attempt's idle timeout (the call's
 * total deadline still stands); a connection dropped mid-stream becomes PROVIDER_UNAVAILABLE (retried only
 * while nothing was committed). More than `maxResponseBytes` in all, or one event longer than
 * `maxEventSize`, is RESPONSE_TOO_LARGE. Leaving the loop early cancels the body, which closes the
 * connection.
 */
export async function* readEvents(response: Response, context: AttemptContext): AsyncGenerator<SSEEvent> {
  const body = response.body;
  if (body === null) return;
  const reader = body.getReader();
  const text = new TextDecoder();
  const sse = new SSEDecoder(context.maxEventSize);
  const decode = (chunk: string, last: boolean): SSEEvent[] => {
    try {
      return last ? [...sse.push(chunk), ...sse.end()] : sse.push(chunk);
    } catch (error) {
      if (error instanceof SSEEventTooLarge) {
        throw providerError(
          ERROR_CODES.RESPONSE_TOO_LARGE,
          `${context.provider}: one server-sent event is longer than ${error.maxEventSize.toLocaleString('en-US')} characters (maxEventSize); reading stopped there.`,
          {
            provider: context.provider,
            status: response.status,
            details: { max_event_size: error.maxEventSize },
          },
        );
      }
      throw error;
    }
  };
  let total = 0;
  let done = false;
  try {
    for (;;) {
      let chunk: { done: boolean; value?: Uint8Array | undefined };
      try {
        chunk = await reader.read();
      } catch (error) {
        done = true;
        throw connectionLost(context.provider, error, response.status);
      }
      if (chunk.done) {
        done = true;
        yield* decode(text.decode(), true);
        return;
      }
      total += chunk.value?.byteLength ?? 0;
      if (total > context.maxResponseBytes) {
        throw responseTooLarge(context.provider, response.status, context.maxResponseBytes);
      }
      context.touch();
      yield* decode(text.decode(chunk.value, { stream: true }), false);
    }
  } finally {
    if (!done) await reader.cancel().catch(() => {});
    reader.releaseLock();
  }
}
