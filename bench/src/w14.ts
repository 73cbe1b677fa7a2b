/**
 * W14 — the agent loop (issue 15; called W9 there, an id already taken): 1,000 concurrent runs of a
 * 3-turn agent — turns 1 and 2 each call 2 tools (a step tool and an external tool, `tools_parallel`),
 * turn 3 answers — against the scripted provider at 50 ms a call, under a provider cap of 100. The
 * theoretical minimum is the provider's bound: 3,000 model calls of 50 ms, 100 at a time = 1,500 ms (the
 * tools take no time). Target: wall time ≤ 1.15 × that. The measured baseline is the same loop in plain
 * JavaScript (p-limit(100), a 50 ms timer per call, the tools as function calls).
 */
import { createEngine, type Run } from '@weft/core';
import { scriptedProvider } from '@weft/testing';
import pLimit from 'p-limit';
import { type SampleOptions, type Stat, sample, stat } from './harness.js';
import type { Row } from './workloads.js';

export interface W14Sizes {
  runs: number;
  latencyMs: number;
  providerCap: number;
  sampling: SampleOptions;
}

export const W14_FULL: W14Sizes = {
  runs: 1_000,
  latencyMs: 50,
  providerCap: 100,
  sampling: { rounds: 3, iterations: 1, warmup: 1 },
};
export const W14_QUICK: W14Sizes = {
  runs: 20,
  latencyMs: 5,
  providerCap: 10,
  sampling: { rounds: 1, iterations: 1, warmup: 0 },
};

const TURNS = 3;

const agent = {
  key: 'w14',
  steps: [
    {
      type: 'model',
      key: 'agent',
      input_connected: true,
      provider: {
        provider: 'scripted',
        model: 'm',
        messages: [{ role: 'user', content: 'Check order {{ input.n }}.' }],
        tools: ['lookup', 'external:refund'],
        tools_parallel: true,
      },
    },
    { type: 'code', key: 'lookup', code: '{ "order": input.order, "status": "delivered" }' },
  ],
};

const turn = (n: number) => ({
  $tool_calls: [
    { name: 'lookup', input: { order: `A-${n}` } },
    { name: 'external:refund', input: { order: `A-${n}` } },
  ],
});

export async function w14(sizes: W14Sizes): Promise<Row> {
  const { runs, latencyMs, providerCap } = sizes;
  const provider = scriptedProvider({
    latencyMs,
    stream: false,
    usage: { input_tokens: 10, output_tokens: 10 },
    replies: { agent: { $turns: [turn(1), turn(2), 'done'] } },
  });
  const engine = createEngine({
    providers: [provider],
    pricing: { scripted: { m: { input_per_million: 0, output_per_million: 0 } } },
    concurrency: { providers: providerCap, engine: 4 * runs },
    tools: { refund: { handler: (args: { order: string }) => ({ refunded: args.order }) } },
  });
  let last: Run[] = [];
  const samples = await sample(
    {
      weft: async () => {
        provider.reset();
        last = await Promise.all(Array.from({ length: runs }, (_, n) => engine.run(agent, { input: { n } })));
      },
      baseline: async () => {
        const limit = pLimit(providerCap);
        const call = () => limit(() => new Promise<void>((resolve) => setTimeout(resolve, latencyMs)));
        const lookup = (order: string) => ({ order, status: 'delivered' });
        const refund = (order: string) => ({ refunded: order });
        await Promise.all(
          Array.from({ length: runs }, async (_, n) => {
            const results: unknown[] = [];
            for (let t = 1; t <= TURNS; t++) {
              await call();
              if (t < TURNS) results.push(...(await Promise.all([lookup(`A-${n}`), refund(`A-${n}`)])));
            }
            return results;
          }),
        );
      },
    },
    sizes.sampling,
  );
  const weft: Stat = stat(samples.weft!);
  const baseline: Stat = stat(samples.baseline!);
  const minimum = Math.max(TURNS * latencyMs, Math.ceil((runs * TURNS) / providerCap) * latencyMs);
  const ratio = weft.median / minimum;
  const completed = last.filter((r) => r.status === 'COMPLETED').length;
  const calls = last.reduce(
    (sum, r) =>
      sum + ((r.output.agent?.output as { tool_calls?: unknown[] } | null)?.tool_calls?.length ?? 0),
    0,
  );
  const full = runs >= 1_000;
  return {
    id: 'W14',
    workload: `agent loop: ${runs.toLocaleString('en-US')} concurrent runs × ${TURNS} model calls (2 tool calls per turn), scripted provider ${latencyMs} ms, provider cap ${providerCap}`,
    unit: 'ms',
    higherIsBetter: false,
    weft,
    baseline,
    baselineName: 'plain JS loop under p-limit',
    ratio,
    target: full ? `≤ 1.15 × the minimum (${minimum} ms)` : '(quick size: no target)',
    met: !full || ratio <= 1.15,
    checks: {
      [`all ${runs} runs completed`]: completed === runs,
      [`${runs * 4} tool calls made`]: calls === runs * 4,
      [`${runs * TURNS} model calls made`]: provider.calls.length === runs * TURNS,
    },
    notes: [
      `theoretical minimum ${minimum} ms (${runs * TURNS} calls × ${latencyMs} ms / ${providerCap}); ratio is Weft / minimum; plain JS: ${(baseline.median / minimum).toFixed(3)}× the minimum`,
    ],
  };
}
