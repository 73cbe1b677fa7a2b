/**
 * The registry's journal sink: every run of the registry's engine writes its journal here, and each
 * macrotask's entries become ONE `appendJournals` call (group commit) — per run, its entries together
 * with the projections they imply (docs/durability.md, "How the engine uses it"):
 *
 * - a run's first batch inserts its row, owned by this Weft until now + the lease;
 * - every batch carries the records of the steps that settled since the last one, and extends the lease;
 * - the batch with `run.ended` carries the run's final fields (which releases the lease).
 *
 * The projections are read from the run's state when the batch is handed over, which is exactly the
 * state its entries lead to (the writer calls `append` between two macrotasks); the one entry written
 * ahead of its decision, `run.ended`, supplies the final status and time itself.
 *
 * A refused append stops only its run: LEASE_LOST (another process owns it now, or it ended elsewhere)
 * abandons the local execution, whose outcome is then the store's — a run the store says CANCELLED ends
 * CANCELLED here too, with the reason its row records (recorder.ts); any other refusal ends it FAILED with
 * STORE_ERROR. A store that fails (the call rejects) fails every run of the batch through the writer,
 * which sends the entries again with the next batch.
 */
import { ERROR_CODES, ensureWeftError, WeftError } from '../errors.js';
import { STEP } from '../lifecycle/lifecycle.js';
import type { JournalEntry, JournalSink, RunEndedEntry } from '../run/journal.js';
import { computeRetentionDueAt } from '../run/retention.js';
import type { StepRecord } from '../run/types.js';
import { type JournalAppend, type JournalBatch, MAX_GROUP_APPENDS } from '../store/journal.js';
import type { WeftStore } from '../store/store.js';
import type { RunPatch, RunRow } from '../store/types.js';
import type { Ownership } from './owner.js';
import type { Tracker } from './tracker.js';

export interface SinkHost {
  readonly store: WeftStore;
  readonly owner: Ownership;
  /** The tracker of a run whose entries arrived, or null when the run is not the registry's (no app). */
  trackerFor(runId: string): Tracker | null;
  /**
   * The store refused the run's append for good (not a failure of the store itself). A promise: the run's
   * outcome needs a read first (its row was cancelled elsewhere) — the batch is answered after it, so that
   * the run cannot end here meanwhile (its entries wait to be acknowledged).
   */
  refused(tracker: Tracker, error: WeftError): Promise<void> | undefined;
}

/** One run's part of a batch, computed synchronously when the batch is handed over. */
interface Part {
  tracker: Tracker;
  entries: JournalEntry[];
  /** The run's fields (redacted), when they are written: the insert, or the end. */
  fields: RunRow | null;
  end: RunEndedEntry | null;
  /**
   * The run's row exists already and this batch begins it (its `run.started`): a run a client enqueued
   * (PENDING, no start time) that a worker now executes — its row says RUNNING from this batch on.
   */
  begun: string | null;
  steps: Record<string, StepRecord> | undefined;
  /** Pairs (step index, status) now stored, applied to `tracker.sent` once the store has them. */
  marks: number[];
  /** The row this append inserts, and the fields it ends the run with (set when the append is made). */
  insertRow: RunRow | null;
  endRow: RunRow | null;
}

const SETTLED = new Uint8Array(8);
for (const s of [STEP.COMPLETED, STEP.FAILED, STEP.CANCELLED, STEP.SKIPPED]) SETTLED[s] = 1;

export class StoreJournal implements JournalSink {
  readonly #host: SinkHost;

  constructor(host: SinkHost) {
    this.#host = host;
  }

  append(entries: readonly JournalEntry[]): Promise<void> | undefined {
    // Synchronous until every part is computed: the runs' state must be read before anything awaits.
    const parts: Part[] = [];
    // Entries of several runs interleave: one part per run, in the order of their first entries.
    const byRun = new Map<string, Part | null>();
    let i = 0;
    while (i < entries.length) {
      const runId = entries[i]!.run_id;
      let j = i + 1;
      while (j < entries.length && entries[j]!.run_id === runId) j++;
      let part = byRun.get(runId);
      if (part === undefined) {
        const tracker = this.#host.trackerFor(runId);
        // A run lost to another owner (or cancelled elsewhere) writes nothing more: its entries are let go.
        part = tracker === null || tracker.lost ? null : ({ tracker, entries: [] as JournalEntry[] } as Part);
        byRun.set(runId, part);
        if (part !== null) parts.push(part);
      }
      if (part !== null) for (let k = i; k < j; k++) part.entries.push(entries[k]!);
      i = j;
    }
    if (parts.length === 0) return undefined;
    for (const part of parts) project(part);
    return this.#write(parts);
  }

  async #write(parts: Part[]): Promise<void> {
    const { store, owner } = this.#host;
    let retentions: Promise<void>[] | null = null;
    for (const part of parts) {
      if (part.tracker.retention === undefined) {
        retentions ??= [];
        retentions.push(part.tracker.retained);
      }
    }
    if (retentions !== null) await Promise.all(retentions);
    if (owner.stale()) {
      // The process was paused past its heartbeat: renew before appending, so that a lease that lapsed
      // while nobody took it over does not fail the runs (one that was taken over fails them below).
      const held = parts.filter((p) => p.tracker.inserted).map((p) => p.tracker.id);
      if (held.length > 0) await store.renewLeases(owner.id, owner.until(), held).catch(() => undefined);
    }
    const now = owner.now();
    const until = owner.until();
    let reads: Promise<void>[] | null = null;
    for (let start = 0; start < parts.length; start += MAX_GROUP_APPENDS) {
      const chunk = parts.length <= MAX_GROUP_APPENDS ? parts : parts.slice(start, start + MAX_GROUP_APPENDS);
      for (const part of chunk) if (part.end !== null) part.tracker.endSent = true;
      let outcomes: Awaited<ReturnType<WeftStore['appendJournals']>>;
      try {
        outcomes = await store.appendJournals(chunk.map((part) => appendOf(part, owner.id, now, until)));
      } catch (error) {
        for (const part of chunk) part.tracker.endSent = false;
        // Nothing of this chunk was written. The first: the writer fails the batch and sends it again.
        if (start === 0) throw error;
        if (reads !== null) await Promise.all(reads);
        // A later chunk, after earlier ones committed: those runs alone end FAILED (STORE_ERROR).
        for (const rest of parts.slice(start)) rest.tracker.runner.abandon(storeErrorOf(error));
        return;
      }
      for (let k = 0; k < chunk.length; k++) {
        const part = chunk[k]!;
        const outcome = outcomes[k];
        const tracker = part.tracker;
        if (outcome?.ok === true) {
          tracker.inserted = true;
          const marks = part.marks;
          for (let m = 0; m < marks.length; m += 2) tracker.sent[marks[m]!] = marks[m + 1]!;
          if (tracker.stored !== null && part.steps !== undefined) Object.assign(tracker.stored, part.steps);
          if (part.insertRow !== null) tracker.insertRow = part.insertRow;
          if (part.end !== null) {
            tracker.endStored = true;
            // The stored row: as inserted, then patched by the end (exactly what the store applied). A run
            // inserted by this same append was inserted as its end row with a live status and no end
            // time, both of which the end patch sets back: that is the end row itself.
            const inserted = tracker.insertRow;
            tracker.endRow =
              inserted === null || part.endRow === null
                ? null
                : part.insertRow !== null
                  ? part.endRow
                  : { ...inserted, ...endPatch(part.endRow) };
          }
        } else {
          tracker.endSent = false;
          const error =
            outcome === undefined
              ? new WeftError(ERROR_CODES.STORE_ERROR, 'The store answered fewer outcomes than appends.')
              : outcome.error;
          const read = this.#host.refused(tracker, error);
          if (read !== undefined) {
            reads ??= [];
            reads.push(read);
          }
        }
        tracker.settleFirstAppend();
      }
    }
    if (reads !== null) await Promise.all(reads);
  }
}

/** The records of the steps settled since the last batch, and the run's fields when they are written. */
function project(part: Part): void {
  const { tracker, entries } = part;
  const runner = tracker.runner;
  const status = runner.state.stepStatus;
  const sent = tracker.sent;
  let steps: Record<string, StepRecord> | undefined;
  const marks: number[] = [];
  for (let i = 0; i < status.length; i++) {
    const s = status[i]!;
    if (s === sent[i] || SETTLED[s] !== 1) continue;
    steps ??= {};
    steps[runner.plan.steps[i]!.key] = runner.stepRecord(i);
    marks.push(i, s);
  }
  const last = entries[entries.length - 1]!;
  const end = last.type === 'run.ended' ? last : null;
  part.end = end;
  part.begun =
    tracker.inserted && end === null && entries[0]!.type === 'run.started'
      ? (runner.fields().started_at ?? entries[0]!.at)
      : null;
  part.steps = steps;
  part.marks = marks;
  part.endRow = null;
  part.insertRow = null;
  part.fields = !tracker.inserted || end !== null ? { ...runner.fields(), purged_at: null } : null;
}

/** The fields a run ends with, from its `run.ended` entry (written before the state knows it). */
function ended(fields: RunRow, end: RunEndedEntry, tracker: Tracker): RunRow {
  const retention = tracker.retention ?? null;
  return {
    ...fields,
    status: end.status,
    ended_at: end.at,
    updated_at: end.at,
    retention,
    retention_due_at: computeRetentionDueAt(retention, end.at),
  };
}

function appendOf(part: Part, ownerId: string, now: string, until: string): JournalAppend {
  const { tracker, end } = part;
  const batch: JournalBatch = {
    owner_id: ownerId,
    now,
    lease_until: until,
    // The engine's entries are plain JSON objects (run/journal.ts): the store keeps them as they are.
    entries: part.entries,
  };
  if (part.steps !== undefined) batch.steps = part.steps;
  let row: RunRow | null = part.fields;
  if (row !== null && end !== null) row = part.endRow = ended(row, end, tracker);
  else if (row !== null) row = { ...row, retention: tracker.retention ?? null };
  if (!tracker.inserted) {
    if (end === null) {
      part.insertRow = row;
      return { run_id: tracker.id, insert: row!, batch };
    }
    // A run that ends within its first batch: inserted live (owned, so that its entries pass the owner
    // check), then ended by the same batch — one transaction either way.
    batch.run = endPatch(row!);
    part.insertRow = { ...row!, status: 'RUNNING', ended_at: null };
    return { run_id: tracker.id, insert: part.insertRow, batch };
  }
  if (row !== null) batch.run = endPatch(row);
  else if (part.begun !== null) batch.run = { status: 'RUNNING', started_at: part.begun, updated_at: now };
  return { run_id: tracker.id, batch };
}

/** What the end of a run changes on its row. */
export function endPatch(row: RunRow): RunPatch {
  return {
    status: row.status,
    result: row.result,
    error: row.error,
    started_at: row.started_at,
    ended_at: row.ended_at,
    usage: row.usage,
    retention: row.retention,
    retention_due_at: row.retention_due_at,
    updated_at: row.updated_at,
  };
}

/** A store's refusal or failure, as the error a run ends with (LEASE_LOST stays itself). */
export function storeErrorOf(cause: unknown): WeftError {
  const e = ensureWeftError(cause);
  if (e.code === ERROR_CODES.LEASE_LOST || e.code === ERROR_CODES.STORE_ERROR) return e;
  return new WeftError(ERROR_CODES.STORE_ERROR, `The store refused the run's journal: ${e.message}`, {
    details: { cause: e.toJSON() },
    retryable: false,
    cause,
  });
}
