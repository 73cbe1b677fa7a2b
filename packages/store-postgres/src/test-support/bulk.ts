import type { JournalAppend, JournalBatch, JournalEntry } from '@weft/core/store';
import { at, runFixture, stepFixture } from '@weft/testing/store-contract';
import fc from 'fast-check';
import { expect } from 'vitest';
import { fcRuns } from '../../../core/src/test-support/fc.js';
import type { PostgresStore } from '../postgres-store.js';

/** A RUNNING run `id`, owned by nobody yet. */
export const liveRun = (id: string) =>
  runFixture(id, 'a', 1, { status: 'RUNNING', ended_at: null, result: null });

/**
 * One `appendJournals` call over the runs `${prefix}0`, `${prefix}1`…, one append each with the
 * entries and steps `content(i)`: the runs whose `inserts[i]` is true are inserted by their append
 * (bulk insert), the others exist before it (bulk append). Returns the outcomes.
 */
async function appendHalfInserted(
  pg: PostgresStore,
  prefix: string,
  inserts: readonly boolean[],
  content: (i: number) => Pick<JournalBatch, 'entries' | 'steps'>,
) {
  for (const [i, insert] of inserts.entries()) {
    if (!insert) await pg.insertRun(liveRun(`${prefix}${i}`), { owner_id: 'p1', lease_until: at(100) });
  }
  const appends: JournalAppend[] = inserts.map((insert, i) => ({
    run_id: `${prefix}${i}`,
    ...(insert ? { insert: liveRun(`${prefix}${i}`) } : {}),
    batch: { owner_id: 'p1', now: at(1), lease_until: at(50), ...content(i) },
  }));
  return pg.appendJournals(appends);
}

/**
 * Property: groups of 2 to 5 runs, each appended two entries and two step records made of `text`s
 * (runs `${prefix}<round>-<i>`, half of them inserted by their append), read back as written — as JSON
 * makes of them (a lone surrogate stays one, escaped): the store's round trip.
 */
export async function expectTextsRoundTrip(pg: PostgresStore, text: fc.Arbitrary<string>, prefix: string) {
  let round = 0;
  const json = (value: unknown) => JSON.parse(JSON.stringify(value));
  await fc.assert(
    fc.asyncProperty(
      fc.array(fc.tuple(text, text, fc.boolean()), { minLength: 2, maxLength: 5 }),
      async (parts) => {
        const group = `${prefix}${round++}-`;
        const outcomes = await appendHalfInserted(
          pg,
          group,
          parts.map(([, , insert]) => insert),
          (i) => {
            const [data, output] = parts[i]!;
            return {
              entries: [
                { seq: 1, type: 'x', at: at(1), data, list: [data, output] } as unknown as JournalEntry,
                { seq: 2, type: 'y', at: at(1), list: [data, output] } as unknown as JournalEntry,
              ],
              steps: { s1: stepFixture('s1', { output }), s2: stepFixture('s2', { output: data }) },
            };
          },
        );
        expect(outcomes.every((o) => o.ok)).toBe(true);
        for (const [i, [data, output]] of parts.entries()) {
          const id = `${group}${i}`;
          const [first, second] = (await pg.loadJournal(id)) as unknown as Array<{
            data: unknown;
            list: unknown;
          }>;
          expect(first!.data).toEqual(json(data));
          expect(first!.list).toEqual(json([data, output]));
          expect(second!.list).toEqual(json([data, output]));
          expect(await pg.loadJournal(id, { after_seq: 1 })).toEqual([second]);
          const steps = (await pg.getStepResults([id])).get(id)!;
          expect(steps.s1?.output).toEqual(json(output));
          expect(steps.s2?.output).toEqual(json(data));
        }
      },
    ),
    { numRuns: fcRuns(15) },
  );
}
