/**
 * Group commit against the reference: random groups of appends — several to one run, inserts, wrong
 * owners, gaps, ended runs, run patches of every RunPatch field (the bulk statement's masks), step
 * records — give PostgreSQL (statements of appends of distinct runs, in waves) the same outcomes, leases,
 * journals, run rows and step records as the memory store (one append after the other).
 */
import { MemoryStore } from '@weft/core';
import type { JournalAppend, JournalEntry, WeftStore } from '@weft/core/store';
import { at, runFixture, stepFixture } from '@weft/testing/store-contract';
import fc from 'fast-check';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { fcRuns } from '../../core/src/test-support/fc.js';
import type { PostgresStore } from './postgres-store.js';
import { closeAndDrop, describeWithPostgres, testStore } from './test-support/db.js';

const RUNS = ['a', 'b', 'c', 'd'];

interface Op {
  run: string;
  owner: string;
  /** 0: the right next seq; otherwise off by this much. */
  skew: number;
  count: number;
  end: boolean;
  insert: boolean;
  /** Which RunPatch fields the batch sets (besides an end). */
  patch: Array<'result' | 'error' | 'usage' | 'retention' | 'updated_at' | 'started_at'>;
  /** Step keys whose records the batch upserts. */
  steps: string[];
  /** Whether the batch extends the lease. */
  lease: boolean;
}

const op: fc.Arbitrary<Op> = fc.record({
  run: fc.constantFrom(...RUNS, 'new1', 'new2'),
  owner: fc.constantFrom('p1', 'p1', 'p1', 'p2'),
  skew: fc.constantFrom(0, 0, 0, 0, 1, -1),
  count: fc.integer({ min: 0, max: 3 }),
  end: fc.boolean(),
  insert: fc.boolean(),
  patch: fc.subarray(['result', 'error', 'usage', 'retention', 'updated_at', 'started_at'] as const),
  steps: fc.subarray(['s1', 's2', 's3']),
  lease: fc.boolean(),
});

/** The patch an op asks for; `n` makes values differ between ops. */
function patchOf(o: Op, n: number) {
  const patch: Record<string, unknown> = {};
  for (const field of o.patch) {
    if (field === 'result') patch.result = n % 2 === 0 ? `r${n}` : { n, list: [n, 'x'] };
    if (field === 'error') patch.error = { code: 'X', message: `e${n}` };
    if (field === 'usage') patch.usage = { total: n, calls: [{ id: `c${n}`, total: n }], steps: {} };
    if (field === 'retention')
      patch.retention = n % 3 === 0 ? null : { max_age_in_seconds: n, preserve_on_failure: n % 2 === 0 };
    if (field === 'updated_at') patch.updated_at = at(n);
    if (field === 'started_at') patch.started_at = at(n);
  }
  return patch;
}

describeWithPostgres('group commit, PostgreSQL against the memory store', () => {
  let pg: PostgresStore;
  beforeAll(() => {
    pg = testStore();
  });
  afterAll(() => closeAndDrop(pg));

  it('random groups: the same outcomes, leases and journals', async () => {
    let round = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.array(op, { minLength: 1, maxLength: 12 }), { minLength: 1, maxLength: 4 }),
        async (groups) => {
          const prefix = `g${round++}-`;
          const memory = new MemoryStore();
          const stores: WeftStore[] = [memory, pg];
          const live = (id: string) =>
            runFixture(prefix + id, 'a', 1, { status: 'RUNNING', ended_at: null, result: null });
          for (const store of stores) {
            for (const id of RUNS) await store.insertRun(live(id), { owner_id: 'p1', lease_until: at(100) });
          }
          // The seq each run expects next, as the memory store has it (the reference).
          for (const group of groups) {
            const expected = new Map<string, number>();
            const appends: JournalAppend[] = [];
            for (const o of group) {
              const id = prefix + o.run;
              const base = expected.get(id) ?? (await memory.getLease(id))?.journal_seq ?? 0;
              const first = Math.max(1, base + 1 + o.skew);
              expected.set(id, base + o.count);
              appends.push({
                run_id: id,
                ...(o.insert ? { insert: live(o.run) } : {}),
                batch: {
                  owner_id: o.owner,
                  now: at(1),
                  // An insert needs the lease; otherwise the batch may leave it as it is.
                  ...(o.lease || o.insert ? { lease_until: at(50 + appends.length) } : {}),
                  ...(o.steps.length > 0
                    ? {
                        steps: Object.fromEntries(
                          o.steps.map((key) => [key, stepFixture(key, { output: { n: appends.length } })]),
                        ),
                      }
                    : {}),
                  entries: Array.from(
                    { length: o.count },
                    (_, i) => ({ seq: first + i, type: 'x', at: at(1), o: o.run }) as unknown as JournalEntry,
                  ),
                  run: {
                    ...patchOf(o, appends.length + 1),
                    ...(o.end ? { status: 'COMPLETED' as const, ended_at: at(1) } : {}),
                  },
                },
              });
            }
            const [want, got] = await Promise.all(stores.map((s) => s.appendJournals(appends)));
            const codes = (outcomes: typeof want) => outcomes!.map((o) => (o.ok ? o.lease : o.error.code));
            expect(codes(got), JSON.stringify(group)).toEqual(codes(want));
          }
          for (const id of [...RUNS, 'new1', 'new2']) {
            expect(await pg.getLease(prefix + id)).toEqual(await memory.getLease(prefix + id));
            expect(await pg.loadJournal(prefix + id)).toEqual(await memory.loadJournal(prefix + id));
            expect(await pg.getRun(prefix + id)).toEqual(await memory.getRun(prefix + id));
            const [want, got] = await Promise.all(stores.map((s) => s.getStepResults([prefix + id])));
            expect(got).toEqual(want);
            // And in the same order (first saved first), which toEqual does not check.
            expect(Object.keys(got!.get(prefix + id)!)).toEqual(Object.keys(want!.get(prefix + id)!));
          }
        },
      ),
      { numRuns: fcRuns(30) },
    );
  });
});
