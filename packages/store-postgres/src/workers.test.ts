/**
 * Durable runs and workers through the registry on PostgreSQL: every Weft on its own pool (as another
 * process would be), notices by LISTEN/NOTIFY, claims with FOR UPDATE SKIP LOCKED.
 */
import { describeDurableRuns } from '@weft/testing/durable-contract';
import {
  describeCancelledElsewhere,
  describePresenceContract,
  describeWorkers,
} from '@weft/testing/worker-contract';
import type { PostgresStore } from './postgres-store.js';
import { describeWithPostgres, dropSchema, testStore } from './test-support/db.js';

const stores = new Map<string, PostgresStore[]>();

function create(): PostgresStore {
  const store = testStore();
  stores.set(store.schema, [store]);
  return store;
}

function reopen(store: PostgresStore): PostgresStore {
  const again = testStore(store.schema);
  stores.get(store.schema)?.push(again);
  return again;
}

async function destroy(store: PostgresStore): Promise<void> {
  await store.close();
  const open = stores.get(store.schema)?.filter((s) => s !== store) ?? [];
  stores.set(store.schema, open);
  if (open.length === 0) {
    stores.delete(store.schema);
    await dropSchema(store.schema).catch(() => undefined);
  }
}

describeWithPostgres('PostgreSQL', () => {
  describeWorkers('PostgresStore (a pool per Weft)', {
    create,
    reopen: (store) => reopen(store as PostgresStore),
    destroy: (store) => destroy(store as PostgresStore),
  });
  describeCancelledElsewhere('PostgresStore (a pool per Weft)', {
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
