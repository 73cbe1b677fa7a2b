/**
 * Opaque list cursors: base64url of `<sort key>|<id>` of the last item of a page. The sort key is the
 * list's order column (`created_at` — MemoryStore appends an insertion sequence to break ties — or a
 * zero-padded version number), so any store can turn a cursor back into a `WHERE (key, id) < (?, ?)`
 * range on its index. Cursors are only meaningful to the store that issued them.
 */
import { ERROR_CODES, WeftError } from '../errors.js';
import type { PageQuery } from './types.js';

export interface CursorPosition {
  key: string;
  id: string;
}

export const DEFAULT_PAGE_LIMIT = 20;
export const MAX_PAGE_LIMIT = 100;

export function encodeCursor(position: CursorPosition): string {
  return Buffer.from(`${position.key}|${position.id}`, 'utf8').toString('base64url');
}

/** Decodes a cursor; throws INVALID_ARGUMENT for anything that is not one of ours. */
export function decodeCursor(cursor: string): CursorPosition {
  const invalid = () =>
    new WeftError(
      ERROR_CODES.INVALID_ARGUMENT,
      'Expected `cursor` to be the `next_cursor` of a previous page; pass it back unchanged, or omit it for the first page.',
      { details: { parameter: 'cursor' } },
    );
  if (typeof cursor !== 'string' || cursor.length === 0 || !/^[A-Za-z0-9_-]+$/.test(cursor)) throw invalid();
  const text = Buffer.from(cursor, 'base64url').toString('utf8');
  const bar = text.indexOf('|');
  if (bar <= 0 || bar === text.length - 1) throw invalid();
  return { key: text.slice(0, bar), id: text.slice(bar + 1) };
}

/** The page size of a query: `limit` (1–100), default 20. */
export function pageLimit(query: PageQuery): number {
  const limit = query.limit ?? DEFAULT_PAGE_LIMIT;
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE_LIMIT) {
    throw new WeftError(
      ERROR_CODES.INVALID_ARGUMENT,
      `Expected \`limit\` to be an integer from 1 to ${MAX_PAGE_LIMIT}, got ${String(limit)}. Page through longer lists with \`cursor\`.`,
      { details: { parameter: 'limit' } },
    );
  }
  return limit;
}

/** The sort key of a version number (zero-padded so that string order is numeric order). */
export function versionSortKey(version: number): string {
  return String(version).padStart(12, '0');
}
