/**
 * A foreground run's answer without reading the store back: once a run's end is committed, the registry
 * knows exactly what the store holds — the row it inserted and ended, and the step records it sent — so
 * it builds the run record from those, in the form a store returns them (docs/durability.md, "How the
 * registry uses it"). Stores keep JSON: values are copied through JSON, as a JSON store reads them back
 * (a value JSON does not represent — `undefined`, a `Date` — comes back as JSON has it); frozen values
 * (the pinned document) are immutable and shared, as the memory store shares them. `jsonCopy` gives
 * what a JSON round trip gives, without one for the flat top levels (a property test pins them equal).
 */

import { setOwn } from '../json-data.js';
import type { StepRecord } from '../run/types.js';
import type { RunRecord, RunRow } from '../store/types.js';
import { assembleInto } from './access.js';

/** The run record a store answers for `row` and the step `records` written with it. */
export function storedAnswer(row: RunRow, records: Readonly<Record<string, StepRecord>>): RunRecord {
  const fields: Record<string, unknown> = {};
  for (const field of Object.keys(row)) {
    const value = (row as unknown as Record<string, unknown>)[field];
    // A field the store has no value for reads back null (a JSON column, or a nullable one).
    if (value === undefined) fields[field] = null;
    // Frozen values (the pinned document) are immutable and shared, as the memory store shares them.
    else if (value !== null && typeof value === 'object' && Object.isFrozen(value)) fields[field] = value;
    else {
      const copy = jsonCopy(value);
      if (copy !== DROPPED) setOwn(fields, field, copy);
    }
  }
  if (fields.input === null) fields.input = {};
  const copied: Record<string, StepRecord> = {};
  for (const key of Object.keys(records)) {
    const copy = jsonCopy(records[key]);
    if (copy !== DROPPED) setOwn(copied, key, copy);
  }
  return assembleInto(fields as unknown as RunRow, copied);
}

/** What JSON drops from an object (`undefined`, a function, a symbol). */
export const DROPPED: unique symbol = Symbol('dropped');

/**
 * `value` as a JSON round trip gives it back (DROPPED for what JSON leaves out of an object), without
 * one for what needs none: primitives are kept (a non-finite number becomes null, -0 becomes 0), and
 * a plain object's own fields are copied one by one — the run row and step records are flat objects
 * whose nested values are mostly null or empty — so only nested objects go through JSON. Anything
 * unusual (a prototype, a `toJSON`, a "__proto__" key, a BigInt) takes the JSON round trip itself,
 * which is the definition this function follows.
 */
export function jsonCopy(value: unknown, depth = 0): unknown {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return value;
    case 'number':
      return Number.isFinite(value) ? (value === 0 ? 0 : value) : null;
    case 'undefined':
    case 'function':
    case 'symbol':
      return DROPPED;
    case 'object':
      break;
    default:
      return JSON.parse(JSON.stringify(value)); // a BigInt: throws, as JSON does
  }
  if (value === null) return null;
  const proto = Object.getPrototypeOf(value);
  if (Array.isArray(value)) {
    if (value.length === 0 && proto === Array.prototype && !('toJSON' in value)) return [];
    return JSON.parse(JSON.stringify(value));
  }
  if (depth > 0 || (proto !== Object.prototype && proto !== null) || 'toJSON' in value) {
    if (proto === Object.prototype && !('toJSON' in value) && isEmpty(value)) return {};
    return JSON.parse(JSON.stringify(value));
  }
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(value)) {
    if (key === '__proto__') return JSON.parse(JSON.stringify(value));
    const copy = jsonCopy((value as Record<string, unknown>)[key], depth + 1);
    if (copy !== DROPPED) out[key] = copy;
  }
  return out;
}

function isEmpty(value: object): boolean {
  for (const _ in value) return false;
  return true;
}
