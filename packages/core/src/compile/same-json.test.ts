import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fcRuns, jsonValue } from '../test-support/fc.js';
import { hostileValue } from '../test-support/hostile.js';
import { jsonTokens, matchesTokens } from './same-json.js';

/** JSON.stringify, or null when it throws (a cycle, a BigInt). */
function text(value: unknown): string | null | undefined {
  try {
    return JSON.stringify(value);
  } catch {
    return null;
  }
}

describe('matchesTokens', () => {
  it('on JSON data: true exactly when the JSON texts are equal', () => {
    fc.assert(
      fc.property(jsonValue, jsonValue, (a, b) => {
        expect(matchesTokens(a, jsonTokens(b))).toBe(text(a) === text(b));
        expect(matchesTokens(structuredClone(b), jsonTokens(b))).toBe(true);
      }),
      { numRuns: fcRuns(300) },
    );
  });

  it('on anything: true only when the JSON texts are equal (sound, never throws)', () => {
    fc.assert(
      fc.property(fc.oneof(hostileValue, fc.anything()), jsonValue, (a, b) => {
        if (matchesTokens(a, jsonTokens(b))) expect(text(a)).toBe(text(b));
      }),
      { numRuns: fcRuns(300) },
    );
  });

  it('key order, undefined members, holes, toJSON, class instances and throwing getters do not match', () => {
    const tokens = jsonTokens({ a: 1, b: [1, 2] });
    expect(matchesTokens({ a: 1, b: [1, 2] }, tokens)).toBe(true);
    expect(matchesTokens({ b: [1, 2], a: 1 }, tokens)).toBe(false);
    expect(matchesTokens({ a: 1, b: [1, 2], c: undefined }, tokens)).toBe(false);
    // biome-ignore lint/suspicious/noSparseArray: a hole is what is tested
    expect(matchesTokens({ a: 1, b: [1, , 2] }, tokens)).toBe(false);
    expect(matchesTokens({ a: 1, b: [1, 2], toJSON: () => ({ a: 1 }) }, tokens)).toBe(false);
    expect(matchesTokens(Object.assign(new (class X {})(), { a: 1, b: [1, 2] }), tokens)).toBe(false);
    const throwing = {
      a: 1,
      get b(): unknown {
        throw new Error('no');
      },
    };
    expect(matchesTokens(throwing, tokens)).toBe(false);
    expect(matchesTokens({ a: 1, b: [1, 2, 3] }, tokens)).toBe(false);
    expect(matchesTokens({ a: -0, b: [1, 2] }, jsonTokens({ a: 0, b: [1, 2] }))).toBe(true);
    expect(matchesTokens(Number.NaN, jsonTokens(Number.NaN))).toBe(false);
  });

  it('a cyclic object ends at the known document’s size', () => {
    const cyclic: Record<string, unknown> = { a: 1 };
    cyclic.b = cyclic;
    expect(matchesTokens(cyclic, jsonTokens({ a: 1, b: { a: 1, b: { a: 1, b: null } } }))).toBe(false);
  });
});
