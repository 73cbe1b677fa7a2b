import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DANGEROUS_KEYS, fcRuns } from '../test-support/fc.js';
import { DROPPED, jsonCopy } from './answer.js';

/** What a JSON round trip gives for `value` as an object's field (DROPPED: the field is left out). */
function viaJson(value: unknown): unknown {
  const text = JSON.stringify({ v: value });
  const back = JSON.parse(text) as { v?: unknown };
  return 'v' in back ? back.v : DROPPED;
}

/**
 * Deep equality that also compares prototypes, key order and -0 (toStrictEqual reads an own
 * "constructor" key as the type, so two copies of `{ constructor: {} }` would differ).
 */
function same(a: unknown, b: unknown): boolean {
  if (a === null || b === null || typeof a !== 'object' || typeof b !== 'object') return Object.is(a, b);
  if (Object.getPrototypeOf(a) !== Object.getPrototypeOf(b)) return false;
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  if (ka.length !== kb.length || ka.some((k, i) => k !== kb[i])) return false;
  return ka.every((k) => same((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
}

class Point {
  constructor(
    readonly x: number,
    readonly y: number,
  ) {}
}

/** Values JSON treats specially, mixed into generated objects at every depth. */
const odd = fc.constantFrom<unknown>(
  undefined,
  Number.NaN,
  Number.POSITIVE_INFINITY,
  -0,
  () => 1,
  Symbol('s'),
  new Date(0),
  new Point(1, 2),
  { toJSON: () => 'custom' },
  [],
  {},
  Object.create(null),
  [undefined, () => 1, Number.NaN],
);

const key = fc.oneof(fc.constantFrom(...DANGEROUS_KEYS), fc.string({ maxLength: 4 }));
const value: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  leaf: fc.oneof(
    fc.constant(null),
    fc.boolean(),
    fc.double(),
    fc.integer(),
    fc.string({ maxLength: 5 }),
    odd,
  ),
  node: fc.oneof(
    { depthSize: 'small' },
    tie('leaf'),
    fc.array(tie('node'), { maxLength: 3 }),
    fc.dictionary(key, tie('node'), { maxKeys: 4 }),
  ),
})).node;

describe('jsonCopy (the foreground answer’s copy)', () => {
  it('gives exactly what a JSON round trip gives, for generated values with JSON’s odd cases', () => {
    fc.assert(
      fc.property(value, (v) => {
        expect(same(jsonCopy(v), viaJson(v))).toBe(true);
      }),
      { numRuns: fcRuns(300) },
    );
  });

  it('shares nothing with its source', () => {
    const source = { output: { deep: [1, { x: 2 }] }, logs: [], calls: [], input: {} };
    const copy = jsonCopy(source) as typeof source;
    expect(copy).toStrictEqual(source);
    expect(copy.output).not.toBe(source.output);
    expect(copy.logs).not.toBe(source.logs);
    expect(copy.input).not.toBe(source.input);
  });

  it('keeps a "__proto__" key as data, as JSON.parse does', () => {
    const source = JSON.parse('{"__proto__": {"polluted": true}, "a": 1}') as object;
    const copy = jsonCopy(source) as Record<string, unknown>;
    expect(Object.getPrototypeOf(copy)).toBe(Object.prototype);
    expect(copy).toStrictEqual(JSON.parse(JSON.stringify(source)));
  });
});
