/**
 * The paired probe of docs/performance.md ("As users run it"): one build of @weft/core, given by the path
 * of its `dist/index.js`, timed the user-facing way inside a function. Run it alternately on two builds
 * (before, after, before, after) on the same machine.
 *
 *   node --expose-gc bench/dist/pair.js <path to core's dist/index.js> <w1|fresh|tpl|obs|w7|w2|w15>
 *
 * w1 / fresh / tpl / obs: 20 warm-up runs of a 1,000-step chain of async steps (fresh: the document parsed
 * again from its JSON text before each run, untimed, as W1-fresh; tpl: each step's input
 * "{{ sN.output }}"; obs: a JSONata `conditional` per step and a listener on every event, as W1-obs),
 * then 60 times a full GC and one run; prints the median wall and CPU time per step. w7: the same with
 * a 10,000-step chain on an engine of its own (6 warm-up runs, 15 measured) after 1,000 steps (W7a's
 * ratio), then 1,000 again; also the fastest run of each size and how often a run was preempted.
 * w2: 6 times a full GC and 2,000 runs of a 10-step chain; prints runs per second of wall and of CPU time
 * over all six batches (the first one compiles the plan and warms the code up), and the median batch's.
 * w15: one warm-up, then 5 times a fresh 100,000-step chain of `code: "1"`, a full GC and `engine.compile`
 * on a fresh engine; prints the median wall and CPU time per compile (W15's protocol).
 */
import { pathToFileURL } from 'node:url';
import { OBSERVED_EVENTS } from './observed-events.js';

type Handle = { on(event: string, listener: () => void): void; done: Promise<{ status: string }> };
type Engine = {
  run(doc: unknown, options?: unknown): Promise<{ status: string }>;
  start(doc: unknown, options?: unknown): Handle;
};

type CreateEngine = (options: unknown) => Engine;

function chain(n: number, type: string, templated: boolean, conditional = false) {
  return {
    key: 'pair',
    steps: Array.from({ length: n }, (_, i) => ({
      type,
      key: `s${i}`,
      ...(templated ? { input: i === 0 ? '{{ input.start }}' : `{{ s${i - 1}.output }}` } : {}),
      ...(conditional ? { conditional: i === 0 ? 'input.go = true' : `s${i - 1}.status = "COMPLETED"` } : {}),
      destinations: i + 1 < n ? [`s${i + 1}`] : [],
    })),
  };
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[values.length >> 1]!;

async function main(): Promise<void> {
  const [core, which] = process.argv.slice(2);
  if (core === undefined || !['w1', 'fresh', 'tpl', 'obs', 'w7', 'w2', 'w15'].includes(which ?? '')) {
    throw new Error(
      'Usage: node --expose-gc bench/dist/pair.js <core dist/index.js> <w1|fresh|tpl|obs|w7|w2|w15>',
    );
  }
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc === undefined) throw new Error('Run with node --expose-gc.');
  const { createEngine } = (await import(pathToFileURL(core).href)) as { createEngine: CreateEngine };
  const makeEngine = () =>
    createEngine({
      steps: {
        noop: async () => 1,
        inc: async (ctx: { config: { input: number } }) => ctx.config.input + 1,
      },
    });
  let engine = makeEngine();
  if (which === 'w15') {
    const compileOnce = () => {
      const doc = chain(100_000, 'code', false);
      for (const step of doc.steps) (step as Record<string, unknown>).code = '1';
      gc();
      const c0 = process.cpuUsage();
      const t0 = performance.now();
      (
        createEngine({ limits: { maxSteps: Number.POSITIVE_INFINITY } }) as unknown as {
          compile(doc: unknown): unknown;
        }
      ).compile(doc);
      const d = process.cpuUsage(c0);
      return { wall: performance.now() - t0, cpu: (d.user + d.system) / 1000 };
    };
    compileOnce();
    const samples = Array.from({ length: 5 }, compileOnce);
    console.log(
      `w15 ms per compile: wall ${median(samples.map((x) => x.wall)).toFixed(0)}, CPU ${median(samples.map((x) => x.cpu)).toFixed(0)}`,
    );
    return;
  }
  if (which === 'w2') {
    const doc = chain(10, 'noop', false);
    let wall = 0;
    let cpu = 0;
    const walls: number[] = [];
    const cpus: number[] = [];
    for (let r = 0; r < 6; r++) {
      gc();
      const c0 = process.cpuUsage();
      const t0 = performance.now();
      for (let i = 0; i < 2000; i++) await engine.run(doc);
      const w = performance.now() - t0;
      const d = process.cpuUsage(c0);
      wall += w;
      cpu += d.user + d.system;
      walls.push(w);
      cpus.push(d.user + d.system);
    }
    console.log(
      `w2 runs/s: wall ${Math.round(12_000 / (wall / 1000))}, per CPU-s ${Math.round(12_000 / (cpu / 1e6))}; ` +
        `median batch: wall ${Math.round(2000 / (median(walls) / 1000))}, per CPU-s ${Math.round(2000 / (median(cpus) / 1e6))}`,
    );
    return;
  }
  const listener = () => {};
  /** fresh: the document's JSON text, parsed again for each run. */
  let text = '';
  const once = async (doc: unknown, input: unknown): Promise<void> => {
    const handle = engine.start(doc, { input });
    if (which === 'obs') for (const e of OBSERVED_EVENTS) handle.on(e, listener);
    const { status } = await handle.done;
    if (status !== 'COMPLETED') throw new Error(`run ${status}`);
  };
  const measure = async (doc: unknown, n: number, warmup: number, runs: number) => {
    const input = { start: 0, go: true };
    const next = () => (which === 'fresh' ? JSON.parse(text) : doc);
    for (let i = 0; i < warmup; i++) await once(next(), input);
    const walls: number[] = [];
    const cpus: number[] = [];
    // Times the process was preempted during a run (another process got the core): what makes a long
    // run's wall time exceed its CPU time on a loaded machine (docs/performance.md, "What bounds W7a").
    const preempted: number[] = [];
    for (let r = 0; r < runs; r++) {
      // fresh: the document object is made here, before the GC and the clock.
      const current = next();
      gc();
      const c0 = process.cpuUsage();
      const s0 = process.resourceUsage().involuntaryContextSwitches;
      const t0 = performance.now();
      await once(current, input);
      walls.push(((performance.now() - t0) * 1000) / n);
      preempted.push(process.resourceUsage().involuntaryContextSwitches - s0);
      const d = process.cpuUsage(c0);
      cpus.push((d.user + d.system) / n);
    }
    return {
      wall: median(walls),
      cpu: median(cpus),
      minWall: Math.min(...walls),
      preempted: median(preempted),
    };
  };
  if (which === 'w7') {
    // 1,000 steps before and after the 10,000: the order matters (what the longer runs leave behind).
    const small = await measure(chain(1000, 'noop', false), 1000, 20, 60);
    // An engine of its own for the long chain, as the suite's W7a (it never runs a shorter one).
    engine = makeEngine();
    const big = await measure(chain(10_000, 'noop', false), 10_000, 6, 15);
    const after = await measure(chain(1000, 'noop', false), 1000, 0, 60);
    console.log(
      `w7 µs/step (median): 1,000 steps wall ${small.wall.toFixed(2)}, CPU ${small.cpu.toFixed(2)}; ` +
        `10,000 steps wall ${big.wall.toFixed(2)}, CPU ${big.cpu.toFixed(2)}; ` +
        `ratio wall ${(big.wall / small.wall).toFixed(2)}×, CPU ${(big.cpu / small.cpu).toFixed(2)}×; ` +
        `1,000 steps again: wall ${after.wall.toFixed(2)}, CPU ${after.cpu.toFixed(2)}; ` +
        `fastest run wall ${small.minWall.toFixed(2)} vs ${big.minWall.toFixed(2)} (${(big.minWall / small.minWall).toFixed(2)}×); ` +
        `preemptions per run (median) ${small.preempted} vs ${big.preempted}`,
    );
    return;
  }
  const doc = chain(1000, which === 'tpl' ? 'inc' : 'noop', which === 'tpl', which === 'obs');
  text = JSON.stringify(doc);
  const r = await measure(doc, 1000, 20, 60);
  console.log(`${which} µs/step (median): wall ${r.wall.toFixed(2)}, CPU ${r.cpu.toFixed(2)}`);
}

await main();
