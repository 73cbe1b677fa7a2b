/**
 * What the registry's several-Wefts tests share (core cannot import @weft/testing): Wefts closed after each
 * test (50 ms each at most: a worker waiting on a held step closes slowly), and a bounded wait.
 */
import { afterEach } from 'vitest';
import type { Weft, WeftOptions } from '../client.js';
import { createWeft } from '../weft.js';

/** Registers the clean-up; the function makes a Weft (store errors not reported) closed after the test. */
export function trackedWefts(): (options: WeftOptions) => Weft {
  const wefts: Weft[] = [];
  afterEach(async () => {
    for (const weft of wefts.splice(0))
      await Promise.race([weft.close(), new Promise((r) => setTimeout(r, 50))]);
  });
  return (options) => {
    const weft = createWeft({ onStoreError: () => undefined, ...options });
    wefts.push(weft);
    return weft;
  };
}

/** Polls `check` every 5 ms until it holds, for at most `ms`. */
export async function until(
  check: () => boolean | Promise<boolean>,
  what: string,
  ms = 10_000,
): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
