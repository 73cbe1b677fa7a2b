/**
 * The workloads W1–W7 of issue 7 and the later ones (W9: issue 11's long chain), each beside a plain-JS
 * baseline measured in the same process run.
 * A workload returns a Row: Weft's and the baseline's figures (median, min–max), their ratio, the
 * target, and the correctness checks the CI smoke asserts (never timings).
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createEngine, type Run } from '@weft/core';
import jsonata from 'jsonata';
import pLimit from 'p-limit';
import {
  chain,
  codeChain,
  conditionalChain,
  type Draft,
  expressionChain,
  expressionChainOutsideFastPath,
  fanOut,
  javascriptChain,
  modelChain,
  range,
  templatedChain,
} from './documents.js';
import {
  fmt,
  fmtStat,
  mapStat,
  type SampleOptions,
  type Stat,
  sample,
  sampleWithCpu,
  stat,
} from './harness.js';
import { OBSERVED_EVENTS } from './observed-events.js';
import { countedScriptedProvider, sleep } from './provider.js';

export interface Row {
  id: string;
  workload: string;
  unit: string;
  /** Whether a bigger figure is better (runs/s). */
  higherIsBetter: boolean;
  weft: Stat;
  baseline: Stat;
  baselineName: string;
  /** How many times costlier Weft is than the baseline (time, memory; inverse for throughput). */
  ratio: number;
  target: string;
  met: boolean;
  /** Correctness facts (statuses, caps): what the CI smoke asserts. */
  checks: Record<string, boolean>;
  notes: string[];
  /** Further baselines (per unit), for W7. */
  extra?: Record<string, Stat>;
  /** The warm figure (synchronous handler, no GC): the suite's headline before issue 16. */
  warm?: Stat;
  /** Weft's CPU time (user + system of the process) in the row's unit. */
  cpu?: Stat;
}

export interface Sizes {
  w1Steps: number;
  w2Runs: number;
  w2Steps: number;
  w3Items: number;
  w3Cap: number;
  w4Steps: number;
  w4Children: number;
  w5Steps: number;
  /** W8: hostile evaluations per language. */
  w8Rounds: number;
  w6Runs: number;
  w6Steps: number;
  w6LatencyMs: number;
  w6ProviderCap: number;
  w7Factor: number;
  w9Steps: number;
  sampling: {
    w1: SampleOptions;
    w2: SampleOptions;
    w3: SampleOptions;
    w5: SampleOptions;
    w6: SampleOptions;
    w7Chain: SampleOptions;
    w7Fan: SampleOptions;
    w9: SampleOptions;
  };
}

export const FULL: Sizes = {
  w1Steps: 1_000,
  w2Runs: 2_000,
  w2Steps: 10,
  w3Items: 10_000,
  w3Cap: 64,
  w4Steps: 10_000,
  w4Children: 5,
  w5Steps: 1_000,
  w8Rounds: 10,
  w6Runs: 1_000,
  w6Steps: 5,
  w6LatencyMs: 50,
  w6ProviderCap: 100,
  w7Factor: 10,
  w9Steps: 100_000,
  sampling: {
    w1: { rounds: 4, iterations: 10, warmup: 20 },
    w2: { rounds: 3, iterations: 2, warmup: 1 },
    w3: { rounds: 6, iterations: 5, warmup: 5 },
    w5: { rounds: 4, iterations: 5, warmup: 5 },
    w6: { rounds: 3, iterations: 1, warmup: 0 },
    w7Chain: { rounds: 3, iterations: 3, warmup: 6 },
    w7Fan: { rounds: 4, iterations: 2, warmup: 1 },
    w9: { rounds: 2, iterations: 1, warmup: 1 },
  },
};

const ONCE: SampleOptions = { rounds: 1, iterations: 1, warmup: 0 };

/** `--quick`: every workload at a tiny size, sampled once — a smoke test that the suite still runs. */
export const QUICK: Sizes = {
  w1Steps: 100,
  w2Runs: 50,
  w2Steps: 10,
  w3Items: 500,
  w3Cap: 16,
  w4Steps: 500,
  w4Children: 1,
  w5Steps: 50,
  w8Rounds: 1,
  w6Runs: 100,
  w6Steps: 3,
  w6LatencyMs: 10,
  w6ProviderCap: 20,
  w7Factor: 10,
  w9Steps: 1_000,
  sampling: { w1: ONCE, w2: ONCE, w3: ONCE, w5: ONCE, w6: ONCE, w7Chain: ONCE, w7Fan: ONCE, w9: ONCE },
};

const noop = () => null;

/** The plain-JS chain: each step awaited in turn, its output kept. */
async function plainChain(n: number, step: (previous: unknown) => unknown): Promise<unknown[]> {
  const outputs = new Array<unknown>(n);
  let previous: unknown = null;
  for (let i = 0; i < n; i++) {
    previous = await step(previous);
    outputs[i] = previous;
  }
  return outputs;
}

/**
 * Plain JS that keeps what a run must keep per step (docs/semantics.md): a state, a record in an output
 * map keyed by step, and a frozen `{ status, output, error }` view in two scope maps keyed by step. It
 * shows what these data structures alone cost in V8 as the run grows (W7).
 */
async function recordKeepingChain(
  keys: readonly string[],
  step: (previous: unknown) => unknown,
): Promise<unknown> {
  const n = keys.length;
  const states = keys.map(() => ({ status: 'PENDING', attempts: 0, record: null as unknown }));
  const scope: Record<string, unknown> = { input: {} };
  const stepsScope: Record<string, unknown> = {};
  let previous: unknown = null;
  // One timestamp for the run (Weft formats each millisecond once): the data structures are the point.
  const start = new Date().toISOString();
  for (let i = 0; i < n; i++) {
    const st = states[i]!;
    previous = await step(previous);
    st.status = 'COMPLETED';
    st.attempts = 1;
    const record = {
      status: st.status,
      key: keys[i],
      output: previous,
      logs: [],
      calls: [],
      start,
      end: start,
      error: null,
      attempts: 1,
    };
    st.record = record;
    const view = Object.freeze({ status: record.status, output: previous, error: null });
    stepsScope[keys[i]!] = view;
    scope[keys[i]!] = view;
  }
  const output: Record<string, unknown> = {};
  for (let i = 0; i < n; i++) output[keys[i]!] = states[i]!.record;
  return output;
}

/** `limit(task)` for every item, at most 2 × cap waiting in p-limit's queue (Weft's loop submission). */
function windowed(items: number, cap: number, task: () => Promise<unknown>): Promise<void> {
  const limit = pLimit(cap);
  const window = Math.min(items, 2 * cap);
  return new Promise((resolve, reject) => {
    let next = 0;
    let pending = 0;
    const settled = () => {
      pending--;
      submit();
    };
    const submit = () => {
      while (next < items && pending < window) {
        next++;
        pending++;
        limit(task).then(settled, reject);
      }
      if (pending === 0) resolve();
    };
    submit();
  });
}

function allCompleted(run: Run | null, steps: number): boolean {
  if (run === null || run.status !== 'COMPLETED') return false;
  const records = Object.values(run.output);
  return records.length === steps && records.every((r) => r.status === 'COMPLETED');
}

function row(
  fields: Omit<Row, 'ratio' | 'met' | 'notes'> & { notes?: string[]; ratio?: number },
  met: (row: Row) => boolean,
): Row {
  const ratio =
    fields.ratio ??
    (fields.higherIsBetter
      ? fields.baseline.median / fields.weft.median
      : fields.weft.median / fields.baseline.median);
  const out: Row = { ...fields, ratio, met: false, notes: fields.notes ?? [] };
  out.met = met(out);
  return out;
}

// ── W1 / W7a: a chain of host steps ───────────────────────────────────────────────────────────────────

/**
 * The user-facing protocol (issue 16): the handler is async, as application handlers are (they call
 * something), and a full GC runs before every sample, so each run starts from a clean heap and pays for
 * whatever V8 has to optimise again. The plain-JS baseline gets the same: an async step, a GC before.
 */
const asyncStep = async (x: unknown) => (typeof x === 'number' ? x : 0) + 1;
const asyncHandler = async () => 1;
const incHandler = async (ctx: { config: Record<string, unknown> }) => (ctx.config.input as number) + 1;
const syncIncHandler = (ctx: { config: Record<string, unknown> }) => (ctx.config.input as number) + 1;

export type ChainVariant = 'plain' | 'fresh' | 'observed' | 'templated';

interface ChainFigures {
  /** The user-facing protocol: async handler, a GC before each sample. */
  weft: Stat;
  weftCpu: Stat;
  baseline: Stat;
  baselineCpu: Stat;
  /** The warm figures: a synchronous `() => null` handler, no GC (the suite's protocol before issue 16). */
  warm: Stat;
  warmBaseline: Stat;
  /** recordKeepingChain, per step (warm). */
  records: Stat;
  completed: boolean;
}

/** The variant's document; `sync` for the warm figure's (the same shape, synchronous handlers). */
function documentFor(variant: ChainVariant, n: number, sync = false): Draft {
  if (variant === 'templated') return templatedChain(n, sync ? 'syncInc' : 'inc');
  if (variant === 'observed') return conditionalChain(n, sync ? 'sync' : 'noop');
  return chain(n, sync ? 'sync' : 'noop');
}

async function measureChain(
  n: number,
  o: SampleOptions,
  variant: ChainVariant = 'plain',
): Promise<ChainFigures> {
  const engine = createEngine({
    steps: { noop: asyncHandler, inc: incHandler, sync: noop, syncInc: syncIncHandler },
  });
  const doc = documentFor(variant, n);
  const text = JSON.stringify(doc);
  // 'fresh': a new document object for every sample, as an app that loads the document per request has.
  let current: Draft = variant === 'fresh' ? (JSON.parse(text) as Draft) : doc;
  engine.compile(doc);
  const warmDoc = documentFor(variant, n, true);
  engine.compile(warmDoc);
  const keys = doc.steps.map((s) => s.key as string);
  const input = variant === 'templated' ? { start: 0 } : variant === 'observed' ? { go: true } : {};
  let completed = true;
  let listened = 0;
  const listener = () => {
    listened++;
  };
  const samples = await sampleWithCpu(
    {
      weft: {
        gc: true,
        before: variant === 'fresh' ? () => (current = JSON.parse(text) as Draft) : undefined,
        fn: async () => {
          const handle = engine.start(current, { input });
          if (variant === 'observed') for (const e of OBSERVED_EVENTS) handle.on(e, listener);
          const run = await handle.done;
          completed &&= allCompleted(run, n);
          if (variant === 'templated') completed &&= run.output[`s${n - 1}`]?.output === n;
        },
      },
      baseline: { gc: true, fn: () => plainChain(n, asyncStep) },
      warm: async () => {
        const handle = engine.start(warmDoc, { input });
        if (variant === 'observed') for (const e of OBSERVED_EVENTS) handle.on(e, listener);
        const run = await handle.done;
        completed &&= allCompleted(run, n);
      },
      warmBaseline: () => plainChain(n, noop),
      records: () => recordKeepingChain(keys, noop),
    },
    o,
  );
  if (variant === 'observed') completed &&= listened > 0;
  const perStep = (ms: number) => (ms * 1000) / n;
  const of = (name: string, cpu = false) => mapStat(stat((cpu ? samples.cpu : samples.wall)[name]!), perStep);
  return {
    weft: of('weft'),
    weftCpu: of('weft', true),
    baseline: of('baseline'),
    baselineCpu: of('baseline', true),
    warm: of('warm'),
    warmBaseline: of('warmBaseline'),
    records: of('records'),
    completed,
  };
}

const CHAIN_ROWS: Record<ChainVariant, { id: string; workload: string; target: number }> = {
  plain: { id: 'W1', workload: 'no-op async host steps, the same document object each run', target: 3 },
  fresh: { id: 'W1-fresh', workload: 'no-op async host steps, a fresh document object each run', target: 3 },
  observed: {
    id: 'W1-obs',
    workload: 'async host steps, a JSONata `conditional` each, a listener on every event',
    target: 5,
  },
  templated: {
    id: 'W1-tpl',
    workload: 'async host steps, each reading the one before through `"input": "{{ sN.output }}"`',
    target: 4,
  },
};

function chainRow(variant: ChainVariant, n: number, f: ChainFigures): Row {
  const spec = CHAIN_ROWS[variant];
  return row(
    {
      id: spec.id,
      workload: `chain: one run of ${n.toLocaleString('en-US')} ${spec.workload}; a GC before each run`,
      unit: 'µs/step',
      higherIsBetter: false,
      weft: f.weft,
      baseline: f.baseline,
      baselineName: 'plain async loop, a GC before each run',
      target: `≤ ${spec.target} µs/step`,
      checks: { 'every run COMPLETED, every step COMPLETED, outputs as expected': f.completed },
      warm: f.warm,
      cpu: f.weftCpu,
      notes: [
        `CPU time: Weft ${fmtStat(f.weftCpu)}, baseline ${fmtStat(f.baselineCpu)} µs/step`,
        `warm (a synchronous \`() => null\` handler, no GC; the protocol before issue 16): Weft ${fmtStat(f.warm)}, plain loop ${fmtStat(f.warmBaseline)} µs/step`,
        ...(variant === 'plain'
          ? [`plain JS keeping a record and scope entries per step (warm): ${fmtStat(f.records)} µs/step`]
          : []),
      ],
      extra: { records: f.records, warm: f.warm },
    },
    (r) => r.weft.median <= spec.target,
  );
}

export async function w1(sizes: Sizes): Promise<Row> {
  const n = sizes.w1Steps;
  return chainRow('plain', n, await measureChain(n, sizes.sampling.w1, 'plain'));
}

/** W1's variants: a fresh document object per run, observed, templated. */
export async function w1Variants(sizes: Sizes): Promise<Row[]> {
  const n = sizes.w1Steps;
  const rows: Row[] = [];
  for (const variant of ['fresh', 'observed', 'templated'] as const) {
    rows.push(chainRow(variant, n, await measureChain(n, sizes.sampling.w1, variant)));
  }
  return rows;
}

// ── W2: many short runs ──────────────────────────────────────────────────────────────────────────────

export async function w2(sizes: Sizes): Promise<Row> {
  const runs = sizes.w2Runs;
  const steps = sizes.w2Steps;
  const engine = createEngine({ steps: { noop: asyncHandler, sync: noop } });
  const doc = chain(steps);
  const warmDoc = chain(steps, 'sync');
  engine.compile(doc);
  engine.compile(warmDoc);
  let completed = true;
  const samples = await sampleWithCpu(
    {
      weft: {
        gc: true,
        fn: async () => {
          for (let i = 0; i < runs; i++) {
            const run = await engine.run(doc);
            if (!allCompleted(run, steps)) completed = false;
          }
        },
      },
      baseline: {
        gc: true,
        fn: async () => {
          for (let i = 0; i < runs; i++) await plainChain(steps, asyncStep);
        },
      },
      warm: async () => {
        for (let i = 0; i < runs; i++) {
          const run = await engine.run(warmDoc);
          if (!allCompleted(run, steps)) completed = false;
        }
      },
    },
    sizes.sampling.w2,
  );
  const perSecond = (ms: number) => (runs * 1000) / ms;
  const cpu = mapStat(stat(samples.cpu.weft!), perSecond);
  const warm = mapStat(stat(samples.wall.warm!), perSecond);
  return row(
    {
      id: 'W2',
      workload: `many runs: ${runs.toLocaleString('en-US')} sequential runs of a ${steps}-step chain of async host steps; a GC before each sample`,
      unit: 'runs/s',
      higherIsBetter: true,
      weft: mapStat(stat(samples.wall.weft!), perSecond),
      baseline: mapStat(stat(samples.wall.baseline!), perSecond),
      baselineName: 'plain async loop',
      target: '≥ 30,000 runs/s',
      checks: { 'every run COMPLETED, every step COMPLETED': completed },
      warm,
      cpu,
      notes: [
        `runs per CPU-second: Weft ${fmtStat(cpu)}, baseline ${fmtStat(mapStat(stat(samples.cpu.baseline!), perSecond))}`,
        `warm (a synchronous handler, no GC): ${fmtStat(warm)} runs/s`,
      ],
    },
    (r) => r.weft.median >= 30_000,
  );
}

// ── W3 / W7b: a loop fanning out over items ─────────────────────────────────────────────────────────

interface FanFigures {
  weft: Stat;
  baseline: Stat;
  /** p-limit fed 2 × cap at a time (how Weft submits loop iterations). */
  windowed: Stat;
  completed: boolean;
  weftPeak: number;
  baselinePeak: number;
}

async function measureFan(items: number, cap: number, o: SampleOptions): Promise<FanFigures> {
  let inFlight = 0;
  let weftPeak = 0;
  const tick = async () => {
    if (++inFlight > weftPeak) weftPeak = inFlight;
    await new Promise<void>((resolve) => setImmediate(resolve));
    inFlight--;
    return null;
  };
  let baseInFlight = 0;
  let baselinePeak = 0;
  const baseTick = async () => {
    if (++baseInFlight > baselinePeak) baselinePeak = baseInFlight;
    await new Promise<void>((resolve) => setImmediate(resolve));
    baseInFlight--;
    return null;
  };
  // No concurrency option: the loop's max_concurrency is honoured up to concurrency.engine (issue 16).
  const engine = createEngine({
    steps: { tick },
    limits: { maxLoopIterations: Math.max(10_000, items) },
  });
  const doc = fanOut(cap);
  engine.compile(doc);
  const input = { items: range(items) };
  let completed = true;
  const samples = await sample(
    {
      weft: async () => {
        const run = await engine.run(doc, { input });
        const output = run.output.fan?.output;
        completed &&= allCompleted(run, 1) && Array.isArray(output) && output.length === items;
      },
      baseline: async () => {
        const limit = pLimit(cap);
        const outputs = await Promise.all(input.items.map(() => limit(baseTick)));
        completed &&= outputs.length === items;
      },
      windowed: () => windowed(items, cap, baseTick),
    },
    o,
  );
  return {
    weft: stat(samples.weft!),
    baseline: stat(samples.baseline!),
    windowed: stat(samples.windowed!),
    completed,
    weftPeak,
    baselinePeak,
  };
}

export async function w3(sizes: Sizes): Promise<Row> {
  const items = sizes.w3Items;
  const cap = sizes.w3Cap;
  const f = await measureFan(items, cap, sizes.sampling.w3);
  return row(
    {
      id: 'W3',
      workload: `fan-out: a loop over ${items.toLocaleString('en-US')} items, max_concurrency ${cap}, each awaiting setImmediate`,
      unit: 'ms',
      higherIsBetter: false,
      weft: f.weft,
      baseline: f.baseline,
      baselineName: `p-limit(${cap})`,
      target: '≤ 2× baseline',
      checks: {
        'the run COMPLETED with every iteration output': f.completed,
        [`in-flight iterations peaked at exactly ${cap} (Weft: ${f.weftPeak})`]: f.weftPeak === cap,
        [`in-flight baseline calls peaked at exactly ${cap} (baseline: ${f.baselinePeak})`]:
          f.baselinePeak === cap,
      },
      notes: [
        `no concurrency option: the loop's max_concurrency ${cap} is honoured (the run's default cap gives way to it)`,
        `p-limit(${cap}) fed ${2 * cap} at a time, as Weft feeds its loop: ${fmtStat(f.windowed)} ms; Weft / that: ${fmt(f.weft.median / f.windowed.median)}×`,
      ],
      extra: { windowed: f.windowed },
    },
    (r) => r.ratio <= 2,
  );
}

// ── W4: memory, one child process per measurement ───────────────────────────────────────────────────

export interface ChildReport {
  kind: 'weft' | 'baseline';
  steps: number;
  /** Peak heap growth of the first run (compile included) over its post-GC baseline, bytes. */
  peak: number;
  /** The same for a second run in the same process (the plan cached): the run alone. */
  warmPeak: number;
  /** Heap still used after a full GC with the first run's result held, bytes. */
  retained: number;
  completed: boolean;
}

interface ChildSamples {
  sampledPeak: number;
  base: number;
  warmSampledPeak: number;
  warmBase: number;
  retained: number;
  completed: boolean;
}

const CHILD = fileURLToPath(new URL('./memory-child.js', import.meta.url));
/** A --trace-gc line: "... Scavenge 4.1 (5.8) -> 3.6 (6.8) MB, ..."; the first figure is the heap before. */
const GC_LINE =
  /(?:Scavenge|Mark-Compact|Mark-sweep|Minor Mark-Compact|Minor Mark-Sweep)\D*?([\d.]+) \([\d.]+\) -> /;

/** The largest heap-before-GC (bytes) of the GCs traced between the n-th "MARK begin" and "MARK end". */
function tracedPeaks(stdout: string): number[] {
  const peaks: number[] = [];
  let current: number | null = null;
  for (const line of stdout.split('\n')) {
    if (line === 'MARK begin') current = 0;
    else if (line === 'MARK end') {
      peaks.push(current ?? 0);
      current = null;
    } else if (current !== null) {
      const m = GC_LINE.exec(line);
      if (m !== null) current = Math.max(current, Number(m[1]) * 2 ** 20);
    }
  }
  return peaks;
}

function runChild(kind: 'weft' | 'baseline', steps: number): Promise<ChildReport> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      ['--expose-gc', '--trace-gc', CHILD, kind, String(steps)],
      { maxBuffer: 64 * 1024 * 1024 },
      (error, stdout) => {
        if (error) {
          reject(error);
          return;
        }
        const line = stdout.split('\n').find((l) => l.startsWith('SAMPLES '));
        if (line === undefined) {
          reject(new Error(`The memory child (${kind}) printed no report:\n${stdout.slice(-2000)}`));
          return;
        }
        const s = JSON.parse(line.slice('SAMPLES '.length)) as ChildSamples;
        const [cold = 0, warm = 0] = tracedPeaks(stdout);
        resolve({
          kind,
          steps,
          peak: Math.max(s.sampledPeak, cold - s.base),
          warmPeak: Math.max(s.warmSampledPeak, warm - s.warmBase),
          retained: s.retained,
          completed: s.completed,
        });
      },
    );
  });
}

export async function w4(sizes: Sizes): Promise<Row> {
  const steps = sizes.w4Steps;
  const weft: ChildReport[] = [];
  const baseline: ChildReport[] = [];
  for (let i = 0; i < sizes.w4Children; i++) {
    // Alternate which side goes first.
    if (i % 2 === 0) {
      weft.push(await runChild('weft', steps));
      baseline.push(await runChild('baseline', steps));
    } else {
      baseline.push(await runChild('baseline', steps));
      weft.push(await runChild('weft', steps));
    }
  }
  const mb = (b: number) => b / 2 ** 20;
  const weftPeak = mapStat(stat(weft.map((r) => r.peak)), mb);
  const warm = mapStat(stat(weft.map((r) => r.warmPeak)), mb);
  const retained = mapStat(stat(weft.map((r) => r.retained)), mb);
  const basePeak = mapStat(stat(baseline.map((r) => r.peak)), mb);
  return row(
    {
      id: 'W4',
      workload: `memory: one ${steps.toLocaleString('en-US')}-step chain run (compile included), a fresh process each`,
      unit: 'MB peak heap growth',
      higherIsBetter: false,
      weft: weftPeak,
      baseline: basePeak,
      baselineName: 'plain async loop keeping a record per step',
      target: '≤ 30 MB',
      checks: { 'every run COMPLETED, every step COMPLETED': weft.every((r) => r.completed) },
      notes: [
        `second run in the same process (plan cached): ${warm.median.toFixed(1)} MB peak growth`,
        `retained after a full GC, the Run object held: ${retained.median.toFixed(1)} MB`,
      ],
    },
    (r) => r.weft.median <= 30,
  );
}

// ── W5: expressions ─────────────────────────────────────────────────────────────────────────────────

export async function w5(sizes: Sizes): Promise<Row> {
  const n = sizes.w5Steps;
  const engine = createEngine();
  const doc = expressionChain(n);
  engine.compile(doc);
  const input = { start: 0 };
  // The same JSONata expressions, parsed once, evaluated in a plain loop (noted beside the baseline).
  const compiled = doc.steps.map((s) => ({
    key: s.key as string,
    conditional: jsonata(s.conditional as string),
    code: jsonata(s.code as string),
  }));
  // The plain-JS baseline: each step's conditional and code written as JS functions.
  const plain = doc.steps.map((_, i) => {
    const previous = i === 0 ? null : `s${i - 1}`;
    const value = (scope: Record<string, any>): number =>
      previous === null ? scope.input.start : scope[previous].output.n;
    return {
      key: `s${i}`,
      conditional: (scope: Record<string, any>) => value(scope) >= 0,
      code: (scope: Record<string, any>) => ({ n: value(scope) + 1 }),
    };
  });
  let completed = true;
  const samples = await sample(
    {
      weft: async () => {
        const run = await engine.run(doc, { input });
        completed &&= allCompleted(run, n) && (run.result as { n?: unknown } | null)?.n === n;
      },
      baseline: async () => {
        const scope: Record<string, unknown> = { input };
        for (const s of plain) {
          if ((await s.conditional(scope)) !== true) throw new Error('conditional');
          scope[s.key] = { status: 'COMPLETED', output: await s.code(scope), error: null };
        }
      },
      jsonata: async () => {
        const scope: Record<string, unknown> = { input };
        for (const s of compiled) {
          if ((await s.conditional.evaluate(scope)) !== true) throw new Error('conditional');
          scope[s.key] = { status: 'COMPLETED', output: await s.code.evaluate(scope), error: null };
        }
      },
    },
    sizes.sampling.w5,
  );
  const perStep = (ms: number) => (ms * 1000) / n;
  const alone = mapStat(stat(samples.jsonata!), perStep);
  const weft = mapStat(stat(samples.weft!), perStep);
  return row(
    {
      id: 'W5',
      workload: `expressions: ${n.toLocaleString('en-US')} chained code steps, each a conditional + a JSONata code expression`,
      unit: 'µs/step',
      higherIsBetter: false,
      weft,
      baseline: mapStat(stat(samples.baseline!), perStep),
      baselineName: 'plain JS functions',
      target: '≤ 25 µs/step',
      checks: { 'every run COMPLETED with the expected result': completed },
      notes: [
        `the same expressions evaluated by jsonata alone (parsed once): ${fmtStat(alone)} µs/step; Weft / that: ${fmt(weft.median / alone.median)}×`,
      ],
    },
    (r) => r.weft.median <= 25,
  );
}

/** The plain-JS baseline of W5's chain (also W5b's and W5-js's): JS functions for each expression. */
function plainExpressionChain(n: number) {
  return range(n).map((i) => {
    const previous = i === 0 ? null : `s${i - 1}`;
    const value = (scope: Record<string, any>): number =>
      previous === null ? scope.input.start : scope[previous].output.n;
    return {
      key: `s${i}`,
      conditional: (scope: Record<string, any>) => value(scope) >= 0,
      code: (scope: Record<string, any>) => ({ n: value(scope) + 1 }),
    };
  });
}

/**
 * W5b and W5-js: W5's 1,000-step chain with the expressions outside the fast path (every evaluation in a
 * sandbox worker), and written in JavaScript (QuickJS on the main thread, within its inline budget).
 */
export async function w5Variants(sizes: Sizes): Promise<Row[]> {
  const n = sizes.w5Steps;
  const input = { start: 0 };
  const plain = plainExpressionChain(n);
  const baseline = async () => {
    const scope: Record<string, unknown> = { input };
    for (const s of plain) {
      if ((await s.conditional(scope)) !== true) throw new Error('conditional');
      scope[s.key] = { status: 'COMPLETED', output: await s.code(scope), error: null };
    }
  };
  const perStep = (ms: number) => (ms * 1000) / n;
  const rows: Row[] = [];
  for (const [id, doc, name, target, limit] of [
    [
      'W5b',
      expressionChainOutsideFastPath(n),
      'each a conditional + a JSONata code expression outside the fast path (a sandbox worker per evaluation)',
      'none (reported)',
      Number.POSITIVE_INFINITY,
    ],
    [
      'W5-js',
      javascriptChain(n),
      'each a JavaScript conditional + code (`return <expression>;`: the JavaScript fast path)',
      '≤ 30 µs/step',
      30,
    ],
    [
      'W5b-js',
      javascriptChain(n, true),
      'each a JavaScript conditional + code outside the fast path (a QuickJS call per evaluation)',
      'none (reported)',
      Number.POSITIVE_INFINITY,
    ],
  ] as const) {
    const engine = createEngine();
    engine.compile(doc);
    let completed = true;
    // Long chains of worker round trips: fewer samples than W5.
    const o = sizes.sampling.w5;
    const samples = await sample(
      {
        weft: async () => {
          const run = await engine.run(doc, { input });
          completed &&= allCompleted(run, n) && (run.result as { n?: unknown } | null)?.n === n;
        },
        baseline,
      },
      id === 'W5b' ? { ...o, iterations: Math.max(1, Math.ceil(o.iterations / 2)) } : o,
    );
    rows.push(
      row(
        {
          id,
          workload: `expressions: ${n.toLocaleString('en-US')} chained code steps, ${name}`,
          unit: 'µs/step',
          higherIsBetter: false,
          weft: mapStat(stat(samples.weft!), perStep),
          baseline: mapStat(stat(samples.baseline!), perStep),
          baselineName: 'plain JS functions',
          target,
          checks: { 'every run COMPLETED with the expected result': completed },
        },
        (r) => r.weft.median <= limit,
      ),
    );
  }
  return rows;
}

// ── W8: containment ─────────────────────────────────────────────────────────────────────────────────

/**
 * W8: a hostile evaluation (a JavaScript `while (true) {}`, a JSONata catastrophic regex) with a 200 ms
 * deadline. Measured per run: from the deadline (the step's start + 200 ms) to the step ending
 * EXPRESSION_LIMIT, and the worst lag of a 10 ms interval timer during it (how long the host's event
 * loop was kept from it). The baseline of the overrun is a host step that stops at its own 200 ms
 * deadline (a timer): what ending any step costs the engine.
 */
export async function w8(sizes: Sizes): Promise<Row[]> {
  const timeoutMs = 200;
  const engine = createEngine({
    limits: { expression: { timeoutMs } },
    steps: {
      cooperative: (ctx) =>
        new Promise((_, reject) => {
          setTimeout(() => reject(new Error('deadline')), timeoutMs);
          ctx.signal.addEventListener('abort', () => reject(new Error('aborted')));
        }),
    },
  });
  const hostile = {
    javascript: { language: 'javascript', steps: [{ type: 'code', key: 'h', code: 'while (true) {}' }] },
    jsonata: {
      steps: [
        { type: 'code', key: 'h', code: '$contains("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa!", /^(a+)+$/)' },
      ],
    },
    baseline: { steps: [{ type: 'cooperative', key: 'h' }] },
  } as const;
  // One warm-up each: the first evaluation of a kind starts its worker.
  for (const doc of Object.values(hostile)) await engine.run(doc);
  const overrun: Record<string, number[]> = { javascript: [], jsonata: [], baseline: [] };
  const lag: Record<string, number[]> = { javascript: [], jsonata: [], baseline: [] };
  let coded = true;
  for (let round = 0; round < sizes.w8Rounds; round++) {
    for (const [kind, doc] of Object.entries(hostile)) {
      let started = 0;
      let ended = 0;
      let worst = 0;
      let last = performance.now();
      const interval = setInterval(() => {
        const now = performance.now();
        worst = Math.max(worst, now - last - 10);
        last = now;
      }, 10);
      const handle = engine.start(doc);
      handle.on('step.started', () => {
        started = performance.now();
      });
      handle.on('step.failed', () => {
        ended = performance.now();
      });
      const run = await handle.done;
      clearInterval(interval);
      if (kind !== 'baseline') coded &&= run.output.h?.error?.code === 'EXPRESSION_LIMIT';
      overrun[kind]!.push(ended - started - timeoutMs);
      lag[kind]!.push(Math.max(0, worst));
    }
  }
  const rows: Row[] = [];
  for (const kind of ['javascript', 'jsonata'] as const) {
    const name = kind === 'javascript' ? 'JavaScript `while (true) {}`' : 'JSONata catastrophic regex';
    rows.push(
      row(
        {
          id: kind === 'javascript' ? 'W8a-js' : 'W8a',
          workload: `containment: ${name}, 200 ms deadline: from the deadline to the step ending EXPRESSION_LIMIT`,
          unit: 'ms',
          higherIsBetter: false,
          weft: stat(overrun[kind]!),
          baseline: stat(overrun.baseline!),
          baselineName: 'a host step stopping at its own 200 ms timer',
          ratio: 1,
          target: '≤ 100 ms',
          checks: { 'every hostile run ended EXPRESSION_LIMIT': coded },
        },
        (r) => r.weft.max <= 100,
      ),
      row(
        {
          id: kind === 'javascript' ? 'W8b-js' : 'W8b',
          workload: `containment: ${name}: worst lag of a 10 ms timer during the evaluation`,
          unit: 'ms',
          higherIsBetter: false,
          weft: stat(lag[kind]!),
          baseline: stat(lag.baseline!),
          baselineName: 'the same timer beside the host step',
          ratio: 1,
          target: '≤ 50 ms',
          checks: { 'every hostile run ended EXPRESSION_LIMIT': coded },
        },
        (r) => r.weft.max <= 50,
      ),
    );
  }
  return rows;
}

// ── W6: provider-bound ──────────────────────────────────────────────────────────────────────────────

export async function w6(sizes: Sizes): Promise<Row> {
  const { w6Runs: runs, w6Steps: steps, w6LatencyMs: latency, w6ProviderCap: cap } = sizes;
  const provider = countedScriptedProvider(latency);
  const engine = createEngine({
    providers: [provider],
    concurrency: { providers: { scripted: cap } },
    pricing: { scripted: { '*': { input_per_million: 0, output_per_million: 0 } } },
  });
  const doc = modelChain(steps);
  engine.compile(doc);
  let completed = true;
  let basePeak = 0;
  const samples = await sample(
    {
      weft: async () => {
        const all = await Promise.all(range(runs).map(() => engine.run(doc)));
        completed &&= all.every((run) => allCompleted(run, steps));
        provider.reset();
      },
      baseline: async () => {
        const limit = pLimit(cap);
        let inFlight = 0;
        const call = async () => {
          if (++inFlight > basePeak) basePeak = inFlight;
          await sleep(latency);
          inFlight--;
        };
        await Promise.all(
          range(runs).map(async () => {
            for (let i = 0; i < steps; i++) await limit(call);
          }),
        );
      },
    },
    sizes.sampling.w6,
  );
  const minimum = (runs * steps * latency) / cap;
  const weft = mapStat(stat(samples.weft!), (ms) => ms / 1000);
  const baseline = mapStat(stat(samples.baseline!), (ms) => ms / 1000);
  const overMinimum = (weft.median * 1000) / minimum;
  return row(
    {
      id: 'W6',
      workload: `provider-bound: ${runs.toLocaleString('en-US')} concurrent runs × ${steps} model steps, ${latency} ms latency, provider cap ${cap}`,
      unit: 's wall',
      higherIsBetter: false,
      weft,
      baseline,
      baselineName: `p-limit(${cap}) over the same sleeps`,
      target: `≤ 1.10 × ${fmtSeconds(minimum)} (the minimum)`,
      checks: {
        'every run COMPLETED, every step COMPLETED': completed,
        [`provider calls in flight peaked at exactly ${cap} (Weft: ${provider.stats.peak})`]:
          provider.stats.peak === cap,
        [`every model call reached the provider (${provider.stats.calls})`]:
          provider.stats.calls ===
          runs * steps * (sizes.sampling.w6.rounds * sizes.sampling.w6.iterations + sizes.sampling.w6.warmup),
        'the baseline never exceeded its cap': basePeak === cap,
      },
      notes: [
        `Weft wall time over the theoretical minimum (${fmtSeconds(minimum)}): ${overMinimum.toFixed(3)}; baseline: ${((baseline.median * 1000) / minimum).toFixed(3)}`,
      ],
    },
    () => overMinimum <= 1.1,
  );
}

function fmtSeconds(ms: number): string {
  return `${(ms / 1000).toFixed(ms < 1000 ? 3 : 2)} s`;
}

// ── W7: scale ───────────────────────────────────────────────────────────────────────────────────────

function growth(big: Stat, small: Stat | undefined): number {
  return small === undefined ? Number.NaN : big.median / small.median;
}

export async function w7(sizes: Sizes, w1Row: Row | undefined, w3Row: Row | undefined): Promise<Row[]> {
  const k = sizes.w7Factor;
  const small = w1Row ?? (await w1(sizes));
  const bigChain = await measureChain(sizes.w1Steps * k, sizes.sampling.w7Chain);
  const items = sizes.w3Items;
  const smallFan = w3Row ?? (await w3(sizes));
  const bigFan = await measureFan(items * k, sizes.w3Cap, sizes.sampling.w7Fan);
  const perItem = (ms: number) => (ms * 1000) / (items * k);
  const perSmallItem = (s: Stat | undefined) =>
    s === undefined ? undefined : mapStat(s, (ms) => (ms * 1000) / items);
  const chainGrowth = growth(bigChain.weft, small.weft);
  const warmGrowth = growth(bigChain.warm, small.warm);
  const fanWeft = mapStat(bigFan.weft, perItem);
  const fanBase = mapStat(bigFan.baseline, perItem);
  const fanWindowed = mapStat(bigFan.windowed, perItem);
  const fanGrowth = growth(fanWeft, perSmallItem(smallFan.weft));
  return [
    row(
      {
        id: 'W7a',
        workload: `scale: W1 at ${k}× (${(sizes.w1Steps * k).toLocaleString('en-US')} async steps; a GC before each run)`,
        unit: 'µs/step',
        higherIsBetter: false,
        weft: bigChain.weft,
        baseline: bigChain.baseline,
        baselineName: 'plain async loop, a GC before each run',
        target: 'cost/step ≤ 1.2× W1',
        checks: { 'every run COMPLETED, every step COMPLETED': bigChain.completed },
        warm: bigChain.warm,
        cpu: bigChain.weftCpu,
        notes: [
          `cost per step vs W1: Weft ${fmt(chainGrowth)}× (CPU time ${fmt(growth(bigChain.weftCpu, small.cpu))}×), plain async loop ${fmt(growth(bigChain.baseline, small.baseline))}×; ` +
            `warm (synchronous handler, no GC): Weft ${fmt(warmGrowth)}× (${fmtStat(bigChain.warm)} µs/step), ` +
            `plain JS keeping a record and scope entries per step ${fmt(growth(bigChain.records, small.extra?.records))}× ` +
            `(${fmtStat(bigChain.records)} µs/step)`,
        ],
        extra: { records: bigChain.records, warm: bigChain.warm },
      },
      () => chainGrowth <= 1.2,
    ),
    row(
      {
        id: 'W7b',
        workload: `scale: W3 at ${k}× (${(items * k).toLocaleString('en-US')} items)`,
        unit: 'µs/item',
        higherIsBetter: false,
        weft: fanWeft,
        baseline: fanBase,
        baselineName: `p-limit(${sizes.w3Cap})`,
        target: 'cost/item ≤ 1.2× W3',
        checks: {
          'the run COMPLETED with every iteration output': bigFan.completed,
          [`in-flight iterations peaked at exactly ${sizes.w3Cap} (Weft: ${bigFan.weftPeak})`]:
            bigFan.weftPeak === sizes.w3Cap,
        },
        notes: [
          `cost per item vs W3: Weft ${fmt(fanGrowth)}×, p-limit ${fmt(growth(fanBase, perSmallItem(smallFan.baseline)))}×, ` +
            `p-limit fed ${2 * sizes.w3Cap} at a time ${fmt(growth(fanWindowed, perSmallItem(smallFan.extra?.windowed)))}× ` +
            `(${fmtStat(fanWindowed)} µs/item)`,
        ],
      },
      () => fanGrowth <= 1.2,
    ),
  ];
}

// ── W9: a very long chain ───────────────────────────────────────────────────────────────────────────

/**
 * Issue 11 item 4: a run must schedule in O(steps + edges) — a 100,000-step chain of `code: "1"` runs in
 * at most 2 s. The plan is compiled first (its time is a note: compiling is not the scheduler's part).
 */
export async function w9(sizes: Sizes): Promise<Row> {
  const n = sizes.w9Steps;
  // Past limits.maxSteps (10,000 by default, issue 11): lifted, as W15 does.
  const engine = createEngine({ limits: { maxSteps: Number.POSITIVE_INFINITY } });
  const doc = codeChain(n);
  const t = performance.now();
  engine.compile(doc);
  const compileMs = performance.now() - t;
  let completed = true;
  const samples = await sample(
    {
      weft: async () => {
        const run = await engine.run(doc);
        completed &&= allCompleted(run, n) && run.result === 1;
      },
      baseline: () => plainChain(n, () => 1),
    },
    sizes.sampling.w9,
  );
  const seconds = (ms: number) => ms / 1000;
  return row(
    {
      id: 'W9',
      workload: `scale: one run of a ${n.toLocaleString('en-US')}-step chain of \`code: "1"\` (plan compiled before)`,
      unit: 's',
      higherIsBetter: false,
      weft: mapStat(stat(samples.weft!), seconds),
      baseline: mapStat(stat(samples.baseline!), seconds),
      baselineName: 'plain async loop',
      target: '≤ 2 s',
      checks: { 'the run COMPLETED, every step COMPLETED, result 1': completed },
      notes: [`compiling the document once (validation + plan): ${fmtSeconds(compileMs)}`],
    },
    (r) => r.weft.median <= 2,
  );
}

export type { Draft };
