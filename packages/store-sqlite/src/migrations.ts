/**
 * Versioned schema migrations. The `schema_version` table lists every migration applied (one row each);
 * opening applies the missing ones in one `BEGIN IMMEDIATE` transaction, so two processes opening a new
 * file at once migrate it once. A database whose version is higher than `SCHEMA_VERSION` was written by a
 * newer Weft: it is refused (STORE_SCHEMA_TOO_NEW) and left untouched.
 *
 * Migrations are append-only: never edit one that has shipped; add the next.
 */
import { ERROR_CODES, WeftError } from '@weft/core';
import type Database from 'better-sqlite3';

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

/** 'WEFT' in ASCII: `PRAGMA application_id` marks the file as a Weft database. */
export const APPLICATION_ID = 0x57454654;

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'workflows, versions, runs, steps, tests, variables, journal and leases',
    sql: `
      -- Lists page by (created_at, seq) descending: seq (the rowid) orders records created in the same
      -- millisecond by insertion, as the memory store does.
      CREATE TABLE workflows (
        seq INTEGER PRIMARY KEY,
        id TEXT NOT NULL UNIQUE,
        app_id TEXT NOT NULL,
        created_at TEXT NOT NULL,
        archived INTEGER NOT NULL,
        -- 1 when discoverable and not archived: what Discover lists.
        discover INTEGER NOT NULL,
        body TEXT NOT NULL
      );
      CREATE INDEX workflows_by_app ON workflows (app_id, created_at, seq);
      CREATE INDEX workflows_discover ON workflows (created_at, seq) WHERE discover = 1;

      CREATE TABLE versions (
        id TEXT PRIMARY KEY,
        workflow_id TEXT NOT NULL,
        version INTEGER NOT NULL,
        body TEXT NOT NULL,
        UNIQUE (workflow_id, version)
      );

      -- Every run-level field has its own column (JSON text for objects), so that a patch writes only
      -- what it changes. Small, hot columns come first and the big JSON ones last: SQLite reads a
      -- column by walking the record, and a lease check must not wade through the pinned document.
      -- journal_seq here is only a floor (kept when a purge deletes the entries): the journal's own
      -- max(seq) is the truth, so an append never rewrites the run row just to count.
      CREATE TABLE runs (
        seq INTEGER PRIMARY KEY,
        id TEXT NOT NULL UNIQUE,
        status TEXT NOT NULL,
        owner_id TEXT,
        lease_until TEXT,
        journal_seq INTEGER NOT NULL DEFAULT 0,
        app_id TEXT,
        workflow_app_id TEXT,
        workflow_id TEXT,
        origin TEXT NOT NULL,
        version INTEGER,
        collection_id TEXT,
        record_id TEXT,
        replay_of TEXT,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        started_at TEXT,
        ended_at TEXT,
        retention_due_at TEXT,
        purged_at TEXT,
        -- retention.preserve_on_failure, copied out of the JSON for the due index.
        preserve INTEGER NOT NULL DEFAULT 0,
        retention TEXT,
        error TEXT,
        usage TEXT,
        result TEXT,
        input TEXT,
        workflow_version TEXT,
        workflow_version_draft TEXT
      );
      CREATE INDEX runs_by_app ON runs (app_id, created_at, seq);
      CREATE INDEX runs_by_workflow ON runs (app_id, workflow_id, created_at, seq);
      CREATE INDEX runs_due ON runs (retention_due_at, id)
        WHERE retention_due_at IS NOT NULL AND purged_at IS NULL AND NOT (status = 'FAILED' AND preserve = 1);
      -- Live runs only (few at any time): recovery scans it, and so does a heartbeat (renewLeases).
      CREATE INDEX runs_live ON runs (lease_until, id) WHERE status IN ('PENDING', 'RUNNING');

      -- pos keeps each run's records in first-saved order (an upsert keeps it). One b-tree, no rowid:
      -- a step write touches one page, not a table and an index.
      CREATE TABLE steps (
        run_id TEXT NOT NULL,
        key TEXT NOT NULL,
        pos INTEGER NOT NULL,
        body TEXT NOT NULL,
        PRIMARY KEY (run_id, key)
      ) WITHOUT ROWID;

      CREATE TABLE journal (
        run_id TEXT NOT NULL,
        seq INTEGER NOT NULL,
        type TEXT NOT NULL,
        at TEXT NOT NULL,
        data TEXT NOT NULL,
        PRIMARY KEY (run_id, seq)
      ) WITHOUT ROWID;

      CREATE TABLE tests (
        seq INTEGER PRIMARY KEY,
        id TEXT NOT NULL UNIQUE,
        workflow_id TEXT NOT NULL,
        created_at TEXT NOT NULL,
        body TEXT NOT NULL
      );
      CREATE INDEX tests_by_workflow ON tests (workflow_id, created_at, seq);

      CREATE TABLE variables (
        app_id TEXT NOT NULL,
        key TEXT NOT NULL,
        body TEXT NOT NULL,
        PRIMARY KEY (app_id, key)
      ) WITHOUT ROWID;
    `,
  },
  {
    version: 2,
    name: 'API keys of the HTTP server (hashes only)',
    sql: `
      -- @weft/server's keys: one app each, looked up by the SHA-256 of the key on every request.
      CREATE TABLE api_keys (
        seq INTEGER PRIMARY KEY,
        id TEXT NOT NULL UNIQUE,
        app_id TEXT NOT NULL,
        hash TEXT NOT NULL UNIQUE,
        body TEXT NOT NULL
      );
      CREATE INDEX api_keys_by_app ON api_keys (app_id, seq);
    `,
  },
  {
    version: 3,
    name: 'the expectation library of workflows',
    sql: `
      -- A workflow's library expectations, listed by (created_at, seq) like tests. name_lower is the name
      -- lowercased by JavaScript (not SQLite's ASCII-only lower()), so a search matches as in every store.
      CREATE TABLE expectations (
        seq INTEGER PRIMARY KEY,
        id TEXT NOT NULL UNIQUE,
        workflow_id TEXT NOT NULL,
        created_at TEXT NOT NULL,
        name_lower TEXT NOT NULL,
        body TEXT NOT NULL
      );
      CREATE INDEX expectations_by_workflow ON expectations (workflow_id, created_at, seq);
    `,
  },
  {
    version: 4,
    name: 'one row per journal append, with its entries and step records (appends)',
    sql: `
      -- One row per accepted append instead of a row per journal entry and per step record: entries is
      -- a JSON array of [type, at, data] (the entry at index i has seq = seq + i; last_seq is the last),
      -- steps a JSON object of the step records the append carried (by key). A 10-step run that ends
      -- in one macrotask writes one row instead of 22 journal rows and 10 step rows. A rowid table:
      -- appends go to the right edge of its b-tree, which SQLite fills without rebalancing siblings.
      -- A run's step records are the merge of its rows' steps in id order (a key keeps the place of its
      -- first record, the value of its last). Rows without entries (last_seq and seq null) carry step
      -- records only (saveStepResult, a purge's purged records).
      CREATE TABLE appends (
        id INTEGER PRIMARY KEY,
        run_id TEXT NOT NULL,
        last_seq INTEGER,
        seq INTEGER,
        steps TEXT,
        entries TEXT
      );
      -- Serves loadJournal (last_seq > after, in order), the journal's end (max(last_seq)) and a run's
      -- step records (its rows, then by id).
      CREATE INDEX appends_by_run ON appends (run_id, last_seq);
      -- An older file's entries become appends of one entry each, and each run's step records one
      -- append without entries, in their old order (a value that is not JSON is carried as a string,
      -- which fails only that run's reads, with STORE_ERROR).
      INSERT INTO appends (run_id, last_seq, seq, steps, entries)
        SELECT run_id, seq, seq, NULL,
               json_array(json_array(type, at, CASE WHEN json_valid(data) THEN json(data) ELSE data END))
        FROM journal ORDER BY run_id, seq;
      INSERT INTO appends (run_id, last_seq, seq, steps, entries)
        SELECT run_id, NULL, NULL,
               json_group_object(key, CASE WHEN json_valid(body) THEN json(body) ELSE body END ORDER BY pos),
               NULL
        FROM steps GROUP BY run_id;
      DROP TABLE journal;
      DROP TABLE steps;
    `,
  },
  {
    version: 5,
    name: 'worker presence (workers)',
    sql: `
      -- The workers alive on this file (store/presence.ts in @weft/core): each announces itself until a
      -- lease from now, again every heartbeat, and withdraws when it stops claiming; a client-only Weft
      -- counts them before it fails a wait NO_WORKER. A row per worker process (few), one b-tree: an
      -- announcement rewrites one small row on one page. Rows that ran out are deleted by countWorkers.
      CREATE TABLE workers (
        owner_id TEXT PRIMARY KEY,
        until TEXT NOT NULL
      ) WITHOUT ROWID;
    `,
  },
];

export const SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1]!.version;

/** The schema version of an open database (0 for a new one). */
export function schemaVersion(db: Database.Database): number {
  const table = db
    .prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_version'")
    .get();
  if (table === undefined) return 0;
  const row = db.prepare('SELECT max(version) AS v FROM schema_version').get() as { v: number | null };
  return row.v ?? 0;
}

/**
 * Brings the database to `SCHEMA_VERSION` (or refuses it), in one immediate transaction. `now` stamps
 * the migrations applied. Returns the versions applied.
 */
export function migrate(db: Database.Database, path: string, now: string, migrations = MIGRATIONS): number[] {
  const latest = migrations[migrations.length - 1]!.version;
  const run = db.transaction((): number[] => {
    const appId = db.pragma('application_id', { simple: true }) as number;
    const current = schemaVersion(db);
    if (current === 0) {
      const foreign = db
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' LIMIT 1")
        .get() as { name: string } | undefined;
      if ((appId !== 0 && appId !== APPLICATION_ID) || foreign !== undefined) {
        throw new WeftError(
          ERROR_CODES.STORE_ERROR,
          `${path} is a SQLite database of another application (${foreign === undefined ? `application_id ${appId}` : `it has a table "${foreign.name}"`}), not a Weft store. Point Weft at a new file.`,
          { details: { path }, retryable: false },
        );
      }
      db.exec(
        'CREATE TABLE schema_version (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)',
      );
      db.pragma(`application_id = ${APPLICATION_ID}`);
    }
    if (current > latest) {
      throw new WeftError(
        ERROR_CODES.STORE_SCHEMA_TOO_NEW,
        `${path} was written by a newer Weft (schema version ${current}; this Weft knows up to ${latest}). Upgrade Weft to open it, or use another file. Nothing was changed.`,
        { details: { path, schema_version: current, supported: latest }, retryable: false },
      );
    }
    const applied: number[] = [];
    const record = db.prepare('INSERT INTO schema_version (version, name, applied_at) VALUES (?, ?, ?)');
    for (const migration of migrations) {
      if (migration.version <= current) continue;
      db.exec(migration.sql);
      record.run(migration.version, migration.name, now);
      applied.push(migration.version);
    }
    return applied;
  });
  return run.immediate();
}
