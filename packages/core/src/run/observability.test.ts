/** Events, the usage ledger, variables and secrets, lifecycle tables, expression limits. */
import { describe, expect, it } from 'vitest';
import { runLifecycle, runMachine, stepLifecycle } from '../lifecycle/lifecycle.js';
import type { Provider } from '../providers/provider.js';
import { code, draft, task } from '../test-support/workflows.js';
import { createEngine } from './engine.js';

describe('events', () => {
  it('carry run_id, a monotonic seq and a time, in lifecycle order', async () => {
    const engine = createEngine({ steps: { task: () => 'x' } });
    const handle = engine.start(draft([task('a', ['b']), task('b')]));
    const seen: Array<{ name: string; seq: number; run_id: string }> = [];
    for (const name of ['run.started', 'step.started', 'step.completed', 'run.completed'] as const) {
      handle.on(name, (e) => seen.push({ name, seq: e.seq, run_id: e.run_id }));
    }
    await handle.done;
    expect(seen.map((e) => e.name)).toEqual([
      'run.started',
      'step.started',
      'step.completed',
      'step.started',
      'step.completed',
      'run.completed',
    ]);
    const seqs = seen.map((e) => e.seq);
    expect([...seqs].sort((x, y) => x - y)).toEqual(seqs);
    expect(new Set(seqs).size).toBe(seqs.length);
    expect(seen.every((e) => e.run_id === handle.id)).toBe(true);
  });

  it('step.skipped carries the reason; engine.on sees every run', async () => {
    const engine = createEngine({ steps: { task: () => 'x' } });
    const reasons: string[] = [];
    engine.on('step.skipped', (e) => reasons.push(`${e.step_key}:${e.reason}`));
    await engine.run(draft([task('a', ['b'], { conditional: 'false' }), task('b')]));
    await engine.run(draft([task('a', ['b'], { conditional: 'false' }), task('b')]), { from_step_key: 'b' });
    expect(reasons).toEqual(['a:conditional', 'a:not_reached']);
  });

  it('a listener that throws never breaks the run (nor the listeners after it)', async () => {
    const errors: string[] = [];
    const engine = createEngine({
      steps: { task: () => 'x' },
      onListenerError: (error, event) => errors.push(`${event}:${(error as Error).message}`),
    });
    const handle = engine.start(draft([task('a')]));
    let second = 0;
    handle.on('step.completed', () => {
      throw new Error('listener bug');
    });
    handle.on('step.completed', () => {
      second++;
    });
    const run = await handle.done;
    expect(run.status).toBe('COMPLETED');
    expect(second).toBe(1);
    expect(errors).toEqual(['step.completed:listener bug']);
  });

  it('loop.iteration fires once per element and handler logs reach the step record and the log event', async () => {
    const engine = createEngine({
      steps: {
        t: (ctx) => {
          ctx.log('info', `item ${ctx.item}`);
          return ctx.item;
        },
      },
    });
    const handle = engine.start(draft([{ type: 't', key: 'l', loop: '[1,2,3]' }]));
    const iterations: number[] = [];
    const logs: string[] = [];
    handle.on('loop.iteration', (e) => iterations.push(e.index));
    handle.on('log', (e) => logs.push(e.message));
    const run = await handle.done;
    expect(iterations.sort()).toEqual([0, 1, 2]);
    expect(logs.sort()).toEqual(['item 1', 'item 2', 'item 3']);
    expect(run.output.l!.logs.map((l) => l.index).sort()).toEqual([0, 1, 2]);
  });
});

describe('usage ledger', () => {
  it('total = Σ steps = Σ calls; calls are listed per step too', async () => {
    const engine = createEngine({
      steps: {
        spend: (ctx) => {
          ctx.usage.record({ id: `${ctx.step.key}-1`, total: 1.5 });
          ctx.usage.record({ id: `${ctx.step.key}-2`, total: 0.5 });
        },
      },
    });
    const run = await engine.run(
      draft([
        { type: 'spend', key: 'a' },
        { type: 'spend', key: 'b' },
      ]),
    );
    expect(run.usage.total).toBe(4);
    expect(run.usage.steps.a).toEqual({
      total: 2,
      calls: [
        { id: 'a-1', total: 1.5 },
        { id: 'a-2', total: 0.5 },
      ],
    });
    expect(run.usage.calls).toHaveLength(4);
    expect(run.output.a!.calls).toHaveLength(2);
  });

  it('limits.maxCredits fails the run with BUDGET_EXCEEDED once spent, whatever throw_on_error says', async () => {
    const engine = createEngine({
      limits: { maxCredits: 2 },
      steps: { spend: (ctx) => ctx.usage.record({ id: ctx.step.key, total: 1.5 }) },
    });
    const run = await engine.run(
      draft([
        { type: 'spend', key: 'a', destinations: ['b'], throw_on_error: false },
        { type: 'spend', key: 'b', destinations: ['c'], throw_on_error: false },
        { type: 'spend', key: 'c' },
      ]),
    );
    expect(run.status).toBe('FAILED');
    expect(run.error).toMatchObject({ code: 'BUDGET_EXCEEDED', step_key: 'b' });
    expect(run.output.b!.status).toBe('FAILED');
    expect(run.output.c!.status).toBe('SKIPPED');
  });

  it('model steps price their calls from the pricing table; unknown models cost 0 with a warning', async () => {
    const provider: Provider = {
      name: 'fake',
      complete: async () => ({
        message: 'hi',
        raw: {},
        usage: { input_tokens: 1_000_000, output_tokens: 500_000 },
      }),
    };
    const engine = createEngine({
      providers: [provider],
      pricing: { fake: { known: { input_per_million: 2, output_per_million: 4 } } },
    });
    const doc = (model: string) =>
      draft([
        {
          type: 'model',
          key: 'm',
          provider: { provider: 'fake', model, messages: [{ role: 'user', content: 'x' }] },
        },
      ]);
    const priced = await engine.run(doc('known'));
    expect(priced.usage.total).toBe(4);
    expect(priced.usage.calls[0]).toMatchObject({
      provider: 'fake',
      model: 'known',
      input_tokens: 1_000_000,
      output_tokens: 500_000,
    });
    const unpriced = await engine.run(doc('other'));
    expect(unpriced.usage.total).toBe(0);
    expect(unpriced.usage.calls[0]).toMatchObject({ total: 0, input_tokens: 1_000_000 });
    expect(unpriced.output.m!.logs[0]).toMatchObject({ level: 'warn' });
  });
});

describe('variables and secrets', () => {
  it('engine and run variables are $vars; run variables override', async () => {
    const engine = createEngine({
      variables: [
        { key: 'a', value: 1 },
        { key: 'b', value: 2 },
      ],
    });
    const run = await engine.run(draft([code('c', '$vars.a + $vars.b')]), {
      variables: [{ key: 'b', value: 40 }],
    });
    expect(run.result).toBe(41);
  });

  it('secret values never appear in run records, events, logs or errors', async () => {
    const secret = 'sk-very-secret-123';
    const engine = createEngine({
      variables: [{ key: 'token', value: secret, secret: true }],
      steps: {
        leak: (ctx) => {
          ctx.log('info', `token is ${ctx.vars.token}`);
          throw new Error(`failed with ${ctx.vars.token}`);
        },
      },
    });
    const handle = engine.start(
      draft([
        code('echo', '"Bearer " & $vars.token', ['leak']),
        { type: 'leak', key: 'leak', throw_on_error: false, destinations: ['use'] },
        code('use', 'echo.output'),
      ]),
    );
    const events: unknown[] = [];
    for (const name of ['step.completed', 'step.failed', 'log', 'run.completed'] as const)
      handle.on(name, (e) => events.push(e));
    const run = await handle.done;
    const text = JSON.stringify({ run, events });
    expect(text).not.toContain(secret);
    expect(run.output.echo!.output).toBe('Bearer [secret]');
    expect(run.output.leak!.error!.message).toBe('failed with [secret]');
    // Expressions still see the real value (the scope is not redacted): `use` got it and its record is redacted.
    expect(run.result).toBe('Bearer [secret]');
  });
});

describe('lifecycles are xstate machines, compiled to tables', () => {
  it('the run table agrees with the machine', () => {
    expect(runMachine.id).toBe('run');
    expect(runLifecycle.initial).toBe('PENDING');
    expect(runLifecycle.next('PENDING', 'START')).toBe('RUNNING');
    expect(runLifecycle.next('RUNNING', 'COMPLETE')).toBe('COMPLETED');
    expect(runLifecycle.next('RUNNING', 'CANCEL')).toBe('CANCELLED');
    expect(runLifecycle.next('PENDING', 'COMPLETE')).toBeUndefined();
    for (const s of ['COMPLETED', 'FAILED', 'CANCELLED'] as const) {
      expect(runLifecycle.isFinal(s)).toBe(true);
      expect(runLifecycle.next(s, 'START')).toBeUndefined();
    }
  });

  it('the step table agrees with the machine', () => {
    expect(stepLifecycle.next('PENDING', 'SKIP')).toBe('SKIPPED');
    expect(stepLifecycle.next('RUNNING', 'FAIL')).toBe('FAILED');
    expect(stepLifecycle.next('PENDING', 'COMPLETE')).toBeUndefined();
    expect(stepLifecycle.isFinal('SKIPPED')).toBe(true);
  });
});

describe('expression limits', () => {
  const engine = createEngine({ limits: { expression: { timeoutMs: 200 } } });
  const hostile = [
    ['infinite recursion', '($f := function(){$f()}; $f())'],
    ['huge product', '[1..10000].([1..10000])'],
    ['huge pad', '$pad("", 20000000, "x")'],
  ] as const;
  for (const [name, expression] of hostile) {
    it(`${name} fails with EXPRESSION_LIMIT in bounded time`, async () => {
      const run = await engine.run(draft([code('x', expression)]));
      expect(run.output.x!.error).toMatchObject({ code: 'EXPRESSION_LIMIT', step_key: 'x' });
      expect(run.output.x!.error!.details).toMatchObject({ field: 'code' });
    });
  }

  // Not limits: a time limit no loaded machine reaches, so only the error itself can end these.
  const patient = createEngine({ limits: { expression: { timeoutMs: 30_000 } } });

  it('$eval is unavailable', async () => {
    const run = await patient.run(draft([code('x', '$eval("1+1")')]));
    expect(run.output.x!.error).toMatchObject({ code: 'EXPRESSION_ERROR' });
    expect(run.output.x!.error!.message).toMatch(/\$eval\(\) is not available/);
  });

  it('runtime errors carry step key, field, expression and position', async () => {
    const run = await patient.run(draft([code('x', '1 + "a"')]));
    expect(run.output.x!.error).toMatchObject({
      code: 'EXPRESSION_ERROR',
      step_key: 'x',
      details: { field: 'code', expression: '1 + "a"' },
    });
    expect(typeof run.output.x!.error!.details!.position).toBe('number');
  });
});
