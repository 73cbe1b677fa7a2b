/**
 * A conditional whose path starts at a step of the plan (`STEP.status = "COMPLETED"`) reads that step's
 * scope view by plan index when the runner passes its step views (issue 16, W1-obs): on generated
 * conditionals over generated scopes the answer must be exactly the one read from the scope by key, and
 * JSONata's whenever the fast path answers; a run must go the same way whichever path decided.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BAIL, type FastCompiledExpression } from '../compile/fast-expression.js';
import { compileUnguarded, type ExpressionBindings, normalizeValue } from '../expressions/jsonata.js';
import { DANGEROUS_KEYS, fcRuns } from '../test-support/fc.js';
import { draft } from '../test-support/workflows.js';
import { createEngine } from './engine.js';

/**
 * The plan's steps: plain keys, `input` (a step key, while `input` in the scope is the run input), and
 * keys special to JavaScript objects (validation refuses `__proto__`).
 */
const KEYS = ['A', 'B', 'input', ...DANGEROUS_KEYS.filter((k) => k !== '__proto__')];
const NAMES = ['status', 'output', 'error', 'x', 'n'];

const head = fc.constantFrom(...KEYS, 'Z', '__proto__', '$steps.A', '$input');
const operand = fc.oneof(
  fc
    .tuple(head, fc.array(fc.constantFrom(...NAMES), { maxLength: 3 }))
    .map(([h, names]) => [quoteKey(h), ...names].join('.')),
  fc.constantFrom('"COMPLETED"', '"SKIPPED"', '1', 'true', 'null'),
);
const conditional = fc.oneof(
  fc.tuple(operand, fc.constantFrom('=', '!=', '<', '>='), operand).map(([l, op, r]) => `${l} ${op} ${r}`),
  fc
    .tuple(operand, operand, fc.constantFrom('and', 'or'), operand, operand)
    .map(([a, b, op, c, d]) => `(${a} = ${b}) ${op} (${c} != ${d})`),
  operand,
);

/** A key as a JSONata name: backquoted when it is not a plain identifier. */
function quoteKey(key: string): string {
  return /^[A-Za-z_$][\w$.]*$/.test(key) ? key : `\`${key}\``;
}

const leaf = fc.oneof(fc.integer({ min: -2, max: 2 }), fc.constantFrom('', 'a', 'COMPLETED'), fc.boolean());
const output: fc.Arbitrary<unknown> = fc.oneof(
  leaf,
  fc.constant(null),
  fc.dictionary(fc.constantFrom(...NAMES), leaf, { maxKeys: 3 }),
  fc.array(leaf, { maxLength: 2 }),
);
const view = fc.record({
  status: fc.constantFrom('COMPLETED', 'SKIPPED', 'FAILED'),
  output,
  error: fc.constant(null),
});

describe('conditionals reading steps by index', () => {
  const engine = createEngine({ steps: { w: () => null } });

  it('answer from the step views exactly as from the scope, and as JSONata does', async () => {
    let byIndex = 0;
    let answered = 0;
    await fc.assert(
      fc.asyncProperty(
        conditional,
        fc.array(fc.option(view, { nil: undefined }), { minLength: KEYS.length, maxLength: KEYS.length }),
        fc.dictionary(fc.constantFrom(...NAMES), leaf, { maxKeys: 3 }),
        async (source, settled, input) => {
          let plan: ReturnType<typeof engine.compile>;
          try {
            plan = engine.compile(
              draft([
                ...KEYS.map((key) => ({ type: 'w', key, destinations: ['T'] })),
                { type: 'w', key: 'T', conditional: source },
              ]),
            );
          } catch {
            return; // not valid JSONata
          }
          const t = plan.steps.find((s) => s.key === 'T')!;
          const expression = t.conditional as FastCompiledExpression;
          if (expression.fast === null) return;
          if (expression.stepViews) byIndex++;
          // The scope as the runner builds it (runner.ts, #publish): a settled step's view under its key
          // (not `input`: the run input keeps that name), the same object at its index in the views.
          const scope: Record<string, unknown> = { input };
          const views = new Array<unknown>(plan.steps.length);
          for (let k = 0; k < KEYS.length; k++) {
            const v = settled[k];
            if (v === undefined) continue;
            const i = plan.steps.findIndex((s) => s.key === KEYS[k]);
            views[i] = Object.freeze({ ...v });
            if (KEYS[k] !== 'input') scope[KEYS[k]!] = views[i];
          }
          const bindings: ExpressionBindings = { input, steps: { ...scope }, vars: {}, run: {} };
          const viaViews = expression.fast(scope, bindings, views);
          const viaScope = expression.fast(scope, bindings);
          const show = `${source} over ${JSON.stringify(scope)}`;
          expect(
            Object.is(viaViews, viaScope) || JSON.stringify(viaViews) === JSON.stringify(viaScope),
            show,
          ).toBe(true);
          if (viaViews === BAIL) return;
          answered++;
          const expected = normalizeValue(
            await compileUnguarded(source, { field: 'conditional' }).evaluate(scope, bindings),
          );
          expect(JSON.stringify(viaViews), show).toBe(JSON.stringify(expected));
        },
      ),
      { numRuns: fcRuns(600) },
    );
    expect(byIndex).toBeGreaterThan(50);
    expect(answered).toBeGreaterThan(50);
  });

  it('read by index only a step of the plan, never `input` or `__proto__`, and make the run keep views', () => {
    const compiled = (conditional: string) => {
      const plan = engine.compile(
        draft([
          { type: 'w', key: 'A', destinations: ['T'] },
          { type: 'w', key: 'input', destinations: ['T'] },
          { type: 'w', key: 'T', conditional },
        ]),
      );
      return { plan, stepViews: plan.steps[2]!.conditional!.stepViews };
    };
    expect(compiled('A.status = "COMPLETED"').stepViews).toBe(true);
    expect(compiled('A.output.x.n > 1 and input.go').stepViews).toBe(true);
    expect(compiled('A').stepViews).toBe(true);
    expect(compiled('A.status = "COMPLETED"').plan.stepRefs).toBe(true);
    expect(compiled('input.status = "COMPLETED"').stepViews).toBe(false);
    expect(compiled('`__proto__`.status = "COMPLETED"').stepViews).toBe(false);
    expect(compiled('Z.status = "COMPLETED"').stepViews).toBe(false);
    expect(compiled('$steps.A.status = "COMPLETED"').stepViews).toBe(false);
    expect(compiled('$steps.A.status = "COMPLETED"').plan.stepRefs).toBe(false);
  });

  it('decide a run as the general path does, on generated graphs', async () => {
    const shape = fc.record({
      n: fc.integer({ min: 2, max: 5 }),
      targets: fc.array(fc.integer({ min: 0, max: 4 }), { minLength: 5, maxLength: 5 }),
      forms: fc.array(
        fc.constantFrom(
          '.status = "COMPLETED"',
          '.status != "SKIPPED"',
          '.output.x = 1',
          '.output.x > 0 or input.go',
          '.output.n',
        ),
        { minLength: 5, maxLength: 5 },
      ),
      outputs: fc.array(output, { minLength: 5, maxLength: 5 }),
      edges: fc.array(fc.boolean(), { minLength: 10, maxLength: 10 }),
    });
    const handlers = (outputs: unknown[]) => ({
      w: async (ctx: { step: { key: string } }) => outputs[Number(ctx.step.key.slice(1))],
    });
    const outcome = async (steps: Array<Record<string, unknown>>, outputs: unknown[]) => {
      const run = await createEngine({ steps: handlers(outputs) }).run(draft(steps), {
        input: { go: false },
      });
      return {
        status: run.status,
        steps: Object.values(run.output).map((s) => [s.key, s.status, s.error?.code ?? null]),
      };
    };
    await fc.assert(
      fc.asyncProperty(shape, async ({ n, targets, forms, outputs, edges }) => {
        const fast: Array<Record<string, unknown>> = [];
        const general: Array<Record<string, unknown>> = [];
        let e = 0;
        for (let i = 0; i < n; i++) {
          // A chain, with more edges forward: every step before a step has settled when it is decided,
          // so the run does not depend on how long an evaluation takes (the general path's is longer).
          const destinations: string[] = i + 1 < n ? [`S${i + 1}`] : [];
          for (let j = i + 2; j < 5; j++) if (edges[e++] && j < n) destinations.push(`S${j}`);
          // A step reads one before it (or itself, never settled when read: undefined).
          const expression = `S${targets[i]! % (i + 1)}${forms[i]}`;
          const step = { type: 'w', key: `S${i}`, destinations, throw_on_error: false };
          fast.push(i === 0 ? step : { ...step, conditional: expression });
          // `[e][0]` is `e` for JSONata, but outside the fast path's subset: JSONata decides.
          general.push(i === 0 ? step : { ...step, conditional: `[${expression}][0]` });
        }
        expect(await outcome(fast, outputs)).toEqual(await outcome(general, outputs));
      }),
      { numRuns: fcRuns(40) },
    );
  });
});
