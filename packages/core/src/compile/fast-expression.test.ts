/**
 * The fast path must agree with JSONata: on generated expressions (the subset and beyond) over generated
 * data, under generated limits (`maxDepth`), whenever the closure answers (does not BAIL), JSONata itself
 * (`compileUnguarded`: the same functions, no worker) returns the same value — and never throws, nor
 * hits a limit.
 */
import fc from 'fast-check';
import jsonata from 'jsonata';
import { describe, expect, it } from 'vitest';
import {
  compileExpression,
  compileUnguarded,
  DEFAULT_EXPRESSION_LIMITS,
  type ExpressionBindings,
} from '../expressions/jsonata.js';
import { fcRuns } from '../test-support/fc.js';
import { BAIL, compileFast, withFastPath } from './fast-expression.js';

const NAMES = ['a', 'b', 'n', 's', 'x', 'input'];
const VARIABLES = ['$', '$$', '$input', '$steps', '$vars', '$run', '$item', '$index', '$string', '$nope'];

const literal = fc.oneof(
  fc.integer({ min: -5, max: 5 }).map(String),
  fc.constantFrom('0.5', '1e3', '-2.25', '"a"', '""', '"b"', 'true', 'false', 'null'),
);
const path = fc
  .tuple(
    fc.option(fc.constantFrom(...VARIABLES), { nil: undefined }),
    fc.array(fc.constantFrom(...NAMES), { minLength: 0, maxLength: 3 }),
  )
  .filter(([head, names]) => head !== undefined || names.length > 0)
  .map(([head, names]) => [...(head === undefined ? [] : [head]), ...names].join('.'));
// Forms outside the subset, to check they are refused or bail.
const outside = fc.constantFrom(
  'a[0]',
  'a.*',
  '$string(n)',
  'a.b[]',
  '$exists(a)',
  '[1, 2]',
  'n in [1]',
  '1..3',
  'a.$item',
);

const { expr } = fc.letrec<{ expr: string }>((tie) => ({
  expr: fc.oneof(
    { maxDepth: 4, depthIdentifier: 'e' },
    { arbitrary: literal, weight: 3 },
    { arbitrary: path, weight: 4 },
    { arbitrary: outside, weight: 1 },
    fc
      .tuple(
        tie('expr'),
        fc.constantFrom('+', '-', '*', '/', '%', '=', '!=', '<', '<=', '>', '>=', 'and', 'or', '&'),
        tie('expr'),
      )
      .map(([l, op, r]) => `(${l}) ${op} (${r})`),
    tie('expr').map((e) => `-(${e})`),
    fc
      .tuple(tie('expr'), tie('expr'), fc.option(tie('expr'), { nil: undefined }))
      .map(([c, t, e]) => (e === undefined ? `(${c}) ? (${t})` : `(${c}) ? (${t}) : (${e})`)),
    fc
      .array(fc.tuple(fc.constantFrom('k', 'n', 'a', '_jsonata_lambda'), tie('expr')), { maxLength: 3 })
      .map((pairs) => `{ ${pairs.map(([k, v]) => `"${k}": ${v}`).join(', ')} }`),
    fc.array(tie('expr'), { minLength: 1, maxLength: 2 }).map((es) => `(${es.join('; ')})`),
  ),
}));

const scalar = fc.oneof(
  fc.integer({ min: -3, max: 3 }),
  fc.constantFrom(0.5, -0, 1e308, Number.POSITIVE_INFINITY, Number.NaN),
  fc.constantFrom('', 'a', 'b', 'ab'),
  fc.boolean(),
  fc.constant(null),
);
const value: fc.Arbitrary<unknown> = fc.letrec<{ v: unknown }>((tie) => ({
  v: fc.oneof(
    { maxDepth: 3, depthIdentifier: 'v' },
    { arbitrary: scalar, weight: 5 },
    { arbitrary: fc.dictionary(fc.constantFrom(...NAMES), tie('v'), { maxKeys: 3 }), weight: 3 },
    { arbitrary: fc.array(tie('v'), { maxLength: 2 }), weight: 1 },
    { arbitrary: fc.constant(() => 1), weight: 1 },
  ),
})).v;
const document = fc.dictionary(fc.constantFrom(...NAMES), value, { maxKeys: 5 });
const bindings: fc.Arbitrary<ExpressionBindings> = fc.record({
  input: value,
  steps: value,
  vars: value,
  run: value,
  item: fc.option(value, { nil: undefined }),
  index: fc.option(fc.integer({ min: 0, max: 3 }), { nil: undefined }),
});

async function outcome(p: Promise<unknown>): Promise<{ ok: true; value: unknown } | { ok: false }> {
  try {
    return { ok: true, value: await p };
  } catch {
    return { ok: false };
  }
}

function show(v: unknown): string {
  try {
    return JSON.stringify(v) ?? String(v);
  } catch {
    return typeof v;
  }
}

function sameValue(a: unknown, b: unknown): boolean {
  if (Object.is(a, b)) return true;
  if (a === null || b === null || typeof a !== 'object' || typeof b !== 'object') return false;
  if (Array.isArray(a) !== Array.isArray(b) || Object.getPrototypeOf(a) !== Object.getPrototypeOf(b))
    return false;
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  if (ka.length !== kb.length || ka.some((k, i) => k !== kb[i])) return false;
  return ka.every((k) => sameValue((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
}

describe('the fast expression path', () => {
  it('agrees with JSONata whenever it answers', async () => {
    let answered = 0;
    await fc.assert(
      fc.asyncProperty(
        expr,
        document,
        bindings,
        fc.integer({ min: 1, max: 12 }),
        async (source, doc, b, maxDepth) => {
          const limits = { ...DEFAULT_EXPRESSION_LIMITS, maxDepth };
          let compiled: ReturnType<typeof compileExpression>;
          try {
            compiled = compileUnguarded(source, { field: 'x' }, limits);
          } catch {
            return; // not valid JSONata
          }
          const fast = withFastPath(compiled, maxDepth).fast;
          const expected = await outcome(compiled.evaluate(doc, b));
          if (fast === null) return;
          const got = fast(doc, b);
          if (got === BAIL) return;
          answered++;
          expect(expected.ok, `JSONata threw on ${source} but the fast path answered ${show(got)}`).toBe(
            true,
          );
          if (expected.ok) {
            expect(
              sameValue(got, expected.value),
              `${source}: fast ${show(got)} vs ${show(expected.value)}`,
            ).toBe(true);
          }
        },
      ),
      { numRuns: fcRuns(3000) },
    );
    expect(answered).toBeGreaterThan(100);
  });

  it('answers a whole path as a direct getter, arrays at its end included, as JSONata does', async () => {
    // Array-rich data: a path may end on an array (returned as it is) but not pass through one.
    const arrays: fc.Arbitrary<unknown> = fc.letrec<{ v: unknown }>((tie) => ({
      v: fc.oneof(
        { maxDepth: 3, depthIdentifier: 'a' },
        { arbitrary: scalar, weight: 2 },
        { arbitrary: fc.dictionary(fc.constantFrom(...NAMES), tie('v'), { maxKeys: 3 }), weight: 3 },
        { arbitrary: fc.array(tie('v'), { maxLength: 3 }), weight: 3 },
      ),
    })).v;
    let arraysAnswered = 0;
    await fc.assert(
      fc.asyncProperty(
        path,
        fc.dictionary(fc.constantFrom(...NAMES), arrays, { maxKeys: 5 }),
        arrays,
        async (source, doc, item) => {
          const compiled = compileUnguarded(source, { field: 'x' });
          const fast = withFastPath(compiled).fast;
          // Functions ($string) and unknown variables ($nope) are not bound values: JSONata's to read.
          if (/\$(string|nope)/.test(source)) return;
          expect(fast, source).not.toBeNull();
          const b = { input: doc.input, steps: doc, vars: {}, run: {}, item, index: 0 } as ExpressionBindings;
          const got = fast!(doc, b);
          if (got === BAIL) return;
          if (Array.isArray(got)) arraysAnswered++;
          const expected = await outcome(compiled.evaluate(doc, b));
          expect(expected.ok, source).toBe(true);
          if (expected.ok) expect(sameValue(got, expected.value), `${source}: ${show(got)}`).toBe(true);
        },
      ),
      { numRuns: fcRuns(1500) },
    );
    expect(arraysAnswered).toBeGreaterThan(20);
  });

  it('counts the values of an object constructor together, as JSONata does (it evaluates them concurrently)', async () => {
    // Found by the property above: JSONata needs depth 7 for this one; a max-of-values estimate said 6.
    const source = '{ "k": (1) ? (a), "a": (0.5) + (0.5) }';
    const limits = { ...DEFAULT_EXPRESSION_LIMITS, maxDepth: 6 };
    const compiled = compileUnguarded(source, { field: 'x' }, limits);
    expect(withFastPath(compiled, 6).fast).toBeNull();
    await expect(compiled.evaluate({}, {} as ExpressionBindings)).rejects.toMatchObject({
      code: 'EXPRESSION_LIMIT',
    });
  });

  it('honours maxDepth: an expression JSONata would refuse is left to it (EXPRESSION_LIMIT)', async () => {
    const limits = { ...DEFAULT_EXPRESSION_LIMITS, maxDepth: 4 };
    const deep = withFastPath(compileExpression('1 + 2 + 3 + 4 + 5', { field: 'code' }, limits), 4);
    expect(deep.fast).toBeNull();
    await expect(deep.evaluate({}, {} as ExpressionBindings)).rejects.toMatchObject({
      code: 'EXPRESSION_LIMIT',
      details: { limit: 'depth' },
    });
    const shallow = withFastPath(compileExpression('1 + 2', { field: 'code' }, limits), 4);
    expect(shallow.fast!({}, {} as ExpressionBindings)).toBe(3);
  });

  it('covers the usual expressions and answers them', async () => {
    const doc = {
      input: { start: 2, name: 'Ada' },
      s0: { status: 'COMPLETED', output: { n: 3 }, error: null },
    };
    const b: ExpressionBindings = {
      input: doc.input,
      steps: { s0: doc.s0 },
      vars: { k: 'v' },
      run: { id: 'r' },
      item: undefined,
      index: undefined,
    };
    const cases: Array<[string, unknown]> = [
      ['s0.output.n >= 0', true],
      ['{ "n": s0.output.n + 1 }', Object.assign(Object.create(null), { n: 4 })],
      ['$steps.s0.output.n * 2', 6],
      ['input.name = "Ada" and $vars.k != "w"', true],
      ['input.start > 5 ? "big" : "small"', 'small'],
      ['input.missing', undefined],
      ['$item', undefined],
      ['"Hello " & input.name', 'Hello Ada'],
    ];
    for (const [source, expected] of cases) {
      const compiled = withFastPath(compileExpression(source, { field: 'x' }));
      expect(compiled.fast, source).not.toBeNull();
      expect(sameValue(compiled.fast!(doc, b), expected), source).toBe(true);
      expect(sameValue(await compiled.evaluate(doc, b), expected), source).toBe(true);
    }
  });

  it('leaves other forms to JSONata', async () => {
    for (const source of [
      '$string(1)',
      'a[0]',
      'a.*',
      '$x := 1',
      'items.{ "v": $ }',
      '$sum([1,2])',
      'a.b[]',
    ]) {
      expect(compileFast(jsonata(source).ast()), source).toBeNull();
    }
    // In the subset but through an array (JSONata maps over it): the closure bails and JSONata answers.
    const compiled = withFastPath(compileExpression('input.items.n', { field: 'x' }));
    const doc = { input: { items: [{ n: 1 }, { n: 2 }] } };
    expect(compiled.fast!(doc, {} as ExpressionBindings)).toBe(BAIL);
    expect(await compiled.evaluate(doc, {} as ExpressionBindings)).toEqual([1, 2]);
    // An array in an operand bails too (sequence semantics); only a whole path may end on one.
    const sum = withFastPath(compileExpression('input.items = 1', { field: 'x' }));
    expect(sum.fast!({ input: { items: [1] } }, {} as ExpressionBindings)).toBe(BAIL);
    // An error is JSONata's to raise.
    const bad = withFastPath(compileExpression('input.s + 1', { field: 'x' }));
    expect(bad.fast!({ input: { s: 'a' } }, {} as ExpressionBindings)).toBe(BAIL);
    await expect(bad.evaluate({ input: { s: 'a' } }, {} as ExpressionBindings)).rejects.toMatchObject({
      code: 'EXPRESSION_ERROR',
    });
  });
});
