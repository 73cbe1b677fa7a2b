/** A fake clock for the engine's `clock?: { now(): number }` option: time moves only when told to. */
import { invalidArgument } from '@weft/core';

export interface FakeClock {
  /** The current time in ms since the epoch. */
  now(): number;
  /** Moves time forward by `ms` (≥ 0); returns the new time. */
  advance(ms: number): number;
  /** Sets the time to `ms`. */
  set(ms: number): void;
}

/** 2024-01-01T00:00:00.000Z: the default start, so that timestamps look like dates. */
export const FAKE_CLOCK_START = Date.UTC(2024, 0, 1);

export function createFakeClock(start: number = FAKE_CLOCK_START): FakeClock {
  if (!Number.isFinite(start)) throw invalidArgument('start', 'a finite number of ms', start);
  let time = start;
  return {
    now: () => time,
    advance(ms: number) {
      if (!(Number.isFinite(ms) && ms >= 0)) throw invalidArgument('ms', 'a finite number ≥ 0', ms);
      time += ms;
      return time;
    },
    set(ms: number) {
      if (!Number.isFinite(ms)) throw invalidArgument('ms', 'a finite number', ms);
      time = ms;
    },
  };
}
