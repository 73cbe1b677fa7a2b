/**
 * An in-memory ordered index of (key, id) pairs — the memory store's stand-in for a B-tree index.
 * Lists walk it newest first from a cursor, so a page costs O(log n + page) whatever else is stored.
 */
import { type CursorPosition, decodeCursor, encodeCursor } from './cursor.js';
import type { Page } from './types.js';

export interface IndexPageOptions {
  cursor?: string | null | undefined;
  limit: number;
  /** Inclusive lower bound on the key. */
  min?: string | undefined;
  /** Exclusive upper bound on the key. */
  max?: string | undefined;
  /** A residual filter on the entries of the range. */
  filter?: ((id: string) => boolean) | undefined;
}

function compare(aKey: string, aId: string, bKey: string, bId: string): number {
  if (aKey !== bKey) return aKey < bKey ? -1 : 1;
  if (aId !== bId) return aId < bId ? -1 : 1;
  return 0;
}

export class SortedIndex {
  readonly #entries: CursorPosition[] = [];

  get size(): number {
    return this.#entries.length;
  }

  /** The first position whose entry is ≥ (key, id). */
  #lowerBound(key: string, id: string): number {
    let lo = 0;
    let hi = this.#entries.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const e = this.#entries[mid]!;
      if (compare(e.key, e.id, key, id) < 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  insert(key: string, id: string): void {
    const at = this.#lowerBound(key, id);
    const e = this.#entries[at];
    if (e !== undefined && e.key === key && e.id === id) return;
    // Keys mostly arrive in order: appending is the common, O(1) case.
    if (at === this.#entries.length) this.#entries.push({ key, id });
    else this.#entries.splice(at, 0, { key, id });
  }

  remove(key: string, id: string): void {
    const at = this.#lowerBound(key, id);
    const e = this.#entries[at];
    if (e !== undefined && e.key === key && e.id === id) this.#entries.splice(at, 1);
  }

  /** The highest entry, or undefined. */
  last(): CursorPosition | undefined {
    return this.#entries[this.#entries.length - 1];
  }

  /** Ids in ascending order with key ≤ `max` (inclusive), at most `limit`. */
  ascendingUpTo(max: string, limit: number, filter?: (id: string) => boolean): string[] {
    const out: string[] = [];
    for (const e of this.#entries) {
      if (e.key > max || out.length >= limit) break;
      if (filter === undefined || filter(e.id)) out.push(e.id);
    }
    return out;
  }

  /** How many entries `page` would list over all pages (same range and filter). */
  count(options: Omit<IndexPageOptions, 'cursor' | 'limit'>): number {
    const hi = options.max === undefined ? this.#entries.length : this.#lowerBound(options.max, '');
    const lo = options.min === undefined ? 0 : this.#lowerBound(options.min, '');
    if (options.filter === undefined) return Math.max(0, hi - lo);
    let n = 0;
    for (let i = lo; i < hi; i++) if (options.filter(this.#entries[i]!.id)) n++;
    return n;
  }

  /** A page of ids, highest first. */
  page(options: IndexPageOptions): Page<string> {
    let hi = this.#entries.length;
    if (options.max !== undefined) hi = Math.min(hi, this.#lowerBound(options.max, ''));
    if (options.cursor !== undefined && options.cursor !== null) {
      const c = decodeCursor(options.cursor);
      hi = Math.min(hi, this.#lowerBound(c.key, c.id));
    }
    const lo = options.min === undefined ? 0 : this.#lowerBound(options.min, '');
    const data: string[] = [];
    let last: CursorPosition | null = null;
    let more = false;
    for (let i = hi - 1; i >= lo; i--) {
      const e = this.#entries[i]!;
      if (options.filter !== undefined && !options.filter(e.id)) continue;
      if (data.length === options.limit) {
        more = true;
        break;
      }
      data.push(e.id);
      last = e;
    }
    return { data, next_cursor: more && last !== null ? encodeCursor(last) : null };
  }
}
