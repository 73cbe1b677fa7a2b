/**
 * How records map to rows: the run's columns (JSON text for objects), list cursors, parameters. The same
 * mapping as the SQLite store's, so that both return the same values for the same writes.
 */
import { invalidArgument, type Page } from '@weft/core';
import {
  decodeCursor,
  encodeCursor,
  isLiveStatus,
  type JournalBatch,
  type RunLease,
  type RunPatch,
  type RunRow,
  storedJson,
} from '@weft/core/store';
import { corruptRow, type PackedSource, unpack } from './packed.js';

export type Row = Record<string, unknown>;

/** Run-level fields stored as JSON text. */
export const JSON_COLUMNS = new Set([
  'input',
  'result',
  'error',
  'usage',
  'retention',
  'workflow_version',
  'workflow_version_draft',
]);

/** Every RunRow field, in the order rows are returned. */
export const RUN_FIELDS = [
  'id',
  'result',
  'input',
  'status',
  'origin',
  'error',
  'started_at',
  'ended_at',
  'app_id',
  'workflow_app_id',
  'workflow_id',
  'workflow_version_draft',
  'workflow_version',
  'collection_id',
  'record_id',
  'version',
  'usage',
  'retention',
  'retention_due_at',
  'created_at',
  'updated_at',
  'replay_of',
  'purged_at',
] as const;

export const PATCHABLE = new Set<string>(RUN_FIELDS.filter((f) => f !== 'id'));
export const RUN_COLUMNS = RUN_FIELDS.join(', ');
/**
 * A run's lease (migration 5): the run row's status and, for a live run, its run_leases row (`l`) — owner,
 * lease and journal_seq; an ended run has none, and its journal_seq is the run row's (`r`).
 */
export const LEASE_COLUMNS =
  'r.id AS run_id, r.status, l.owner_id, l.lease_until, coalesce(l.journal_seq, r.journal_seq) AS journal_seq';

function fromJson(text: unknown): unknown {
  return typeof text === 'string' ? JSON.parse(text) : null;
}

export function runRow(row: Row): RunRow {
  const out: Record<string, unknown> = {};
  for (const field of RUN_FIELDS) {
    const value = row[field];
    out[field] = JSON_COLUMNS.has(field) ? fromJson(value) : (value ?? null);
  }
  if (out.input === null) out.input = {};
  return out as unknown as RunRow;
}

export function leaseOf(row: Row): RunLease {
  return {
    run_id: row.run_id as string,
    status: row.status as RunLease['status'],
    owner_id: (row.owner_id as string | null) ?? null,
    lease_until: (row.lease_until as string | null) ?? null,
    journal_seq: row.journal_seq as number,
  };
}

/** A run column's value for a field of a row or patch. */
export function columnValue(field: string, value: unknown): unknown {
  return JSON_COLUMNS.has(field) ? storedJson(value) : (value ?? null);
}

export function preserveOf(retention: unknown): boolean {
  return (
    retention !== null && typeof retention === 'object' && (retention as Row).preserve_on_failure === true
  );
}

/** Checks a patch's fields (before any statement): only run fields. */
export function checkPatch(patch: RunPatch | undefined, parameter: string): void {
  for (const [field, value] of Object.entries(patch ?? {})) {
    if (value !== undefined && !PATCHABLE.has(field)) {
      throw invalidArgument(
        `${parameter}.${field}`,
        `one of the run fields ${[...PATCHABLE].join(', ')}`,
        value,
      );
    }
  }
}

/** Whether a patch ends the run (and so releases its lease). */
export function endsRun(patch: RunPatch | undefined): boolean {
  return patch?.status !== undefined && !isLiveStatus(patch.status);
}

/** Numbered parameters of one statement: `p.add(value)` → `$n`. */
export class Params {
  readonly values: unknown[] = [];

  add(value: unknown): string {
    this.values.push(value);
    return `$${this.values.length}`;
  }
}

/**
 * `SET col = $n, …` of a run patch (plus `preserve` for retention), and of `extra` columns. (The lease of
 * a run that ends is its run_leases row, deleted by the caller's statement.)
 */
export function patchSet(patch: RunPatch, params: Params, extra: Record<string, unknown> = {}): string[] {
  const set: string[] = [];
  for (const [field, value] of Object.entries(patch)) {
    if (value === undefined) continue;
    set.push(`${field} = ${params.add(columnValue(field, value))}`);
  }
  if (patch.retention !== undefined) set.push(`preserve = ${params.add(preserveOf(patch.retention))}`);
  for (const [column, value] of Object.entries(extra)) set.push(`${column} = ${params.add(value)}`);
  return set;
}

/** Cursor keys of created_at-ordered lists: `<created_at>#<seq>`. */
export function positionKey(createdAt: string, seq: string | number): string {
  return `${createdAt}#${seq}`;
}

export function decodePosition(cursor: string): { createdAt: string; seq: string } {
  const { key } = decodeCursor(cursor);
  const hash = key.lastIndexOf('#');
  const seq = key.slice(hash + 1);
  if (hash <= 0 || !/^\d{1,18}$/.test(seq)) {
    throw invalidArgument('cursor', 'the `next_cursor` of a previous page of this store', cursor);
  }
  return { createdAt: key.slice(0, hash), seq };
}

/** A page from rows fetched with LIMIT limit + 1. */
export function pageOf<T>(
  rows: Row[],
  limit: number,
  map: (row: Row) => T,
  key: (row: Row) => string,
): Page<T> {
  const more = rows.length > limit;
  const data = (more ? rows.slice(0, limit) : rows).map(map);
  const last = more ? rows[limit - 1]! : null;
  return { data, next_cursor: last === null ? null : encodeCursor({ key: key(last), id: String(last.id) }) };
}

/** Byte order of UTF-8 (PostgreSQL's "C" collation), for sorting ids the way the database does. */
export function byteOrder(a: string, b: string): number {
  return a === b ? 0 : Buffer.compare(Buffer.from(a), Buffer.from(b));
}

/** The text PostgreSQL cannot store: a string with NUL. Returns the path of the first one found. */
export function nulIn(value: unknown, path: string): string | null {
  if (typeof value === 'string') return value.includes('\0') ? path : null;
  if (value === null || typeof value !== 'object') return null;
  for (const [key, inner] of Object.entries(value)) {
    // JSON values are stored as JSON text, where NUL is escaped: only top-level text columns matter.
    if (typeof inner === 'string' && inner.includes('\0')) return `${path}.${key}`;
  }
  return null;
}

/** A batch's rows: entries as columns (seq, type, at, the rest as JSON), step records as JSON. */
export interface SerialisedBatch {
  seqs: number[];
  types: string[];
  ats: string[];
  data: string[];
  keys: string[];
  bodies: string[];
}

/**
 * The entries of a batch as the `entries` text of its journal_batches row (migration 4): a JSON array
 * of `[type, at, data]`, in seq order from the row's first_seq. Empty string for a batch without entries.
 */
export function packEntries(rows: SerialisedBatch): string {
  if (rows.seqs.length === 0) return '';
  let out = '[';
  for (let i = 0; i < rows.seqs.length; i++) {
    if (i > 0) out += ',';
    out += `[${JSON.stringify(rows.types[i])},${JSON.stringify(rows.ats[i])},${rows.data[i]}]`;
  }
  return `${out}]`;
}

/** A batch's step records as the `records` text of its step_batches row (migration 4); '' when none. */
export function packRecords(keys: readonly string[], bodies: readonly string[]): string {
  if (keys.length === 0) return '';
  let out = '[';
  for (let i = 0; i < keys.length; i++) {
    if (i > 0) out += ',';
    out += `[${JSON.stringify(keys[i])},${bodies[i]}]`;
  }
  return `${out}]`;
}

/**
 * The JSON array of a journal_batches or step_batches row: from `packed` (migration 6), or from the text
 * column (`entries`, `records`) of a row written before. STORE_CORRUPT when it is not one.
 */
function rowArray(row: Row, column: 'entries' | 'records', source: PackedSource): unknown[] {
  const text = row.packed != null ? unpack(row.packed as Buffer, source) : (row[column] as string);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw corruptRow(source, `its JSON is invalid (${(error as Error).message})`);
  }
  if (!Array.isArray(value)) throw corruptRow(source, 'its JSON is not an array');
  return value;
}

/**
 * A run's step records from its step_batches rows (`pos`, and `packed` or `records`) in pos order: a key
 * keeps the place of its first record and takes the value of its last. STORE_CORRUPT on a row that is
 * not what packRecords writes.
 */
export function mergeRecords<T>(
  rows: readonly Row[],
  runId: string,
  into: Record<string, T> = {},
): Record<string, T> {
  for (const row of rows) {
    const records = rowArray(row, 'records', {
      table: 'step_batches',
      run_id: runId,
      row: row.pos as string,
    });
    for (const [key, record] of records as Array<[string, T]>) into[key] = record;
  }
  return into;
}

/**
 * The entries of journal_batches rows (`first_seq`, `last_seq`, and `packed` or — in rows written
 * before migration 6 — `entries`, in seq order) with seq in `(after, after + limit]`, as
 * `[seq, type, at, data]`. STORE_CORRUPT on a row that is not what packEntries writes.
 */
export function unpackEntries(
  rows: readonly Row[],
  runId: string,
  after: number,
  limit: number,
): Array<[number, string, string, Row]> {
  const out: Array<[number, string, string, Row]> = [];
  for (const row of rows) {
    const first = row.first_seq as number;
    const source = { table: 'journal_batches', run_id: runId, row: row.last_seq as number } as const;
    const entries = rowArray(row, 'entries', source);
    for (let i = 0; i < entries.length && out.length < limit; i++) {
      const seq = first + i;
      if (seq <= after) continue;
      const entry = entries[i];
      if (!Array.isArray(entry) || typeof entry[0] !== 'string' || typeof entry[1] !== 'string') {
        throw corruptRow(source, `its entry ${i} (seq ${seq}) is not [type, at, data]`);
      }
      out.push([seq, entry[0], entry[1], entry[2] as Row]);
    }
  }
  return out;
}

export function serialise(
  batch: JournalBatch,
  entryData: (entry: JournalBatch['entries'][number]) => Row,
): SerialisedBatch {
  const out: SerialisedBatch = { seqs: [], types: [], ats: [], data: [], keys: [], bodies: [] };
  for (const entry of batch.entries) {
    out.seqs.push(entry.seq);
    out.types.push(entry.type);
    out.ats.push(entry.at);
    out.data.push(JSON.stringify(entryData(entry)));
  }
  for (const [key, record] of Object.entries(batch.steps ?? {})) {
    out.keys.push(key);
    out.bodies.push(JSON.stringify(record));
  }
  return out;
}
