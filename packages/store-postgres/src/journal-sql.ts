/**
 * The statements of the journal: each append is ONE statement, so that the owner check, the seq check
 * and every write of the batch happen together, and cost one round trip.
 *
 *   WITH run AS (UPDATE runs SET journal_seq = …, <patch> WHERE id = $1 AND owner_id = $2
 *                AND lease_until >= $now AND journal_seq = <first seq - 1> RETURNING <lease>),
 *        entries AS (INSERT INTO journal_batches … WHERE EXISTS (SELECT 1 FROM run)),  -- one row
 *        steps AS (INSERT INTO step_batches … WHERE EXISTS (SELECT 1 FROM run))  -- one row
 *   SELECT * FROM run
 *
 * A group commit puts many appends (of distinct runs) in one statement: the same CTEs numbered `run_0`,
 * `entries_0`, `run_1`, … and a `UNION ALL` of what each `run_k` returned (groupStatement).
 *
 * The UPDATE is the compare-and-set: under READ COMMITTED, an UPDATE that waited for another writer's
 * row lock checks its WHERE again against the row that writer committed, so two appends to one run can
 * never both pass. When it matches nothing, the caller reads the lease to say why (LEASE_LOST,
 * JOURNAL_CONFLICT or NOT_FOUND, with the messages every store uses).
 */
import { isLiveStatus, type JournalBatch, type RunRow } from '@weft/core/store';
import { pack } from './packed.js';
import {
  columnValue,
  endsRun,
  LEASE_COLUMNS,
  Params,
  packEntries,
  packRecords,
  patchSet,
  preserveOf,
  RUN_FIELDS,
  type SerialisedBatch,
} from './rows.js';
import { bytesSql, TextBlob } from './text-blob.js';

export interface Statement {
  text: string;
  values: unknown[];
}

/** The CTEs that write a batch's entries and step records when `run<k>` returned a row. */
function batchWrites(s: string, runParam: string, rows: SerialisedBatch, params: Params, k: string): string {
  let sql = '';
  if (rows.seqs.length > 0) {
    // One row for the batch's entries (migration 4).
    sql += `, entries${k} AS (
      INSERT INTO ${s}.journal_batches (run_id, last_seq, first_seq, packed)
      SELECT ${runParam}, ${params.add(rows.seqs[rows.seqs.length - 1])}::int, ${params.add(rows.seqs[0])}::int, ${params.add(pack(packEntries(rows)))}::bytea
      WHERE EXISTS (SELECT 1 FROM run${k}))`;
  }
  if (rows.keys.length > 0) {
    // One row for the batch's step records (migration 4); pos (an identity) orders a run's rows.
    sql += `, steps${k} AS (
      INSERT INTO ${s}.step_batches (run_id, packed)
      SELECT ${runParam}, ${params.add(pack(packRecords(rows.keys, rows.bodies)))}::bytea
      WHERE EXISTS (SELECT 1 FROM run${k}))`;
  }
  return sql;
}

/** The CTEs of an append to an existing run (see above); `run<k>` returns its lease when it matched. */
function appendCtes(
  s: string,
  runId: string,
  batch: JournalBatch,
  rows: SerialisedBatch,
  params: Params,
  k: string,
): string {
  const id = params.add(runId);
  const where = [
    `id = ${id}`,
    `owner_id = ${params.add(batch.owner_id)}`,
    `lease_until >= ${params.add(batch.now)}`,
  ];
  const extra: Record<string, unknown> = {};
  if (rows.seqs.length > 0) {
    where.push(`journal_seq = ${params.add(rows.seqs[0]! - 1)}`);
    extra.journal_seq = rows.seqs[rows.seqs.length - 1]!;
  }
  if (batch.lease_until !== undefined && !endsRun(batch.run)) extra.lease_until = batch.lease_until;
  const set = patchSet(batch.run ?? {}, params, extra);
  // No change to the row: the UPDATE still checks the owner and locks the row until the statement ends.
  if (set.length === 0) set.push('journal_seq = journal_seq');
  return `run${k} AS (
      UPDATE ${s}.runs SET ${set.join(', ')} WHERE ${where.join(' AND ')} RETURNING ${LEASE_COLUMNS})${batchWrites(s, id, rows, params, k)}`;
}

/**
 * A new run with its first batch (a group append with `insert`): the row is inserted as the batch leaves
 * it — patch applied, journal_seq at the batch's last entry, owned until `lease_until` unless the batch
 * ended it — in one statement. The caller has checked the batch against the lease the run is inserted
 * with; `ON CONFLICT DO NOTHING` turns an existing id into no row (CONFLICT), never a failed transaction.
 */
function insertAppendCtes(
  s: string,
  insert: RunRow,
  batch: JournalBatch,
  rows: SerialisedBatch,
  params: Params,
  k: string,
): string {
  const run: Record<string, unknown> = { ...insert };
  for (const [field, value] of Object.entries(batch.run ?? {})) if (value !== undefined) run[field] = value;
  const owned = isLiveStatus(run.status as RunRow['status']);
  const columns = [...RUN_FIELDS, 'preserve', 'owner_id', 'lease_until', 'journal_seq'];
  const values = [
    ...RUN_FIELDS.map((field) => params.add(columnValue(field, run[field]))),
    params.add(preserveOf(run.retention)),
    params.add(owned ? batch.owner_id : null),
    params.add(owned ? batch.lease_until : null),
    params.add(rows.seqs.length > 0 ? rows.seqs[rows.seqs.length - 1] : 0),
  ];
  return `run${k} AS (
      INSERT INTO ${s}.runs (${columns.join(', ')}) VALUES (${values.join(', ')})
      ON CONFLICT (id) DO NOTHING RETURNING ${LEASE_COLUMNS})${batchWrites(s, values[0]!, rows, params, k)}`;
}

/** One append (`insert`: a new run with its first batch) as the CTEs of one statement. */
export interface AppendPart {
  runId: string;
  batch: JournalBatch;
  rows: SerialisedBatch;
  insert?: RunRow | undefined;
}

function partCtes(s: string, part: AppendPart, params: Params, k: string): string {
  return part.insert === undefined
    ? appendCtes(s, part.runId, part.batch, part.rows, params, k)
    : insertAppendCtes(s, part.insert, part.batch, part.rows, params, k);
}

/** One append as one statement; its row is the run's lease after the write, none when refused. */
export function appendStatement(s: string, part: AppendPart): Statement {
  const params = new Params();
  return { text: `WITH ${partCtes(s, part, params, '')} SELECT * FROM run`, values: params.values };
}

/**
 * Appends of distinct runs as one statement: row `i` of the result is the lease of `parts[i]` after its
 * write; a part that was refused has no row. (Two appends to one run cannot share a statement: an UPDATE
 * cannot change one row twice. The caller puts them in successive statements.)
 */
export function groupStatement(s: string, parts: readonly AppendPart[]): Statement {
  const params = new Params();
  const ctes = parts.map((part, i) => partCtes(s, part, params, `_${i}`));
  const union = parts.map((_, i) => `SELECT ${i} AS part, * FROM run_${i}`).join(' UNION ALL ');
  return { text: `WITH ${ctes.join(', ')} ${union}`, values: params.values };
}

/** The run fields a `RunPatch` can hold: what the bulk statement writes (other fields take the CTE path). */
export const BULK_PATCH_FIELDS = [
  'status',
  'result',
  'error',
  'started_at',
  'ended_at',
  'usage',
  'retention',
  'retention_due_at',
  'updated_at',
] as const;
const BULK_FIELDS = new Set<string>(BULK_PATCH_FIELDS);

/** Whether an append can be in a bulk statement: an existing run, a patch of RunPatch fields only. */
export function bulkable(part: AppendPart): boolean {
  if (part.insert !== undefined) return false;
  for (const [field, value] of Object.entries(part.batch.run ?? {})) {
    if (value !== undefined && !BULK_FIELDS.has(field)) return false;
  }
  return true;
}

/**
 * Appends of distinct existing runs as ONE statement of constant shape (so it is prepared once): the
 * appends are rows of arrays; one `UPDATE … FROM unnest(…)` checks every owner, lease and seq and writes
 * the run rows (a patch field is written where its mask is true), then the entries and step records of
 * the runs it matched are inserted. Row `i` of the result (`part`) is the lease of `parts[i]` after its
 * write; a refused part has no row.
 */
export function bulkAppendStatement(s: string, parts: readonly AppendPart[]): Statement {
  const col = <T>(f: (part: AppendPart, i: number) => T): T[] => parts.map(f);
  const masks = BULK_PATCH_FIELDS.map((field) => col((p) => p.batch.run?.[field] !== undefined));
  const values = BULK_PATCH_FIELDS.map((field) => col((p) => columnValue(field, p.batch.run?.[field])));
  // The entries and records (the long texts) go in one bytea (text-blob.ts); rows name them by index.
  const blob = new TextBlob();
  const entries: { part: number[]; last: number[]; first: number[]; text: number[] } = {
    part: [],
    last: [],
    first: [],
    text: [],
  };
  const steps: { part: number[]; text: number[] } = { part: [], text: [] };
  parts.forEach((p, i) => {
    if (p.rows.seqs.length > 0) {
      entries.part.push(i);
      entries.last.push(p.rows.seqs[p.rows.seqs.length - 1]!);
      entries.first.push(p.rows.seqs[0]!);
      entries.text.push(blob.addBytes(pack(packEntries(p.rows))));
    }
    if (p.rows.keys.length > 0) {
      steps.part.push(i);
      steps.text.push(blob.addBytes(pack(packRecords(p.rows.keys, p.rows.bodies))));
    }
  });
  const params = new Params();
  const input = [
    `${params.add(col((_, i) => i))}::int[]`,
    `${params.add(col((p) => p.runId))}::text[]`,
    `${params.add(col((p) => p.batch.owner_id))}::text[]`,
    `${params.add(col((p) => p.batch.now))}::text[]`,
    `${params.add(col((p) => (p.rows.seqs.length > 0 ? p.rows.seqs[0]! - 1 : null)))}::int[]`,
    `${params.add(col((p) => (p.rows.seqs.length > 0 ? p.rows.seqs[p.rows.seqs.length - 1]! : null)))}::int[]`,
    `${params.add(col((p) => p.batch.lease_until ?? null))}::text[]`,
    `${params.add(col((p) => endsRun(p.batch.run)))}::bool[]`,
    `${params.add(col((p) => preserveOf(p.batch.run?.retention)))}::bool[]`,
    ...masks.map((mask) => `${params.add(mask)}::bool[]`),
    ...values.map((value) => `${params.add(value)}::text[]`),
  ];
  const names = [
    'part',
    'run_id',
    'owner',
    'now',
    'expected',
    'last',
    'lease',
    'ends',
    'preserve',
    ...BULK_PATCH_FIELDS.map((f) => `has_${f}`),
    ...BULK_PATCH_FIELDS.map((f) => `new_${f}`),
  ];
  const bytes = `${params.add(blob.bytes())}::bytea`;
  const set = [
    'journal_seq = coalesce(i.last, r.journal_seq)',
    'owner_id = CASE WHEN i.ends THEN NULL ELSE r.owner_id END',
    'lease_until = CASE WHEN i.ends THEN NULL ELSE coalesce(i.lease, r.lease_until) END',
    'preserve = CASE WHEN i.has_retention THEN i.preserve ELSE r.preserve END',
    ...BULK_PATCH_FIELDS.map((f) => `${f} = CASE WHEN i.has_${f} THEN i.new_${f} ELSE r.${f} END`),
  ];
  const text = `WITH i AS (
      SELECT * FROM unnest(${input.join(', ')}) AS i(${names.join(', ')})
    ), locked AS (
      -- The rows are locked in id order before any is updated (the UPDATE's join may visit them in any
      -- order): with heartbeats and other groups locking in that order too, no two wait on each other.
      SELECT r.id FROM ${s}.runs AS r WHERE r.id IN (SELECT run_id FROM i) ORDER BY r.id FOR UPDATE OF r
    ), run AS (
      UPDATE ${s}.runs AS r SET ${set.join(', ')}
      FROM i
      WHERE r.id = i.run_id AND r.id IN (SELECT id FROM locked) AND r.owner_id = i.owner AND r.lease_until >= i.now
        AND (i.expected IS NULL OR r.journal_seq = i.expected)
      RETURNING i.part, r.id AS run_id, r.status, r.owner_id, r.lease_until, r.journal_seq
    ), entries AS (
      INSERT INTO ${s}.journal_batches (run_id, last_seq, first_seq, packed)
      SELECT run.run_id, e.last, e.first, ${bytesSql(bytes, 'e.off', 'e.len')}
      FROM unnest(${params.add(entries.part)}::int[], ${params.add(entries.last)}::int[], ${params.add(entries.first)}::int[], ${params.add(pick(blob.offsets, entries.text))}::int[], ${params.add(pick(blob.lengths, entries.text))}::int[]) AS e(part, last, first, off, len)
      JOIN run ON run.part = e.part
    ), steps AS (
      INSERT INTO ${s}.step_batches (run_id, packed)
      SELECT run.run_id, ${bytesSql(bytes, 't.off', 't.len')}
      FROM unnest(${params.add(steps.part)}::int[], ${params.add(pick(blob.offsets, steps.text))}::int[], ${params.add(pick(blob.lengths, steps.text))}::int[]) AS t(part, off, len)
      JOIN run ON run.part = t.part
    )
    SELECT * FROM run`;
  return { text, values: params.values };
}

/** `values` at `indexes`. */
function pick(values: readonly number[], indexes: readonly number[]): number[] {
  return indexes.map((i) => values[i]!);
}

/** Whether a new run's first append can be in a bulk insert (a patch of RunPatch fields only). */
export function bulkInsertable(part: AppendPart): boolean {
  return part.insert !== undefined && bulkable({ ...part, insert: undefined });
}

/**
 * New runs with their first batches as ONE statement of constant shape (prepared once): each row inserted
 * as its batch leaves it (see insertAppendCtes), `ON CONFLICT DO NOTHING`; the entries and step records
 * of the runs inserted follow. The result has a row (the lease, by `run_id`) per run inserted; an
 * existing id has none (CONFLICT).
 */
export function bulkInsertStatement(s: string, parts: readonly AppendPart[]): Statement {
  const runs = parts.map((part) => {
    const run: Record<string, unknown> = { ...part.insert };
    for (const [field, value] of Object.entries(part.batch.run ?? {}))
      if (value !== undefined) run[field] = value;
    return run;
  });
  const params = new Params();
  const owned = runs.map((run) => isLiveStatus(run.status as RunRow['status']));
  const input = [
    ...RUN_FIELDS.map((field) => {
      const type = field === 'version' ? 'int' : 'text';
      return `${params.add(runs.map((run) => columnValue(field, run[field])))}::${type}[]`;
    }),
    `${params.add(runs.map((run) => preserveOf(run.retention)))}::bool[]`,
    `${params.add(parts.map((p, i) => (owned[i] ? p.batch.owner_id : null)))}::text[]`,
    `${params.add(parts.map((p, i) => (owned[i] ? (p.batch.lease_until ?? null) : null)))}::text[]`,
    `${params.add(parts.map((p) => (p.rows.seqs.length > 0 ? p.rows.seqs[p.rows.seqs.length - 1]! : 0)))}::int[]`,
  ];
  const columns = [...RUN_FIELDS, 'preserve', 'owner_id', 'lease_until', 'journal_seq'];
  const blob = new TextBlob();
  const entries = {
    run: [] as string[],
    last: [] as number[],
    first: [] as number[],
    text: [] as number[],
  };
  const steps = { run: [] as string[], text: [] as number[] };
  for (const p of parts) {
    if (p.rows.seqs.length > 0) {
      entries.run.push(p.runId);
      entries.last.push(p.rows.seqs[p.rows.seqs.length - 1]!);
      entries.first.push(p.rows.seqs[0]!);
      entries.text.push(blob.addBytes(pack(packEntries(p.rows))));
    }
    if (p.rows.keys.length > 0) {
      steps.run.push(p.runId);
      steps.text.push(blob.addBytes(pack(packRecords(p.rows.keys, p.rows.bodies))));
    }
  }
  const bytes = `${params.add(blob.bytes())}::bytea`;
  const text = `WITH run AS (
      INSERT INTO ${s}.runs (${columns.join(', ')})
      SELECT * FROM unnest(${input.join(', ')})
      ON CONFLICT (id) DO NOTHING RETURNING ${LEASE_COLUMNS}
    ), entries AS (
      INSERT INTO ${s}.journal_batches (run_id, last_seq, first_seq, packed)
      SELECT e.run_id, e.last, e.first, ${bytesSql(bytes, 'e.off', 'e.len')}
      FROM unnest(${params.add(entries.run)}::text[], ${params.add(entries.last)}::int[], ${params.add(entries.first)}::int[], ${params.add(pick(blob.offsets, entries.text))}::int[], ${params.add(pick(blob.lengths, entries.text))}::int[]) AS e(run_id, last, first, off, len)
      WHERE e.run_id IN (SELECT run_id FROM run)
    ), steps AS (
      INSERT INTO ${s}.step_batches (run_id, packed)
      SELECT t.run_id, ${bytesSql(bytes, 't.off', 't.len')}
      FROM unnest(${params.add(steps.run)}::text[], ${params.add(pick(blob.offsets, steps.text))}::int[], ${params.add(pick(blob.lengths, steps.text))}::int[]) AS t(run_id, off, len)
      WHERE t.run_id IN (SELECT run_id FROM run)
    )
    SELECT * FROM run`;
  return { text, values: params.values };
}
