/**
 * Versioned schema migrations, in one PostgreSQL schema (default `weft`). Its `schema_version` table lists
 * every migration applied (one row each). Opening applies the missing ones in one transaction that first
 * takes an advisory lock on the schema's name, so processes that start at once migrate it once: the others
 * wait for the lock, then find nothing left to do. A schema whose version is higher than
 * `SCHEMA_VERSION` was written by a newer Weft: it is refused (STORE_SCHEMA_TOO_NEW) and left untouched.
 *
 * Migrations are append-only: never edit one that has shipped; add the next.
 */
import { ERROR_CODES, WeftError } from '@weft/core';
import type pg from 'pg';

export interface Migration {
  version: number;
  name: string;
  /** The SQL, for the schema given (already quoted: `"weft"`). */
  sql(schema: string): string;
}

/** 'WEFT' in ASCII: the first key of the advisory lock that serialises migrations (the second: the schema). */
export const MIGRATION_LOCK = 0x57454654;

/**
 * Text columns that are compared or sorted (ids, times) are `COLLATE "C"`: byte order, as SQLite and the
 * memory store compare them, whatever the database's locale. Times are ISO strings, all in one form
 * (stores normalise them), so their byte order is their time order.
 */
export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'workflows, versions, runs, steps, journal, tests, variables, API keys; run notices',
    sql: (s) => `
      -- Lists page by (created_at, seq) descending: seq orders records created in the same millisecond by
      -- insertion, as the memory store does.
      CREATE TABLE ${s}.workflows (
        seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        id text COLLATE "C" NOT NULL UNIQUE,
        app_id text COLLATE "C" NOT NULL,
        created_at text COLLATE "C" NOT NULL,
        archived boolean NOT NULL,
        -- discoverable and not archived: what Discover lists.
        discover boolean NOT NULL,
        body text NOT NULL
      );
      CREATE INDEX workflows_by_app ON ${s}.workflows (app_id, created_at, seq);
      CREATE INDEX workflows_discover ON ${s}.workflows (created_at, seq) WHERE discover;

      CREATE TABLE ${s}.versions (
        id text COLLATE "C" PRIMARY KEY,
        workflow_id text COLLATE "C" NOT NULL,
        version integer NOT NULL,
        body text NOT NULL,
        UNIQUE (workflow_id, version)
      );

      -- Every run-level field has its own column (JSON text for objects: text keeps the key order that
      -- jsonb would not), so that a patch writes only what it changes. journal_seq is the seq of the last
      -- journal entry: every append updates it in the same statement that checks the owner, so the run
      -- row's lock orders the appends of a run.
      CREATE TABLE ${s}.runs (
        seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        id text COLLATE "C" NOT NULL UNIQUE,
        status text COLLATE "C" NOT NULL,
        owner_id text COLLATE "C",
        lease_until text COLLATE "C",
        journal_seq integer NOT NULL DEFAULT 0,
        app_id text COLLATE "C",
        workflow_app_id text COLLATE "C",
        workflow_id text COLLATE "C",
        origin text COLLATE "C" NOT NULL,
        version integer,
        collection_id text COLLATE "C",
        record_id text COLLATE "C",
        replay_of text COLLATE "C",
        created_at text COLLATE "C" NOT NULL,
        updated_at text COLLATE "C" NOT NULL,
        started_at text COLLATE "C",
        ended_at text COLLATE "C",
        retention_due_at text COLLATE "C",
        purged_at text COLLATE "C",
        -- retention.preserve_on_failure, copied out of the JSON for the due index.
        preserve boolean NOT NULL DEFAULT false,
        retention text,
        error text,
        usage text,
        result text,
        input text,
        workflow_version text,
        workflow_version_draft text
      );
      CREATE INDEX runs_by_app ON ${s}.runs (app_id, created_at, seq);
      CREATE INDEX runs_by_workflow ON ${s}.runs (app_id, workflow_id, created_at, seq);
      CREATE INDEX runs_due ON ${s}.runs (retention_due_at, id)
        WHERE retention_due_at IS NOT NULL AND purged_at IS NULL AND NOT (status = 'FAILED' AND preserve);
      -- Live runs only (few at any time): recovery and claims scan the first, heartbeats the second.
      CREATE INDEX runs_live ON ${s}.runs (lease_until NULLS FIRST, id) WHERE status IN ('PENDING', 'RUNNING');
      CREATE INDEX runs_live_by_owner ON ${s}.runs (owner_id, id) WHERE status IN ('PENDING', 'RUNNING');

      -- pos keeps each run's records in first-saved order (an upsert keeps it).
      CREATE TABLE ${s}.steps (
        run_id text COLLATE "C" NOT NULL,
        key text COLLATE "C" NOT NULL,
        pos bigint GENERATED ALWAYS AS IDENTITY,
        body text NOT NULL,
        PRIMARY KEY (run_id, key)
      );

      CREATE TABLE ${s}.journal (
        run_id text COLLATE "C" NOT NULL,
        seq integer NOT NULL,
        type text NOT NULL,
        at text NOT NULL,
        data text NOT NULL,
        PRIMARY KEY (run_id, seq)
      );

      CREATE TABLE ${s}.tests (
        seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        id text COLLATE "C" NOT NULL UNIQUE,
        workflow_id text COLLATE "C" NOT NULL,
        created_at text COLLATE "C" NOT NULL,
        body text NOT NULL
      );
      CREATE INDEX tests_by_workflow ON ${s}.tests (workflow_id, created_at, seq);

      CREATE TABLE ${s}.variables (
        app_id text COLLATE "C" NOT NULL,
        key text COLLATE "C" NOT NULL,
        body text NOT NULL,
        PRIMARY KEY (app_id, key)
      );

      -- @weft/server's keys: one app each, looked up by the SHA-256 of the key on every request.
      CREATE TABLE ${s}.api_keys (
        seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        id text COLLATE "C" NOT NULL UNIQUE,
        app_id text COLLATE "C" NOT NULL,
        hash text COLLATE "C" NOT NULL UNIQUE,
        body text NOT NULL
      );
      CREATE INDEX api_keys_by_app ON ${s}.api_keys (app_id, seq);

      -- Notices (docs/durability.md): NOTIFY on the channel named after the schema, sent by the transaction
      -- that made the change, so only when it commits, whichever process or tool wrote it.
      -- run.pending: a live run without owner appeared (inserted unowned, or released);
      -- run.ended: a run went from live to ended. Ids too long for a notice payload get none.
      CREATE FUNCTION ${s}.notify_run() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF octet_length(NEW.id) <= 1000 THEN
          PERFORM pg_notify(
            TG_TABLE_SCHEMA,
            json_build_object(
              'topic', CASE WHEN NEW.status IN ('PENDING', 'RUNNING') THEN 'run.pending' ELSE 'run.ended' END,
              'run_id', NEW.id
            )::text
          );
        END IF;
        RETURN NULL;
      END
      $$;
      CREATE TRIGGER runs_pending_on_insert AFTER INSERT ON ${s}.runs FOR EACH ROW
        WHEN (NEW.owner_id IS NULL AND NEW.status IN ('PENDING', 'RUNNING'))
        EXECUTE FUNCTION ${s}.notify_run();
      CREATE TRIGGER runs_notices_on_update AFTER UPDATE OF status, owner_id ON ${s}.runs FOR EACH ROW
        WHEN (
          (NEW.status IN ('PENDING', 'RUNNING') AND NEW.owner_id IS NULL AND OLD.owner_id IS NOT NULL)
          OR (OLD.status IN ('PENDING', 'RUNNING') AND NEW.status NOT IN ('PENDING', 'RUNNING'))
        )
        EXECUTE FUNCTION ${s}.notify_run();
    `,
  },
  {
    version: 2,
    name: 'the expectation library of workflows',
    sql: (s) => `
      -- A workflow's library expectations, listed by (created_at, seq) like tests. name_lower is the name
      -- lowercased by JavaScript (not the database's locale), so a search matches as in every store.
      CREATE TABLE ${s}.expectations (
        seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        id text COLLATE "C" NOT NULL UNIQUE,
        workflow_id text COLLATE "C" NOT NULL,
        created_at text COLLATE "C" NOT NULL,
        name_lower text COLLATE "C" NOT NULL,
        body text NOT NULL
      );
      CREATE INDEX expectations_by_workflow ON ${s}.expectations (workflow_id, created_at, seq);
    `,
  },
  // Version 3, not 2: version 2 is the expectation library (issue 17), written at the same time.
  {
    version: 3,
    name: 'worker presence; the notices of journal groups sent after their commit',
    sql: (s) => `
      -- A group of journal appends (a transaction) sets weft.notices_after_commit: its notices are sent by
      -- the store once it has committed. A transaction that NOTIFYs holds the database's one lock on the
      -- notification queue from its commit to the end of its WAL flush: the groups of all workers would
      -- otherwise commit one flush after another. Every other write notifies as before.
      CREATE OR REPLACE FUNCTION ${s}.notify_run() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF octet_length(NEW.id) <= 1000
          AND current_setting('weft.notices_after_commit', true) IS DISTINCT FROM 'on' THEN
          PERFORM pg_notify(
            TG_TABLE_SCHEMA,
            json_build_object(
              'topic', CASE WHEN NEW.status IN ('PENDING', 'RUNNING') THEN 'run.pending' ELSE 'run.ended' END,
              'run_id', NEW.id
            )::text
          );
        END IF;
        RETURN NULL;
      END
      $$;

      -- The workers alive (store/presence.ts in @weft/core): each announces itself until a lease from now,
      -- again and again, and withdraws when it stops. Rows that ran out are deleted by countWorkers.
      CREATE TABLE ${s}.workers (
        owner_id text COLLATE "C" PRIMARY KEY,
        until text COLLATE "C" NOT NULL
      );
    `,
  },
  {
    version: 4,
    name: 'the journal and the step records as one row per append (journal_batches, step_batches); two indexes fewer on runs',
    sql: (s) => `
      -- One row per append of a run: the entries (consecutive seqs first_seq…last_seq) as one JSON array
      -- of [type, at, data]. PostgreSQL's cost of an append is per row (heap tuple, index entry, WAL
      -- record): a 10-step run that finishes in one macrotask wrote 22 journal rows, now one (W12).
      -- Keyed by last_seq: a page of the journal after seq n starts at the first row with last_seq > n.
      CREATE TABLE ${s}.journal_batches (
        run_id text COLLATE "C" NOT NULL,
        last_seq integer NOT NULL,
        first_seq integer NOT NULL,
        entries text NOT NULL,
        PRIMARY KEY (run_id, last_seq)
      );
      -- The rows of version 3, one entry each. data is JSON text already; type and at become JSON strings.
      INSERT INTO ${s}.journal_batches (run_id, last_seq, first_seq, entries)
        SELECT run_id, seq, seq, '[[' || to_json(type)::text || ',' || to_json(at)::text || ',' || data || ']]'
        FROM ${s}.journal;
      DROP TABLE ${s}.journal;

      -- The step records likewise: one row per append (or saveStepResult) holding its records as a JSON
      -- array of [key, record]. A run's records are its rows merged in pos order: a key keeps the place of
      -- its first record and takes the value of its last (what an upsert of one row per key did).
      CREATE TABLE ${s}.step_batches (
        run_id text COLLATE "C" NOT NULL,
        pos bigint GENERATED ALWAYS AS IDENTITY,
        records text NOT NULL,
        PRIMARY KEY (run_id, pos)
      );
      INSERT INTO ${s}.step_batches (run_id, records)
        SELECT run_id, '[' || string_agg('[' || to_json(key)::text || ',' || body || ']', ',' ORDER BY pos) || ']'
        FROM ${s}.steps GROUP BY run_id;
      DROP TABLE ${s}.steps;

      -- Every version of a run row has an entry in each of its indexes (a claim and an end change indexed
      -- columns, so neither is a HOT update): the primary key on seq served no query (lists use runs_by_app and
      -- runs_by_workflow), and heartbeats find a worker's runs among the live ones (runs_live).
      -- The unique id identifies a row for logical replication instead (what the key did).
      ALTER TABLE ${s}.runs DROP CONSTRAINT runs_pkey;
      ALTER TABLE ${s}.runs REPLICA IDENTITY USING INDEX runs_id_key;
      DROP INDEX ${s}.runs_live_by_owner;
    `,
  },
  {
    version: 5,
    name: 'the leases of live runs in their own narrow table (run_leases); the end of a run a HOT update',
    sql: (s) => `
      -- A claim, a heartbeat and a release wrote a new version of the ~0.8 kB run row with an entry in every
      -- index of runs (lease_until was indexed: never a HOT update). The lease now lives in a narrow row of
      -- its own, one per live run only: inserted with the run, deleted by the write that ends it. An append
      -- checks and locks it first (owner, lease, journal_seq: the compare-and-set), so journal_seq of a live
      -- run is the lease row's; runs.journal_seq is written too (it answers for ended runs).
      CREATE TABLE ${s}.run_leases (
        run_id text COLLATE "C" PRIMARY KEY,
        owner_id text COLLATE "C",
        lease_until text COLLATE "C",
        journal_seq integer NOT NULL
      );
      -- Claims and listRecoverableRuns, in the order the store contract gives them.
      CREATE INDEX run_leases_by_until ON ${s}.run_leases (lease_until NULLS FIRST, run_id);
      INSERT INTO ${s}.run_leases (run_id, owner_id, lease_until, journal_seq)
        SELECT id, owner_id, lease_until, journal_seq FROM ${s}.runs WHERE status IN ('PENDING', 'RUNNING');

      -- Notices: run.pending when a lease row appears unowned or loses its owner; run.ended from runs.
      CREATE FUNCTION ${s}.notify_lease() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF octet_length(NEW.run_id) <= 1000
          AND current_setting('weft.notices_after_commit', true) IS DISTINCT FROM 'on' THEN
          PERFORM pg_notify(TG_TABLE_SCHEMA, json_build_object('topic', 'run.pending', 'run_id', NEW.run_id)::text);
        END IF;
        RETURN NULL;
      END
      $$;
      CREATE TRIGGER run_leases_pending_on_insert AFTER INSERT ON ${s}.run_leases FOR EACH ROW
        WHEN (NEW.owner_id IS NULL)
        EXECUTE FUNCTION ${s}.notify_lease();
      CREATE TRIGGER run_leases_pending_on_update AFTER UPDATE OF owner_id ON ${s}.run_leases FOR EACH ROW
        WHEN (NEW.owner_id IS NULL AND OLD.owner_id IS NOT NULL)
        EXECUTE FUNCTION ${s}.notify_lease();
      DROP TRIGGER runs_pending_on_insert ON ${s}.runs;
      DROP TRIGGER runs_notices_on_update ON ${s}.runs;
      CREATE TRIGGER runs_ended_on_update AFTER UPDATE OF status ON ${s}.runs FOR EACH ROW
        WHEN (OLD.status IN ('PENDING', 'RUNNING') AND NEW.status NOT IN ('PENDING', 'RUNNING'))
        EXECUTE FUNCTION ${s}.notify_run();

      -- An update of a row is HOT (no new index entries, the new version on the same page) only when no
      -- index names a column it changes, in its key or its predicate. runs_live (lease_until) goes with the
      -- leases; runs_due named status (and purged_at, preserve) in its predicate: it is replaced by an index
      -- of purge_due_at, a column PostgreSQL computes from them (the retention due time while the run may be
      -- purged, else NULL): an end that sets no retention due time leaves it NULL, so it stays HOT.
      DROP INDEX ${s}.runs_live;
      DROP INDEX ${s}.runs_due;
      -- Room on each page for the new versions of its rows (HOT needs the same page); set first, so that
      -- the rewrite below (the stored column) already leaves it.
      ALTER TABLE ${s}.runs SET (fillfactor = 60);
      ALTER TABLE ${s}.runs DROP COLUMN owner_id, DROP COLUMN lease_until,
        ADD COLUMN purge_due_at text COLLATE "C" GENERATED ALWAYS AS (
          CASE WHEN purged_at IS NULL AND NOT (status = 'FAILED' AND preserve) THEN retention_due_at END
        ) STORED;
      CREATE INDEX runs_purge_due ON ${s}.runs (purge_due_at, id) WHERE purge_due_at IS NOT NULL;
    `,
  },
  {
    version: 6,
    name: 'journal entries and step records compressed by the workers (packed bytea)',
    sql: (s) => `
      -- A row's JSON as the workers compress it (packed.ts): PostgreSQL neither compresses it (pglz) nor
      -- writes the uncompressed bytes to the heap and the WAL. Rows written before keep their text
      -- (entries, records) and are read as before; a row has one or the other (NOT VALID: the rows
      -- before all have the text, and checking them would read the whole table under this lock).
      -- STORAGE EXTERNAL: never compressed again; toast_tuple_target 8160: a row up to a page's worth
      -- stays in the table rather than moving its value to the TOAST table (the text's pglz kept ~3 kB
      -- of JSON inline; its packed bytes are to stay inline too). Adding a nullable column, dropping
      -- NOT NULL and these settings change the catalog only: no row is rewritten.
      ALTER TABLE ${s}.journal_batches
        ALTER COLUMN entries DROP NOT NULL,
        ADD COLUMN packed bytea,
        ADD CONSTRAINT journal_batches_one_encoding CHECK (num_nonnulls(entries, packed) = 1) NOT VALID,
        SET (toast_tuple_target = 8160);
      ALTER TABLE ${s}.journal_batches ALTER COLUMN packed SET STORAGE EXTERNAL;
      ALTER TABLE ${s}.step_batches
        ALTER COLUMN records DROP NOT NULL,
        ADD COLUMN packed bytea,
        ADD CONSTRAINT step_batches_one_encoding CHECK (num_nonnulls(records, packed) = 1) NOT VALID,
        SET (toast_tuple_target = 8160);
      ALTER TABLE ${s}.step_batches ALTER COLUMN packed SET STORAGE EXTERNAL;
    `,
  },
];

export const SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1]!.version;

/** `"name"`: a schema name is checked to be a plain identifier before it gets here. */
export const quoted = (schema: string): string => `"${schema}"`;

/** The schema version of a schema (0 when it has no schema_version table, or does not exist). */
export async function schemaVersion(client: pg.ClientBase, schema: string): Promise<number> {
  const table = await client.query(
    "SELECT 1 FROM pg_catalog.pg_tables WHERE schemaname = $1 AND tablename = 'schema_version'",
    [schema],
  );
  if (table.rowCount === 0) return 0;
  const row = await client.query(`SELECT max(version) AS v FROM ${quoted(schema)}.schema_version`);
  return (row.rows[0]?.v as number | null) ?? 0;
}

/**
 * Brings the schema to the last migration's version (or refuses it), in one transaction holding the
 * advisory lock of the schema. `now` stamps the migrations applied. Returns the versions applied.
 */
export async function migrate(
  client: pg.ClientBase,
  schema: string,
  now: string,
  migrations: readonly Migration[] = MIGRATIONS,
): Promise<number[]> {
  const latest = migrations[migrations.length - 1]!.version;
  const s = quoted(schema);
  await client.query('BEGIN');
  try {
    await client.query('SELECT pg_advisory_xact_lock($1, hashtext($2))', [MIGRATION_LOCK, schema]);
    let current = await schemaVersion(client, schema);
    if (current === 0) {
      const foreign = await client.query(
        'SELECT tablename FROM pg_catalog.pg_tables WHERE schemaname = $1 ORDER BY tablename LIMIT 1',
        [schema],
      );
      if (foreign.rowCount !== 0) {
        throw new WeftError(
          ERROR_CODES.STORE_ERROR,
          `The schema "${schema}" holds tables of another application (such as "${foreign.rows[0].tablename}"), not a Weft store. Choose another schema (the \`schema\` option).`,
          { details: { schema, table: foreign.rows[0].tablename }, retryable: false },
        );
      }
      await client.query(`CREATE SCHEMA IF NOT EXISTS ${s}`);
      await client.query(
        `CREATE TABLE ${s}.schema_version (version integer PRIMARY KEY, name text NOT NULL, applied_at text NOT NULL)`,
      );
      current = 0;
    }
    if (current > latest) {
      throw new WeftError(
        ERROR_CODES.STORE_SCHEMA_TOO_NEW,
        `The schema "${schema}" was written by a newer Weft (schema version ${current}; this Weft knows up to ${latest}). Upgrade Weft to open it, or use another schema. Nothing was changed.`,
        { details: { schema, schema_version: current, supported: latest }, retryable: false },
      );
    }
    const applied: number[] = [];
    for (const migration of migrations) {
      if (migration.version <= current) continue;
      await client.query(migration.sql(s));
      await client.query(`INSERT INTO ${s}.schema_version (version, name, applied_at) VALUES ($1, $2, $3)`, [
        migration.version,
        migration.name,
        now,
      ]);
      applied.push(migration.version);
    }
    await client.query('COMMIT');
    return applied;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  }
}
