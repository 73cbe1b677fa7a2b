/**
 * Weft's benchmark suite: `npx pnpm@10 bench` from the repository root (builds @weft/core and this
 * package with tsc, then runs the compiled JS: `node --expose-gc dist/main.js`).
 *
 *   --quick          every workload at a tiny size, sampled once (the CI smoke; timings meaningless)
 *   --only W1,W3     run only these workloads (W7 reuses W1/W3 when they ran; W1V: W1's variants
 *                    -fresh, -obs, -tpl; S1 and S2 are the store ceilings: SQLite, PostgreSQL)
 *   --json FILE      also write the results as JSON
 *
 * Profile one workload: `node --expose-gc --cpu-prof bench/dist/main.js --only W1`.
 */

import { writeFileSync } from 'node:fs';
import { COMPILE_FULL, COMPILE_QUICK, w15 } from './compile.js';
import { DURABLE_FULL, DURABLE_QUICK, w10, w11 } from './durable.js';
import { fmt, fmtStat, type Machine, machine } from './harness.js';
import { POSTGRES_FULL, POSTGRES_QUICK, s2 } from './postgres.js';
import { STORE_FULL, STORE_QUICK, s1 } from './store.js';
import { W12_FULL, W12_QUICK, w12 } from './w12.js';
import { W13_FULL, W13_QUICK, w13 } from './w13.js';
import { W14_FULL, W14_QUICK, w14 } from './w14.js';
import {
  FULL,
  QUICK,
  type Row,
  w1,
  w1Variants,
  w2,
  w3,
  w4,
  w5,
  w5Variants,
  w6,
  w7,
  w8,
  w9,
} from './workloads.js';

interface Args {
  quick: boolean;
  only: Set<string> | null;
  json: string | null;
}

function parseArgs(argv: string[]): Args {
  const args: Args = { quick: false, only: null, json: null };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--quick') args.quick = true;
    else if (a === '--only') args.only = new Set(argv[++i]!.toUpperCase().split(','));
    else if (a === '--json') args.json = argv[++i]!;
    else if (a === '--') continue;
    else throw new Error(`Unknown argument ${a}. Use --quick, --only W1,W2 or --json FILE.`);
  }
  return args;
}

export interface Report {
  quick: boolean;
  machine: Machine;
  startedAt: string;
  seconds: number;
  rows: Row[];
}

function table(rows: readonly Row[]): string {
  const lines = [
    '| | workload | Weft | Weft CPU time | baseline (plain JS) | ratio | target | met | warm (sync handler, no GC) |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- |',
  ];
  for (const r of rows) {
    lines.push(
      `| ${r.id} | ${r.workload} | ${fmtStat(r.weft)} ${r.unit} | ${r.cpu === undefined ? '—' : `${fmtStat(r.cpu)} ${r.unit}`} | ${fmtStat(r.baseline)} ${r.unit} (${r.baselineName}) | ${fmt(r.ratio)}× | ${r.target} | ${r.met ? 'yes' : '**no**'} | ${r.warm === undefined ? '—' : `${fmtStat(r.warm)} ${r.unit}`} |`,
    );
  }
  return lines.join('\n');
}

function details(rows: readonly Row[]): string {
  const lines: string[] = [];
  for (const r of rows) {
    for (const n of r.notes) lines.push(`- ${r.id}: ${n}`);
    for (const [check, ok] of Object.entries(r.checks))
      lines.push(`- ${r.id} ${ok ? 'ok' : 'FAILED'}: ${check}`);
  }
  return lines.join('\n');
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const sizes = args.quick ? QUICK : FULL;
  const wants = (id: string) => args.only === null || args.only.has(id);
  const m = machine();
  const started = performance.now();
  const startedAt = new Date().toISOString();
  console.log(
    `Weft benchmark suite${args.quick ? ' (--quick: tiny sizes, one sample; timings are not meaningful)' : ''}`,
  );
  console.log(
    `Machine: ${m.cpu} × ${m.cores}, ${m.memoryGiB} GiB; Node ${m.node} (V8 ${m.v8}), ${m.platform}; load ${m.loadavg}`,
  );
  console.log('Figures: median [min–max] over the samples; ratio = Weft cost / baseline cost.\n');

  const rows: Row[] = [];
  const step = async <T extends Row | Row[]>(id: string, run: () => Promise<T>): Promise<T | undefined> => {
    if (!wants(id)) return undefined;
    const t = performance.now();
    const out = await run();
    for (const r of Array.isArray(out) ? out : [out]) {
      rows.push(r);
      console.log(
        `${r.id.padEnd(4)} ${fmtStat(r.weft)} ${r.unit} vs ${fmtStat(r.baseline)} → ${fmt(r.ratio)}×; target ${r.target}: ${r.met ? 'met' : 'MISSED'}` +
          ` (${((performance.now() - t) / 1000).toFixed(1)} s)`,
      );
    }
    return out;
  };
  const r1 = await step('W1', () => w1(sizes));
  await step('W1V', () => w1Variants(sizes));
  await step('W2', () => w2(sizes));
  const r3 = await step('W3', () => w3(sizes));
  await step('W4', () => w4(sizes));
  await step('W5', () => w5(sizes));
  await step('W5B', () => w5Variants(sizes));
  await step('W6', () => w6(sizes));
  await step('W7', () => w7(sizes, r1, r3));
  await step('W8', () => w8(sizes));
  await step('W9', () => w9(sizes));
  await step('W10', () => w10(args.quick ? DURABLE_QUICK : DURABLE_FULL));
  await step('W11', () => w11(args.quick ? DURABLE_QUICK : DURABLE_FULL));
  await step('W15', () => w15(args.quick ? COMPILE_QUICK : COMPILE_FULL));
  await step('S1', () => s1(args.quick ? STORE_QUICK : STORE_FULL));
  await step('S2', async () => {
    try {
      return await s2(args.quick ? POSTGRES_QUICK : POSTGRES_FULL);
    } catch (error) {
      // PostgreSQL could not start here: say so loudly; CI must run S2.
      if (process.env.CI) throw error;
      console.error(
        `\n!!! S2 SKIPPED: PostgreSQL could not start: ${error instanceof Error ? error.message : error}\n`,
      );
      return [];
    }
  });
  await step('W12', async () => {
    try {
      // W12_CONCURRENCY: the workers' `concurrency` (a setting of the benchmark; 16 by default), to draw
      // the curve against batch size by hand.
      const concurrency = Number(process.env.W12_CONCURRENCY ?? W12_FULL.concurrency);
      if (!Number.isInteger(concurrency) || concurrency < 1)
        throw new Error('W12_CONCURRENCY must be a positive integer');
      return await w12(args.quick ? W12_QUICK : { ...W12_FULL, concurrency });
    } catch (error) {
      // PostgreSQL could not start here: say so loudly; CI must run W12. Any other error is a failure.
      if (process.env.CI || (error as { unavailable?: boolean }).unavailable !== true) throw error;
      console.error(`\n!!! W12 SKIPPED: ${(error as Error).message}\n`);
      return [];
    }
  });
  await step('W13', () => w13(args.quick ? W13_QUICK : W13_FULL));
  await step('W14', () => w14(args.quick ? W14_QUICK : W14_FULL));

  const seconds = (performance.now() - started) / 1000;
  console.log(`\n${table(rows)}\n\n${details(rows)}\n`);
  const failed = rows.filter((r) => Object.values(r.checks).some((ok) => !ok));
  console.log(
    `${rows.length} workloads in ${seconds.toFixed(0)} s; targets met: ${rows.filter((r) => r.met).length}/${rows.length}; correctness checks failed: ${failed.length}.`,
  );
  if (args.json !== null) {
    const report: Report = { quick: args.quick, machine: m, startedAt, seconds, rows };
    writeFileSync(args.json, `${JSON.stringify(report, null, 2)}\n`);
  }
  // Timings never fail the suite; a broken workload (wrong statuses, a cap exceeded) does.
  if (failed.length > 0) process.exitCode = 1;
}

await main();
