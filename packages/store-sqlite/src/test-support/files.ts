/**
 * What the tests with several Wefts on one SQLite file share: a temporary folder of files (removed after
 * the file's tests), stores and Wefts closed after each test, steps a client-only Weft must never run,
 * and a bounded wait.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Weft } from '@weft/core';
import { afterAll, afterEach } from 'vitest';
import { SqliteStore } from '../sqlite-store.js';

/** Registers the hooks; `file()` names a new database file, `open` a store on it, `track` a Weft to close. */
export function sharedFiles(prefix: string): {
  file(): string;
  open(path: string): SqliteStore;
  track<W extends Weft>(weft: W): W;
} {
  const dir = mkdtempSync(join(tmpdir(), `weft-sqlite-${prefix}-`));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  let n = 0;
  const wefts: Weft[] = [];
  const stores: SqliteStore[] = [];
  afterEach(async () => {
    // A Weft whose worker waits on a held step closes slowly: 50 ms each, then the stores go anyway.
    for (const weft of wefts.splice(0))
      await Promise.race([weft.close(), new Promise((r) => setTimeout(r, 50))]);
    for (const store of stores.splice(0)) store.close();
  });
  return {
    file: () => join(dir, `${prefix}-${++n}.db`),
    open(path) {
      const store = new SqliteStore({ path });
      stores.push(store);
      return store;
    },
    track(weft) {
      wefts.push(weft);
      return weft;
    },
  };
}

/** Handlers for `hold` and `work` that fail: given to a client-only Weft, which must execute nothing. */
export const refuse = {
  hold: () => {
    throw new Error('a client-only Weft executed a step');
  },
  work: () => {
    throw new Error('a client-only Weft executed a step');
  },
};

/** Polls `check` every 5 ms until it holds, for at most `ms`. */
export async function until(
  check: () => boolean | Promise<boolean>,
  what: string,
  ms = 15_000,
): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
