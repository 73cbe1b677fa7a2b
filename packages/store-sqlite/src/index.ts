// @weft/store-sqlite — a durable WeftStore on one SQLite file (docs/durability.md).
export type { Migration } from './migrations.js';
export { APPLICATION_ID, MIGRATIONS, SCHEMA_VERSION } from './migrations.js';
export type { SqliteStoreOptions, SynchronousMode } from './sqlite-store.js';
export { SqliteStore, SYNCHRONOUS_MODES, sqliteStore } from './sqlite-store.js';
