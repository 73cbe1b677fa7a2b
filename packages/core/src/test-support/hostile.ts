/**
 * Hostile arguments for the "every public entry point" properties: anything fast-check can build (class
 * instances, BigInts, null-prototype objects, `__proto__` keys, sparse arrays, boxed values…) plus a few
 * look-alikes that crashed Weft before (an AbortSignal-shaped object, a null replay record).
 */
import fc from 'fast-check';
import { expect } from 'vitest';
import { WeftError } from '../errors.js';

export const hostileValue: fc.Arbitrary<unknown> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.anything({
      withBigInt: true,
      withBoxedValues: true,
      withDate: true,
      withMap: true,
      withSet: true,
      withNullPrototype: true,
      withObjectString: true,
      withSparseArray: true,
      withTypedArray: true,
      maxDepth: 3,
    }),
  },
  {
    weight: 1,
    arbitrary: fc.constantFrom<unknown>(
      {},
      { aborted: false },
      { aborted: true, reason: 'x' },
      { addEventListener: 1 },
      { c: null },
      [null],
      JSON.parse('{"__proto__": {"isAdmin": true}, "name": "eve"}'),
      Object.create(null),
      Number.NaN,
      Number.POSITIVE_INFINITY,
      -1,
      0,
      '',
      'draft',
      'latest',
    ),
  },
);

/** A record of hostile values for some of `keys`. */
export function hostileOptions(keys: readonly string[]): fc.Arbitrary<Record<string, unknown>> {
  return fc.dictionary(fc.constantFrom(...keys), hostileValue, { maxKeys: 3 });
}

/** Collects unhandled rejections and uncaught exceptions while a property runs. */
export function watchProcess(): { problems: unknown[]; stop(): void } {
  const problems: unknown[] = [];
  const onRejection = (reason: unknown) => problems.push(reason);
  const onException = (error: unknown) => problems.push(error);
  process.on('unhandledRejection', onRejection);
  process.on('uncaughtException', onException);
  return {
    problems,
    stop() {
      process.off('unhandledRejection', onRejection);
      process.off('uncaughtException', onException);
    },
  };
}

/**
 * Calls `fn`: success, or a WeftError (synchronous or a rejection) — never another error. Returns the
 * value, or undefined when it failed.
 */
export async function weftErrorOrValue<T>(label: string, fn: () => T | Promise<T>): Promise<T | undefined> {
  try {
    return await fn();
  } catch (error) {
    if (!(error instanceof WeftError)) {
      expect.fail(
        `${label} threw a ${error instanceof Error ? error.name : typeof error}, not a WeftError: ${String(error)}`,
      );
    }
    return undefined;
  }
}

/** Settles within `ms`, or fails the property (a promise that never settles is the bug). */
export function settlesWithin<T>(promise: Promise<T>, ms: number, label: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${label} did not settle within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
