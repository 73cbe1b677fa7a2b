/**
 * Quick probes used while optimising (docs/performance.md, "Engine changes"): W1-, W2-, W3- and
 * W5-shaped loops, timed (best and median of several repetitions) or, with --alloc, profiled for bytes
 * allocated per step (V8's sampling heap profiler, counting collected objects too).
 *
 *   node bench/dist/probe.js w1 [--alloc]      (also w2, w3, w5)
 */
import { Session } from 'node:inspector/promises';
import { createEngine } from '@weft/core';
import { chain, expressionChain, fanOut, range } from './documents.js';

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
    default:
      throw new Error(`Unknown probe ${which}: use w1, w2, w3 or w5.`);
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

const which = process.argv[2] ?? 'w1';
const p = probe(which);
await p.body();
await p.body();
if (process.argv.includes('--alloc')) await allocations(p);
else await time(p, 7);
