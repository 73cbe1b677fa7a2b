/**
 * W12 scale-out: runs/s of the W2 10-step no-op chain executed by 1, 2 and 4 worker processes
 * (`createWeft({ store: postgresStore, worker: { concurrency } })`, w12-worker.ts) sharing one local
 * PostgreSQL (the bench starts it: scripts/test-postgres.mjs, fsync on). Per round and worker count: a
 * fresh schema, `runs` runs enqueued first by a client-only Weft (worker: false; not timed), then the
 * workers are told "go" and the clock runs until no run is live. Round trips per run: every query of
 * the workers' pools (claims, appends, heartbeats, listening) over the runs.
 *
 * The row: Weft = two workers, baseline = one worker (ratio = one / two: ≤ 0.625 meets the target of
 * two workers ≥ 1.6× one); four workers in `extra`.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createWeft } from '@weft/core';
import { PostgresStore } from '@weft/store-postgres';
import pg from 'pg';
import { startTestPostgres } from '../../scripts/test-postgres.mjs';
import { chain } from './documents.js';
import { type Stat, stat } from './harness.js';
import type { Row } from './workloads.js';

export interface W12Sizes {
  runs: number;
  rounds: number;
  concurrency: number;
}

export const W12_FULL: W12Sizes = { runs: 400, rounds: 3, concurrency: 16 };
export const W12_QUICK: W12Sizes = { runs: 10, rounds: 1, concurrency: 4 };

const WORKER = fileURLToPath(new URL('./w12-worker.js', import.meta.url));
const STEPS = 10;
const APP = 'w12';

interface Child {
  process: ChildProcess;
  line(prefix: string): Promise<string>;
}

function spawnWorker(url: string, schema: string, concurrency: number): Child {
  const child = spawn(process.execPath, [WORKER, url, schema, String(concurrency)], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  let out = '';
  const waiters: Array<{ prefix: string; resolve: (line: string) => void }> = [];
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    out += chunk;
    for (const w of [...waiters]) {
      const found = out.split('\n').find((l) => l.startsWith(w.prefix));
      if (found !== undefined) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(found);
      }
    }
  });
  return {
    process: child,
    line: (prefix) =>
      new Promise((resolve, reject) => {
        const found = out.split('\n').find((l) => l.startsWith(prefix));
        if (found !== undefined) return resolve(found);
        waiters.push({ prefix, resolve });
        child.once('exit', (code) => reject(new Error(`W12 worker exited (${code}) before "${prefix}"`)));
      }),
  };
}

interface Round {
  runsPerSecond: number;
  tripsPerRun: number;
  completed: boolean;
}

async function round(url: string, workers: number, sizes: W12Sizes, label: string): Promise<Round> {
  const schema = `w12_${label}_${process.pid}`;
  const store = new PostgresStore({ connectionString: url, schema, max: 4 });
  const client = createWeft({ store, worker: false, steps: { noop: () => null } });
  try {
    const app = client.app(APP);
    const workflow = await app.workflows.create({ name: 'w2', draft: chain(STEPS) as never });
    for (let i = 0; i < sizes.runs; i += 100) {
      await Promise.all(
        Array.from({ length: Math.min(100, sizes.runs - i) }, () =>
          app.runs.run(workflow.id, { version: 'draft', background: true }),
        ),
      );
    }
    const children = Array.from({ length: workers }, () => spawnWorker(url, schema, sizes.concurrency));
    await Promise.all(children.map((c) => c.line('ready')));
    const started = performance.now();
    for (const c of children) c.process.stdin!.write('go\n');
    for (;;) {
      const live = await store.countRuns({ app_id: APP, status: ['PENDING', 'RUNNING'] });
      if (live === 0) break;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    const ms = performance.now() - started;
    for (const c of children) c.process.stdin!.write('stop\n');
    const trips = (await Promise.all(children.map((c) => c.line('trips ')))).reduce(
      (sum, line) => sum + Number(line.slice('trips '.length)),
      0,
    );
    const completed = await store.countRuns({ app_id: APP, status: 'COMPLETED' });
    return {
      runsPerSecond: (sizes.runs * 1000) / ms,
      tripsPerRun: trips / sizes.runs,
      completed: completed === sizes.runs,
    };
  } finally {
    await client.close();
    await store.close();
  }
}

export async function w12(sizes: W12Sizes): Promise<Row> {
  let server: Awaited<ReturnType<typeof startTestPostgres>>;
  try {
    server = await startTestPostgres({ fast: false });
  } catch (error) {
    const why = error instanceof Error ? error.message : String(error);
    throw Object.assign(new Error(`PostgreSQL could not start: ${why}`), { unavailable: true });
  }
  const admin = new pg.Pool({ connectionString: server.url, max: 2 });
  admin.on('error', () => {});
  try {
    const byWorkers = new Map<number, Round[]>();
    for (let r = 0; r < sizes.rounds; r++) {
      for (const workers of [1, 2, 4]) {
        const result = await round(server.url, workers, sizes, `${workers}_${r}`);
        byWorkers.set(workers, [...(byWorkers.get(workers) ?? []), result]);
      }
    }
    const rate = (n: number): Stat => stat(byWorkers.get(n)!.map((x) => x.runsPerSecond));
    const trips = (n: number): Stat => stat(byWorkers.get(n)!.map((x) => x.tripsPerRun));
    const one = rate(1);
    const two = rate(2);
    const four = rate(4);
    const speedup = two.median / one.median;
    const version = (await admin.query('SHOW server_version')).rows[0].server_version as string;
    return {
      id: 'W12',
      workload: `scale-out: ${sizes.runs.toLocaleString('en-US')} enqueued runs of the W2 ${STEPS}-step chain executed by worker processes on one PostgreSQL (2 workers; baseline 1 worker)`,
      unit: 'runs/s',
      higherIsBetter: true,
      weft: two,
      baseline: one,
      baselineName: 'one worker process',
      ratio: one.median / two.median,
      target: 'two workers ≥ 1.6× one',
      met: speedup >= 1.6,
      checks: {
        'every run COMPLETED': [...byWorkers.values()].every((list) => list.every((x) => x.completed)),
      },
      extra: { 'four workers': four },
      notes: [
        `runs/s (median): 1 worker ${one.median.toFixed(0)}, 2 workers ${two.median.toFixed(0)} (${speedup.toFixed(2)}×), 4 workers ${four.median.toFixed(0)} (${(four.median / one.median).toFixed(2)}×)`,
        `database round trips per run (median; every query of the workers' pools): 1 worker ${trips(1).median.toFixed(1)}, 2 workers ${trips(2).median.toFixed(1)}, 4 workers ${trips(4).median.toFixed(1)}`,
        `worker concurrency ${sizes.concurrency}, ${sizes.rounds} round(s); PostgreSQL ${version} on loopback (fsync on), sharing the machine's cores with the workers and the bench`,
      ],
    };
  } finally {
    await admin.end();
    await server.stop();
  }
}
