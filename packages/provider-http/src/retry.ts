/** Backoff, `Retry-After` and an abortable sleep. */

export interface RetryOptions {
  /** Total HTTP attempts, first one included. Default 3; 1 disables retries. */
  maxAttempts?: number;
  /** Base of the exponential backoff in ms. Default 500. */
  baseDelayMs?: number;
  /** Cap of one backoff delay in ms. Default 8000. */
  maxDelayMs?: number;
  /**
   * Longest `Retry-After` the client waits for, in ms. Default 60 000. A server asking for longer
   * ends the retries at once: the error carries `details.retry_after_ms` for the host to act on.
   */
  maxRetryAfterMs?: number;
}

export const DEFAULT_RETRY: Required<RetryOptions> = {
  maxAttempts: 3,
  baseDelayMs: 500,
  maxDelayMs: 8000,
  maxRetryAfterMs: 60_000,
};

/**
 * Exponential backoff with full jitter: a uniform delay in `[0, min(maxDelayMs, baseDelayMs * 2^(n-1)))`
 * after failed attempt `n` (1-based).
 */
export function backoffDelay(
  attempt: number,
  options: Pick<Required<RetryOptions>, 'baseDelayMs' | 'maxDelayMs'>,
  random: () => number = Math.random,
): number {
  const ceiling = Math.min(options.maxDelayMs, options.baseDelayMs * 2 ** Math.max(0, attempt - 1));
  const r = Math.min(Math.max(random(), 0), 1);
  return Math.floor(r * ceiling);
}

interface HeaderLike {
  get(name: string): string | null;
}

/**
 * The wait a response asks for, in ms, from `retry-after-ms` (OpenAI) or `Retry-After` as delta-seconds
 * or an HTTP date. `undefined` when absent or unreadable; never negative.
 */
export function parseRetryAfter(headers: HeaderLike, now: number = Date.now()): number | undefined {
  const ms = headers.get('retry-after-ms');
  if (ms !== null && ms.trim() !== '') {
    const value = Number(ms);
    if (Number.isFinite(value) && value >= 0) return Math.ceil(value);
  }
  const header = headers.get('retry-after');
  if (header === null) return undefined;
  const text = header.trim();
  if (text === '') return undefined;
  if (/^\d+(\.\d+)?$/.test(text)) return Math.ceil(Number(text) * 1000);
  // An HTTP date (`Wed, 21 Oct 2015 07:28:00 GMT`) has a day or month name; `-3` is not one.
  if (!/[a-z]/i.test(text)) return undefined;
  const date = Date.parse(text);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - now);
}

/** Resolves after `ms`; rejects with the signal's reason (an AbortError by default) when it aborts first. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(abortReason(signal));
      return;
    }
    const onAbort = () => {
      clearTimeout(timer);
      reject(abortReason(signal!));
    };
    const timer = setTimeout(
      () => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      },
      Math.max(0, ms),
    );
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

function abortReason(signal: AbortSignal): unknown {
  return signal.reason ?? new DOMException('The operation was aborted.', 'AbortError');
}
