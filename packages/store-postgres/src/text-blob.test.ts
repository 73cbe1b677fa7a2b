/**
 * The long texts of a group's statement travel as one bytea (text-blob.ts): offsets are bytes, so every
 * text must come back exactly — multibyte characters, astral ones, escaped lone surrogates and NULs in
 * JSON — through appendJournals (bulk appends to existing runs and bulk inserts of new runs alike).
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fcRuns } from '../../core/src/test-support/fc.js';
import type { PostgresStore } from './postgres-store.js';
import { expectTextsRoundTrip } from './test-support/bulk.js';
import { closeAndDrop, describeWithPostgres, testStore } from './test-support/db.js';
import { TextBlob } from './text-blob.js';

describe('TextBlob', () => {
  it('finds every text by its 1-based byte offset and byte length', () => {
    fc.assert(
      fc.property(fc.array(fc.string({ unit: 'binary', maxLength: 20 }), { maxLength: 10 }), (texts) => {
        const blob = new TextBlob();
        const indexes = texts.map((text) => blob.add(text));
        const bytes = blob.bytes();
        indexes.forEach((index, i) => {
          const start = blob.offsets[index]! - 1;
          const text = bytes.subarray(start, start + blob.lengths[index]!).toString('utf8');
          expect(text).toBe(Buffer.from(texts[i]!, 'utf8').toString('utf8'));
        });
        expect(bytes.length).toBe(texts.reduce((sum, t) => sum + Buffer.byteLength(t, 'utf8'), 0));
      }),
      { numRuns: fcRuns(100) },
    );
  });
});

/** Text that exercises the byte offsets: multibyte, astral, a lone surrogate and a NUL (both JSON-escaped). */
const text = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 12 }),
  fc.constantFrom('é', '日本語', '🧵🪡', '\ud800', 'a\u0000b', '"\\', ''),
);

describeWithPostgres('group statements carry texts as one bytea', () => {
  let pg: PostgresStore;
  beforeAll(() => {
    pg = testStore();
  });
  afterAll(() => closeAndDrop(pg));

  it('every entry and step record of a group comes back as written', () =>
    expectTextsRoundTrip(pg, text, 'b'));
});
