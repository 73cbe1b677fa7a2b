/**
 * Durable runs through the registry on SQLite: each "process" is its own connection to one file (WAL),
 * so two Wefts on one file never run the same run, and a new one resumes what a dead one left.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { WeftStore } from '@weft/core';
import { describeDurableRuns } from '@weft/testing/durable-contract';
import { afterAll } from 'vitest';
import { SqliteStore } from './sqlite-store.js';

const dir = mkdtempSync(join(tmpdir(), 'weft-sqlite-durable-'));
const paths = new WeakMap<WeftStore, string>();
let n = 0;
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function at(path: string): SqliteStore {
  const store = new SqliteStore({ path });
  paths.set(store, path);
  return store;
}

describeDurableRuns('SqliteStore (one file, a connection per Weft)', {
  create: () => at(join(dir, `durable-${++n}.db`)),
  reopen: (store) => at(paths.get(store)!),
  destroy: (store) => (store as SqliteStore).close(),
  propertyRuns: 8,
});
