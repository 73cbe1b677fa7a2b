import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { uuidv7, uuidv7Generator } from './ids.js';
import { fcRuns } from './test-support/fc.js';

const V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('uuidv7', () => {
  it('is an RFC 9562 version 7 UUID carrying the millisecond it was made', () => {
    const at = Date.UTC(2026, 11, 1, 12, 0, 0, 123);
    const id = uuidv7Generator()(at);
    expect(id).toMatch(V7);
    expect(Number.parseInt(id.replace(/-/g, '').slice(0, 12), 16)).toBe(at);
  });

  it('orders ids as they were made, as strings — within a millisecond and when the clock steps back', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 5 }), { minLength: 2, maxLength: 3000 }), (steps) => {
        const uuidv7At = uuidv7Generator();
        // A clock that moves forward by 0–5 ms, sometimes steps back by 3 ms, and stays put a lot.
        let now = Date.UTC(2030, 0, 1);
        const ids = steps.map((s) => {
          now += s === 5 ? -3 : s === 4 ? 1 : 0;
          return uuidv7At(now);
        });
        for (const id of ids) expect(id).toMatch(V7);
        for (let i = 1; i < ids.length; i++) expect(ids[i]! > ids[i - 1]!).toBe(true);
      }),
      { numRuns: fcRuns(30) },
    );
  });

  it('stays increasing past 4,096 ids in one millisecond (it borrows the next one)', () => {
    const at = Date.UTC(2031, 0, 1);
    const next = uuidv7Generator();
    let last = '';
    for (let i = 0; i < 10_000; i++) {
      const id = next(at);
      expect(id > last).toBe(true);
      last = id;
    }
    expect(Number.parseInt(last.replace(/-/g, '').slice(0, 12), 16)).toBeGreaterThan(at);
  });

  it('is not guessable from the previous id: 62 random bits differ between neighbours', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 20_000; i++) seen.add(uuidv7().slice(19));
    // The random tail (variant nibble aside) of 20,000 ids made within a few milliseconds never repeats.
    expect(seen.size).toBe(20_000);
  });
});
