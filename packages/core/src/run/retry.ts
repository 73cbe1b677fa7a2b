/** Retry delays and abortable sleeping. */

import type { ResolvedRetry } from '../compile/plan.js';
import { CancelledError } from '../errors.js';
import type { RetryPolicy } from '../model/types.js';

export const DEFAULT_RETRY: ResolvedRetry = {
  max_attempts: 1,
  interval_ms: 1000,
  backoff_rate: 2,
  max_delay_ms: 30_000,
  jitter: true,
};

export function resolveRetry(...policies: Array<RetryPolicy | null | undefined>): ResolvedRetry {
  let out = DEFAULT_RETRY;
  for (const p of policies) if (p) out = { ...out, ...stripUndefined(p) };
  return out;
}

function stripUndefined(p: RetryPolicy): Partial<ResolvedRetry> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(p)) if (v !== undefined) out[k] = v;
  return out as Partial<ResolvedRetry>;
}

/** Delay before attempt `attempt + 1` (attempt is 1-based): interval × rate^(attempt−1), capped, maybe jittered. */
export function retryDelay(
  policy: ResolvedRetry,
  attempt: number,
  random: () => number = Math.random,
): number {
  const base = Math.min(policy.max_delay_ms, policy.interval_ms * policy.backoff_rate ** (attempt - 1));
  return policy.jitter ? base / 2 + random() * (base / 2) : base;
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(new CancelledError('Cancelled while waiting to retry.'));
    const onAbort = () => {
      clearTimeout(timer);
      reject(new CancelledError('Cancelled while waiting to retry.'));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
