/**
 * W12's set-up for two builds, alternated round by round (not part of the suite; run by hand after
 * building both):
 *
 *   node bench/dist/w12-pair.js <rounds> <runs> <workers,…> <repository A> [repository B]
 *
 * Each round, for each worker count and each repository: a fresh schema on one PostgreSQL (fsync on,
 * started here), `runs` runs of the W2 chain enqueued by this process, then that repository's
 * w12-worker.js processes (warm-up 500 runs, concurrency `W12_CONCURRENCY` or 16, synchronous_commit
 * on) drain them. The order of the repositories flips every round: the side that runs second pays for
 * the first side's autovacuum and checkpoint (PostgreSQL's CPU is the server's whole tree), so a fixed
 * order leans against B. Prints,
 * per round: runs/s, CPU ms per run of the workers and of PostgreSQL (/proc), and the workers' counters
 * per run (round trips, claims, notices, context switches); then the medians. A repository is a checkout
 * whose packages and bench are built (`dist/`); one PostgreSQL serves both, so only the code differs.
 */
import { loadavg } from 'node:os';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { createWeft } from '@weft/core';
import { PostgresStore } from '@weft/store-postgres';
import { startTestPostgres } from '../../scripts/test-postgres.mjs';
import { chain } from './documents.js';
import { enqueueDraftRuns } from './enqueue.js';
import { parseReport, type spawnWorker, treeCpuMs, type WorkerReport } from './w12.js';

const [roundsText = '3', runsText = '2000', workersText = '1', ...roots] = process.argv.slice(2);
if (roots.length === 0) {
  console.error(
    'usage: node bench/dist/w12-pair.js <rounds> <runs> <workers,…> <repository A> [repository B]',
  );
  process.exit(2);
}
const rounds = Number(roundsText);
const runs = Number(runsText);
const counts = workersText.split(',').map(Number);
const concurrency = Number(process.env.W12_CONCURRENCY ?? 16);
if (!Number.isInteger(concurrency) || concurrency < 1) {
  console.error(
    `W12_CONCURRENCY must be a positive integer, got ${JSON.stringify(process.env.W12_CONCURRENCY)}`,
  );
  process.exit(2);
}
const sides = await Promise.all(
  roots.map(async (root) => {
    const w12 = (await import(pathToFileURL(resolve(root, 'bench/dist/w12.js')).href)) as {
      spawnWorker: typeof spawnWorker;
    };
    return { root, spawnWorker: w12.spawnWorker };
  }),
);

interface Result {
  rate: number;
  worker: number;
  postgres: number;
  report: (pick: (r: WorkerReport) => number) => number;
}

const server = await startTestPostgres({ fast: false });
const results = new Map<string, Result[]>();
try {
  for (let round = 0; round < rounds; round++) {
    for (const workers of counts) {
      const order = round % 2 === 0 ? [...sides.entries()] : [...sides.entries()].reverse();
      for (const [index, side] of order) {
        const schema = `w12pair_${round}_${workers}_${index}`;
        const store = new PostgresStore({ connectionString: server.url, schema, max: 4 });
        const client = createWeft({ store, worker: false, steps: { noop: () => null } });
        try {
          const app = client.app('w12');
          const workflow = await app.workflows.create({ name: 'w2', draft: chain(10) as never });
          await enqueueDraftRuns(app, workflow.id, runs);
          const children = Array.from({ length: workers }, () =>
            side.spawnWorker(server.url, schema, concurrency, 'on', 500),
          );
          await Promise.all(children.map((c) => c.line('ready')));
          const pgBefore = treeCpuMs(server.pid);
          const started = performance.now();
          for (const c of children) c.process.stdin!.write('go\n');
          while ((await store.countRuns({ app_id: 'w12', status: ['PENDING', 'RUNNING'] })) > 0) {
            await new Promise((r) => setTimeout(r, 200));
          }
          const ms = performance.now() - started;
          const postgres = (treeCpuMs(server.pid) - pgBefore) / runs;
          for (const c of children) c.process.stdin!.write('stop\n');
          const reports = (await Promise.all(children.map((c) => c.line('trips ')))).map(parseReport);
          const report = (pick: (r: WorkerReport) => number) =>
            reports.reduce((sum, r) => sum + pick(r), 0) / runs;
          const result = { rate: (runs * 1000) / ms, worker: report((r) => r.cpuMs), postgres, report };
          const key = `${index === 0 ? 'A' : 'B'} ${workers}w`;
          results.set(key, [...(results.get(key) ?? []), result]);
          console.log(
            `${key} round ${round + 1}: ${result.rate.toFixed(0)} runs/s, CPU ms/run worker ${result.worker.toFixed(3)} + postgres ${postgres.toFixed(3)}; per run ${report((r) => r.trips).toFixed(2)} trips, ${report((r) => r.claims).toFixed(3)} claims (${report((r) => r.emptyClaims).toFixed(3)} empty), ${report((r) => r.notices).toFixed(2)} notices, ${report((r) => r.switches).toFixed(2)} switches + ${report((r) => r.preempted).toFixed(2)} preempted; load ${loadavg()[0]!.toFixed(1)}`,
          );
        } finally {
          await client.close();
          await store.close();
        }
      }
    }
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  for (const [key, list] of results) {
    console.log(
      `median ${key}: ${median(list.map((x) => x.rate)).toFixed(0)} runs/s, CPU ms/run worker ${median(list.map((x) => x.worker)).toFixed(3)} + postgres ${median(list.map((x) => x.postgres)).toFixed(3)}`,
    );
  }
  console.log(
    `concurrency ${concurrency}; A = ${sides[0]!.root}${sides[1] === undefined ? '' : `, B = ${sides[1].root}`}`,
  );
} finally {
  await server.stop();
}
