/**
 * A run cancelled by another process on one SQLite file (two Wefts, each its own handle on the file, as
 * two processes): the worker whose append is refused because the row ended CANCELLED ends the run
 * CANCELLED here with the row's reason; a run with a cancel request that cannot be resumed ends
 * CANCELLED (@weft/testing/worker-contract, `describeCancelledElsewhere`).
 */
import { describeCancelledElsewhere } from '@weft/testing/worker-contract';
import type { SqliteStore } from './sqlite-store.js';
import { sharedFiles } from './test-support/files.js';

// The stores are closed after each test by sharedFiles, once the contract has closed its Wefts.
const { file, open } = sharedFiles('cancelled-elsewhere');

describeCancelledElsewhere('SqliteStore (a handle per Weft on one file)', {
  create: () => open(file()),
  reopen: (store) => open((store as SqliteStore).path),
});
