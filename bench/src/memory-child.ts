/**
 * W4's child process: `node --expose-gc --trace-gc memory-child.js <weft|baseline> <steps>`.
 * Measures the peak heap growth of one chain run over a post-GC baseline. The heap is sampled in the
 * step handler every few steps (the run is microtask-driven, so a timer would never fire during it),
 * and V8's --trace-gc lines give the heap size just before every GC (peaks inside synchronous work
 * such as compiling). The parent reads the `REPORT {json}` line.
 */
import { getHeapStatistics } from 'node:v8';
import { createEngine, type Run } from '@weft/core';
import { chain } from './documents.js';

const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) throw new Error('Run with --expose-gc.');

const kind = process.argv[2] === 'baseline' ? 'baseline' : 'weft';
const steps = Number(process.argv[3] ?? 10_000);
const used = () => getHeapStatistics().used_heap_size;

let peak = 0;
let count = 0;
const probe = () => {
  if ((++count & 7) === 0) {
    const h = used();
    if (h > peak) peak = h;
  }
  return null;
};

function settle(): number {
  gc!();
  gc!();
  return used();
}

/** Marks the trace so the parent's GC lines can be attributed to a phase. */
function mark(label: string): void {
  process.stdout.write(`MARK ${label}\n`);
}

interface PlainRecord {
  status: string;
  output: unknown;
  start: string;
  end: string;
}

/** The baseline: a plain async loop that keeps one small record per step. */
async function plainRun(n: number): Promise<Record<string, PlainRecord>> {
  const records: Record<string, PlainRecord> = {};
  for (let i = 0; i < n; i++) {
    const start = new Date().toISOString();
    const output = await probe();
    records[`s${i}`] = { status: 'COMPLETED', output, start, end: new Date().toISOString() };
  }
  return records;
}

async function main(): Promise<void> {
  const doc = chain(steps, 'probe');
  const engine = createEngine({ steps: { probe } });
  const once = async (): Promise<{ peak: number; base: number; result: unknown; completed: boolean }> => {
    const base = settle();
    peak = base;
    mark('begin');
    let result: unknown;
    let completed: boolean;
    if (kind === 'weft') {
      const run: Run = await engine.run(doc);
      completed =
        run.status === 'COMPLETED' && Object.values(run.output).every((r) => r.status === 'COMPLETED');
      result = run;
    } else {
      const records = await plainRun(steps);
      completed = Object.keys(records).length === steps;
      result = records;
    }
    const after = used();
    if (after > peak) peak = after;
    mark('end');
    return { peak, base, result, completed };
  };
  const first = await once();
  const retained = settle() - first.base;
  const keep = [first.result];
  const second = await once();
  keep.push(second.result);
  const report = {
    kind,
    steps,
    sampledPeak: first.peak - first.base,
    base: first.base,
    warmSampledPeak: second.peak - second.base,
    warmBase: second.base,
    retained,
    completed: first.completed && second.completed,
    kept: keep.length,
  };
  process.stdout.write(`SAMPLES ${JSON.stringify(report)}\n`);
}

await main();
