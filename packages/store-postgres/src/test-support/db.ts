/**
 * What this package's tests share: the server of the global setup, a fresh schema per store (so tests
 * never see each other's rows), and an admin connection that drops them afterwards.
 */
import pg from 'pg';
import { afterAll, describe, inject } from 'vitest';
import { PostgresStore } from '../postgres-store.js';

/** The test server's URL; null when it could not start (global-setup.ts has said why, loudly). */
export const postgresUrl: string | null = inject('postgresUrl');

/** `describe`, skipped when there is no server. */
export function describeWithPostgres(name: string, body: () => void): void {
  describe.skipIf(postgresUrl === null)(name, body);
}

let counter = 0;
const created = new Set<string>();

/** A schema name no other test uses. */
export function freshSchema(label = 't'): string {
  const name = `${label}_${process.pid}_${++counter}_${Math.random().toString(36).slice(2, 8)}`;
  created.add(name);
  return name;
}

let admin: pg.Pool | null = null;

/** A pool for the tests' own SQL (inspecting tables, dropping schemas). */
export function adminPool(): pg.Pool {
  if (postgresUrl === null) throw new Error('no PostgreSQL server');
  if (admin === null) {
    admin = new pg.Pool({ connectionString: postgresUrl, max: 4 });
    admin.on('error', () => {});
  }
  return admin;
}

export async function dropSchema(schema: string): Promise<void> {
  await adminPool().query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  created.delete(schema);
}

/** Ends a test's store: its connections closed, then its schema dropped. */
export async function closeAndDrop(store: PostgresStore): Promise<void> {
  await store.close();
  await dropSchema(store.schema);
}

/**
 * A store on a fresh schema of the test server. `applicationName` names its connections (the URL's
 * parameter overrides the store's `weft`), for a test that kills them without touching other files'.
 */
export function testStore(
  schema = freshSchema(),
  extra: { max?: number; applicationName?: string } = {},
): PostgresStore {
  const url =
    extra.applicationName === undefined
      ? postgresUrl!
      : `${postgresUrl!}?application_name=${encodeURIComponent(extra.applicationName)}`;
  return new PostgresStore({ connectionString: url, schema, max: extra.max ?? 4 });
}

/**
 * Stores for the registry contracts, "a pool per Weft": `create` opens a store on a fresh schema,
 * `reopen` another pool on the same schema (as another process would), `destroy` closes one and drops
 * the schema when its last pool is closed.
 */
export function poolPerWeft(): {
  create(): PostgresStore;
  reopen(store: PostgresStore): PostgresStore;
  destroy(store: PostgresStore): Promise<void>;
} {
  const stores = new Map<string, PostgresStore[]>();
  return {
    create() {
      const store = testStore();
      stores.set(store.schema, [store]);
      return store;
    },
    reopen(store) {
      const again = testStore(store.schema);
      stores.get(store.schema)?.push(again);
      return again;
    },
    async destroy(store) {
      await store.close();
      const open = stores.get(store.schema)?.filter((s) => s !== store) ?? [];
      stores.set(store.schema, open);
      if (open.length === 0) {
        stores.delete(store.schema);
        await dropSchema(store.schema).catch(() => undefined);
      }
    },
  };
}

afterAll(async () => {
  if (admin === null) return;
  for (const schema of [...created]) await dropSchema(schema).catch(() => undefined);
  await admin.end();
  admin = null;
});
