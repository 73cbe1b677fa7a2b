/**
 * Durable runs and workers through the registry on PostgreSQL: every Weft on its own pool (as another
 * process would be), notices by LISTEN/NOTIFY, claims with FOR UPDATE SKIP LOCKED.
 */
import { describeDurableRuns } from '@weft/testing/durable-contract';
import { describePresenceContract, describeWorkers } from '@weft/testing/worker-contract';
import type { PostgresStore } from './postgres-store.js';
import { describeWithPostgres, poolPerWeft } from './test-support/db.js';

const { create, reopen, destroy } = poolPerWeft();

describeWithPostgres('PostgreSQL', () => {
  describeWorkers('PostgresStore (a pool per Weft)', {
    create,
    reopen: (store) => reopen(store as PostgresStore),
    destroy: (store) => destroy(store as PostgresStore),
  });
  describePresenceContract('PostgresStore (another pool reads)', {
    create: () => create(),
    peer: (store) => reopen(store),
    destroy: (store) => destroy(store),
  });
  describeDurableRuns('PostgresStore (a pool per Weft)', {
    create,
    reopen: (store) => reopen(store as PostgresStore),
    destroy: (store) => destroy(store as PostgresStore),
    propertyRuns: 8,
  });
});
