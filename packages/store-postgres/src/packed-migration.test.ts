/**
 * Migration 6 (packed rows) on a schema that has runs in it: a schema at version 5 or earlier, with an
 * ended run, a purgeable run and a run interrupted mid-way (its owner gone), whose journal and step rows
 * hold text as the versions before wrote it. Opened by this Weft, it migrates; every run reads back as it
 * was, the interrupted one is resumed and finishes, new rows are packed beside the old ones.
 */
import {
  createWeft,
  type StepContext,
  type StepRecord,
  type Weft,
  type WorkflowVersionDraft,
} from '@weft/core';
import { severable } from '@weft/testing/durable-contract';
import { at } from '@weft/testing/store-contract';
import { afterEach, expect, it } from 'vitest';
import { MIGRATIONS } from './migrations.js';
import { unpack } from './packed.js';
import type { PostgresStore } from './postgres-store.js';
import { adminPool, closeAndDrop, describeWithPostgres, freshSchema, testStore } from './test-support/db.js';

const HOUR = 3_600_000;
const PACKED_VERSION = 6;
/** The version before migration 6 (5 when the lease's table has landed, else 4). */
const BEFORE = Math.max(...MIGRATIONS.filter((m) => m.version < PACKED_VERSION).map((m) => m.version));

/**
 * Turns a schema at version 6 back into what version BEFORE wrote: every packed row as its text, the
 * columns, constraints and settings of migration 6 gone. (The text is the JSON the versions before wrote:
 * packing never changed it.)
 */
async function unmigrate(schema: string): Promise<void> {
  const s = `"${schema}"`;
  const client = await adminPool().connect();
  try {
    await client.query('BEGIN');
    for (const [table, column, key] of [
      ['journal_batches', 'entries', 'last_seq'],
      ['step_batches', 'records', 'pos'],
    ] as const) {
      const rows = await client.query(`SELECT run_id, ${key} AS key, packed FROM ${s}.${table}`);
      for (const row of rows.rows) {
        const text = unpack(row.packed, { table, run_id: row.run_id });
        await client.query(
          `UPDATE ${s}.${table} SET ${column} = $3, packed = NULL WHERE run_id = $1 AND ${key} = $2`,
          [row.run_id, row.key, text],
        );
      }
      await client.query(`ALTER TABLE ${s}.${table} DROP CONSTRAINT ${table}_one_encoding`);
      await client.query(
        `ALTER TABLE ${s}.${table} DROP COLUMN packed, ALTER COLUMN ${column} SET NOT NULL, RESET (toast_tuple_target)`,
      );
    }
    await client.query(`DELETE FROM ${s}.schema_version WHERE version = $1`, [PACKED_VERSION]);
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK');
    throw error;
  } finally {
    client.release();
  }
}

const draft = (steps: Array<[string, string]>): WorkflowVersionDraft =>
  ({
    key: 'packed',
    steps: steps.map(([key, type], i) => ({
      type,
      key,
      ...(i + 1 < steps.length ? { destinations: [steps[i + 1]![0]] } : {}),
    })),
  }) as unknown as WorkflowVersionDraft;

describeWithPostgres('migration 6 on a schema with runs', () => {
  const wefts: Weft[] = [];
  const stores: PostgresStore[] = [];
  afterEach(async () => {
    for (const weft of wefts.splice(0))
      await Promise.race([weft.close(), new Promise((r) => setTimeout(r, 50))]);
    for (const store of stores.splice(0).reverse()) await store.close().catch(() => undefined);
  });

  it(`runs written at version ${BEFORE} read back identically after it, and the live one finishes`, async () => {
    const schema = freshSchema();
    const before = testStore(schema);
    stores.push(before);
    const cut = severable(before);
    let release!: () => void;
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    // Long outputs (multibyte, astral, escapes): rows long enough that the version after would pack them.
    const long = (ctx: StepContext) => `${ctx.step.key} é 日本 🧵 "\\ ${'x'.repeat(300)}`;
    const a = createWeft({
      store: cut.store,
      recover: false,
      onStoreError: () => undefined,
      steps: {
        work: long,
        hold: () => {
          release();
          return new Promise(() => undefined);
        },
      },
    });
    wefts.push(a);
    const app = a.app('app_1');
    const done = await app.workflows.create({
      name: 'ended',
      draft: draft([
        ['a', 'work'],
        ['b', 'work'],
        ['c', 'work'],
      ]),
    });
    await app.versions.publish(done.id);
    const stuck = await app.workflows.create({
      name: 'interrupted',
      draft: draft([
        ['a', 'work'],
        ['hold', 'hold'],
        ['c', 'work'],
      ]),
    });
    await app.versions.publish(stuck.id);
    const ended = await app.runs.run(done.id, {});
    const purged = await app.runs.run(done.id, {});
    expect(ended.status).toBe('COMPLETED');
    const live = await app.runs.run(stuck.id, { background: true });
    await held;
    await a.idle();
    cut.sever(); // the process is gone: its lease runs out

    // What the runs were, then the schema as the version before left it.
    const runIds = [ended.id, purged.id, live.id];
    const journals = await Promise.all(runIds.map((id) => before.loadJournal(id)));
    const records = await before.getStepResults(runIds);
    await unmigrate(schema);
    const texts = await adminPool().query(
      `SELECT (SELECT count(*)::int FROM "${schema}".journal_batches) AS journal, (SELECT count(*)::int FROM "${schema}".step_batches) AS steps`,
    );
    expect(texts.rows[0].journal).toBeGreaterThanOrEqual(runIds.length);
    expect(texts.rows[0].steps).toBeGreaterThanOrEqual(runIds.length);

    // This Weft opens it: migration 6 applies, everything reads back as it was.
    const after = testStore(schema);
    stores.push(after);
    await after.ready();
    const version = await adminPool().query(`SELECT max(version)::int AS v FROM "${schema}".schema_version`);
    expect(version.rows[0].v).toBe(MIGRATIONS[MIGRATIONS.length - 1]!.version);
    expect(await Promise.all(runIds.map((id) => after.loadJournal(id)))).toEqual(journals);
    for (const [id, journal] of runIds.map((id, i) => [id, journals[i]!] as const)) {
      for (const [after_seq, limit] of [
        [0, 1],
        [1, 2],
        [journal.length - 1, 5],
      ] as const) {
        expect(await after.loadJournal(id, { after_seq, limit })).toEqual(
          journal.filter((e) => e.seq > after_seq).slice(0, limit),
        );
      }
    }
    expect(await after.getStepResults(runIds)).toEqual(records);

    // A retention purge rewrites an old run's records (packed now), its journal deleted.
    const purgedRow = await after.purgeRun(purged.id, at(10));
    expect(purgedRow?.purged_at).toBe(at(10));
    expect(await after.loadJournal(purged.id)).toEqual([]);
    const purgedRecords = (await after.getStepResults([purged.id])).get(purged.id)!;
    expect(Object.keys(purgedRecords)).toEqual(Object.keys(records.get(purged.id)!));

    // The interrupted run: taken over (its lease ran out), resumed from its old rows, finished.
    const b = createWeft({
      store: after,
      clock: { now: () => Date.now() + HOUR },
      steps: { work: long, hold: (ctx: StepContext) => `${ctx.step.key}@B` },
    });
    wefts.push(b);
    const finished = await b.app('app_1').runs.wait(live.id);
    expect(finished.status).toBe('COMPLETED');
    const journal = await after.loadJournal(live.id);
    expect(journal.slice(0, journals[2]!.length)).toEqual(journals[2]);
    expect(journal.map((e) => e.seq)).toEqual(journal.map((_, i) => i + 1));
    expect(journal.map((e) => e.type)).toContain('run.resumed');
    const liveRecords = (await after.getStepResults([live.id])).get(live.id)!;
    expect(liveRecords.a).toEqual((records.get(live.id) as Record<string, StepRecord>).a);
    expect(liveRecords.hold).toMatchObject({ status: 'COMPLETED', output: 'hold@B' });
    expect(liveRecords.c).toMatchObject({ status: 'COMPLETED' });
    // Old rows kept their text; the resumed run's new rows are packed.
    const kinds = await adminPool().query(
      `SELECT entries IS NOT NULL AS text, count(*)::int AS n FROM "${schema}".journal_batches WHERE run_id = $1 GROUP BY 1 ORDER BY 1`,
      [live.id],
    );
    expect(kinds.rows).toEqual([
      { text: false, n: expect.any(Number) },
      { text: true, n: expect.any(Number) },
    ]);
    await b.close();
    wefts.splice(wefts.indexOf(b), 1);
    await closeAndDrop(after);
    stores.splice(stores.indexOf(after), 1);
  });
});
