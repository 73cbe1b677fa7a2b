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

/** The run record a store answers for `row` and the step `records` written with it. */
export function storedAnswer(row: RunRow, records: Readonly<Record<string, StepRecord>>): RunRecord {
  const fields: Record<string, unknown> = {};
  const shared: Array<[string, unknown]> = [];
  for (const [field, value] of Object.entries(row)) {
    // A field the store has no value for reads back null (a JSON column, or a nullable one).
    if (value !== null && typeof value === 'object' && Object.isFrozen(value)) shared.push([field, value]);
    else fields[field] = value === undefined ? null : value;
  }
  // One JSON round trip for everything (cheaper than one per record).
  const copy = JSON.parse(JSON.stringify({ fields, records })) as {
    fields: Record<string, unknown>;
    records: Record<string, StepRecord>;
  };
  for (const [field, value] of shared) copy.fields[field] = value;
  if (copy.fields.input === null) copy.fields.input = {};
  return assembleRun(copy.fields as unknown as RunRow, copy.records);
}
