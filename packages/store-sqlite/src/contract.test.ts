/** The shared WeftStore contract, run against SQLite: a fresh file per test, as users run it. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeStoreContract } from '@weft/testing/store-contract';
import { afterAll } from 'vitest';
import { SqliteStore } from './sqlite-store.js';

const dir = mkdtempSync(join(tmpdir(), 'weft-sqlite-contract-'));
let n = 0;
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describeStoreContract('SqliteStore (file, WAL)', {
  create: () => new SqliteStore({ path: join(dir, `contract-${++n}.db`) }),
  destroy: (store) => (store as SqliteStore).close(),
});

describeStoreContract('SqliteStore (:memory:)', {
  create: () => new SqliteStore({ path: ':memory:' }),
  destroy: (store) => (store as SqliteStore).close(),
  propertyRuns: 10,
});
