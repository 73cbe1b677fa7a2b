/**
 * S2: the PostgreSQL store's ceiling — journaled 10-step runs written straight to `@weft/store-postgres`
 * (no engine), against a local PostgreSQL 18 with its default durability (fsync on, synchronous_commit
 * on: a commit survives a crash of the server and a power loss), started by the bench
 * (scripts/test-postgres.mjs) on loopback. The shapes of S1, plus parallel streams:
 *
 * - S2a per-step batches, sequential runs: 12 appends a run (the insert with run.started, one per step,
 *   run.ended with the run patch), each one statement, so 12 round trips and 12 commits a run.
 * - S2c one batch per run (insert, 22 entries, 10 records, the patch): 1 round trip a run.
 * - S2d group commit: 100 runs in flight, one `appendJournals` per tick for all of them (a transaction
 *   of 100 statements + BEGIN/COMMIT): 12 commits per 100 runs.
 * - S2e S2a in 4 concurrent streams (4 connections): what several workers appending at once get.
 *
 * Round trips are counted on the pool's connections. The baseline is plain node-postgres writing the
 * same journal entries, one multi-row INSERT per batch (autocommit), with no checks and no projections
 * (step records, run row): the floor of one round trip and one commit per batch.
 */
import type { JournalAppend } from '@weft/core/store';
import { PostgresStore } from '@weft/store-postgres';
import pg from 'pg';
import { startTestPostgres } from '../../scripts/test-postgres.mjs';
import { mapStat, type SampleOptions, type Stat, sample, stat } from './harness.js';
import { ticks } from './store.js';
import type { Row } from './workloads.js';

export interface PostgresSizes {
  runs: number;
  steps: number;
  sampling: SampleOptions;
}

export const POSTGRES_FULL: PostgresSizes = {
  runs: 200,
  steps: 10,
  sampling: { rounds: 3, iterations: 2, warmup: 1 },
};
export const POSTGRES_QUICK: PostgresSizes = {
  runs: 8,
  steps: 10,
  sampling: { rounds: 1, iterations: 1, warmup: 0 },
};

interface Shape {
  id: string;
  perStep: boolean;
  inFlight: number;
  streams: number;
  label: string;
}

const SHAPES: readonly Shape[] = [
  {
    id: 'S2a',
    perStep: true,
    inFlight: 1,
    streams: 1,
    label: 'sequential runs, per-step batches (12 appends/run)',
  },
  {
    id: 'S2c',
    perStep: false,
    inFlight: 1,
    streams: 1,
    label: 'sequential runs, one batch per run (1 append/run)',
  },
  {
    id: 'S2d',
    perStep: true,
    inFlight: 100,
    streams: 1,
    label: '100 runs in flight, per-step batches grouped per tick (12 transactions/100 runs)',
  },
  { id: 'S2e', perStep: true, inFlight: 1, streams: 4, label: 'S2a in 4 concurrent streams (4 connections)' },
];

/** A pool whose connections count the round trips made on them. */
function countingPool(url: string, max: number): { pool: pg.Pool; trips: () => number } {
  const pool = new pg.Pool({ connectionString: url, max });
  pool.on('error', () => {});
  let trips = 0;
  pool.on('connect', (client) => {
    const original = client.query.bind(client) as (...args: unknown[]) => unknown;
    client.query = ((...args: unknown[]) => {
      trips++;
      return original(...args);
    }) as typeof client.query;
  });
  return { pool, trips: () => trips };
}

async function journaled(store: PostgresStore, plan: JournalAppend[][][]): Promise<boolean> {
  let ok = true;
  for (const group of plan) {
    for (const tick of group) for (const outcome of await store.appendJournals(tick)) ok &&= outcome.ok;
  }
  return ok;
}

/** `total` runs in `streams` concurrent streams, `inFlight` at a time in each. */
function plans(shape: Shape, total: number, steps: number, prefix: string): JournalAppend[][][][] {
  const perStream = Math.ceil(total / shape.streams);
  return Array.from({ length: shape.streams }, () => {
    const groups: JournalAppend[][][] = [];
    for (let done = 0; done < perStream; done += shape.inFlight) {
      groups.push(ticks(Math.min(shape.inFlight, perStream - done), steps, shape.perStep, prefix));
    }
    return groups;
  });
}

async function verify(store: PostgresStore, steps: number): Promise<boolean> {
  const recoverable = await store.listRecoverableRuns(new Date().toISOString(), 10);
  const page = await store.listRuns({ app_id: 'app', limit: 5 });
  let ok = recoverable.length === 0 && page.data.length > 0;
  for (const run of page.data) {
    ok &&= run.status === 'COMPLETED';
    const journal = await store.loadJournal(run.id);
    ok &&= journal.length === 2 * steps + 2 && journal.every((e, i) => e.seq === i + 1);
    ok &&= Object.keys((await store.getStepResults([run.id])).get(run.id)!).length === steps;
  }
  return ok;
}

export async function s2(sizes: PostgresSizes): Promise<Row[]> {
  const server = await startTestPostgres({ fast: false });
  const rows: Row[] = [];
  const admin = new pg.Pool({ connectionString: server.url, max: 4 });
  // Idle connections die when the server stops: that must not crash the bench.
  admin.on('error', () => {});
  try {
    const version = (await admin.query('SHOW server_version')).rows[0].server_version as string;
    for (const shape of SHAPES) {
      const perSecond = (ms: number) => (sizes.runs * 1000) / ms;
      const counting = countingPool(server.url, shape.streams);
      const store = new PostgresStore({ pool: counting.pool, schema: `bench_${shape.id.toLowerCase()}` });
      await store.ready();
      await admin.query(
        `CREATE TABLE IF NOT EXISTS raw_${shape.id} (run_id text, seq int, type text, at text, data text)`,
      );
      let allOk = true;
      let trips = 0;
      let runsDone = 0;
      const tasks = {
        weft: async () => {
          const work = plans(shape, sizes.runs, sizes.steps, 'run');
          const before = counting.trips();
          const results = await Promise.all(work.map((stream) => journaled(store, stream)));
          trips += counting.trips() - before;
          runsDone += sizes.runs;
          allOk &&= results.every(Boolean);
        },
        baseline: async () => {
          const work = plans(shape, sizes.runs, sizes.steps, 'raw');
          await Promise.all(
            work.map(async (stream) => {
              for (const group of stream) {
                for (const tick of group) {
                  const entries = tick.flatMap((a) => a.batch.entries.map((e) => ({ run: a.run_id, e })));
                  await admin.query(
                    `INSERT INTO raw_${shape.id} SELECT * FROM unnest($1::text[], $2::int[], $3::text[], $4::text[], $5::text[])`,
                    [
                      entries.map((x) => x.run),
                      entries.map((x) => x.e.seq),
                      entries.map((x) => x.e.type),
                      entries.map((x) => x.e.at),
                      entries.map(({ e: { seq: _s, type: _t, at: _a, ...data } }) => JSON.stringify(data)),
                    ],
                  );
                }
              }
            }),
          );
        },
      };
      const samples = await sample(tasks, sizes.sampling);
      const weft: Stat = mapStat(stat(samples.weft!), perSecond);
      const baseline: Stat = mapStat(stat(samples.baseline!), perSecond);
      const checks = {
        'every append accepted': allOk,
        'every run COMPLETED, its journal gapless, its step records written': await verify(
          store,
          sizes.steps,
        ),
      };
      await store.close();
      await counting.pool.end();
      rows.push({
        id: shape.id,
        workload: `PostgreSQL store ceiling: ${shape.label}`,
        unit: 'runs/s',
        higherIsBetter: true,
        weft,
        baseline,
        baselineName: 'plain pg: the same entries, one INSERT per batch, no checks or projections',
        ratio: baseline.median / weft.median,
        target: 'none: the ceiling W12 (workers on PostgreSQL) will sit under',
        met: true,
        checks,
        notes: [
          `${sizes.runs.toLocaleString('en-US')} runs of ${sizes.steps} steps per sample, ${shape.inFlight} in flight per stream, ${shape.streams} stream(s); PostgreSQL ${version} on loopback (fsync on, synchronous_commit on), sharing the machine's cores`,
          `round trips per run: ${(trips / runsDone).toFixed(2)} (counted on the store's connections)`,
        ],
      });
    }
    return rows;
  } finally {
    await admin.end();
    await server.stop();
  }
}
