/** page/take over cursor lists: both ways agree with slicing the whole list, for any page and size. */
import type { Page } from '@weft/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fcRuns } from '../../core/src/test-support/fc.js';
import { pageByCursor, pageByScan, pageOfArray } from './pagination.js';

/** A cursor list over an array, as a store serves it (cursor: the next index). */
function lister<T>(items: readonly T[], calls: { n: number } = { n: 0 }) {
  return async (cursor: string | null, limit: number): Promise<Page<T>> => {
    calls.n++;
    expect(limit).toBeGreaterThanOrEqual(1);
    expect(limit).toBeLessThanOrEqual(100);
    const from = cursor === null ? 0 : Number(cursor);
    const data = items.slice(from, from + limit);
    return { data, next_cursor: from + limit < items.length ? String(from + limit) : null };
  };
}

describe('pagination', () => {
  it('pageByCursor and pageByScan answer the slice of the whole list, and its length', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: 450 }),
        fc.integer({ min: 1, max: 12 }),
        fc.integer({ min: 1, max: 100 }),
        async (length, page, take) => {
          const items = Array.from({ length }, (_, i) => i);
          const expected = items.slice((page - 1) * take, page * take);
          const byCursor = await pageByCursor(
            { page, take },
            { skip: lister(items), read: lister(items), count: async () => items.length },
          );
          const byScan = await pageByScan({ page, take }, lister(items), { maxScan: 10_000 });
          for (const listed of [byCursor, byScan, pageOfArray({ page, take }, items)]) {
            expect(listed.data).toEqual(expected);
            expect(listed.count).toBe(length);
            expect(listed).toMatchObject({ page, take, capped: false });
          }
        },
      ),
      { numRuns: fcRuns(200) },
    );
  });

  it('pageByScan filters before paging and counts the matches', async () => {
    const items = Array.from({ length: 250 }, (_, i) => i);
    const even = (n: number) => n % 2 === 0;
    const listed = await pageByScan({ page: 2, take: 10 }, lister(items), { filter: even, maxScan: 10_000 });
    expect(listed.data).toEqual([20, 22, 24, 26, 28, 30, 32, 34, 36, 38]);
    expect(listed.count).toBe(125);
  });

  it('pageByScan reads at most maxScan items and says the count is capped', async () => {
    const items = Array.from({ length: 1000 }, (_, i) => i);
    const calls = { n: 0 };
    const listed = await pageByScan({}, lister(items, calls), { maxScan: 300 });
    expect(listed).toMatchObject({ count: 300, capped: true, page: 1, take: 20 });
    expect(calls.n).toBe(3);
  });

  it('pageByCursor skips in steps of at most 100 and stops at the end of the list', async () => {
    const items = Array.from({ length: 1000 }, (_, i) => i);
    const calls = { n: 0 };
    await pageByCursor(
      { page: 11, take: 50 },
      { skip: lister(items, calls), read: lister(items), count: async () => 0 },
    );
    expect(calls.n).toBe(5);
    const past = await pageByCursor(
      { page: 1000, take: 100 },
      { skip: lister(items), read: lister(items), count: async () => 1000 },
    );
    expect(past.data).toEqual([]);
  });
});
