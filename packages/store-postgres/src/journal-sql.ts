/**
 * The statements of the journal: each append is ONE statement, so that the owner check, the seq check
 * and every write of the batch happen together, and cost one round trip.
 *
 *   WITH held AS (SELECT … FROM run_leases WHERE run_id = $1 AND owner_id = $2 AND lease_until >= $now
 *                 AND journal_seq = <first seq - 1> FOR UPDATE),
 *        run AS (UPDATE runs SET journal_seq = …, <patch> FROM held … RETURNING <lease>),
 *        lease AS (DELETE FROM run_leases …  -- the run ended; else UPDATE … SET journal_seq, lease_until),
 *        entries AS (INSERT INTO journal_batches … WHERE EXISTS (SELECT 1 FROM run)),  -- one row
 *        steps AS (INSERT INTO step_batches … WHERE EXISTS (SELECT 1 FROM run))  -- one row
 *   SELECT * FROM run
 *
 * A group commit puts many appends (of distinct runs) in one statement: the same CTEs numbered `run_0`,
 * `entries_0`, `run_1`, … and a `UNION ALL` of what each `run_k` returned (groupStatement).
 *
 * The lease row's lock is the compare-and-set (migration 5: a live run's owner, lease and journal_seq
 * are its run_leases row): under READ COMMITTED, a `SELECT … FOR UPDATE` that waited for another
 * writer's lock checks its WHERE again against the row that writer committed, so two appends to one run
 * can never both pass, and a claim (which updates that row) waits for the append or is waited for. Every
 * write of a live run's row holds its lease row's lock first. When nothing matches, the caller reads the
 * lease to say why (LEASE_LOST, JOURNAL_CONFLICT or NOT_FOUND, with the messages every store uses).
 */
import { isLiveStatus, type JournalBatch, type RunRow } from '@weft/core/store';
import { pack } from './packed.js';
import {
  columnValue,
  endsRun,
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

/**
 * The CTEs of an append to an existing run (see above); `run<k>` returns its lease when it matched.
 * `held<k>` locks the run's lease row if the append may write (owner, lease, journal_seq: the
 * compare-and-set), `run<k>` writes the run row, `lease<k>` deletes the lease row (the run ended) or moves
 * it on (journal_seq, lease_until).
 */
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
    `run_id = ${id}`,
    `owner_id = ${params.add(batch.owner_id)}`,
    `lease_until >= ${params.add(batch.now)}`,
  ];
  const set = patchSet(batch.run ?? {}, params);
  const moved: string[] = [];
  if (rows.seqs.length > 0) {
    where.push(`journal_seq = ${params.add(rows.seqs[0]! - 1)}`);
    const last = `${params.add(rows.seqs[rows.seqs.length - 1]!)}::int`;
    set.push(`journal_seq = ${last}`);
    moved.push(`journal_seq = ${last}`);
  }
  const ends = endsRun(batch.run);
  const until = batch.lease_until !== undefined && !ends ? params.add(batch.lease_until) : null;
  if (until !== null) moved.push(`lease_until = ${until}::text`);
  const owner = ends ? 'NULL::text' : 'h.owner_id';
  const lease = ends ? 'NULL::text' : until === null ? 'h.lease_until' : `${until}::text`;
  const returning = `r.id AS run_id, r.status, ${owner} AS owner_id, ${lease} AS lease_until, r.journal_seq`;
  // No change to the run row: the lease row's lock alone orders the run's appends.
  const run =
    set.length === 0
      ? `SELECT ${returning} FROM ${s}.runs AS r JOIN held${k} AS h ON h.run_id = r.id`
      : `UPDATE ${s}.runs AS r SET ${set.join(', ')} FROM held${k} AS h WHERE r.id = h.run_id RETURNING ${returning}`;
  // By the id (the key), when run<k> wrote: `IN (SELECT … FROM run<k>)` may be planned as a scan.
  const matched = `run_id = ${id} AND EXISTS (SELECT 1 FROM run${k})`;
  const leaseWrite = ends
    ? `, lease${k} AS (DELETE FROM ${s}.run_leases WHERE ${matched})`
    : moved.length > 0
      ? `, lease${k} AS (UPDATE ${s}.run_leases SET ${moved.join(', ')} WHERE ${matched})`
      : '';
  return `held${k} AS (
      SELECT run_id, owner_id, lease_until FROM ${s}.run_leases WHERE ${where.join(' AND ')} FOR UPDATE
    ), run${k} AS (${run})${leaseWrite}${batchWrites(s, id, rows, params, k)}`;
}

/**
 * A new run with its first batch (a group append with `insert`): the row is inserted as the batch leaves
 * it — patch applied, journal_seq at the batch's last entry — and, while it is live, its lease row (owned
 * until `lease_until`), in one statement. The caller has checked the batch against the lease the run is
 * inserted with; `ON CONFLICT DO NOTHING` turns an existing id into no row (CONFLICT), never a failed
 * transaction.
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
  const live = isLiveStatus(run.status as RunRow['status']);
  const columns = [...RUN_FIELDS, 'preserve', 'journal_seq'];
  const values = [
    ...RUN_FIELDS.map((field) => params.add(columnValue(field, run[field]))),
    params.add(preserveOf(run.retention)),
    params.add(rows.seqs.length > 0 ? rows.seqs[rows.seqs.length - 1] : 0),
  ];
  const owner = live ? `${params.add(batch.owner_id)}::text` : 'NULL::text';
  const until = live ? `${params.add(batch.lease_until ?? null)}::text` : 'NULL::text';
  const lease = live
    ? `, lease${k} AS (INSERT INTO ${s}.run_leases (run_id, owner_id, lease_until, journal_seq)
      SELECT run_id, owner_id, lease_until, journal_seq FROM run${k})`
    : '';
  return `run${k} AS (
      INSERT INTO ${s}.runs (${columns.join(', ')}) VALUES (${values.join(', ')})
      ON CONFLICT (id) DO NOTHING RETURNING id AS run_id, status, ${owner} AS owner_id, ${until} AS lease_until, journal_seq)${lease}${batchWrites(s, values[0]!, rows, params, k)}`;
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
  const params = new Params();
  const partIndexes = `${params.add(col((_, i) => i))}::int[]`;
  const runIds = `${params.add(col((p) => p.runId))}::text[]`;
  const input = [
    partIndexes,
    runIds,
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
  const set = [
    'journal_seq = coalesce(i.last, r.journal_seq)',
    'preserve = CASE WHEN i.has_retention THEN i.preserve ELSE r.preserve END',
    ...BULK_PATCH_FIELDS.map((f) => `${f} = CASE WHEN i.has_${f} THEN i.new_${f} ELSE r.${f} END`),
  ];
  const text = `WITH i AS (
      SELECT * FROM unnest(${input.join(', ')}) AS i(${names.join(', ')})
    ), held AS (
      -- The lease rows are locked in id order (the joins below may visit them in any order): with
      -- heartbeats and other groups locking in that order too, no two wait on each other. A run row is
      -- written only under its lease row's lock (updateRun takes it too), so it needs no lock order.
      -- By the ids' array (an index scan), not a join with i: the planner would scan the whole table.
      SELECT l.run_id, l.owner_id, l.lease_until, l.journal_seq FROM ${s}.run_leases AS l
      WHERE l.run_id = ANY(${runIds}) ORDER BY l.run_id FOR UPDATE OF l
    ), ok AS (
      -- The compare-and-set of each append, against its lease row as locked (the latest version).
      SELECT i.*, h.lease_until AS held_until FROM i JOIN held AS h ON h.run_id = i.run_id
      WHERE h.owner_id = i.owner AND h.lease_until >= i.now AND (i.expected IS NULL OR h.journal_seq = i.expected)
    ), run AS (
      UPDATE ${s}.runs AS r SET ${set.join(', ')}
      FROM ok AS i
      WHERE r.id = i.run_id
      RETURNING i.part, r.id AS run_id, r.status, CASE WHEN i.ends THEN NULL ELSE i.owner END AS owner_id,
        CASE WHEN i.ends THEN NULL ELSE coalesce(i.lease, i.held_until) END AS lease_until, r.journal_seq
    ), ended AS (
      DELETE FROM ${s}.run_leases AS l USING ok WHERE l.run_id = ok.run_id AND ok.ends
    ), moved AS (
      UPDATE ${s}.run_leases AS l SET journal_seq = coalesce(ok.last, l.journal_seq), lease_until = coalesce(ok.lease, l.lease_until)
      FROM ok WHERE l.run_id = ok.run_id AND NOT ok.ends AND (ok.last IS NOT NULL OR ok.lease IS NOT NULL)
    ), ${batchInserts(
      s,
      params,
      packBatches(parts, (_, i) => i),
      BY_PART,
    )}
    SELECT * FROM run`;
  return { text, values: params.values };
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
  const runColumns = columns.filter((c) => c !== 'owner_id' && c !== 'lease_until');
  // The live runs inserted get their lease row (migration 5); owner_id is NULL for an ended one.
  const text = `WITH u AS (
      SELECT * FROM unnest(${input.join(', ')}) AS u(${columns.join(', ')})
    ), inserted AS (
      INSERT INTO ${s}.runs (${runColumns.join(', ')})
      SELECT ${runColumns.join(', ')} FROM u
      ON CONFLICT (id) DO NOTHING RETURNING id, status, journal_seq
    ), run AS (
      SELECT inserted.id AS run_id, inserted.status, u.owner_id, u.lease_until, inserted.journal_seq
      FROM inserted JOIN u ON u.id = inserted.id
    ), leases AS (
      INSERT INTO ${s}.run_leases (run_id, owner_id, lease_until, journal_seq)
      SELECT run_id, owner_id, lease_until, journal_seq FROM run WHERE status IN ('PENDING', 'RUNNING')
    ), ${batchInserts(
      s,
      params,
      packBatches(parts, (p) => p.runId),
      BY_RUN_ID,
    )}
    SELECT * FROM run`;
  return { text, values: params.values };
}

/**
 * The long values of a bulk statement: each part's entries and its step records, packed (packed.ts), one
 * after another in ONE bytea (text-blob.ts), and the rows that name them — the part's `key` (its index in
 * the statement, or its run id), the entries' seqs, the bytes' offset and length. Parts without entries
 * (or records) have no row.
 */
interface PackedBatches<K> {
  bytes: Buffer;
  entries: { key: K[]; last: number[]; first: number[]; off: number[]; len: number[] };
  steps: { key: K[]; off: number[]; len: number[] };
}

function packBatches<K>(
  parts: readonly AppendPart[],
  key: (part: AppendPart, i: number) => K,
): PackedBatches<K> {
  const blob = new TextBlob();
  const entries: PackedBatches<K>['entries'] = { key: [], last: [], first: [], off: [], len: [] };
  const steps: PackedBatches<K>['steps'] = { key: [], off: [], len: [] };
  parts.forEach((part, i) => {
    const { seqs, keys, bodies } = part.rows;
    if (seqs.length > 0) {
      const at = blob.addBytes(pack(packEntries(part.rows)));
      entries.key.push(key(part, i));
      entries.last.push(seqs[seqs.length - 1]!);
      entries.first.push(seqs[0]!);
      entries.off.push(blob.offsets[at]!);
      entries.len.push(blob.lengths[at]!);
    }
    if (keys.length > 0) {
      const at = blob.addBytes(pack(packRecords(keys, bodies)));
      steps.key.push(key(part, i));
      steps.off.push(blob.offsets[at]!);
      steps.len.push(blob.lengths[at]!);
    }
  });
  return { bytes: blob.bytes(), entries, steps };
}

/**
 * How a bulk statement's entry and record rows find their run among those its `run` CTE wrote: by the
 * part's index (appends: `run` returns `part`), or by the run id (inserts).
 */
interface BatchKey {
  column: 'part' | 'run_id';
  type: 'int' | 'text';
  /** The run id of a row of alias `a`. */
  runId: (a: string) => string;
  /** What keeps the rows of alias `a` whose run `run` wrote. */
  match: (a: string) => string;
}

const BY_PART: BatchKey = {
  column: 'part',
  type: 'int',
  runId: () => 'run.run_id',
  match: (a) => `JOIN run ON run.part = ${a}.part`,
};

const BY_RUN_ID: BatchKey = {
  column: 'run_id',
  type: 'text',
  runId: (a) => `${a}.run_id`,
  match: (a) => `WHERE ${a}.run_id IN (SELECT run_id FROM run)`,
};

/** The CTEs `entries` and `steps` of a bulk statement: its parts' rows of journal_batches and step_batches. */
function batchInserts(s: string, params: Params, packed: PackedBatches<unknown>, by: BatchKey): string {
  const bytes = `${params.add(packed.bytes)}::bytea`;
  const { entries, steps } = packed;
  return `entries AS (
      INSERT INTO ${s}.journal_batches (run_id, last_seq, first_seq, packed)
      SELECT ${by.runId('e')}, e.last, e.first, ${bytesSql(bytes, 'e.off', 'e.len')}
      FROM unnest(${params.add(entries.key)}::${by.type}[], ${params.add(entries.last)}::int[], ${params.add(entries.first)}::int[], ${params.add(entries.off)}::int[], ${params.add(entries.len)}::int[]) AS e(${by.column}, last, first, off, len)
      ${by.match('e')}
    ), steps AS (
      INSERT INTO ${s}.step_batches (run_id, packed)
      SELECT ${by.runId('t')}, ${bytesSql(bytes, 't.off', 't.len')}
      FROM unnest(${params.add(steps.key)}::${by.type}[], ${params.add(steps.off)}::int[], ${params.add(steps.len)}::int[]) AS t(${by.column}, off, len)
      ${by.match('t')}
    )`;
}
