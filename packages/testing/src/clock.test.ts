import { describe, expect, it } from 'vitest';
import { createFakeClock, FAKE_CLOCK_START } from './clock.js';

describe('createFakeClock', () => {
  it('starts at 2024-01-01 and moves only when told', () => {
    const clock = createFakeClock();
    expect(clock.now()).toBe(FAKE_CLOCK_START);
    expect(new Date(clock.now()).toISOString()).toBe('2024-01-01T00:00:00.000Z');
    expect(clock.advance(1500)).toBe(FAKE_CLOCK_START + 1500);
    expect(clock.now()).toBe(FAKE_CLOCK_START + 1500);
    clock.set(42);
    expect(clock.now()).toBe(42);
    expect(createFakeClock(0).now()).toBe(0);
  });

  it('rejects going backwards with advance and non-finite times', () => {
    const clock = createFakeClock();
    expect(() => clock.advance(-1)).toThrow(/ms/);
    expect(() => clock.set(Number.NaN)).toThrow(/ms/);
    expect(() => createFakeClock(Number.POSITIVE_INFINITY)).toThrow(/start/);
  });

  it('works detached (now passed around as a function)', () => {
    const { now, advance } = createFakeClock(10);
    advance(5);
    expect(now()).toBe(15);
  });
});
