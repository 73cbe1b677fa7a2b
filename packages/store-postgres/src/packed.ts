/**
 * The `packed` encoding of a journal_batches or step_batches row (migration 6): the row's JSON text,
 * compressed by the worker, as `bytea`. PostgreSQL stores it as it is (the column is STORAGE EXTERNAL:
 * it never tries to compress it again), so the database neither spends the CPU of compressing nor writes
 * (heap and WAL) the bytes of an uncompressed text — the work moves to the workers, which scale out,
 * away from the database, which all of them share (W12, docs/performance.md).
 *
 *   byte 0       the format: 0 = the text's UTF-8 as it is; 1 = raw DEFLATE (RFC 1951) of the UTF-8
 *   bytes 1–4    (format 1 only) the length of the text's UTF-8, big-endian
 *   the rest     the bytes
 *
 * A text shorter than PACK_MIN_BYTES is not worth the worker's time (DEFLATE saves little on a few
 * hundred bytes), nor one longer than MAX_UNPACKED_BYTES (see below): both are stored as format 0.
 *
 * A packed value read back is outside data: a format-1 value says how long its text is, and is inflated
 * with that length as the bound (`maxOutputLength`) — never more than MAX_UNPACKED_BYTES, whatever the
 * bytes say — so a corrupt value costs at most that much memory, and is STORE_CORRUPT, naming the run
 * and the table.
 */
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import { ERROR_CODES, WeftError } from '@weft/core';

export const PACK_FORMAT = { utf8: 0, deflateRaw: 1 } as const;

/** Texts shorter than this (UTF-8 bytes) are stored as they are (format 0). */
export const PACK_MIN_BYTES = 200;

/**
 * The longest text (UTF-8 bytes) a format-1 value may hold: 64 MiB. A longer text is written as format 0
 * (its size then bounded by what PostgreSQL returned, not by what its bytes claim).
 */
export const MAX_UNPACKED_BYTES = 64 * 1024 * 1024;

/** DEFLATE level: 1, the fastest; JSON of a run's journal compresses nearly as well as at 6. */
export const PACK_LEVEL = 1;

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
  const deflated = deflateRawSync(Buffer.from(text, 'utf8'), { level: PACK_LEVEL });
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
  if (value.length === 0) throw corrupt(source, 'it is empty');
  const format = value[0];
  if (format === PACK_FORMAT.utf8) return value.toString('utf8', 1);
  if (format !== PACK_FORMAT.deflateRaw) throw corrupt(source, `its format byte is ${format}, not 0 or 1`);
  if (value.length < HEADER) throw corrupt(source, 'it ends inside its header');
  const length = value.readUInt32BE(1);
  if (length > limit) {
    throw corrupt(
      source,
      `it says its text has ${length} bytes, more than the ${limit} a packed text may have`,
    );
  }
  let text: Buffer;
  try {
    text = inflateRawSync(value.subarray(HEADER), { maxOutputLength: Math.max(length, 1) });
  } catch (error) {
    throw corrupt(source, `its DEFLATE data is invalid or longer than it says (${(error as Error).message})`);
  }
  if (text.length !== length) {
    throw corrupt(source, `its DEFLATE data gives ${text.length} bytes, not the ${length} it says`);
  }
  return text.toString('utf8');
}

function corrupt(source: PackedSource, why: string): WeftError {
  const row =
    source.row === undefined
      ? ''
      : ` (${source.table === 'journal_batches' ? 'last_seq' : 'pos'} ${source.row})`;
  return new WeftError(
    ERROR_CODES.STORE_CORRUPT,
    `A packed value of run "${source.run_id}" in ${source.table}${row} is corrupt: ${why}. The row was changed outside Weft or damaged; restore it from a backup, or delete the run.`,
    { details: { table: source.table, run_id: source.run_id, row: source.row ?? null }, retryable: false },
  );
}
