/**
 * W15 (issue 11, item 4; called W9 there — W9 is the 100,000-step chain run): compiling a big document. `engine.compile` of a chain of `code: "1"` steps —
 * validation and compilation, every expression parsed once per distinct text — on a fresh engine each
 * sample (no plan cache). Target: ≤ 1 s for 100,000 steps. The baseline is the least any compiler does:
 * indexing the steps by key and resolving every destination.
 *
 * User-facing protocol (issue 16): a full GC and a fresh document object (as a request parses one)
 * before every sample, untimed; the process's CPU time is reported beside the wall time.
 */
import { createEngine, validateVersion } from '@weft/core';
import { chainOfCode } from './documents.js';
import { fmtStat, type SampleOptions, type Stat, sampleWithCpu, stat } from './harness.js';
import type { Row } from './workloads.js';

export interface CompileSizes {
  steps: number;
  sampling: SampleOptions;
}

export const COMPILE_FULL: CompileSizes = {
  steps: 100_000,
  sampling: { rounds: 2, iterations: 2, warmup: 1 },
};
export const COMPILE_QUICK: CompileSizes = {
  steps: 1_000,
  sampling: { rounds: 1, iterations: 1, warmup: 0 },
};

export async function w15(sizes: CompileSizes): Promise<Row> {
  const n = sizes.steps;
  let doc = chainOfCode(n);
  const fresh = () => {
    doc = chainOfCode(n);
  };
  let steps = 0;
  const samples = await sampleWithCpu(
    {
      weft: {
        gc: true,
        before: fresh,
        fn: async () => {
          steps = createEngine({ limits: { maxSteps: Number.POSITIVE_INFINITY } }).compile(doc).steps.length;
        },
      },
      baseline: {
        gc: true,
        before: fresh,
        fn: async () => {
          const byKey = new Map<string, number>();
          for (let i = 0; i < doc.steps.length; i++) byKey.set(doc.steps[i]!.key as string, i);
          let edges = 0;
          for (const s of doc.steps)
            for (const d of (s.destinations as string[]) ?? []) if (byKey.has(d)) edges++;
          return edges;
        },
      },
    },
    sizes.sampling,
  );
  // Validation alone, for the note: how the time divides.
  const t = performance.now();
  validateVersion(doc);
  const validateMs = performance.now() - t;
  const weft: Stat = stat(samples.wall.weft!);
  const cpu: Stat = stat(samples.cpu.weft!);
  const baseline: Stat = stat(samples.wall.baseline!);
  return {
    id: 'W15',
    workload: `compile: engine.compile of a ${n.toLocaleString('en-US')}-step chain of code steps (validation included)`,
    unit: 'ms',
    higherIsBetter: false,
    weft,
    cpu,
    baseline,
    baselineName: 'index keys + resolve destinations',
    ratio: weft.median / baseline.median,
    target: n >= 100_000 ? '≤ 1,000 ms' : '(quick size: no target)',
    met: n < 100_000 || weft.median <= 1_000,
    checks: { [`the plan has ${n} steps`]: steps === n },
    notes: [
      `CPU time per compile: ${fmtStat(cpu)} ms`,
      `validateVersion alone (one call, after the samples): ${validateMs.toFixed(0)} ms of the ${fmtStat(weft)} ms`,
    ],
  };
}
