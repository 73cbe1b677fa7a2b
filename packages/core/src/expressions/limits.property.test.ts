/**
 * The limits, as properties (fast-check): any generated expression, in either language, under any
 * generated limits, either returns the value the unlimited evaluator returns or fails with
 * EXPRESSION_LIMIT — it never hangs (every evaluation here is awaited to its end) and never throws
 * anything but a WeftError. An expression the unlimited evaluator rejects is rejected the same way
 * (EXPRESSION_ERROR), or hits a limit first.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isWeftError } from '../errors.js';
import { fcRuns } from '../test-support/fc.js';
import { compileJavaScript } from './javascript.js';
import {
  compileExpression,
  compileUnguarded,
  DEFAULT_EXPRESSION_LIMITS,
  type ExpressionBindings,
  type ExpressionLimits,
  normalizeValue,
} from './jsonata.js';

/** Generous enough that no generated expression reaches them. */
const UNLIMITED: ExpressionLimits = {
  ...DEFAULT_EXPRESSION_LIMITS,
  timeoutMs: 20_000,
  maxDepth: 10_000,
  maxSequence: 10_000_000,
  maxStringLength: 10_000_000,
  maxMemoryBytes: 256 * 1024 * 1024,
  maxResultChars: 100_000_000,
};

const limits: fc.Arbitrary<ExpressionLimits> = fc.record({
  timeoutMs: fc.integer({ min: 20, max: 400 }),
  maxDepth: fc.integer({ min: 2, max: 60 }),
  maxSequence: fc.integer({ min: 1, max: 5_000 }),
  maxStringLength: fc.integer({ min: 1, max: 5_000 }),
  maxMemoryBytes: fc.constantFrom(16, 32, 64).map((mb) => mb * 1024 * 1024),
  maxResultChars: fc.integer({ min: 2, max: 20_000 }),
  inlineBudgetMs: fc.integer({ min: 1, max: 10 }),
  maxLogEntries: fc.integer({ min: 0, max: 5 }),
  maxLogChars: fc.integer({ min: 1, max: 50 }),
});

type Outcome = { ok: true; value: unknown } | { ok: false; code: string };

async function outcome(p: () => Promise<unknown>): Promise<Outcome> {
  try {
    return { ok: true, value: JSON.parse(JSON.stringify(normalizeValue(await p())) ?? 'null') };
  } catch (error) {
    expect(isWeftError(error), `not a WeftError: ${String(error)}`).toBe(true);
    return { ok: false, code: (error as { code: string }).code };
  }
}

function agree(limited: Outcome, unlimited: Outcome, what: string): void {
  if (!limited.ok && limited.code === 'EXPRESSION_LIMIT') return;
  if (unlimited.ok) expect(limited, what).toEqual(unlimited);
  else expect(limited, what).toEqual({ ok: false, code: unlimited.code });
}

const n = fc.integer({ min: 0, max: 300 });
const bindings: ExpressionBindings = { input: { xs: [1, 2, 3], s: 'ab' }, steps: {}, vars: {}, run: {} };

/** JSONata: arithmetic, strings, ranges, maps, recursion, padding — some cheap, some not. */
const jsonataExpression = fc.oneof(
  n.map((k) => `$sum([1..${k * 40}])`),
  n.map((k) => `$count([1..${k * 40}].($ * 2))`),
  n.map((k) => `$length($pad("", ${k * 20}, "x"))`),
  n.map((k) => `($f := function($n) { $n <= 0 ? 0 : 1 + $f($n - 1) }; $f(${k}))`),
  n.map((k) => `$join([1..${k}].$string($), ",")`),
  n.map((k) => `[1..${k}].{"i": $, "sq": $ * $}`),
  n.map((k) => `($s := "ab"; $reduce([1..${Math.min(k, 14)}], function($a) { $a & $a }, $s))`),
  fc.constantFrom('input.xs[1] + 1', 'input.s & "c"', '$nope(1)', '"a" + 1', 'input.xs.$ * 2'),
);

/** JavaScript: loops, strings, arrays, recursion — some cheap, some not. */
const javascriptBody = fc.oneof(
  n.map((k) => `let t = 0; for (let i = 0; i < ${k * 1000}; i++) t += i; return t;`),
  n.map((k) => `return 'x'.repeat(${k * 30}).length;`),
  n.map((k) => `return Array.from({ length: ${k * 10} }, (_, i) => i * i);`),
  n.map((k) => `function f(n) { return n <= 0 ? 0 : 1 + f(n - 1); } return f(${k * 4});`),
  n.map((k) => `let s = 'ab'; for (let i = 0; i < ${Math.min(k, 24)}; i++) s += s; return s.length;`),
  n.map((k) => `return input.xs.map((x) => x * ${k});`),
  fc.constantFrom(
    'return missing.x;',
    'throw new Error("no");',
    'return input.s + "c";',
    'return undefined;',
  ),
);

describe('limits never change a value, only refuse it', () => {
  it('JSONata: the limited evaluation returns what the unlimited one does, or EXPRESSION_LIMIT', async () => {
    await fc.assert(
      fc.asyncProperty(jsonataExpression, limits, async (source, l) => {
        const site = { step_key: 's', field: 'code' };
        const unlimited = await outcome(() =>
          compileUnguarded(source, site, UNLIMITED).evaluate({}, bindings),
        );
        const limited = await outcome(() => compileExpression(source, site, l).evaluate({}, bindings));
        agree(limited, unlimited, source);
      }),
      { numRuns: fcRuns(40) },
    );
  });

  it('JavaScript: the limited evaluation returns what the unlimited one does, or EXPRESSION_LIMIT', async () => {
    const names = ['input'] as const;
    await fc.assert(
      fc.asyncProperty(javascriptBody, limits, async (body, l) => {
        const site = { step_key: 's', field: 'code' };
        const values = { input: bindings.input };
        const unlimited = await outcome(() => compileJavaScript(body, site, names, UNLIMITED).call(values));
        const limited = await outcome(() => compileJavaScript(body, site, names, l).call(values));
        agree(limited, unlimited, body);
      }),
      { numRuns: fcRuns(40) },
    );
  });
});
