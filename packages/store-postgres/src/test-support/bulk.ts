import type { JournalAppend, JournalBatch } from '@weft/core/store';
import { at, runFixture } from '@weft/testing/store-contract';
import type { PostgresStore } from '../postgres-store.js';

/** A RUNNING run `id`, owned by nobody yet. */
export const liveRun = (id: string) =>
  runFixture(id, 'a', 1, { status: 'RUNNING', ended_at: null, result: null });

/**
 * One `appendJournals` call over the runs `${prefix}0`, `${prefix}1`…, one append each with the
 * entries and steps `content(i)`: the runs whose `inserts[i]` is true are inserted by their append
 * (bulk insert), the others exist before it (bulk append). Returns the outcomes.
 */
export async function appendHalfInserted(
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
