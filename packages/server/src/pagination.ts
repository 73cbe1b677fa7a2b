/**
 * The platform's pagination — `page` (1-based) and `take` query parameters, a plain JSON array, and
 * `pagination-page`, `pagination-take`, `pagination-count` headers — over the registry's cursor lists.
 *
 * Two ways, both bounded:
 * - `pageByCursor` (runs): skip `(page - 1) × take` items through a cheap lister in steps of ≤ 100,
 *   read the page itself through the registry, and take the count from the store (`countRuns`).
 * - `pageByScan` (workflows, versions, tests, variables — short lists): read the whole list, ≤ 100 at a
 *   time, keep the page's window and count the items that match a filter (`search`, `status`). At most
 *   `maxScan` items are read: past that, the count is `maxScan` and `pagination-count-capped: true`.
 */
import type { Page } from '@weft/core';
import type { FastifyReply } from 'fastify';

export const DEFAULT_TAKE = 20;
export const SCAN_CHUNK = 100;

export interface PageParams {
  page?: number;
  take?: number;
}

export interface Listed<T> {
  data: T[];
  page: number;
  take: number;
  count: number;
  capped: boolean;
}

type Lister<T> = (cursor: string | null, limit: number) => Promise<Page<T>>;

function paramsOf(params: PageParams): { page: number; take: number } {
  return { page: params.page ?? 1, take: params.take ?? DEFAULT_TAKE };
}

/** Sets the pagination headers and returns the page's items. */
export function sendPage<T, U>(reply: FastifyReply, listed: Listed<T>, map: (item: T) => U): U[] {
  reply.header('pagination-page', String(listed.page));
  reply.header('pagination-take', String(listed.take));
  reply.header('pagination-count', String(listed.count));
  if (listed.capped) reply.header('pagination-count-capped', 'true');
  return listed.data.map(map);
}

export async function pageByCursor<T>(
  params: PageParams,
  lists: { skip: Lister<unknown>; read: Lister<T>; count: () => Promise<number> },
): Promise<Listed<T>> {
  const { page, take } = paramsOf(params);
  const [count, data] = await Promise.all([
    lists.count(),
    (async () => {
      let toSkip = (page - 1) * take;
      let cursor: string | null = null;
      while (toSkip > 0) {
        const limit = Math.min(SCAN_CHUNK, toSkip);
        const skipped: Page<unknown> = await lists.skip(cursor, limit);
        toSkip -= skipped.data.length;
        cursor = skipped.next_cursor;
        if (cursor === null) return [];
      }
      return (await lists.read(cursor, take)).data;
    })(),
  ]);
  return { data, page, take, count, capped: false };
}

export async function pageByScan<T>(
  params: PageParams,
  list: Lister<T>,
  options: { filter?: ((item: T) => boolean) | undefined; maxScan: number },
): Promise<Listed<T>> {
  const { page, take } = paramsOf(params);
  const from = (page - 1) * take;
  const data: T[] = [];
  let count = 0;
  let scanned = 0;
  let cursor: string | null = null;
  do {
    const chunk: Page<T> = await list(cursor, SCAN_CHUNK);
    for (const item of chunk.data) {
      scanned++;
      if (options.filter !== undefined && !options.filter(item)) continue;
      if (count >= from && data.length < take) data.push(item);
      count++;
    }
    cursor = chunk.next_cursor;
  } while (cursor !== null && scanned < options.maxScan);
  return { data, page, take, count, capped: cursor !== null };
}

/** A whole list already in memory (variables). */
export function pageOfArray<T>(params: PageParams, items: readonly T[]): Listed<T> {
  const { page, take } = paramsOf(params);
  const from = (page - 1) * take;
  return { data: items.slice(from, from + take), page, take, count: items.length, capped: false };
}
