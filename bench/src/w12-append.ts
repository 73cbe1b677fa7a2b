/**
 * The CPU of W12's journal write alone, for two builds, alternated round by round on one server (not part
 * of the suite; run by hand after building both):
 *
 *   node bench/dist/w12-append.js <rounds> <groups> <repository A> [repository B]
 *
 * W12's claims, notices and waits vary with the scheduler; this isolates what a change to the journal's
 * rows changes. It runs one W12 run (the W2 chain of 10 steps) through the store of this checkout to get
 * the batch a worker appends for it (22 entries, 10 step records), then, per round and repository: a
 * fresh schema opened by that repository's PostgresStore (one connection), `groups × 16` live runs
 * inserted untimed, and `groups` timed appendJournals calls of 16 of those batches each — the bulk
 * statement of a W12 worker's group commit. Prints per round and run: PostgreSQL's CPU (/proc, the
 * server's processes), this process's CPU (the store's side: serialising, packing, node-postgres) and
 * the WAL the appends wrote; then the medians. fsync on, synchronous_commit on (W12's headline).
 */
import { loadavg } from 'node:os';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { createWeft } from '@weft/core';
import type { JournalAppend, JournalBatch } from '@weft/core/store';
import { PostgresStore } from '@weft/store-postgres';
import pg from 'pg';
import { startTestPostgres } from '../../scripts/test-postgres.mjs';
import { chain } from './documents.js';
import { treeCpuMs } from './w12.js';

const [roundsText = '6', groupsText = '200', ...roots] = process.argv.slice(2);
if (roots.length === 0) {
  console.error('usage: node bench/dist/w12-append.js <rounds> <groups> <repository A> [repository B]');
  process.exit(2);
}
const rounds = Number(roundsText);
const groups = Number(groupsText);
const PER_GROUP = 16; // W12's worker concurrency: a group commit holds up to 16 runs' batches
const FAR = '2999-01-01T00:00:00.000Z';
const NOW = '2000-01-01T00:00:00.000Z';
const sides = await Promise.all(
  roots.map(async (root) => {
    const module = (await import(
      pathToFileURL(resolve(root, 'packages/store-postgres/dist/index.js')).href
    )) as { PostgresStore: typeof PostgresStore };
    return { root, PostgresStore: module.PostgresStore };
  }),
);

const server = await startTestPostgres({ fast: false });
const admin = new pg.Client({ connectionString: server.url });
try {
  await admin.connect();
  // One W12 run, in process: its appends as the store receives them.
  const capture = new PostgresStore({ connectionString: server.url, schema: 'w12append_capture' });
  const appends: JournalAppend[] = [];
  const append = capture.appendJournals.bind(capture);
  capture.appendJournals = (list) => {
    appends.push(...list);
    return append(list);
  };
  const weft = createWeft({ store: capture, steps: { noop: () => null } });
  const app = weft.app('w12');
  const workflow = await app.workflows.create({ name: 'w2', draft: chain(10) as never });
  const run = await app.runs.run(workflow.id, { version: 'draft' });
  await weft.close();
  const row = (await capture.getRun(run.id))!;
  await capture.close();
  const own = appends.filter((a) => a.run_id === run.id);
  const entries: JournalBatch['entries'][number][] = [];
  const steps: NonNullable<JournalBatch['steps']> = {};
  for (const a of own) {
    entries.push(...a.batch.entries);
    Object.assign(steps, a.batch.steps);
  }
  const batch: JournalBatch = { owner_id: 'w', now: NOW, lease_until: FAR, entries, steps };
  // What the worker appends: the run's whole journal in one batch, ending the run (a patch of run fields).
  const patch = {
    status: row.status,
    result: row.result,
    ended_at: row.ended_at,
    updated_at: row.updated_at,
  };
  console.log(
    `the batch: ${batch.entries.length} entries, ${Object.keys(batch.steps ?? {}).length} step records (from ${own.length} append(s) of one run)`,
  );

  const lsn = async () => (await admin.query('SELECT pg_current_wal_insert_lsn() AS l')).rows[0].l as string;
  const results = new Map<string, Array<{ postgres: number; node: number; wal: number }>>();
  for (let round = 0; round < rounds; round++) {
    const order = round % 2 === 0 ? sides.map((_, i) => i) : sides.map((_, i) => sides.length - 1 - i);
    for (const index of order) {
      const side = sides[index]!;
      const schema = `w12append_${round}_${index}`;
      const store = new side.PostgresStore({ connectionString: server.url, schema, max: 1 });
      try {
        const n = groups * PER_GROUP;
        for (let i = 0; i < n; i++) {
          await store.insertRun(
            { ...row, id: `r${i}`, status: 'RUNNING', ended_at: null, result: null },
            { owner_id: 'w', lease_until: FAR },
          );
        }
        const walBefore = await lsn();
        const pgBefore = treeCpuMs(server.pid);
        const nodeBefore = process.cpuUsage();
        for (let g = 0; g < groups; g++) {
          const list: JournalAppend[] = Array.from({ length: PER_GROUP }, (_, k) => {
            const id = `r${g * PER_GROUP + k}`;
            return {
              run_id: id,
              batch: { ...batch, run: patch, entries: batch.entries.map((e) => ({ ...e, run_id: id })) },
            };
          });
          const outcomes = await store.appendJournals(list);
          if (!outcomes.every((o) => o.ok))
            throw new Error(`an append was refused: ${JSON.stringify(outcomes)}`);
        }
        const nodeCpu = process.cpuUsage(nodeBefore);
        const postgres = (treeCpuMs(server.pid) - pgBefore) / n;
        const node = (nodeCpu.user + nodeCpu.system) / 1000 / n;
        const walAfter = await lsn();
        const wal =
          Number(
            (await admin.query('SELECT pg_wal_lsn_diff($1, $2) AS d', [walAfter, walBefore])).rows[0].d,
          ) / n;
        const key = index === 0 ? 'A' : 'B';
        results.set(key, [...(results.get(key) ?? []), { postgres, node, wal }]);
        console.log(
          `${key} round ${round + 1}: CPU ms/run postgres ${postgres.toFixed(4)}, this process ${node.toFixed(4)}; WAL ${wal.toFixed(0)} B/run; load ${loadavg()[0]!.toFixed(1)}`,
        );
      } finally {
        await store.close();
        await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      }
    }
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  for (const [key, list] of results) {
    console.log(
      `median ${key}: CPU ms/run postgres ${median(list.map((x) => x.postgres)).toFixed(4)}, this process ${median(list.map((x) => x.node)).toFixed(4)}; WAL ${median(list.map((x) => x.wal)).toFixed(0)} B/run`,
    );
  }
  console.log(`A = ${sides[0]!.root}${sides[1] === undefined ? '' : `, B = ${sides[1].root}`}`);
} finally {
  await admin.end().catch(() => undefined);
  await server.stop();
}
