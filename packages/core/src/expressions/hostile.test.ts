/**
 * The hostile corpus, in both languages: every case ends its step with a coded error — EXPRESSION_LIMIT
 * naming the limit, or EXPRESSION_ERROR for what finds nothing (escapes) — and never hangs the host or
 * throws anything but a WeftError. How soon after its deadline each case ends is a timing figure: the
 * benchmark suite measures it (W8, docs/performance.md), not these tests.
 */
import { describe, expect, it } from 'vitest';
import { createEngine } from '../run/engine.js';
import type { Run } from '../run/types.js';

const LIMITS = { timeoutMs: 400, maxResultChars: 1_000_000, maxMemoryBytes: 32 * 1024 * 1024 };

type Case = [name: string, source: string, expected: { code: string; limit?: readonly string[] }];

const limit = (...kinds: string[]) => ({ code: 'EXPRESSION_LIMIT', limit: kinds });
const error = { code: 'EXPRESSION_ERROR' };

const JSONATA: Case[] = [
  ['catastrophic regex', '$contains("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa!", /^(a+)+$/)', limit('time')],
  [
    'string doubling to 268M characters',
    '($f := function($s, $n) { $n = 0 ? $s : $f($s & $s, $n - 1) }; $length($f("xxxxxxxx", 25)))',
    limit('time', 'memory', 'string'),
  ],
  ['unbounded recursion', '($f := function($n) { $f($n + 1) + 1 }; $f(0))', limit('depth', 'time')],
  ['a huge range', '$count([1..100000000])', limit('sequence')],
  ['a sequence past maxSequence', '$count([1..9999999].($ * 2))', limit('sequence', 'time')],
  ['$pad past the string limit', '$pad("x", 100000000)', limit('string')],
  ['a huge value', '[1..900000].{"x": "yyyyyyyyyy"}', limit('result', 'sequence', 'time')],
  ['a deep object', `${'{"a":'.repeat(400)}1${'}'.repeat(400)}`, limit('depth')],
  [
    'a tight loop through $map',
    '$sum($map([1..999999], function($v) { $v * $v }))',
    limit('time', 'sequence'),
  ],
  [
    'one huge allocation ($join of a big string 300 times: never the process, only the worker)',
    '($s := $pad("", 999999, "x"); $length($join([1..300].($s))))',
    limit('time', 'memory', 'string'),
  ],
  ['$eval is disabled', '$eval("1 + 1")', error],
];

const JAVASCRIPT: Case[] = [
  ['a tight loop', 'while (true) {}', limit('time')],
  [
    'a loop that catches what interrupts it',
    'for (;;) { try { while (true) {} } catch (e) {} }',
    limit('time'),
  ],
  [
    'a loop that catches running out of memory',
    'for (;;) { try { const a = []; for (;;) a.push([a]); } catch (e) {} }',
    limit('time', 'memory'),
  ],
  ['catastrophic regex', 'return /^(a+)+$/.test("a".repeat(40) + "!");', limit('time')],
  ['string doubling', 'let s = "x"; for (;;) s += s;', limit('string', 'memory')],
  ['a growing array', 'const a = []; for (;;) a.push({ n: a.length });', limit('memory', 'time')],
  ['unbounded recursion', 'function f(n) { return f(n + 1) + 1; } return f(0);', limit('depth')],
  ['a huge string', 'return "x".repeat(2 ** 29);', limit('memory', 'string')],
  ['a huge value', 'return "y".repeat(5000000);', limit('result')],
  ['a huge array', 'return Array.from({ length: 1e8 }, (_, i) => i);', limit('memory', 'time')],
  ['deeply nested JSON', 'return JSON.parse("[".repeat(100000));', limit('depth')],
  ['the Function constructor', "return this.constructor.constructor('return process')();", error],
  ['an array constructor', "return [].constructor.constructor('return process')().exit();", error],
  ['require', 'return require("child_process").execSync("id");', error],
  ['globalThis.process', 'return globalThis.process.env;', error],
  ['a promise is not awaited', 'return Promise.resolve(1).then(() => { while (true) {} });', { code: 'OK' }],
];

/**
 * A case that must end on another limit (or on an error) gets a time limit it cannot reach even on a
 * loaded machine: otherwise a slow worker start could end it on `time` first and the test would be
 * asserting the machine's load, not the limit.
 */
const UNREACHABLE_MS = 30_000;

async function runCase(language: 'jsonata' | 'javascript', source: string, expected: Case[2]): Promise<Run> {
  const timed = expected.limit?.includes('time') === true;
  const engine = createEngine({
    limits: { expression: { ...LIMITS, timeoutMs: timed ? LIMITS.timeoutMs : UNREACHABLE_MS } },
  });
  return engine.run({ language, steps: [{ type: 'code', key: 'hostile', code: source }] });
}

describe('the hostile corpus', () => {
  for (const [language, cases] of [
    ['jsonata', JSONATA],
    ['javascript', JAVASCRIPT],
  ] as const) {
    for (const [name, source, expected] of cases) {
      it(`${language}: ${name}`, async () => {
        const run = await runCase(language, source, expected);
        const step = run.output.hostile!;
        if (expected.code === 'OK') {
          // Jobs a body queues never run: evaluation is synchronous.
          expect(step.status).toBe('COMPLETED');
          return;
        }
        expect(step.status, JSON.stringify(step.error)).toBe('FAILED');
        expect(step.error!.code).toBe(expected.code);
        expect(step.error!.step_key).toBe('hostile');
        expect(step.error!.details).toMatchObject({ field: 'code' });
        if (expected.limit !== undefined) {
          expect(expected.limit, step.error!.message).toContain(step.error!.details!.limit);
          expect(step.error!.message).toMatch(/limits\.expression\./);
        }
      });
    }
  }
});

describe('the host stays responsive', () => {
  for (const [language, source] of [
    ['jsonata', '$contains("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa!", /^(a+)+$/)'],
    ['javascript', 'while (true) {}'],
  ] as const) {
    it(`${language}: a 10 ms timer fires, and another run completes, while a hostile evaluation runs`, async () => {
      // The hostile evaluation runs until both probes are in, then is cancelled: a deadline would race
      // the probes on a loaded machine (the other run may need a second worker started, seconds under
      // load). That the deadline ends such a case with a time limit is the corpus above.
      const engine = createEngine({ limits: { expression: { timeoutMs: 30_000 } } });
      const hostile = engine.start({ language, steps: [{ type: 'code', key: 'h', code: source }] });
      let hostileEnded = false;
      void hostile.done.then(() => {
        hostileEnded = true;
      });
      let timerFiredWhileRunning: boolean | undefined;
      let otherCompletedWhileRunning: boolean | undefined;
      // Armed once the hostile step has started: the probe measures the evaluation, not compiling.
      await new Promise<void>((resolve) => hostile.on('step.started', () => resolve()));
      const timer = new Promise<void>((resolve) =>
        setTimeout(() => {
          timerFiredWhileRunning = !hostileEnded;
          resolve();
        }, 10),
      );
      const other = engine
        .run({
          language,
          steps: [
            {
              type: 'code',
              key: 'ok',
              code:
                language === 'javascript'
                  ? 'return [1, 2, 3].map((x) => x * 2);'
                  : '$map([1, 2, 3], function($x) { $x * 2 })',
            },
          ],
        })
        .then((run) => {
          otherCompletedWhileRunning = !hostileEnded && run.status === 'COMPLETED';
        });
      await Promise.all([timer, other]);
      expect(timerFiredWhileRunning).toBe(true);
      expect(otherCompletedWhileRunning).toBe(true);
      await hostile.cancel('probed');
      const run = await hostile.done;
      expect(run.output.h!.status).toBe('CANCELLED');
    });
  }

  it('a loop of many short JavaScript evaluations lets timers run between them', async () => {
    // A deadline no loaded machine reaches: under load an iteration outgrows the inline budget and goes to a
    // worker, whose first evaluation may pay the worker's start-up (charged while the deadline has not
    // passed, semantics.md) — this test is about the main thread yielding, not about that deadline.
    const engine = createEngine({ limits: { expression: { timeoutMs: 30_000 } } });
    // Each iteration burns ~3 ms of main-thread time (under the 5 ms inline budget).
    const busy = 'const t = Date.now(); while (Date.now() - t < 3) {} return index;';
    const run = engine.start({
      language: 'javascript',
      steps: [{ type: 'code', key: 'l', loop: 'return index < 60 ? index : null;', code: busy }],
    });
    let ticks = 0;
    const interval = setInterval(() => ticks++, 5);
    const done = await run.done;
    clearInterval(interval);
    expect(done.status, JSON.stringify(done.error)).toBe('COMPLETED');
    expect(done.result).toHaveLength(60);
    // 60 × 3 ms of work: a 5 ms interval ran many times during it, not once at the end.
    expect(ticks).toBeGreaterThan(3);
  });
});

describe('a running evaluation is interrupted', () => {
  for (const [language, source] of [
    ['jsonata', '$contains("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa!", /^(a+)+$/)'],
    ['javascript', 'while (true) {}'],
  ] as const) {
    it(`${language}: by the step's timeout_ms (STEP_TIMEOUT)`, async () => {
      const engine = createEngine({ limits: { expression: { timeoutMs: 30_000 } } });
      const run = await engine.run({
        language,
        steps: [{ type: 'code', key: 'slow', code: source, timeout_ms: 150 }],
      });
      expect(run.output.slow!.error).toMatchObject({ code: 'STEP_TIMEOUT', step_key: 'slow' });
      expect(run.status).toBe('FAILED');
    });

    it(`${language}: by cancel() (CANCELLED), long before the expression's deadline`, async () => {
      const engine = createEngine({ limits: { expression: { timeoutMs: 30_000 } } });
      const handle = engine.start({ language, steps: [{ type: 'code', key: 'slow', code: source }] });
      await new Promise<void>((resolve) => handle.on('step.started', () => resolve()));
      setTimeout(() => void handle.cancel('stop'), 100);
      const run = await handle.done;
      expect(run.status).toBe('CANCELLED');
      expect(run.output.slow!.status).toBe('CANCELLED');
      // Ended by the cancellation, not by the 30 s deadline: the run is over, its record says so.
      expect(Date.parse(run.ended_at!) - Date.parse(run.started_at!)).toBeLessThan(30_000);
    });

    it(`${language}: in a conditional, by cancel()`, async () => {
      const engine = createEngine({ limits: { expression: { timeoutMs: 30_000 } } });
      const conditional = language === 'javascript' ? `${source} return true;` : `${source} = true`;
      const handle = engine.start({
        language,
        steps: [{ type: 'code', key: 'c', conditional, code: language === 'javascript' ? 'return 1;' : '1' }],
      });
      setTimeout(() => void handle.cancel('stop'), 150);
      const run = await handle.done;
      expect(run.status).toBe('CANCELLED');
    });
  }
});
