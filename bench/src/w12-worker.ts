/**
 * W12's worker process: `node w12-worker.js <url> <schema> <concurrency> <synchronous_commit> [warm-up
 * runs]`. Opens its store (a pool whose connections count the round trips made on them;
 * `synchronous_commit` set per session, "on" or "off"), warms up (below), prints "ready <cpu µs of the
 * warm-up>", and on the stdin line "go" opens a worker Weft
 * (`worker: { concurrency }`) executing the W2 no-op chain runs the bench enqueued. On "stop" it prints
 * "trips <n> cpu <µs> claims <n> empty <n> groups <n> notices <n> switches <n> preempted <n>" (every round trip of its pool, the
 * listening connection's included; its own CPU time, user + system, since "go"; its claims, the claims
 * that found nothing, its group appends, the notices its listening connection received, its context
 * switches: voluntary (waiting) and involuntary (preempted)) and exits.
 */
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { createWeft, type StepHandler, type Weft } from '@weft/core';
import { PostgresStore } from '@weft/store-postgres';
import pg from 'pg';
import { chain } from './documents.js';
import { enqueueDraftRuns } from './enqueue.js';

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
  application_name: `w12-worker ${process.pid}`,
  // W12_PG_OPTIONS: more session settings (`-c name=value …`), to try PostgreSQL settings by hand.
  options:
    `-c synchronous_commit=${syncCommit === 'off' ? 'off' : 'on'} ${process.env.W12_PG_OPTIONS ?? ''}`.trim(),
});
pool.on('error', () => {});
let trips = 0;
/** What the round trips were, for the report: claims (empty ones apart), group appends, notices received. */
const counts = { claims: 0, emptyClaims: 0, groups: 0, notices: 0 };
const textOf = (config: unknown): string =>
  typeof config === 'string' ? config : ((config as { text?: string } | null)?.text ?? '');
pool.on('connect', (client) => {
  const original = client.query.bind(client) as (...args: unknown[]) => unknown;
  client.on('notification', () => counts.notices++);
  client.query = ((...args: unknown[]) => {
    trips++;
    const text = textOf(args[0]);
    if (text.includes('FOR UPDATE SKIP LOCKED')) {
      counts.claims++;
      // pool.query passes a callback; a client's query returns a promise.
      const empty = (r: { rowCount: number | null } | undefined) => {
        if (r?.rowCount === 0) counts.emptyClaims++;
      };
      const last = args.length - 1;
      const callback = args[last];
      if (typeof callback === 'function') {
        args[last] = (error: unknown, r: { rowCount: number | null } | undefined) => {
          empty(r);
          return callback(error, r);
        };
      }
      const result = original(...args);
      if (result instanceof Promise) result.then(empty, () => {});
      return result;
    }
    if (text.startsWith('WITH i AS')) counts.groups++;
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
  await enqueueDraftRuns(app, workflow.id, runs);
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
/** This process's context switches so far, voluntary (it waited) and not (preempted): Linux /proc. */
function switches(): { voluntary: number; involuntary: number } {
  try {
    const status = readFileSync('/proc/self/status', 'utf8');
    const field = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+)`, 'm').exec(status)?.[1] ?? NaN);
    return { voluntary: field('voluntary_ctxt_switches'), involuntary: field('nonvoluntary_ctxt_switches') };
  } catch {
    return { voluntary: Number.NaN, involuntary: Number.NaN };
  }
}
let switched = switches();
let weft: Weft | null = null;
let cpu = process.cpuUsage();
process.stdout.write(`ready ${warmed.user + warmed.system}\n`);
const lines = createInterface({ input: process.stdin });
for await (const line of lines) {
  if (line === 'go') {
    trips = 0;
    for (const key of Object.keys(counts) as Array<keyof typeof counts>) counts[key] = 0;
    cpu = process.cpuUsage();
    switched = switches();
    weft = createWeft({
      store,
      steps: { noop },
      worker: { concurrency: Number(concurrencyText), pollMs: 100 },
      onStoreError: (error) => process.stderr.write(`store error: ${error}\n`),
    });
  } else if (line === 'stop') {
    const used = process.cpuUsage(cpu);
    await weft?.close();
    const { claims, emptyClaims, groups, notices } = counts;
    const now = switches();
    process.stdout.write(
      `trips ${trips} cpu ${used.user + used.system} claims ${claims} empty ${emptyClaims} groups ${groups} notices ${notices} switches ${now.voluntary - switched.voluntary} preempted ${now.involuntary - switched.involuntary}\n`,
    );
    await store.close();
    await pool.end();
    process.exit(0);
  }
}
