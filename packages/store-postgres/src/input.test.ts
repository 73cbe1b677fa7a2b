/**
 * A run's input is its own on PostgreSQL (docs/api.md, "The run input"): copied once where it enters Weft,
 * never shared with the caller — a Weft that executes runs, and a client-only Weft with a worker, each on
 * its own pool (as two processes).
 */
import { describeRunInputOwnership } from '@weft/testing/input-contract';
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
  describeRunInputOwnership('PostgresStore (a pool per Weft)', {
    create,
    reopen: (store) => reopen(store as PostgresStore),
    destroy: (store) => destroy(store as PostgresStore),
  });
});
