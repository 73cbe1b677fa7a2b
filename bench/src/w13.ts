/**
 * W13 — HTTP overhead: requests/s and p99 latency of `POST …/runs` (non-streaming, a 10-step no-op
 * workflow) on @weft/server, against a bare Fastify route making the same in-process call. Each server
 * runs in its own process; autocannon loads it from this one, in alternating rounds (weft, bare, bare,
 * weft, …) so that a noisy neighbour on the shared machine hits both.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { fmt, type Stat, stat } from './harness.js';
import type { Row } from './workloads.js';

export interface W13Sizes {
  rounds: number;
  seconds: number;
  connections: number;
}

export const W13_FULL: W13Sizes = { rounds: 12, seconds: 2, connections: 16 };
export const W13_QUICK: W13Sizes = { rounds: 1, seconds: 1, connections: 4 };

interface Target {
  child: ChildProcess;
  url: string;
  path: string;
  key: string;
}

function startServer(mode: 'weft' | 'bare'): Promise<Target> {
  const script = fileURLToPath(new URL('./w13-server.js', import.meta.url));
  const child = spawn(process.execPath, [script, mode], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    let out = '';
    child.on('error', reject);
    child.on('exit', (code) =>
      reject(new Error(`w13-server ${mode} exited (${code}) before it was ready: ${out}`)),
    );
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      out += chunk;
      const line = /ready (\S+) (\S+) (\S+)/.exec(out);
      if (line !== null) resolve({ child, url: line[1]!, path: line[2]!, key: line[3]! });
    });
  });
}

interface Round {
  rps: number;
  /** Server CPU time per request, µs: what contention on the shared machine disturbs least. */
  cpuPerRequest: number;
  p99: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  sample: unknown;
}

async function load(target: Target, sizes: W13Sizes): Promise<Round> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (target.key !== '-') headers.authorization = `Bearer ${target.key}`;
  const body = JSON.stringify({ input: { n: 1 } });
  const cpuNow = async () =>
    ((await (await fetch(`${target.url}/__cpu`)).json()) as { micros: number }).micros;
  const cpuBefore = await cpuNow();
  const result = await autocannon({
    url: `${target.url}${target.path}`,
    method: 'POST',
    headers,
    body,
    connections: sizes.connections,
    duration: sizes.seconds,
  });
  const cpuUsed = (await cpuNow()) - cpuBefore;
  const sample = await fetch(`${target.url}${target.path}`, { method: 'POST', headers, body }).then((r) =>
    r.json(),
  );
  return {
    rps: result.requests.average,
    cpuPerRequest: cpuUsed / Math.max(1, result.requests.total),
    p99: result.latency.p99,
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
    sample,
  };
}

export async function w13(sizes: W13Sizes): Promise<Row> {
  const weft = await startServer('weft');
  const bare = await startServer('bare');
  const rounds: Record<'weft' | 'bare', Round[]> = { weft: [], bare: [] };
  try {
    // Warm-up: JIT and plan caches on both sides.
    await load(weft, { ...sizes, seconds: 1 });
    await load(bare, { ...sizes, seconds: 1 });
    for (let i = 0; i < sizes.rounds; i++) {
      const order = i % 2 === 0 ? (['weft', 'bare'] as const) : (['bare', 'weft'] as const);
      for (const side of order) rounds[side].push(await load(side === 'weft' ? weft : bare, sizes));
    }
  } finally {
    weft.child.kill('SIGTERM');
    bare.child.kill('SIGTERM');
  }
  const rps = (side: 'weft' | 'bare'): Stat => stat(rounds[side].map((r) => r.rps));
  const p99 = (side: 'weft' | 'bare'): Stat => stat(rounds[side].map((r) => r.p99));
  const clean = (side: 'weft' | 'bare') =>
    rounds[side].every((r) => r.non2xx === 0 && r.errors === 0 && r.timeouts === 0);
  const completed = (side: 'weft' | 'bare') =>
    rounds[side].every((r) => (r.sample as { status?: string; result?: unknown }).status === 'COMPLETED');
  const weftRps = rps('weft');
  const bareRps = rps('bare');
  // Each weft round beside the bare round next to it: load on the shared machine drifts between rounds,
  // much less within a pair, so the ratio is taken per pair and its median reported.
  const pairs = stat(rounds.weft.map((w, i) => rounds.bare[i]!.rps / w.rps));
  const ratio = pairs.median;
  const cpu = (side: 'weft' | 'bare'): Stat => stat(rounds[side].map((r) => r.cpuPerRequest));
  const cpuPairs = stat(rounds.weft.map((w, i) => w.cpuPerRequest / rounds.bare[i]!.cpuPerRequest));
  return {
    id: 'W13',
    workload: `HTTP: POST …/runs of a 10-step no-op workflow (non-streaming), ${sizes.connections} connections, autocannon`,
    unit: 'req/s',
    higherIsBetter: true,
    weft: weftRps,
    baseline: bareRps,
    baselineName: 'a bare Fastify route making the same app.runs.run call',
    ratio,
    target: '≥ 0.8 × the bare route (ratio ≤ 1.25)',
    met: ratio <= 1.25,
    checks: {
      'every request answered 2xx, no errors or timeouts (both servers)': clean('weft') && clean('bare'),
      'the answered runs are COMPLETED': completed('weft') && completed('bare'),
    },
    notes: [
      `ratio: median over the ${sizes.rounds} pairs of adjacent rounds of (bare req/s ÷ @weft/server req/s): ${fmt(pairs.median)} [${fmt(pairs.min)}–${fmt(pairs.max)}]`,
      `server CPU per request: @weft/server ${fmt(cpu('weft').median)} µs [${fmt(cpu('weft').min)}–${fmt(cpu('weft').max)}], bare route ${fmt(cpu('bare').median)} µs [${fmt(cpu('bare').min)}–${fmt(cpu('bare').max)}]; per pair, @weft/server ÷ bare: ${fmt(cpuPairs.median)} [${fmt(cpuPairs.min)}–${fmt(cpuPairs.max)}] (least disturbed by other load on the machine)`,
      `p99 latency: @weft/server ${fmt(p99('weft').median)} ms [${fmt(p99('weft').min)}–${fmt(p99('weft').max)}], bare route ${fmt(p99('bare').median)} ms [${fmt(p99('bare').min)}–${fmt(p99('bare').max)}] (median of ${sizes.rounds} rounds of ${sizes.seconds} s)`,
      `@weft/server per request: API key lookup (SHA-256 + store), per-key rate limit, Ajv validation of the body, wire mapping; each server in its own process`,
    ],
  };
}
