/**
 * Quick probes used while optimising (docs/performance.md, "Engine changes"): W1-, W2-, W3- and
 * W5-shaped loops, timed (best and median of several repetitions) or, with --alloc, profiled for bytes
 * allocated per step (V8's sampling heap profiler, counting collected objects too).
 *
 *   node bench/dist/probe.js w1 [--alloc]      (also w2, w3, w5, w5js, w5b)
 *   node bench/dist/probe.js sandbox           the evaluation boundary's costs (docs/performance.md,
 *                                              "Expressions under limits")
 */
import { Session } from 'node:inspector/promises';
import { createEngine } from '@weft/core';
import { compileExpression, compileJavaScript, DEFAULT_EXPRESSION_LIMITS } from '@weft/core/expressions';
import {
  chain,
  expressionChain,
  expressionChainOutsideFastPath,
  fanOut,
  javascriptChain,
  range,
} from './documents.js';

interface Probe {
  body: () => Promise<void>;
  /** Steps (or items, or runs) per body call. */
  units: number;
  unit: string;
}

function probe(which: string): Probe {
  switch (which) {
    case 'w1': {
      const engine = createEngine({ steps: { noop: () => null } });
      const doc = chain(1_000);
      return {
        body: async () => {
          for (let i = 0; i < 30; i++) await engine.run(doc);
        },
        units: 30_000,
        unit: 'step',
      };
    }
    case 'w2': {
      const engine = createEngine({ steps: { noop: () => null } });
      const doc = chain(10);
      return {
        body: async () => {
          for (let i = 0; i < 2_000; i++) await engine.run(doc);
        },
        units: 2_000,
        unit: 'run',
      };
    }
    case 'w3': {
      const tick = () => new Promise<void>((resolve) => setImmediate(resolve)).then(() => null);
      const engine = createEngine({ steps: { tick }, concurrency: { run: 64 } });
      const doc = fanOut(64);
      const input = { items: range(10_000) };
      return {
        body: async () => {
          for (let i = 0; i < 3; i++) await engine.run(doc, { input });
        },
        units: 30_000,
        unit: 'item',
      };
    }
    case 'w5': {
      const engine = createEngine();
      const doc = expressionChain(1_000);
      return {
        body: async () => {
          for (let i = 0; i < 3; i++) await engine.run(doc, { input: { start: 0 } });
        },
        units: 3_000,
        unit: 'step',
      };
    }
    case 'w5js':
    case 'w5b': {
      const engine = createEngine();
      const doc = which === 'w5js' ? javascriptChain(1_000) : expressionChainOutsideFastPath(1_000);
      return {
        body: async () => {
          for (let i = 0; i < 3; i++) await engine.run(doc, { input: { start: 0 } });
        },
        units: 3_000,
        unit: 'step',
      };
    }
    default:
      throw new Error(`Unknown probe ${which}: use w1, w2, w3, w5, w5js, w5b or sandbox.`);
  }
}

async function time(p: Probe, reps: number): Promise<void> {
  const xs: number[] = [];
  for (let r = 0; r < reps; r++) {
    const t = performance.now();
    await p.body();
    xs.push(((performance.now() - t) * 1000) / p.units);
  }
  xs.sort((a, b) => a - b);
  console.log(`best ${xs[0]!.toFixed(2)} median ${xs[xs.length >> 1]!.toFixed(2)} µs/${p.unit}`);
}

interface ProfileNode {
  callFrame: { functionName: string; url: string; lineNumber: number };
  selfSize: number;
  children: ProfileNode[];
}

async function allocations(p: Probe): Promise<void> {
  const session = new Session();
  session.connect();
  await session.post('HeapProfiler.enable');
  await session.post('HeapProfiler.startSampling', {
    samplingInterval: 256,
    includeObjectsCollectedByMajorGC: true,
    includeObjectsCollectedByMinorGC: true,
  } as never);
  const calls = 5;
  for (let i = 0; i < calls; i++) await p.body();
  const { profile } = (await session.post('HeapProfiler.stopSampling')) as { profile: { head: ProfileNode } };
  const sites = new Map<string, number>();
  let total = 0;
  const walk = (node: ProfileNode) => {
    const f = node.callFrame;
    const site = `${f.functionName || '(anonymous)'} ${f.url.split('/').slice(-2).join('/')}:${f.lineNumber + 1}`;
    total += node.selfSize;
    if (node.selfSize > 0) sites.set(site, (sites.get(site) ?? 0) + node.selfSize);
    for (const child of node.children) walk(child);
  };
  walk(profile.head);
  const units = calls * p.units;
  console.log(`~${(total / units).toFixed(0)} bytes allocated per ${p.unit}`);
  for (const [site, bytes] of [...sites].sort((a, b) => b[1] - a[1]).slice(0, 12)) {
    console.log(`${(bytes / units).toFixed(0).padStart(8)} B  ${site}`);
  }
}

/**
 * The evaluation boundary, piece by piece: a cold worker's first JSONata evaluation, one evaluation in a
 * warm worker, one JavaScript evaluation on the main thread (letting the event loop turn every 100, as
 * the engine does), and one that outgrows the main-thread budget (re-run in a worker).
 */
async function sandbox(): Promise<void> {
  const bindings = { input: { n: 1 }, steps: {}, vars: {}, run: {} };
  let t = performance.now();
  const jsonata = compileExpression('$sum([input.n, 1])', { field: 'code' });
  await jsonata.evaluate({ input: { n: 1 } }, bindings);
  console.log(`JSONata, a cold worker's first evaluation: ${(performance.now() - t).toFixed(1)} ms`);
  const n = 2_000;
  t = performance.now();
  for (let i = 0; i < n; i++) await jsonata.evaluate({ input: { n: i } }, bindings);
  console.log(
    `JSONata in a warm worker: ${(((performance.now() - t) * 1000) / n).toFixed(1)} µs per evaluation`,
  );
  const fn = compileJavaScript('return { n: x.n + 1 };', { field: 'code' }, ['x'], DEFAULT_EXPRESSION_LIMITS);
  await fn.call({ x: { n: 0 } }); // loads QuickJS
  let spent = 0;
  for (let round = 0; round < 2; round++) {
    spent = 0;
    for (let i = 0; i < 20_000; i += 100) {
      const s = performance.now();
      for (let j = 0; j < 100; j++) fn.trySync({ x: { n: j } });
      spent += performance.now() - s;
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
  }
  console.log(
    `JavaScript on the main thread (synchronous): ${((spent * 1000) / 20_000).toFixed(1)} µs per evaluation`,
  );
  const slow = compileJavaScript(
    'let t = 0; for (let i = 0; i < 3e5; i++) t += i; return t;',
    { field: 'code' },
    [],
    { ...DEFAULT_EXPRESSION_LIMITS, timeoutMs: 10_000 },
  );
  await slow.call({});
  t = performance.now();
  await slow.call({});
  console.log(
    `JavaScript past the 5 ms budget (5 ms inline, then a worker): ${(performance.now() - t).toFixed(1)} ms`,
  );
}

const which = process.argv[2] ?? 'w1';
if (which === 'sandbox') {
  await sandbox();
  process.exit(0);
}
const p = probe(which);
await p.body();
await p.body();
if (process.argv.includes('--alloc')) await allocations(p);
else await time(p, 7);
