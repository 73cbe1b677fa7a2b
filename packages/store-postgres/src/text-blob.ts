/**
 * Long values of one statement (a group's journal entries and step records) as ONE `bytea` parameter:
 * their bytes one after another, each found again in SQL by its byte offset and length —
 * `substring($blob FROM off FOR len)` (bytesSql). Since migration 6 they are packed values (packed.ts),
 * inserted into `bytea` columns as they are; a text would be `convert_from(…, 'UTF8')` of its UTF-8
 * (textSql), which checks the encoding as a text parameter would.
 *
 * Why not a `text[]` (or `bytea[]`) parameter: node-postgres escapes every element of an array (a regular
 * expression pass over each character of each text), and PostgreSQL parses the array back character by
 * character (`array_in`). For a group's JSON, several kB a run, that was a tenth of the statement's CPU
 * on each side (W12, docs/performance.md). A Buffer parameter is sent as binary and received by `bytea`
 * as it is.
 */
export class TextBlob {
  readonly #chunks: Buffer[] = [];
  #bytes = 0;
  /** 1-based byte offsets of the texts added, in order (SQL's `substring` counts from 1). */
  readonly offsets: number[] = [];
  /** Byte lengths of the texts added, in order. */
  readonly lengths: number[] = [];

  /** Adds a text; returns its index (into `offsets` and `lengths`). */
  add(text: string): number {
    return this.addBytes(Buffer.from(text, 'utf8'));
  }

  /** Adds bytes (a packed value, packed.ts); returns their index (into `offsets` and `lengths`). */
  addBytes(chunk: Buffer): number {
    this.#chunks.push(chunk);
    this.offsets.push(this.#bytes + 1);
    this.lengths.push(chunk.length);
    this.#bytes += chunk.length;
    return this.offsets.length - 1;
  }

  /** The parameter: every text's bytes, in the order they were added. */
  bytes(): Buffer {
    return Buffer.concat(this.#chunks, this.#bytes);
  }
}

/** SQL for the bytes of one part of a blob: `blob` a bytea parameter, `offset` and `length` int expressions. */
export function bytesSql(blob: string, offset: string, length: string): string {
  return `substring(${blob} FROM ${offset} FOR ${length})`;
}

/** SQL for one text of a blob: `blob` a bytea parameter, `offset` and `length` int expressions. */
export function textSql(blob: string, offset: string, length: string): string {
  return `convert_from(substring(${blob} FROM ${offset} FOR ${length}), 'UTF8')`;
}
