/**
 * The `packed` encoding of a journal_batches or step_batches row (migration 6): the row's JSON text as
 * `bytea`, deflated by the worker when it is long. PostgreSQL stores the value as it is (the column is
 * STORAGE EXTERNAL: never compressed again), so the database neither spends the CPU of compressing a long
 * text (pglz) nor writes its uncompressed bytes to the heap and the WAL — the work moves to the workers,
 * which scale out, away from the database, which all of them share (W12, docs/performance.md).
 *
 *   byte 0       the format: 0 = the text's UTF-8 as it is; 1 = raw DEFLATE (RFC 1951) of the UTF-8
 *   bytes 1–4    (format 1 only) the length of the text's UTF-8, big-endian
 *   the rest     the bytes
 *
 * Only texts of PACK_MIN_BYTES or more are deflated: those are the ones PostgreSQL compressed (a row of
 * about 2 kB or more is TOASTed — pglz — before it is stored). A shorter one PostgreSQL stored as it was,
 * so deflating it would only save WAL bytes, which cost the database little, for a zlib call (~25–50 µs,
 * mostly fixed) on the worker: measured, a loss (docs/performance.md, W12 fourth pass). A text longer
 * than MAX_UNPACKED_BYTES is stored as it is too (see below).
 *
 * A packed value read back is outside data: a format-1 value says how long its text is, and is inflated
 * with that length as the bound (`maxOutputLength`) — never more than MAX_UNPACKED_BYTES, whatever the
 * bytes say — so a damaged value costs at most that much memory, and is STORE_CORRUPT, naming the run
 * and the table.
 */
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import { ERROR_CODES, WeftError } from '@weft/core';

export const PACK_FORMAT = { utf8: 0, deflateRaw: 1 } as const;

/**
 * Texts shorter than this (UTF-8 bytes) are stored as they are (format 0): PostgreSQL would not have
 * compressed their row either (TOAST_TUPLE_THRESHOLD, 2,032 bytes for the whole row).
 */
export const PACK_MIN_BYTES = 2000;

/**
 * The longest text (UTF-8 bytes) a format-1 value may hold: 64 MiB. A longer text is written as format 0
 * (its size then bounded by what PostgreSQL returned, not by what its bytes claim).
 */
export const MAX_UNPACKED_BYTES = 64 * 1024 * 1024;

/**
 * DEFLATE level 1, the fastest, with a 4 kB window and a small hash (windowBits 12, memLevel 4): W12's
 * 2.9 kB of entries become 475 bytes either way (453 at level 6, for ~15% more CPU), and zlib allocates
 * ~30 kB a call instead of ~260 kB — a call's cost is mostly fixed (~25–40 µs on this machine), and
 * the big allocations made the worker's CPU per run vary more. (A journal's repetitions — the keys of
 * consecutive entries — are near each other.) Inflating needs no setting: any window up to 32 kB is read.
 */
export const PACK_OPTIONS = { level: 1, windowBits: 12, memLevel: 4 } as const;

const HEADER = 5;

/** A text's packed value. */
export function pack(text: string): Buffer {
  const length = Buffer.byteLength(text, 'utf8');
  if (length < PACK_MIN_BYTES || length > MAX_UNPACKED_BYTES) {
    const out = Buffer.allocUnsafe(1 + length);
    out[0] = PACK_FORMAT.utf8;
    out.write(text, 1, 'utf8');
    return out;
  }
  const deflated = deflateRawSync(Buffer.from(text, 'utf8'), PACK_OPTIONS);
  const out = Buffer.allocUnsafe(HEADER + deflated.length);
  out[0] = PACK_FORMAT.deflateRaw;
  out.writeUInt32BE(length, 1);
  deflated.copy(out, HEADER);
  return out;
}

/** Where a packed value was read from, for the error that says it is corrupt. */
export interface PackedSource {
  table: 'journal_batches' | 'step_batches';
  run_id: string;
  /** The row: `last_seq` of a journal_batches row, `pos` of a step_batches row. */
  row?: string | number | undefined;
}

/** The text of a packed value; STORE_CORRUPT when it is not what `pack` writes. */
export function unpack(value: Buffer, source: PackedSource, limit = MAX_UNPACKED_BYTES): string {
  if (value.length === 0) throw corruptRow(source, 'it is empty');
  const format = value[0];
  if (format === PACK_FORMAT.utf8) return value.toString('utf8', 1);
  if (format !== PACK_FORMAT.deflateRaw) throw corruptRow(source, `its format byte is ${format}, not 0 or 1`);
  if (value.length < HEADER) throw corruptRow(source, 'it ends inside its header');
  const length = value.readUInt32BE(1);
  if (length > limit) {
    throw corruptRow(
      source,
      `it says its text has ${length} bytes, more than the ${limit} a packed text may have`,
    );
  }
  let text: Buffer;
  try {
    text = inflateRawSync(value.subarray(HEADER), { maxOutputLength: Math.max(length, 1) });
  } catch (error) {
    throw corruptRow(
      source,
      `its DEFLATE data is invalid or longer than it says (${(error as Error).message})`,
    );
  }
  if (text.length !== length) {
    throw corruptRow(source, `its DEFLATE data gives ${text.length} bytes, not the ${length} it says`);
  }
  return text.toString('utf8');
}

/** STORE_CORRUPT: the row of `source` is not what this store writes (`why` says how). */
export function corruptRow(source: PackedSource, why: string): WeftError {
  const key = source.table === 'journal_batches' ? 'last_seq' : 'pos';
  const row = source.row === undefined ? '' : ` (${key} ${source.row})`;
  return new WeftError(
    ERROR_CODES.STORE_CORRUPT,
    `The ${source.table} row of run "${source.run_id}"${row} is corrupt: ${why}. It was changed outside Weft or damaged; restore it from a backup, or delete the run.`,
    { details: { table: source.table, run_id: source.run_id, row: source.row ?? null }, retryable: false },
  );
}
