/**
 * The packed encoding of journal and step rows (packed.ts): every text comes back as written (multibyte,
 * astral, lone surrogates as JSON escapes them, NUL); a damaged value is STORE_CORRUPT naming the run and
 * the table, within a bounded amount of memory — never a crash. Then through PostgreSQL: bulk appends
 * and inserts of long texts, and rows damaged in the database.
 */
import { deflateRawSync } from 'node:zlib';
import type { JournalEntry } from '@weft/core/store';
import { at, stepFixture } from '@weft/testing/store-contract';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fcRuns } from '../../core/src/test-support/fc.js';
import {
  MAX_UNPACKED_BYTES,
  PACK_FORMAT,
  PACK_MIN_BYTES,
  type PackedSource,
  pack,
  unpack,
} from './packed.js';
import type { PostgresStore } from './postgres-store.js';
import { expectTextsRoundTrip, liveRun } from './test-support/bulk.js';
import { adminPool, closeAndDrop, describeWithPostgres, testStore } from './test-support/db.js';

const source: PackedSource = { table: 'journal_batches', run_id: 'run_1', row: 7 };

/** Texts of every kind and length, short ones (stored as they are) and long ones (deflated) alike. */
const texts = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.string({ unit: 'binary', minLength: 400, maxLength: 3000 }),
  fc
    .tuple(
      fc.constantFrom('é', '日本語', '🧵🪡', '\ud800', 'a\u0000b', '"\\', '{"type":"step.completed"}'),
      fc.nat(1000),
    )
    .map(([t, n]) => t.repeat(n)),
);

function corruptOf(value: Buffer): unknown {
  try {
    unpack(value, source);
  } catch (error) {
    return error;
  }
  return undefined;
}

describe('pack and unpack', () => {
  it('give back every text as its UTF-8 says (a lone surrogate becomes U+FFFD, as any UTF-8 store does)', () => {
    fc.assert(
      fc.property(texts, (text) => {
        const packed = pack(text);
        const bytes = Buffer.byteLength(text, 'utf8');
        expect(packed[0]).toBe(bytes < PACK_MIN_BYTES ? PACK_FORMAT.utf8 : PACK_FORMAT.deflateRaw);
        expect(unpack(packed, source)).toBe(Buffer.from(text, 'utf8').toString('utf8'));
      }),
      { numRuns: fcRuns(300) },
    );
  });

  it('texts of well-formed JSON come back exactly', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        const text = JSON.stringify(value);
        expect(unpack(pack(text), source)).toBe(text);
      }),
      { numRuns: fcRuns(200) },
    );
  });

  it('JSON of a journal deflates: under half its size', () => {
    const text = JSON.stringify(
      Array.from({ length: 40 }, (_, i) => ['step.completed', at(i), { key: `step_${i}`, output: { n: i } }]),
    );
    expect(pack(text).length).toBeLessThan(Buffer.byteLength(text) / 2);
  });

  it('a damaged value is STORE_CORRUPT naming the run, the table and the row — never a crash', () => {
    const good = pack('x'.repeat(PACK_MIN_BYTES));
    const claims = (length: number, deflated: Buffer) => {
      const out = Buffer.alloc(5 + deflated.length);
      out[0] = PACK_FORMAT.deflateRaw;
      out.writeUInt32BE(length, 1);
      deflated.copy(out, 5);
      return out;
    };
    const cases: Array<[string, Buffer, RegExp]> = [
      ['empty', Buffer.alloc(0), /is empty/],
      ['an unknown format', Buffer.from([7, 1, 2]), /format byte is 7/],
      ['a cut header', good.subarray(0, 3), /ends inside its header/],
      ['cut DEFLATE data', good.subarray(0, good.length - 4), /DEFLATE data is invalid/],
      ['garbage', Buffer.concat([good.subarray(0, 5), Buffer.from('not deflate at all')]), /DEFLATE data/],
      // A small value that inflates to far more than it says: stopped at what it says.
      ['a bomb', claims(10, deflateRawSync(Buffer.alloc(8 * 1024 * 1024))), /longer than it says/],
      ['too short', claims(2000, deflateRawSync(Buffer.alloc(100))), /gives 100 bytes, not the 2000/],
      ['a claim over the bound', claims(MAX_UNPACKED_BYTES + 1, Buffer.alloc(0)), /more than the 67108864/],
    ];
    for (const [what, value, message] of cases) {
      const error = corruptOf(value) as { code: string; message: string; details: unknown };
      expect(error, what).toMatchObject({
        code: 'STORE_CORRUPT',
        details: { table: 'journal_batches', run_id: 'run_1', row: 7 },
        retryable: false,
      });
      expect(error.message, what).toMatch(message);
      expect(error.message, what).toContain('The journal_batches row of run "run_1" (last_seq 7) is corrupt');
    }
  });

  it('arbitrary bytes: a text or STORE_CORRUPT, nothing else', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), fc.boolean(), (bytes, deflated) => {
        const value = Buffer.from(bytes);
        if (deflated && value.length > 0) value[0] = PACK_FORMAT.deflateRaw;
        try {
          expect(typeof unpack(value, source, 4096)).toBe('string');
        } catch (error) {
          expect(error).toMatchObject({ code: 'STORE_CORRUPT' });
        }
      }),
      { numRuns: fcRuns(500) },
    );
  });
});

/** Text that exercises the packing: multibyte, astral, a lone surrogate and a NUL (JSON-escaped), long. */
const text = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 12 }),
  fc.string({ unit: 'binary', minLength: 500, maxLength: 1500 }),
  fc
    .tuple(fc.constantFrom('é', '日本語', '🧵🪡', '\ud800', 'a\u0000b', '"\\', ''), fc.nat(1000))
    .map(([t, n]) => t.repeat(n)),
);

describeWithPostgres('packed rows in PostgreSQL', () => {
  let pg: PostgresStore;
  beforeAll(() => {
    pg = testStore();
  });
  afterAll(() => closeAndDrop(pg));

  it('every entry and step record of a bulk append or insert comes back as written', () =>
    expectTextsRoundTrip(pg, text, 'p'));

  it('new rows are packed (deflated from PACK_MIN_BYTES on), the text columns NULL; saveStepResult and purges too', async () => {
    await pg.insertRun(liveRun('fresh'), { owner_id: 'p1', lease_until: at(100) });
    await pg.appendJournal('fresh', {
      owner_id: 'p1',
      now: at(1),
      entries: [
        { seq: 1, type: 'x', at: at(1), note: 'n'.repeat(PACK_MIN_BYTES) } as unknown as JournalEntry,
      ],
      steps: { s: stepFixture('s') },
    });
    await pg.appendJournal('fresh', {
      owner_id: 'p1',
      now: at(1),
      entries: [{ seq: 2, type: 'y', at: at(1) } as unknown as JournalEntry],
    });
    await pg.saveStepResult('fresh', 't', stepFixture('t', { output: 'o'.repeat(PACK_MIN_BYTES) }));
    const s = `"${pg.schema}"`;
    const formats = async (table: string, key: string) =>
      (
        await adminPool().query(
          `SELECT ${table === 'journal_batches' ? 'entries' : 'records'} AS text, get_byte(packed, 0) AS format
           FROM ${s}.${table} WHERE run_id = 'fresh' ORDER BY ${key}`,
        )
      ).rows;
    const { utf8, deflateRaw } = PACK_FORMAT;
    expect(await formats('journal_batches', 'last_seq')).toEqual([
      { text: null, format: deflateRaw },
      { text: null, format: utf8 },
    ]);
    expect(await formats('step_batches', 'pos')).toEqual([
      { text: null, format: utf8 },
      { text: null, format: deflateRaw },
    ]);
    const before = (await pg.getStepResults(['fresh'])).get('fresh')!;
    expect(before.t?.output).toBe('o'.repeat(PACK_MIN_BYTES));
    await pg.appendJournal('fresh', {
      owner_id: 'p1',
      now: at(2),
      entries: [{ seq: 3, type: 'z', at: at(2) } as unknown as JournalEntry],
      run: { status: 'COMPLETED', ended_at: at(2) },
    });
    await pg.purgeRun('fresh', at(3));
    expect(await formats('step_batches', 'pos')).toEqual([{ text: null, format: utf8 }]);
    expect(Object.keys((await pg.getStepResults(['fresh'])).get('fresh')!)).toEqual(['s', 't']);
  });

  it('a row damaged in the database: STORE_CORRUPT naming the run and the table; other runs read on', async () => {
    for (const id of ['bad', 'good']) {
      await pg.insertRun(liveRun(id), { owner_id: 'p1', lease_until: at(100) });
      await pg.appendJournal(id, {
        owner_id: 'p1',
        now: at(1),
        entries: [{ seq: 1, type: 'x', at: at(1), note: 'n'.repeat(3000) } as unknown as JournalEntry],
        steps: { s: stepFixture('s', { output: 'o'.repeat(3000) }) },
      });
    }
    const s = `"${pg.schema}"`;
    // The deflated bytes cut short, the header kept.
    for (const table of ['journal_batches', 'step_batches']) {
      await adminPool().query(
        `UPDATE ${s}.${table} SET packed = substring(packed FROM 1 FOR 9) WHERE run_id = 'bad'`,
      );
    }
    await expect(pg.loadJournal('bad')).rejects.toMatchObject({
      code: 'STORE_CORRUPT',
      details: { table: 'journal_batches', run_id: 'bad', row: 1 },
    });
    await expect(pg.getStepResults(['good', 'bad'])).rejects.toMatchObject({
      code: 'STORE_CORRUPT',
      details: { table: 'step_batches', run_id: 'bad' },
    });
    expect(await pg.loadJournal('good')).toHaveLength(1);
    expect((await pg.getStepResults(['good'])).get('good')?.s?.output).toBe('o'.repeat(3000));
    // A short row (stored as it is) whose JSON was damaged, and one that is not an array.
    await adminPool().query(`UPDATE ${s}.journal_batches SET packed = '\\x005b5b2278' WHERE run_id = 'bad'`);
    await expect(pg.loadJournal('bad')).rejects.toMatchObject({
      code: 'STORE_CORRUPT',
      message: expect.stringMatching(
        /journal_batches row of run "bad" \(last_seq 1\) is corrupt: its JSON is invalid/,
      ),
    });
    await adminPool().query(`UPDATE ${s}.step_batches SET packed = '\\x007b7d' WHERE run_id = 'bad'`);
    await expect(pg.getStepResults(['bad'])).rejects.toMatchObject({
      code: 'STORE_CORRUPT',
      message: expect.stringMatching(
        /step_batches row of run "bad" \(pos \d+\) is corrupt: its JSON is not an array/,
      ),
    });
    // A row with neither encoding cannot be written (the table's check).
    await expect(
      adminPool().query(`UPDATE ${s}.journal_batches SET packed = NULL WHERE run_id = 'bad'`),
    ).rejects.toThrow(/journal_batches_one_encoding/);
  });
});
