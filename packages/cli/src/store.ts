/**
 * Where the CLI records runs: a SQLite file (`@weft/store-sqlite`), or memory with `--store memory`.
 * The file is, first match wins: `--db PATH`; `WEFT_DB`; `"db"` in `./weft.json` (relative to that file);
 * `./.weft/weft.db`. Every path is under the current directory unless made absolute.
 */
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { type AppVariable, isWeftError, MemoryStore, type Variable, type WeftStore } from '@weft/core';
import { STORE_CHOICES, type StoreChoice } from './choices.js';
import { CliError } from './errors.js';
import { isPlainObject, readJson } from './files.js';
import { displayPath, isPostgresUrl } from './project.js';

export { STORE_CHOICES, type StoreChoice };

export const DEFAULT_DB = join('.weft', 'weft.db');

export interface StoreFlags {
  store?: StoreChoice;
  db?: string;
}

export interface OpenedStore {
  store: WeftStore;
  /** The database file (absolute), the PostgreSQL URL (password hidden), or null for memory. */
  path: string | null;
  /** A PostgreSQL database (`--db postgres://…`): shared by processes, with workers and notices. */
  postgres: boolean;
  close(): void;
}

/** The database file the flags, the environment and ./weft.json choose (absolute). */
export function dbPath(flags: StoreFlags, env: NodeJS.ProcessEnv, cwd = process.cwd()): string {
  if (flags.db !== undefined) {
    if (flags.db === '') throw new CliError('--db: give a file path.');
    return resolve(cwd, flags.db);
  }
  const fromEnv = env.WEFT_DB;
  if (fromEnv !== undefined && fromEnv !== '') return resolve(cwd, fromEnv);
  const config = join(cwd, 'weft.json');
  if (existsSync(config)) {
    const project = readJson(displayPath(config), 'project file');
    const db = isPlainObject(project) ? project.db : undefined;
    if (db !== undefined) {
      if (typeof db !== 'string' || db === '') {
        throw new CliError(`${displayPath(config)}: "db" must be the path of the run database (a string).`);
      }
      return resolve(dirname(config), db);
    }
  }
  return resolve(cwd, DEFAULT_DB);
}

/** A store error while opening (a newer schema, not a database, no access) is bad input: exit 2. */
function openError(error: unknown, path: string): never {
  if (isWeftError(error)) throw new CliError(`${displayPath(path)}: ${error.message}`, { cause: error });
  throw error;
}

/**
 * Opens the store the flags choose. `mustExist`: read-only commands (`weft runs …`) never create a
 * database; they say where they looked instead.
 */
export async function openStore(
  flags: StoreFlags,
  env: NodeJS.ProcessEnv,
  options: { mustExist?: boolean } = {},
): Promise<OpenedStore> {
  if (flags.store === 'memory') {
    if (flags.db !== undefined) throw new CliError('--db and --store memory cannot be used together.');
    return { store: new MemoryStore(), path: null, postgres: false, close() {} };
  }
  const url = postgresUrlOf(flags, env);
  if (url !== null) return openPostgres(url);
  const path = dbPath(flags, env);
  if (options.mustExist === true && !existsSync(path)) {
    throw new CliError(
      `${displayPath(path)}: no run database here (weft run records its runs there). Run a workflow first, or point at one with --db PATH.`,
    );
  }
  // Loaded when used: commands that do not record runs never load the native addon.
  const { sqliteStore } = await import('@weft/store-sqlite');
  try {
    const store = sqliteStore({ path });
    return { store, path, postgres: false, close: () => store.close() };
  } catch (error) {
    return openError(error, path);
  }
}

/** `--db`, else WEFT_DB, when it is a PostgreSQL URL. */
export function postgresUrlOf(flags: StoreFlags, env: NodeJS.ProcessEnv): string | null {
  const given = flags.db ?? env.WEFT_DB;
  return given !== undefined && isPostgresUrl(given) ? given : null;
}

/** The URL with its password hidden: what the CLI prints. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password !== '') parsed.password = '***';
    return parsed.toString();
  } catch {
    return 'postgres://…';
  }
}

async function openPostgres(url: string): Promise<OpenedStore> {
  const shown = redactUrl(url);
  // Loaded when used, like SQLite's addon.
  const { postgresStore } = await import('@weft/store-postgres');
  let store: Awaited<ReturnType<typeof postgresStore>>;
  try {
    store = postgresStore({ connectionString: url });
    // Connects and migrates now: a wrong URL is reported before anything starts.
    await store.ready();
  } catch (error) {
    if (isWeftError(error)) throw new CliError(`${shown}: ${error.message}`, { cause: error });
    throw error;
  }
  return {
    store,
    path: shown,
    postgres: true,
    close: () => {
      store.close().catch(() => undefined);
    },
  };
}

/**
 * The store as the registry sees it during one command: variables are the command line's (`--var`,
 * `--secret`), held in memory and never written, so a secret never reaches the database file.
 */
export function withVariables(store: WeftStore, variables: readonly Variable[]): WeftStore {
  const now = new Date().toISOString();
  const list: AppVariable[] = variables.map((v) => ({
    key: v.key,
    value: v.value,
    secret: v.secret === true,
    created_at: now,
    updated_at: now,
  }));
  list.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  return new Proxy(store, {
    get(target, property) {
      if (property === 'listVariables') return async () => list.map((v) => ({ ...v }));
      const value = Reflect.get(target, property);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}
