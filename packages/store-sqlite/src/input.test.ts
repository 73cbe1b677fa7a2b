/**
 * A run's input is its own on SQLite (docs/api.md, "The run input"): copied once where it enters Weft,
 * never shared with the caller — a Weft that executes runs, and a client-only Weft with a worker on another
 * connection to the same file (as two processes).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeRunInputOwnership } from '@weft/testing/input-contract';
import { afterAll } from 'vitest';
import { SqliteStore } from './sqlite-store.js';

const dir = mkdtempSync(join(tmpdir(), 'weft-sqlite-input-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;

describeRunInputOwnership('SqliteStore (a connection per Weft)', {
  create: () => new SqliteStore({ path: join(dir, `input-${++n}.db`) }),
  reopen: (store) => new SqliteStore({ path: (store as SqliteStore).path }),
  destroy: (store) => (store as SqliteStore).close(),
});
