/**
 * `postgresStore({ connectionString | pool, schema })`: the whole `WeftStore` — workflows, versions, runs,
 * step records, tests, variables, API keys, journal and leases — in one PostgreSQL schema, shared by any
 * number of processes, plus notices through LISTEN/NOTIFY (docs/durability.md).
 *
 * - Opening is lazy: the first call connects and migrates (once; `ready()` does it up front).
 * - Every journal append is one statement that checks the owner and the seqs and writes everything
 *   (journal-sql.ts); a group commit is one transaction whose statements each hold the appends of
 *   distinct runs. Claims are compare-and-set UPDATEs;
 *   `claimRuns` picks with `FOR UPDATE SKIP LOCKED`, so concurrent workers get disjoint runs.
 * - Rows that lock several runs lock them in id order (group commits, heartbeats): two processes never
 *   wait on each other in a cycle.
 * - Statements are prepared once per connection (named by a hash of their text).
 * - Every failure of PostgreSQL or of the connection becomes STORE_ERROR (errors.ts); nothing is
 *   half-written: every multi-row write is one statement or one transaction.
 */
import { createHash } from 'node:crypto';
import {
  type AppVariable,
  ERROR_CODES,
  invalidArgument,
  type Page,
  type PublishedVersion,
  type StepRecord,
  WeftError,
  type WeftStore,
  type Workflow,
  type WorkflowTest,
} from '@weft/core';
import {
  type ApiKeyRecord,
  type AppendOutcome,
  type ClaimedRun,
  type ClaimRequest,
  type ClaimResult,
  type ClaimsWithRows,
  checkAnnounce,
  checkAppend,
  checkAppends,
  checkBatch,
  checkClaim,
  checkGroupAppend,
  checkLeaseGrant,
  checkNoticeRunId,
  checkOwnerId,
  checkRecoverableLimit,
  checkTime,
  checkTopic,
  type DiscoverQuery,
  decideClaim,
  decodeCursor,
  deepFreeze,
  type ExpectationPatch,
  type ExpectationQuery,
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
  MAX_NOTICE_RUN_ID,
  NoticeHub,
  type NoticeListener,
  type NoticeTopic,
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
  type StoreNotices,
  type StorePresence,
  type TestPatch,
  type TestQuery,
  type VersionQuery,
  versionSortKey,
  type WorkflowExpectation,
  type WorkflowPatch,
  type WorkflowQuery,
} from '@weft/core/store';
import type pg from 'pg';
import { closedError, storeError } from './errors.js';
import { FrozenWorkflows } from './frozen-workflows.js';
import {
  type AppendPart,
  appendStatement,
  bulkAppendStatement,
  bulkable,
  bulkInsertable,
  bulkInsertStatement,
  groupStatement,
  type Statement,
} from './journal-sql.js';
import { Listener } from './listener.js';
import { migrate, quoted } from './migrations.js';
import { checkOptions, type PostgresStoreOptions } from './options.js';
import { pack } from './packed.js';
import {
  byteOrder,
  checkPatch,
  columnValue,
  decodePosition,
  LEASE_COLUMNS,
  leaseOf,
  mergeRecords,
  nulIn,
  Params,
  packRecords,
  pageOf,
  patchSet,
  positionKey,
  preserveOf,
  type Row,
  RUN_COLUMNS,
  RUN_FIELDS,
  runRow,
  type SerialisedBatch,
  serialise,
  unpackEntries,
} from './rows.js';

/** Something to run statements on: the pool (one statement, autocommit) or a client in a transaction. */
type Db = Pick<pg.Pool, 'query'> | pg.PoolClient;

/** A run_leases row `l` (a live run) that anyone may claim at `$1`: unowned, or its lease run out. */
const RECOVERABLE = '(l.owner_id IS NULL OR l.lease_until IS NULL OR l.lease_until < $1)';

function asList<T>(value: T | readonly T[] | undefined): readonly T[] | null {
  if (value === undefined) return null;
  return Array.isArray(value) ? (value as readonly T[]) : [value as T];
}

/** Appends of distinct runs per statement of a group commit (a statement's plan grows with it). */
const GROUP_STATEMENT_PARTS = 100;

/** One append of a group, checked and serialised before the transaction starts. */
interface PlannedAppend {
  index: number;
  part: AppendPart;
  /** Its statement on its own (made when it runs alone). */
  statement?: Statement;
  /**
   * Why an insert's batch is refused against the lease it would be inserted with: reported only if the
   * run does not exist (an existing id is CONFLICT first, as in every store).
   */
  refusal?: WeftError;
}

/**
 * Opens a group's transaction with the run triggers' notices off (migration 3's notify_run reads the
 * setting; the store sends them after the commit instead). One round trip: a simple query of two.
 */
const GROUP_BEGIN = "BEGIN; SELECT set_config('weft.notices_after_commit', 'on', true)";

export class PostgresStore
  implements WeftStore, StoreNotices, StorePresence, ClaimsWithRows, FrozenWorkflowReads
{
  /** The schema that holds the store's tables. */
  readonly schema: string;
  readonly #pool: pg.Pool;
  readonly #ownPool: boolean;
  readonly #now: () => number;
  /** `"schema"`, to qualify table names. */
  readonly #s: string;
  #ready: Promise<void> | null = null;
  #closed = false;
  readonly #names = new Map<string, string>();
  /** Parsed, frozen published versions by id: immutable, so safe to share (bounded). */
  readonly #versions = new Map<string, PublishedVersion>();
  /** getFrozenWorkflow's workflows, with the stored text each was parsed from (bounded). */
  readonly #frozen = new FrozenWorkflows();
  readonly #hub = new NoticeHub();
  readonly #listener: Listener;
  /** Errors of idle pooled connections (a restart of the server): without a listener they would crash the process. */
  readonly #onPoolError = (error: Error) => {
    this.lastPoolError = error;
  };
  /** The last error of an idle pooled connection (the next call reconnects). */
  lastPoolError: Error | null = null;

  constructor(options: PostgresStoreOptions) {
    const checked = checkOptions(options);
    this.schema = checked.schema;
    this.#pool = checked.pool;
    this.#ownPool = checked.ownPool;
    this.#now = checked.now;
    this.#s = quoted(checked.schema);
    this.#pool.on('error', this.#onPoolError);
    this.#listener = new Listener({ pool: this.#pool, channel: this.schema, hub: this.#hub });
  }

  /** The listening connection, for diagnostics: whether it is up, how often it connected, its last error. */
  get listener(): { listening: boolean; connections: number; lastError: unknown } {
    return {
      listening: this.#listener.listening,
      connections: this.#listener.connections,
      lastError: this.#listener.lastError,
    };
  }

  /**
   * Connects and migrates the schema (what the first call does anyway): call it at start-up to fail early.
   * STORE_SCHEMA_TOO_NEW for a schema of a newer Weft; STORE_ERROR when PostgreSQL cannot be reached.
   */
  async ready(): Promise<void> {
    if (this.#closed) throw closedError('ready', this.schema);
    if (this.#ready === null) {
      const opening = this.#open();
      this.#ready = opening;
      // A failure that may pass (the server not up yet) is tried again by the next call.
      opening.catch((error: unknown) => {
        if (!(error instanceof WeftError) || error.retryable) {
          if (this.#ready === opening) this.#ready = null;
        }
      });
    }
    return this.#ready;
  }

  async #open(): Promise<void> {
    let client: pg.PoolClient;
    try {
      client = await this.#pool.connect();
    } catch (error) {
      throw storeError(error, 'open', this.schema);
    }
    try {
      await migrate(client, this.schema, new Date(this.#now()).toISOString());
      client.release();
    } catch (error) {
      client.release(error instanceof WeftError ? undefined : (error as Error));
      throw storeError(error, 'open', this.schema);
    }
  }

  /** Stops listening and, if the store made its pool, ends it. Later calls fail with STORE_ERROR. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#listener.stop();
    if (this.#ownPool) {
      // The listener stays: a connection killed while the pool ends still reports its error through the
      // pool, and a pool 'error' with no listener would crash the process.
      await this.#pool.end();
    } else {
      this.#pool.off('error', this.#onPoolError);
    }
  }

  // ── plumbing ─────────────────────────────────────────────────────────────────────────────────────

  /** Runs `work` once the schema is ready, with failures turned into STORE_ERROR. */
  async #do<T>(operation: string, work: () => Promise<T>): Promise<T> {
    if (this.#closed) throw closedError(operation, this.schema);
    await this.ready();
    try {
      return await work();
    } catch (error) {
      throw storeError(error, operation, this.schema);
    }
  }

  /** Runs `work` in a transaction on one connection; rolls back if it throws. */
  async #transaction<T>(
    operation: string,
    work: (client: pg.PoolClient) => Promise<T>,
    begin = 'BEGIN',
  ): Promise<T> {
    return this.#do(operation, async () => {
      const client = await this.#pool.connect();
      let broken: Error | undefined;
      try {
        await client.query(begin);
        const result = await work(client);
        await client.query('COMMIT');
        return result;
      } catch (error) {
        try {
          await client.query('ROLLBACK');
        } catch (rollback) {
          // The connection itself failed: do not give it back to the pool.
          broken = rollback instanceof Error ? rollback : new Error(String(rollback));
        }
        throw error;
      } finally {
        client.release(broken);
      }
    });
  }

  /** A statement, prepared once per connection under a name derived from its text. */
  #named(text: string, values: readonly unknown[]): pg.QueryConfig {
    let name = this.#names.get(text);
    if (name === undefined) {
      // Shapes are few (patch field sets, list filters), but the map is bounded whatever callers do.
      if (this.#names.size >= 1024) this.#names.clear();
      name = `weft_${createHash('sha1').update(text).digest('hex').slice(0, 24)}`;
      this.#names.set(text, name);
    }
    return { name, text, values: values as unknown[] };
  }

  async #rows(db: Db, text: string, values: readonly unknown[] = []): Promise<Row[]> {
    return (await db.query(this.#named(text, values))).rows as Row[];
  }

  async #row(db: Db, text: string, values: readonly unknown[] = []): Promise<Row | undefined> {
    return (await this.#rows(db, text, values))[0];
  }

  async #count(db: Db, text: string, values: readonly unknown[] = []): Promise<number> {
    return (await db.query(this.#named(text, values))).rowCount ?? 0;
  }

  #t(table: string): string {
    return `${this.#s}.${table}`;
  }

  // ── workflows ────────────────────────────────────────────────────────────────────────────────────

  async insertWorkflow(workflow: Workflow): Promise<void> {
    await this.#do('insertWorkflow', async () => {
      const inserted = await this.#count(
        this.#pool,
        `INSERT INTO ${this.#t('workflows')} (id, app_id, created_at, archived, discover, body)
         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (id) DO NOTHING`,
        [
          workflow.id,
          workflow.app_id,
          workflow.created_at,
          workflow.archived_at !== null,
          workflow.discoverable && workflow.archived_at === null,
          JSON.stringify(workflow),
        ],
      );
      if (inserted === 0) {
        throw new WeftError(ERROR_CODES.CONFLICT, `A workflow with id "${workflow.id}" already exists.`);
      }
    });
  }

  async getWorkflow(id: string): Promise<Workflow | null> {
    return this.#do('getWorkflow', async () => {
      const row = await this.#row(this.#pool, `SELECT body FROM ${this.#t('workflows')} WHERE id = $1`, [id]);
      return row === undefined ? null : (JSON.parse(row.body as string) as Workflow);
    });
  }

  async getFrozenWorkflow(id: string): Promise<Workflow | null> {
    return this.#do('getFrozenWorkflow', async () => {
      const candidate = this.#frozen.candidate(id);
      // Another process may have changed the workflow since the entry was read: PostgreSQL compares the
      // stored text in full with the entry's (byte-wise: COLLATE "C") and sends the text back only when
      // it differs; NULL (body is NOT NULL) means the same. With no entry, $2 is NULL: the text comes back.
      const row = await this.#row(
        this.#pool,
        `SELECT CASE WHEN body COLLATE "C" = $2::text THEN NULL ELSE body END AS body
         FROM ${this.#t('workflows')} WHERE id = $1`,
        [id, candidate?.body ?? null],
      );
      if (row === undefined) {
        this.#frozen.delete(id);
        return null;
      }
      const body = row.body as string | null;
      return body === null ? this.#frozen.same(id, candidate!) : this.#frozen.stored(id, body);
    });
  }

  async updateWorkflow(id: string, patch: WorkflowPatch): Promise<Workflow | null> {
    return this.#transaction('updateWorkflow', async (client) => {
      const row = await this.#row(
        client,
        `SELECT body FROM ${this.#t('workflows')} WHERE id = $1 FOR UPDATE`,
        [id],
      );
      if (row === undefined) return null;
      const next: Workflow = { ...(JSON.parse(row.body as string) as Workflow), ...patch };
      // Through JSON, like every read: what is returned never aliases the caller's patch.
      const body = JSON.stringify(next);
      await this.#rows(
        client,
        `UPDATE ${this.#t('workflows')} SET archived = $1, discover = $2, body = $3 WHERE id = $4`,
        [next.archived_at !== null, next.discoverable && next.archived_at === null, body, id],
      );
      return JSON.parse(body) as Workflow;
    });
  }

  async listWorkflows(query: WorkflowQuery): Promise<Page<Workflow>> {
    const limit = pageLimit(query);
    return this.#do('listWorkflows', async () => {
      const params = new Params();
      const where = [`app_id = ${params.add(query.app_id)}`];
      if (query.include_archived !== true) where.push('NOT archived');
      return this.#newestFirst<Workflow>('workflows', where, params, query.cursor, limit);
    });
  }

  async listDiscoverableWorkflows(query: DiscoverQuery): Promise<Page<Workflow>> {
    const limit = pageLimit(query);
    return this.#do('listDiscoverableWorkflows', async () => {
      const params = new Params();
      const where = ['discover'];
      if (query.exclude_app_id !== undefined) where.push(`app_id != ${params.add(query.exclude_app_id)}`);
      return this.#newestFirst<Workflow>('workflows', where, params, query.cursor, limit);
    });
  }

  /** A page of a table of JSON bodies (`seq, id, created_at, body`), newest first, under `where`. */
  async #newestFirst<T>(
    table: string,
    where: string[],
    params: Params,
    cursor: string | null | undefined,
    limit: number,
  ): Promise<Page<T>> {
    this.#cursorRange(cursor, where, params);
    const rows = await this.#rows(
      this.#pool,
      `SELECT seq, id, created_at, body FROM ${this.#t(table)} WHERE ${where.join(' AND ')}
       ORDER BY created_at DESC, seq DESC LIMIT ${params.add(limit + 1)}`,
      params.values,
    );
    return this.#createdPage<T>(rows, limit);
  }

  /** Adds `(created_at, seq) < cursor` to a created_at-ordered list. */
  #cursorRange(cursor: string | null | undefined, where: string[], params: Params): void {
    if (cursor === undefined || cursor === null) return;
    const position = decodePosition(cursor);
    where.push(
      `(created_at, seq) < (${params.add(position.createdAt)}, ${params.add(position.seq)}::bigint)`,
    );
  }

  #createdPage<T>(
    rows: Row[],
    limit: number,
    map = (row: Row) => JSON.parse(row.body as string) as T,
  ): Page<T> {
    return pageOf(rows, limit, map, (row) => positionKey(row.created_at as string, row.seq as string));
  }

  // ── versions ─────────────────────────────────────────────────────────────────────────────────────

  async insertVersion(version: PublishedVersion): Promise<void> {
    await this.#do('insertVersion', async () => {
      // No conflict target: an existing id or (workflow_id, version) makes the insert a no-op.
      const inserted = await this.#count(
        this.#pool,
        `INSERT INTO ${this.#t('versions')} (id, workflow_id, version, body) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING`,
        [version.id, version.workflow_id, version.version, JSON.stringify(version)],
      );
      if (inserted === 0) {
        throw new WeftError(
          ERROR_CODES.IMMUTABLE_VERSION,
          `Version ${version.version} (id "${version.id}") of workflow "${version.workflow_id}" already exists and published versions never change. Publish a new version instead.`,
          { details: { workflow_id: version.workflow_id, version: version.version, id: version.id } },
        );
      }
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
    return this.#do('getVersion', async () =>
      this.#version(
        await this.#row(this.#pool, `SELECT id, body FROM ${this.#t('versions')} WHERE id = $1`, [id]),
      ),
    );
  }

  async getVersionByNumber(workflowId: string, version: number): Promise<PublishedVersion | null> {
    return this.#do('getVersionByNumber', async () => {
      if (!Number.isSafeInteger(version) || Math.abs(version) > 2 ** 31 - 1) return null;
      return this.#version(
        await this.#row(
          this.#pool,
          `SELECT id, body FROM ${this.#t('versions')} WHERE workflow_id = $1 AND version = $2`,
          [workflowId, version],
        ),
      );
    });
  }

  async getLatestVersion(workflowId: string): Promise<PublishedVersion | null> {
    return this.#do('getLatestVersion', async () =>
      this.#version(
        await this.#row(
          this.#pool,
          `SELECT id, body FROM ${this.#t('versions')} WHERE workflow_id = $1 ORDER BY version DESC LIMIT 1`,
          [workflowId],
        ),
      ),
    );
  }

  async listVersions(query: VersionQuery): Promise<Page<PublishedVersion>> {
    const limit = pageLimit(query);
    return this.#do('listVersions', async () => {
      let below = 2 ** 31 - 1;
      if (query.cursor !== undefined && query.cursor !== null) {
        below = Number(decodeCursor(query.cursor).key);
        if (!Number.isSafeInteger(below)) {
          throw invalidArgument('cursor', 'the `next_cursor` of a previous page of this store', query.cursor);
        }
        below = Math.max(-(2 ** 31), Math.min(2 ** 31 - 1, below));
      }
      const rows = await this.#rows(
        this.#pool,
        `SELECT id, version, body FROM ${this.#t('versions')} WHERE workflow_id = $1 AND version < $2
         ORDER BY version DESC LIMIT $3`,
        [query.workflow_id, below, limit + 1],
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

  async insertRun(run: RunRow, lease?: LeaseGrant): Promise<void> {
    const grant = lease === undefined ? undefined : checkLeaseGrant(lease);
    await this.#do('insertRun', async () => {
      const live = isLiveStatus(run.status);
      const params = new Params();
      const values = [
        ...RUN_FIELDS.map((field) => params.add(columnValue(field, (run as unknown as Row)[field]))),
        params.add(preserveOf(run.retention)),
      ];
      // A live run gets its lease row (migration 5) in the same statement: owned, or unowned (run.pending).
      const lease = live
        ? `, lease AS (INSERT INTO ${this.#t('run_leases')} (run_id, owner_id, lease_until, journal_seq)
             SELECT id, ${params.add(grant?.owner_id ?? null)}::text, ${params.add(grant?.lease_until ?? null)}::text, 0 FROM run)`
        : '';
      const inserted = await this.#rows(
        this.#pool,
        `WITH run AS (INSERT INTO ${this.#t('runs')} (${RUN_COLUMNS}, preserve)
           VALUES (${values.join(', ')}) ON CONFLICT (id) DO NOTHING RETURNING id)${lease}
         SELECT id FROM run`,
        params.values,
      );
      if (inserted.length === 0)
        throw new WeftError(ERROR_CODES.CONFLICT, `A run with id "${run.id}" already exists.`);
    });
  }

  async getRun(id: string): Promise<RunRow | null> {
    return this.#do('getRun', async () => {
      const row = await this.#row(this.#pool, `SELECT ${RUN_COLUMNS} FROM ${this.#t('runs')} WHERE id = $1`, [
        id,
      ]);
      return row === undefined ? null : runRow(row);
    });
  }

  async updateRun(id: string, patch: RunPatch, condition?: RunCondition): Promise<RunRow | null> {
    checkPatch(patch, 'patch');
    return this.#do('updateRun', async () => {
      const params = new Params();
      const set = patchSet(patch, params);
      const idParam = params.add(id);
      const where = [`id = ${idParam}`];
      if (condition?.status_in !== undefined)
        where.push(`status = ANY(${params.add(condition.status_in)}::text[])`);
      if (set.length === 0) {
        const row = await this.#row(
          this.#pool,
          `SELECT ${RUN_COLUMNS} FROM ${this.#t('runs')} WHERE ${where.join(' AND ')}`,
          params.values,
        );
        return row === undefined ? null : runRow(row);
      }
      // The lease row (if any) is locked before the run row, as appends do (journal-sql.ts): the
      // one-time filter on `held` runs before the UPDATE reads a row. A status that ends the run deletes
      // the lease row; a live status given to an ended run gives it one, unowned (claimable).
      let leaseWrites = '';
      if (patch.status !== undefined) {
        leaseWrites = isLiveStatus(patch.status)
          ? `, born AS (INSERT INTO ${this.#t('run_leases')} (run_id, owner_id, lease_until, journal_seq)
               SELECT id, NULL, NULL, journal_seq FROM run ON CONFLICT (run_id) DO NOTHING)`
          : `, ended AS (DELETE FROM ${this.#t('run_leases')} WHERE run_id = ${idParam} AND EXISTS (SELECT 1 FROM run))`;
      }
      const row = await this.#row(
        this.#pool,
        `WITH held AS (SELECT run_id FROM ${this.#t('run_leases')} WHERE run_id = ${idParam} FOR UPDATE),
         run AS (UPDATE ${this.#t('runs')} SET ${set.join(', ')} WHERE ${where.join(' AND ')}
           AND (SELECT count(*) FROM held) >= 0 RETURNING ${RUN_COLUMNS}, journal_seq)${leaseWrites}
         SELECT ${RUN_COLUMNS} FROM run`,
        params.values,
      );
      return row === undefined ? null : runRow(row);
    });
  }

  /** The WHERE of listRuns and countRuns (cursor aside). */
  #runFilters(query: RunCountQuery, params: Params): string[] {
    const where = [`app_id = ${params.add(query.app_id)}`];
    if (query.workflow_id !== undefined) where.push(`workflow_id = ${params.add(query.workflow_id)}`);
    const statuses = asList(query.status);
    if (statuses !== null) where.push(`status = ANY(${params.add(statuses)}::text[])`);
    const origins = asList(query.origin);
    if (origins !== null) where.push(`origin = ANY(${params.add(origins)}::text[])`);
    if (query.created_after !== undefined) where.push(`created_at >= ${params.add(query.created_after)}`);
    if (query.created_before !== undefined) where.push(`created_at < ${params.add(query.created_before)}`);
    return where;
  }

  async countRuns(query: RunCountQuery): Promise<number> {
    return this.#do('countRuns', async () => {
      const params = new Params();
      const where = this.#runFilters(query, params);
      const row = await this.#row(
        this.#pool,
        `SELECT count(*)::int AS n FROM ${this.#t('runs')} WHERE ${where.join(' AND ')}`,
        params.values,
      );
      return Number(row?.n ?? 0);
    });
  }

  async listRuns(query: RunQuery): Promise<Page<RunRow>> {
    const limit = pageLimit(query);
    return this.#do('listRuns', async () => {
      const params = new Params();
      const where = this.#runFilters(query, params);
      this.#cursorRange(query.cursor, where, params);
      const rows = await this.#rows(
        this.#pool,
        `SELECT seq, ${RUN_COLUMNS} FROM ${this.#t('runs')} WHERE ${where.join(' AND ')}
         ORDER BY created_at DESC, seq DESC LIMIT ${params.add(limit + 1)}`,
        params.values,
      );
      return this.#createdPage(rows, limit, runRow);
    });
  }

  async saveStepResult(runId: string, key: string, record: StepRecord): Promise<void> {
    await this.#do('saveStepResult', async () => {
      await this.#rows(
        this.#pool,
        `INSERT INTO ${this.#t('step_batches')} (run_id, packed) VALUES ($1, $2)`,
        [runId, pack(packRecords([key], [JSON.stringify(record)]))],
      );
    });
  }

  async getStepResults(runIds: readonly string[]): Promise<Map<string, Record<string, StepRecord>>> {
    return this.#do('getStepResults', async () => {
      const out = new Map<string, Record<string, StepRecord>>();
      for (const id of runIds) out.set(id, {});
      if (runIds.length === 0) return out;
      const rows = await this.#rows(
        this.#pool,
        `SELECT run_id, pos, records, packed FROM ${this.#t('step_batches')} WHERE run_id = ANY($1::text[]) ORDER BY run_id, pos`,
        [runIds],
      );
      for (const row of rows) mergeRecords([row], row.run_id as string, out.get(row.run_id as string)!);
      return out;
    });
  }

  async listRunsDue(now: string, limit: number): Promise<RunRow[]> {
    return this.#do('listRunsDue', async () =>
      (
        await this.#rows(
          this.#pool,
          // purge_due_at (migration 5): retention_due_at while the run may be purged (not purged, not a
          // FAILED run whose retention preserves failures), else NULL.
          `SELECT ${RUN_COLUMNS} FROM ${this.#t('runs')}
           WHERE purge_due_at IS NOT NULL AND purge_due_at <= $1
           ORDER BY purge_due_at, id LIMIT $2`,
          [now, limit],
        )
      ).map(runRow),
    );
  }

  async purgeRun(id: string, purgedAt: string): Promise<RunRow | null> {
    return this.#transaction('purgeRun', async (client) => {
      const row = await this.#row(
        client,
        `SELECT ${RUN_COLUMNS} FROM ${this.#t('runs')} WHERE id = $1 FOR UPDATE`,
        [id],
      );
      if (row === undefined) return null;
      const current = runRow(row);
      if (current.purged_at !== null) return current;
      const purged = purgeRunRow(current, purgedAt);
      const params = new Params();
      const set = patchSet(
        {
          input: purged.input,
          result: purged.result,
          error: purged.error,
          usage: purged.usage,
          updated_at: purged.updated_at,
        } as RunPatch,
        params,
        { purged_at: purgedAt },
      );
      // journal_seq stays: getLease keeps answering how far the journal went.
      const updated = await this.#row(
        client,
        `UPDATE ${this.#t('runs')} SET ${set.join(', ')} WHERE id = ${params.add(id)} RETURNING ${RUN_COLUMNS}`,
        params.values,
      );
      const steps = await this.#rows(
        client,
        `SELECT pos, records, packed FROM ${this.#t('step_batches')} WHERE run_id = $1 ORDER BY pos`,
        [id],
      );
      if (steps.length > 0) {
        // The run's records merged into one row, purged: no earlier value of a record is kept.
        const records = Object.entries(mergeRecords<StepRecord>(steps, id));
        await this.#rows(client, `DELETE FROM ${this.#t('step_batches')} WHERE run_id = $1`, [id]);
        await this.#rows(client, `INSERT INTO ${this.#t('step_batches')} (run_id, packed) VALUES ($1, $2)`, [
          id,
          pack(
            packRecords(
              records.map(([key]) => key),
              records.map(([, record]) => JSON.stringify(purgeStepRecord(record))),
            ),
          ),
        ]);
      }
      await this.#rows(client, `DELETE FROM ${this.#t('journal_batches')} WHERE run_id = $1`, [id]);
      return runRow(updated!);
    });
  }

  // ── journal and leases ───────────────────────────────────────────────────────────────────────────

  async #lease(db: Db, runId: string): Promise<RunLease | null> {
    const row = await this.#row(
      db,
      `SELECT ${LEASE_COLUMNS} FROM ${this.#t('runs')} AS r LEFT JOIN ${this.#t('run_leases')} AS l ON l.run_id = r.id
       WHERE r.id = $1`,
      [runId],
    );
    return row === undefined ? null : leaseOf(row);
  }

  /** A batch checked and serialised, with no text PostgreSQL would refuse (so a group never aborts on it). */
  #prepareBatch(batch: JournalBatch, runId: string, insert: RunRow | undefined, at: string): SerialisedBatch {
    checkPatch(batch.run, `${at}.run`);
    const rows = serialise(batch, entryData);
    const texts: Array<[string, unknown]> = [
      ['run_id', runId],
      [`${at}.owner_id`, batch.owner_id],
      ...rows.types.map((t, i): [string, unknown] => [`${at}.entries[${i}].type`, t]),
      ...rows.ats.map((t, i): [string, unknown] => [`${at}.entries[${i}].at`, t]),
      ...rows.keys.map((k): [string, unknown] => [`${at}.steps`, k]),
      [`${at}.run`, batch.run],
      ['insert', insert],
    ];
    for (const [path, value] of texts) {
      const where = nulIn(value, path);
      if (where !== null)
        throw invalidArgument(where, 'text without NUL characters (PostgreSQL cannot store them)', value);
    }
    return rows;
  }

  /**
   * Runs one planned append: the statement, then — when it matched nothing — the reason, read from the
   * lease. Throws the append's own refusal (a WeftError), or a database error.
   */
  async #runAppend(db: Db, plan: PlannedAppend): Promise<RunLease> {
    const { runId } = plan.part;
    if (plan.refusal !== undefined) {
      if ((await this.#lease(db, runId)) !== null) {
        throw new WeftError(ERROR_CODES.CONFLICT, `A run with id "${runId}" already exists.`);
      }
      throw plan.refusal;
    }
    plan.statement ??= appendStatement(this.#s, plan.part);
    for (let attempt = 0; ; attempt++) {
      const row = await this.#row(db, plan.statement.text, plan.statement.values);
      if (row !== undefined) return leaseOf(row);
      await this.#whyRefused(db, plan);
      // The lease allows it now: it changed between the two statements (a renewal, a claim). Try again.
      if (attempt >= 2) {
        throw new WeftError(
          ERROR_CODES.JOURNAL_CONFLICT,
          `Run ${runId}: its lease changed under every attempt to append. Reload the journal (loadJournal) and resume from it.`,
          { details: { run_id: runId }, retryable: true },
        );
      }
    }
  }

  /**
   * After an append's statement matched nothing: throws why (CONFLICT for an insert, NOT_FOUND,
   * LEASE_LOST, JOURNAL_CONFLICT), or returns when the lease now allows it (it changed in between).
   */
  async #whyRefused(db: Db, plan: PlannedAppend): Promise<void> {
    const { runId, batch, insert } = plan.part;
    if (insert !== undefined) {
      throw new WeftError(ERROR_CODES.CONFLICT, `A run with id "${runId}" already exists.`);
    }
    const lease = await this.#lease(db, runId);
    if (lease === null) throw runNotFoundInStore(runId);
    checkAppend(lease, batch);
  }

  #plan(
    index: number,
    runId: string,
    batch: JournalBatch,
    insert: RunRow | undefined,
    at: string,
  ): PlannedAppend {
    const rows = this.#prepareBatch(batch, runId, insert, at);
    return { index, part: { runId, batch, rows, insert } };
  }

  async appendJournal(runId: string, batch: JournalBatch): Promise<RunLease> {
    const checked = checkBatch(batch, runId);
    const plan = this.#plan(0, runId, checked, undefined, 'batch');
    // One statement: its own transaction, one round trip.
    return this.#do('appendJournal', () => this.#runAppend(this.#pool, plan));
  }

  /**
   * The appends of a group in waves: the first append of each run, then the second, … (runs in id
   * order, so that rows are locked in that order). A wave's appends to existing runs are one prepared
   * statement (bulkAppendStatement); its new runs are statements of up to GROUP_STATEMENT_PARTS numbered
   * CTEs (groupStatement). An append that must be explained or retried on its own (an insert refused
   * before any statement, a part that matched nothing) is handled right after its statement.
   */
  async #applyGroup(db: Db, plans: readonly PlannedAppend[], outcomes: AppendOutcome[]): Promise<void> {
    const waves: PlannedAppend[][] = [];
    const depth = new Map<string, number>();
    for (const plan of plans) {
      const d = depth.get(plan.part.runId) ?? 0;
      depth.set(plan.part.runId, d + 1);
      if (waves[d] === undefined) waves[d] = [];
      waves[d]!.push(plan);
    }
    const settle = async (plan: PlannedAppend, run: () => Promise<RunLease>) => {
      try {
        outcomes[plan.index] = { ok: true, lease: await run() };
      } catch (error) {
        // A refusal (a WeftError) wrote nothing and leaves the transaction usable; anything else aborts it.
        outcomes[plan.index] = refused(error);
      }
    };
    /** Runs one statement of several appends and settles each from the row it returned (or not). */
    const together = async (
      chunk: readonly PlannedAppend[],
      statement: pg.QueryConfig,
      key: (row: Row) => unknown = (row) => row.part,
      keyOf: (plan: PlannedAppend, i: number) => unknown = (_, i) => i,
    ) => {
      const result = await db.query(statement);
      const rows = new Map((result.rows as Row[]).map((row) => [key(row), row]));
      for (const [i, plan] of chunk.entries()) {
        const row = rows.get(keyOf(plan, i));
        if (row !== undefined) {
          outcomes[plan.index] = { ok: true, lease: leaseOf(row) };
          continue;
        }
        await settle(plan, async () => {
          await this.#whyRefused(db, plan);
          return this.#runAppend(db, plan);
        });
      }
    };
    for (const wave of waves) {
      const alone = wave.filter((p) => p.refusal !== undefined);
      // Appends to existing runs, and new runs: one prepared statement each for all of them.
      const bulk = wave.filter((p) => p.refusal === undefined && bulkable(p.part));
      const inserts = wave.filter((p) => p.refusal === undefined && bulkInsertable(p.part));
      // Patches of fields a RunPatch does not have: numbered CTEs.
      const other = wave.filter(
        (p) => p.refusal === undefined && !bulkable(p.part) && !bulkInsertable(p.part),
      );
      for (const plan of alone) await settle(plan, () => this.#runAppend(db, plan));
      if (inserts.length === 1) await settle(inserts[0]!, () => this.#runAppend(db, inserts[0]!));
      else if (inserts.length > 1) {
        const statement = bulkInsertStatement(
          this.#s,
          inserts.map((p) => p.part),
        );
        await together(
          inserts,
          this.#named(statement.text, statement.values),
          (row) => row.run_id,
          (plan) => plan.part.runId,
        );
      }
      if (bulk.length === 1) await settle(bulk[0]!, () => this.#runAppend(db, bulk[0]!));
      else if (bulk.length > 1) {
        const statement = bulkAppendStatement(
          this.#s,
          bulk.map((p) => p.part),
        );
        await together(bulk, this.#named(statement.text, statement.values));
      }
      for (let start = 0; start < other.length; start += GROUP_STATEMENT_PARTS) {
        const chunk = other.slice(start, start + GROUP_STATEMENT_PARTS);
        if (chunk.length === 1) {
          await settle(chunk[0]!, () => this.#runAppend(db, chunk[0]!));
          continue;
        }
        // Unnamed (not prepared): its shape is rarely seen twice.
        const statement = groupStatement(
          this.#s,
          chunk.map((p) => p.part),
        );
        await together(chunk, { text: statement.text, values: statement.values });
      }
    }
  }

  async appendJournals(appends: readonly JournalAppend[]): Promise<AppendOutcome[]> {
    checkAppends(appends);
    const outcomes: AppendOutcome[] = new Array(appends.length);
    const plans: PlannedAppend[] = [];
    // Checked and built before the transaction, so that it holds its locks as briefly as possible.
    appends.forEach((append, i) => {
      try {
        const { batch, grant } = checkGroupAppend(append, i);
        const plan = this.#plan(i, append.run_id, batch, append.insert, `appends[${i}].batch`);
        if (append.insert !== undefined && grant !== undefined) {
          try {
            checkAppend(insertedLease(append.insert, grant), batch);
          } catch (error) {
            if (!(error instanceof WeftError)) throw error;
            plan.refusal = error;
          }
        }
        plans.push(plan);
      } catch (error) {
        outcomes[i] = refused(error);
      }
    });
    if (plans.length === 0) return outcomes;
    // Runs' rows are locked in id order (appends to one run keep theirs): no two groups wait on each other.
    plans.sort((a, b) => byteOrder(a.part.runId, b.part.runId) || a.index - b.index);
    const apply = (db: Db) => this.#applyGroup(db, plans, outcomes);
    // One append is one statement, atomic by itself; more are one transaction.
    if (plans.length === 1) {
      await this.#do('appendJournals', () => apply(this.#pool));
      return outcomes;
    }
    // The notices of the group are sent after its COMMIT, not by the triggers inside it: a transaction
    // that NOTIFYs holds PostgreSQL's one lock on the notification queue from its commit until the end of
    // its WAL flush, so the groups of every worker would commit one flush after another (W12).
    await this.#transaction('appendJournals', apply, GROUP_BEGIN);
    await this.#noticesAfterCommit(outcomes);
    return outcomes;
  }

  /**
   * What the triggers would have sent for a group: run.ended for a run it ended, run.pending for a live
   * run it left unowned. One statement, outside any transaction of writes (its commit flushes nothing).
   * A failure is not the group's (it committed): the listeners' rescans and polls cover a lost notice.
   */
  async #noticesAfterCommit(outcomes: readonly AppendOutcome[]): Promise<void> {
    const payloads: string[] = [];
    for (const outcome of outcomes) {
      if (outcome === undefined || !outcome.ok || outcome.lease.run_id.length > MAX_NOTICE_RUN_ID) continue;
      const { run_id, status, owner_id } = outcome.lease;
      if (!isLiveStatus(status)) payloads.push(JSON.stringify({ topic: 'run.ended', run_id }));
      else if (owner_id === null) payloads.push(JSON.stringify({ topic: 'run.pending', run_id }));
    }
    if (payloads.length === 0) return;
    await this.#pool
      .query(this.#named('SELECT pg_notify($1, p) FROM unnest($2::text[]) AS p', [this.schema, payloads]))
      .catch(() => undefined);
  }

  async loadJournal(runId: string, query?: JournalQuery): Promise<JournalEntry[]> {
    const { after, limit } = journalRange(query);
    const from = Math.min(after, 2 ** 31 - 1);
    const to = Math.min(from + limit, 2 ** 31 - 1);
    return this.#do('loadJournal', async () => {
      // The rows of entries from+1 … to: those ending in that range, and the one that ends after it if
      // it starts in it (journal_batches rows hold consecutive seqs; both parts are ranges of its key).
      const rows = await this.#rows(
        this.#pool,
        `(SELECT first_seq, last_seq, entries, packed FROM ${this.#t('journal_batches')}
          WHERE run_id = $1 AND last_seq > $2 AND last_seq <= $3 ORDER BY last_seq)
         UNION ALL
         (SELECT first_seq, last_seq, entries, packed FROM ${this.#t('journal_batches')}
          WHERE run_id = $1 AND last_seq > $3 ORDER BY last_seq LIMIT 1)`,
        [runId, from, to],
      );
      return unpackEntries(
        rows.filter((row) => (row.first_seq as number) <= to),
        runId,
        from,
        limit,
      ).map(([seq, type, at, data]) => loadedEntry(runId, seq, type, at, data));
    });
  }

  async claimRun(runId: string, claim: ClaimRequest): Promise<ClaimResult> {
    const checked = checkClaim(claim);
    return this.#do('claimRun', async () => {
      for (let attempt = 0; ; attempt++) {
        // Only the lease row changes; a live run has one (an ended run none: not claimable).
        const row = await this.#row(
          this.#pool,
          `UPDATE ${this.#t('run_leases')} AS l SET owner_id = $2, lease_until = $3 FROM ${this.#t('runs')} AS r
           WHERE l.run_id = $1 AND r.id = l.run_id
             AND (l.owner_id IS NULL OR l.lease_until IS NULL OR l.lease_until < $4 OR l.owner_id = $2)
           RETURNING ${LEASE_COLUMNS}`,
          [runId, checked.owner_id, checked.lease_until, checked.now],
        );
        if (row !== undefined) return { claimed: true, lease: leaseOf(row) };
        const lease = await this.#lease(this.#pool, runId);
        const decision = decideClaim(lease, checked);
        // 'GRANT' here means the run was freed between the two statements: try again, a bounded number of times.
        if (decision !== 'GRANT') return decision;
        if (attempt >= 2) return { claimed: false, reason: 'OWNED', lease: lease! };
      }
    });
  }

  async claimRuns(claim: ClaimRequest, limit: number): Promise<RunLease[]> {
    return (await this.#claimRuns('claimRuns', claim, limit, false)).map(leaseOf);
  }

  /** claimRuns, with each claimed run's row (ClaimsWithRows): a worker begins the runs without reading them. */
  async claimRunsWithRows(claim: ClaimRequest, limit: number): Promise<ClaimedRun[]> {
    return (await this.#claimRuns('claimRunsWithRows', claim, limit, true)).map((row) => ({
      lease: leaseOf(row),
      row: runRow(row),
    }));
  }

  async #claimRuns(operation: string, claim: ClaimRequest, limit: number, withRows: boolean): Promise<Row[]> {
    const checked = checkClaim(claim);
    checkRecoverableLimit(limit);
    return this.#do(operation, async () => {
      // The row's other fields (status is a lease column already).
      const more = withRows
        ? `, ${RUN_FIELDS.filter((f) => f !== 'status')
            .map((f) => `r.${f}`)
            .join(', ')}`
        : '';
      const rows = await this.#rows(
        this.#pool,
        // Only the lease rows change (migration 5); the run rows are read as the statement began. The
        // picked ids as an array: a join with picked made the planner scan the whole table (and plan
        // every call anew).
        `WITH picked AS (
           SELECT l.run_id, l.lease_until AS previous FROM ${this.#t('run_leases')} AS l
           WHERE ${RECOVERABLE} ORDER BY l.lease_until NULLS FIRST, l.run_id LIMIT $4 FOR UPDATE SKIP LOCKED
         ), l AS (
           UPDATE ${this.#t('run_leases')} SET owner_id = $2, lease_until = $3
           WHERE run_id = ANY(ARRAY(SELECT run_id FROM picked))
           RETURNING run_id, owner_id, lease_until, journal_seq
         )
         SELECT ${LEASE_COLUMNS}, picked.previous${more}
         FROM l JOIN picked ON picked.run_id = l.run_id JOIN ${this.#t('runs')} AS r ON r.id = l.run_id`,
        [checked.now, checked.owner_id, checked.lease_until, limit],
      );
      // RETURNING has no order: put the runs back in listRecoverableRuns order.
      rows.sort((a, b) => {
        const pa = a.previous as string | null;
        const pb = b.previous as string | null;
        if (pa !== pb) return pa === null ? -1 : pb === null ? 1 : byteOrder(pa, pb);
        return byteOrder(a.run_id as string, b.run_id as string);
      });
      return rows;
    });
  }

  async renewLeases(ownerId: string, leaseUntil: string, runIds?: readonly string[]): Promise<string[]> {
    checkOwnerId(ownerId, 'ownerId');
    const until = checkTime(leaseUntil, 'leaseUntil');
    if (runIds !== undefined && !Array.isArray(runIds)) {
      throw invalidArgument('runIds', 'an array of run ids', runIds);
    }
    return this.#do('renewLeases', async () => {
      // Locks the lease rows in id order, as group commits do.
      const only = runIds === undefined ? '' : 'AND run_id = ANY($3::text[])';
      const rows = await this.#rows(
        this.#pool,
        `UPDATE ${this.#t('run_leases')} SET lease_until = $1 WHERE run_id IN (
           SELECT run_id FROM ${this.#t('run_leases')} WHERE owner_id = $2 ${only} ORDER BY run_id FOR UPDATE
         ) RETURNING run_id AS id`,
        runIds === undefined ? [until, ownerId] : [until, ownerId, runIds],
      );
      return rows.map((row) => row.id as string);
    });
  }

  async releaseRun(runId: string, ownerId: string): Promise<boolean> {
    checkOwnerId(ownerId, 'ownerId');
    return this.#do(
      'releaseRun',
      async () =>
        (await this.#count(
          this.#pool,
          `UPDATE ${this.#t('run_leases')} SET owner_id = NULL, lease_until = NULL WHERE run_id = $1 AND owner_id = $2`,
          [runId, ownerId],
        )) > 0,
    );
  }

  async getLease(runId: string): Promise<RunLease | null> {
    return this.#do('getLease', () => this.#lease(this.#pool, runId));
  }

  async listRecoverableRuns(now: string, limit: number): Promise<RunLease[]> {
    const at = checkTime(now, 'now');
    checkRecoverableLimit(limit);
    return this.#do('listRecoverableRuns', async () =>
      (
        await this.#rows(
          this.#pool,
          `SELECT ${LEASE_COLUMNS} FROM ${this.#t('run_leases')} AS l JOIN ${this.#t('runs')} AS r ON r.id = l.run_id
           WHERE ${RECOVERABLE}
           ORDER BY l.lease_until NULLS FIRST, l.run_id LIMIT $2`,
          [at, limit],
        )
      ).map(leaseOf),
    );
  }

  // ── notices ──────────────────────────────────────────────────────────────────────────────────────

  subscribe(topic: NoticeTopic, listener: NoticeListener): () => void {
    if (this.#closed) throw closedError('subscribe', this.schema);
    const unsubscribe = this.#hub.subscribe(topic, listener);
    this.#listener.start();
    return () => {
      unsubscribe();
      // The last subscriber gone: give the listening connection back.
      if (this.#hub.size() === 0) void this.#listener.stop();
    };
  }

  async notify(topic: NoticeTopic, runId: string): Promise<void> {
    const payload = JSON.stringify({ topic: checkTopic(topic), run_id: checkNoticeRunId(runId) });
    if (runId.includes('\0')) throw invalidArgument('runId', 'text without NUL characters', runId);
    await this.#do('notify', async () => {
      await this.#rows(this.#pool, 'SELECT pg_notify($1, $2)', [this.schema, payload]);
    });
  }

  // ── worker presence ──────────────────────────────────────────────────────────────────────────────

  async announceWorker(ownerId: string, until: string): Promise<void> {
    const checked = checkAnnounce(ownerId, until);
    await this.#do('announceWorker', async () => {
      await this.#rows(
        this.#pool,
        `INSERT INTO ${this.#t('workers')} (owner_id, until) VALUES ($1, $2)
         ON CONFLICT (owner_id) DO UPDATE SET until = EXCLUDED.until`,
        [checked.ownerId, checked.until],
      );
    });
  }

  async withdrawWorker(ownerId: string): Promise<void> {
    checkOwnerId(ownerId, 'ownerId');
    await this.#do('withdrawWorker', async () => {
      await this.#rows(this.#pool, `DELETE FROM ${this.#t('workers')} WHERE owner_id = $1`, [ownerId]);
    });
  }

  async countWorkers(now: string): Promise<number> {
    const at = checkTime(now, 'now');
    return this.#do('countWorkers', async () => {
      // The workers that ran out (killed without withdrawing) go here: the table holds the live ones.
      const row = await this.#row(
        this.#pool,
        `WITH gone AS (DELETE FROM ${this.#t('workers')} WHERE until < $1)
         SELECT count(*)::int AS n FROM ${this.#t('workers')} WHERE until >= $1`,
        [at],
      );
      return (row?.n as number | undefined) ?? 0;
    });
  }

  // ── tests ────────────────────────────────────────────────────────────────────────────────────────

  async insertTest(test: WorkflowTest): Promise<void> {
    await this.#do('insertTest', async () => {
      const inserted = await this.#count(
        this.#pool,
        `INSERT INTO ${this.#t('tests')} (id, workflow_id, created_at, body) VALUES ($1, $2, $3, $4) ON CONFLICT (id) DO NOTHING`,
        [test.id, test.workflow_id, test.created_at, JSON.stringify(test)],
      );
      if (inserted === 0)
        throw new WeftError(ERROR_CODES.CONFLICT, `A test with id "${test.id}" already exists.`);
    });
  }

  async getTest(id: string): Promise<WorkflowTest | null> {
    return this.#do('getTest', async () => {
      const row = await this.#row(this.#pool, `SELECT body FROM ${this.#t('tests')} WHERE id = $1`, [id]);
      return row === undefined ? null : (JSON.parse(row.body as string) as WorkflowTest);
    });
  }

  async updateTest(id: string, patch: TestPatch): Promise<WorkflowTest | null> {
    return this.#transaction('updateTest', async (client) => {
      const row = await this.#row(client, `SELECT body FROM ${this.#t('tests')} WHERE id = $1 FOR UPDATE`, [
        id,
      ]);
      if (row === undefined) return null;
      const body = JSON.stringify({ ...(JSON.parse(row.body as string) as WorkflowTest), ...patch });
      await this.#rows(client, `UPDATE ${this.#t('tests')} SET body = $1 WHERE id = $2`, [body, id]);
      return JSON.parse(body) as WorkflowTest;
    });
  }

  async deleteTest(id: string): Promise<boolean> {
    return this.#do(
      'deleteTest',
      async () => (await this.#count(this.#pool, `DELETE FROM ${this.#t('tests')} WHERE id = $1`, [id])) > 0,
    );
  }

  async listTests(query: TestQuery): Promise<Page<WorkflowTest>> {
    const limit = pageLimit(query);
    return this.#do('listTests', async () => {
      const params = new Params();
      const where = [`workflow_id = ${params.add(query.workflow_id)}`];
      return this.#newestFirst<WorkflowTest>('tests', where, params, query.cursor, limit);
    });
  }

  // ── the expectation library ──────────────────────────────────────────────────────────────────────

  async insertExpectation(expectation: WorkflowExpectation): Promise<void> {
    await this.#do('insertExpectation', async () => {
      const inserted = await this.#count(
        this.#pool,
        `INSERT INTO ${this.#t('expectations')} (id, workflow_id, created_at, name_lower, body) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (id) DO NOTHING`,
        [
          expectation.id,
          expectation.workflow_id,
          expectation.created_at,
          expectation.name.toLowerCase(),
          JSON.stringify(expectation),
        ],
      );
      if (inserted === 0) {
        throw new WeftError(
          ERROR_CODES.CONFLICT,
          `An expectation with id "${expectation.id}" already exists.`,
        );
      }
    });
  }

  async getExpectation(id: string): Promise<WorkflowExpectation | null> {
    return this.#do('getExpectation', async () => {
      const row = await this.#row(this.#pool, `SELECT body FROM ${this.#t('expectations')} WHERE id = $1`, [
        id,
      ]);
      return row === undefined ? null : (JSON.parse(row.body as string) as WorkflowExpectation);
    });
  }

  async updateExpectation(id: string, patch: ExpectationPatch): Promise<WorkflowExpectation | null> {
    return this.#transaction('updateExpectation', async (client) => {
      const row = await this.#row(
        client,
        `SELECT body FROM ${this.#t('expectations')} WHERE id = $1 FOR UPDATE`,
        [id],
      );
      if (row === undefined) return null;
      const next = { ...(JSON.parse(row.body as string) as WorkflowExpectation), ...patch };
      await this.#rows(
        client,
        `UPDATE ${this.#t('expectations')} SET name_lower = $1, body = $2 WHERE id = $3`,
        [next.name.toLowerCase(), JSON.stringify(next), id],
      );
      return next;
    });
  }

  async deleteExpectation(id: string): Promise<boolean> {
    return this.#do(
      'deleteExpectation',
      async () =>
        (await this.#count(this.#pool, `DELETE FROM ${this.#t('expectations')} WHERE id = $1`, [id])) > 0,
    );
  }

  async listExpectations(query: ExpectationQuery): Promise<Page<WorkflowExpectation>> {
    const limit = pageLimit(query);
    return this.#do('listExpectations', async () => {
      const params = new Params();
      const where = [`workflow_id = ${params.add(query.workflow_id)}`];
      if (query.search !== undefined && query.search !== '') {
        // strpos, not LIKE: no wildcard in the search text has a meaning.
        where.push(`strpos(name_lower, ${params.add(query.search.toLowerCase())}) > 0`);
      }
      return this.#newestFirst<WorkflowExpectation>('expectations', where, params, query.cursor, limit);
    });
  }

  async countExpectations(workflowId: string): Promise<number> {
    return this.#do('countExpectations', async () => {
      const row = await this.#row(
        this.#pool,
        `SELECT count(*) AS n FROM ${this.#t('expectations')} WHERE workflow_id = $1`,
        [workflowId],
      );
      return Number(row?.n ?? 0);
    });
  }

  // ── variables ────────────────────────────────────────────────────────────────────────────────────

  async setVariable(appId: string, variable: AppVariable): Promise<void> {
    await this.#do('setVariable', async () => {
      await this.#rows(
        this.#pool,
        `INSERT INTO ${this.#t('variables')} (app_id, key, body) VALUES ($1, $2, $3)
         ON CONFLICT (app_id, key) DO UPDATE SET body = excluded.body`,
        [appId, variable.key, JSON.stringify(variable)],
      );
    });
  }

  async listVariables(appId: string): Promise<AppVariable[]> {
    return this.#do('listVariables', async () =>
      (
        await this.#rows(
          this.#pool,
          `SELECT body FROM ${this.#t('variables')} WHERE app_id = $1 ORDER BY key`,
          [appId],
        )
      ).map((row) => JSON.parse(row.body as string) as AppVariable),
    );
  }

  async deleteVariable(appId: string, key: string): Promise<boolean> {
    return this.#do(
      'deleteVariable',
      async () =>
        (await this.#count(this.#pool, `DELETE FROM ${this.#t('variables')} WHERE app_id = $1 AND key = $2`, [
          appId,
          key,
        ])) > 0,
    );
  }

  // ── API keys (hashes only) ───────────────────────────────────────────────────────────────────────

  async insertApiKey(key: ApiKeyRecord): Promise<void> {
    await this.#do('insertApiKey', async () => {
      // No conflict target: an existing id or hash makes the insert a no-op.
      const inserted = await this.#count(
        this.#pool,
        `INSERT INTO ${this.#t('api_keys')} (id, app_id, hash, body) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING`,
        [key.id, key.app_id, key.hash, JSON.stringify(key)],
      );
      if (inserted === 0) {
        throw new WeftError(
          ERROR_CODES.CONFLICT,
          `An API key with id "${key.id}" (or the same hash) already exists.`,
        );
      }
    });
  }

  async getApiKeyByHash(hash: string): Promise<ApiKeyRecord | null> {
    return this.#do('getApiKeyByHash', async () => {
      const row = await this.#row(this.#pool, `SELECT body FROM ${this.#t('api_keys')} WHERE hash = $1`, [
        hash,
      ]);
      return row === undefined ? null : (JSON.parse(row.body as string) as ApiKeyRecord);
    });
  }

  async listApiKeys(appId: string): Promise<ApiKeyRecord[]> {
    return this.#do('listApiKeys', async () =>
      (
        await this.#rows(
          this.#pool,
          `SELECT body FROM ${this.#t('api_keys')} WHERE app_id = $1 ORDER BY seq`,
          [appId],
        )
      ).map((row) => JSON.parse(row.body as string) as ApiKeyRecord),
    );
  }

  async deleteApiKey(id: string): Promise<boolean> {
    return this.#do(
      'deleteApiKey',
      async () =>
        (await this.#count(this.#pool, `DELETE FROM ${this.#t('api_keys')} WHERE id = $1`, [id])) > 0,
    );
  }
}

/**
 * A `WeftStore` on PostgreSQL:
 * `createWeft({ store: postgresStore({ connectionString: process.env.DATABASE_URL }) })`.
 */
export function postgresStore(options: PostgresStoreOptions): PostgresStore {
  return new PostgresStore(options);
}
