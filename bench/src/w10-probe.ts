/**
 * W10 alone, for paired before/after measurements and CPU profiles (docs/performance.md, "W10 and W11"):
 * builds of @weft/core and @weft/store-sqlite, each given by the repository root that holds their
 * `packages/*\/dist`, run W10's protocol — `runs.run` of the W2 10-step no-op chain (a draft) through
 * `createWeft` — sequentially, after a warm-up of 300 runs each; prints the CPU time per run
 * (`process.cpuUsage`) and the runs per second of wall, median of the batches.
 *
 *   node --expose-gc bench/dist/w10-probe.js <root>[,<root>] [sqlite|memory] [sync|async] [runs per batch] [batches]
 *
 * With two roots (before,after) both are loaded in this one process, each with its own registry and
 * database file, and their batches alternate (A B A B …): a machine shared with other work slows both
 * alike, and the median of the per-pair ratios (after / before CPU) is the figure to read. With
 * `W10_PROFILE=<file>` (one root) it writes a CPU profile (`.cpuprofile`, 100 µs sampling) of the
 * measured batches only: the warm-up, module loading and set-up are left out. With `W10_INPUT_FIELDS=<n>`
 * each run gets an input of n fields of mixed types (50: about 2 KB of JSON), the same object every run.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

type Run = { status: string };
type App = {
  workflows: { create(input: unknown): Promise<{ id: string }> };
  runs: { run(id: string, input: unknown): Promise<Run> };
};
type Weft = { app(id: string): App; close(): Promise<void> };
type CreateWeft = (options: unknown) => Weft;
type Store = { close?: () => void };

const STEPS = 10;
const WARMUP = 300;

function chain(n: number) {
  return {
    key: `chain-noop-${n}`,
    steps: Array.from({ length: n }, (_, i) => ({
      type: 'noop',
      key: `s${i}`,
      destinations: i + 1 < n ? [`s${i + 1}`] : [],
    })),
  };
}

/** `n` fields cycling through a string, an integer, a float, a boolean, null, an array and an object. */
function benchInput(n: number): Record<string, unknown> {
  const kinds = [
    (i: number) => `The value of field ${i}: a sentence of ordinary text.`,
    (i: number) => i * 1000,
    (i: number) => i / 7,
    (i: number) => i % 2 === 0,
    () => null,
    (i: number) => [i, `item ${i}`, true],
    (i: number) => ({ id: i, label: `the label of field ${i}`, tags: ['alpha', 'beta'] }),
  ];
  return Object.fromEntries(Array.from({ length: n }, (_, i) => [`field_${i}`, kinds[i % kinds.length]!(i)]));
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[values.length >> 1]!;

interface Subject {
  runOnce(): Promise<void>;
  close(): Promise<void>;
}

async function subject(root: string, storeKind: string, handlerKind: string, dir: string): Promise<Subject> {
  const load = (pkg: string) =>
    import(pathToFileURL(join(resolve(root), 'packages', pkg, 'dist', 'index.js')).href);
  const core = (await load('core')) as { createWeft: CreateWeft; MemoryStore: new () => Store };
  let store: Store;
  if (storeKind === 'sqlite') {
    const { SqliteStore } = (await load('store-sqlite')) as {
      SqliteStore: new (options: { path: string; synchronous: string }) => Store;
    };
    store = new SqliteStore({ path: mkdtempSync(join(dir, 'db-')) + '/w10.db', synchronous: 'NORMAL' });
  } else {
    store = new core.MemoryStore();
  }
  const noop = handlerKind === 'sync' ? () => null : async () => null;
  const weft = core.createWeft({ store, steps: { noop }, recover: false });
  const app = weft.app('bench');
  const fields = Number(process.env.W10_INPUT_FIELDS ?? 0);
  const options = fields > 0 ? { version: 'draft', input: benchInput(fields) } : { version: 'draft' };
  const workflow = await app.workflows.create({ name: 'w2', draft: chain(STEPS) });
  return {
    async runOnce() {
      const run = await app.runs.run(workflow.id, options);
      if (run.status !== 'COMPLETED') throw new Error(`A run ended ${run.status}.`);
    },
    async close() {
      await weft.close();
      store.close?.();
    },
  };
}

async function main(): Promise<void> {
  const [roots, storeKind = 'sqlite', handlerKind = 'sync', perBatchArg = '1000', batchesArg = '6'] =
    process.argv.slice(2);
  if (
    roots === undefined ||
    !['sqlite', 'memory'].includes(storeKind) ||
    !['sync', 'async'].includes(handlerKind)
  ) {
    throw new Error(
      'Usage: node --expose-gc bench/dist/w10-probe.js <root>[,<root>] [sqlite|memory] [sync|async] [runs per batch] [batches]',
    );
  }
  const perBatch = Number(perBatchArg);
  const batches = Number(batchesArg);
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc === undefined) throw new Error('Run with node --expose-gc.');
  const dir = mkdtempSync(join(tmpdir(), 'weft-w10-probe-'));
  try {
    const subjects: Subject[] = [];
    for (const root of roots.split(',')) subjects.push(await subject(root, storeKind, handlerKind, dir));
    for (const s of subjects) for (let i = 0; i < WARMUP; i++) await s.runOnce();
    const profile = process.env.W10_PROFILE;
    const session = profile === undefined || profile === '' ? null : new Session();
    if (session !== null) {
      session.connect();
      await session.post('Profiler.enable');
      await session.post('Profiler.setSamplingInterval', { interval: 100 });
      await session.post('Profiler.start');
    }
    const cpu: number[][] = subjects.map(() => []);
    const rate: number[][] = subjects.map(() => []);
    for (let b = 0; b < batches; b++) {
      // Alternate which goes first, so that neither always follows the other's garbage.
      const order = b % 2 === 0 ? subjects.map((_, k) => k) : subjects.map((_, k) => subjects.length - 1 - k);
      for (const k of order) {
        gc();
        const c0 = process.cpuUsage();
        const t0 = performance.now();
        for (let i = 0; i < perBatch; i++) await subjects[k]!.runOnce();
        const wall = performance.now() - t0;
        const used = process.cpuUsage(c0);
        cpu[k]!.push((used.user + used.system) / perBatch);
        rate[k]!.push((perBatch * 1000) / wall);
      }
    }
    if (session !== null) {
      const { profile: taken } = await session.post('Profiler.stop');
      writeFileSync(profile!, JSON.stringify(taken));
      session.disconnect();
    }
    for (const s of subjects) await s.close();
    const out: Record<string, unknown> = {
      store: storeKind,
      handlers: handlerKind,
      input_fields: Number(process.env.W10_INPUT_FIELDS ?? 0),
    };
    roots.split(',').forEach((root, k) => {
      out[root] = {
        cpu_us_per_run: Math.round(median(cpu[k]!)),
        cpu_us_per_run_min: Math.round(Math.min(...cpu[k]!)),
        runs_per_s: Math.round(median(rate[k]!)),
      };
    });
    if (subjects.length === 2) {
      out.cpu_ratio_median = Number(median(cpu[1]!.map((c, b) => c / cpu[0]![b]!)).toFixed(3));
    }
    console.log(JSON.stringify(out));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
