/**
 * Hostile input: every case ends with problems (or a LIMIT problem) in bounded time, never a crash, a hang
 * or a stack overflow. The time bound is generous (it catches hangs, not slowness); the validator's own
 * bounds are VALIDATION_LIMITS.
 */
import { describe, expect, it } from 'vitest';
import { VALIDATION_LIMITS } from './codes.js';
import { type ValidationResult, validateVersion } from './index.js';

// CPU ms of the whole process (GC threads included): the biggest case takes seconds on a loaded machine.
const HANG = 30_000;

/** CPU milliseconds this process has used: unlike wall time, unaffected by other work on a shared machine. */
const cpuMs = () => {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
};

function timed(doc: unknown, options?: { stepTypes?: Iterable<string> }): ValidationResult {
  const start = cpuMs();
  const result = validateVersion(doc, options);
  expect(cpuMs() - start).toBeLessThan(HANG);
  return result;
}

const codes = (result: ValidationResult) => result.problems.map((p) => [p.code, p.path]);
const chain = (n: number) => ({
  steps: Array.from({ length: n }, (_, i) => ({
    type: 'code',
    key: `s${i}`,
    code: '1',
    destinations: i + 1 < n ? [`s${i + 1}`] : [],
  })),
});
const nest = (depth: number, leaf: unknown, wrap: (inner: unknown) => unknown) => {
  let value = leaf;
  for (let i = 0; i < depth; i++) value = wrap(value);
  return value;
};

describe('hostile input', () => {
  const huge = 'x'.repeat(10_000_000);

  it('a 10 MB string: fine where any string is, LIMIT where it is an expression or template', () => {
    expect(
      timed({
        steps: [
          { type: 'input', key: 'a' },
          { type: 'note', key: 'n', note: huge },
        ],
      }).ok,
    ).toBe(true);
    expect(timed({ steps: [{ type: 'input', key: huge }] }).ok).toBe(true);
    expect(codes(timed({ steps: [{ type: 'code', key: 'c', code: huge }] }))).toEqual([
      ['LIMIT', '/steps/0/code'],
    ]);
    expect(codes(timed({ steps: [{ type: 'http_request', key: 'h', url: `{{${huge}` }] }))).toEqual([
      ['LIMIT', '/steps/0/url'],
    ]);
    const dangling = timed({ steps: [{ type: 'input', key: 'a', destinations: [huge] }] });
    expect(codes(dangling)).toEqual([['DANGLING_DESTINATION', '/steps/0/destinations/0']]);
    expect(dangling.problems[0]!.message.length).toBeLessThan(1000);
  });

  it('an expression of 1 MB, and one nested too deeply for the parser', () => {
    const long = timed({ steps: [{ type: 'code', key: 'c', code: `${'1+'.repeat(500_000)}1` }] });
    expect(codes(long)).toEqual([['LIMIT', '/steps/0/code']]);
    expect(long.problems[0]!.message).toContain('1,000,001 characters');
    const deep = timed({
      steps: [{ type: 'code', key: 'c', code: `${'('.repeat(30_000)}1${')'.repeat(30_000)}` }],
    });
    expect(codes(deep)).toEqual([['LIMIT', '/steps/0/code']]);
  });

  it.each([
    [
      'a step body',
      (deep: unknown) => ({ steps: [{ type: 'http_request', key: 'h', url: 'u', body: deep }] }),
    ],
    [
      'input_default',
      (deep: unknown) => ({ input_default: { d: deep }, steps: [{ type: 'input', key: 'a' }] }),
    ],
    ['an unknown field', (deep: unknown) => ({ extra: deep, steps: [{ type: 'input', key: 'a' }] })],
    ['steps itself', (deep: unknown) => ({ steps: [deep] })],
  ])('nesting 10,000 levels deep in %s', (_, place) => {
    for (const deep of [nest(10_000, 1, (v) => ({ a: v })), nest(10_000, [], (v) => [v])]) {
      const result = timed(place(deep));
      expect(result.ok).toBe(false);
      const limit = result.problems.find((p) => p.code === 'LIMIT')!;
      expect(limit.message).toContain(`more than ${VALIDATION_LIMITS.maxDepth} levels`);
    }
  });

  it('100,000 steps validate; one more is a LIMIT', () => {
    expect(timed(chain(100_000))).toEqual({ ok: true, problems: [] });
    expect(codes(timed(chain(100_001)))).toEqual([['LIMIT', '/steps']]);
  });

  it('100,000 steps in one cycle; 100,000 dangling destinations; 100,000 bad shapes', () => {
    const ring = chain(100_000);
    ring.steps[99_999]!.destinations = ['s0'];
    const cycle = timed(ring);
    expect(codes(cycle)).toEqual([['CYCLE', '/steps/0/destinations/0']]);
    expect(cycle.problems[0]!.message).toContain('(99990 more)');

    const dangling = timed({
      steps: Array.from({ length: 100_000 }, (_, i) => ({
        type: 'input',
        key: `k${i}`,
        destinations: [`x${i}`],
      })),
    });
    expect(dangling.problems).toHaveLength(VALIDATION_LIMITS.maxProblemsPerCode + 1);
    expect(dangling.problems.at(-1)!.message).toMatch(/^99000 more DANGLING_DESTINATION problems/);

    const shapes = timed({
      steps: Array.from({ length: 100_000 }, (_, i) => ({ type: 'code', key: `k${i}` })),
    });
    expect(shapes.problems.at(-1)!.message).toMatch(/^99000 more MISSING_FIELD problems/);
  });

  it('many cycles: at most maxCycles are listed, then one LIMIT', () => {
    const dense = chain(5_000);
    for (const step of dense.steps) step.destinations.push('s0');
    const result = timed(dense);
    expect(result.problems.filter((p) => p.code === 'CYCLE')).toHaveLength(VALIDATION_LIMITS.maxCycles);
    expect(result.problems.filter((p) => p.code === 'LIMIT')).toHaveLength(1);
  });

  it('too many distinct expressions: one LIMIT for the parsing budget', () => {
    const steps = Array.from({ length: 40_000 }, (_, i) => ({
      type: 'code',
      key: `s${i}`,
      code: `${i} + 1`,
    }));
    const result = timed({ steps });
    expect(result.problems.map((p) => p.code)).toEqual(['LIMIT']);
    expect(result.problems[0]!.message).toContain('too many or too large to check');
  });

  it('a template that makes the {{ }} scanner retry long segments', () => {
    const url = `{{${'a+'.repeat(45_000)}a }}${' }}'.repeat(80)}`;
    const result = timed({ steps: [{ type: 'http_request', key: 'h', url }] });
    expect(result.ok).toBe(false);
  });

  it('more values than the document limit, a sparse array of length 2^32-1', () => {
    const third = Math.ceil(VALIDATION_LIMITS.maxValues / 3) + 10;
    const wide = { a: new Array(third).fill(0), b: new Array(third).fill(0), c: new Array(third).fill(0) };
    const result = timed({ input_default: wide, steps: [] });
    expect(codes(result)).toEqual([['LIMIT', expect.stringMatching(/^\/input_default\/c(\/\d+)?$/)]]);
    expect(result.problems[0]!.message).toContain('validation stopped here');
    const tooLong = { steps: [], big: new Array(VALIDATION_LIMITS.maxValues + 1).fill(0) };
    expect(codes(timed(tooLong))).toEqual([['LIMIT', '/big']]);
    const sparse: unknown[] = [];
    sparse.length = 2 ** 32 - 1;
    expect(codes(timed({ steps: sparse }))).toEqual([['LIMIT', '/steps']]);
  });

  it('a shared value that is exponentially large as a tree', () => {
    const shared = nest(60, 1, (v) => ({ a: v, b: v }));
    const result = timed({ steps: [{ type: 'http_request', key: 'h', url: 'u', body: shared }] });
    expect(result.problems.map((p) => p.code)).toEqual(['LIMIT']);
  });

  it('cycles through getters, Proxies everywhere, an iterable of step types that never ends', () => {
    const endless = {
      *[Symbol.iterator]() {
        for (;;) yield 'task';
      },
    };
    expect(timed({ steps: [{ type: 'task', key: 't' }] }, { stepTypes: endless }).ok).toBe(true);

    const fresh: Record<string, unknown> = {};
    Object.defineProperty(fresh, 'next', { enumerable: true, get: () => ({ ...fresh, again: fresh }) });
    expect(timed({ steps: [{ type: 'input', key: 'a', extra: fresh }] }).ok).toBe(false);

    const trap = new Proxy([], {
      get() {
        throw new Error('trap');
      },
    });
    expect(codes(timed({ steps: trap }))).toEqual([['NOT_JSON', '/steps']]);
  });
});
