/**
 * Sampling (tinybench), statistics and the machine description. Weft and its plain-JS baseline are
 * sampled in the same process, in alternating rounds (A B, B A, A B, …), so that a noisy neighbour on
 * the shared machine hits both sides alike.
 */
import { cpus, freemem, loadavg, totalmem } from 'node:os';
import { Bench } from 'tinybench';

export interface Stat {
  median: number;
  min: number;
  max: number;
  n: number;
}

export interface SampleOptions {
  /** Rounds of the alternating schedule. */
  rounds: number;
  /** Samples per task per round. */
  iterations: number;
  /** Warm-up calls per task before the first round (not sampled). */
  warmup: number;
}

export type Task = () => Promise<unknown>;

/**
 * A task with the user-facing protocol (issue 16): `gc` forces a full garbage collection before every
 * sample (needs `--expose-gc`), and `before` runs before every sample (e.g. to make a fresh document
 * object). Neither is timed.
 */
export interface TaskSpec {
  fn: Task;
  gc?: boolean;
  before?: () => void;
}

/** Wall time (ms) of every sample of each task, and the process's CPU time (user + system, ms) beside it. */
export interface Samples {
  wall: Record<string, number[]>;
  cpu: Record<string, number[]>;
}

/** Samples each task (ms per call), alternating their order every round. */
export async function sample(
  tasks: Record<string, Task | TaskSpec>,
  o: SampleOptions,
): Promise<Record<string, number[]>> {
  return (await sampleWithCpu(tasks, o)).wall;
}

/**
 * `sample`, also measuring the CPU time of each sample (`process.cpuUsage()` around the call: every
 * thread of the process, so a concurrent GC's work counts too). CPU time is what other processes on a
 * shared machine disturb least: a sample that waited for a core has a long wall time, not a long CPU time.
 */
export async function sampleWithCpu(
  tasks: Record<string, Task | TaskSpec>,
  o: SampleOptions,
): Promise<Samples> {
  const names = Object.keys(tasks);
  const wall: Record<string, number[]> = {};
  const cpu: Record<string, number[]> = {};
  for (const name of names) {
    wall[name] = [];
    cpu[name] = [];
  }
  const gc = (globalThis as { gc?: () => void }).gc;
  for (let round = 0; round < o.rounds; round++) {
    const bench = new Bench({
      iterations: o.iterations,
      time: 0,
      warmup: round === 0 && o.warmup > 0,
      warmupIterations: o.warmup,
      warmupTime: 0,
      retainSamples: true,
      throws: true,
    });
    const order = round % 2 === 0 ? names : [...names].reverse();
    for (const name of order) {
      const task = tasks[name]!;
      const spec: TaskSpec = typeof task === 'function' ? { fn: task } : task;
      if (spec.gc === true && gc === undefined)
        throw new Error('Run with node --expose-gc: a task forces a GC.');
      let cpuAt: NodeJS.CpuUsage | null = null;
      let measuring = false;
      bench.add(name, spec.fn, {
        async: true,
        beforeAll(mode) {
          measuring = mode === 'run';
        },
        beforeEach() {
          spec.before?.();
          // A full GC before the sample: the run starts from a clean heap, as a request after idle time does,
          // and pays for V8 re-optimising whatever the GC threw away (issue 16's protocol).
          if (spec.gc === true) gc!();
          cpuAt = process.cpuUsage();
        },
        afterEach() {
          if (!measuring || cpuAt === null) return;
          const d = process.cpuUsage(cpuAt);
          cpu[name]!.push((d.user + d.system) / 1000);
        },
      });
    }
    await bench.run();
    for (const name of names) {
      const result = bench.getTask(name)!.result;
      if (result.state !== 'completed') throw new Error(`Task ${name} did not complete (${result.state}).`);
      wall[name]!.push(...(result.latency.samples ?? []));
    }
  }
  return { wall, cpu };
}

export function stat(values: readonly number[]): Stat {
  if (values.length === 0) return { median: Number.NaN, min: Number.NaN, max: Number.NaN, n: 0 };
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  const median = sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
  return { median, min: sorted[0]!, max: sorted[sorted.length - 1]!, n: sorted.length };
}

export function mapStat(s: Stat, f: (x: number) => number): Stat {
  const a = f(s.min);
  const b = f(s.max);
  return { median: f(s.median), min: Math.min(a, b), max: Math.max(a, b), n: s.n };
}

export interface Machine {
  cpu: string;
  cores: number;
  node: string;
  v8: string;
  platform: string;
  memoryGiB: number;
  freeGiB: number;
  loadavg: string;
}

export function machine(): Machine {
  const list = cpus();
  return {
    cpu: list[0]?.model.trim() ?? 'unknown',
    cores: list.length,
    node: process.version,
    v8: process.versions.v8,
    platform: `${process.platform} ${process.arch}`,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    freeGiB: Math.round(freemem() / 2 ** 30),
    loadavg: loadavg()
      .map((x) => x.toFixed(2))
      .join(' '),
  };
}

/** 3 significant figures, thousands separated. */
export function fmt(x: number): string {
  if (!Number.isFinite(x)) return String(x);
  const abs = Math.abs(x);
  const digits = abs >= 100 ? 0 : abs >= 10 ? 1 : abs >= 1 ? 2 : 3;
  return x.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

export function fmtStat(s: Stat): string {
  return `${fmt(s.median)} [${fmt(s.min)}–${fmt(s.max)}]`;
}
