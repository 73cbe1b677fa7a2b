/**
 * The durable half of a `WeftStore`: a run's journal and its lease (docs/durability.md).
 *
 * - The journal is the run: entries `{ seq, type, at, …data }` appended in order, `seq` 1, 2, 3, … per
 *   run without gaps. The store treats an entry as an opaque JSON row (run_id, seq, type, at, data).
 * - A run has at most one owner at a time (`owner_id` + `lease_until`). Every append checks, in the same
 *   transaction as the write, that the caller still owns the run and that the seqs continue the journal;
 *   the run row and step records the entries imply are written in that same transaction.
 * - A run that has ended (COMPLETED, FAILED, CANCELLED) has no owner: any write that ends it releases the
 *   lease, so a process still running it learns on its next append (LEASE_LOST) and stops.
 *
 * The checks below are shared by every store, so that memory, SQLite and Postgres refuse the same things
 * with the same codes and messages.
 */
import { ERROR_CODES, invalidArgument, WeftError } from '../errors.js';
import { type JournalEntry, type JournalEntryType, journalData, journalEntry } from '../run/journal.js';
import type { StepRecord } from '../run/types.js';
import type { RunStatus } from '../statuses.js';
import type { RunPatch, RunRow } from './types.js';

/**
 * A journal entry: the scheduler's discriminated union (run/journal.ts) — one type for what the runner
 * writes, what a store appends and what it loads. A store keeps `run_id`, `seq`, `type` and `at` as
 * columns and the rest as one JSON value (`entryData` / `loadedEntry`), without looking inside: the
 * checks below are on the bookkeeping fields only, and an entry loaded is the one appended.
 */
export type { JournalEntry, JournalEntryType } from '../run/journal.js';

/** One transaction's worth of journal: entries plus the projections they imply. */
export interface JournalBatch {
  /** Who appends: must be the run's owner, with a lease not expired at `now`. */
  owner_id: string;
  /** The caller's clock (ISO 8601), against which the lease is checked. */
  now: string;
  /** Entries to append, in seq order, continuing the journal (empty: projections only). */
  entries: readonly JournalEntry[];
  /** Run-level fields the entries imply (a status that ends the run releases the lease). */
  run?: RunPatch;
  /** Step records the entries imply, upserted by step key. */
  steps?: Readonly<Record<string, StepRecord>>;
  /** Extends the lease in the same transaction (an append is also a heartbeat). */
  lease_until?: string;
}

/** One run's part of a group commit (`appendJournals`). */
export interface JournalAppend {
  run_id: string;
  batch: JournalBatch;
  /**
   * Inserts this run first, owned by `batch.owner_id` until `batch.lease_until` (then required): a run
   * that starts and settles steps in one macrotask costs one transaction.
   */
  insert?: RunRow;
}

/** The outcome of one append of a group: its lease after the write, or why it was refused. */
export type AppendOutcome = { ok: true; lease: RunLease } | { ok: false; error: WeftError };

/** At most this many appends per `appendJournals` call. */
export const MAX_GROUP_APPENDS = 1000;

/** Who holds a run, and how far its journal goes. */
export interface RunLease {
  run_id: string;
  status: RunStatus;
  /** Null when nobody owns the run (never claimed, released, or ended). */
  owner_id: string | null;
  /** ISO 8601; null when nobody owns the run. */
  lease_until: string | null;
  /** The seq of the last entry appended (0 for an empty journal). */
  journal_seq: number;
}

/** A new owner and how long it holds the run. */
export interface LeaseGrant {
  owner_id: string;
  /** ISO 8601. */
  lease_until: string;
}

export interface ClaimRequest extends LeaseGrant {
  /** The caller's clock (ISO 8601): a lease that ended before it can be taken over. */
  now: string;
}

/**
 * The outcome of a claim: the lease on success; otherwise why not — `NOT_FOUND` (no such run), `ENDED`
 * (the run has ended: nothing to resume), `OWNED` (another owner's lease is still running).
 */
export type ClaimResult =
  | { claimed: true; lease: RunLease }
  | { claimed: false; reason: 'NOT_FOUND'; lease: null }
  | { claimed: false; reason: 'ENDED' | 'OWNED'; lease: RunLease };

export interface JournalQuery {
  /** Entries with `seq` greater than this (default 0: from the start). */
  after_seq?: number;
  /** At most this many (1–10,000; default 10,000). Page with `after_seq` for longer journals. */
  limit?: number;
}

export const MAX_JOURNAL_PAGE = 10_000;

/** Statuses of a run that has not ended: the only ones a run can be owned, claimed or resumed in. */
export const LIVE_RUN_STATUSES: readonly RunStatus[] = ['PENDING', 'RUNNING'];

export function isLiveStatus(status: RunStatus): boolean {
  return status === 'PENDING' || status === 'RUNNING';
}

/** What a journal store adds to a `WeftStore`. */
export interface JournalStore {
  /**
   * Appends a batch atomically: checks that `batch.owner_id` owns the run with a lease not expired at
   * `batch.now` (else LEASE_LOST) and that the entries continue the journal without gap (else
   * JOURNAL_CONFLICT), then writes the entries, the run patch and the step records in one transaction.
   * Returns the run's lease after the write (ownerless when the patch ended the run).
   * NOT_FOUND when there is no such run.
   */
  appendJournal(runId: string, batch: JournalBatch): Promise<RunLease>;
  /**
   * Group commit: the appends of many runs (everything one macrotask produced) in ONE transaction.
   * Each append is checked and applied on its own, exactly as `appendJournal` (with an optional insert
   * first): a refused one writes nothing of its own and does not stop the others. Outcomes come in the
   * order of `appends`; appends to one run apply in order. At most MAX_GROUP_APPENDS per call. Rejects
   * (nothing written) only when the store itself fails (STORE_ERROR) or `appends` is not an array.
   */
  appendJournals(appends: readonly JournalAppend[]): Promise<AppendOutcome[]>;
  /** The run's journal in seq order (empty for an unknown run or a purged one). */
  loadJournal(runId: string, query?: JournalQuery): Promise<JournalEntry[]>;
  /**
   * Compare-and-set: makes `claim.owner_id` the owner when the run is live (PENDING or RUNNING) and
   * unowned, or its lease ended before `claim.now`, or it is already the caller's (a renewal).
   */
  claimRun(runId: string, claim: ClaimRequest): Promise<ClaimResult>;
  /**
   * Heartbeat: extends to `leaseUntil` the lease of every live run `ownerId` owns (only those in
   * `runIds` when given). Returns the ids renewed: a run missing from it is no longer the caller's.
   */
  renewLeases(ownerId: string, leaseUntil: string, runIds?: readonly string[]): Promise<string[]>;
  /** Gives the run up (owner and lease cleared) if `ownerId` owns it; false otherwise. */
  releaseRun(runId: string, ownerId: string): Promise<boolean>;
  /** The run's lease, or null when there is no such run. */
  getLease(runId: string): Promise<RunLease | null>;
  /**
   * Runs to resume: live (PENDING or RUNNING) and unowned or with a lease that ended before `now`,
   * those whose lease ended first first, at most `limit` (1–1,000). Claim each before resuming it.
   */
  listRecoverableRuns(now: string, limit: number): Promise<RunLease[]>;
  /**
   * Batch claim, for workers: makes `claim.owner_id` the owner (until `claim.lease_until`) of up to
   * `limit` (1–1,000) of the runs `listRecoverableRuns(claim.now, …)` lists, in that order, and returns
   * their leases. Concurrent callers get disjoint runs: a run another caller is claiming at that moment
   * is skipped, not waited for (Postgres: `FOR UPDATE SKIP LOCKED`).
   */
  claimRuns(claim: ClaimRequest, limit: number): Promise<RunLease[]>;
}

/** A run claimed with its row as the claim left it (the claimer's owner and lease). */
export interface ClaimedRun {
  lease: RunLease;
  row: RunRow;
}

/**
 * Optional, for stores where every read is a round trip (PostgreSQL): `claimRuns` that also returns each
 * claimed run's row, so that a worker begins the run without reading it again. It claims exactly what
 * `claimRuns(claim, limit)` would, in the same order.
 */
export interface ClaimsWithRows {
  claimRunsWithRows(claim: ClaimRequest, limit: number): Promise<ClaimedRun[]>;
}

export function hasClaimsWithRows<S extends object>(store: S): store is S & ClaimsWithRows {
  return typeof (store as Partial<ClaimsWithRows>).claimRunsWithRows === 'function';
}

// ── shared checks ──────────────────────────────────────────────────────────────────────────────────

const ISO_TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d(\.\d{1,9})?)?(Z|[+-]\d\d:?\d\d)$/;

const isoLike = (value: unknown): value is string =>
  typeof value === 'string' && value !== '' && Number.isFinite(Date.parse(value));

export function checkOwnerId(ownerId: unknown, parameter = 'owner_id'): string {
  if (typeof ownerId !== 'string' || ownerId === '' || ownerId.length > 200) {
    throw invalidArgument(parameter, 'a non-empty string of at most 200 characters', ownerId);
  }
  return ownerId;
}

/**
 * A time, normalised to `Date#toISOString()` form: stores compare lease times as strings, which is only
 * right when every time has the same form.
 */
export function checkTime(value: unknown, parameter: string): string {
  if (!isoLike(value)) throw invalidArgument(parameter, 'an ISO 8601 date string', value);
  return new Date(value).toISOString();
}

export function checkClaim(claim: ClaimRequest): ClaimRequest {
  if (claim === null || typeof claim !== 'object') throw invalidArgument('claim', 'an object', claim);
  return {
    owner_id: checkOwnerId(claim.owner_id, 'claim.owner_id'),
    lease_until: checkTime(claim.lease_until, 'claim.lease_until'),
    now: checkTime(claim.now, 'claim.now'),
  };
}

export function checkLeaseGrant(grant: LeaseGrant): LeaseGrant {
  if (grant === null || typeof grant !== 'object') throw invalidArgument('lease', 'an object', grant);
  return {
    owner_id: checkOwnerId(grant.owner_id, 'lease.owner_id'),
    lease_until: checkTime(grant.lease_until, 'lease.lease_until'),
  };
}

export function checkRecoverableLimit(limit: unknown): number {
  if (typeof limit !== 'number' || !Number.isInteger(limit) || limit < 1 || limit > 1000) {
    throw invalidArgument('limit', 'an integer from 1 to 1000', limit);
  }
  return limit;
}

/** `{ after, limit }` of a journal query, checked. */
export function journalRange(query: JournalQuery | undefined): { after: number; limit: number } {
  const after = query?.after_seq ?? 0;
  const limit = query?.limit ?? MAX_JOURNAL_PAGE;
  if (!Number.isSafeInteger(after) || after < 0) {
    throw invalidArgument('after_seq', 'an integer ≥ 0', after);
  }
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_JOURNAL_PAGE) {
    throw invalidArgument('limit', `an integer from 1 to ${MAX_JOURNAL_PAGE}`, limit);
  }
  return { after, limit };
}

/**
 * Checks a batch's shape before any transaction starts — an owner, a time, entries that are objects with
 * an integer `seq`, a `type` and an `at`, consecutive among themselves — and returns it with its times
 * normalised.
 */
export function checkBatch(batch: JournalBatch, runId?: string): JournalBatch {
  if (batch === null || typeof batch !== 'object') throw invalidArgument('batch', 'an object', batch);
  const checked: JournalBatch = {
    ...batch,
    owner_id: checkOwnerId(batch.owner_id, 'batch.owner_id'),
    now: checkTime(batch.now, 'batch.now'),
  };
  if (batch.lease_until !== undefined)
    checked.lease_until = checkTime(batch.lease_until, 'batch.lease_until');
  if (!Array.isArray(batch.entries)) throw invalidArgument('batch.entries', 'an array', batch.entries);
  // Every entry of every batch passes here: the parameter paths are built only for an error, and an
  // `at` equal to the previous entry's (one clock reading, most of a batch) is not tested again.
  const entries = batch.entries;
  const path = (i: number) => `batch.entries[${i}]`;
  let checkedAt: string | null = null;
  for (let i = 0; i < entries.length; i++) {
    const entry = entries[i]!;
    if (entry === null || typeof entry !== 'object' || Array.isArray(entry)) {
      throw invalidArgument(path(i), 'a journal entry { seq, type, at, … }', entry);
    }
    if (!Number.isSafeInteger(entry.seq) || entry.seq < 1) {
      throw invalidArgument(`${path(i)}.seq`, 'an integer ≥ 1', entry.seq);
    }
    if (typeof entry.type !== 'string' || entry.type === '' || entry.type.length > 200) {
      throw invalidArgument(`${path(i)}.type`, 'a non-empty string of at most 200 characters', entry.type);
    }
    // A shape check, not Date.parse: this runs for every entry of every batch.
    if (typeof entry.at !== 'string' || (entry.at !== checkedAt && !ISO_TIME.test(entry.at))) {
      throw invalidArgument(
        `${path(i)}.at`,
        'an ISO 8601 date-time string (e.g. 2024-01-01T00:00:00.000Z)',
        entry.at,
      );
    }
    checkedAt = entry.at;
    if (entry.run_id !== undefined && entry.run_id !== runId) {
      throw invalidArgument(
        `${path(i)}.run_id`,
        runId === undefined ? 'absent' : `"${runId}" (the run appended to)`,
        entry.run_id,
      );
    }
    if (i > 0 && entry.seq !== entries[i - 1]!.seq + 1) {
      const at = path(i);
      throw new WeftError(
        ERROR_CODES.JOURNAL_CONFLICT,
        `Journal entries of one batch must have consecutive seqs: ${at}.seq is ${entry.seq} after ${entries[i - 1]!.seq}. Number entries 1, 2, 3, … per run without gaps.`,
        { details: { parameter: `${at}.seq`, expected_seq: entries[i - 1]!.seq + 1, seq: entry.seq } },
      );
    }
  }
  if (batch.steps !== undefined && (batch.steps === null || typeof batch.steps !== 'object')) {
    throw invalidArgument('batch.steps', 'an object of step records by key', batch.steps);
  }
  if (batch.run !== undefined && (batch.run === null || typeof batch.run !== 'object')) {
    throw invalidArgument('batch.run', 'a run patch object', batch.run);
  }
  return checked;
}

export function checkAppends(appends: readonly JournalAppend[]): void {
  if (!Array.isArray(appends))
    throw invalidArgument('appends', 'an array of { run_id, batch, insert? }', appends);
  if (appends.length > MAX_GROUP_APPENDS) {
    throw invalidArgument('appends', `at most ${MAX_GROUP_APPENDS} appends (split the group)`, appends);
  }
}

/**
 * One append of a group, checked before its transaction: its batch (times normalised) and, with an
 * insert, the lease it is inserted with. Throws INVALID_ARGUMENT.
 */
export function checkGroupAppend(
  append: JournalAppend,
  index: number,
): { batch: JournalBatch; grant?: LeaseGrant } {
  if (append === null || typeof append !== 'object') {
    throw invalidArgument(`appends[${index}]`, 'an object { run_id, batch, insert? }', append);
  }
  if (typeof append.run_id !== 'string' || append.run_id === '') {
    throw invalidArgument(`appends[${index}].run_id`, 'a non-empty string', append.run_id);
  }
  const batch = checkBatch(append.batch, append.run_id);
  if (append.insert === undefined) return { batch };
  if (append.insert === null || typeof append.insert !== 'object' || append.insert.id !== append.run_id) {
    throw invalidArgument(
      `appends[${index}].insert`,
      `a run row whose id is "${append.run_id}"`,
      append.insert,
    );
  }
  if (batch.lease_until === undefined) {
    throw invalidArgument(`appends[${index}].batch.lease_until`, 'the lease of the inserted run', undefined);
  }
  return { batch, grant: { owner_id: batch.owner_id, lease_until: batch.lease_until } };
}

/** The lease a run inserted by a group append starts with (an ended run is never owned). */
export function insertedLease(run: RunRow, grant: LeaseGrant): RunLease {
  const owned = isLiveStatus(run.status);
  return {
    run_id: run.id,
    status: run.status,
    owner_id: owned ? grant.owner_id : null,
    lease_until: owned ? grant.lease_until : null,
    journal_seq: 0,
  };
}

/** An entry as stored: `run_id`, `seq`, `type`, `at` (columns), then the rest (one JSON value). */
export function entryData(entry: JournalEntry): Record<string, unknown> {
  return journalData(entry);
}

/**
 * An entry as loaded: the inverse of `entryData`. `type` is the column as stored (a store does not check
 * it against the union: it gives back what was appended).
 */
export function loadedEntry(
  runId: string,
  seq: number,
  type: string,
  at: string,
  data: Record<string, unknown>,
): JournalEntry {
  return journalEntry(runId, seq, type as JournalEntryType, at, data);
}

/** An outcome from whatever an append threw: Weft errors are the append's; anything else is the store's. */
export function refused(error: unknown): AppendOutcome {
  if (error instanceof WeftError) return { ok: false, error };
  throw error;
}

/**
 * The checks an append makes inside its transaction, against the run as stored: the caller owns it and
 * its first entry continues the journal. Throws LEASE_LOST or JOURNAL_CONFLICT.
 */
export function checkAppend(lease: RunLease, batch: JournalBatch): void {
  if (lease.owner_id !== batch.owner_id || lease.lease_until === null || lease.lease_until < batch.now) {
    throw leaseLost(lease, batch.owner_id, batch.now);
  }
  const first = batch.entries[0];
  if (first !== undefined && first.seq !== lease.journal_seq + 1) {
    throw new WeftError(
      ERROR_CODES.JOURNAL_CONFLICT,
      `Run ${lease.run_id}: the journal ends at seq ${lease.journal_seq}, so the next entry must be seq ${lease.journal_seq + 1}, not ${first.seq}. Another writer appended, or entries were lost or repeated: reload the journal (loadJournal) and resume from it.`,
      { details: { run_id: lease.run_id, journal_seq: lease.journal_seq, seq: first.seq } },
    );
  }
}

export function leaseLost(lease: RunLease, ownerId: string, now: string): WeftError {
  const why =
    lease.owner_id === null
      ? isLiveStatus(lease.status)
        ? 'nobody owns it (it was released)'
        : `it has ended (${lease.status})`
      : lease.owner_id !== ownerId
        ? `it is now owned by "${lease.owner_id}"`
        : `your lease ended at ${lease.lease_until}, before ${now}`;
  return new WeftError(
    ERROR_CODES.LEASE_LOST,
    `Owner "${ownerId}" can no longer write run ${lease.run_id}: ${why}. Stop executing it here; if it is still live, claim it again (claimRun) and resume from its journal.`,
    {
      details: {
        run_id: lease.run_id,
        owner_id: lease.owner_id,
        lease_until: lease.lease_until,
        status: lease.status,
      },
      retryable: false,
    },
  );
}

export function runNotFoundInStore(runId: string): WeftError {
  return new WeftError(
    ERROR_CODES.NOT_FOUND,
    `Run ${runId} is not in the store: insert it first (insertRun).`,
    {
      details: { run_id: runId },
      retryable: false,
    },
  );
}

/** The result of a claim against the run's current lease: pure, so every store decides alike. */
export function decideClaim(lease: RunLease | null, claim: ClaimRequest): ClaimResult | 'GRANT' {
  if (lease === null) return { claimed: false, reason: 'NOT_FOUND', lease: null };
  if (!isLiveStatus(lease.status)) return { claimed: false, reason: 'ENDED', lease };
  const free = lease.owner_id === null || lease.lease_until === null || lease.lease_until < claim.now;
  if (free || lease.owner_id === claim.owner_id) return 'GRANT';
  return { claimed: false, reason: 'OWNED', lease };
}
