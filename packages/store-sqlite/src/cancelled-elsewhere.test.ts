/**
 * A run cancelled by another process on one SQLite file (two Wefts, each its own handle on the file, as
 * two processes): the worker whose append is refused because the row ended CANCELLED ends the run
 * CANCELLED here with the row's reason; a run with a cancel request that cannot be resumed ends
 * CANCELLED (@weft/testing/worker-contract, `describeCancelledElsewhere`).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeCancelledElsewhere } from '@weft/testing/worker-contract';
import { afterAll } from 'vitest';
import { SqliteStore } from './sqlite-store.js';

const dir = mkdtempSync(join(tmpdir(), 'weft-sqlite-cancelled-elsewhere-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;

describeCancelledElsewhere('SqliteStore (a handle per Weft on one file)', {
  create: () => new SqliteStore({ path: join(dir, `elsewhere-${++n}.db`) }),
  reopen: (store) => new SqliteStore({ path: (store as SqliteStore).path }),
  destroy: (store) => (store as SqliteStore).close(),
});
