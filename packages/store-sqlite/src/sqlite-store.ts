/**
 * `sqliteStore({ path })`: the whole `WeftStore` — workflows, versions, runs, step records, tests,
 * variables, journal, leases and worker presence — in one SQLite file, through better-sqlite3
 * (docs/durability.md).
 *
 * - WAL mode; `synchronous=NORMAL` by default (a commit survives a crash of the process; `FULL` also
 *   survives a power loss, at a cost measured in docs/durability.md).
 * - Every write that reads before it writes (claims, appends, conditional updates, purges) runs in a
 *   `BEGIN IMMEDIATE` transaction: it holds the file's write lock from its first read, so two processes
 *   on one file never both win a compare-and-set. A busy file is waited for (`busyTimeoutMs`).
 * - Statements are prepared once; the few whose shape depends on the call (a patch's fields, a list's
 *   filters) are prepared once per shape and cached.
 * - Lists are indexed range scans, newest first, with the opaque cursor of the memory store's contract:
 *   base64url of `<created_at>#<seq>|<id>` (`<version>|<id>` for versions), seq being the rowid.
 * - better-sqlite3 is synchronous: each method does its work at once and returns a settled promise.
 *   Failures of the database become STORE_ERROR; nothing is half-written (every multi-row write is one
 *   transaction).
 */
import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import {
  type AppVariable,
  ERROR_CODES,
  invalidArgument,
  type Page,
  type PublishedVersion,
  type RunStatus,
  type StepRecord,
  WeftError,
  type WeftStore,
  type Workflow,
  type WorkflowTest,
} from '@weft/core';
import {
  type ApiKeyRecord,
  type AppendOutcome,
  type ClaimRequest,
  type ClaimResult,
  checkAnnounce,
  checkAppend,
  checkAppends,
  checkBatch,
  checkClaim,
  checkGroupAppend,
  checkLeaseGrant,
  checkOwnerId,
  checkRecoverableLimit,
  checkTime,
  type DiscoverQuery,
  decideClaim,
  decodeCursor,
  deepFreeze,
  type ExpectationPatch,
  type ExpectationQuery,
  encodeCursor,
  entryData,
  type FrozenWorkflowReads,
  insertedLease,
  isLiveStatus,
  type JournalAppend,
  type JournalBatch,
  type JournalEntry,
  type JournalQuery,
  journalRange,
  type LeaseGrant,
  loadedEntry,
  MAX_FROZEN_WORKFLOWS,
  pageLimit,
  purgeRunRow,
  purgeStepRecord,
  type RunCondition,
  type RunCountQuery,
  type RunLease,
  type RunPatch,
  type RunQuery,
  type RunRow,
  refused,
  runNotFoundInStore,
  type StorePresence,
  storedJson,
  type TestPatch,
  type TestQuery,
  type VersionQuery,
  versionSortKey,
  type WorkflowExpectation,
  type WorkflowPatch,
  type WorkflowQuery,
} from '@weft/core/store';
import Database from 'better-sqlite3';
import { migrate } from './migrations.js';

export const SYNCHRONOUS_MODES = ['NORMAL', 'FULL'] as const;
export type SynchronousMode = (typeof SYNCHRONOUS_MODES)[number];

export interface SqliteStoreOptions {
  /** The database file (created with its folder if missing), or ':memory:' for a private in-memory one. */
  path: string;
  /**
   * `NORMAL` (default): in WAL mode a commit survives a crash of the process, and the database is never
   * corrupted; the last commits before a power loss or OS crash may be lost. `FULL`: every commit is
   * fsynced, and survives a power loss too (slower: docs/durability.md).
   */
  synchronous?: SynchronousMode;
  /** How long a write waits for another process's write lock before failing STORE_ERROR. Default 5,000 ms. */
  busyTimeoutMs?: number;
  /** Clock stamping the migrations applied (default Date.now). */
  now?: () => number;
}

type Row = Record<string, unknown>;
type SqlValue = string | number | bigint | null;

/** Run-level fields stored as JSON text. */
const JSON_COLUMNS = new Set([
  'input',
  'result',
  'error',
  'usage',
  'retention',
  'workflow_version',
  'workflow_version_draft',
]);
/** Every RunRow field, in the order rows are returned. */
const RUN_FIELDS = [
  'id',
  'result',
  'input',
  'status',
  'origin',
  'error',
  'started_at',
  'ended_at',
  'app_id',
  'workflow_app_id',
  'workflow_id',
  'workflow_version_draft',
  'workflow_version',
  'collection_id',
  'record_id',
  'version',
  'usage',
  'retention',
  'retention_due_at',
  'created_at',
  'updated_at',
  'replay_of',
  'purged_at',
] as const;
const PATCHABLE = new Set<string>(RUN_FIELDS.filter((f) => f !== 'id'));
const RUN_COLUMNS = `${RUN_FIELDS.join(', ')}`;
/** A run row: its fields (RUN_FIELDS order), then preserve, owner_id and lease_until. */
const INSERT_RUN = `INSERT INTO runs (${RUN_COLUMNS}, preserve, owner_id, lease_until) VALUES (${RUN_FIELDS.map(() => '?').join(', ')}, ?, ?, ?)`;
/** Whether each of RUN_FIELDS is stored as JSON text. */
const RUN_FIELD_IS_JSON = RUN_FIELDS.map((field) => JSON_COLUMNS.has(field));
/** A run's lease; its journal_seq is the journal's last seq (the row's column is a floor for purged runs). */
const LEASE_COLUMNS =
  'id AS run_id, status, owner_id, lease_until, ' +
  'coalesce((SELECT max(last_seq) FROM appends WHERE appends.run_id = runs.id), journal_seq) AS journal_seq';

/**
 * One accepted append: its entries and the step records it carried, as one row (migration 4, "appends").
 * A run's step records are the merge of its appends' `steps` in row order: a key keeps the place of its
 * first record and the value of its last (an upsert).
 */
const INSERT_APPEND = 'INSERT INTO appends (run_id, last_seq, seq, steps, entries) VALUES (?, ?, ?, ?, ?)';
/** The appends holding entries after `seq`, in order (the first may begin at or before it). */
const SELECT_PACKS = 'SELECT seq, entries FROM appends WHERE run_id = ? AND last_seq > ? ORDER BY last_seq';
/** The step records of a run, in the order they were written. */
const SELECT_STEPS = 'SELECT steps FROM appends WHERE run_id = ? AND steps IS NOT NULL ORDER BY id';

const RETRYABLE_SQLITE = new Set([
  'SQLITE_BUSY',
  'SQLITE_LOCKED',
  'SQLITE_BUSY_SNAPSHOT',
  'SQLITE_BUSY_RECOVERY',
]);

function fromJson(text: unknown): unknown {
  return typeof text === 'string' ? JSON.parse(text) : null;
}

/** Cursor keys of created_at-ordered lists: `<created_at>#<seq>`. */
function positionKey(createdAt: string, seq: number): string {
  return `${createdAt}#${seq}`;
}

function decodePosition(cursor: string): { createdAt: string; seq: number } {
  const { key } = decodeCursor(cursor);
  const hash = key.lastIndexOf('#');
  const seq = Number(key.slice(hash + 1));
  if (hash <= 0 || !Number.isSafeInteger(seq) || seq < 0) {
    throw invalidArgument('cursor', 'the `next_cursor` of a previous page of this store', cursor);
  }
  return { createdAt: key.slice(0, hash), seq };
}

function asList<T>(value: T | readonly T[] | undefined): readonly T[] | null {
  if (value === undefined) return null;
  return Array.isArray(value) ? (value as readonly T[]) : [value as T];
}

function preserveOf(retention: unknown): number {
  return retention !== null &&
    typeof retention === 'object' &&
    (retention as Row).preserve_on_failure === true
    ? 1
    : 0;
}

interface SerialisedBatch {
  /** The entries as one pack (a JSON array of `[type, at, data]`), or null when the batch has none. */
  pack: { first: number; last: number; json: string } | null;
  /** The step records as one JSON object by key, or null when the batch has none. */
  steps: string | null;
}

/**
 * A batch's rows: each entry as (seq, type, at, the rest as JSON), each step record as JSON. The run
 * patch's fields are checked here, before any transaction, so that an append never fails half-written.
 */
function serialise(batch: JournalBatch): SerialisedBatch {
  for (const [field, value] of Object.entries(batch.run ?? {})) {
    if (value !== undefined && !PATCHABLE.has(field)) {
      throw invalidArgument(
        `batch.run.${field}`,
        `one of the run fields ${[...PATCHABLE].join(', ')}`,
        value,
      );
    }
  }
  const { entries } = batch;
  return {
    // One JSON text for the whole batch: the entries' seqs run on from the first without gaps (checked).
    pack:
      entries.length === 0
        ? null
        : {
            first: entries[0]!.seq,
            last: entries[entries.length - 1]!.seq,
            json: JSON.stringify(entries.map((entry) => [entry.type, entry.at, entryData(entry)])),
          },
    steps: batch.steps === undefined || isEmpty(batch.steps) ? null : JSON.stringify(batch.steps),
  };
}

/** `target[key] = value` as an own property, even for a "__proto__" key (JSON.parse keeps it as data). */
function setOwn(target: object, key: string, value: unknown): void {
  Object.defineProperty(target, key, { value, writable: true, enumerable: true, configurable: true });
}

function isEmpty(value: object): boolean {
  for (const _ in value) return false;
  return true;
}

/**
 * Merges a run's `steps` columns (in row order) into `into`: a key keeps its first place and takes its
 * last value. A column that is not a JSON object of objects (the file was edited by something else)
 * fails the read with STORE_ERROR.
 */
function mergeSteps(runId: string, into: Record<string, StepRecord>, json: string): void {
  let steps: unknown;
  try {
    steps = JSON.parse(json);
  } catch {
    steps = null;
  }
  if (steps === null || typeof steps !== 'object' || Array.isArray(steps)) throw corruptSteps(runId);
  for (const key of Object.keys(steps)) {
    const record = (steps as Record<string, unknown>)[key];
    if (record === null || typeof record !== 'object' || Array.isArray(record)) throw corruptSteps(runId);
    setOwn(into, key, record);
  }
}

function corruptSteps(runId: string): WeftError {
  return new WeftError(
    ERROR_CODES.STORE_ERROR,
    `Run ${runId}: a step-record column in the SQLite file is not a JSON object of step records; the file was changed by something other than Weft. Restore it from a backup, or delete the run.`,
    { details: { run_id: runId, cause: 'CORRUPT_STEPS' }, retryable: false },
  );
}

/** The run's lease after an accepted append: what the write made of `lease` (no read back). */
function leaseAfter(lease: RunLease, batch: JournalBatch, rows: SerialisedBatch): RunLease {
  const status = batch.run?.status ?? lease.status;
  const journal_seq = rows.pack === null ? lease.journal_seq : rows.pack.last;
  // A status that ends the run releases the lease.
  if (!isLiveStatus(status))
    return { run_id: lease.run_id, status, owner_id: null, lease_until: null, journal_seq };
  return {
    run_id: lease.run_id,
    status,
    owner_id: lease.owner_id,
    lease_until: batch.lease_until ?? lease.lease_until,
    journal_seq,
  };
}

/**
 * A journal pack's entries, `[type, at, data]` each. The file is checked as it is read: a pack another
 * program wrote wrong fails the read with STORE_ERROR saying which run and seq, instead of a resume
 * folding something that is not an entry.
 */
function unpack(runId: string, first: number, json: string): Array<[string, string, Row]> {
  let entries: unknown;
  try {
    entries = JSON.parse(json);
  } catch {
    entries = null;
  }
  const ok =
    Array.isArray(entries) &&
    entries.every(
      (e: unknown) =>
        Array.isArray(e) &&
        e.length === 3 &&
        typeof e[0] === 'string' &&
        typeof e[1] === 'string' &&
        e[2] !== null &&
        typeof e[2] === 'object' &&
        !Array.isArray(e[2]),
    );
  if (!ok) {
    throw new WeftError(
      ERROR_CODES.STORE_ERROR,
      `Run ${runId}: the journal pack from seq ${first} in the SQLite file is not a JSON array of [type, at, data] entries; the file was changed by something other than Weft. Restore it from a backup, or delete the run.`,
      { details: { run_id: runId, seq: first, cause: 'CORRUPT_JOURNAL' }, retryable: false },
    );
  }
  return entries as Array<[string, string, Row]>;
}

/** A page from rows fetched with LIMIT limit + 1. */
function pageOf<T>(rows: Row[], limit: number, map: (row: Row) => T, key: (row: Row) => string): Page<T> {
  const more = rows.length > limit;
  const data = (more ? rows.slice(0, limit) : rows).map(map);
  const last = more ? rows[limit - 1]! : null;
  return { data, next_cursor: last === null ? null : encodeCursor({ key: key(last), id: String(last.id) }) };
}

export class SqliteStore implements WeftStore, StorePresence, FrozenWorkflowReads {
  readonly path: string;
  readonly synchronous: SynchronousMode;
  readonly #db: Database.Database;
  /** One transaction wrapper for every write: `#transaction.immediate(work)`. */
  readonly #transaction: Database.Transaction<(work: () => unknown) => unknown>;
  readonly #statements = new Map<string, Database.Statement>();
  /** Parsed, frozen published versions by id: immutable, so safe to share (bounded). */
  readonly #versions = new Map<string, PublishedVersion>();
  /**
   * `getFrozenWorkflow`'s workflows by id, with the stored text each was parsed from: a read whose text
   * is the same (compared in full: another process may have changed it) shares the object (bounded).
   */
  readonly #frozenWorkflows = new Map<
    string,
    { body: string; workflow: Workflow; dataVersion: number; writes: number }
  >();
  /** Writes of workflows through this connection (`PRAGMA data_version` counts other connections' commits). */
  #workflowWrites = 0;
  /**
   * `listVariables`' stored texts by app, read again only when something was committed since (as
   * `#frozenWorkflows`): every run reads its app's variables, which seldom change (bounded).
   */
  readonly #variableLists = new Map<string, { bodies: string[]; dataVersion: number; writes: number }>();
  /** Writes of variables through this connection. */
  #variableWrites = 0;
  #closed = false;

  constructor(options: SqliteStoreOptions) {
    if (options === null || typeof options !== 'object')
      throw invalidArgument('options', 'an object', options);
    const { path, synchronous = 'NORMAL', busyTimeoutMs = 5000, now = Date.now } = options;
    if (typeof path !== 'string' || path === '') {
      throw invalidArgument('path', "a file path (or ':memory:')", path);
    }
    if (!SYNCHRONOUS_MODES.includes(synchronous)) {
      throw invalidArgument('synchronous', '"NORMAL" or "FULL"', synchronous);
    }
    if (!Number.isInteger(busyTimeoutMs) || busyTimeoutMs < 0 || busyTimeoutMs > 600_000) {
      throw invalidArgument('busyTimeoutMs', 'an integer from 0 to 600000', busyTimeoutMs);
    }
    this.path = path === ':memory:' ? path : resolve(path);
    this.synchronous = synchronous;
    let db: Database.Database | undefined;
    try {
      if (path !== ':memory:') mkdirSync(dirname(this.path), { recursive: true });
      db = new Database(this.path, { timeout: busyTimeoutMs });
      db.pragma('journal_mode = WAL');
      db.pragma(`synchronous = ${synchronous}`);
      db.pragma('foreign_keys = OFF');
      migrate(db, this.path, new Date(now()).toISOString());
    } catch (error) {
      db?.close();
      throw this.#storeError(error, 'open');
    }
    this.#db = db;
    this.#transaction = db.transaction((work: () => unknown) => work());
  }

  /** Closes the file. Later calls fail with STORE_ERROR. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#db.close();
  }

  // ── plumbing ─────────────────────────────────────────────────────────────────────────────────────

  #storeError(error: unknown, operation: string): WeftError {
    if (error instanceof WeftError) return error;
    const code = (error as { code?: unknown } | null)?.code;
    const message = error instanceof Error ? error.message : String(error);
    const cause = typeof code === 'string' ? code : error instanceof SyntaxError ? 'CORRUPT_JSON' : 'UNKNOWN';
    const hint =
      cause === 'SQLITE_BUSY' || cause === 'SQLITE_LOCKED'
        ? ' Another process held the write lock longer than busyTimeoutMs; retry, or raise busyTimeoutMs.'
        : cause === 'SQLITE_CANTOPEN'
          ? ' Check that the folder exists and is writable.'
          : cause === 'SQLITE_NOTADB' || cause === 'SQLITE_CORRUPT'
            ? ' The file is not a (healthy) SQLite database.'
            : '';
    return new WeftError(
      ERROR_CODES.STORE_ERROR,
      `The SQLite store ${this.path} failed (${operation}): ${message.replace(/\.$/, '')}.${hint}`,
      {
        details: { path: this.path, operation, cause },
        retryable: RETRYABLE_SQLITE.has(cause),
        cause: error,
      },
    );
  }

  /** Runs `work` with database errors turned into STORE_ERROR. */
  #do<T>(operation: string, work: () => T): T {
    if (this.#closed) {
      throw new WeftError(
        ERROR_CODES.STORE_ERROR,
        `The SQLite store ${this.path} is closed (${operation}).`,
        {
          details: { path: this.path, operation, cause: 'CLOSED' },
          retryable: false,
        },
      );
    }
    try {
      return work();
    } catch (error) {
      throw this.#storeError(error, operation);
    }
  }

  /** Runs `work` in a BEGIN IMMEDIATE transaction. */
  #write<T>(operation: string, work: () => T): T {
    return this.#do(operation, () => this.#transaction.immediate(work) as T);
  }

  #prepare(sql: string): Database.Statement {
    let statement = this.#statements.get(sql);
    if (statement === undefined) {
      // Shapes are few (patch field sets, list filters), but the cache is bounded whatever callers do.
      if (this.#statements.size >= 256) this.#statements.clear();
      statement = this.#db.prepare(sql);
      this.#statements.set(sql, statement);
    }
    return statement;
  }

  #get(sql: string, ...params: unknown[]): Row | undefined {
    return this.#prepare(sql).get(...params) as Row | undefined;
  }

  #all(sql: string, ...params: unknown[]): Row[] {
    return this.#prepare(sql).all(...params) as Row[];
  }

  #exec(sql: string, ...params: unknown[]): Database.RunResult {
    return this.#prepare(sql).run(...params);
  }

  // ── workflows ────────────────────────────────────────────────────────────────────────────────────

  async insertWorkflow(workflow: Workflow): Promise<void> {
    this.#do('insertWorkflow', () => {
      if (this.#get('SELECT 1 FROM workflows WHERE id = ?', workflow.id) !== undefined) {
        throw new WeftError(ERROR_CODES.CONFLICT, `A workflow with id "${workflow.id}" already exists.`);
      }
      this.#workflowWrites++;
      this.#exec(
        'INSERT INTO workflows (id, app_id, created_at, archived, discover, body) VALUES (?, ?, ?, ?, ?, ?)',
        workflow.id,
        workflow.app_id,
        workflow.created_at,
        workflow.archived_at === null ? 0 : 1,
        workflow.discoverable && workflow.archived_at === null ? 1 : 0,
        JSON.stringify(workflow),
      );
    });
  }

  async getWorkflow(id: string): Promise<Workflow | null> {
    return this.#do('getWorkflow', () => {
      const row = this.#get('SELECT body FROM workflows WHERE id = ?', id);
      return row === undefined ? null : (JSON.parse(row.body as string) as Workflow);
    });
  }

  async getFrozenWorkflow(id: string): Promise<Workflow | null> {
    return this.#do('getFrozenWorkflow', () => {
      // Nothing committed since the entry was read — by another connection (data_version) or by this
      // one (its own count of workflow writes) — means nothing to read again.
      const dataVersion = this.#prepare('PRAGMA data_version').pluck().get() as number;
      const writes = this.#workflowWrites;
      const cached = this.#frozenWorkflows.get(id);
      if (cached !== undefined) {
        this.#frozenWorkflows.delete(id);
        if (cached.dataVersion === dataVersion && cached.writes === writes) {
          this.#frozenWorkflows.set(id, cached);
          return cached.workflow;
        }
      }
      const row = this.#get('SELECT body FROM workflows WHERE id = ?', id);
      if (row === undefined) return null;
      const body = row.body as string;
      // Some commit happened: the text says whether it changed this workflow.
      const workflow =
        cached !== undefined && cached.body === body
          ? cached.workflow
          : deepFreeze(JSON.parse(body) as Workflow);
      if (this.#frozenWorkflows.size >= MAX_FROZEN_WORKFLOWS) {
        this.#frozenWorkflows.delete(this.#frozenWorkflows.keys().next().value!);
      }
      this.#frozenWorkflows.set(id, { body, workflow, dataVersion, writes });
      return workflow;
    });
  }

  async updateWorkflow(id: string, patch: WorkflowPatch): Promise<Workflow | null> {
    return this.#write('updateWorkflow', () => {
      const row = this.#get('SELECT body FROM workflows WHERE id = ?', id);
      if (row === undefined) return null;
      const next: Workflow = { ...(JSON.parse(row.body as string) as Workflow), ...patch };
      // Through JSON, like every read: what is returned never aliases the caller's patch.
      const body = JSON.stringify(next);
      this.#workflowWrites++;
      this.#exec(
        'UPDATE workflows SET archived = ?, discover = ?, body = ? WHERE id = ?',
        next.archived_at === null ? 0 : 1,
        next.discoverable && next.archived_at === null ? 1 : 0,
        body,
        id,
      );
      return JSON.parse(body) as Workflow;
    });
  }

  async listWorkflows(query: WorkflowQuery): Promise<Page<Workflow>> {
    const limit = pageLimit(query);
    return this.#do('listWorkflows', () => {
      const where = ['app_id = ?'];
      const params: unknown[] = [query.app_id];
      if (query.include_archived !== true) where.push('archived = 0');
      return this.#newestFirst<Workflow>('workflows', where, params, query.cursor, limit);
    });
  }

  async listDiscoverableWorkflows(query: DiscoverQuery): Promise<Page<Workflow>> {
    const limit = pageLimit(query);
    return this.#do('listDiscoverableWorkflows', () => {
      const where = ['discover = 1'];
      const params: unknown[] = [];
      if (query.exclude_app_id !== undefined) {
        where.push('app_id != ?');
        params.push(query.exclude_app_id);
      }
      return this.#newestFirst<Workflow>('workflows', where, params, query.cursor, limit);
    });
  }

  /** A page of a table of JSON bodies (`seq, id, created_at, body`), newest first, under `where`. */
  #newestFirst<T>(
    table: string,
    where: string[],
    params: unknown[],
    cursor: string | null | undefined,
    limit: number,
  ): Page<T> {
    this.#cursorRange(cursor, where, params);
    const rows = this.#all(
      `SELECT seq, id, created_at, body FROM ${table} WHERE ${where.join(' AND ')} ORDER BY created_at DESC, seq DESC LIMIT ?`,
      ...params,
      limit + 1,
    );
    return this.#createdPage<T>(rows, limit);
  }

  /** Adds `(created_at, seq) < cursor` to a created_at-ordered list. */
  #cursorRange(cursor: string | null | undefined, where: string[], params: unknown[]): void {
    if (cursor === undefined || cursor === null) return;
    const position = decodePosition(cursor);
    where.push('(created_at, seq) < (?, ?)');
    params.push(position.createdAt, position.seq);
  }

  #createdPage<T>(
    rows: Row[],
    limit: number,
    map = (row: Row) => JSON.parse(row.body as string) as T,
  ): Page<T> {
    return pageOf(rows, limit, map, (row) => positionKey(row.created_at as string, row.seq as number));
  }

  // ── versions ─────────────────────────────────────────────────────────────────────────────────────

  async insertVersion(version: PublishedVersion): Promise<void> {
    this.#write('insertVersion', () => {
      const exists = this.#get(
        'SELECT 1 FROM versions WHERE id = ? OR (workflow_id = ? AND version = ?)',
        version.id,
        version.workflow_id,
        version.version,
      );
      if (exists !== undefined) {
        throw new WeftError(
          ERROR_CODES.IMMUTABLE_VERSION,
          `Version ${version.version} (id "${version.id}") of workflow "${version.workflow_id}" already exists and published versions never change. Publish a new version instead.`,
          { details: { workflow_id: version.workflow_id, version: version.version, id: version.id } },
        );
      }
      this.#exec(
        'INSERT INTO versions (id, workflow_id, version, body) VALUES (?, ?, ?, ?)',
        version.id,
        version.workflow_id,
        version.version,
        JSON.stringify(version),
      );
    });
  }

  #version(row: Row | undefined): PublishedVersion | null {
    if (row === undefined) return null;
    const id = row.id as string;
    let version = this.#versions.get(id);
    if (version === undefined) {
      version = deepFreeze(JSON.parse(row.body as string) as PublishedVersion);
      if (this.#versions.size >= 256) this.#versions.delete(this.#versions.keys().next().value!);
      this.#versions.set(id, version);
    }
    return version;
  }

  async getVersion(id: string): Promise<PublishedVersion | null> {
    return this.#do('getVersion', () =>
      this.#version(this.#get('SELECT id, body FROM versions WHERE id = ?', id)),
    );
  }

  async getVersionByNumber(workflowId: string, version: number): Promise<PublishedVersion | null> {
    return this.#do('getVersionByNumber', () =>
      this.#version(
        this.#get('SELECT id, body FROM versions WHERE workflow_id = ? AND version = ?', workflowId, version),
      ),
    );
  }

  async getLatestVersion(workflowId: string): Promise<PublishedVersion | null> {
    return this.#do('getLatestVersion', () =>
      this.#version(
        this.#get(
          'SELECT id, body FROM versions WHERE workflow_id = ? ORDER BY version DESC LIMIT 1',
          workflowId,
        ),
      ),
    );
  }

  async listVersions(query: VersionQuery): Promise<Page<PublishedVersion>> {
    const limit = pageLimit(query);
    return this.#do('listVersions', () => {
      let below = Number.MAX_SAFE_INTEGER;
      if (query.cursor !== undefined && query.cursor !== null) {
        below = Number(decodeCursor(query.cursor).key);
        if (!Number.isSafeInteger(below)) {
          throw invalidArgument('cursor', 'the `next_cursor` of a previous page of this store', query.cursor);
        }
      }
      const rows = this.#all(
        'SELECT id, version, body FROM versions WHERE workflow_id = ? AND version < ? ORDER BY version DESC LIMIT ?',
        query.workflow_id,
        below,
        limit + 1,
      );
      return pageOf(
        rows,
        limit,
        (row) => this.#version(row)!,
        (row) => versionSortKey(row.version as number),
      );
    });
  }

  // ── runs ─────────────────────────────────────────────────────────────────────────────────────────

  #runRow(row: Row): RunRow {
    const out: Record<string, unknown> = {};
    for (const field of RUN_FIELDS) {
      const value = row[field];
      out[field] = JSON_COLUMNS.has(field) ? fromJson(value) : (value ?? null);
    }
    if (out.input === null) out.input = {};
    return out as unknown as RunRow;
  }

  async insertRun(run: RunRow, lease?: LeaseGrant): Promise<void> {
    const grant = lease === undefined ? undefined : checkLeaseGrant(lease);
    this.#do('insertRun', () => this.#insertRow(run, grant));
  }

  /**
   * Inserts the row, owned when it is live and `grant` is given; CONFLICT (nothing written) when the id
   * exists. The id's unique index is the check: no read before the write.
   */
  #insertRow(run: RunRow, grant: LeaseGrant | undefined): void {
    const owned = grant !== undefined && isLiveStatus(run.status);
    const values: SqlValue[] = new Array(RUN_FIELDS.length + 3);
    for (let i = 0; i < RUN_FIELDS.length; i++) {
      const value = (run as unknown as Row)[RUN_FIELDS[i]!];
      values[i] = RUN_FIELD_IS_JSON[i] ? storedJson(value) : ((value ?? null) as SqlValue);
    }
    values[RUN_FIELDS.length] = preserveOf(run.retention);
    values[RUN_FIELDS.length + 1] = owned ? grant.owner_id : null;
    values[RUN_FIELDS.length + 2] = owned ? grant.lease_until : null;
    try {
      this.#prepare(INSERT_RUN).run(values);
    } catch (error) {
      // SQLite undoes the failed statement alone: the transaction around it goes on.
      if ((error as { code?: unknown } | null)?.code === 'SQLITE_CONSTRAINT_UNIQUE') {
        throw new WeftError(ERROR_CODES.CONFLICT, `A run with id "${run.id}" already exists.`);
      }
      throw error;
    }
  }

  async getRun(id: string): Promise<RunRow | null> {
    return this.#do('getRun', () => {
      const row = this.#get(`SELECT ${RUN_COLUMNS} FROM runs WHERE id = ?`, id);
      return row === undefined ? null : this.#runRow(row);
    });
  }

  /**
   * Writes a patch's fields (and `extra` columns) with one UPDATE … RETURNING, prepared once per set of
   * fields. A status that ends the run clears its owner. Returns the row, or undefined when no row
   * matched (no such run, or `statusIn` did not hold).
   */
  #patchRun(
    id: string,
    patch: RunPatch,
    extra: Record<string, SqlValue> = {},
    statusIn?: readonly RunStatus[],
    returning = RUN_COLUMNS,
  ): Row | undefined {
    const columns: string[] = [];
    const params: unknown[] = [];
    for (const [field, value] of Object.entries(patch)) {
      if (value === undefined) continue;
      if (!PATCHABLE.has(field)) {
        throw invalidArgument(`patch.${field}`, `one of the run fields ${[...PATCHABLE].join(', ')}`, value);
      }
      columns.push(field);
      params.push(JSON_COLUMNS.has(field) ? storedJson(value) : value);
    }
    if (patch.retention !== undefined) {
      columns.push('preserve');
      params.push(preserveOf(patch.retention));
    }
    if (patch.status !== undefined && !isLiveStatus(patch.status)) {
      columns.push('owner_id', 'lease_until');
      params.push(null, null);
    }
    for (const [column, value] of Object.entries(extra)) {
      columns.push(column);
      params.push(value);
    }
    const set = columns.length === 0 ? 'id = id' : columns.map((c) => `${c} = ?`).join(', ');
    params.push(id);
    let condition = '';
    if (statusIn !== undefined) {
      condition = ' AND status IN (SELECT value FROM json_each(?))';
      params.push(JSON.stringify(statusIn));
    }
    return this.#get(`UPDATE runs SET ${set} WHERE id = ?${condition} RETURNING ${returning}`, ...params);
  }

  async updateRun(id: string, patch: RunPatch, condition?: RunCondition): Promise<RunRow | null> {
    return this.#write('updateRun', () => {
      const row = this.#patchRun(id, patch, {}, condition?.status_in);
      return row === undefined ? null : this.#runRow(row);
    });
  }

  /** The WHERE of listRuns and countRuns (cursor aside). */
  #runFilters(query: RunCountQuery): { where: string[]; params: unknown[] } {
    const where = ['app_id = ?'];
    const params: unknown[] = [query.app_id];
    if (query.workflow_id !== undefined) {
      where.push('workflow_id = ?');
      params.push(query.workflow_id);
    }
    const statuses = asList(query.status);
    if (statuses !== null) {
      where.push('status IN (SELECT value FROM json_each(?))');
      params.push(JSON.stringify(statuses));
    }
    const origins = asList(query.origin);
    if (origins !== null) {
      where.push('origin IN (SELECT value FROM json_each(?))');
      params.push(JSON.stringify(origins));
    }
    if (query.created_after !== undefined) {
      where.push('created_at >= ?');
      params.push(query.created_after);
    }
    if (query.created_before !== undefined) {
      where.push('created_at < ?');
      params.push(query.created_before);
    }
    return { where, params };
  }

  async countRuns(query: RunCountQuery): Promise<number> {
    return this.#do('countRuns', () => {
      const { where, params } = this.#runFilters(query);
      const row = this.#get(`SELECT count(*) AS n FROM runs WHERE ${where.join(' AND ')}`, ...params);
      return Number(row?.n ?? 0);
    });
  }

  async listRuns(query: RunQuery): Promise<Page<RunRow>> {
    const limit = pageLimit(query);
    return this.#do('listRuns', () => {
      const { where, params } = this.#runFilters(query);
      this.#cursorRange(query.cursor, where, params);
      const rows = this.#all(
        `SELECT seq, ${RUN_COLUMNS} FROM runs WHERE ${where.join(' AND ')} ORDER BY created_at DESC, seq DESC LIMIT ?`,
        ...params,
        limit + 1,
      );
      return this.#createdPage(rows, limit, (row) => this.#runRow(row));
    });
  }

  async saveStepResult(runId: string, key: string, record: StepRecord): Promise<void> {
    this.#do('saveStepResult', () => this.#saveStep(runId, key, record));
  }

  #saveStep(runId: string, key: string, record: StepRecord): void {
    const steps: Record<string, StepRecord> = {};
    setOwn(steps, key, record);
    this.#exec(INSERT_APPEND, runId, null, null, JSON.stringify(steps), null);
  }

  /** A run's step records (the merge of its appends'). */
  #steps(runId: string): Record<string, StepRecord> {
    const out: Record<string, StepRecord> = {};
    for (const row of this.#all(SELECT_STEPS, runId)) mergeSteps(runId, out, row.steps as string);
    return out;
  }

  async getStepResults(runIds: readonly string[]): Promise<Map<string, Record<string, StepRecord>>> {
    return this.#do('getStepResults', () => {
      const out = new Map<string, Record<string, StepRecord>>();
      for (const id of runIds) out.set(id, {});
      if (runIds.length === 0) return out;
      const rows = this.#all(
        'SELECT run_id, steps FROM appends WHERE run_id IN (SELECT value FROM json_each(?)) AND steps IS NOT NULL ORDER BY run_id, id',
        JSON.stringify(runIds),
      );
      for (const row of rows) {
        const runId = row.run_id as string;
        mergeSteps(runId, out.get(runId)!, row.steps as string);
      }
      return out;
    });
  }

  async listRunsDue(now: string, limit: number): Promise<RunRow[]> {
    return this.#do('listRunsDue', () =>
      this.#all(
        `SELECT ${RUN_COLUMNS} FROM runs
         WHERE retention_due_at IS NOT NULL AND purged_at IS NULL AND NOT (status = 'FAILED' AND preserve = 1)
           AND retention_due_at <= ?
         ORDER BY retention_due_at, id LIMIT ?`,
        now,
        limit,
      ).map((row) => this.#runRow(row)),
    );
  }

  async purgeRun(id: string, purgedAt: string): Promise<RunRow | null> {
    return this.#write('purgeRun', () => {
      const row = this.#get(`SELECT ${RUN_COLUMNS} FROM runs WHERE id = ?`, id);
      if (row === undefined) return null;
      const current = this.#runRow(row);
      if (current.purged_at !== null) return current;
      const purged = purgeRunRow(current, purgedAt);
      const updated = this.#patchRun(
        id,
        {
          input: purged.input,
          result: purged.result,
          error: purged.error,
          usage: purged.usage,
          updated_at: purged.updated_at,
        } as RunPatch,
        // The entries go; how far the journal went stays (getLease keeps answering the same).
        { purged_at: purgedAt, journal_seq: this.#lease(id)!.journal_seq },
      )!;
      const steps = this.#steps(id);
      // The entries go; the step records stay, purged, as one append without entries.
      this.#exec('DELETE FROM appends WHERE run_id = ?', id);
      if (!isEmpty(steps)) {
        const purgedSteps: Record<string, StepRecord> = {};
        for (const key of Object.keys(steps)) setOwn(purgedSteps, key, purgeStepRecord(steps[key]!));
        this.#exec(INSERT_APPEND, id, null, null, JSON.stringify(purgedSteps), null);
      }
      return this.#runRow(updated);
    });
  }

  // ── journal and leases ───────────────────────────────────────────────────────────────────────────

  #lease(runId: string): RunLease | null {
    const row = this.#get(`SELECT ${LEASE_COLUMNS} FROM runs WHERE id = ?`, runId);
    return row === undefined ? null : (row as unknown as RunLease);
  }

  async appendJournal(runId: string, batch: JournalBatch): Promise<RunLease> {
    const checked = checkBatch(batch, runId);
    const rows = serialise(checked);
    return this.#write('appendJournal', () => this.#append(runId, checked, rows));
  }

  async appendJournals(appends: readonly JournalAppend[]): Promise<AppendOutcome[]> {
    checkAppends(appends);
    // Checked and serialised before the transaction, so that the write lock is held as briefly as possible.
    const prepared = appends.map((append, i) => {
      try {
        const { batch, grant } = checkGroupAppend(append, i);
        return { append, batch, grant, rows: serialise(batch) };
      } catch (error) {
        return refused(error);
      }
    });
    return this.#write('appendJournals', () =>
      prepared.map((p): AppendOutcome => {
        if ('ok' in p) return p;
        try {
          // Every check of an append comes before its first write (an insert's check of its id is that
          // first write, which SQLite undoes alone when it fails), so a refused append has written
          // nothing and needs no savepoint: the others commit together.
          if (p.append.insert !== undefined && p.grant !== undefined) {
            return { ok: true, lease: this.#insertAndAppend(p.append.insert, p.grant, p.batch, p.rows) };
          }
          return { ok: true, lease: this.#append(p.append.run_id, p.batch, p.rows) };
        } catch (error) {
          return refused(error);
        }
      }),
    );
  }

  /**
   * One checked append, inside the caller's transaction: throws LEASE_LOST, JOURNAL_CONFLICT or NOT_FOUND
   * before writing anything; after the checks, only the database itself can fail (and aborts the whole
   * transaction).
   */
  #append(runId: string, batch: JournalBatch, rows: SerialisedBatch): RunLease {
    const lease = this.#lease(runId);
    if (lease === null) throw runNotFoundInStore(runId);
    checkAppend(lease, batch);
    this.#writeRows(runId, rows);
    const ends = batch.run?.status !== undefined && !isLiveStatus(batch.run.status);
    const after = leaseAfter(lease, batch, rows);
    // The run row is written only when the batch changes it: most batches touch the journal and steps only.
    if (batch.run !== undefined) {
      const extra: Record<string, SqlValue> = {};
      if (batch.lease_until !== undefined && !ends) extra.lease_until = batch.lease_until;
      this.#patchRun(runId, batch.run, extra, undefined, 'id');
    } else if (batch.lease_until !== undefined) {
      this.#exec('UPDATE runs SET lease_until = ? WHERE id = ?', batch.lease_until, runId);
    }
    return after;
  }

  /**
   * A group append that inserts its run: checked against the lease the insert grants, then ONE row
   * insert — the row with the batch's run patch applied (a run that starts and ends in one macrotask is
   * inserted ended, unowned: no second write of the row) — and the batch's rows.
   */
  #insertAndAppend(run: RunRow, grant: LeaseGrant, batch: JournalBatch, rows: SerialisedBatch): RunLease {
    const lease = insertedLease(run, grant);
    let refusal: unknown = null;
    try {
      checkAppend(lease, batch);
    } catch (error) {
      refusal = error;
    }
    const row: Row = { ...(run as unknown as Row) };
    for (const [field, value] of Object.entries(batch.run ?? {})) if (value !== undefined) row[field] = value;
    // The insert first: an id that exists is CONFLICT whatever the batch (and writes nothing).
    this.#insertRow(row as unknown as RunRow, grant);
    if (refusal !== null) {
      // A batch the new run refuses: its row goes again, so that the refused append wrote nothing.
      this.#exec('DELETE FROM runs WHERE id = ?', run.id);
      throw refusal;
    }
    this.#writeRows(run.id, rows);
    return leaseAfter(lease, batch, rows);
  }

  /** A batch's journal entries and step records: one row (nothing for a batch with neither). */
  #writeRows(runId: string, rows: SerialisedBatch): void {
    const { pack, steps } = rows;
    if (pack === null && steps === null) return;
    this.#exec(INSERT_APPEND, runId, pack?.last ?? null, pack?.first ?? null, steps, pack?.json ?? null);
  }

  async loadJournal(runId: string, query?: JournalQuery): Promise<JournalEntry[]> {
    const { after, limit } = journalRange(query);
    return this.#do('loadJournal', () => {
      const out: JournalEntry[] = [];
      // Packs are read one at a time and only until `limit` entries are in hand.
      for (const row of this.#prepare(SELECT_PACKS).iterate(runId, after) as Iterable<Row>) {
        const first = row.seq as number;
        const entries = unpack(runId, first, row.entries as string);
        for (let i = Math.max(0, after + 1 - first); i < entries.length && out.length < limit; i++) {
          const [type, at, data] = entries[i]!;
          out.push(loadedEntry(runId, first + i, type, at, data));
        }
        if (out.length >= limit) break;
      }
      return out;
    });
  }

  async claimRun(runId: string, claim: ClaimRequest): Promise<ClaimResult> {
    const checked = checkClaim(claim);
    return this.#write('claimRun', () => {
      const decision = decideClaim(this.#lease(runId), checked);
      if (decision !== 'GRANT') return decision;
      this.#exec(
        'UPDATE runs SET owner_id = ?, lease_until = ? WHERE id = ?',
        checked.owner_id,
        checked.lease_until,
        runId,
      );
      return { claimed: true, lease: this.#lease(runId)! };
    });
  }

  async renewLeases(ownerId: string, leaseUntil: string, runIds?: readonly string[]): Promise<string[]> {
    checkOwnerId(ownerId, 'ownerId');
    const until = checkTime(leaseUntil, 'leaseUntil');
    if (runIds !== undefined && !Array.isArray(runIds)) {
      throw invalidArgument('runIds', 'an array of run ids', runIds);
    }
    return this.#write('renewLeases', () => {
      const rows =
        runIds === undefined
          ? this.#all(
              "UPDATE runs SET lease_until = ? WHERE owner_id = ? AND status IN ('PENDING', 'RUNNING') RETURNING id",
              until,
              ownerId,
            )
          : this.#all(
              `UPDATE runs SET lease_until = ? WHERE owner_id = ? AND status IN ('PENDING', 'RUNNING')
                 AND id IN (SELECT value FROM json_each(?)) RETURNING id`,
              until,
              ownerId,
              JSON.stringify(runIds),
            );
      return rows.map((row) => row.id as string);
    });
  }

  async releaseRun(runId: string, ownerId: string): Promise<boolean> {
    checkOwnerId(ownerId, 'ownerId');
    return this.#do(
      'releaseRun',
      () =>
        this.#exec(
          'UPDATE runs SET owner_id = NULL, lease_until = NULL WHERE id = ? AND owner_id = ?',
          runId,
          ownerId,
        ).changes > 0,
    );
  }

  async getLease(runId: string): Promise<RunLease | null> {
    return this.#do('getLease', () => this.#lease(runId));
  }

  async listRecoverableRuns(now: string, limit: number): Promise<RunLease[]> {
    const at = checkTime(now, 'now');
    checkRecoverableLimit(limit);
    return this.#do(
      'listRecoverableRuns',
      () =>
        this.#all(
          `SELECT ${LEASE_COLUMNS} FROM runs
           WHERE status IN ('PENDING', 'RUNNING') AND (owner_id IS NULL OR lease_until IS NULL OR lease_until < ?)
           ORDER BY lease_until, id LIMIT ?`,
          at,
          limit,
        ) as unknown as RunLease[],
    );
  }

  async claimRuns(claim: ClaimRequest, limit: number): Promise<RunLease[]> {
    const checked = checkClaim(claim);
    checkRecoverableLimit(limit);
    // BEGIN IMMEDIATE holds the file's write lock from the select on: another process's claim waits.
    return this.#write('claimRuns', () => {
      const ids = this.#all(
        `SELECT id FROM runs
         WHERE status IN ('PENDING', 'RUNNING') AND (owner_id IS NULL OR lease_until IS NULL OR lease_until < ?)
         ORDER BY lease_until, id LIMIT ?`,
        checked.now,
        limit,
      ).map((row) => row.id as string);
      const update = this.#prepare('UPDATE runs SET owner_id = ?, lease_until = ? WHERE id = ?');
      for (const id of ids) update.run(checked.owner_id, checked.lease_until, id);
      return ids.map((id) => this.#lease(id)!);
    });
  }

  // ── worker presence (@weft/core store/presence.ts; migration 5, "workers") ─────────────────────────

  /**
   * One upsert in its own implicit transaction (no read before it: nothing to compare-and-set). A worker
   * calls it every `owner.heartbeatMs`; a Weft that is not a worker never does.
   */
  async announceWorker(ownerId: string, until: string): Promise<void> {
    const checked = checkAnnounce(ownerId, until);
    this.#do('announceWorker', () =>
      this.#exec(
        'INSERT INTO workers (owner_id, until) VALUES (?, ?) ON CONFLICT (owner_id) DO UPDATE SET until = excluded.until',
        checked.ownerId,
        checked.until,
      ),
    );
  }

  async withdrawWorker(ownerId: string): Promise<void> {
    checkOwnerId(ownerId, 'ownerId');
    this.#do('withdrawWorker', () => this.#exec('DELETE FROM workers WHERE owner_id = ?', ownerId));
  }

  async countWorkers(now: string): Promise<number> {
    const at = checkTime(now, 'now');
    return this.#do('countWorkers', () => {
      // A read first, which never waits for a writer (WAL): the write lock is taken only when a worker
      // killed without withdrawing has run out and its row must go (the table holds the live ones). The
      // delete names `until < at`, so a worker that announced again meanwhile stays.
      const row = this.#get(
        'SELECT count(*) FILTER (WHERE until >= ?) AS alive, count(*) FILTER (WHERE until < ?) AS gone FROM workers',
        at,
        at,
      ) as { alive: number; gone: number };
      if (row.gone > 0) this.#exec('DELETE FROM workers WHERE until < ?', at);
      return row.alive;
    });
  }

  // ── tests ────────────────────────────────────────────────────────────────────────────────────────

  async insertTest(test: WorkflowTest): Promise<void> {
    this.#do('insertTest', () => {
      if (this.#get('SELECT 1 FROM tests WHERE id = ?', test.id) !== undefined) {
        throw new WeftError(ERROR_CODES.CONFLICT, `A test with id "${test.id}" already exists.`);
      }
      this.#exec(
        'INSERT INTO tests (id, workflow_id, created_at, body) VALUES (?, ?, ?, ?)',
        test.id,
        test.workflow_id,
        test.created_at,
        JSON.stringify(test),
      );
    });
  }

  async getTest(id: string): Promise<WorkflowTest | null> {
    return this.#do('getTest', () => {
      const row = this.#get('SELECT body FROM tests WHERE id = ?', id);
      return row === undefined ? null : (JSON.parse(row.body as string) as WorkflowTest);
    });
  }

  async updateTest(id: string, patch: TestPatch): Promise<WorkflowTest | null> {
    return this.#write('updateTest', () => {
      const row = this.#get('SELECT body FROM tests WHERE id = ?', id);
      if (row === undefined) return null;
      const body = JSON.stringify({ ...(JSON.parse(row.body as string) as WorkflowTest), ...patch });
      this.#exec('UPDATE tests SET body = ? WHERE id = ?', body, id);
      return JSON.parse(body) as WorkflowTest;
    });
  }

  async deleteTest(id: string): Promise<boolean> {
    return this.#do('deleteTest', () => this.#exec('DELETE FROM tests WHERE id = ?', id).changes > 0);
  }

  async listTests(query: TestQuery): Promise<Page<WorkflowTest>> {
    const limit = pageLimit(query);
    return this.#do('listTests', () => {
      const where = ['workflow_id = ?'];
      const params: unknown[] = [query.workflow_id];
      return this.#newestFirst<WorkflowTest>('tests', where, params, query.cursor, limit);
    });
  }

  // ── the expectation library ──────────────────────────────────────────────────────────────────────

  async insertExpectation(expectation: WorkflowExpectation): Promise<void> {
    this.#do('insertExpectation', () => {
      if (this.#get('SELECT 1 FROM expectations WHERE id = ?', expectation.id) !== undefined) {
        throw new WeftError(
          ERROR_CODES.CONFLICT,
          `An expectation with id "${expectation.id}" already exists.`,
        );
      }
      this.#exec(
        'INSERT INTO expectations (id, workflow_id, created_at, name_lower, body) VALUES (?, ?, ?, ?, ?)',
        expectation.id,
        expectation.workflow_id,
        expectation.created_at,
        expectation.name.toLowerCase(),
        JSON.stringify(expectation),
      );
    });
  }

  async getExpectation(id: string): Promise<WorkflowExpectation | null> {
    return this.#do('getExpectation', () => {
      const row = this.#get('SELECT body FROM expectations WHERE id = ?', id);
      return row === undefined ? null : (JSON.parse(row.body as string) as WorkflowExpectation);
    });
  }

  async updateExpectation(id: string, patch: ExpectationPatch): Promise<WorkflowExpectation | null> {
    return this.#write('updateExpectation', () => {
      const row = this.#get('SELECT body FROM expectations WHERE id = ?', id);
      if (row === undefined) return null;
      const next = { ...(JSON.parse(row.body as string) as WorkflowExpectation), ...patch };
      this.#exec(
        'UPDATE expectations SET name_lower = ?, body = ? WHERE id = ?',
        next.name.toLowerCase(),
        JSON.stringify(next),
        id,
      );
      return next;
    });
  }

  async deleteExpectation(id: string): Promise<boolean> {
    return this.#do(
      'deleteExpectation',
      () => this.#exec('DELETE FROM expectations WHERE id = ?', id).changes > 0,
    );
  }

  async listExpectations(query: ExpectationQuery): Promise<Page<WorkflowExpectation>> {
    const limit = pageLimit(query);
    return this.#do('listExpectations', () => {
      const where = ['workflow_id = ?'];
      const params: unknown[] = [query.workflow_id];
      if (query.search !== undefined && query.search !== '') {
        // instr, not LIKE: no wildcard in the search text has a meaning.
        where.push('instr(name_lower, ?) > 0');
        params.push(query.search.toLowerCase());
      }
      return this.#newestFirst<WorkflowExpectation>('expectations', where, params, query.cursor, limit);
    });
  }

  async countExpectations(workflowId: string): Promise<number> {
    return this.#do('countExpectations', () => {
      const row = this.#get('SELECT count(*) AS n FROM expectations WHERE workflow_id = ?', workflowId);
      return Number(row?.n ?? 0);
    });
  }

  // ── variables ────────────────────────────────────────────────────────────────────────────────────

  async setVariable(appId: string, variable: AppVariable): Promise<void> {
    this.#do('setVariable', () => {
      this.#variableWrites++;
      this.#exec(
        'INSERT INTO variables (app_id, key, body) VALUES (?, ?, ?) ON CONFLICT (app_id, key) DO UPDATE SET body = excluded.body',
        appId,
        variable.key,
        JSON.stringify(variable),
      );
    });
  }

  async listVariables(appId: string): Promise<AppVariable[]> {
    return this.#do('listVariables', () => {
      const dataVersion = this.#prepare('PRAGMA data_version').pluck().get() as number;
      const writes = this.#variableWrites;
      let cached = this.#variableLists.get(appId);
      if (cached === undefined || cached.dataVersion !== dataVersion || cached.writes !== writes) {
        const bodies = this.#all('SELECT body FROM variables WHERE app_id = ? ORDER BY key', appId).map(
          (row) => row.body as string,
        );
        this.#variableLists.delete(appId);
        if (this.#variableLists.size >= MAX_FROZEN_WORKFLOWS) {
          this.#variableLists.delete(this.#variableLists.keys().next().value!);
        }
        cached = { bodies, dataVersion, writes };
        this.#variableLists.set(appId, cached);
      }
      // Parsed for every call: the caller owns what it is given.
      return cached.bodies.map((body) => JSON.parse(body) as AppVariable);
    });
  }

  async deleteVariable(appId: string, key: string): Promise<boolean> {
    return this.#do('deleteVariable', () => {
      this.#variableWrites++;
      return this.#exec('DELETE FROM variables WHERE app_id = ? AND key = ?', appId, key).changes > 0;
    });
  }

  // ── API keys (hashes only) ───────────────────────────────────────────────────────────────────────

  async insertApiKey(key: ApiKeyRecord): Promise<void> {
    this.#do('insertApiKey', () => {
      if (this.#get('SELECT 1 FROM api_keys WHERE id = ? OR hash = ?', key.id, key.hash) !== undefined) {
        throw new WeftError(
          ERROR_CODES.CONFLICT,
          `An API key with id "${key.id}" (or the same hash) already exists.`,
        );
      }
      this.#exec(
        'INSERT INTO api_keys (id, app_id, hash, body) VALUES (?, ?, ?, ?)',
        key.id,
        key.app_id,
        key.hash,
        JSON.stringify(key),
      );
    });
  }

  async getApiKeyByHash(hash: string): Promise<ApiKeyRecord | null> {
    return this.#do('getApiKeyByHash', () => {
      const row = this.#get('SELECT body FROM api_keys WHERE hash = ?', hash);
      return row === undefined ? null : (JSON.parse(row.body as string) as ApiKeyRecord);
    });
  }

  async listApiKeys(appId: string): Promise<ApiKeyRecord[]> {
    return this.#do('listApiKeys', () =>
      this.#all('SELECT body FROM api_keys WHERE app_id = ? ORDER BY seq', appId).map(
        (row) => JSON.parse(row.body as string) as ApiKeyRecord,
      ),
    );
  }

  async deleteApiKey(id: string): Promise<boolean> {
    return this.#do('deleteApiKey', () => this.#exec('DELETE FROM api_keys WHERE id = ?', id).changes > 0);
  }
}

/** A `WeftStore` on one SQLite file: `createWeft({ store: sqliteStore({ path: '.weft/weft.db' }) })`. */
export function sqliteStore(options: SqliteStoreOptions): SqliteStore {
  return new SqliteStore(options);
}
