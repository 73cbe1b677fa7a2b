/**
 * W12's worker process: `node w12-worker.js <url> <schema> <concurrency> <synchronous_commit> [warm-up
 * runs]`. Opens its store (a pool whose connections count the round trips made on them;
 * `synchronous_commit` set per session, "on" or "off"), warms up (below), prints "ready <cpu µs of the
 * warm-up>", and on the stdin line "go" opens a worker Weft
 * (`worker: { concurrency }`) executing the W2 no-op chain runs the bench enqueued. On "stop" it prints
 * "trips <n> cpu <µs>" (every round trip of its pool, the listening connection's included; its own CPU
 * time, user + system, since "go") and exits.
 */
import { createInterface } from 'node:readline';
import { createWeft, type StepHandler, type Weft } from '@weft/core';
import { PostgresStore } from '@weft/store-postgres';
import pg from 'pg';
import { chain } from './documents.js';

const [url, schema, concurrencyText, syncCommit, warmText = '0'] = process.argv.slice(2) as [
  string,
  string,
  string,
  string,
  string?,
];
const pool = new pg.Pool({
  connectionString: url,
  max: 6,
  options: `-c synchronous_commit=${syncCommit === 'off' ? 'off' : 'on'}`,
});
pool.on('error', () => {});
let trips = 0;
pool.on('connect', (client) => {
  const original = client.query.bind(client) as (...args: unknown[]) => unknown;
  client.query = ((...args: unknown[]) => {
    trips++;
    return original(...args);
  }) as typeof client.query;
});
const store = new PostgresStore({ pool, schema });
await store.ready();
const noop: StepHandler = () => null;

/**
 * The warm-up: a worker process serves for hours, so W12 measures warm workers. Before "ready", the
 * process enqueues `warm` runs of the same chain in a schema of its own and drains them with a worker
 * Weft on the same pool: V8 has compiled the hot paths and the pool's connections are open (a cold
 * process spends ~0.45 s of CPU on that in its first 1,000 runs: with two processes it is paid twice,
 * which a short timed window would count as a cost of scaling out).
 */
async function warmUp(runs: number): Promise<void> {
  if (runs <= 0) return;
  const warmSchema = `${schema}_warm_${process.pid}`;
  const warmStore = new PostgresStore({ pool, schema: warmSchema });
  const client = createWeft({ store: warmStore, worker: false, steps: { noop } });
  const app = client.app('w12');
  const workflow = await app.workflows.create({ name: 'w2', draft: chain(10) as never });
  const worker = createWeft({
    store: warmStore,
    steps: { noop },
    worker: { concurrency: Number(concurrencyText), pollMs: 100 },
  });
  for (let i = 0; i < runs; i += 100) {
    await Promise.all(
      Array.from({ length: Math.min(100, runs - i) }, () =>
        app.runs.run(workflow.id, { version: 'draft', background: true }),
      ),
    );
  }
  for (let polls = 0; polls < 6000; polls++) {
    if ((await warmStore.countRuns({ app_id: 'w12', status: ['PENDING', 'RUNNING'] })) === 0) break;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  await worker.close();
  await client.close();
  await warmStore.close();
  await pool.query(`DROP SCHEMA "${warmSchema}" CASCADE`);
}

const warmCpu = process.cpuUsage();
await warmUp(Number(warmText));
const warmed = process.cpuUsage(warmCpu);
let weft: Weft | null = null;
let cpu = process.cpuUsage();
process.stdout.write(`ready ${warmed.user + warmed.system}\n`);
const lines = createInterface({ input: process.stdin });
for await (const line of lines) {
  if (line === 'go') {
    trips = 0;
    cpu = process.cpuUsage();
    weft = createWeft({
      store,
      steps: { noop },
      worker: { concurrency: Number(concurrencyText), pollMs: 100 },
      onStoreError: (error) => process.stderr.write(`store error: ${error}\n`),
    });
  } else if (line === 'stop') {
    const used = process.cpuUsage(cpu);
    await weft?.close();
    process.stdout.write(`trips ${trips} cpu ${used.user + used.system}\n`);
    await store.close();
    await pool.end();
    process.exit(0);
  }
}
