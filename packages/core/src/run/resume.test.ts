/**
 * Durable runs: the journal a run writes, and `engine.resume` from any prefix of it (docs/semantics.md,
 * "Durable runs"). Example tests per rule, then the property that proves it: for generated workflows and
 * deterministic handlers, crashing at any batch boundary and resuming gives the same final run as not
 * crashing at all.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ERROR_CODES } from '../errors.js';
import type { StepContext } from '../steps/types.js';
import { fcRuns } from '../test-support/fc.js';
import { type GenStep, genWorkflow, toDocument } from '../test-support/generate.js';
import { deferred, draft, task, tick } from '../test-support/workflows.js';
import { createEngine } from './engine.js';
import type { JournalEntry, JournalSink } from './journal.js';
import type { Run } from './types.js';

/** A sink that keeps what it is given as a store would: JSON, batch by batch. */
function memorySink(): JournalSink & { batches: JournalEntry[][]; entries(): JournalEntry[] } {
  const batches: JournalEntry[][] = [];
  return {
    batches,
    append(entries) {
      batches.push(JSON.parse(JSON.stringify(entries)));
    },
    entries: () => batches.flat(),
  };
}

/** Waits until the journal holds an entry matching `match` (the sink has it once its batch is appended). */
async function until(
  sink: { entries(): JournalEntry[] },
  match: (e: JournalEntry) => boolean,
): Promise<JournalEntry[]> {
  // Polls (an expression may be evaluated in a sandbox worker, which takes a while the first time).
  for (let i = 0; i < 2_000; i++) {
    const entries = sink.entries();
    if (entries.some(match)) return entries;
    await new Promise((resolve) => setTimeout(resolve, i < 50 ? 0 : 5));
  }
  throw new Error('the journal never got the entry');
}
const started =
  (key: string, index: number | null = null) =>
  (e: JournalEntry) =>
    e.type === 'step.started' && e.key === key && e.index === index;
const settled =
  (key: string, index: number | null = null) =>
  (e: JournalEntry) =>
    e.type === 'step.settled' && e.key === key && e.index === index;

describe('the journal', () => {
  it('numbers a run’s entries from 1 without gaps, in one append per macrotask, as plain JSON', async () => {
    const sink = memorySink();
    const engine = createEngine({ journal: sink, steps: { task: (ctx) => ctx.step.key } });
    const run = await engine.run(draft([task('a', ['b']), task('b')]));
    expect(run.status).toBe('COMPLETED');
    const entries = sink.entries();
    expect(entries.map((e) => e.seq)).toEqual(entries.map((_, i) => i + 1));
    expect(entries.every((e) => e.run_id === run.id && typeof e.at === 'string')).toBe(true);
    expect(entries.map((e) => e.type)).toEqual([
      'run.started',
      'step.started',
      'step.settled',
      'step.started',
      'step.settled',
      'run.ended',
    ]);
    // The whole synchronous run happened within one macrotask: one append.
    expect(sink.batches).toHaveLength(1);
    expect(entries.at(-1)).toMatchObject({ type: 'run.ended', status: 'COMPLETED' });
  });

  it('done resolves only once the sink has acknowledged the run’s entries', async () => {
    const gate = deferred();
    const appended: number[] = [];
    const engine = createEngine({
      journal: {
        append: async (entries) => {
          await gate.promise;
          appended.push(...entries.map((e) => e.seq));
        },
      },
      steps: { task: () => 1 },
    });
    let resolved = false;
    const done = engine.run(draft([task('a')])).then((run) => {
      resolved = true;
      return run;
    });
    for (let i = 0; i < 5; i++) await tick();
    expect(resolved).toBe(false);
    gate.resolve();
    const run = await done;
    expect(run.status).toBe('COMPLETED');
    expect(appended).toEqual([1, 2, 3, 4]);
  });

  it('a secret never reaches the sink', async () => {
    const sink = memorySink();
    const engine = createEngine({ journal: sink, steps: { leak: (ctx) => `token=${ctx.vars.token}` } });
    const run = await engine.run(draft([{ type: 'leak', key: 'a' }]), {
      variables: [{ key: 'token', value: 'sk-SUPERSECRET', secret: true }],
      input: { also: 'sk-SUPERSECRET' },
    });
    expect(run.output.a!.output).toBe('token=[secret]');
    expect(JSON.stringify(sink.entries())).not.toContain('SUPERSECRET');
  });

  it('a sink that throws ends the run FAILED with STORE_ERROR — never RUNNING', async () => {
    const engine = createEngine({
      journal: {
        append: () => {
          throw new Error('disk full');
        },
      },
      steps: { task: () => 1 },
    });
    const run = await engine.run(draft([task('a', ['b']), task('b')]));
    expect(run.status).toBe('FAILED');
    expect(run.error).toMatchObject({ code: 'STORE_ERROR' });
    expect(run.error!.message).toMatch(/disk full/);
  });

  it('a sink that fails once mid-run: the run stops FAILED, and the journal it then gets has no gap', async () => {
    const stored: JournalEntry[] = [];
    let failures = 1;
    const release = deferred();
    const engine = createEngine({
      journal: {
        append: async (entries) => {
          if (failures-- > 0) throw new Error('database is locked');
          stored.push(...JSON.parse(JSON.stringify(entries)));
        },
      },
      steps: {
        task: () => 1,
        wait: (ctx) => new Promise((resolve) => ctx.signal.addEventListener('abort', () => resolve(1))),
      },
    });
    const handle = engine.start(draft([{ type: 'wait', key: 'a', destinations: ['b'] }, task('b')]));
    release.resolve();
    const run = await handle.done;
    expect(run.status).toBe('FAILED');
    expect(run.error).toMatchObject({ code: 'STORE_ERROR' });
    expect(run.output.a!.status).toBe('CANCELLED');
    expect(stored.map((e) => e.seq)).toEqual(stored.map((_, i) => i + 1));
    expect(stored.map((e) => e.type)).toContain('journal.failed');
    expect(stored.at(-1)).toMatchObject({ type: 'run.ended', status: 'FAILED' });
  });

  it('a sink that cannot take the end of the run: FAILED with STORE_ERROR in memory', async () => {
    let calls = 0;
    const engine = createEngine({
      journal: {
        append: async () => {
          if (++calls > 1) throw new Error('connection lost');
        },
      },
      // It answers on a later macrotask: its settle (and the run's end) go in a second append.
      steps: { slow: () => new Promise((resolve) => setImmediate(() => resolve(1))) },
    });
    const run = await engine.run(draft([{ type: 'slow', key: 'a' }]));
    expect(run.status).toBe('FAILED');
    expect(run.error).toMatchObject({ code: 'STORE_ERROR' });
    expect(run.output.a!.status).toBe('COMPLETED');
  });

  it('a sink that never answers: the run ends FAILED with STORE_ERROR after limits.journalTimeoutMs', async () => {
    const engine = createEngine({
      journal: { append: () => new Promise<void>(() => {}) },
      limits: { journalTimeoutMs: 20 },
      steps: { task: () => 1 },
    });
    const run = await engine.run(draft([task('a')]));
    expect(run.status).toBe('FAILED');
    expect(run.error).toMatchObject({ code: 'STORE_ERROR' });
    expect(run.error!.message).toMatch(/did not answer within 20 ms/);
  });

  it('a run’s own journal option overrides the engine’s; null turns it off', async () => {
    const engineSink = memorySink();
    const runSink = memorySink();
    const engine = createEngine({ journal: engineSink, steps: { task: () => 1 } });
    await engine.run(draft([task('a')]), { journal: runSink });
    await engine.run(draft([task('a')]), { journal: null });
    expect(engineSink.entries()).toEqual([]);
    expect(runSink.entries().length).toBeGreaterThan(0);
  });
});

describe('engine.resume', () => {
  it('does not run a completed step again; a started one runs again with the next attempt and the same idempotency key', async () => {
    const sink = memorySink();
    const seen: Array<{ key: string; attempt: number; idempotency: string; engine: string }> = [];
    const never = deferred();
    const handlers = (engine: string) => ({
      task: (ctx: StepContext) => {
        seen.push({ key: ctx.step.key, attempt: ctx.attempt, idempotency: ctx.idempotency_key, engine });
        return engine === 'first' && ctx.step.key === 'b' ? never.promise : `${ctx.step.key}!`;
      },
    });
    const doc = draft([task('a', ['b']), task('b', ['c']), task('c')]);
    const first = createEngine({ journal: sink, steps: handlers('first') }).start(doc);
    const journal = await until(sink, started('b'));

    const run = await createEngine({ steps: handlers('second') }).resume(doc, journal).done;
    expect(run.status).toBe('COMPLETED');
    expect(run.id).toBe(first.id);
    expect(run.output.b).toMatchObject({ status: 'COMPLETED', output: 'b!', attempts: 2 });
    expect(run.result).toBe('c!');
    expect(seen.filter((s) => s.key === 'a')).toHaveLength(1);
    const b = seen.filter((s) => s.key === 'b');
    expect(b.map((s) => [s.engine, s.attempt])).toEqual([
      ['first', 1],
      ['second', 2],
    ]);
    expect(b[1]!.idempotency).toBe(b[0]!.idempotency);
    expect(b[0]!.idempotency).toBe(`${encodeURIComponent(first.id)}:b`);
    void first.cancel();
    never.resolve();
  });

  it('continues the journal it was given: run.resumed, then seq from where it ended', async () => {
    const sink = memorySink();
    const never = deferred();
    const doc = draft([task('a', ['b']), task('b')]);
    createEngine({
      journal: sink,
      steps: { task: (ctx) => (ctx.step.key === 'b' ? never.promise : 1) },
    }).start(doc);
    const journal = await until(sink, started('b'));
    const next = memorySink();
    const run = await createEngine({ steps: { task: () => 2 } }).resume(doc, journal, { journal: next }).done;
    expect(run.status).toBe('COMPLETED');
    const more = next.entries();
    expect(more[0]).toMatchObject({ type: 'run.resumed', seq: journal.length + 1, run_id: run.id });
    expect(more.map((e) => e.seq)).toEqual(more.map((_, i) => journal.length + 1 + i));
    never.resolve();
  });

  it('resumes a loop per iteration: settled iterations are kept, the others run', async () => {
    const sink = memorySink();
    const calls: string[] = [];
    const gate = deferred();
    const doc = draft([{ type: 'item', key: 'l', loop: '[10, 20, 30, 40]', max_concurrency: 1 }]);
    createEngine({
      journal: sink,
      steps: {
        item: (ctx) => {
          calls.push(`first:${ctx.index}`);
          return ctx.index === 2 ? gate.promise : (ctx.item as number) + 1;
        },
      },
    }).start(doc);
    const journal = await until(sink, started('l', 2));
    const run = await createEngine({
      steps: {
        item: (ctx) => {
          calls.push(`second:${ctx.index}@${ctx.attempt}`);
          return (ctx.item as number) + 1;
        },
      },
    }).resume(doc, journal).done;
    expect(run.output.l).toMatchObject({ status: 'COMPLETED', output: [11, 21, 31, 41] });
    expect(calls).toEqual(['first:0', 'first:1', 'first:2', 'second:2@2', 'second:3@1']);
    gate.resolve();
  });

  it('re-arms a retry back-off at its recorded deadline', async () => {
    let now = Date.parse('2026-01-01T00:00:00.000Z');
    const clock = { now: () => now };
    const sink = memorySink();
    const doc = draft([
      {
        type: 'flaky',
        key: 'f',
        retry: { max_attempts: 2, interval_ms: 3_600_000, max_delay_ms: 3_600_000, jitter: false },
      },
    ]);
    createEngine({
      clock,
      journal: sink,
      steps: {
        flaky: () => {
          throw new Error('try later');
        },
      },
    }).start(doc);
    const journal = await until(sink, settled('f'));
    const retryAt = now + 3_600_000;

    // Resumed ten minutes before the deadline: the retry waits.
    let calls = 0;
    now = retryAt - 600_000;
    const early = createEngine({ clock, steps: { flaky: () => ++calls } }).resume(doc, journal);
    for (let i = 0; i < 10; i++) await tick();
    expect(calls).toBe(0);
    await early.cancel();

    // Resumed after the deadline: the retry happens at once, as attempt 2.
    now = retryAt + 1_000;
    const run = await createEngine({ clock, steps: { flaky: (ctx) => `attempt ${ctx.attempt}` } }).resume(
      doc,
      journal,
    ).done;
    expect(run.output.f).toMatchObject({ status: 'COMPLETED', output: 'attempt 2', attempts: 2 });
  });

  it('an execution interrupted by a crash does not count against max_attempts', async () => {
    const sink = memorySink();
    const never = deferred();
    const doc = draft([{ type: 'once', key: 'a', retry: { max_attempts: 1 } }]);
    createEngine({ journal: sink, steps: { once: () => never.promise } }).start(doc);
    const journal = await until(sink, started('a'));
    const run = await createEngine({
      steps: {
        once: (ctx) => {
          if (ctx.attempt === 2) throw new Error('fails for real');
          return 'never';
        },
      },
    }).resume(doc, journal).done;
    // It ran again (at least once), then its one counted attempt failed: no more retries.
    expect(run.output.a).toMatchObject({
      status: 'FAILED',
      attempts: 2,
      error: { message: 'fails for real' },
    });
    never.resolve();
  });

  it('a run that was stopping when the process died ends CANCELLED; nothing runs again', async () => {
    const sink = memorySink();
    const never = deferred();
    const doc = draft([task('a', ['b']), task('b')]);
    const first = createEngine({
      journal: sink,
      limits: { cancelGraceMs: 60_000 },
      steps: { task: () => never.promise },
    }).start(doc);
    await until(sink, started('a'));
    void first.cancel('enough');
    const journal = await until(sink, (e) => e.type === 'cancel.requested');
    let calls = 0;
    const run = await createEngine({ steps: { task: () => ++calls } }).resume(doc, journal).done;
    expect(run.status).toBe('CANCELLED');
    expect(run.output.a!.status).toBe('CANCELLED');
    expect(run.output.b).toMatchObject({ status: 'SKIPPED', skip_reason: 'run_stopped' });
    expect(calls).toBe(0);
    never.resolve();
  });

  it('a journal that ends with its run gives that run back and runs nothing', async () => {
    const sink = memorySink();
    const engine = createEngine({ journal: sink, steps: { task: (ctx) => ctx.step.key } });
    const doc = draft([task('a', ['b']), task('b')]);
    const original = await engine.run(doc, { input: { x: 1 } });
    let calls = 0;
    const again = await createEngine({ steps: { task: () => ++calls } }).resume(doc, sink.entries()).done;
    expect(calls).toBe(0);
    expect(again.status).toBe('COMPLETED');
    expect(again.output).toEqual(original.output);
    expect(again.result).toEqual(original.result);
    expect(again.input).toEqual({ x: 1 });
    expect(again.started_at).toBe(original.started_at);
    expect(again.ended_at).toBe(original.ended_at);
  });

  it('a replay’s kept steps are part of its journal, and stay kept after a resume', async () => {
    const sink = memorySink();
    const never = deferred();
    const doc = draft([task('a', ['b']), task('b')]);
    const kept = {
      status: 'COMPLETED' as const,
      type: 'task',
      key: 'a',
      output: 'kept',
      logs: [],
      calls: [],
      start: null,
      end: null,
      error: null,
      attempts: 1,
    };
    createEngine({ journal: sink, steps: { task: () => never.promise } }).start(doc, { preset: { a: kept } });
    const journal = await until(sink, started('b'));
    const run = await createEngine({
      steps: {
        task: (ctx) => `${ctx.step.key}:${ctx.scope.a && (ctx.scope.a as { output: unknown }).output}`,
      },
    }).resume(doc, journal).done;
    expect(run.output.a!.output).toBe('kept');
    expect(run.output.b!.output).toBe('b:kept');
    never.resolve();
  });

  it('refuses what is not a journal of this document, naming the entry and the field', () => {
    const engine = createEngine({ steps: { task: () => 1 } });
    const doc = draft([task('a')]);
    const plan = engine.compile(doc);
    const base = {
      run_id: 'r1',
      at: '2026-01-01T00:00:00.000Z',
    };
    const runStarted = {
      ...base,
      seq: 1,
      type: 'run.started',
      plan_hash: plan.hash,
      input: {},
      from_step_key: null,
      created_at: base.at,
      meta: {
        origin: 'WORKFLOW',
        app_id: null,
        workflow_app_id: null,
        workflow_id: null,
        collection_id: null,
        record_id: null,
        version: null,
        draft: true,
        retention: null,
        replay_of: null,
      },
      preset: null,
    };
    const refuse = (journal: unknown, message: RegExp) => {
      try {
        engine.resume(doc, journal as JournalEntry[]);
      } catch (error) {
        expect(error).toMatchObject({ code: ERROR_CODES.INVALID_ARGUMENT });
        expect((error as Error).message).toMatch(message);
        return;
      }
      throw new Error('resume accepted it');
    };
    refuse('nope', /`journal` to be an array/);
    refuse([], /begin with a `run.started`/);
    refuse([{ ...runStarted, seq: 2 }], /`journal\[0\]\.seq` to be 1/);
    refuse(
      [runStarted, { ...base, seq: 3, type: 'cancel.requested', reason: 'x' }],
      /`journal\[1\]\.seq` to be 2/,
    );
    refuse([runStarted, { ...base, run_id: 'r2', seq: 2, type: 'cancel.requested', reason: 'x' }], /run_id/);
    refuse([{ ...runStarted, plan_hash: 'other' }], /journal of this document/);
    refuse([runStarted, { ...base, seq: 2, type: 'step.exploded' }], /`journal\[1\]\.type`/);
    refuse(
      [runStarted, { ...base, seq: 2, type: 'step.started', key: 'a', index: null, attempt: 0 }],
      /`journal\[1\]\.attempt` to be a positive integer/,
    );
    refuse(
      [
        runStarted,
        {
          ...base,
          seq: 2,
          type: 'step.settled',
          key: 'a',
          index: null,
          attempt: 7,
          outcome: 'completed',
          output: 1,
          error: null,
          retryable: false,
          jitter: 0,
        },
      ],
      /journal of a run of this document: .*attempt 7/,
    );
    refuse(
      [runStarted, { ...base, seq: 2, type: 'step.started', key: 'zz', index: null, attempt: 1 }],
      /no step is keyed "zz"/,
    );
    expect(() => engine.resume(doc, [runStarted as JournalEntry], { input: {} } as never)).toThrow(
      /Unknown resume option `input`/,
    );
    // Nothing was left registered by the refusals.
    expect(engine.active.size).toBe(0);
  });

  it('refuses a run already in progress in this engine (CONFLICT)', async () => {
    const sink = memorySink();
    const never = deferred();
    const engine = createEngine({
      journal: sink,
      limits: { cancelGraceMs: 1 },
      steps: { task: () => never.promise },
    });
    const doc = draft([task('a')]);
    const handle = engine.start(doc);
    const journal = await until(sink, started('a'));
    expect(() => engine.resume(doc, journal)).toThrow(/already in progress/);
    await handle.cancel();
    never.resolve();
  });
});

// ── the property ──────────────────────────────────────────────────────────────────────────────────

/**
 * Deterministic handlers: the output depends on the step, the item and the index only; a step with
 * `fail_times > 0` fails every attempt; spending is recorded in the same synchronous stretch as the answer
 * (so a crash, which loses whole batches, never separates them).
 */
function deterministicEngine(journal?: JournalSink) {
  return createEngine({
    ...(journal === undefined ? {} : { journal }),
    steps: {
      probe: async (ctx: StepContext<Record<string, unknown>>) => {
        for (let i = 0; i < (ctx.config.delay as number) + (ctx.index ?? 0); i++) await tick();
        if ((ctx.config.fail_times as number) > 0) throw new Error(`${ctx.step.key} always fails`);
        const spend = ctx.config.spend as number;
        if (spend > 0) ctx.usage.record({ id: `${ctx.idempotency_key}`, total: spend });
        return ctx.item === undefined ? `${ctx.step.key}-out` : `${ctx.step.key}-${ctx.index}-${ctx.item}`;
      },
    },
  });
}

/** The generated steps plus a final `code` step reading every output: a `result` that does not depend on timing. */
function withResultStep(steps: GenStep[]) {
  const doc = toDocument(steps);
  for (const step of doc.steps) {
    (step as { destinations?: string[] }).destinations = [
      ...((step as { destinations?: string[] }).destinations ?? []),
      'zz_result',
    ];
  }
  doc.steps.push({
    type: 'code',
    key: 'zz_result',
    code: `[${steps.map((s) => `${s.key}.status & ":" & $string(${s.key}.output)`).join(', ')}]`,
  } as never);
  return doc;
}

function comparable(run: Run) {
  return {
    status: run.status,
    result: run.result,
    error: run.error?.code ?? null,
    steps: Object.fromEntries(
      Object.entries(run.output).map(([k, r]) => [
        k,
        [r.status, r.output, r.error?.code ?? null, r.skip_reason ?? null],
      ]),
    ),
    usage: run.usage.total,
    byStep: Object.fromEntries(Object.entries(run.usage.steps).map(([k, s]) => [k, s.total])),
  };
}

/** Batch boundaries of a journal: where a crash can cut it (a store holds whole batches only). */
function boundaries(batches: JournalEntry[][]): number[] {
  const cuts: number[] = [];
  let n = 0;
  for (const batch of batches) {
    n += batch.length;
    cuts.push(n);
  }
  return cuts;
}

describe('crash and resume (property)', () => {
  it('for any workflow and any crash point, crash + resume gives the same final run as no crash', async () => {
    await fc.assert(
      fc.asyncProperty(
        genWorkflow({ throwing: false }),
        fc.nat(),
        fc.option(fc.nat(), { nil: undefined }),
        async (steps, firstCut, secondCut) => {
          const doc = withResultStep(steps);
          const sink = memorySink();
          const whole = await deterministicEngine(sink).run(doc);
          const cuts = boundaries(sink.batches);
          const k = cuts[firstCut % cuts.length]!;

          const resumedSink = memorySink();
          let resumed = await deterministicEngine(resumedSink).resume(doc, sink.entries().slice(0, k)).done;
          if (secondCut !== undefined && resumedSink.batches.length > 0) {
            // A second crash, while the resumed run was going on.
            const more = boundaries(resumedSink.batches);
            const j = more[secondCut % more.length]!;
            const journal = [...sink.entries().slice(0, k), ...resumedSink.entries().slice(0, j)];
            resumed = await deterministicEngine().resume(doc, journal).done;
          }
          expect(comparable(resumed)).toEqual(comparable(whole));
          expect(resumed.id).toBe(whole.id);
        },
      ),
      { numRuns: fcRuns(80) },
    );
  });

  it('with failures that stop the run: the same outcome (a run that fails, fails; one that completes, completes the same)', async () => {
    await fc.assert(
      fc.asyncProperty(genWorkflow({ throwing: true }), fc.nat(), async (steps, cut) => {
        const doc = withResultStep(steps);
        const sink = memorySink();
        const whole = await deterministicEngine(sink).run(doc);
        const cuts = boundaries(sink.batches);
        const k = cuts[cut % cuts.length]!;
        const resumed = await deterministicEngine().resume(doc, sink.entries().slice(0, k)).done;
        expect(resumed.status).toBe(whole.status);
        if (whole.status === 'COMPLETED') expect(comparable(resumed)).toEqual(comparable(whole));
        else expect(resumed.error?.code).toBe(whole.error?.code);
        // Which steps a failure cancels is a matter of timing; that none is left running is not.
        for (const record of Object.values(resumed.output))
          expect(['PENDING', 'RUNNING']).not.toContain(record.status);
      }),
      { numRuns: fcRuns(60) },
    );
  });
});
