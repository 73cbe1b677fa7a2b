/**
 * A foreground run's answer without reading the store back: once a run's end is committed, the registry
 * knows exactly what the store holds — the row it inserted and ended, and the step records it sent — so
 * it builds the run record from those, in the form a store returns them (docs/durability.md, "How the
 * registry uses it"). Stores keep JSON: values are copied through JSON, as a JSON store reads them back
 * (a value JSON does not represent — `undefined`, a `Date` — comes back as JSON has it); frozen values
 * (the pinned document) are immutable and shared, as the memory store shares them.
 */
import type { StepRecord } from '../run/types.js';
import type { RunRecord, RunRow } from '../store/types.js';
import { assembleRun } from './access.js';

/** `value` as a JSON store returns it: a JSON copy (frozen values shared; undefined as null). */
function stored(value: unknown): unknown {
  if (value === undefined) return null;
  if (value === null || typeof value !== 'object' || Object.isFrozen(value)) return value;
  return JSON.parse(JSON.stringify(value));
}

/** The run record a store answers for `row` and the step `records` written with it. */
export function storedAnswer(row: RunRow, records: Readonly<Record<string, StepRecord>>): RunRecord {
  const copy: Record<string, unknown> = {};
  for (const field of Object.keys(row))
    copy[field] = stored((row as unknown as Record<string, unknown>)[field]);
  if (copy.input === null) copy.input = {};
  const steps: Record<string, StepRecord> = {};
  for (const key of Object.keys(records)) steps[key] = stored(records[key]) as StepRecord;
  return assembleRun(copy as unknown as RunRow, steps);
}
