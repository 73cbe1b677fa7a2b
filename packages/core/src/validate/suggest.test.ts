import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fcRuns } from '../test-support/fc.js';
import { closest, editDistance, SuggestBudget, Suggester } from './suggest.js';

/** Reference: optimal string alignment distance, unbounded. */
function reference(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) =>
    Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i]![j] = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        d[i]![j] = Math.min(d[i]![j]!, d[i - 2]![j - 2]! + 1);
      }
    }
  }
  return d[a.length]![b.length]!;
}

describe('suggestions', () => {
  it('the closest key, a case-insensitive match first, transpositions count one', () => {
    expect(closest('summarize', ['summary', 'summarise', 'fetch'])).toBe('summarise');
    expect(closest('GET', ['get', 'GOT'])).toBe('get');
    expect(closest('modle', ['model', 'note'])).toBe('model');
    expect(closest('zzzzzz', ['model', 'note'])).toBeUndefined();
  });

  it('short words only get case-insensitive matches', () => {
    expect(closest('x', ['h', 'y'])).toBeUndefined();
    expect(closest('X', ['h', 'x'])).toBe('x');
  });

  it('long words are never compared; the budget stops the search', () => {
    expect(closest('a'.repeat(65), ['a'.repeat(64)])).toBeUndefined();
    const budget = new SuggestBudget(10);
    expect(new Suggester(['abcdef'], budget).closest('abcdeg')).toBeUndefined();
  });

  it('editDistance agrees with the unbounded reference within the bound', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 8 }), fc.string({ maxLength: 8 }), fc.nat(6), (a, b, max) => {
        const expected = reference(a, b);
        expect(editDistance(a, b, max)).toBe(expected > max ? max + 1 : expected);
      }),
      { numRuns: fcRuns(300) },
    );
  });
});
