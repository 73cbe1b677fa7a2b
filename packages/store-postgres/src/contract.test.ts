/** The shared WeftStore contract and the notices contract, run against PostgreSQL: a fresh schema per test. */
import { describeNoticesContract, describeStoreContract } from '@weft/testing/store-contract';
import type { PostgresStore } from './postgres-store.js';
import { describeWithPostgres, dropSchema, testStore } from './test-support/db.js';

async function destroy(store: PostgresStore): Promise<void> {
  await store.close();
  await dropSchema(store.schema);
}

describeWithPostgres('PostgreSQL', () => {
  describeStoreContract('PostgresStore', {
    create: () => testStore(),
    destroy: (store) => destroy(store as PostgresStore),
    propertyRuns: 25,
  });

  describeNoticesContract('PostgresStore (another connection writes)', {
    create: () => testStore(),
    // A second store on the same schema: its own pool, as another process would have.
    peer: (store) => testStore(store.schema),
    destroy: async (store) => {
      await store.close();
      await dropSchema(store.schema).catch(() => undefined);
    },
  });
});
