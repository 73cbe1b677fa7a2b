/**
 * The store of `weft serve` and `weft keys`: where a project keeps its workflows, runs and API keys
 * (`.weft/` under the working directory, or `--data`).
 *
 * Today it is the memory store: runs last as long as the server process. The durable SQLite store
 * (`@weft/store-sqlite`, issue 12) is not in this repository yet; when it is, `openProjectStore`
 * returns `sqliteStore({ path: join(dataDir, 'weft.db') })` instead — that one line — and API keys
 * live in the database (the key file below then only seeds it).
 */
import { MemoryStore, type WeftStore } from '@weft/core';

export interface ProjectStore {
  store: WeftStore;
  /** Whether what is stored outlives the process. */
  durable: boolean;
  /** A line for people saying where things are kept. */
  notice: string;
}

export function openProjectStore(_dataDir: string): ProjectStore {
  return {
    store: new MemoryStore(),
    durable: false,
    notice:
      'Store: memory (runs are kept until the server stops; a durable SQLite store comes with @weft/store-sqlite).',
  };
}
