import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { backoffDelay, parseRetryAfter, sleep } from './retry.js';

const headers = (entries: Record<string, string>) => new Headers(entries);

describe('backoffDelay', () => {
  it('is full jitter: uniform in [0, min(max, base * 2^(n-1)))', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 30 }),
        fc.double({ min: 0, max: 1, noNaN: true, maxExcluded: true }),
        fc.integer({ min: 1, max: 5000 }),
        fc.integer({ min: 1, max: 60_000 }),
        (attempt, r, base, max) => {
          const delay = backoffDelay(attempt, { baseDelayMs: base, maxDelayMs: max }, () => r);
          const ceiling = Math.min(max, base * 2 ** (attempt - 1));
          expect(delay).toBeGreaterThanOrEqual(0);
          expect(delay).toBeLessThanOrEqual(ceiling);
          expect(delay).toBe(Math.floor(r * ceiling));
        },
      ),
    );
  });

  it('doubles the ceiling per attempt up to the cap', () => {
    const top = () => 0.999999;
    const opts = { baseDelayMs: 100, maxDelayMs: 1000 };
    expect([1, 2, 3, 4, 5].map((n) => backoffDelay(n, opts, top))).toEqual([99, 199, 399, 799, 999]);
    expect(backoffDelay(3, opts, () => 0)).toBe(0);
  });
});

describe('parseRetryAfter', () => {
  it('reads delta-seconds, fractional seconds and retry-after-ms', () => {
    expect(parseRetryAfter(headers({ 'retry-after': '0' }))).toBe(0);
    expect(parseRetryAfter(headers({ 'retry-after': '7' }))).toBe(7000);
    expect(parseRetryAfter(headers({ 'retry-after': '1.5' }))).toBe(1500);
    expect(parseRetryAfter(headers({ 'retry-after-ms': '250', 'retry-after': '9' }))).toBe(250);
  });

  it('reads an HTTP date relative to now, never negative', () => {
    const now = Date.UTC(2025, 0, 1, 12, 0, 0);
    const later = new Date(now + 30_000).toUTCString();
    expect(parseRetryAfter(headers({ 'retry-after': later }), now)).toBe(30_000);
    const earlier = new Date(now - 30_000).toUTCString();
    expect(parseRetryAfter(headers({ 'retry-after': earlier }), now)).toBe(0);
  });

  it('ignores absent and unreadable values', () => {
    expect(parseRetryAfter(headers({}))).toBeUndefined();
    expect(parseRetryAfter(headers({ 'retry-after': 'soon' }))).toBeUndefined();
    expect(parseRetryAfter(headers({ 'retry-after': '-3' }))).toBeUndefined();
    expect(parseRetryAfter(headers({ 'retry-after-ms': 'x' }))).toBeUndefined();
  });
});

describe('sleep', () => {
  it('resolves after the delay', async () => {
    const start = Date.now();
    await sleep(20);
    expect(Date.now() - start).toBeGreaterThanOrEqual(15);
  });

  it('rejects at once when the signal aborts', async () => {
    const controller = new AbortController();
    const pending = sleep(10_000, controller.signal);
    controller.abort();
    await expect(pending).rejects.toMatchObject({ name: 'AbortError' });
    await expect(sleep(10, AbortSignal.abort())).rejects.toBeDefined();
  });
});
