/**
 * The JavaScript fast path must agree with the sandbox: on generated `return <expression>;` bodies (the
 * subset and beyond) over generated data (plain JSON and values that are not: Dates, functions, NaN,
 * holes), whenever the closure answers, the sandbox returns the same value — and does not throw.
 */
import * as acorn from 'acorn';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fcRuns } from '../test-support/fc.js';
import { compileJavaScript } from './javascript.js';
import { compileJavaScriptFast, JS_BAIL } from './javascript-fast.js';
import { DEFAULT_EXPRESSION_LIMITS } from './jsonata.js';

const PARAMS = ['A', 'input', 'steps'];
const NAMES = ['a', 'n', 's', 'output', 'length', 'constructor', '__proto__'];

const literal = fc.constantFrom(
  '0',
  '1',
  '-2',
  '0.5',
  '1e308',
  '"a"',
  '""',
  '"b"',
  'true',
  'false',
  'null',
  'undefined',
);
const path = fc
  .tuple(
    fc.constantFrom(...PARAMS, 'missing'),
    fc.array(
      fc.oneof(
        fc.constantFrom(...NAMES).map((n) => `.${n}`),
        fc.constantFrom(...NAMES).map((n) => `?.${n}`),
        fc.constantFrom('[0]', '[1]', '["a"]', '[-1]'),
      ),
      { maxLength: 3 },
    ),
  )
  .map(([head, rest]) => head + rest.join(''));
const outside = fc.constantFrom(
  'A.output.map((x) => x)',
  '`t` + 1',
  'typeof A',
  '[...input]',
  'A == 1',
  'NaN',
  'A.s.toUpperCase()',
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
        fc.constantFrom('+', '-', '*', '/', '%', '===', '!==', '<', '<=', '>', '>=', '&&', '||', '??'),
        tie('expr'),
      )
      .map(([l, op, r]) => `(${l}) ${op} (${r})`),
    tie('expr').map((e) => `!(${e})`),
    tie('expr').map((e) => `-(${e})`),
    fc.tuple(tie('expr'), tie('expr'), tie('expr')).map(([c, t, e]) => `(${c}) ? (${t}) : (${e})`),
    fc
      .array(fc.tuple(fc.constantFrom('k', 'n', 'a'), tie('expr')), { maxLength: 3 })
      .map((pairs) => `{ ${[...new Map(pairs)].map(([k, v]) => `${k}: ${v}`).join(', ')} }`),
    fc.array(tie('expr'), { maxLength: 3 }).map((es) => `[${es.join(', ')}]`),
  ),
}));

const scalar = fc.oneof(
  fc.integer({ min: -3, max: 3 }),
  fc.constantFrom(0.5, -0, 1e308, Number.POSITIVE_INFINITY, Number.NaN),
  fc.constantFrom('', 'a', 'b', 'ab'),
  fc.boolean(),
  fc.constant(null),
  fc.constant(undefined),
);
const value: fc.Arbitrary<unknown> = fc.letrec<{ v: unknown }>((tie) => ({
  v: fc.oneof(
    { maxDepth: 3, depthIdentifier: 'v' },
    { arbitrary: scalar, weight: 5 },
    { arbitrary: fc.dictionary(fc.constantFrom(...NAMES.slice(0, 4)), tie('v'), { maxKeys: 3 }), weight: 3 },
    { arbitrary: fc.array(tie('v'), { maxLength: 3 }), weight: 2 },
    { arbitrary: fc.constantFrom(new Date(0), () => 1), weight: 1 },
  ),
})).v;
const values = fc.record({ A: value, input: value, steps: value });

type Outcome = { ok: true; value: unknown } | { ok: false };

async function inSandbox(
  source: string,
  v: Record<string, unknown>,
  maxResultChars: number,
): Promise<Outcome> {
  // Two statements: never the fast path.
  const body = `const __v = (${source});\nreturn __v;`;
  const limits = { ...DEFAULT_EXPRESSION_LIMITS, maxResultChars };
  try {
    return { ok: true, value: await compileJavaScript(body, { field: 'x' }, PARAMS, limits).call(v) };
  } catch {
    return { ok: false };
  }
}

describe('the JavaScript fast path', () => {
  it('agrees with the sandbox whenever it answers', async () => {
    let answered = 0;
    await fc.assert(
      fc.asyncProperty(expr, values, fc.constantFrom(10_000_000, 20), async (source, v, maxResultChars) => {
        let program: acorn.Program;
        try {
          program = acorn.parse(`return ${source};`, { ecmaVersion: 2023, allowReturnOutsideFunction: true });
        } catch {
          return;
        }
        const fast = compileJavaScriptFast(program, PARAMS, maxResultChars);
        if (fast === null) return;
        const got = fast(v);
        if (got === JS_BAIL) return;
        answered++;
        const expected = await inSandbox(source, v, maxResultChars);
        expect(
          expected.ok,
          `the sandbox threw on ${source} but the fast path answered ${JSON.stringify(got)}`,
        ).toBe(true);
        if (expected.ok) expect(got, source).toEqual(expected.value);
      }),
      { numRuns: fcRuns(1500) },
    );
    expect(answered).toBeGreaterThan(100);
  });

  it('answers the platform-style expressions, and leaves the rest to the sandbox', () => {
    const view = { status: 'COMPLETED', output: { n: 2, message: 'hi', items: [1, 2] }, error: null };
    const cases: Array<[string, unknown]> = [
      ['return A.output.n >= 0;', true],
      ['return { n: A.output.n + 1 };', { n: 3 }],
      ["return A.status === 'COMPLETED' && A.output.items.length > 1;", true],
      ['return A.output?.missing?.x ?? "none";', 'none'],
      ['return input.items[1];', 'b'],
      ['return steps["first-step"].output.message;', 'hi'],
    ];
    const v = { A: view, input: { items: ['a', 'b'] }, steps: { 'first-step': view } };
    for (const [body, expected] of cases) {
      const program = acorn.parse(body, { ecmaVersion: 2023, allowReturnOutsideFunction: true });
      const fast = compileJavaScriptFast(program, PARAMS, 10_000_000);
      expect(fast, body).not.toBeNull();
      expect(fast!(v), body).toEqual(expected);
    }
    const bail = (body: string, data: Record<string, unknown> = v) =>
      compileJavaScriptFast(
        acorn.parse(body, { ecmaVersion: 2023, allowReturnOutsideFunction: true }),
        PARAMS,
        1e7,
      )?.(data);
    expect(bail('return A.output;')).toBe(JS_BAIL); // an object from the input: the sandbox copies it
    expect(bail('return A.nothing.x;')).toBe(JS_BAIL); // a TypeError: the sandbox reports it
    expect(bail('return A.output.n + "x";')).toBe(JS_BAIL); // mixed types
    expect(bail('return A.output.constructor;')).toBe(JS_BAIL); // inherited
    expect(bail('return A.output.when;', { ...v, A: { output: { when: new Date(0) } } })).toBe(JS_BAIL);
    expect(
      compileJavaScriptFast(
        acorn.parse('const x = 1; return x;', { ecmaVersion: 2023, allowReturnOutsideFunction: true }),
        PARAMS,
        1e7,
      ),
    ).toBeNull();
  });
});
