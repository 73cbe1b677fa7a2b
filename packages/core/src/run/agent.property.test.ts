/**
 * Properties of the tool loop (docs/semantics.md, "Tools") over generated scripts: random turns of random
 * calls (valid, malformed, unknown tools, tools that fail), random `max_iterations`, `tools_parallel`,
 * `throw_on_error` and asynchronous delays, checked against a small reference of the rules, written from
 * the docs: how many model calls are made, how the step ends, that every valid call runs exactly once,
 * that calls of a sequential turn never overlap, and what the tool step's record says. Then the same
 * scripts resumed from a journal cut at a random entry: no call that had settled runs again.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { ModelRequest, ModelToolCall, Provider } from '../providers/provider.js';
import type { StepContext } from '../steps/types.js';
import { fcRuns } from '../test-support/fc.js';
import { draft } from '../test-support/workflows.js';
import { createEngine } from './engine.js';
import type { JournalEntry } from './journal.js';

/** One call of a generated turn. */
type GenCall =
  | { kind: 'step'; tool: 'T1' | 'T2'; fail: boolean; delay: number }
  | { kind: 'external'; fail: boolean; delay: number }
  | { kind: 'malformed' }
  | { kind: 'unknown' };

interface Script {
  /** Turn N's calls; a turn past the end answers without calls. */
  turns: GenCall[][];
  maxIterations: number;
  parallel: boolean;
  throwOnError: boolean;
}

const genCall: fc.Arbitrary<GenCall> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record({
      kind: fc.constant('step' as const),
      tool: fc.constantFrom('T1' as const, 'T2' as const),
      fail: fc.boolean(),
      delay: fc.integer({ min: 0, max: 2 }),
    }),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant('external' as const),
      fail: fc.boolean(),
      delay: fc.integer({ min: 0, max: 2 }),
    }),
  },
  { weight: 1, arbitrary: fc.constant({ kind: 'malformed' as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'unknown' as const }) },
);

const genScript: fc.Arbitrary<Script> = fc.record({
  turns: fc.array(fc.array(genCall, { minLength: 1, maxLength: 3 }), { minLength: 0, maxLength: 4 }),
  maxIterations: fc.integer({ min: 1, max: 5 }),
  parallel: fc.boolean(),
  throwOnError: fc.boolean(),
});

function documentOf(script: Script) {
  const tool = (key: string) => ({
    type: 'code',
    key,
    code: 'input.fail ? $error("tool " & input.n & " failed") : { "n": input.n }',
    throw_on_error: script.throwOnError,
  });
  return draft([
    {
      type: 'model',
      key: 'agent',
      provider: {
        provider: 'fake',
        model: 'm',
        messages: [{ role: 'user', content: 'go' }],
        tools: ['T1', 'T2', 'external:ext'],
        tools_parallel: script.parallel,
        max_iterations: script.maxIterations,
      },
    },
    tool('T1'),
    tool('T2'),
  ]);
}

/** The provider answering turn N from the script; call ids are `t<turn>c<n>`. */
function providerOf(script: Script, requests: number[]): Provider {
  return {
    name: 'fake',
    async complete(request: ModelRequest) {
      const turn = request.turn ?? 1;
      requests.push(turn);
      await new Promise((resolve) => setTimeout(resolve, 0));
      const calls = script.turns[turn - 1] ?? [];
      const tool_calls: ModelToolCall[] = calls.map((call, n) => {
        const id = `t${turn}c${n}`;
        const args = (delay: number, fail: boolean) => JSON.stringify({ n: id, fail, delay });
        const fn =
          call.kind === 'step'
            ? { name: call.tool, arguments: args(call.delay, call.fail) }
            : call.kind === 'external'
              ? { name: 'ext', arguments: args(call.delay, call.fail) }
              : call.kind === 'malformed'
                ? { name: 'T1', arguments: '{"n": ' }
                : { name: 'nope', arguments: '{}' };
        return { id, type: 'function', function: fn };
      });
      return {
        message: `turn ${turn}`,
        raw: null,
        usage: { input_tokens: 1, output_tokens: 1 },
        ...(tool_calls.length > 0 ? { tool_calls } : {}),
      };
    },
  };
}

/** The reference: what the docs say happens. */
function expected(script: Script) {
  const { maxIterations } = script;
  const firstPlain = script.turns.length + 1;
  const modelCalls = Math.min(firstPlain, maxIterations);
  const ran = script.turns.slice(0, modelCalls);
  const completed = firstPlain <= maxIterations;
  const valid = ran.flatMap((turn, t) =>
    turn.flatMap((call, n) =>
      call.kind === 'step' || call.kind === 'external' ? [{ id: `t${t + 1}c${n}`, call }] : [],
    ),
  );
  // Out of iterations: a failed step-tool call of the last turn with throw_on_error fails the step with
  // its error, else MAX_ITERATIONS.
  const last = ran[ran.length - 1] ?? [];
  const toolError = !completed && script.throwOnError && last.some((c) => c.kind === 'step' && c.fail);
  const stepCalls = valid.filter((v) => v.call.kind === 'step');
  return {
    modelCalls,
    completed,
    errorCode: completed ? null : toolError ? 'EXPRESSION_ERROR' : 'MAX_ITERATIONS',
    externalIds: valid.filter((v) => v.call.kind === 'external').map((v) => v.id),
    stepIds: stepCalls.map((v) => v.id),
    callCount: ran.reduce((sum, turn) => sum + turn.length, 0),
    toolStatus: (key: string) => {
      const mine = stepCalls.filter((v) => v.call.kind === 'step' && v.call.tool === key);
      if (mine.length === 0) return 'SKIPPED';
      return mine.some((v) => v.call.kind === 'step' && v.call.fail) ? 'FAILED' : 'COMPLETED';
    },
  };
}

function engineFor(
  script: Script,
  requests: number[],
  seen: string[],
  overlap: { running: number; most: number },
) {
  return createEngine({
    providers: [providerOf(script, requests)],
    tools: {
      ext: {
        handler: async (args: { n: string; fail: boolean; delay: number }, _ctx: StepContext) => {
          seen.push(args.n);
          overlap.running++;
          overlap.most = Math.max(overlap.most, overlap.running);
          for (let i = 0; i < args.delay; i++) await new Promise((resolve) => setTimeout(resolve, 0));
          overlap.running--;
          if (args.fail) throw new Error(`ext ${args.n} failed`);
          return { n: args.n };
        },
      },
    },
  });
}

describe('the tool loop, over generated scripts', () => {
  it('makes the documented model calls, runs every valid call once, ends as the rules say', async () => {
    await fc.assert(
      fc.asyncProperty(genScript, async (script) => {
        const requests: number[] = [];
        const seen: string[] = [];
        const overlap = { running: 0, most: 0 };
        const run = await engineFor(script, requests, seen, overlap).run(documentOf(script));
        const want = expected(script);
        expect(requests).toEqual(Array.from({ length: want.modelCalls }, (_, i) => i + 1));
        const agent = run.output.agent!;
        if (want.completed) {
          expect(agent.status).toBe('COMPLETED');
          const output = agent.output as {
            tool_calls: Array<{ id: string }>;
            tool_results: Array<{ id: string }>;
          };
          expect(output.tool_calls).toHaveLength(want.callCount);
          expect(output.tool_results.map((r) => r.id)).toEqual(output.tool_calls.map((c) => c.id));
        } else {
          expect(agent.status).toBe('FAILED');
          expect(agent.error!.code).toBe(want.errorCode);
          expect(run.status).toBe('FAILED');
          if (want.errorCode === 'MAX_ITERATIONS') {
            const transcript = (agent.error!.details as { transcript: unknown[] }).transcript;
            expect(transcript).toHaveLength(script.maxIterations);
          }
        }
        // Every valid external call ran exactly once; step-tool calls are the tool steps' invocations.
        expect([...seen].sort()).toEqual([...want.externalIds].sort());
        const invocations = ['T1', 'T2'].flatMap((k) =>
          (run.output[k]!.calls as unknown as Array<{ id: string; tool_index: number }>).map((c) => c.id),
        );
        expect(invocations.sort()).toEqual([...want.stepIds].sort());
        for (const key of ['T1', 'T2']) {
          const record = run.output[key]!;
          expect(record.status).toBe(want.toolStatus(key));
          if (record.status === 'SKIPPED') expect(record.skip_reason).toBe('tool_not_called');
          const calls = record.calls as unknown as Array<{ tool_index: number }>;
          expect(calls.map((c) => c.tool_index)).toEqual(calls.map((_, i) => i));
        }
        if (!script.parallel) expect(overlap.most).toBeLessThanOrEqual(1);
      }),
      { numRuns: fcRuns(40) },
    );
  });

  it('resumed from a journal cut anywhere, never runs a call that had settled again, and ends the same way', async () => {
    await fc.assert(
      fc.asyncProperty(genScript, fc.double({ min: 0, max: 1, noNaN: true }), async (script, where) => {
        const journal: JournalEntry[] = [];
        const first = engineFor(script, [], [], { running: 0, most: 0 });
        const complete = await first.run(documentOf(script), {
          journal: { append: (entries) => void journal.push(...JSON.parse(JSON.stringify(entries))) },
        });
        // Cut before the run ended (after run.started).
        const cut = 1 + Math.floor(where * (journal.length - 2));
        const prefix = journal.slice(0, cut);
        const settledExternal = new Set<string>();
        for (const e of prefix) {
          if (e.type === 'tool.settled' && e.outcome === 'completed') {
            settledExternal.add((e.output as { n: string }).n);
          }
        }
        const seen: string[] = [];
        const resumed = await engineFor(script, [], seen, { running: 0, most: 0 }).resume(
          documentOf(script),
          prefix,
        ).done;
        for (const n of seen) expect(settledExternal.has(n)).toBe(false);
        expect(resumed.status).toBe(complete.status);
        expect(resumed.output.agent!.status).toBe(complete.output.agent!.status);
        if (complete.output.agent!.status === 'COMPLETED') {
          expect(resumed.output.agent!.output).toEqual(complete.output.agent!.output);
        }
      }),
      { numRuns: fcRuns(40) },
    );
  });
});
