/**
 * Issue 11, item 4 (compile side): a document larger than `limits.maxSteps` is refused before any work;
 * each distinct expression or template is parsed once per plan, and errors still name their own step;
 * compiling is linear in steps and edges (the timing target lives in the benchmark suite, W8).
 */
import { describe, expect, it } from 'vitest';
import { WeftError } from '../errors.js';
import { createEngine } from '../run/engine.js';
import { draft } from '../test-support/workflows.js';
import { compile } from './compile.js';

function chain(n: number, code = '1'): { steps: Array<Record<string, unknown>> } {
  const steps: Array<Record<string, unknown>> = [];
  for (let i = 0; i < n; i++)
    steps.push({ type: 'code', key: `s${i}`, code, destinations: i + 1 < n ? [`s${i + 1}`] : [] });
  return { steps };
}

describe('limits.maxSteps', () => {
  it('refuses a larger document with LIMIT_EXCEEDED before reading its steps', () => {
    let reads = 0;
    const step = {
      get type() {
        reads++;
        return 'code';
      },
    };
    const doc = { steps: new Array(10_001).fill(step) };
    let error: unknown;
    try {
      createEngine().compile(doc);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(WeftError);
    expect(error).toMatchObject({
      code: 'LIMIT_EXCEEDED',
      details: { limit: 'maxSteps', max: 10_000, steps: 10_001 },
    });
    // Not serialised, hashed or validated: no step was read.
    expect(reads).toBe(0);
    expect(() => createEngine().start(doc)).toThrow(/limits\.maxSteps/);
    expect(() => compile(doc, { maxSteps: 5 })).toThrow(/at most 5/);
  });

  it('is configurable, Infinity lifting it', () => {
    const doc = chain(12_000);
    expect(createEngine({ limits: { maxSteps: 20_000 } }).compile(doc).steps).toHaveLength(12_000);
    expect(createEngine({ limits: { maxSteps: Number.POSITIVE_INFINITY } }).compile(doc).steps).toHaveLength(
      12_000,
    );
  });
});

describe('expressions are parsed once per plan', () => {
  it('identical expressions share one parsed evaluator (and its fast path)', () => {
    const plan = compile(
      draft([
        { type: 'code', key: 'a', code: 'input.x + 1', conditional: 'input.ok = true', destinations: ['b'] },
        { type: 'code', key: 'b', code: 'input.x + 1', conditional: 'input.ok = true' },
      ]),
    );
    const [a, b] = plan.steps;
    expect(a!.code!.fast).not.toBeNull();
    expect(b!.code!.fast).toBe(a!.code!.fast);
    expect(b!.conditional!.fast).toBe(a!.conditional!.fast);
    expect(b!.code!.site).toEqual({ step_key: 'b', field: 'code' });
  });

  it('a shared expression that fails names the step that ran it', async () => {
    const doc = draft([
      { type: 'code', key: 'first', code: '$number("x")', throw_on_error: false, destinations: ['second'] },
      { type: 'code', key: 'second', code: '$number("x")', throw_on_error: false },
    ]);
    const run = await createEngine().run(doc);
    expect(run.output.first!.error).toMatchObject({ step_key: 'first', details: { field: 'code' } });
    expect(run.output.second!.error).toMatchObject({ step_key: 'second', details: { field: 'code' } });
    expect(run.output.second!.error!.message).toContain('`code` of step "second"');
    expect(run.output.second!.error!.message).not.toContain('"first"');
  });

  it('templates too: a repeated template text is compiled once, evaluated per step', async () => {
    const doc = draft([
      { type: 'echo', key: 'a', text: 'n={{input.n}}', destinations: ['b'] },
      { type: 'echo', key: 'b', text: 'n={{input.n}}' },
    ]);
    const engine = createEngine({ steps: { echo: (ctx) => ctx.config.text } });
    const plan = engine.compile(doc);
    const [a, b] = plan.steps;
    const ta = a!.config.templates[0]!.template;
    const tb = b!.config.templates[0]!.template;
    expect(ta.kind).toBe('parts');
    expect(tb.kind === 'parts' && ta.kind === 'parts' && (tb.parts[1] as { site: unknown }).site).toEqual({
      step_key: 'b',
      field: 'text',
    });
    const run = await engine.run(doc, { input: { n: 3 } });
    expect(run.output.b!.output).toBe('n=3');
  });
});

describe('compiling is linear in steps and edges', () => {
  it('a step with 20,000 destinations (duplicates included) and a branch repeating them', () => {
    const n = 20_000;
    const keys = Array.from({ length: n }, (_, i) => `t${i}`);
    const doc = {
      steps: [
        { type: 'code', key: 'root', code: '1', destinations: [...keys, ...keys.slice(0, 100)] },
        {
          type: 'branch',
          key: 'br',
          input_connected: true,
          destinations: ['t0'],
          conditions: { yes: { condition: 'true', order: 1, destinations: ['t0', 't1'] } },
          else: ['t1', 't2'],
        },
        ...keys.map((key) => ({ type: 'code', key, code: '1' })),
      ],
    };
    const plan = createEngine({ limits: { maxSteps: 50_000 } }).compile(doc);
    expect(plan.byKey.get('root')!.succs).toHaveLength(n);
    expect(plan.byKey.get('br')!.succs.map((i) => plan.steps[i]!.key)).toEqual(['t0', 't1', 't2']);
    expect(plan.byKey.get('t1')!.preds.map((i) => plan.steps[i]!.key)).toEqual(['root', 'br']);
  });
});
