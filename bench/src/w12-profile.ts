/**
 * Where PostgreSQL's time goes in W12 (not part of the suite; run by hand after building):
 *
 *   node bench/dist/w12-profile.js [workers=1] [runs=1000] [concurrency=16]
 *
 * Starts its own PostgreSQL (fsync on, as W12) with pg_stat_statements loaded, enqueues the runs like
 * W12, resets the statistics, lets the workers drain the queue, then prints per statement (normalised
 * text): calls, rows and execution + planning time per run, shared blocks hit/dirtied and WAL bytes per
 * run; the wait events seen by sampling pg_stat_activity every 5 ms; and the CPU of PostgreSQL and of the
 * workers per run.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { createWeft } from '@weft/core';
import { PostgresStore } from '@weft/store-postgres';
import pg from 'pg';
import { startTestPostgres } from '../../scripts/test-postgres.mjs';
import { chain } from './documents.js';
import { enqueueDraftRuns } from './enqueue.js';
import { parseReport, spawnWorker, treeCpuMs, type WorkerReport } from './w12.js';

/** CPU ms of the server's children by kind (backends, walwriter, autovacuum, …), live ones only. */
function cpuByKind(pid: number | undefined): Map<string, number> {
  const out = new Map<string, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const text = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
      if (Number(fields[1]) !== pid) continue;
      const title = readFileSync(`/proc/${entry}/cmdline`, 'utf8').replace(/\0/g, ' ');
      const kind =
        /postgres: (\w+ \w+)/.exec(title)?.[1]?.replace(/^weft postgres$/, 'backend') ?? title.slice(0, 30);
      out.set(kind, (out.get(kind) ?? 0) + ((Number(fields[11]) + Number(fields[12])) * 1000) / 100);
    } catch {}
  }
  return out;
}

/**
 * W12_PERF=<file>: records PostgreSQL's processes (the server and its children at "go") with Linux
 * `perf record` over the window, into <file> (`perf report -i <file> --no-children`); its options are
 * W12_PERF_ARGS (default `-F 1999 -g`; `--call-graph dwarf` for a server built without frame pointers).
 */
function startPerf(pid: number | undefined): ChildProcess | null {
  const file = process.env.W12_PERF;
  if (file === undefined || file === '' || pid === undefined) return null;
  const pids = [String(pid)];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const text = readFileSync(`/proc/${entry}/stat`, 'utf8');
      if (Number(text.slice(text.lastIndexOf(')') + 2).split(' ')[1]) === pid) pids.push(entry);
    } catch {}
  }
  const options = (process.env.W12_PERF_ARGS ?? '-F 1999 -g').split(' ').filter((arg) => arg !== '');
  return spawn('perf', ['record', ...options, '-o', file, '-p', pids.join(',')], {
    stdio: ['ignore', 'ignore', 'inherit'],
  });
}

async function stopPerf(perf: ChildProcess | null): Promise<void> {
  if (perf === null || perf.exitCode !== null) return;
  const exited = new Promise((resolve) => perf.once('exit', resolve));
  perf.kill('SIGINT');
  await exited;
}

const [workersText = '1', runsText = '1000', concurrencyText = '16'] = process.argv.slice(2);
const workers = Number(workersText);
const runs = Number(runsText);
const server = await startTestPostgres({
  fast: false,
  settings: {
    shared_preload_libraries: 'pg_stat_statements',
    'pg_stat_statements.track': 'all',
    'pg_stat_statements.track_planning': 'on',
  },
});
const admin = new pg.Pool({ connectionString: server.url, max: 2, application_name: 'w12-profile' });
admin.on('error', () => {});
try {
  await admin.query('CREATE EXTENSION IF NOT EXISTS pg_stat_statements');
  const schema = `w12p_${process.pid}`;
  const store = new PostgresStore({ connectionString: server.url, schema, max: 4 });
  const client = createWeft({ store, worker: false, steps: { noop: () => null } });
  const app = client.app('w12');
  const workflow = await app.workflows.create({ name: 'w2', draft: chain(10) as never });
  await enqueueDraftRuns(app, workflow.id, runs);
  const children = Array.from({ length: workers }, () =>
    spawnWorker(server.url, schema, Number(concurrencyText), 'on', Number(process.env.W12_WARM ?? 500)),
  );
  await Promise.all(children.map((c) => c.line('ready')));
  await admin.query('SELECT pg_stat_statements_reset()');
  const perf = startPerf(server.pid);
  if (perf !== null) {
    const { rows: who } = await admin.query(
      `SELECT pid, coalesce(nullif(application_name, ''), backend_type) AS name FROM pg_stat_activity ORDER BY pid`,
    );
    console.log(`perf: PostgreSQL's processes: ${who.map((row) => `${row.pid} ${row.name}`).join(', ')}`);
  }
  const waits = new Map<string, number>();
  let samples = 0;
  const pgBefore = treeCpuMs(server.pid);
  const kindsBefore = cpuByKind(server.pid);
  const started = performance.now();
  for (const c of children) c.process.stdin!.write('go\n');
  let done = false;
  const sampler = (async () => {
    while (!done) {
      const { rows } = await admin.query(
        `SELECT coalesce(wait_event_type, 'CPU') || ':' || coalesce(wait_event, state) AS w, count(*)::int AS n
         FROM pg_stat_activity WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()
           AND state <> 'idle' GROUP BY 1`,
      );
      samples++;
      for (const row of rows) waits.set(row.w, (waits.get(row.w) ?? 0) + row.n);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  })();
  for (;;) {
    const live = await store.countRuns({ app_id: 'w12', status: ['PENDING', 'RUNNING'] });
    if (live === 0) break;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const ms = performance.now() - started;
  await stopPerf(perf);
  done = true;
  await sampler;
  const pgCpu = treeCpuMs(server.pid) - pgBefore;
  const kinds = [...cpuByKind(server.pid)].map(
    ([kind, ms]) => `${kind} ${((ms - (kindsBefore.get(kind) ?? 0)) / runs).toFixed(3)}`,
  );
  for (const c of children) c.process.stdin!.write('stop\n');
  const reports = (await Promise.all(children.map((c) => c.line('trips ')))).map(parseReport);
  const perRun = (pick: (r: WorkerReport) => number) =>
    (reports.reduce((sum, r) => sum + pick(r), 0) / runs).toFixed(3);
  console.log(
    `${workers} worker(s), ${runs} runs: ${((runs * 1000) / ms).toFixed(0)} runs/s, ${perRun((r) => r.trips)} trips/run, CPU ms/run workers ${perRun((r) => r.cpuMs)} + postgres ${(pgCpu / runs).toFixed(3)}`,
  );
  console.log(
    `workers, per run: ${perRun((r) => r.claims)} claims (${perRun((r) => r.emptyClaims)} empty), ${perRun((r) => r.groups)} group appends, ${perRun((r) => r.notices)} notices received, ${perRun((r) => r.switches)} context switches waiting + ${perRun((r) => r.preempted)} preempted`,
  );
  console.log(
    `PostgreSQL CPU ms/run by process (live ones; exited backends not counted): ${kinds.join(', ')}`,
  );
  const { rows } = await admin.query(
    `SELECT calls, plans, rows, total_exec_time, total_plan_time, shared_blks_hit, shared_blks_read, shared_blks_dirtied,
            wal_bytes, wal_records, left(regexp_replace(query, '\\s+', ' ', 'g'), 160) AS q
     FROM pg_stat_statements WHERE query NOT LIKE '%pg_stat_%' ORDER BY total_exec_time + total_plan_time DESC LIMIT 25`,
  );
  let total = 0;
  for (const row of rows) total += row.total_exec_time + row.total_plan_time;
  console.log(`statements: ${(total / runs).toFixed(3)} ms/run of execution + planning in all`);
  for (const row of rows) {
    console.log(
      `${((row.total_exec_time + row.total_plan_time) / runs).toFixed(3)} ms/run (plan ${(row.total_plan_time / runs).toFixed(3)} in ${(row.plans / runs).toFixed(2)} plans/run) calls/run ${(row.calls / runs).toFixed(2)} rows/run ${(row.rows / runs).toFixed(1)} blks hit ${(Number(row.shared_blks_hit) / runs).toFixed(0)} dirtied ${(Number(row.shared_blks_dirtied) / runs).toFixed(1)} WAL ${(Number(row.wal_bytes) / runs).toFixed(0)} B/${(Number(row.wal_records) / runs).toFixed(0)} rec | ${row.q}`,
    );
  }
  console.log(
    `wait events (${samples} samples):`,
    [...waits]
      .sort((a, b) => b[1] - a[1])
      .map(([w, n]) => `${w} ${n}`)
      .join(', '),
  );
  await client.close();
  await store.close();
} finally {
  await admin.end();
  await server.stop();
}
