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
  redactValue,
  usableSecrets,
} from './errors.js';
import { backoffDelay, DEFAULT_RETRY, parseRetryAfter, type RetryOptions, sleep } from './retry.js';
import { SSEDecoder, type SSEEvent } from './sse.js';

export type FetchLike = (url: string, init: RequestInit) => Promise<Response>;

export const DEFAULT_TIMEOUT_MS = 60_000;

export interface HttpClientOptions {
  /** The provider name, as it appears in messages and `details.provider`. */
  provider: string;
  /**
   * Per-attempt timeout in ms (default 60 000) → PROVIDER_TIMEOUT. For a streamed reply it is an idle
   * timeout: it restarts with every chunk received.
   */
  timeoutMs?: number;
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

  async function attemptOnce<T>(request: PostRequest<T>, body: string, attempt: number): Promise<Outcome<T>> {
    const controller = new AbortController();
    let stop: 'timeout' | 'cancel' | undefined;
    let responded = false;
    let committed = false;
    const onCallerAbort = () => {
      stop ??= 'cancel';
      controller.abort();
    };
    request.signal?.addEventListener('abort', onCallerAbort, { once: true });
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
          text = await response.text();
        } catch (error) {
          if (stop !== undefined) return stopped();
          const lost = connectionLost(provider, error, response.status);
          return { ok: false, error: lost, retry: true };
        }
        const error = errorForStatus(provider, response.status, text);
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
    }
  }

  async function post<T>(request: PostRequest<T>): Promise<T> {
    const body = JSON.stringify(request.body);
    for (let attempt = 1; ; attempt++) {
      if (request.signal?.aborted) throw cancelled(attempt - 1);
      const outcome = await attemptOnce(request, body, attempt);
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
      try {
        await wait(delay, request.signal);
      } catch {
        throw cancelled(attempt);
      }
    }
  }

  return {
    provider,
    timeoutMs,
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

/** Reads the whole body as text; a dropped connection becomes a (retryable) PROVIDER_UNAVAILABLE. */
export async function readText(response: Response, context: AttemptContext): Promise<string> {
  try {
    return await response.text();
  } catch (error) {
    throw connectionLost(context.provider, error, response.status);
  }
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
  const start = text.trim().slice(0, 120);
  return providerError(
    ERROR_CODES.PROVIDER_UNAVAILABLE,
    `${provider}: the response is not valid JSON (HTTP ${status})${start === '' ? '' : `: ${start}`}`,
    { provider, status, details: { reason: 'malformed_response' } },
  );
}

/**
 * The server-sent events of a streamed body. Every chunk restarts the attempt's idle timeout; a
 * connection dropped mid-stream becomes PROVIDER_UNAVAILABLE (retried only while nothing was committed).
 * Leaving the loop early cancels the body, which closes the connection.
 */
export async function* readEvents(response: Response, context: AttemptContext): AsyncGenerator<SSEEvent> {
  const body = response.body;
  if (body === null) return;
  const reader = body.getReader();
  const text = new TextDecoder();
  const sse = new SSEDecoder();
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
        yield* sse.push(text.decode());
        yield* sse.end();
        return;
      }
      context.touch();
      yield* sse.push(text.decode(chunk.value, { stream: true }));
    }
  } finally {
    if (!done) await reader.cancel().catch(() => {});
    reader.releaseLock();
  }
}
