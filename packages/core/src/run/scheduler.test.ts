/**
 * `decide` on its own: a pure, deterministic function of (state, entry) — the same entries from the same
 * initial state give the same state and the same commands — and every impossible fact is refused.
 */
import fc from 'fast-check';
import { describe, expect, it, vi } from 'vitest';
import { ERROR_CODES } from '../errors.js';
import { runLifecycle, STEP, STEP_EVENT, stepLifecycle } from '../lifecycle/lifecycle.js';
import type { StepContext } from '../steps/types.js';
import { fcRuns } from '../test-support/fc.js';
import { genWorkflow, toDocument } from '../test-support/generate.js';
import { draft, task, tick } from '../test-support/workflows.js';
import { recordCommands } from './commands.js';
import { createEngine } from './engine.js';
import type { JournalEntry, RunStartedEntry } from './journal.js';
import { decide } from './scheduler.js';
import { createRunState, type RunSettings, type RunState } from './state.js';

const engine = createEngine({
  steps: {
    task: (ctx) => ctx.step.key,
    probe: async (ctx: StepContext<Record<string, unknown>>) => {
      for (let i = 0; i < (ctx.config.delay as number); i++) await tick();
      if ((ctx.config.fail_times as number) >= ctx.attempt) throw new Error('planned');
      return ctx.item ?? ctx.step.key;
    },
  },
});

async function journalOf(document: unknown): Promise<JournalEntry[]> {
  const entries: JournalEntry[] = [];
  await engine.run(document, { journal: { append: (batch) => void entries.push(...batch) } });
  return JSON.parse(JSON.stringify(entries));
}

/** The state as plain data (typed arrays as arrays) for comparison. */
function snapshotOf(state: RunState): unknown {
  return JSON.parse(
    JSON.stringify(state, (key, value) =>
      key === 'plan' || key === 'settings'
        ? undefined
        : ArrayBuffer.isView(value)
          ? Array.from(value as Uint8Array)
          : value,
    ),
  );
}

describe('decide is deterministic', () => {
  it('folding the same journal twice gives the same state and the same commands', async () => {
    await fc.assert(
      fc.asyncProperty(genWorkflow({ throwing: true }), async (steps) => {
        const doc = toDocument(steps);
        const entries = await journalOf(doc);
        const a = foldWithEngine(doc, entries);
        const b = foldWithEngine(doc, entries);
        expect(b.commands).toEqual(a.commands);
        expect(snapshotOf(b.state)).toEqual(snapshotOf(a.state));
        // The fold ends where the run ended.
        expect(a.state.status).toBe(
          entries.at(-1)!.type === 'run.ended' ? (entries.at(-1) as { status: string }).status : 'RUNNING',
        );
      }),
      { numRuns: fcRuns(40) },
    );
  });

  it('writes the commands a run needs, in order', async () => {
    const doc = draft([task('a', ['b']), task('b')]);
    const entries = await journalOf(doc);
    const { commands } = foldWithEngine(doc, entries);
    expect(commands.map((c) => [c.command, ...c.args.slice(0, 3)])).toEqual([
      ['runStarted'],
      ['invoke', 0, -1, 1],
      ['stepSettled', 0],
      ['invoke', 1, -1, 1],
      ['stepSettled', 1],
      ['end'],
      ['ended'],
    ]);
  });
});

describe('impossible facts are refused with an INTERNAL error naming what was wrong', () => {
  it('a settle of an execution that was never asked for, a second start, a wrong end', async () => {
    const doc = draft([task('a', ['b']), task('b')]);
    const entries = await journalOf(doc);
    const refuse = (mutate: (entries: JournalEntry[]) => JournalEntry[], message: RegExp) => {
      let error: unknown;
      try {
        foldWithEngine(doc, mutate(structuredClone(entries)));
      } catch (e) {
        error = e;
      }
      expect(error).toMatchObject({ code: ERROR_CODES.INTERNAL });
      expect((error as Error).message).toMatch(message);
    };
    // b settled before it started.
    refuse(
      (e) => [...e.slice(0, 3), { ...e[4]!, seq: 4 }],
      /entry 4 \(step\.settled\).*attempt 1 never started/,
    );
    // a started twice.
    refuse((e) => [...e.slice(0, 2), { ...e[1]!, seq: 3 }], /entry 3 \(step\.started\)/);
    // The run ended with another outcome than its steps say.
    refuse(
      (e) => [...e.slice(0, -1), { ...e.at(-1)!, status: 'FAILED' } as JournalEntry],
      /outcome is COMPLETED/,
    );
    // A gap.
    refuse((e) => [e[0]!, { ...e[1]!, seq: 5 }], /its seq should be 2/);
  });

  it('a refused transition in a live run ends it FAILED with that INTERNAL error — it never hangs', async () => {
    const step = stepLifecycle.step;
    const spy = vi.spyOn(stepLifecycle, 'step').mockImplementation((state, event, kind, name) => {
      // A bug, simulated: the machine refuses b's completion.
      if (name === 'b' && event === STEP_EVENT.COMPLETE) throw step(STEP.COMPLETED, event, kind, name);
      return step(state, event, kind, name);
    });
    try {
      const run = await engine.run(draft([task('a', ['b']), task('b')]));
      expect(run.status).toBe('FAILED');
      expect(run.error).toMatchObject({ code: 'INTERNAL', details: { machine: 'step', step: 'b' } });
      expect(run.error!.message).toMatch(/no transition COMPLETE from COMPLETED/);
    } finally {
      spy.mockRestore();
    }
  });

  it('the lifecycles refuse a transition they do not have, naming the machine, the subject, state and event', () => {
    expect(() => stepLifecycle.step(STEP.COMPLETED, STEP_EVENT.START, 'step', 'a')).toThrow(
      /The step lifecycle of step "a" has no transition START from COMPLETED/,
    );
    expect(() => runLifecycle.transition('COMPLETED', 'FAIL', 'run', 'r1')).toThrow(
      /The run lifecycle of run "r1" has no transition FAIL from COMPLETED/,
    );
    try {
      stepLifecycle.step(STEP.SKIPPED, STEP_EVENT.COMPLETE, 'step', 'x');
    } catch (error) {
      expect(error).toMatchObject({
        code: 'INTERNAL',
        details: { machine: 'step', step: 'x', state: 'SKIPPED', event: 'COMPLETE' },
      });
    }
  });
});

/** A fold using the engine's own profile (settings) for the plan. */
function foldWithEngine(document: unknown, entries: JournalEntry[]) {
  const first = entries[0] as RunStartedEntry;
  const plan = engine.compile(document);
  const settings = settingsOf(plan);
  const state = createRunState(plan, settings, {
    runId: first.run_id,
    createdAt: first.created_at,
    input: first.input,
    fromStepKey: first.from_step_key,
    meta: first.meta,
  });
  const { out, commands } = recordCommands();
  for (const entry of entries) decide(state, entry, out);
  return { state, commands };
}

/** The same settings the engine's runs get (defaults: no engine retry, no default timeout). */
function settingsOf(plan: ReturnType<typeof engine.compile>): RunSettings {
  return {
    retry: plan.steps.map((s) => ({
      max_attempts: s.retry?.max_attempts ?? 1,
      interval_ms: s.retry?.interval_ms ?? 1000,
      backoff_rate: s.retry?.backoff_rate ?? 2,
      max_delay_ms: s.retry?.max_delay_ms ?? 30_000,
      jitter: s.retry?.jitter ?? true,
    })),
    timeoutMs: plan.steps.map((s) => s.timeoutMs ?? undefined),
    loopCap: plan.steps.map((s) => Math.max(1, s.maxConcurrency ?? 8)),
    loopRequested: plan.steps.map((s) => Math.max(1, s.maxConcurrency ?? 8)),
    missing: plan.steps.map(() => false),
    cancelGraceMs: 5_000,
    maxCredits: Number.POSITIVE_INFINITY,
  };
}
