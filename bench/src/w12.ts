/**
 * W12 scale-out: runs/s of the W2 10-step no-op chain executed by 1, 2 and 4 worker processes
 * (`createWeft({ store: postgresStore, worker: { concurrency } })`, w12-worker.ts) sharing one local
 * PostgreSQL (the bench starts it: scripts/test-postgres.mjs, fsync on). Per round and worker count: a
 * fresh schema, `runs` runs enqueued first by a client-only Weft (worker: false; not timed), worker
 * processes that have warmed up (each drains `warmUp` runs in a schema of its own first: a worker serves
 * for hours, and a cold process's JIT and connection set-up would be counted as a cost of scaling out),
 * then the workers are told "go" and the clock runs until the last run's `run.ended` notice (confirmed
 * by a count; a count every 250 ms covers a lost notice). Round trips per run: every query of
 * the workers' pools (claims, appends, heartbeats, listening) over the runs. CPU per run, per process
 * kind, over the timed window: the workers (their own `process.cpuUsage()`), PostgreSQL (the postmaster
 * and every backend, from /proc: utime + stime + the reaped children's), and the bench process (the
 * client listening for the notices).
 *
 * Two durabilities, each a column: `synchronous_commit = on` (the default: a commit returns once its WAL
 * is flushed to disk — survives a power loss) and `off` (set per session by the workers: a commit returns
 * before the flush; a crash of the server may lose the last ~0.6 s of commits, never corrupt them).
 *
 * The row: Weft = two workers, baseline = one worker (ratio = one / two: ≤ 0.625 meets the target of
 * two workers ≥ 1.6× one), both with synchronous_commit on; the rest in `extra` and `notes`.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { createWeft } from '@weft/core';
import { PostgresStore } from '@weft/store-postgres';
import pg from 'pg';
import { startTestPostgres } from '../../scripts/test-postgres.mjs';
import { chain } from './documents.js';
import { enqueueDraftRuns } from './enqueue.js';
import { type Stat, stat } from './harness.js';
import type { Row } from './workloads.js';

export interface W12Sizes {
  runs: number;
  rounds: number;
  concurrency: number;
  /** Runs each worker process drains in a schema of its own before the timed window (w12-worker.ts). */
  warmUp: number;
  /** The worker counts measured: 1 and 2 always (the target's ratio), then any others. */
  counts: readonly number[];
}

export const W12_FULL: W12Sizes = { runs: 1000, rounds: 3, concurrency: 16, warmUp: 500, counts: [1, 2, 4] };
// The smoke test (bench --quick) checks the code paths, not the curve: 1 and 2 workers spawn 6 processes
// over both durabilities, where 1, 2 and 4 spawned 14 (~8 s more CPU in the test command).
export const W12_QUICK: W12Sizes = { runs: 10, rounds: 1, concurrency: 4, warmUp: 10, counts: [1, 2] };

const WORKER = fileURLToPath(new URL('./w12-worker.js', import.meta.url));
const STEPS = 10;
const APP = 'w12';

interface Child {
  process: ChildProcess;
  line(prefix: string): Promise<string>;
}

type SyncCommit = 'on' | 'off';

export function spawnWorker(
  url: string,
  schema: string,
  concurrency: number,
  sync: SyncCommit,
  warmUp = 0,
): Child {
  // W12_WORKER_NODE_ARGS: node flags for the worker processes only (`--cpu-prof --cpu-prof-dir=…` to
  // profile them; NODE_OPTIONS refuses --cpu-prof).
  const nodeArgs = (process.env.W12_WORKER_NODE_ARGS ?? '').split(' ').filter((arg) => arg !== '');
  const child = spawn(
    process.execPath,
    [...nodeArgs, WORKER, url, schema, String(concurrency), sync, String(warmUp)],
    { stdio: ['pipe', 'pipe', 'inherit'] },
  );
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

/** CPU time (ms) of a process and of its live children, plus the children it has reaped (Linux /proc). */
export function treeCpuMs(pid: number | undefined): number {
  if (pid === undefined) return Number.NaN;
  const ticks = (fields: string[], from: number, count: number) =>
    fields.slice(from, from + count).reduce((sum, f) => sum + Number(f), 0);
  let total = 0;
  try {
    for (const entry of readdirSync('/proc')) {
      if (!/^\d+$/.test(entry)) continue;
      let text: string;
      try {
        text = readFileSync(`/proc/${entry}/stat`, 'utf8');
      } catch {
        continue; // exited meanwhile
      }
      // Fields after the command name (which may hold spaces): state is field 3, ppid 4, utime 14.
      const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
      const self = Number(entry) === pid;
      if (self)
        total += ticks(fields, 11, 4); // utime, stime, cutime, cstime
      else if (Number(fields[1]) === pid) total += ticks(fields, 11, 2);
    }
  } catch {
    return Number.NaN; // no /proc
  }
  return (total * 1000) / 100; // USER_HZ is 100 on Linux
}

function cpuMs(): number {
  const used = process.cpuUsage();
  return (used.user + used.system) / 1000;
}

/** A worker's last line (w12-worker.ts): "trips <n> cpu <µs> claims <n> empty <n> … preempted <n>". */
export interface WorkerReport {
  trips: number;
  cpuMs: number;
  claims: number;
  emptyClaims: number;
  groups: number;
  notices: number;
  switches: number;
  preempted: number;
}

export function parseReport(line: string): WorkerReport {
  const words = line.split(' ');
  const field = (name: string) => Number(words[words.indexOf(name) + 1]);
  return {
    trips: field('trips'),
    cpuMs: field('cpu') / 1000,
    claims: field('claims'),
    emptyClaims: field('empty'),
    groups: field('groups'),
    notices: field('notices'),
    switches: field('switches'),
    preempted: field('preempted'),
  };
}

interface Round {
  runsPerSecond: number;
  tripsPerRun: number;
  /** Claims (empty ones included), notices received and involuntary context switches of the workers, per run. */
  claimsPerRun: number;
  noticesPerRun: number;
  preemptedPerRun: number;
  /** CPU ms per run over the timed window. */
  workerCpu: number;
  postgresCpu: number;
  benchCpu: number;
  /** Share of the machine's cores busy with these processes during the window (0–1). */
  busy: number;
  /** CPU ms of a worker process's warm-up (mean over the processes). */
  warmCpu: number;
  completed: boolean;
}

async function round(
  server: { url: string; pid: number | undefined },
  workers: number,
  sync: SyncCommit,
  sizes: W12Sizes,
  label: string,
): Promise<Round> {
  const { url } = server;
  const schema = `w12_${label}_${process.pid}`;
  const store = new PostgresStore({ connectionString: url, schema, max: 4 });
  const client = createWeft({ store, worker: false, steps: { noop: () => null } });
  try {
    const app = client.app(APP);
    const workflow = await app.workflows.create({ name: 'w2', draft: chain(STEPS) as never });
    await enqueueDraftRuns(app, workflow.id, sizes.runs);
    const children = Array.from({ length: workers }, () =>
      spawnWorker(url, schema, sizes.concurrency, sync, sizes.warmUp),
    );
    const ready = await Promise.all(children.map((c) => c.line('ready')));
    const warmCpu = ready.reduce((sum, line) => sum + Number(line.split(' ')[1] ?? 0) / 1000, 0) / workers;
    // The end of the window: the run.ended notice of the last run (the workers send one per run they
    // end), confirmed by one count; a count every 250 ms covers a lost notice. (Counting every 10 ms
    // instead cost PostgreSQL ~0.15 ms of CPU per run: a fifth of what it spent for the workers.)
    const ended = new Set<string>();
    let notify: () => void = () => {};
    const unsubscribe = store.subscribe('run.ended', (notice) => {
      if (notice.run_id !== null) ended.add(notice.run_id);
      if (ended.size >= sizes.runs) notify();
    });
    for (let i = 0; i < 500 && !store.listener.listening; i++) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    const pgBefore = treeCpuMs(server.pid);
    const benchBefore = cpuMs();
    const started = performance.now();
    for (const c of children) c.process.stdin!.write('go\n');
    for (;;) {
      const live = await store.countRuns({ app_id: APP, status: ['PENDING', 'RUNNING'] });
      if (live === 0) break;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 250);
        notify = () => {
          clearTimeout(timer);
          resolve();
        };
        if (ended.size >= sizes.runs) notify();
      });
    }
    const ms = performance.now() - started;
    unsubscribe();
    const pgCpu = treeCpuMs(server.pid) - pgBefore;
    const benchCpu = cpuMs() - benchBefore;
    for (const c of children) c.process.stdin!.write('stop\n');
    const reports = (await Promise.all(children.map((c) => c.line('trips ')))).map(parseReport);
    const trips = reports.reduce((sum, r) => sum + r.trips, 0);
    const perRun = (pick: (r: WorkerReport) => number) =>
      reports.reduce((sum, r) => sum + pick(r), 0) / sizes.runs;
    const workerCpu = reports.reduce((sum, r) => sum + r.cpuMs, 0);
    const completed = await store.countRuns({ app_id: APP, status: 'COMPLETED' });
    return {
      runsPerSecond: (sizes.runs * 1000) / ms,
      tripsPerRun: trips / sizes.runs,
      claimsPerRun: perRun((r) => r.claims),
      noticesPerRun: perRun((r) => r.notices),
      preemptedPerRun: perRun((r) => r.preempted),
      workerCpu: workerCpu / sizes.runs,
      postgresCpu: pgCpu / sizes.runs,
      benchCpu: benchCpu / sizes.runs,
      busy: (workerCpu + pgCpu + benchCpu) / (ms * cpus().length),
      warmCpu,
      completed: completed === sizes.runs,
    };
  } finally {
    await client.close();
    await store.close();
  }
}

/** 'one worker', 'two workers', 'four workers' (the names of W12's extra figures). */
function workerCount(n: number): string {
  const words = ['zero', 'one', 'two', 'three', 'four'];
  return `${words[n] ?? n} worker${n === 1 ? '' : 's'}`;
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
    const results = new Map<string, Round[]>();
    const key = (workers: number, sync: SyncCommit) => `${workers}/${sync}`;
    for (let r = 0; r < sizes.rounds; r++) {
      for (const sync of ['on', 'off'] as const) {
        for (const workers of sizes.counts) {
          const result = await round(server, workers, sync, sizes, `${workers}_${sync}_${r}`);
          results.set(key(workers, sync), [...(results.get(key(workers, sync)) ?? []), result]);
        }
      }
    }
    const of = (n: number, sync: SyncCommit, pick: (x: Round) => number): Stat =>
      stat(results.get(key(n, sync))!.map(pick));
    const rate = (n: number, sync: SyncCommit) => of(n, sync, (x) => x.runsPerSecond);
    const one = rate(1, 'on');
    const two = rate(2, 'on');
    const speedup = two.median / one.median;
    const version = (await admin.query('SHOW server_version')).rows[0].server_version as string;
    const line = (sync: SyncCommit) =>
      sizes.counts
        .map((n) => {
          const m = (pick: (x: Round) => number) => of(n, sync, pick).median;
          return `${n}w ${m((x) => x.runsPerSecond).toFixed(0)} runs/s (${(m((x) => x.runsPerSecond) / rate(1, sync).median).toFixed(2)}×), ${m((x) => x.tripsPerRun).toFixed(1)} trips/run, CPU ms/run workers ${m((x) => x.workerCpu).toFixed(2)} + postgres ${m((x) => x.postgresCpu).toFixed(2)} + bench ${m((x) => x.benchCpu).toFixed(2)}, cores busy ${(m((x) => x.busy) * 100).toFixed(0)}%, per run: ${m((x) => x.claimsPerRun).toFixed(3)} claims, ${m((x) => x.noticesPerRun).toFixed(1)} notices received, ${m((x) => x.preemptedPerRun).toFixed(2)} preemptions of a worker`;
        })
        .join('; ');
    return {
      id: 'W12',
      workload: `scale-out: ${sizes.runs.toLocaleString('en-US')} enqueued runs of the W2 ${STEPS}-step chain executed by warm worker processes on one PostgreSQL (2 workers; baseline 1 worker; synchronous_commit on)`,
      unit: 'runs/s',
      higherIsBetter: true,
      weft: two,
      baseline: one,
      baselineName: 'one worker process',
      ratio: one.median / two.median,
      target: 'two workers ≥ 1.6× one',
      met: speedup >= 1.6,
      checks: {
        'every run COMPLETED': [...results.values()].every((list) => list.every((x) => x.completed)),
      },
      extra: Object.fromEntries(
        sizes.counts.flatMap((n) => [
          ...(n > 2 ? [[workerCount(n), rate(n, 'on')] as const] : []),
          [`${workerCount(n)}, synchronous_commit off`, rate(n, 'off')] as const,
        ]),
      ),
      notes: [
        `synchronous_commit on (median): ${line('on')}`,
        `synchronous_commit off (median): ${line('off')}`,
        `each worker process warmed by draining ${sizes.warmUp} runs in a schema of its own first (not timed): ${of(1, 'on', (x) => x.warmCpu).median.toFixed(0)} ms of CPU per process`,
        `worker concurrency ${sizes.concurrency}, ${sizes.rounds} round(s); PostgreSQL ${version} on loopback (fsync on), sharing the machine's ${cpus().length} cores with the workers and the bench; load average ${loadavg()
          .map((x) => x.toFixed(1))
          .join(' ')} at the end`,
      ],
    };
  } finally {
    await admin.end();
    await server.stop();
  }
}
