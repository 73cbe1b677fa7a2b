/** Example tests for the rules of docs/semantics.md (rules 1–8). */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ValidationError } from '../errors.js';
import { code, draft, task } from '../test-support/workflows.js';
import { createEngine } from './engine.js';

const echo = (ctx: { step: { key: string } }) => ctx.step.key;

function engineWith(steps: Record<string, (ctx: any) => unknown> = {}) {
  return createEngine({ steps: { task: echo, ...steps } });
}

const statuses = (run: { output: Record<string, { status: string }> }) =>
  Object.fromEntries(Object.entries(run.output).map(([k, v]) => [k, v.status]));

describe('rule 1 — entry', () => {
  it('without input steps or input_connected, every non-note step without incoming edges is an entry', async () => {
    const run = await engineWith().run(draft([task('a', ['c']), task('b', ['c']), task('c')]));
    expect(run.status).toBe('COMPLETED');
    expect(statuses(run)).toEqual({ a: 'COMPLETED', b: 'COMPLETED', c: 'COMPLETED' });
  });

  it('input steps and input_connected steps are the entries; other roots are skipped', async () => {
    const run = await engineWith().run(
      draft([
        { type: 'input', key: 'in', destinations: ['x'] },
        task('x'),
        task('orphan', ['y']),
        task('y'),
        task('wired', [], { input_connected: true }),
      ]),
    );
    expect(statuses(run)).toEqual({
      in: 'COMPLETED',
      x: 'COMPLETED',
      orphan: 'SKIPPED',
      y: 'SKIPPED',
      wired: 'COMPLETED',
    });
    expect(run.output.orphan!.skip_reason).toBe('not_reached');
  });

  it('from_step_key makes that step the only entry; steps outside its reach end SKIPPED', async () => {
    const run = await engineWith().run(draft([task('a', ['b']), task('b', ['c']), task('c'), task('d')]), {
      from_step_key: 'b',
    });
    expect(statuses(run)).toEqual({ a: 'SKIPPED', b: 'COMPLETED', c: 'COMPLETED', d: 'SKIPPED' });
  });

  it('an unknown from_step_key is refused before any run is created', () => {
    const engine = engineWith();
    expect(() => engine.start(draft([task('a')]), { from_step_key: 'nope' })).toThrow(/from_step_key/);
    expect(engine.active.size).toBe(0);
  });

  it('notes never run, never block and are not in the output', async () => {
    const run = await engineWith().run(
      draft([{ type: 'note', key: 'n', note: '# hi' }, task('a', ['b']), task('b')]),
    );
    expect(Object.keys(run.output).sort()).toEqual(['a', 'b']);
    expect(run.status).toBe('COMPLETED');
  });
});

describe('rule 2 — readiness and joins', () => {
  it('a join runs when at least one incoming edge is taken', async () => {
    const run = await engineWith().run(
      draft([
        task('a', ['b', 'c']),
        task('b', ['join'], { conditional: 'false' }),
        task('c', ['join']),
        task('join'),
      ]),
    );
    expect(statuses(run)).toEqual({ a: 'COMPLETED', b: 'SKIPPED', c: 'COMPLETED', join: 'COMPLETED' });
  });

  it('a step skipped by its own conditional does not cut the path: its edges are taken', async () => {
    const run = await engineWith().run(
      draft([task('a', ['b'], { conditional: 'false' }), task('b', ['c']), task('c')]),
    );
    expect(statuses(run)).toEqual({ a: 'SKIPPED', b: 'COMPLETED', c: 'COMPLETED' });
    expect(run.output.a!.skip_reason).toBe('conditional');
    expect(run.result).toBe('c');
  });

  it('a skipped step is null in the scope: its fields are simply missing', async () => {
    const run = await engineWith().run(
      draft([
        task('a', ['b'], { conditional: 'false' }),
        code('b', '{ "status": a.status, "x": a.output.x, "missing": $exists(a.output.x) }'),
      ]),
    );
    expect(run.output.a!.output).toBeNull();
    expect(run.result).toEqual({ status: 'SKIPPED', missing: false });
  });

  it('a step none of whose incoming edges was taken is not reached, and neither are its successors', async () => {
    const run = await engineWith().run(
      draft([
        {
          type: 'branch',
          key: 'route',
          conditions: { yes: { condition: 'true', destinations: ['chosen'], order: 1 } },
          else: ['other'],
        },
        task('chosen'),
        task('other', ['after']),
        task('after'),
      ]),
    );
    expect(statuses(run)).toEqual({
      route: 'COMPLETED',
      chosen: 'COMPLETED',
      other: 'SKIPPED',
      after: 'SKIPPED',
    });
    expect(run.output.other!.skip_reason).toBe('not_reached');
    expect(run.output.after!.skip_reason).toBe('not_reached');
  });

  it('a branch skipped by its conditional takes only its own destinations', async () => {
    const run = await engineWith().run(
      draft([
        {
          type: 'branch',
          key: 'route',
          conditional: 'false',
          destinations: ['always'],
          conditions: { yes: { condition: 'true', destinations: ['chosen'], order: 1 } },
          else: ['other'],
        },
        task('always'),
        task('chosen'),
        task('other'),
      ]),
    );
    expect(statuses(run)).toEqual({
      route: 'SKIPPED',
      always: 'COMPLETED',
      chosen: 'SKIPPED',
      other: 'SKIPPED',
    });
    expect(run.output.route!.skip_reason).toBe('conditional');
    expect(run.output.chosen!.skip_reason).toBe('not_reached');
  });

  it('the worked examples of docs/semantics.md (rule 2) and docs/steps.md (branch) run as they say', async () => {
    const docs = fileURLToPath(new URL('../../../../docs/', import.meta.url));
    const blocks = (name: string) =>
      [...readFileSync(`${docs}${name}`, 'utf8').matchAll(/```json\n([\s\S]*?)```/g)].map(
        (m) => JSON.parse(m[1]!) as { steps: Array<Record<string, unknown>> },
      );
    const rule2 = blocks('semantics.md').filter((d) =>
      d.steps?.some((s) => s.key === 'join' || s.key === 'route'),
    );
    const taken = await engineWith().run(draft(rule2[0]!.steps));
    expect(statuses(taken)).toEqual({
      a: 'COMPLETED',
      b: 'SKIPPED',
      c: 'COMPLETED',
      join: 'COMPLETED',
      report: 'COMPLETED',
    });
    expect(taken.output.b!.skip_reason).toBe('conditional');
    expect(taken.result).toEqual({ b: 'SKIPPED', c: 'c' });
    const branch = await engineWith().run(draft(rule2[1]!.steps));
    expect(statuses(branch)).toEqual({
      route: 'COMPLETED',
      chosen: 'COMPLETED',
      other: 'SKIPPED',
      after: 'SKIPPED',
    });
    expect(branch.output.after!.skip_reason).toBe('not_reached');

    const routing = blocks('steps.md').find((d) => d.steps?.some((s) => s.key === 'route'))!;
    const high = await engineWith().run(draft(routing.steps), { input: { priority: 'high' } });
    expect(statuses(high)).toMatchObject({
      page: 'COMPLETED',
      log: 'COMPLETED',
      done: 'COMPLETED',
      queue: 'SKIPPED',
    });
    expect(high.output.queue!.skip_reason).toBe('not_reached');
    expect(high.result).toBe('paged');
    const low = await engineWith().run(draft(routing.steps), { input: { priority: 'low' } });
    expect(low.output.page!.skip_reason).toBe('not_reached');
    expect(low.result).toBe('queued');
  });

  it('a step waits for every predecessor to settle', async () => {
    const order: string[] = [];
    const slow = async (ctx: any) => {
      await new Promise((r) => setTimeout(r, 20));
      order.push(ctx.step.key);
    };
    const run = await engineWith({
      slow,
      task: (ctx: any) => {
        order.push(ctx.step.key);
      },
    }).run(draft([{ type: 'slow', key: 'a', destinations: ['join'] }, task('b', ['join']), task('join')]));
    expect(run.status).toBe('COMPLETED');
    expect(order).toEqual(['b', 'a', 'join']);
  });

  it('has no superstep barrier: a step starts as soon as its own predecessors settle', async () => {
    const order: string[] = [];
    let release!: () => void;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    const run = engineWith({
      task: (ctx: any) => {
        order.push(ctx.step.key);
        if (ctx.step.key === 'b2') release();
      },
      hold: async (ctx: any) => {
        order.push(ctx.step.key);
        await gate;
      },
    }).run(
      draft([{ type: 'hold', key: 'a1', destinations: ['a2'] }, task('a2'), task('b1', ['b2']), task('b2')]),
    );
    expect((await run).status).toBe('COMPLETED');
    // b2 ran while a1 (a sibling of b1) was still running.
    expect(order.indexOf('b2')).toBeLessThan(order.indexOf('a2'));
  });

  it('a FAILED step with throw_on_error false keeps its edges live', async () => {
    const run = await engineWith({
      boom: () => {
        throw new Error('boom');
      },
    }).run(draft([{ type: 'boom', key: 'a', throw_on_error: false, destinations: ['b'] }, task('b')]));
    expect(statuses(run)).toEqual({ a: 'FAILED', b: 'COMPLETED' });
    expect(run.status).toBe('COMPLETED');
  });
});

describe('rule 3 — conditional', () => {
  it('true runs the step, false skips it', async () => {
    const run = await engineWith().run(
      draft([
        task('yes', [], { conditional: 'input.n > 1' }),
        task('no', [], { conditional: 'input.n > 5' }),
      ]),
      { input: { n: 2 } },
    );
    expect(statuses(run)).toEqual({ yes: 'COMPLETED', no: 'SKIPPED' });
  });

  it('any non-boolean value (undefined included) fails the step with EXPRESSION_ERROR naming the type', async () => {
    const run = await engineWith().run(draft([task('typo', [], { conditional: 'input.mispelled' })]), {
      input: { misspelled: true },
    });
    expect(run.status).toBe('FAILED');
    expect(run.output.typo!.status).toBe('FAILED');
    expect(run.output.typo!.error).toMatchObject({ code: 'EXPRESSION_ERROR', step_key: 'typo' });
    expect(run.output.typo!.error!.message).toMatch(/got undefined/);
    expect(run.error).toMatchObject({ code: 'EXPRESSION_ERROR', step_key: 'typo' });
  });

  it('can read settled steps by key', async () => {
    const run = await engineWith().run(
      draft([
        code('a', '42', ['b']),
        task('b', [], { conditional: 'a.output = 42 and a.status = "COMPLETED"' }),
      ]),
    );
    expect(statuses(run)).toEqual({ a: 'COMPLETED', b: 'COMPLETED' });
  });
});

describe('rule 4 — loop', () => {
  it('collection form: runs once per element; output in element order whatever the finishing order', async () => {
    const run = await engineWith({
      sleepy: async (ctx: any) => {
        await new Promise((r) => setTimeout(r, (5 - ctx.index) * 5));
        return ctx.item * 10;
      },
    }).run(draft([{ type: 'sleepy', key: 'l', loop: 'input.items' }]), { input: { items: [1, 2, 3, 4, 5] } });
    expect(run.output.l!.output).toEqual([10, 20, 30, 40, 50]);
    expect(run.output.l!.iterations).toEqual({ count: 5, errors: [] });
  });

  it('item form: evaluates with $index = 0, 1, … until null/undefined/false', async () => {
    const run = await engineWith().run(
      draft([code('l', '$item & "!"', [], { loop: 'input.items[$index]' })]),
      { input: { items: ['a', 'b', 'c'] } },
    );
    expect(run.output.l!.output).toEqual(['a!', 'b!', 'c!']);
  });

  it('item form past limits.maxLoopIterations fails with LOOP_LIMIT', async () => {
    const engine = createEngine({ steps: { task: echo }, limits: { maxLoopIterations: 5 } });
    const run = await engine.run(draft([task('l', [], { loop: '$index' })]));
    // $index 0 is falsy? No: 0 is a number, not false/null/undefined, so the loop continues until the limit.
    expect(run.output.l!.error).toMatchObject({ code: 'LOOP_LIMIT' });
  });

  it('an empty collection completes with []', async () => {
    const run = await engineWith().run(draft([task('l', [], { loop: '[]' })]));
    expect(run.output.l).toMatchObject({ status: 'COMPLETED', output: [] });
  });

  it('a collection-form loop that is not an array fails with EXPRESSION_ERROR', async () => {
    const run = await engineWith().run(draft([task('l', [], { loop: '"abc"' })]));
    expect(run.output.l!.error).toMatchObject({ code: 'EXPRESSION_ERROR' });
    expect(run.output.l!.error!.message).toMatch(/must evaluate to an array, got string/);
  });

  it('max_concurrency 1 runs iterations sequentially in order', async () => {
    const seen: number[] = [];
    let inFlight = 0;
    let peak = 0;
    await engineWith({
      t: async (ctx: any) => {
        inFlight++;
        peak = Math.max(peak, inFlight);
        seen.push(ctx.index);
        await new Promise((r) => setTimeout(r, 1));
        inFlight--;
      },
    }).run(draft([{ type: 't', key: 'l', loop: '[1,2,3,4]', max_concurrency: 1 }]));
    expect(seen).toEqual([0, 1, 2, 3]);
    expect(peak).toBe(1);
  });

  it('throw_on_error true: a failing iteration stops new iterations, aborts running ones and fails the step', async () => {
    const started: number[] = [];
    let aborted = 0;
    const run = await engineWith({
      t: (ctx: any) =>
        new Promise((_resolve, reject) => {
          started.push(ctx.index);
          if (ctx.index === 1) return reject(new Error('nope'));
          ctx.signal.addEventListener('abort', () => {
            aborted++;
            reject(new Error('aborted'));
          });
        }),
    }).run(draft([{ type: 't', key: 'l', loop: '[0,1,2,3,4,5]', max_concurrency: 2 }]));
    expect(run.output.l!.status).toBe('FAILED');
    expect(run.output.l!.error!.message).toMatch(/Iteration 1/);
    expect(started).toEqual([0, 1]);
    expect(aborted).toBe(1);
  });

  it('throw_on_error false: all iterations finish, failed slots are null, errors recorded by index', async () => {
    const run = await engineWith({
      t: (ctx: any) => {
        if (ctx.item % 2 === 0) throw new Error(`even ${ctx.item}`);
        return ctx.item;
      },
    }).run(draft([{ type: 't', key: 'l', loop: '[1,2,3,4]', throw_on_error: false }]));
    expect(run.output.l!.status).toBe('COMPLETED');
    expect(run.output.l!.output).toEqual([1, null, 3, null]);
    expect(run.output.l!.iterations!.errors.map((e) => e.index)).toEqual([1, 3]);
    expect(run.output.l!.iterations!.errors[0]!.error.message).toBe('even 2');
  });
});

describe('rule 5 — throw_on_error', () => {
  it('true (default): the run fails, running steps are aborted and end CANCELLED, nothing new starts', async () => {
    let sawAbort = false;
    const run = await engineWith({
      boom: async () => {
        await new Promise((r) => setTimeout(r, 5));
        throw new Error('boom');
      },
      wait: (ctx: any) =>
        new Promise((_, reject) =>
          ctx.signal.addEventListener('abort', () => {
            sawAbort = true;
            reject(new Error('stopped'));
          }),
        ),
    }).run(
      draft([{ type: 'boom', key: 'a', destinations: ['after'] }, { type: 'wait', key: 'w' }, task('after')]),
    );
    expect(run.status).toBe('FAILED');
    expect(run.error).toMatchObject({ code: 'STEP_FAILED', step_key: 'a', message: 'boom' });
    expect(statuses(run)).toEqual({ a: 'FAILED', w: 'CANCELLED', after: 'SKIPPED' });
    expect(run.output.after!.skip_reason).toBe('run_stopped');
    expect(sawAbort).toBe(true);
  });

  it('false: the step ends FAILED with output null and its error kept; later steps can test its status', async () => {
    const run = await engineWith({
      boom: () => {
        throw new Error('boom');
      },
    }).run(
      draft([
        { type: 'boom', key: 'a', throw_on_error: false, destinations: ['b'] },
        code('b', 'a.status = "FAILED" ? "recovered" : "no"'),
      ]),
    );
    expect(run.status).toBe('COMPLETED');
    expect(run.output.a).toMatchObject({ status: 'FAILED', output: null, error: { code: 'STEP_FAILED' } });
    expect(run.result).toBe('recovered');
  });
});

describe('rule 6 — branch', () => {
  const doc = draft([
    {
      type: 'branch',
      key: 'route',
      conditions: {
        low: { condition: 'input.n < 10', destinations: ['small'], order: 2 },
        any: { condition: 'input.n < 100', destinations: ['medium'], order: 1 },
      },
      else: ['big'],
      destinations: ['always'],
    },
    task('small'),
    task('medium'),
    task('big'),
    task('always'),
  ]);

  it('evaluates conditions in ascending order; the first true one is selected', async () => {
    const run = await engineWith().run(doc, { input: { n: 5 } });
    expect(run.output.route!.output).toEqual({ selected: 'any' });
    expect(statuses(run)).toEqual({
      route: 'COMPLETED',
      small: 'SKIPPED',
      medium: 'COMPLETED',
      big: 'SKIPPED',
      always: 'COMPLETED',
    });
  });

  it('falls to else when no condition holds; own destinations are always live', async () => {
    const run = await engineWith().run(doc, { input: { n: 500 } });
    expect(run.output.route!.output).toEqual({ selected: 'else' });
    expect(statuses(run)).toMatchObject({ big: 'COMPLETED', always: 'COMPLETED', medium: 'SKIPPED' });
  });

  it('a non-boolean condition fails the branch with EXPRESSION_ERROR', async () => {
    const run = await engineWith().run(doc, { input: {} });
    // input.n < 100 with n missing is undefined in JSONata
    expect(run.output.route!.error).toMatchObject({ code: 'EXPRESSION_ERROR' });
  });
});

describe('rule 7 — scope', () => {
  it('exposes input, steps by key, $steps, $vars, $run, $item and $index', async () => {
    const engine = createEngine({ variables: [{ key: 'greeting', value: 'hi' }] });
    const run = await engine.run(
      draft([
        code('a', '{"n": input.n}', ['b']),
        code(
          'b',
          '{"fromKey": a.output.n, "fromSteps": $steps.a.output.n, "vars": $vars.greeting, "run": $run.origin, "input": $input.n}',
          ['c'],
        ),
        code('c', '$item * 2 + $index', [], { loop: '[10, 20]' }),
      ]),
      { input: { n: 7 }, origin: 'TEST' },
    );
    expect(run.output.b!.output).toEqual({ fromKey: 7, fromSteps: 7, vars: 'hi', run: 'TEST', input: 7 });
    expect(run.output.c!.output).toEqual([20, 41]);
  });

  it('the scope is read-only to handlers', async () => {
    let threw = false;
    await engineWith({
      mutate: (ctx: any) => {
        try {
          ctx.scope.a.output = 'changed';
        } catch {
          threw = true;
        }
      },
    }).run(draft([code('a', '1', ['m']), { type: 'mutate', key: 'm' }]));
    expect(threw).toBe(true);
  });

  it('templates in step fields resolve against the scope; a lone {{ }} keeps the raw value', async () => {
    const seen: unknown[] = [];
    await engineWith({
      show: (ctx: any) => {
        seen.push(ctx.config);
      },
    }).run(
      draft([
        code('a', '{"x": 1}', ['s']),
        { type: 'show', key: 's', raw: '{{ a.output }}', text: 'x={{ a.output.x }}!' },
      ]),
    );
    expect(seen).toEqual([{ raw: { x: 1 }, text: 'x=1!' }]);
  });
});

describe('rule 8 — result', () => {
  it('is the output of the code step that completed last', async () => {
    const run = await engineWith().run(
      draft([code('a', '"first"', ['b']), code('b', '"second"', ['t']), task('t')]),
    );
    expect(run.result).toBe('second');
  });

  it('unwraps a `result` property of the last code step', async () => {
    const run = await engineWith().run(draft([code('a', '{"result": 5, "other": 1}')]));
    expect(run.result).toBe(5);
  });

  it('without a completed code step, is the output of the last completed step', async () => {
    const run = await engineWith().run(draft([task('a', ['b']), task('b')]));
    expect(run.result).toBe('b');
  });
});

describe('refusal of invalid documents', () => {
  it('start throws the ValidationError and creates no run', () => {
    const engine = engineWith();
    expect(() => engine.start({ steps: 'nope' })).toThrow(ValidationError);
    expect(engine.active.size).toBe(0);
  });
});
