/**
 * A run's input is its own on PostgreSQL (docs/api.md, "The run input"): copied once where it enters Weft,
 * never shared with the caller — a Weft that executes runs, and a client-only Weft with a worker, each on
 * its own pool (as two processes).
 */
import { describeRunInputOwnership } from '@weft/testing/input-contract';
import type { PostgresStore } from './postgres-store.js';
import { describeWithPostgres, poolPerWeft } from './test-support/db.js';

const { create, reopen, destroy } = poolPerWeft();

describeWithPostgres('PostgreSQL', () => {
  describeRunInputOwnership('PostgresStore (a pool per Weft)', {
    create,
    reopen: (store) => reopen(store as PostgresStore),
    destroy: (store) => destroy(store as PostgresStore),
  });
});
