/**
 * Templates on the fast path (issue 16, item 2): a step's config rendered synchronously (`configNow`)
 * must be what JSONata itself renders for the same scope — on generated templates (whole-field and
 * interpolated, paths and other expressions) over generated scopes — and a run must see the same
 * values whichever path rendered them.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { PlanStep } from '../compile/plan.js';
import { compileUnguarded, type ExpressionBindings, normalizeValue } from '../expressions/jsonata.js';
import { scanTemplate, stringifyForTemplate } from '../expressions/template.js';
import type { StepContext } from '../steps/types.js';
import { fcRuns } from '../test-support/fc.js';
import { draft } from '../test-support/workflows.js';
import { createEngine } from './engine.js';
import { configNow, renderConfig } from './evaluate.js';

const KEYS = ['A', 'B'];
const NAMES = ['output', 'x', 'items', 'n', 'status'];

/** Placeholder expressions: plain paths mostly (the platform's form), some other JSONata. */
const pathExpr = fc
  .tuple(
    fc.constantFrom('input', ...KEYS, '$input', '$steps.A', '$vars', '$item', '$index', '$run'),
    fc.array(fc.constantFrom(...NAMES), { maxLength: 3 }),
  )
  .map(([head, names]) => [head, ...names].join('.'));
const otherExpr = fc.constantFrom(
  'A.output.n + 1',
  'input.x = "a" ? "yes" : "no"',
  '"<" & input.x & ">"',
  '$count(A.output.items)',
  'A.output.items[0]',
  '{ "v": input.n }',
  '$string(input.n)',
  'input.items.n',
);
const segment = fc.oneof({ arbitrary: pathExpr, weight: 4 }, { arbitrary: otherExpr, weight: 1 });
const text = fc.constantFrom('', 'Hi ', ' ', '/', 'x=');
/** A whole-field template, or text with one or two segments. */
const template = fc.oneof(
  segment.map((e) => `{{ ${e} }}`),
  segment.map((e) => `{{${e}}}`),
  fc.tuple(text, segment, text).map(([a, e, b]) => `${a}{{ ${e} }}${b}`),
  fc.tuple(segment, text, segment).map(([e, t, f]) => `{{ ${e} }}${t}{{ ${f} }}`),
  text.map((t) => `${t}plain`),
);

const leaf = fc.oneof(
  fc.integer({ min: -3, max: 3 }),
  fc.constantFrom('', 'a', 'b'),
  fc.boolean(),
  fc.constant(null),
  fc.constant(0.5),
);
const value: fc.Arbitrary<unknown> = fc.letrec<{ v: unknown }>((tie) => ({
  v: fc.oneof(
    { maxDepth: 3, depthIdentifier: 'v' },
    { arbitrary: leaf, weight: 4 },
    { arbitrary: fc.dictionary(fc.constantFrom(...NAMES), tie('v'), { maxKeys: 3 }), weight: 3 },
    { arbitrary: fc.array(tie('v'), { maxLength: 3 }), weight: 2 },
  ),
})).v;
const entry = fc.record({
  status: fc.constantFrom('COMPLETED', 'SKIPPED'),
  output: value,
  error: fc.constant(null),
});

/** What JSONata renders for a template (the reference: every segment evaluated by JSONata itself). */
async function reference(tpl: string, scope: Record<string, unknown>, bindings: ExpressionBindings) {
  const scan = scanTemplate(tpl);
  if (!scan.ok) throw new Error(`bad template ${tpl}`);
  const evaluate = async (source: string) =>
    normalizeValue(await compileUnguarded(source, { field: 't' }).evaluate(scope, bindings));
  if (scan.segments.length === 0) return tpl;
  const only = scan.segments[0]!;
  if (scan.segments.length === 1 && only.start === 0 && only.end === tpl.length) return evaluate(only.source);
  let out = '';
  let last = 0;
  for (const s of scan.segments) {
    out += tpl.slice(last, s.start) + stringifyForTemplate(await evaluate(s.source));
    last = s.end;
  }
  return out + tpl.slice(last);
}

async function settle(p: Promise<unknown>): Promise<{ ok: true; value: unknown } | { ok: false }> {
  try {
    return { ok: true, value: await p };
  } catch {
    return { ok: false };
  }
}

describe('templates on the fast path', () => {
  const engine = createEngine({ steps: { w: () => null } });

  it('render what JSONata renders, whenever the fast path answers', async () => {
    let answered = 0;
    await fc.assert(
      fc.asyncProperty(
        template,
        template,
        template,
        value,
        entry,
        entry,
        fc.option(value, { nil: undefined }),
        async (top, nested, inArray, input, a, b, item) => {
          const plan = engine.compile(
            draft([{ type: 'w', key: 'T', top, deep: { nested, list: [inArray, 'kept'] }, fixed: 1 }]),
          );
          const step = plan.steps[0] as PlanStep;
          const scope: Record<string, unknown> = { input, A: a, B: b };
          const bindings: ExpressionBindings = {
            input,
            steps: { A: a, B: b },
            vars: { x: 'v' },
            run: { id: 'r' },
            item,
            index: item === undefined ? undefined : 0,
          };
          const now = configNow(step, scope, bindings, null);
          if (now === undefined) return;
          answered++;
          const expected = {
            top: await settle(reference(top, scope, bindings)),
            nested: await settle(reference(nested, scope, bindings)),
            inArray: await settle(reference(inArray, scope, bindings)),
          };
          const show = () => `${JSON.stringify({ top, nested, inArray })} over ${JSON.stringify(scope)}`;
          expect(expected.top.ok && expected.nested.ok && expected.inArray.ok, show()).toBe(true);
          if (!(expected.top.ok && expected.nested.ok && expected.inArray.ok)) return;
          expect(now, show()).toEqual({
            top: expected.top.value,
            deep: { nested: expected.nested.value, list: [expected.inArray.value, 'kept'] },
            fixed: 1,
          });
          // The general path renders the same config (it takes the same closures first, then JSONata).
          expect(await renderConfig(step, scope, bindings, new AbortController().signal)).toEqual(now);
        },
      ),
      { numRuns: fcRuns(400) },
    );
    expect(answered).toBeGreaterThan(50);
  });

  it('reads a whole-field `{{ STEP… }}` from the step view by index, as the getter over the scope does', async () => {
    let referenced = 0;
    await fc.assert(
      fc.asyncProperty(
        template,
        template,
        value,
        fc.option(entry, { nil: undefined }),
        fc.option(entry, { nil: undefined }),
        async (top, nested, input, a, b) => {
          // A and B are steps of the plan here: their whole-field paths become step references.
          const plan = engine.compile(
            draft([
              { type: 'w', key: 'A' },
              { type: 'w', key: 'B' },
              { type: 'w', key: 'T', top, deep: { nested }, fixed: 1 },
            ]),
          );
          const step = plan.steps[2] as PlanStep;
          referenced += step.config.templates.filter((t) => t.ref !== null).length;
          // A step not published yet is in neither the scope nor the views.
          const scope: Record<string, unknown> = { input };
          if (a !== undefined) scope.A = a;
          if (b !== undefined) scope.B = b;
          const views = [a, b, undefined];
          const bindings: ExpressionBindings = {
            input,
            steps: { ...scope },
            vars: {},
            run: { id: 'r' },
            item: undefined,
            index: undefined,
          };
          const direct = configNow(step, scope, bindings, views);
          const byKey = configNow(step, scope, bindings, null);
          const show = () => `${JSON.stringify({ top, nested })} over ${JSON.stringify(scope)}`;
          expect(direct === undefined, show()).toBe(byKey === undefined);
          if (direct === undefined || byKey === undefined) return;
          expect(direct, show()).toEqual(byKey);
          // The same values, not copies: a step reference yields the value itself, as the getter does.
          if (step.config.templates.some((t) => t.path[0] === 'top' && t.ref !== null))
            expect(Object.is(direct.top, byKey.top), show()).toBe(true);
          expect(await renderConfig(step, scope, bindings, new AbortController().signal)).toEqual(direct);
        },
      ),
      { numRuns: fcRuns(300) },
    );
    expect(referenced).toBeGreaterThan(20);
  });

  it('compiles step references only for plan steps, never for `input` or `__proto__`', () => {
    const plan = engine.compile(
      draft([
        { type: 'w', key: 'A', destinations: ['T'] },
        {
          type: 'w',
          key: 'T',
          a: '{{ A.output.x }}',
          b: '{{A}}',
          c: '{{ input.x }}',
          d: '{{ Z.output }}',
          e: 'x {{ A.output }}',
          f: '{{ $steps.A.output }}',
          g: '{{ A.output[0] }}',
        },
      ]),
    );
    const refs = Object.fromEntries(plan.steps[1]!.config.templates.map((t) => [t.path.join('.'), t.ref]));
    expect(refs).toEqual({
      a: { step: 0, keys: ['output', 'x'] },
      b: { step: 0, keys: [] },
      c: null,
      d: null,
      e: null,
      f: null,
      g: null,
    });
    expect(plan.stepRefs).toBe(true);
    expect(engine.compile(draft([{ type: 'w', key: 'T', a: '{{ input.x }}' }])).stepRefs).toBe(false);
  });

  it('gives a handler what JSONata gives over the scope it sees, on generated graphs reading steps', async () => {
    const ref = fc.tuple(
      fc.integer({ min: 0, max: 4 }),
      fc.constantFrom('', '.output', '.output.x', '.output.items', '.status', '.error', '.output.x.n'),
    );
    const shape = fc.record({
      n: fc.integer({ min: 2, max: 5 }),
      refs: fc.array(ref, { minLength: 5, maxLength: 5 }),
      outputs: fc.array(value, { minLength: 5, maxLength: 5 }),
      // Edges i → j (i < j) by bit: some steps run in parallel, unpublished when others read them.
      edges: fc.array(fc.boolean(), { minLength: 10, maxLength: 10 }),
    });
    await fc.assert(
      fc.asyncProperty(shape, async ({ n, refs, outputs, edges }) => {
        const steps: Array<Record<string, unknown>> = [];
        let e = 0;
        for (let i = 0; i < n; i++) {
          const destinations: string[] = [];
          for (let j = i + 1; j < 5; j++) if (edges[e++] && j < n) destinations.push(`S${j}`);
          const [target, rest] = refs[i]!;
          steps.push({ type: 'r', key: `S${i}`, v: `{{ S${target % n}${rest} }}`, destinations });
        }
        const mismatches: string[] = [];
        const e2 = createEngine({
          steps: {
            r: async (ctx: StepContext) => {
              const source = (ctx.step as unknown as { v: string }).v.slice(3, -3);
              const expected = await settle(
                compileUnguarded(source, { field: 'v' })
                  .evaluate(ctx.scope, (ctx as unknown as { bindings: ExpressionBindings }).bindings)
                  .then((x) => normalizeValue(x)),
              );
              if (!expected.ok || !Object.is(expected.value, ctx.config.v)) {
                if (!(expected.ok && JSON.stringify(expected.value) === JSON.stringify(ctx.config.v)))
                  mismatches.push(`${ctx.step.key}: ${source} gave ${JSON.stringify(ctx.config.v)}`);
              }
              return outputs[Number(ctx.step.key.slice(1))];
            },
          },
        });
        const run = await e2.run(draft(steps), { input: {} });
        expect(run.status).toBe('COMPLETED');
        expect(mismatches).toEqual([]);
      }),
      { numRuns: fcRuns(150) },
    );
  });

  it('keeps the compiled base intact and shares only what templates do not touch', () => {
    const plan = engine.compile(
      draft([
        {
          type: 'w',
          key: 'T',
          a: '{{ input.x }}',
          deep: { b: 'x {{ input.x }}', same: { k: 1 } },
          list: ['{{ input.x }}', 2],
        },
      ]),
    );
    const step = plan.steps[0] as PlanStep;
    const bindings = { input: { x: 7 } } as unknown as ExpressionBindings;
    const one = configNow(step, { input: { x: 7 } }, bindings, null)!;
    const two = configNow(step, { input: { x: [8] } }, bindings, null)!;
    expect(one).toEqual({ a: 7, deep: { b: 'x 7', same: { k: 1 } }, list: [7, 2] });
    expect(two).toEqual({ a: [8], deep: { b: 'x [8]', same: { k: 1 } }, list: [[8], 2] });
    expect(step.config.base).toEqual({
      a: '{{ input.x }}',
      deep: { b: 'x {{ input.x }}', same: { k: 1 } },
      list: ['{{ input.x }}', 2],
    });
    // Untouched containers are the plan's own (frozen), the copied ones are the run's.
    expect(one.deep).not.toBe(two.deep);
    expect((one.deep as { same: unknown }).same).toBe((step.config.base.deep as { same: unknown }).same);
  });

  it('leaves a step to the general path when a segment needs JSONata, with the same result', async () => {
    const seen: unknown[] = [];
    const e = createEngine({
      steps: {
        w: (ctx: StepContext) => {
          seen.push(ctx.config);
          return ctx.config.v;
        },
      },
    });
    const doc = draft([
      { type: 'w', key: 'A', v: '{{ input.items }}', destinations: ['B'] },
      { type: 'w', key: 'B', v: '{{ A.output }}', n: 'n={{ $count(A.output) }}', destinations: ['C'] },
      { type: 'w', key: 'C', v: 'got {{ B.output }} and {{ input.missing }}!' },
    ]);
    const run = await e.run(doc, { input: { items: [1, { k: [2] }] } });
    expect(run.status).toBe('COMPLETED');
    expect(seen).toEqual([
      { v: [1, { k: [2] }] },
      { v: [1, { k: [2] }], n: 'n=2' },
      { v: 'got [1,{"k":[2]}] and !' },
    ]);
    // A whole-field placeholder yields the value itself, not a copy: B's `v` is the array A returned.
    expect((seen[1] as { v: unknown }).v).toBe((seen[0] as { v: unknown }).v);
    expect(run.output.C?.output).toBe('got [1,{"k":[2]}] and !');
  });
});
