/** The journal writer: one append per macrotask, in order, never two at once; failures lose nothing. */
import { describe, expect, it } from 'vitest';
import { deferred, tick } from '../test-support/workflows.js';
import {
  type JournalEntry,
  JournalWriter,
  journalData,
  journalEntry,
  RunJournal,
  writerFor,
} from './journal.js';

const entry = (run_id: string, seq: number): JournalEntry => ({
  run_id,
  seq,
  type: 'cancel.requested',
  at: '2026-01-01T00:00:00.000Z',
  reason: `r${seq}`,
});

function owner(writer: JournalWriter, runId: string) {
  const failures: string[] = [];
  return { journal: new RunJournal(runId, writer, (e) => failures.push(e.code)), failures };
}

describe('JournalWriter', () => {
  it('appends everything written within one macrotask in one call, in order', async () => {
    const batches: number[][] = [];
    const writer = new JournalWriter({ append: (entries) => void batches.push(entries.map((e) => e.seq)) });
    const a = owner(writer, 'a');
    const b = owner(writer, 'b');
    writer.write(a.journal, entry('a', 1));
    writer.write(b.journal, entry('b', 1));
    await Promise.resolve();
    writer.write(a.journal, entry('a', 2));
    expect(batches).toEqual([]);
    await tick();
    expect(batches).toEqual([[1, 1, 2]]);
    expect(await a.journal.flushed()).toBe(true);
    writer.write(a.journal, entry('a', 3));
    await tick();
    expect(batches).toEqual([[1, 1, 2], [3]]);
  });

  it('waits for an async append before the next one, and acknowledges runs as their entries land', async () => {
    const gate = deferred();
    const calls: number[][] = [];
    const writer = new JournalWriter({
      append: (entries) => {
        calls.push(entries.map((e) => e.seq));
        return calls.length === 1 ? gate.promise : undefined;
      },
    });
    const a = owner(writer, 'a');
    writer.write(a.journal, entry('a', 1));
    await tick();
    writer.write(a.journal, entry('a', 2));
    await tick();
    expect(calls).toEqual([[1]]);
    let flushed = false;
    void a.journal.flushed().then(() => {
      flushed = true;
    });
    gate.resolve();
    await tick();
    await tick();
    expect(calls).toEqual([[1], [2]]);
    expect(flushed).toBe(true);
  });

  it('a failed append keeps its entries at the head of the queue and tells each run once', async () => {
    let fail = 2;
    const stored: JournalEntry[] = [];
    const writer = new JournalWriter({
      append: async (entries) => {
        if (fail-- > 0) throw new Error('disk full');
        stored.push(...entries);
      },
    });
    const a = owner(writer, 'a');
    writer.write(a.journal, entry('a', 1));
    const first = a.journal.flushed();
    await tick();
    expect(await first).toBe(false);
    expect(a.failures).toEqual(['STORE_ERROR']);
    expect(a.journal.failure?.message).toMatch(/disk full/);
    writer.write(a.journal, entry('a', 2));
    await tick();
    await tick();
    expect(a.failures).toEqual(['STORE_ERROR']);
    writer.write(a.journal, entry('a', 3));
    await tick();
    await tick();
    // No gap: the failed entries went again, first.
    expect(stored.map((e) => e.seq)).toEqual([1, 2, 3]);
    expect(a.journal.pending).toBe(0);
  });

  it('a run that gives up drops its entries; other runs keep theirs', async () => {
    const stored: string[] = [];
    let fail = true;
    const writer = new JournalWriter({
      append: (entries) => {
        if (fail) throw new Error('locked');
        for (const e of entries) stored.push(`${e.run_id}${e.seq}`);
      },
    });
    const a = owner(writer, 'a');
    const b = owner(writer, 'b');
    writer.write(a.journal, entry('a', 1));
    writer.write(b.journal, entry('b', 1));
    await tick();
    writer.drop(a.journal);
    fail = false;
    writer.write(b.journal, entry('b', 2));
    await tick();
    expect(stored).toEqual(['b1', 'b2']);
    expect(await a.journal.flushed()).toBe(true);
  });

  it('an append that never answers counts as failed after the timeout; its late answer is ignored', async () => {
    const late = deferred();
    let calls = 0;
    const writer = new JournalWriter(
      {
        append: () => {
          calls++;
          return calls === 1 ? late.promise : undefined;
        },
      },
      10,
    );
    const a = owner(writer, 'a');
    writer.write(a.journal, entry('a', 1));
    expect(await a.journal.flushed()).toBe(false);
    expect(a.journal.failure?.message).toMatch(/did not answer within 10 ms/);
    late.resolve();
    await tick();
    // Sent again, first, with what came next.
    writer.write(a.journal, entry('a', 2));
    expect(await a.journal.flushed()).toBe(true);
    expect(calls).toBe(2);
  });

  it('a later append that never answers times out too (one guard timer serves every append)', async () => {
    const late = deferred();
    let calls = 0;
    const writer = new JournalWriter(
      {
        append: () => {
          calls++;
          return calls === 2 ? late.promise : Promise.resolve();
        },
      },
      15,
    );
    const a = owner(writer, 'a');
    writer.write(a.journal, entry('a', 1));
    expect(await a.journal.flushed()).toBe(true);
    // The guard armed by the first append is still pending: it must not fail the second early nor
    // forget it when it fires first.
    await new Promise((resolve) => setTimeout(resolve, 5));
    writer.write(a.journal, entry('a', 2));
    expect(await a.journal.flushed()).toBe(false);
    expect(a.journal.failure?.message).toMatch(/did not answer within 15 ms/);
    late.resolve();
    await tick();
    writer.write(a.journal, entry('a', 3));
    expect(await a.journal.flushed()).toBe(true);
    expect(calls).toBe(3);
  });

  it('one writer per sink', () => {
    const sink = { append: () => {} };
    expect(writerFor(sink)).toBe(writerFor(sink));
    expect(writerFor({ append: () => {} })).not.toBe(writerFor(sink));
  });
});

describe('journalData / journalEntry', () => {
  it('split an entry into its columns and JSON data, and put it back', () => {
    const e: JournalEntry = {
      run_id: 'r',
      seq: 4,
      type: 'step.started',
      at: '2026-01-01T00:00:00.000Z',
      key: 'a',
      index: null,
      attempt: 1,
    };
    const data = journalData(e);
    expect(data).toEqual({ key: 'a', index: null, attempt: 1 });
    expect(journalEntry('r', 4, 'step.started', e.at, JSON.parse(JSON.stringify(data)))).toEqual(e);
  });
});
