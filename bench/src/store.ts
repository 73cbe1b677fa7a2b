/**
 * S1: the durable store's ceiling — journaled 10-step runs written straight to `@weft/store-sqlite`
 * (a file on local disk, WAL), sequentially, with no engine in the way. It bounds W10 (durable
 * throughput through the engine) from above. Three shapes:
 *
 * - S1a per-step batches, synchronous=NORMAL: the insert with run.started, one batch per step
 *   (step.started + step.settled with its record), run.ended with the run patch: 12 transactions/run,
 *   what a lone run whose steps each settle in their own macrotask appends.
 * - S1b the same with synchronous=FULL: the price of surviving a power loss.
 * - S1c one batch per run (insert, 22 entries, 10 records, the patch): 1 transaction/run, a run of
 *   synchronous steps that the fast paths finish in one macrotask.
 * - S1d group commit: 100 runs in flight, each macrotask appending one batch for every one of them in
 *   one `appendJournals` (12 transactions per 100 runs): many concurrent runs.
 *
 * The baseline is plain better-sqlite3 writing the same rows in the same transactions with prepared
 * statements and no checks, on the same schema: what SQLite itself costs. The memory store's figure for
 * S1a is a note.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MemoryStore, type StepRecord, type WeftStore } from '@weft/core';
import type { JournalAppend, JournalEntry, RunRow } from '@weft/core/store';
import { SqliteStore, type SynchronousMode } from '@weft/store-sqlite';
import Database from 'better-sqlite3';
import { fmtStat, mapStat, type SampleOptions, type Stat, sample, stat } from './harness.js';
import type { Row } from './workloads.js';

export interface StoreSizes {
  runs: number;
  /** Runs per sample under synchronous=FULL (each commit waits for an fsync: far fewer fit a sample). */
  fullRuns: number;
  steps: number;
  sampling: SampleOptions;
}

export const STORE_FULL: StoreSizes = {
  runs: 1_000,
  fullRuns: 50,
  steps: 10,
  sampling: { rounds: 3, iterations: 2, warmup: 1 },
};
export const STORE_QUICK: StoreSizes = {
  runs: 20,
  fullRuns: 5,
  steps: 10,
  sampling: { rounds: 1, iterations: 1, warmup: 0 },
};

const OWNER = 'bench';
const FAR = '2999-01-01T00:00:00.000Z';

function runRow(id: string, now: string, steps: number): RunRow {
  const draft = {
    steps: Array.from({ length: steps }, (_, i) => ({
      type: 'noop',
      key: `s${i}`,
      destinations: i + 1 < steps ? [`s${i + 1}`] : [],
    })),
  };
  return {
    id,
    result: null,
    input: { n: 1 },
    status: 'RUNNING',
    origin: 'WORKFLOW',
    error: null,
    started_at: now,
    ended_at: null,
    app_id: 'app',
    workflow_app_id: 'app',
    workflow_id: 'wf',
    workflow_version_draft: draft as never,
    workflow_version: null,
    collection_id: null,
    record_id: null,
    version: null,
    usage: { total: 0, calls: [], steps: {} },
    retention: null,
    retention_due_at: null,
    created_at: now,
    updated_at: now,
    replay_of: null,
    purged_at: null,
  };
}

function record(key: string, now: string, output: unknown): StepRecord {
  return {
    status: 'COMPLETED',
    type: 'noop',
    key,
    output,
    logs: [],
    calls: [],
    start: now,
    end: now,
    error: null,
    attempts: 1,
  };
}

interface Batch {
  entries: JournalEntry[];
  steps?: Record<string, StepRecord>;
  run?: Partial<RunRow>;
}

/** The batches a 10-step chain appends: per step (S1a/S1b) or all in one (S1c). */
function batchesOf(steps: number, now: string, perStep: boolean): Batch[] {
  const batches: Batch[] = [];
  let seq = 0;
  // The store sees entries as opaque beyond their bookkeeping fields: these carry the data S1 needs.
  const e = (type: string, data: Record<string, unknown> = {}): JournalEntry =>
    ({ seq: ++seq, type, at: now, ...data }) as unknown as JournalEntry;
  batches.push({ entries: [e('run.started', { input: { n: 1 } })] });
  for (let i = 0; i < steps; i++) {
    const key = `s${i}`;
    const output = { value: i };
    batches.push({
      entries: [
        e('step.started', { key, iteration: null, attempt: 1 }),
        e('step.settled', { key, iteration: null, attempt: 1, status: 'COMPLETED', output, usage: null }),
      ],
      steps: { [key]: record(key, now, output) },
    });
  }
  batches.push({
    entries: [e('run.ended', { status: 'COMPLETED', result: { value: steps - 1 } })],
    run: { status: 'COMPLETED', result: { value: steps - 1 }, ended_at: now, updated_at: now },
  });
  if (perStep) return batches;
  const all: Batch = { entries: [], steps: {}, run: batches.at(-1)!.run! };
  for (const b of batches) {
    all.entries.push(...b.entries);
    Object.assign(all.steps!, b.steps ?? {});
  }
  return [all];
}

let counter = 0;

/** The store calls of `runs` runs: each tick (an array) is one group commit. */
export function ticks(runs: number, steps: number, perStep: boolean, prefix: string): JournalAppend[][] {
  const now = new Date().toISOString();
  const ids = Array.from({ length: runs }, () => `${prefix}-${++counter}`);
  const plans = ids.map(() => batchesOf(steps, now, perStep));
  const out: JournalAppend[][] = [];
  for (let t = 0; t < plans[0]!.length; t++) {
    out.push(
      ids.map((id, r) => {
        const b = plans[r]![t]!;
        return {
          run_id: id,
          ...(t === 0 ? { insert: runRow(id, now, steps) } : {}),
          batch: {
            owner_id: OWNER,
            now,
            entries: b.entries,
            ...(t === 0 ? { lease_until: FAR } : {}),
            ...(b.steps === undefined ? {} : { steps: b.steps }),
            ...(b.run === undefined ? {} : { run: b.run as never }),
          },
        };
      }),
    );
  }
  return out;
}

/** `total` runs, `inFlight` at a time, one group commit per tick. */
async function journaled(
  store: WeftStore,
  total: number,
  inFlight: number,
  steps: number,
  perStep: boolean,
): Promise<boolean> {
  let ok = true;
  for (let done = 0; done < total; done += inFlight) {
    for (const tick of ticks(Math.min(inFlight, total - done), steps, perStep, 'run')) {
      for (const outcome of await store.appendJournals(tick)) ok &&= outcome.ok;
    }
  }
  return ok;
}

/** The same rows with plain better-sqlite3: prepared statements, one transaction per tick, no checks. */
function rawWriter(path: string, synchronous: SynchronousMode) {
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma(`synchronous = ${synchronous}`);
  const insertRun = db.prepare(
    `INSERT INTO runs (id, app_id, workflow_app_id, workflow_id, status, origin, created_at, updated_at, started_at,
       input, result, error, usage, retention, workflow_version, workflow_version_draft, owner_id, lease_until)
     VALUES (?, 'app', 'app', 'wf', 'RUNNING', 'WORKFLOW', ?, ?, ?, ?, 'null', 'null', ?, 'null', 'null', ?, ?, ?)`,
  );
  // One row per append, entries and step records together, as the store writes it (migration 4, "appends").
  const insertAppend = db.prepare(
    'INSERT INTO appends (run_id, last_seq, seq, steps, entries) VALUES (?, ?, ?, ?, ?)',
  );
  const end = db.prepare(
    "UPDATE runs SET status = 'COMPLETED', result = ?, ended_at = ?, updated_at = ?, owner_id = NULL, lease_until = NULL WHERE id = ?",
  );
  const apply = db.transaction((tick: JournalAppend[]) => {
    for (const { run_id: id, insert, batch } of tick) {
      if (insert !== undefined) {
        insertRun.run(
          id,
          insert.created_at,
          insert.created_at,
          insert.created_at,
          JSON.stringify(insert.input),
          JSON.stringify(insert.usage),
          JSON.stringify(insert.workflow_version_draft),
          OWNER,
          FAR,
        );
      }
      const entries = batch.entries;
      const pack = entries.map(({ run_id: _, seq: __, type, at, ...data }) => [type, at, data]);
      const steps = batch.steps === undefined ? null : JSON.stringify(batch.steps);
      insertAppend.run(
        id,
        entries.length === 0 ? null : entries[entries.length - 1]!.seq,
        entries.length === 0 ? null : entries[0]!.seq,
        steps,
        entries.length === 0 ? null : JSON.stringify(pack),
      );
      if (batch.run !== undefined) {
        end.run(JSON.stringify(batch.run.result), batch.run.ended_at, batch.run.updated_at, id);
      }
    }
  });
  return {
    write(total: number, inFlight: number, steps: number, perStep: boolean): void {
      for (let done = 0; done < total; done += inFlight) {
        for (const tick of ticks(Math.min(inFlight, total - done), steps, perStep, 'raw'))
          apply.immediate(tick);
      }
    },
    close: () => db.close(),
  };
}

interface Shape {
  id: string;
  synchronous: SynchronousMode;
  perStep: boolean;
  inFlight: number;
  label: string;
}

const SHAPES: readonly Shape[] = [
  {
    id: 'S1a',
    synchronous: 'NORMAL',
    perStep: true,
    inFlight: 1,
    label: 'sequential runs, per-step batches (12 transactions/run), synchronous=NORMAL',
  },
  {
    id: 'S1b',
    synchronous: 'FULL',
    perStep: true,
    inFlight: 1,
    label: 'sequential runs, per-step batches (12 transactions/run), synchronous=FULL',
  },
  {
    id: 'S1c',
    synchronous: 'NORMAL',
    perStep: false,
    inFlight: 1,
    label: 'sequential runs, one batch per run (1 transaction/run), synchronous=NORMAL',
  },
  {
    id: 'S1d',
    synchronous: 'NORMAL',
    perStep: true,
    inFlight: 100,
    label:
      '100 runs in flight, per-step batches grouped per tick (12 transactions/100 runs), synchronous=NORMAL',
  },
];

async function verify(path: string, steps: number): Promise<boolean> {
  const store = new SqliteStore({ path });
  try {
    const recoverable = await store.listRecoverableRuns(new Date().toISOString(), 10);
    const page = await store.listRuns({ app_id: 'app', limit: 5 });
    let ok = recoverable.length === 0 && page.data.length > 0;
    for (const run of page.data) {
      ok &&= run.status === 'COMPLETED';
      const journal = await store.loadJournal(run.id);
      ok &&= journal.length === 2 * steps + 2 && journal.every((e, i) => e.seq === i + 1);
      const records = (await store.getStepResults([run.id])).get(run.id)!;
      ok &&= Object.keys(records).length === steps;
    }
    return ok;
  } finally {
    store.close();
  }
}

export async function s1(sizes: StoreSizes): Promise<Row[]> {
  const dir = mkdtempSync(join(tmpdir(), 'weft-bench-store-'));
  const rows: Row[] = [];
  try {
    let memoryNote = '';
    for (const shape of SHAPES) {
      const runs = shape.synchronous === 'FULL' ? sizes.fullRuns : sizes.runs;
      const perSecond = (ms: number) => (runs * 1000) / ms;
      const weftPath = join(dir, `${shape.id}-weft.db`);
      const rawPath = join(dir, `${shape.id}-raw.db`);
      const store = new SqliteStore({ path: weftPath, synchronous: shape.synchronous });
      new SqliteStore({ path: rawPath }).close(); // the same schema for the baseline
      const raw = rawWriter(rawPath, shape.synchronous);
      const memory = new MemoryStore();
      let allOk = true;
      let cpuMicros = 0;
      let cpuRuns = 0;
      const tasks: Record<string, () => Promise<unknown>> = {
        weft: async () => {
          const before = process.cpuUsage();
          allOk &&= await journaled(store, runs, shape.inFlight, sizes.steps, shape.perStep);
          const used = process.cpuUsage(before);
          cpuMicros += used.user + used.system;
          cpuRuns += runs;
        },
        baseline: async () => raw.write(runs, shape.inFlight, sizes.steps, shape.perStep),
      };
      if (shape.id === 'S1a') {
        tasks.memory = async () => {
          allOk &&= await journaled(memory, runs, 1, sizes.steps, true);
        };
      }
      const samples = await sample(tasks, sizes.sampling);
      store.close();
      raw.close();
      const weft: Stat = mapStat(stat(samples.weft!), perSecond);
      const baseline: Stat = mapStat(stat(samples.baseline!), perSecond);
      if (samples.memory !== undefined) {
        memoryNote = `MemoryStore, the same appends (S1a shape): ${fmtStat(mapStat(stat(samples.memory), perSecond))} runs/s`;
      }
      const checks = {
        'every append accepted': allOk,
        'every run COMPLETED, its journal gapless, its step records written': await verify(
          weftPath,
          sizes.steps,
        ),
      };
      const durability =
        shape.synchronous === 'FULL'
          ? 'none: it shows what FULL costs against S1a'
          : '≥ 3,000 runs/s (W10’s target)';
      const cpuNote = `CPU time (user + system) of this process: ${Math.round((cpuRuns * 1e6) / cpuMicros).toLocaleString('en-US')} runs per CPU-second (the wall figure on a shared machine is lower)`;
      const ratioNote = `${runs.toLocaleString('en-US')} runs of ${sizes.steps} steps per sample, ${shape.inFlight} in flight; file on local disk (${tmpdir()}), WAL`;
      const row: Row = {
        id: shape.id,
        workload: `durable store ceiling: ${shape.label}`,
        unit: 'runs/s',
        higherIsBetter: true,
        weft,
        baseline,
        baselineName: 'plain better-sqlite3, same rows and transactions',
        ratio: baseline.median / weft.median,
        target: durability,
        met: shape.synchronous === 'FULL' ? true : weft.median >= 3_000,
        checks,
        notes: [ratioNote, cpuNote],
      };
      rows.push(row);
    }
    const full = rows.find((r) => r.id === 'S1b');
    const normal = rows.find((r) => r.id === 'S1a');
    if (full !== undefined && normal !== undefined) {
      normal.notes.push(
        `FULL costs ${(normal.weft.median / full.weft.median).toFixed(1)}× NORMAL here (S1b)`,
      );
    }
    if (memoryNote !== '' && normal !== undefined) normal.notes.push(memoryNote);
    return rows;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
