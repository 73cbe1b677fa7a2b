import fc from 'fast-check';

/**
 * fast-check run counts: bounded by default so CI stays fast on 2 cores; `WEFT_FC_RUNS=N` multiplies
 * every property's runs for a heavier local soak (e.g. `WEFT_FC_RUNS=20 npx pnpm@10 test`).
 */
const factor = Number(process.env.WEFT_FC_RUNS ?? 1);

export function fcRuns(base: number): number {
  return Math.max(1, Math.round(base * (Number.isFinite(factor) && factor > 0 ? factor : 1)));
}

/**
 * Keys that are special to JavaScript objects. JSON keeps them as plain data, so every generator of JSON
 * data used by the properties mixes them in: a copy that writes `out[key] = value` turns `__proto__` into
 * the copy's prototype and drops it from the JSON (issue 11, item 6).
 */
export const DANGEROUS_KEYS = [
  '__proto__',
  'constructor',
  'prototype',
  'toString',
  'hasOwnProperty',
] as const;

/** An object key: often one of DANGEROUS_KEYS. */
export const jsonKey: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(...DANGEROUS_KEYS),
  fc.string({ maxLength: 6 }),
);

/** An object built from entries with own properties only (a "__proto__" entry stays an own key). */
export function ownObject(entries: ReadonlyArray<readonly [string, unknown]>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of entries) {
    Object.defineProperty(out, k, { value: v, writable: true, enumerable: true, configurable: true });
  }
  return out;
}

/** JSON data (as JSON.parse would make it) whose objects often carry DANGEROUS_KEYS. */
export const jsonValue: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.constant(null),
    fc.boolean(),
    fc.integer(),
    fc.string({ maxLength: 8 }),
    fc.array(tie('value'), { maxLength: 3 }),
    tie('object'),
  ),
  object: fc.array(fc.tuple(jsonKey, tie('value')), { maxLength: 4 }).map(ownObject),
})).value;

/** A JSON object whose keys are often DANGEROUS_KEYS. */
export const jsonObject: fc.Arbitrary<Record<string, unknown>> = fc
  .array(fc.tuple(jsonKey, jsonValue), { maxLength: 5 })
  .map(ownObject);

/** True when every object inside `value` still has Object.prototype (or null) as its prototype. */
export function prototypesIntact(value: unknown): boolean {
  const stack: unknown[] = [value];
  while (stack.length > 0) {
    const v = stack.pop();
    if (v === null || typeof v !== 'object') continue;
    const proto = Object.getPrototypeOf(v);
    if (!Array.isArray(v) && proto !== Object.prototype && proto !== null) return false;
    for (const child of Object.values(v)) stack.push(child);
  }
  return true;
}
