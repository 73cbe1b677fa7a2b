/**
 * Durable runs through the registry (issue 12):
 *
 * - W10 durable throughput: sequential `runs.run` of the W2 10-step no-op chain, every run journaled
 *   to `@weft/store-sqlite` (a file on local disk, WAL, synchronous=NORMAL) under a lease; beside it the
 *   same through the registry on the default MemoryStore (the "baseline": what the journal costs on top
 *   of the registry). Notes: CPU time per run (the figure other load on a shared machine disturbs
 *   least) and synchronous=FULL (survives a power loss) on fewer runs.
 * - W11 recovery: a database holding 1,000 runs interrupted in their first step (their process
 *   stopped); the time from opening it (store + `createWeft`, the same owner id: a restarted process)
 *   to all 1,000 resumed and COMPLETED. The baseline is opening the same database and reading every
 *   run's journal, without resuming anything.
 */
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createWeft, MemoryStore, type WeftStore } from '@weft/core';
import { SqliteStore, type SynchronousMode } from '@weft/store-sqlite';
import { chain } from './documents.js';
import { enqueueDraftRuns } from './enqueue.js';
import { fmt, mapStat, type SampleOptions, sample, stat } from './harness.js';
import type { Row } from './workloads.js';

export interface DurableSizes {
  w10Runs: number;
  /** Runs per sample under synchronous=FULL (every commit waits for an fsync). */
  w10FullRuns: number;
  w11Runs: number;
  sampling: SampleOptions;
}

export const DURABLE_FULL: DurableSizes = {
  w10Runs: 1_000,
  w10FullRuns: 100,
  w11Runs: 1_000,
  sampling: { rounds: 3, iterations: 2, warmup: 1 },
};
export const DURABLE_QUICK: DurableSizes = {
  w10Runs: 20,
  w10FullRuns: 5,
  w11Runs: 20,
  sampling: { rounds: 1, iterations: 1, warmup: 0 },
};

const APP = 'bench';
const STEPS = 10;
const noop = () => null;

function result(
  fields: Omit<Row, 'ratio' | 'met' | 'notes'> & { notes: string[] },
  met: (r: Row) => boolean,
): Row {
  const ratio = fields.higherIsBetter
    ? fields.baseline.median / fields.weft.median
    : fields.weft.median / fields.baseline.median;
  const out: Row = { ...fields, ratio, met: false };
  out.met = met(out);
  return out;
}

/** A registry on `store` with a workflow of the W2 chain; `run()` runs it once. */
async function chainRunner(store: WeftStore) {
  const weft = createWeft({ store, steps: { noop }, recover: false });
  const app = weft.app(APP);
  const workflow = await app.workflows.create({ name: 'w2', draft: chain(STEPS) as never });
  let completed = true;
  return {
    weft,
    get completed() {
      return completed;
    },
    async run() {
      const run = await app.runs.run(workflow.id, { version: 'draft' });
      if (run.status !== 'COMPLETED') completed = false;
    },
  };
}

export async function w10(sizes: DurableSizes): Promise<Row> {
  const dir = mkdtempSync(join(tmpdir(), 'weft-w10-'));
  const runs = sizes.w10Runs;
  const open = (synchronous: SynchronousMode, name: string) =>
    new SqliteStore({ path: join(dir, `${name}.db`), synchronous });
  try {
    const sqlite = open('NORMAL', 'normal');
    const durable = await chainRunner(sqlite);
    const memory = await chainRunner(new MemoryStore());
    const cpu = { durable: 0, memory: 0, runsDurable: 0, runsMemory: 0 };
    const timed = (which: 'durable' | 'memory', runner: typeof durable) => async () => {
      const before = process.cpuUsage();
      for (let i = 0; i < runs; i++) await runner.run();
      const used = process.cpuUsage(before);
      cpu[which] += (used.user + used.system) / 1000;
      if (which === 'durable') cpu.runsDurable += runs;
      else cpu.runsMemory += runs;
    };
    const samples = await sample(
      { weft: timed('durable', durable), baseline: timed('memory', memory) },
      sizes.sampling,
    );
    const perSecond = (ms: number) => (runs * 1000) / ms;

    // synchronous=FULL on fewer runs (each of a run's commits waits for an fsync).
    const full = await chainRunner(open('FULL', 'full'));
    const fullSamples = await sample(
      {
        full: async () => {
          for (let i = 0; i < sizes.w10FullRuns; i++) await full.run();
        },
      },
      { rounds: 1, iterations: sizes.sampling.iterations, warmup: 0 },
    );
    const fullRate = stat(fullSamples.full!.map((ms) => (sizes.w10FullRuns * 1000) / ms));
    const appends = await sqlite.loadJournal(
      (await durable.weft.app(APP).runs.list({ limit: 1 })).data[0]!.id,
    );
    for (const w of [durable.weft, memory.weft, full.weft]) await w.close();
    sqlite.close();
    return result(
      {
        id: 'W10',
        workload: `durable throughput: ${runs.toLocaleString('en-US')} sequential runs.run of the W2 ${STEPS}-step chain, journaled to SQLite (file, WAL, synchronous=NORMAL)`,
        unit: 'runs/s',
        higherIsBetter: true,
        weft: mapStat(stat(samples.weft!), perSecond),
        baseline: mapStat(stat(samples.baseline!), perSecond),
        baselineName: 'the registry on MemoryStore',
        target: '≥ 3,000 runs/s',
        checks: { 'every run COMPLETED': durable.completed && memory.completed && full.completed },
        notes: [
          `CPU time per run: SQLite ${fmt((cpu.durable * 1000) / cpu.runsDurable)} µs, memory ${fmt((cpu.memory * 1000) / cpu.runsMemory)} µs`,
          `synchronous=FULL: ${fmt(fullRate.median)} runs/s [${fmt(fullRate.min)}–${fmt(fullRate.max)}] (${sizes.w10FullRuns} runs per sample)`,
          `journal entries per run: ${appends.length}`,
        ],
      },
      (r) => r.weft.median >= 3_000,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A database holding `n` runs of the W2 chain interrupted in their first step, owned by `owner`. */
async function interrupted(path: string, n: number, owner: string): Promise<void> {
  const store = new SqliteStore({ path });
  // The first step never settles in this process: its runs are in progress when the store closes.
  const weft = createWeft({
    store,
    owner: { id: owner },
    recover: false,
    steps: { noop, gate: () => new Promise(() => undefined) },
    onStoreError: () => undefined,
  });
  const app = weft.app(APP);
  const steps = chain(STEPS).steps.map((s, i) => (i === 0 ? { ...s, type: 'gate' } : s));
  const workflow = await app.workflows.create({ name: 'w11', draft: { key: 'w11', steps } as never });
  await enqueueDraftRuns(app, workflow.id, n);
  await weft.idle();
  // The process "dies": nothing more reaches the file (the runs stay RUNNING, owned by `owner`).
  store.close();
}

export async function w11(sizes: DurableSizes): Promise<Row> {
  const dir = mkdtempSync(join(tmpdir(), 'weft-w11-'));
  const n = sizes.w11Runs;
  const owner = 'bench-w11';
  const template = join(dir, 'template.db');
  await interrupted(template, n, owner);
  let sampleNo = 0;
  let completed = true;
  let cpuMs = 0;
  let recovered = 0;
  const copy = () => {
    const path = join(dir, `sample-${++sampleNo}.db`);
    copyFileSync(template, path);
    return path;
  };
  try {
    const samples = await sample(
      {
        weft: async () => {
          const path = copy();
          const before = process.cpuUsage();
          const store = new SqliteStore({ path });
          // A restarted process (the same owner id) takes its runs back at once, on open.
          const weft = createWeft({ store, owner: { id: owner }, steps: { noop, gate: noop } });
          for (;;) {
            const live = await store.countRuns({ app_id: APP, status: ['PENDING', 'RUNNING'] });
            if (live === 0) break;
            await new Promise((resolve) => setTimeout(resolve, 2));
          }
          const used = process.cpuUsage(before);
          cpuMs += (used.user + used.system) / 1000;
          recovered += n;
          const done = await store.countRuns({ app_id: APP, status: 'COMPLETED' });
          if (done !== n) completed = false;
          await weft.close();
          store.close();
        },
        baseline: async () => {
          const store = new SqliteStore({ path: copy() });
          const page = await store.listRuns({ app_id: APP, limit: 100 });
          let cursor = page.next_cursor;
          const ids = page.data.map((r) => r.id);
          while (cursor !== null) {
            const next = await store.listRuns({ app_id: APP, limit: 100, cursor });
            ids.push(...next.data.map((r) => r.id));
            cursor = next.next_cursor;
          }
          for (const id of ids) await store.loadJournal(id);
          store.close();
        },
      },
      sizes.sampling,
    );
    const seconds = (ms: number) => ms / 1000;
    return result(
      {
        id: 'W11',
        workload: `recovery: open a SQLite file holding ${n.toLocaleString('en-US')} interrupted runs (W2 chain, no-op steps) → all resumed and COMPLETED`,
        unit: 's',
        higherIsBetter: false,
        weft: mapStat(stat(samples.weft!), seconds),
        baseline: mapStat(stat(samples.baseline!), seconds),
        baselineName: 'open + read every journal',
        target: '≤ 2 s',
        checks: { 'every interrupted run resumed and COMPLETED': completed },
        notes: [`CPU time per resumed run: ${fmt((cpuMs * 1000) / recovered)} µs`],
      },
      (r) => r.weft.median <= 2,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
