/** Rules 9–11: retries and timeouts, concurrency caps, cancellation. */
import { describe, expect, it } from 'vitest';
import { ERROR_CODES, WeftError } from '../errors.js';
import { deferred, draft, task, tick } from '../test-support/workflows.js';
import { createEngine } from './engine.js';

describe('rule 9 — retries and timeouts', () => {
  it('retries a retryable failure up to max_attempts, emitting step.retrying', async () => {
    let calls = 0;
    const engine = createEngine({
      steps: {
        flaky: () => {
          calls++;
          if (calls < 3) throw new Error(`transient ${calls}`);
          return 'ok';
        },
      },
    });
    const handle = engine.start(
      draft([{ type: 'flaky', key: 'f', retry: { max_attempts: 3, interval_ms: 1, jitter: false } }]),
    );
    const retries: Array<{ attempt: number; delay_ms: number }> = [];
    handle.on('step.retrying', (e) => retries.push({ attempt: e.attempt, delay_ms: e.delay_ms }));
    const run = await handle.done;
    expect(run.output.f).toMatchObject({ status: 'COMPLETED', output: 'ok', attempts: 3 });
    expect(retries).toEqual([
      { attempt: 2, delay_ms: 1 },
      { attempt: 3, delay_ms: 2 },
    ]);
  });

  it('gives up after max_attempts and fails with the last error', async () => {
    let calls = 0;
    const run = await createEngine({
      steps: {
        bad: () => {
          calls++;
          throw new Error(`attempt ${calls}`);
        },
      },
    }).run(draft([{ type: 'bad', key: 'b', retry: { max_attempts: 2, interval_ms: 0 } }]));
    expect(calls).toBe(2);
    expect(run.output.b).toMatchObject({ status: 'FAILED', attempts: 2, error: { message: 'attempt 2' } });
  });

  it('does not retry non-retryable errors', async () => {
    let calls = 0;
    const run = await createEngine({
      steps: {
        bad: () => {
          calls++;
          throw new WeftError(ERROR_CODES.PROVIDER_AUTH, 'bad key');
        },
      },
    }).run(draft([{ type: 'bad', key: 'b', retry: { max_attempts: 5, interval_ms: 0 } }]));
    expect(calls).toBe(1);
    expect(run.output.b!.error).toMatchObject({ code: 'PROVIDER_AUTH' });
  });

  it('engine-level retry defaults apply to every step; the step overrides field by field', async () => {
    let calls = 0;
    const engine = createEngine({
      retry: { max_attempts: 4, interval_ms: 0 },
      steps: {
        bad: () => {
          calls++;
          throw new Error('x');
        },
      },
    });
    await engine.run(draft([{ type: 'bad', key: 'b' }]));
    expect(calls).toBe(4);
    calls = 0;
    await engine.run(draft([{ type: 'bad', key: 'b', retry: { max_attempts: 2 } }]));
    expect(calls).toBe(2);
  });

  it('timeout_ms fails the attempt with STEP_TIMEOUT and aborts its signal', async () => {
    let aborted = false;
    const run = await createEngine({
      steps: {
        slow: (ctx) =>
          new Promise((resolve) => {
            ctx.signal.addEventListener('abort', () => {
              aborted = true;
              resolve('late');
            });
          }),
      },
    }).run(draft([{ type: 'slow', key: 's', timeout_ms: 20 }]));
    expect(run.output.s!.error).toMatchObject({ code: 'STEP_TIMEOUT', step_key: 's' });
    expect(aborted).toBe(true);
  });

  it('a timed-out attempt is retried when attempts remain', async () => {
    let calls = 0;
    const run = await createEngine({
      steps: {
        slowOnce: (ctx) => {
          calls++;
          if (calls === 1) return new Promise((r) => ctx.signal.addEventListener('abort', () => r(null)));
          return 'second';
        },
      },
    }).run(
      draft([{ type: 'slowOnce', key: 's', timeout_ms: 10, retry: { max_attempts: 2, interval_ms: 0 } }]),
    );
    expect(run.output.s).toMatchObject({ status: 'COMPLETED', output: 'second', attempts: 2 });
  });
});

describe('rule 10 — concurrency', () => {
  it('never exceeds the per-run cap', async () => {
    let inFlight = 0;
    let peak = 0;
    const steps = Array.from({ length: 20 }, (_, i) => ({ type: 'w', key: `s${i}` }));
    await createEngine({
      concurrency: 3,
      steps: {
        w: async () => {
          inFlight++;
          peak = Math.max(peak, inFlight);
          await tick();
          inFlight--;
        },
      },
    }).run(draft(steps));
    expect(peak).toBe(3);
  });

  it('never exceeds the engine-wide cap across runs', async () => {
    let inFlight = 0;
    let peak = 0;
    const engine = createEngine({
      concurrency: { run: 10, engine: 4 },
      steps: {
        w: async () => {
          inFlight++;
          peak = Math.max(peak, inFlight);
          await tick();
          inFlight--;
        },
      },
    });
    const doc = draft(Array.from({ length: 6 }, (_, i) => ({ type: 'w', key: `s${i}` })));
    await Promise.all([engine.run(doc), engine.run(doc), engine.run(doc)]);
    expect(peak).toBe(4);
  });

  it('loop iterations obey both the loop cap and the run cap', async () => {
    let inFlight = 0;
    let peak = 0;
    await createEngine({
      concurrency: 5,
      steps: {
        w: async () => {
          inFlight++;
          peak = Math.max(peak, inFlight);
          await tick();
          inFlight--;
        },
      },
    }).run(draft([{ type: 'w', key: 'l', loop: '[1..40]', max_concurrency: 20 }]));
    expect(peak).toBe(5);
  });

  it('the default loop concurrency is limits.loopConcurrency (8)', async () => {
    let inFlight = 0;
    let peak = 0;
    await createEngine({
      concurrency: 100,
      steps: {
        w: async () => {
          inFlight++;
          peak = Math.max(peak, inFlight);
          await tick();
          inFlight--;
        },
      },
    }).run(draft([{ type: 'w', key: 'l', loop: '[1..40]' }]));
    expect(peak).toBe(8);
  });

  it('rejects a bad cap with an error that quotes the parameter', () => {
    expect(() => createEngine({ concurrency: 0 })).toThrow(/`concurrency`/);
    expect(() => createEngine({ concurrency: { run: 0 } })).toThrow(/`concurrency\.run`/);
  });
});

describe('rule 11 — cancellation', () => {
  it('cancel(): running steps see their signal, nothing starts after it, the run ends CANCELLED', async () => {
    const started: string[] = [];
    const engine = createEngine({
      steps: {
        wait: (ctx) =>
          new Promise((_, reject) => {
            started.push(ctx.step.key);
            ctx.signal.addEventListener('abort', () => reject(new Error('aborted')));
          }),
      },
    });
    const handle = engine.start(
      draft([
        { type: 'wait', key: 'a', destinations: ['b'] },
        { type: 'wait', key: 'b' },
      ]),
    );
    await tick();
    const result = await handle.cancel('user said stop');
    expect(result).toMatchObject({ cancelled: true, status: 'CANCELLED' });
    const run = await handle.done;
    expect(run.status).toBe('CANCELLED');
    expect(run.output.a!.status).toBe('CANCELLED');
    expect(run.output.b).toMatchObject({ status: 'SKIPPED', skip_reason: 'run_stopped' });
    expect(started).toEqual(['a']);
  });

  it("the caller's AbortSignal cancels the run", async () => {
    const controller = new AbortController();
    const engine = createEngine({
      steps: {
        wait: (ctx) =>
          new Promise((_, reject) => ctx.signal.addEventListener('abort', () => reject(new Error('x')))),
      },
    });
    const done = engine.run(draft([{ type: 'wait', key: 'a' }]), { signal: controller.signal });
    await tick();
    controller.abort();
    expect((await done).status).toBe('CANCELLED');
  });

  it('a handler that ignores its signal is abandoned after cancelGraceMs and marked CANCELLED', async () => {
    const never = deferred();
    const engine = createEngine({ limits: { cancelGraceMs: 30 }, steps: { stubborn: () => never.promise } });
    const handle = engine.start(draft([{ type: 'stubborn', key: 's' }]));
    await tick();
    await handle.cancel();
    const run = await handle.done;
    expect(run.output.s!.status).toBe('CANCELLED');
    never.resolve();
  });

  it('done resolves only once every handler has settled', async () => {
    const release = deferred();
    let settled = false;
    const engine = createEngine({
      steps: {
        slowToStop: async (ctx) => {
          await new Promise((r) => ctx.signal.addEventListener('abort', r));
          await release.promise;
          settled = true;
        },
      },
    });
    const handle = engine.start(draft([{ type: 'slowToStop', key: 's' }]));
    await tick();
    void handle.cancel();
    setTimeout(() => release.resolve(), 20);
    await handle.done;
    expect(settled).toBe(true);
  });

  it('cancelling a finished run is a no-op that says so', async () => {
    const engine = createEngine({ steps: { task: () => 1 } });
    const handle = engine.start(draft([task('a')]));
    await handle.done;
    const result = await handle.cancel();
    expect(result.cancelled).toBe(false);
    expect(result.status).toBe('COMPLETED');
    expect(result.message).toMatch(/already ended/);
  });

  it('cancelling before the run begins ends it CANCELLED with every step SKIPPED', async () => {
    const engine = createEngine({ steps: { task: () => 1 } });
    const handle = engine.start(draft([task('a')]));
    await handle.cancel();
    const run = await handle.done;
    expect(run.status).toBe('CANCELLED');
    expect(run.started_at).toBeNull();
  });
});
