/**
 * What is particular to the PostgreSQL store: options, migrations (fresh, again, at once, too new, custom
 * schema), claims from several connections, group commit atomicity, lock order, notices across
 * connections and after the listening connection drops, and connection loss.
 */
import { isWeftError } from '@weft/core';
import type { JournalEntry, RunRow } from '@weft/core/store';

/** An entry as a store sees it: opaque beyond its bookkeeping fields. */
const raw = (e: Record<string, unknown>) => e as unknown as JournalEntry;

import { at, codeOf, runFixture, stepFixture, workflowFixture } from '@weft/testing/store-contract';
import pg from 'pg';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MIGRATIONS, migrate, SCHEMA_VERSION, schemaVersion } from './migrations.js';
import { PostgresStore, postgresStore } from './postgres-store.js';
import {
  adminPool,
  closeAndDrop,
  describeWithPostgres,
  dropSchema,
  freshSchema,
  postgresUrl,
  testStore,
} from './test-support/db.js';

const live = (id: string): RunRow =>
  runFixture(id, 'a', 1, { status: 'RUNNING', ended_at: null, result: null });

async function errorOf(
  work: () => unknown,
): Promise<{ code: string; message: string; details: any; retryable: boolean }> {
  try {
    await work();
  } catch (error) {
    if (isWeftError(error)) {
      return { code: error.code, message: error.message, details: error.details, retryable: error.retryable };
    }
    throw error;
  }
  throw new Error('expected an error');
}

async function until(check: () => boolean | Promise<boolean>, what: string, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('options (no server needed)', () => {
  it('refuses bad options with INVALID_ARGUMENT naming the option, never quoting a connection string', async () => {
    const url = 'postgres://weft:s3cret@127.0.0.1:1/db';
    const pool = new pg.Pool({ connectionString: url });
    for (const [options, parameter] of [
      [null, 'options'],
      [{}, 'options'],
      [{ connectionString: url, pool }, 'options'],
      [{ connectionString: 'mysql://weft:s3cret@h/db' }, 'connectionString'],
      [{ connectionString: url, schema: 'Weft' }, 'schema'],
      [{ connectionString: url, schema: 'a-b' }, 'schema'],
      [{ connectionString: url, schema: 'pg_catalog' }, 'schema'],
      [{ connectionString: url, schema: 'x'.repeat(64) }, 'schema'],
      [{ connectionString: url, max: 0 }, 'max'],
      [{ connectionString: url, statementTimeoutMs: -1 }, 'statementTimeoutMs'],
      [{ pool, max: 3 }, 'max'],
      [{ pool: {} }, 'pool'],
    ] as const) {
      const error = await errorOf(() => new PostgresStore(options as never));
      expect(error.code).toBe('INVALID_ARGUMENT');
      expect(error.details).toMatchObject({ parameter });
      expect(error.message).not.toContain('s3cret');
    }
    await pool.end();
  });

  it('a server that cannot be reached: STORE_ERROR, retryable, with a hint and no password; the process lives on', async () => {
    const store = postgresStore({
      connectionString: 'postgres://weft:s3cret@127.0.0.1:1/db',
      schema: 'nowhere',
      connectionTimeoutMs: 2000,
    });
    const error = await errorOf(() => store.getRun('r'));
    expect(error).toMatchObject({
      code: 'STORE_ERROR',
      retryable: true,
      details: { schema: 'nowhere', operation: 'open' },
    });
    expect(error.details.cause).toBe('ECONNREFUSED');
    expect(error.message).toMatch(/Is PostgreSQL running/);
    expect(error.message).not.toContain('s3cret');
    // Tried again on the next call (the server may have come up meanwhile), failing the same way.
    expect((await errorOf(() => store.ready())).code).toBe('STORE_ERROR');
    await store.close();
    const closed = await errorOf(() => store.getRun('r'));
    expect(closed).toMatchObject({ code: 'STORE_ERROR', details: { cause: 'CLOSED' } });
  });
});

describeWithPostgres('PostgreSQL', () => {
  describe('migrations', () => {
    it('a fresh schema: every migration recorded once; opening again applies nothing', async () => {
      const schema = freshSchema();
      const first = new PostgresStore({
        connectionString: postgresUrl!,
        schema,
        now: () => Date.UTC(2024, 0, 1),
      });
      await first.ready();
      await first.close();
      const rows = await adminPool().query(
        `SELECT version, name, applied_at FROM "${schema}".schema_version`,
      );
      expect(rows.rows).toEqual(
        MIGRATIONS.map((m) => ({ version: m.version, name: m.name, applied_at: '2024-01-01T00:00:00.000Z' })),
      );
      const client = await adminPool().connect();
      try {
        expect(await schemaVersion(client, schema)).toBe(SCHEMA_VERSION);
        expect(await migrate(client, schema, at(0))).toEqual([]);
        // A newer migration applies on open, once.
        const next = [
          ...MIGRATIONS,
          {
            version: SCHEMA_VERSION + 1,
            name: 'a column',
            sql: (s: string) => `ALTER TABLE ${s}.runs ADD COLUMN extra text`,
          },
        ];
        expect(await migrate(client, schema, at(0), next)).toEqual([SCHEMA_VERSION + 1]);
        expect(await migrate(client, schema, at(0), next)).toEqual([]);
        // A failing one rolls back whole.
        const broken = [
          ...next,
          { version: SCHEMA_VERSION + 2, name: 'broken', sql: () => 'CREATE TABLE x (; nonsense' },
        ];
        await expect(migrate(client, schema, at(0), broken)).rejects.toThrow();
        expect(await schemaVersion(client, schema)).toBe(SCHEMA_VERSION + 1);
      } finally {
        client.release();
      }
    });

    it('a version-1 schema (before the expectation library) migrates forward, keeping its rows', async () => {
      const schema = freshSchema();
      const client = await adminPool().connect();
      try {
        expect(await migrate(client, schema, at(0), MIGRATIONS.slice(0, 1))).toEqual([1]);
        await client.query(
          `INSERT INTO "${schema}".workflows (id, app_id, created_at, archived, discover, body) VALUES ($1, $2, $3, false, false, $4)`,
          ['w', 'a', at(1), JSON.stringify(workflowFixture('w', 'a', 1))],
        );
      } finally {
        client.release();
      }
      const store = testStore(schema);
      expect((await store.getWorkflow('w'))?.id).toBe('w');
      await store.insertExpectation({
        id: 'e',
        app_id: 'a',
        workflow_id: 'w',
        name: 'Total',
        script: 'result = 1',
        created_at: at(1),
        updated_at: at(1),
      });
      expect(
        (await store.listExpectations({ workflow_id: 'w', search: 'TOT' })).data.map((e) => e.id),
      ).toEqual(['e']);
      const rows = await adminPool().query(`SELECT version FROM "${schema}".schema_version ORDER BY version`);
      expect(rows.rows.map((r) => r.version)).toEqual(MIGRATIONS.map((m) => m.version));
      await store.close();
    });

    it('a version-3 schema (a row per journal entry and per step record) migrates to rows per append, keeping everything', async () => {
      const schema = freshSchema();
      const client = await adminPool().connect();
      const entries = [
        { seq: 1, type: 'run.started', at: at(1), input: { a: 'x"y\\z', n: [1, 2] } },
        { seq: 2, type: 'step.started', at: at(2), key: 's', iteration: 0, attempt: 1 },
        { seq: 3, type: 'weird "type" \\ é', at: at(3), text: 'line\nbreak \u2028 \ud83d\ude00' },
      ];
      try {
        expect(await migrate(client, schema, at(0), MIGRATIONS.slice(0, 3))).toEqual([1, 2, 3]);
        await client.query(
          `INSERT INTO "${schema}".runs (id, status, origin, created_at, updated_at, owner_id, lease_until, journal_seq)
           VALUES ('r', 'RUNNING', 'API', $1, $1, 'p1', $2, 3)`,
          [at(0), at(100)],
        );
        // Step records: b saved first, then a; b upserted later keeps its place.
        for (const [key, record] of [
          ['b', stepFixture('b')],
          ['a', stepFixture('a')],
        ] as const) {
          await client.query(`INSERT INTO "${schema}".steps (run_id, key, body) VALUES ('r', $1, $2)`, [
            key,
            JSON.stringify(record),
          ]);
        }
        for (const { seq, type, at: time, ...data } of entries) {
          await client.query(
            `INSERT INTO "${schema}".journal (run_id, seq, type, at, data) VALUES ('r', $1, $2, $3, $4)`,
            [seq, type, time, JSON.stringify(data)],
          );
        }
      } finally {
        client.release();
      }
      const store = testStore(schema);
      const loaded = await store.loadJournal('r');
      expect(loaded).toEqual(entries.map((e) => ({ run_id: 'r', ...e })));
      expect(await store.loadJournal('r', { after_seq: 1, limit: 1 })).toEqual([loaded[1]]);
      // Appends go on from seq 4, in the new table.
      await store.appendJournal('r', {
        owner_id: 'p1',
        now: at(5),
        entries: [raw({ seq: 4, type: 'x', at: at(5) }), raw({ seq: 5, type: 'y', at: at(5) })],
      });
      expect((await store.loadJournal('r', { after_seq: 2 })).map((e) => e.seq)).toEqual([3, 4, 5]);
      const records = (await store.getStepResults(['r'])).get('r')!;
      expect(Object.keys(records)).toEqual(['b', 'a']);
      expect(records).toEqual({ b: stepFixture('b'), a: stepFixture('a') });
      // A record saved again keeps its place and takes the new value; a new key goes last.
      await store.appendJournal('r', {
        owner_id: 'p1',
        now: at(6),
        entries: [raw({ seq: 6, type: 'z', at: at(6) })],
        steps: { c: stepFixture('c'), b: stepFixture('b', { status: 'FAILED' }) },
      });
      const after = (await store.getStepResults(['r'])).get('r')!;
      expect(Object.keys(after)).toEqual(['b', 'a', 'c']);
      expect(after.b!.status).toBe('FAILED');
      const tables = await adminPool().query(
        `SELECT tablename FROM pg_catalog.pg_tables WHERE schemaname = $1 AND tablename LIKE 'journal%'`,
        [schema],
      );
      expect(tables.rows.map((r) => r.tablename)).toEqual(['journal_batches']);
      const steps = await adminPool().query(
        `SELECT tablename FROM pg_catalog.pg_tables WHERE schemaname = $1 AND tablename LIKE 'step%' ORDER BY 1`,
        [schema],
      );
      expect(steps.rows.map((r) => r.tablename)).toEqual(['step_batches']);
      await store.close();
    });

    it('a version-4 schema (leases in the run rows) with live and ended runs migrates: live runs are claimed and finish, ended ones read back unchanged', async () => {
      const schema = freshSchema();
      const client = await adminPool().connect();
      const s = `"${schema}"`;
      const retention = JSON.stringify({ max_age_in_seconds: 60, preserve_on_failure: true });
      try {
        expect(await migrate(client, schema, at(0), MIGRATIONS.slice(0, 4))).toEqual([1, 2, 3, 4]);
        // Live: owned with a lease in the future, owned with a lease run out, unowned (PENDING). Ended: a
        // COMPLETED run due for purging, a FAILED one its retention preserves.
        const runs: Array<
          [string, string, string | null, string | null, number, string | null, string | null]
        > = [
          ['owned', 'RUNNING', 'p1', at(100), 2, null, null],
          ['expired', 'RUNNING', 'gone', at(5), 1, null, null],
          ['free', 'PENDING', null, null, 0, null, null],
          ['done', 'COMPLETED', null, null, 2, at(70), '{"n":1}'],
          ['kept', 'FAILED', null, null, 2, at(70), null],
        ];
        for (const [id, status, owner, lease, seq, due, result] of runs) {
          await client.query(
            `INSERT INTO ${s}.runs (id, status, origin, app_id, created_at, updated_at, owner_id, lease_until, journal_seq,
               retention, retention_due_at, preserve, result)
             VALUES ($1, $2, 'API', 'a', $3, $3, $4, $5, $6, $7, $8, $9, $10)`,
            [id, status, at(0), owner, lease, seq, retention, due, status === 'FAILED', result],
          );
          if (seq > 0) {
            await client.query(
              `INSERT INTO ${s}.journal_batches (run_id, last_seq, first_seq, entries) VALUES ($1, $2, 1, $3)`,
              [id, seq, JSON.stringify(Array.from({ length: seq }, (_, i) => [`t${i + 1}`, at(i + 1), {}]))],
            );
          }
        }
      } finally {
        client.release();
      }
      const store = testStore(schema);
      const before = await store.getRun('done');
      expect(await store.getLease('owned')).toEqual({
        run_id: 'owned',
        status: 'RUNNING',
        owner_id: 'p1',
        lease_until: at(100),
        journal_seq: 2,
      });
      expect(await store.getLease('done')).toEqual({
        run_id: 'done',
        status: 'COMPLETED',
        owner_id: null,
        lease_until: null,
        journal_seq: 2,
      });
      expect((await store.listRecoverableRuns(at(10), 10)).map((l) => l.run_id)).toEqual(['free', 'expired']);
      const claimed = await store.claimRuns({ owner_id: 'w', lease_until: at(200), now: at(10) }, 10);
      expect(claimed.map((l) => [l.run_id, l.journal_seq])).toEqual([
        ['free', 0],
        ['expired', 1],
      ]);
      // The old owner of a lease that ran out is refused; each owner finishes its runs.
      const end = (seq: number) => ({
        entries: [raw({ seq, type: 'run.ended', at: at(20) })],
        run: { status: 'COMPLETED' as const, ended_at: at(20), updated_at: at(20) },
      });
      expect(await codeOf(store.appendJournal('expired', { owner_id: 'gone', now: at(20), ...end(2) }))).toBe(
        'LEASE_LOST',
      );
      const outcomes = await store.appendJournals([
        { run_id: 'expired', batch: { owner_id: 'w', now: at(20), ...end(2) } },
        { run_id: 'free', batch: { owner_id: 'w', now: at(20), ...end(1) } },
        { run_id: 'owned', batch: { owner_id: 'p1', now: at(20), ...end(3) } },
      ]);
      expect(outcomes.map((o) => o.ok && o.lease)).toEqual([
        { run_id: 'expired', status: 'COMPLETED', owner_id: null, lease_until: null, journal_seq: 2 },
        { run_id: 'free', status: 'COMPLETED', owner_id: null, lease_until: null, journal_seq: 1 },
        { run_id: 'owned', status: 'COMPLETED', owner_id: null, lease_until: null, journal_seq: 3 },
      ]);
      expect((await store.loadJournal('owned')).map((e) => [e.seq, e.type])).toEqual([
        [1, 't1'],
        [2, 't2'],
        [3, 'run.ended'],
      ]);
      expect(await store.listRecoverableRuns(at(1000), 10)).toEqual([]);
      // Ended runs read back unchanged; retention still purges the COMPLETED one, not the preserved FAILED one.
      expect(await store.getRun('done')).toEqual(before);
      expect(before).toMatchObject({ status: 'COMPLETED', result: { n: 1 }, retention_due_at: at(70) });
      expect((await store.listRunsDue(at(1000), 10)).map((r) => r.id)).toEqual(['done']);
      const leases = await adminPool().query(`SELECT count(*)::int AS n FROM "${schema}".run_leases`);
      expect(leases.rows[0].n).toBe(0);
      await store.close();
      await dropSchema(schema);
    });

    it('pages of a journal written in batches of several entries: every (after_seq, limit) is the same slice', async () => {
      const store = testStore();
      await store.insertRun(live('r'), { owner_id: 'p1', lease_until: at(100) });
      let seq = 0;
      const all: number[] = [];
      for (const size of [3, 1, 5, 2, 1]) {
        const batch = Array.from({ length: size }, () => raw({ seq: ++seq, type: 't', at: at(1), n: seq }));
        all.push(...batch.map((e) => e.seq));
        await store.appendJournal('r', { owner_id: 'p1', now: at(1), entries: batch });
      }
      const full = await store.loadJournal('r');
      expect(full.map((e) => e.seq)).toEqual(all);
      expect(full.map((e) => (e as unknown as { n: number }).n)).toEqual(all);
      for (let after = 0; after <= seq + 1; after++) {
        for (let limit = 1; limit <= seq + 1; limit++) {
          const page = await store.loadJournal('r', { after_seq: after, limit });
          expect(
            page.map((e) => e.seq),
            `after ${after}, limit ${limit}`,
          ).toEqual(all.filter((s) => s > after).slice(0, limit));
        }
      }
      await closeAndDrop(store);
    });

    it('several processes opening a new schema at once migrate it once (advisory lock)', async () => {
      const schema = freshSchema();
      const stores = Array.from({ length: 5 }, () => testStore(schema, { max: 2 }));
      await Promise.all(stores.map((s) => s.ready()));
      const rows = await adminPool().query(`SELECT version FROM "${schema}".schema_version`);
      expect(rows.rows.map((r) => r.version)).toEqual(MIGRATIONS.map((m) => m.version));
      // All of them work on the one schema.
      await stores[0]!.insertWorkflow(workflowFixture('w', 'a', 1));
      for (const store of stores) expect((await store.getWorkflow('w'))!.id).toBe('w');
      await Promise.all(stores.map((s) => s.close()));
    });

    it('refuses a schema written by a newer Weft with STORE_SCHEMA_TOO_NEW, changing nothing', async () => {
      const schema = freshSchema();
      const store = testStore(schema);
      await store.insertWorkflow(workflowFixture('w', 'a', 1));
      await store.close();
      await adminPool().query(
        `INSERT INTO "${schema}".schema_version VALUES ($1, 'from the future', '2099-01-01')`,
        [SCHEMA_VERSION + 5],
      );
      const newer = testStore(schema);
      const error = await errorOf(() => newer.getWorkflow('w'));
      expect(error).toMatchObject({
        code: 'STORE_SCHEMA_TOO_NEW',
        retryable: false,
        details: { schema, schema_version: SCHEMA_VERSION + 5, supported: SCHEMA_VERSION },
      });
      expect(error.message).toMatch(/newer Weft .*Upgrade Weft/);
      // The refusal sticks (no reconnect storm) and the schema is untouched.
      expect((await errorOf(() => newer.ready())).code).toBe('STORE_SCHEMA_TOO_NEW');
      await newer.close();
      const client = await adminPool().connect();
      expect(await schemaVersion(client, schema)).toBe(SCHEMA_VERSION + 5);
      client.release();
    });

    it('refuses a schema holding another application’s tables, touching nothing', async () => {
      const schema = freshSchema();
      await adminPool().query(`CREATE SCHEMA "${schema}"; CREATE TABLE "${schema}".customers (id int)`);
      const store = testStore(schema);
      const error = await errorOf(() => store.ready());
      expect(error.code).toBe('STORE_ERROR');
      expect(error.message).toMatch(/another application .*"customers"/);
      await store.close();
      const tables = await adminPool().query('SELECT tablename FROM pg_tables WHERE schemaname = $1', [
        schema,
      ]);
      expect(tables.rows).toEqual([{ tablename: 'customers' }]);
    });

    it('schemas are separate stores in one database (custom schema names)', async () => {
      const a = testStore(freshSchema('alpha'));
      const b = testStore(freshSchema('beta'));
      await a.insertRun(live('r'));
      expect(await b.getRun('r')).toBeNull();
      await b.insertRun(live('r'));
      expect(a.schema).not.toBe(b.schema);
      await Promise.all([a.close(), b.close()]);
    });
  });

  describe('several connections', () => {
    let stores: PostgresStore[] = [];
    let schema: string;
    beforeEach(() => {
      schema = freshSchema();
      // Three stores with their own pools: to the database, three processes.
      stores = [0, 1, 2].map(() => testStore(schema, { max: 4 }));
    });
    afterEach(async () => {
      await Promise.all(stores.map((s) => s.close()));
      await dropSchema(schema);
    });

    it('claimRunsWithRows claims what claimRuns would, in order, with each row as getRun then reads it', async () => {
      const [a, b] = stores as [PostgresStore, PostgresStore];
      await a.insertRun(live('r1'), { owner_id: 'gone', lease_until: at(5) });
      await a.insertRun(live('r2'));
      await a.insertRun(live('r3'), { owner_id: 'alive', lease_until: at(500) });
      await a.insertRun(live('r4'));
      await a.insertRun(runFixture('r5', 'a', 1));
      const order = (await a.listRecoverableRuns(at(10), 10)).map((l) => l.run_id);
      expect(order).toEqual(['r2', 'r4', 'r1']);
      const claim = { owner_id: 'w', lease_until: at(60), now: at(10) };
      const first = await b.claimRunsWithRows(claim, 2);
      expect(first.map((c) => c.lease)).toEqual([
        { run_id: 'r2', status: 'RUNNING', owner_id: 'w', lease_until: at(60), journal_seq: 0 },
        { run_id: 'r4', status: 'RUNNING', owner_id: 'w', lease_until: at(60), journal_seq: 0 },
      ]);
      for (const { lease, row } of first) expect(row).toEqual(await a.getRun(lease.run_id));
      // And the same store's claimRuns takes the rest, as it would have.
      expect((await b.claimRuns(claim, 5)).map((l) => l.run_id)).toEqual(['r1']);
      expect(await b.claimRunsWithRows(claim, 5)).toEqual([]);
    });

    it('claimRun races: every run claimed by exactly one of three', async () => {
      const runs = 60;
      for (let i = 0; i < runs; i++) await stores[0]!.insertRun(live(`r${i}`));
      const claimed = await Promise.all(
        stores.map(async (store, w) => {
          const mine: string[] = [];
          await Promise.all(
            Array.from({ length: runs }, async (_, i) => {
              const result = await store.claimRun(`r${i}`, {
                owner_id: `w${w}`,
                lease_until: at(60),
                now: at(0),
              });
              if (result.claimed) mine.push(`r${i}`);
            }),
          );
          return mine;
        }),
      );
      expect(claimed.flat().sort()).toEqual(Array.from({ length: runs }, (_, i) => `r${i}`).sort());
      for (const [w, mine] of claimed.entries()) {
        for (const id of mine) expect((await stores[0]!.getLease(id))!.owner_id).toBe(`w${w}`);
      }
    });

    it('claimRuns (FOR UPDATE SKIP LOCKED) from three connections: disjoint, and together all of them', async () => {
      const runs = 200;
      for (let i = 0; i < runs; i += 50) {
        await stores[0]!.appendJournals(
          Array.from({ length: 50 }, (_, k) => ({
            run_id: `q${i + k}`,
            insert: live(`q${i + k}`),
            batch: { owner_id: 'starter', now: at(0), lease_until: at(1), entries: [] },
          })),
        );
      }
      // Each worker claims batches of 7 until nothing is left, all at once.
      const claimed = await Promise.all(
        stores.map(async (store, w) => {
          const mine: string[] = [];
          for (;;) {
            const leases = await store.claimRuns({ owner_id: `w${w}`, lease_until: at(100), now: at(2) }, 7);
            if (leases.length === 0 && (await store.listRecoverableRuns(at(2), 1)).length === 0) return mine;
            mine.push(...leases.map((l) => l.run_id));
          }
        }),
      );
      const all = claimed.flat();
      expect(new Set(all).size).toBe(all.length);
      expect(all.length).toBe(runs);
      for (const [w, mine] of claimed.entries()) {
        for (const id of mine.slice(0, 5)) expect((await stores[1]!.getLease(id))!.owner_id).toBe(`w${w}`);
      }
    });

    it('groups that touch the same runs in opposite orders, with heartbeats, never deadlock', async () => {
      const ids = ['a', 'b', 'c', 'd'];
      for (const id of ids) await stores[0]!.insertRun(live(id), { owner_id: 'p1', lease_until: at(1000) });
      const seq = new Map(ids.map((id) => [id, 0]));
      for (let round = 0; round < 15; round++) {
        const group = (order: string[]) =>
          order.map((id) => ({
            run_id: id,
            batch: {
              owner_id: 'p1',
              now: at(1),
              entries: [raw({ seq: seq.get(id)! + 1, type: 'x', at: at(1) })],
            },
          }));
        const [one, two] = await Promise.all([
          stores[0]!.appendJournals(group(ids)),
          stores[1]!.appendJournals(group([...ids].reverse())),
          stores[2]!.renewLeases('p1', at(1000 + round)),
        ]);
        // Each run took the entry from exactly one of the two groups; the other saw JOURNAL_CONFLICT.
        for (const [i, id] of ids.entries()) {
          const outcomes = [one![i]!, two![ids.length - 1 - i]!];
          expect(outcomes.filter((o) => o.ok)).toHaveLength(1);
          const failed = outcomes.find((o) => !o.ok);
          expect(failed && !failed.ok && failed.error.code).toBe('JOURNAL_CONFLICT');
          seq.set(id, seq.get(id)! + 1);
        }
      }
      for (const id of ids) expect((await stores[2]!.loadJournal(id)).map((e) => e.seq)).toHaveLength(15);
    });
  });

  describe('SQL specifics', () => {
    let store: PostgresStore;
    beforeEach(() => {
      store = testStore();
    });
    afterEach(() => closeAndDrop(store));

    it('a group commit is one transaction: a database failure in it writes nothing of any append', async () => {
      await store.insertRun(live('a'), { owner_id: 'p1', lease_until: at(100) });
      await store.insertRun(live('b'), { owner_id: 'p1', lease_until: at(100) });
      // A trigger that fails the database write of an entry of type "boom".
      await adminPool().query(`
        CREATE FUNCTION "${store.schema}".boom() RETURNS trigger LANGUAGE plpgsql AS $$
        -- A short batch's packed value is its UTF-8 after one format byte (packed.ts).
        BEGIN IF encode(NEW.packed, 'escape') LIKE '%"boom"%' THEN RAISE EXCEPTION 'boom'; END IF; RETURN NEW; END $$;
        CREATE TRIGGER boom BEFORE INSERT ON "${store.schema}".journal_batches FOR EACH ROW EXECUTE FUNCTION "${store.schema}".boom();
      `);
      const error = await errorOf(() =>
        store.appendJournals([
          {
            run_id: 'a',
            batch: {
              owner_id: 'p1',
              now: at(1),
              entries: [raw({ seq: 1, type: 'ok', at: at(1) })],
              steps: { s: stepFixture('s') },
            },
          },
          {
            run_id: 'b',
            batch: { owner_id: 'p1', now: at(1), entries: [raw({ seq: 1, type: 'boom', at: at(1) })] },
          },
          {
            run_id: 'c',
            insert: live('c'),
            batch: { owner_id: 'p1', now: at(1), lease_until: at(9), entries: [] },
          },
        ]),
      );
      expect(error).toMatchObject({
        code: 'STORE_ERROR',
        details: { operation: 'appendJournals', cause: 'P0001' },
      });
      expect(await store.loadJournal('a')).toEqual([]);
      expect((await store.getStepResults(['a'])).get('a')).toEqual({});
      expect(await store.getRun('c')).toBeNull();
      expect((await store.getLease('a'))!.journal_seq).toBe(0);
    });

    it('text PostgreSQL cannot store (NUL): INVALID_ARGUMENT for one append of a group, the others commit', async () => {
      await store.insertRun(live('a'), { owner_id: 'p1', lease_until: at(100) });
      const outcomes = await store.appendJournals([
        {
          run_id: 'a',
          batch: { owner_id: 'p1', now: at(1), entries: [raw({ seq: 1, type: 'bad\0type', at: at(1) })] },
        },
        {
          run_id: 'a',
          batch: {
            owner_id: 'p1',
            now: at(1),
            entries: [raw({ seq: 1, type: 'fine', at: at(1), note: 'nul \0 in JSON is fine' })],
          },
        },
      ]);
      expect(outcomes[0]).toMatchObject({
        ok: false,
        error: { code: 'INVALID_ARGUMENT', details: { parameter: 'appends[0].batch.entries[0].type' } },
      });
      expect(outcomes[1]!.ok).toBe(true);
      expect((await store.loadJournal('a'))[0] as unknown as { note: string }).toHaveProperty(
        'note',
        'nul \0 in JSON is fine',
      );
      // Outside a group, the database refuses it: STORE_ERROR naming the cause, nothing written.
      const error = await errorOf(() => store.insertRun(live('x\0y')));
      expect(error).toMatchObject({ code: 'STORE_ERROR', retryable: false });
      expect(error.message).toMatch(/NUL/);
    });

    it('refuses an unknown run field in a patch before writing anything', async () => {
      await store.insertRun(live('r'));
      const error = await errorOf(() => store.updateRun('r', { status: 'FAILED', bogus: 1 } as never));
      expect(error).toMatchObject({ code: 'INVALID_ARGUMENT', details: { parameter: 'patch.bogus' } });
      expect((await store.getRun('r'))!.status).toBe('RUNNING');
    });

    it('a run has a lease row exactly while it is live, whichever write starts or ends it', async () => {
      const leaseRows = async () =>
        (
          await adminPool().query(
            `SELECT run_id, owner_id, lease_until, journal_seq FROM "${store.schema}".run_leases ORDER BY run_id`,
          )
        ).rows;
      await store.insertRun(live('a'), { owner_id: 'p1', lease_until: at(100) });
      await store.insertRun(live('b'));
      await store.insertRun(runFixture('c', 'a', 1));
      expect(await leaseRows()).toEqual([
        { run_id: 'a', owner_id: 'p1', lease_until: at(100), journal_seq: 0 },
        { run_id: 'b', owner_id: null, lease_until: null, journal_seq: 0 },
      ]);
      // An append moves journal_seq and the lease on; one that ends the run deletes the row.
      await store.appendJournal('a', {
        owner_id: 'p1',
        now: at(1),
        lease_until: at(150),
        entries: [raw({ seq: 1, type: 'x', at: at(1) })],
      });
      expect((await leaseRows())[0]).toEqual({
        run_id: 'a',
        owner_id: 'p1',
        lease_until: at(150),
        journal_seq: 1,
      });
      await store.appendJournal('a', {
        owner_id: 'p1',
        now: at(2),
        entries: [raw({ seq: 2, type: 'run.ended', at: at(2) })],
        run: { status: 'COMPLETED', ended_at: at(2) },
      });
      expect((await leaseRows()).map((r) => r.run_id)).toEqual(['b']);
      expect(await store.getLease('a')).toEqual({
        run_id: 'a',
        status: 'COMPLETED',
        owner_id: null,
        lease_until: null,
        journal_seq: 2,
      });
      // updateRun: a status that ends the run deletes it; a live status on an ended run gives it one, unowned.
      await store.claimRun('b', { owner_id: 'p2', lease_until: at(50), now: at(3) });
      expect((await store.updateRun('b', { status: 'CANCELLED' }, { status_in: ['RUNNING'] }))!.status).toBe(
        'CANCELLED',
      );
      expect(await leaseRows()).toEqual([]);
      expect(await store.renewLeases('p2', at(60))).toEqual([]);
      expect((await store.claimRun('b', { owner_id: 'p3', lease_until: at(50), now: at(4) })).claimed).toBe(
        false,
      );
      await store.updateRun('c', { status: 'PENDING' });
      expect(await leaseRows()).toEqual([{ run_id: 'c', owner_id: null, lease_until: null, journal_seq: 0 }]);
      expect(
        (await store.claimRuns({ owner_id: 'p3', lease_until: at(50), now: at(5) }, 5)).map((l) => l.run_id),
      ).toEqual(['c']);
      // A patch without a status leaves the lease alone.
      await store.updateRun('c', { updated_at: at(6) });
      expect(await store.getLease('c')).toMatchObject({ owner_id: 'p3', lease_until: at(50) });
    });

    it('uses the lease index for recovery and claims', async () => {
      await store.ready();
      const plan = await adminPool().query(
        `SET enable_seqscan = off; EXPLAIN SELECT run_id FROM "${store.schema}".run_leases
         WHERE owner_id IS NULL OR lease_until IS NULL OR lease_until < 'x'
         ORDER BY lease_until NULLS FIRST, run_id LIMIT 5`,
      );
      const text = (plan as unknown as pg.QueryResult[])[1]!.rows.map((r) => r['QUERY PLAN']).join('\n');
      expect(text).toMatch(/run_leases_by_until/);
    });

    it('with your own pool (never ended by the store): an append is one round trip, a group of them one statement', async () => {
      const pool = new pg.Pool({ connectionString: postgresUrl!, max: 2 });
      let queries = 0;
      // Every round trip goes through a client's query (pool.query included).
      pool.on('connect', (client) => {
        const original = client.query.bind(client) as (...args: unknown[]) => unknown;
        client.query = ((...args: unknown[]) => {
          queries++;
          return original(...args);
        }) as typeof client.query;
      });
      const mine = new PostgresStore({ pool, schema: store.schema });
      await mine.insertRun(live('r'), { owner_id: 'p1', lease_until: at(100) });
      const entry = (seq: number) => raw({ seq, type: 'x', at: at(1) });
      queries = 0;
      await mine.appendJournal('r', {
        owner_id: 'p1',
        now: at(1),
        entries: [entry(1)],
        steps: { s: stepFixture('s') },
      });
      expect(queries).toBe(1);
      queries = 0;
      const [started] = await mine.appendJournals([
        {
          run_id: 'n',
          insert: live('n'),
          batch: {
            owner_id: 'p1',
            now: at(1),
            lease_until: at(9),
            entries: [entry(1), entry(2)],
            steps: { s: stepFixture('s') },
          },
        },
      ]);
      expect(started!.ok).toBe(true);
      expect(queries).toBe(1);
      queries = 0;
      const group = await mine.appendJournals([
        { run_id: 'r', batch: { owner_id: 'p1', now: at(1), entries: [entry(2)] } },
        { run_id: 'n', batch: { owner_id: 'p1', now: at(1), entries: [entry(3)] } },
        {
          run_id: 'm',
          insert: live('m'),
          batch: { owner_id: 'p1', now: at(1), lease_until: at(9), entries: [entry(1)] },
        },
        // Refused (a wrong seq): found out after the statement, with one read.
        { run_id: 'x', batch: { owner_id: 'p1', now: at(1), entries: [entry(5)] } },
      ]);
      expect(group.map((o) => (o.ok ? 'OK' : o.error.code))).toEqual(['OK', 'OK', 'OK', 'NOT_FOUND']);
      // BEGIN, one statement for the appends to existing runs, one read for the refusal, one for the new
      // run, COMMIT.
      expect(queries).toBe(5);
      queries = 0;
      const twice = await mine.appendJournals([
        { run_id: 'r', batch: { owner_id: 'p1', now: at(1), entries: [entry(3)] } },
        { run_id: 'r', batch: { owner_id: 'p1', now: at(1), entries: [entry(4)] } },
        {
          run_id: 'n',
          batch: { owner_id: 'p1', now: at(1), entries: [entry(4)], run: { status: 'COMPLETED' } },
        },
      ]);
      expect(twice.every((o) => o.ok)).toBe(true);
      // A run's second append goes in the next statement (an UPDATE changes a row once). After COMMIT,
      // one statement sends the group's notices (run.ended for "n"), outside the transaction.
      expect(queries).toBe(5);
      expect((await mine.loadJournal('r')).map((e) => e.seq)).toEqual([1, 2, 3, 4]);
      expect((await mine.getLease('n'))!.status).toBe('COMPLETED');
      await mine.close();
      expect((await pool.query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
      await pool.end();
    });
  });

  describe('notices and connection loss', () => {
    let store: PostgresStore;
    beforeEach(() => {
      store = testStore();
    });
    afterEach(() => closeAndDrop(store));

    it('the listening connection is replaced after it drops; subscribers are told to rescan, then get notices again', async () => {
      const notices: Array<{ topic: string; run_id: string | null }> = [];
      const unsubscribe = store.subscribe('run.ended', (n) => notices.push(n));
      await until(() => notices.some((n) => n.run_id === null), 'listening');
      const backend = await listenerBackend(store.schema);
      await adminPool().query('SELECT pg_terminate_backend($1)', [backend]);
      await until(() => store.listener.connections >= 2, 'the listener to reconnect');
      await until(() => notices.filter((n) => n.run_id === null).length >= 2, 'the rescan notice');
      await store.insertRun(live('r'));
      await store.updateRun('r', { status: 'COMPLETED' });
      await until(() => notices.some((n) => n.run_id === 'r'), 'the run.ended notice');
      unsubscribe();
      await until(() => !store.listener.listening, 'the listening connection to be given back');
    });

    it('forged or malformed payloads on the channel are dropped', async () => {
      const notices: Array<{ topic: string; run_id: string | null }> = [];
      store.subscribe('run.cancel', (n) => notices.push(n));
      await until(() => notices.length > 0, 'listening');
      for (const payload of [
        'not json',
        '{"topic":"run.cancel"}',
        '{"topic":"x","run_id":"r"}',
        '[1]',
        '{"topic":"run.cancel","run_id":""}',
      ]) {
        await adminPool().query('SELECT pg_notify($1, $2)', [store.schema, payload]);
      }
      await store.notify('run.cancel', 'real');
      await until(() => notices.some((n) => n.run_id === 'real'), 'the real notice');
      expect(notices.filter((n) => n.run_id !== null).map((n) => n.run_id)).toEqual(['real']);
    });

    it('connections killed while the store closes: no crash (the pool still has its error listener)', async () => {
      const name = `weft-close-${process.pid}`;
      await store.close();
      store = testStore(undefined, { applicationName: name });
      for (let round = 0; round < 3; round++) {
        const mine = testStore(undefined, { applicationName: name });
        // Four idle connections in its pool.
        await Promise.all(Array.from({ length: 4 }, () => mine.getLease('nope')));
        const kill = adminPool().query(
          `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1`,
          [name],
        );
        await Promise.all([kill, mine.close()]);
        // Killed connections report their end after the pool ended: nothing may be left unhandled
        // (vitest fails the run on an uncaught error).
        await new Promise((resolve) => setTimeout(resolve, 100));
        expect(await codeOf(mine.getLease('nope'))).toBe('STORE_ERROR');
      }
    });

    it('pooled connections killed under it: calls fail STORE_ERROR (retryable) or succeed, never crash; then it recovers', async () => {
      // Connections of its own to kill: the other test files share the server and must not lose theirs.
      const name = `weft-kill-${process.pid}`;
      await store.close();
      store = testStore(undefined, { applicationName: name });
      await store.insertRun(live('r'), { owner_id: 'p1', lease_until: at(1000) });
      let seq = 0;
      const codes: string[] = [];
      for (let round = 0; round < 5; round++) {
        const appends = Array.from({ length: 5 }, () =>
          store
            .appendJournal('r', {
              owner_id: 'p1',
              now: at(1),
              entries: [raw({ seq: ++seq, type: 'x', at: at(1) })],
            })
            .then(
              () => 'OK',
              (e: unknown) =>
                isWeftError(e) ? `${e.code}${e.retryable ? ' retryable' : ''}` : `thrown ${String(e)}`,
            ),
        );
        await adminPool().query(
          `SELECT pg_terminate_backend(pid, 10000) FROM pg_stat_activity WHERE application_name = $1`,
          [name],
        );
        codes.push(...(await Promise.all(appends)));
        // Continue from where the journal really is (read aside: the store's next call may still take a
        // connection whose end it has not heard of yet, and fail STORE_ERROR — retryable, as checked above).
        const { rows } = await adminPool().query(
          `SELECT journal_seq FROM "${store.schema}".runs WHERE id = 'r'`,
        );
        seq = rows[0].journal_seq;
      }
      for (const code of codes) expect(['OK', 'STORE_ERROR retryable', 'JOURNAL_CONFLICT']).toContain(code);
      // The backends have exited (the terminate waited): once the pool has read their last words, it
      // replaces the connections and the store works. Bounded polling, not one try after a fixed wait: on a
      // loaded machine the pool may still hand out a connection whose end it has not read (a retryable
      // STORE_ERROR, as above); a store that does not recover keeps failing for all 50 tries.
      const next = { owner_id: 'p1', now: at(1), entries: [raw({ seq: seq + 1, type: 'x', at: at(1) })] };
      for (let attempt = 1; ; attempt++) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        const error = await store.appendJournal('r', next).then(
          () => null,
          (e: unknown) => e,
        );
        if (error === null) break;
        // A failed try whose write did reach the server: the entry is there (checked below).
        if (attempt > 1 && isWeftError(error) && error.code === 'JOURNAL_CONFLICT') break;
        if (attempt >= 50 || !isWeftError(error) || !error.retryable) throw error;
      }
      expect((await store.loadJournal('r')).map((e) => e.seq)).toEqual(
        Array.from({ length: seq + 1 }, (_, i) => i + 1),
      );
    });
  });
});

/** The pid of the backend LISTENing on `channel` (its last query is the LISTEN, or the ping). */
async function listenerBackend(channel: string): Promise<number> {
  const rows = await adminPool().query(
    `SELECT pid FROM pg_stat_activity WHERE application_name = 'weft' AND query LIKE $1`,
    [`LISTEN "${channel}"%`],
  );
  if (rows.rowCount !== 1) throw new Error(`expected one listener, found ${rows.rowCount}`);
  return rows.rows[0].pid as number;
}
