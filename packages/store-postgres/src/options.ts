/** `postgresStore(options)`: what can be set, checked before anything connects. */
import { invalidArgument } from '@weft/core';
import pg from 'pg';

export interface PostgresStoreOptions {
  /**
   * `postgres://user:password@host:5432/database`: the store makes (and ends, on close) its own pool.
   * Give this or `pool`, not both.
   */
  connectionString?: string;
  /** Your own node-postgres pool: the store uses it and never ends it. Give this or `connectionString`. */
  pool?: pg.Pool;
  /**
   * The schema that holds Weft's tables (created on first use, migrated on open): a lowercase identifier
   * of at most 63 characters (`[a-z_][a-z0-9_]*`). Default `weft`. Several stores can share a database
   * under different schemas; each schema is one store.
   */
  schema?: string;
  /** Connections of the store's own pool (not with `pool`). Default 10. */
  max?: number;
  /**
   * With the store's own pool: a statement that runs longer fails STORE_ERROR (retryable; PostgreSQL's
   * `statement_timeout`), and a query with no answer at all is abandoned 5 s later. Default 30,000 ms.
   */
  statementTimeoutMs?: number;
  /** With the store's own pool: how long to wait for a connection. Default 10,000 ms. */
  connectionTimeoutMs?: number;
  /** Clock stamping the migrations applied (default Date.now). */
  now?: () => number;
}

export interface CheckedOptions {
  pool: pg.Pool;
  /** Whether the store made the pool (and so ends it on close). */
  ownPool: boolean;
  schema: string;
  now: () => number;
}

export const DEFAULT_SCHEMA = 'weft';
const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

function checkInteger(value: unknown, parameter: string, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw invalidArgument(parameter, `an integer from ${min} to ${max}`, value);
  }
  return value;
}

export function checkOptions(options: PostgresStoreOptions): CheckedOptions {
  if (options === null || typeof options !== 'object') throw invalidArgument('options', 'an object', options);
  const {
    connectionString,
    pool,
    schema = DEFAULT_SCHEMA,
    max = 10,
    statementTimeoutMs = 30_000,
    connectionTimeoutMs = 10_000,
    now = Date.now,
  } = options;
  if (typeof schema !== 'string' || !SCHEMA_NAME.test(schema) || schema.startsWith('pg_')) {
    throw invalidArgument(
      'schema',
      'a lowercase identifier of at most 63 characters ([a-z_][a-z0-9_]*, not starting with pg_)',
      schema,
    );
  }
  if (typeof now !== 'function') throw invalidArgument('now', 'a function returning epoch milliseconds', now);
  if ((connectionString === undefined) === (pool === undefined)) {
    // Never quote a connection string back: it may hold a password.
    throw invalidArgument(
      'options',
      'either `connectionString` (postgres://user:password@host:port/database) or `pool` (a pg.Pool), not both',
      connectionString === undefined ? 'neither' : 'both',
    );
  }
  if (pool !== undefined) {
    if (pool === null || typeof pool !== 'object' || typeof (pool as pg.Pool).connect !== 'function') {
      throw invalidArgument('pool', 'a pg.Pool', typeof pool);
    }
    for (const [name, value] of Object.entries({
      max: options.max,
      statementTimeoutMs: options.statementTimeoutMs,
      connectionTimeoutMs: options.connectionTimeoutMs,
    })) {
      if (value !== undefined) throw invalidArgument(name, 'unset with `pool` (set it on your pool)', value);
    }
    return { pool, ownPool: false, schema, now };
  }
  if (typeof connectionString !== 'string' || !/^postgres(ql)?:\/\//.test(connectionString)) {
    throw invalidArgument(
      'connectionString',
      'a postgres:// or postgresql:// URL',
      typeof connectionString === 'string' ? '(not a postgres:// URL)' : typeof connectionString,
    );
  }
  checkInteger(max, 'max', 1, 1000);
  checkInteger(statementTimeoutMs, 'statementTimeoutMs', 1, 3_600_000);
  checkInteger(connectionTimeoutMs, 'connectionTimeoutMs', 1, 600_000);
  const own = new pg.Pool({
    connectionString,
    max,
    connectionTimeoutMillis: connectionTimeoutMs,
    statement_timeout: statementTimeoutMs,
    // A connection that answers nothing (a cut network) is given up client-side too.
    query_timeout: statementTimeoutMs + 5000,
    idle_in_transaction_session_timeout: statementTimeoutMs + 5000,
    application_name: 'weft',
    keepAlive: true,
  });
  return { pool: own, ownPool: true, schema, now };
}
