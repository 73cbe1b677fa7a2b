// @weft/store-postgres — a durable WeftStore on PostgreSQL, shared by many processes (docs/durability.md).
export type { Migration } from './migrations.js';
export { MIGRATIONS, SCHEMA_VERSION } from './migrations.js';
export type { PostgresStoreOptions } from './options.js';
export { DEFAULT_SCHEMA } from './options.js';
export { PostgresStore, postgresStore } from './postgres-store.js';
