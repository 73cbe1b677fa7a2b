/**
 * The runs this process executes, as the store sees them. The journal carries every write: the
 * registry's engine writes each run's journal through `StoreJournal` (journal-sink.ts), which inserts the
 * run, records its steps as they settle and ends it — one source of truth, no second path of writes.
 * Around it, the recorder:
 *
 * - tracks each run of the registry (those it starts, those it resumes, and sub-workflow runs the engine
 *   starts itself) until it has ended here and its end is written;
 * - renews the leases of the runs it holds every `owner.heartbeatMs`; a run missing from a renewal is no
 *   longer this process's (another process claimed it after the lease ended, or cancelled it): its local
 *   execution is abandoned, and its outcome is whatever the store ends up with;
 * - keeps the final record of a run whose end the store could not take (STORE_ERROR) and writes it with
 *   a later heartbeat, once the store works again — until then reads of the run answer that record, so a
 *   caller never sees RUNNING (or nothing) for a run that ended here.
 */
import { CancelledError, ERROR_CODES, WeftError } from '../errors.js';
import { runLifecycle } from '../lifecycle/lifecycle.js';
import { reasonOfCancelError } from '../run/cancel-reason.js';
import type { Engine } from '../run/engine.js';
import type { RunHandle } from '../run/handle.js';
import { computeRetentionDueAt } from '../run/retention.js';
import { runnerOf } from '../run/runners.js';
import type { Retention, Run } from '../run/types.js';
import { isLiveStatus, leaseLost, runNotFoundInStore } from '../store/journal.js';
import type { WeftStore } from '../store/store.js';
import type { RunRecord, RunRow } from '../store/types.js';
import type { SuspendResult } from './client.js';
import { endPatch, StoreJournal, storeErrorOf } from './journal-sink.js';
import type { Ownership } from './owner.js';
import { Tracker } from './tracker.js';

export type StoreErrorReporter = (error: unknown, context: { operation: string; run_id?: string }) => void;

/** At most this many ended runs wait for their end to be written (the oldest is given up beyond). */
export const MAX_UNRECORDED = 10_000;
/** Leases renewed per store call. */
const RENEW_CHUNK = 500;
/** A run found CANCELLED at a heartbeat whose row holds no reason (written by an older Weft). */
const LOST_CANCEL_REASON = 'Cancelled from another process.';

/**
 * What a run cancelled from another process stops with here: the journal's refusal as the cancel (code
 * CANCELLED, the reason its row records), so that it ends CANCELLED with that reason (run/stop.ts).
 */
function cancelledElsewhere(runId: string, reason: string): WeftError {
  return new CancelledError(reason, { details: { run_id: runId } });
}

/**
 * How long the read of a cancelled run's reason may take before the generic reason stands: the batch of
 * the refused append is answered after it, and must be well within the journal's own timeout
 * (`limits.journalTimeoutMs`, 30 s by default) — a store that hangs fails appends, not this read.
 */
export const CANCEL_REASON_READ_MS = 2_000;

/** The reason the ended row of a run cancelled elsewhere records (one read, bounded), else the generic one. */
function readReason(store: WeftStore, runId: string): Promise<string> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<string>((resolve) => {
    timer = setTimeout(() => resolve(LOST_CANCEL_REASON), CANCEL_REASON_READ_MS);
  });
  const read = store.getRun(runId).then(
    (row) => reasonOfCancelError(row?.error) ?? LOST_CANCEL_REASON,
    () => LOST_CANCEL_REASON,
  );
  return Promise.race([read, late]).finally(() => clearTimeout(timer));
}

/** A run that ended here and whose end the store does not have. */
interface Unrecorded {
  run: Run;
  /** Whether the row is in the store (the end is then a patch; else an insert). */
  inserted: boolean;
  retention: Retention | null;
  /** False when the store refused the run for good: the record is kept to answer reads, not written. */
  retry: boolean;
  busy: boolean;
}

export interface RecorderDeps {
  /** The registry's engine (made after the recorder: its journal sink is the recorder's). */
  engine: () => Engine;
  store: WeftStore;
  owner: Ownership;
  report: StoreErrorReporter;
  defaultRetention: Retention | null;
}

export class RunRecorder {
  readonly journal: StoreJournal;
  readonly #engine: () => Engine;
  readonly #store: WeftStore;
  readonly #owner: Ownership;
  readonly #report: StoreErrorReporter;
  readonly #defaultRetention: Retention | null;
  readonly #trackers = new Map<string, Tracker>();
  readonly #unrecorded = new Map<string, Unrecorded>();
  #beating = false;

  constructor(deps: RecorderDeps) {
    this.#engine = deps.engine;
    this.#store = deps.store;
    this.#owner = deps.owner;
    this.#report = deps.report;
    this.#defaultRetention = deps.defaultRetention;
    this.journal = new StoreJournal({
      store: deps.store,
      owner: deps.owner,
      trackerFor: (runId) => this.#trackerFor(runId),
      refused: (tracker, error) => this.#refused(tracker, error),
    });
  }

  /**
   * Tracks a run the registry has just started or resumed (call it synchronously after `engine.start` /
   * `engine.resume`, before the run's first entry is written). `resumed`: its row is in the store.
   */
  track(handle: RunHandle, resumed = false): Tracker {
    const runner = runnerOf(handle)!;
    const tracker = new Tracker(handle, runner, resumed, runner.state.meta.retention);
    this.#add(tracker);
    return tracker;
  }

  #add(tracker: Tracker): void {
    this.#trackers.set(tracker.id, tracker);
    this.#unrecorded.delete(tracker.id);
    void tracker.handle.done.then((run) => this.#onDone(tracker, run));
  }

  /** The tracker of a run whose entries reach the sink: a run the engine started itself is picked up here. */
  #trackerFor(runId: string): Tracker | null {
    const known = this.#trackers.get(runId);
    if (known !== undefined) return known;
    const handle = this.#engine().active.get(runId);
    const runner = handle === undefined ? undefined : runnerOf(handle);
    // A run without an app (started on the bare engine) is not the registry's: not written.
    if (handle === undefined || runner === undefined || runner.state.meta.app_id === null) return null;
    const meta = runner.state.meta;
    // A sub-workflow run: the engine started it without a retention — its workflow's, else the default.
    const tracker = new Tracker(handle, runner, false, meta.retention ?? undefined);
    if (tracker.retention === undefined) {
      tracker.retained = (async () => {
        let retention: Retention | null = this.#defaultRetention;
        try {
          const workflow = meta.workflow_id === null ? null : await this.#store.getWorkflow(meta.workflow_id);
          retention = workflow?.retention ?? this.#defaultRetention;
        } catch {
          // The append that follows meets the same store: it reports the failure.
        }
        tracker.retention = retention;
      })();
    }
    this.#add(tracker);
    return tracker;
  }

  #refused(tracker: Tracker, error: WeftError): Promise<void> | undefined {
    if (error.code === ERROR_CODES.LEASE_LOST) {
      tracker.lost = true;
      if (error.details?.status === 'CANCELLED') {
        // Cancelled from another process (its row ended CANCELLED before this append: runs.cancel on a run
        // it does not execute): cancelled here too, with the reason the row records — read once; the row
        // is ended, so the read sees its final reason. Until then no step starts here, and the run cannot
        // end here (the sink answers the batch after this read): its outcome here is the store's.
        void tracker.runner.suspend();
        return readReason(this.#store, tracker.id).then((reason) =>
          tracker.runner.abandon(cancelledElsewhere(tracker.id, reason)),
        );
      }
    } else {
      tracker.refused = error;
      this.#report(error, { operation: 'appendJournals', run_id: tracker.id });
    }
    tracker.runner.abandon(storeErrorOf(error));
    return undefined;
  }

  #onDone(tracker: Tracker, run: Run): void {
    // A suspended run's end here is not its end: the store keeps it RUNNING for another process.
    if (!tracker.endStored && !tracker.lost && !tracker.suspended) {
      if (this.#unrecorded.size >= MAX_UNRECORDED) {
        const [oldest] = this.#unrecorded.keys();
        this.#unrecorded.delete(oldest!);
        this.#report(new Error(`Too many runs (${MAX_UNRECORDED}) wait for their end to be written.`), {
          operation: 'recordEnd',
          run_id: oldest!,
        });
      }
      this.#unrecorded.set(tracker.id, {
        run,
        inserted: tracker.inserted,
        retention: tracker.retention ?? null,
        retry: tracker.refused === null,
        busy: false,
      });
    }
    tracker.settleFirstAppend();
    const finish = () => {
      if (this.#trackers.get(tracker.id) === tracker) this.#trackers.delete(tracker.id);
      tracker.resolveEnded();
    };
    // One attempt at once; the heartbeat tries again while the store fails.
    if (this.#unrecorded.get(tracker.id)?.retry === true) void this.#recordEnd(tracker.id).finally(finish);
    else finish();
  }

  /** Writes the end of a run that ended here while the store failed. True once written (or moot). */
  async #recordEnd(runId: string): Promise<boolean> {
    const u = this.#unrecorded.get(runId);
    if (u === undefined || !u.retry || u.busy) return u === undefined;
    u.busy = true;
    try {
      const owner = this.#owner;
      const run = u.run;
      const row: RunRow = {
        ...withoutOutput(run),
        replay_of: run.replay_of ?? null,
        purged_at: null,
        retention: u.retention,
        retention_due_at: computeRetentionDueAt(u.retention, run.ended_at),
      };
      const batch = { owner_id: owner.id, now: owner.now(), lease_until: owner.until(), entries: [] };
      if (u.inserted) {
        const claim = await this.#store.claimRun(runId, {
          owner_id: owner.id,
          lease_until: owner.until(),
          now: owner.now(),
        });
        if (!claim.claimed) {
          // Ended elsewhere (a cancel), or another process resumed it: the store's outcome wins.
          this.#unrecorded.delete(runId);
          return true;
        }
        await this.#store.appendJournal(runId, { ...batch, run: endPatch(row), steps: run.output });
      } else {
        // Inserted live (owned: the append's owner check passes), then ended by the same batch.
        const [outcome] = await this.#store.appendJournals([
          {
            run_id: runId,
            insert: { ...row, status: 'RUNNING', ended_at: null },
            batch: { ...batch, steps: run.output, run: endPatch(row) },
          },
        ]);
        if (outcome !== undefined && !outcome.ok) {
          // The store refuses it (an id that exists): keep the record to answer reads, stop trying.
          u.retry = false;
          this.#report(outcome.error, { operation: 'recordEnd', run_id: runId });
          return false;
        }
      }
      this.#unrecorded.delete(runId);
      return true;
    } catch (error) {
      this.#report(error, { operation: 'recordEnd', run_id: runId });
      return false;
    } finally {
      u.busy = false;
    }
  }

  /**
   * The heartbeat: renews the lease of every run held here, abandons those that are no longer ours, and
   * tries again to write the ends the store could not take.
   */
  async heartbeat(): Promise<void> {
    if (this.#beating) return;
    this.#beating = true;
    try {
      const held = [...this.#trackers.values()].filter(
        (t) => t.inserted && !t.endStored && !t.endSent && t.writable,
      );
      const renewed = new Set<string>();
      let complete = true;
      for (let i = 0; i < held.length; i += RENEW_CHUNK) {
        const ids = held.slice(i, i + RENEW_CHUNK).map((t) => t.id);
        try {
          for (const id of await this.#store.renewLeases(this.#owner.id, this.#owner.until(), ids))
            renewed.add(id);
        } catch (error) {
          complete = false;
          for (const id of ids) renewed.add(id); // unknown: the lease outlasts several heartbeats
          this.#report(error, { operation: 'renewLeases' });
        }
      }
      if (complete) this.#owner.markRenewed();
      for (const tracker of held) {
        if (renewed.has(tracker.id)) continue;
        // The row is read with the lease (one wait, as for the lease alone): a run cancelled from another
        // process is cancelled here with the reason its row records, decided in the same tick as the
        // lease is known — a read in between would let the run go on, and its outcome here change.
        const found = await Promise.all([
          this.#store.getLease(tracker.id),
          this.#store.getRun(tracker.id),
        ]).catch(() => undefined);
        if (found === undefined) continue; // the store fails: decide on a later heartbeat
        const [lease, row] = found;
        // Ended meanwhile (its own end), or renewed by a claim of ours since: not lost.
        if (tracker.endStored || tracker.endSent || !tracker.writable) continue;
        if (lease !== null && lease.owner_id === this.#owner.id && isLiveStatus(lease.status)) continue;
        if (lease?.status === 'CANCELLED') {
          // Cancelled from another process (runs.cancel on a run it does not execute): cancelled here
          // too — handlers aborted, `run.cancelled` emitted — and nothing more written. The two reads
          // may have raced (separate connections: PostgreSQL's pool): a row read before the cancel is
          // read again — ended, its reason is final. Meanwhile no step starts here, and the run is still
          // ours to write: an append it makes is refused (LEASE_LOST), which cancels it the same way.
          let reason = reasonOfCancelError(row?.error);
          if (row?.status !== 'CANCELLED') {
            void tracker.runner.suspend();
            reason = await readReason(this.#store, tracker.id);
            if (!tracker.writable) continue; // an append's refusal acted first
          }
          tracker.lost = true;
          tracker.runner.abandon(cancelledElsewhere(tracker.id, reason ?? LOST_CANCEL_REASON));
          continue;
        }
        tracker.lost = true;
        tracker.runner.abandon(
          lease === null
            ? runNotFoundInStore(tracker.id)
            : leaseLost(lease, this.#owner.id, this.#owner.now()),
        );
      }
      for (const [runId, u] of this.#unrecorded) if (u.retry) await this.#recordEnd(runId);
    } finally {
      this.#beating = false;
    }
  }

  /** The runs executing here (tracked and still ours to write). */
  get live(): number {
    return this.#trackers.size;
  }

  /** Whether this process is executing the run and may still write it. */
  isLive(runId: string): boolean {
    return this.#trackers.get(runId)?.writable === true;
  }

  /** Whether the engine of this process still has the run in progress (even one abandoned here). */
  isActive(runId: string): boolean {
    return this.#trackers.has(runId) || this.#engine().active.has(runId);
  }

  /** The app owning the workflow of a run in progress here (sub-workflows resolve against it). */
  workflowAppOf(runId: string): string | null | undefined {
    const handle = this.#trackers.get(runId)?.handle ?? this.#engine().active.get(runId);
    const runner = handle === undefined ? undefined : runnerOf(handle);
    return runner?.state.meta.workflow_app_id;
  }

  handleOf(runId: string): RunHandle | undefined {
    const tracker = this.#trackers.get(runId);
    return tracker?.writable === true ? tracker.handle : undefined;
  }

  /** Resolves once the run's entries so far are in the store (or its journal failed). */
  async flush(runId: string): Promise<void> {
    const tracker = this.#trackers.get(runId);
    if (tracker?.writable) await tracker.runner.journalFlushed();
  }

  /** Resolves once the run's first append has been answered (background starts return then). */
  async firstAppend(runId: string): Promise<void> {
    await this.#trackers.get(runId)?.firstAppend;
  }

  /**
   * Resolves once the run has ended here and its end is written or kept (at once for runs not here):
   * with the run as the store now holds it when this process wrote the whole run and its end is
   * committed (`Tracker.answer`), else null (read the store).
   */
  async ended(runId: string): Promise<RunRecord | null> {
    const tracker = this.#trackers.get(runId);
    if (tracker === undefined) return null;
    await tracker.ended;
    return tracker.answer();
  }

  /** The final record of a run that ended here while the store could not take its end. */
  unrecorded(runId: string): RunRecord | null {
    const u = this.#unrecorded.get(runId);
    if (u === undefined) return null;
    return {
      ...u.run,
      replay_of: u.run.replay_of ?? null,
      purged_at: null,
      retention: u.retention,
      retention_due_at: computeRetentionDueAt(u.retention, u.run.ended_at),
    };
  }

  /**
   * A run in progress here, as it stands (before its row reached the store). Read as a stored live run
   * reads (access.ts assembleInto): `error: null` until it has ended — the failure stopping it is its
   * error once it ends.
   */
  current(runId: string): RunRecord | null {
    const tracker = this.#trackers.get(runId);
    if (tracker === undefined) return null;
    const run = tracker.handle.snapshot();
    const error = isLiveStatus(run.status) ? null : run.error;
    return { ...run, error, replay_of: run.replay_of ?? null, purged_at: null };
  }

  /**
   * Sets the retention of a run in progress here (its end is written with it). Returns false when the
   * run is not in progress here.
   */
  setRetention(runId: string, retention: Retention, updatedAt: string): Promise<void> | false {
    const tracker = this.#trackers.get(runId);
    if (tracker === undefined || !tracker.writable) return false;
    tracker.retention = retention;
    return (async () => {
      await tracker.firstAppend;
      if (!tracker.inserted) return;
      const row = await this.#store.getRun(runId);
      await this.#store.updateRun(runId, {
        retention,
        retention_due_at: computeRetentionDueAt(retention, row?.ended_at ?? null),
        updated_at: updatedAt,
      });
    })();
  }

  /**
   * Suspends every run in progress here (`weft.suspend`): no new step starts; the running ones get
   * `graceMs` to settle; then each run's journal is flushed, its execution abandoned and its lease
   * released, without an end — RUNNING in the store, for the next Weft to resume.
   */
  async suspend(graceMs: number): Promise<SuspendResult> {
    const result: SuspendResult = { suspended: [], ended: [], cancelled: [] };
    // Synchronously: each run stops starting steps before anything else happens.
    const trackers = [...this.#trackers.values()].filter((t) => t.writable && !t.suspending);
    for (const tracker of trackers) tracker.suspending = true;
    const deadline = new Promise<void>((resolve) => setTimeout(resolve, graceMs).unref());
    await Promise.all(trackers.map((t) => this.#suspend(t, deadline, result)));
    return result;
  }

  async #suspend(tracker: Tracker, deadline: Promise<void>, result: SuspendResult): Promise<void> {
    const { runner, handle } = tracker;
    await Promise.race([runner.suspend(), deadline]);
    await runner.journalFlushed();
    const state = runner.state;
    // Ending already (its last running steps completed it, a failure or a cancel stops it), or its
    // store failed meanwhile: it ends here as any run does, its end written by the usual path.
    if (state.ending !== null || state.stopReason !== null || runLifecycle.isFinal(state.status)) {
      await tracker.ended;
      result.ended.push(tracker.id);
      return;
    }
    if (!tracker.writable) {
      // Lost to another owner, or refused by the store, meanwhile: its outcome is not ours to decide.
      await tracker.ended;
      return;
    }
    if (!tracker.inserted) {
      // Not in the store yet (PENDING: auto-filling its input): nothing could resume it.
      await handle.cancel('The process running it is shutting down.');
      await tracker.ended;
      result.cancelled.push(tracker.id);
      return;
    }
    tracker.suspended = true;
    runner.abandon(
      new WeftError(
        ERROR_CODES.RUN_SUSPENDED,
        `Run ${tracker.id} was suspended (weft.suspend): it stopped here and stays RUNNING in the store, where the next Weft with recovery on it resumes it.`,
        { details: { run_id: tracker.id }, retryable: false },
      ),
    );
    try {
      await this.#store.releaseRun(tracker.id, this.#owner.id);
    } catch (error) {
      // Its lease then ends on its own (leaseMs): it is resumed after that instead of at once.
      this.#report(error, { operation: 'releaseRun', run_id: tracker.id });
    }
    result.suspended.push(tracker.id);
    // Abandoned executions are aborted; the run ends here (not in the store) once they answer.
    await tracker.ended;
  }

  /** Resolves once every journal entry written so far is answered and no end is being written. */
  async idle(): Promise<void> {
    await Promise.all([...this.#trackers.values()].map((t) => t.runner.journalFlushed()));
  }
}

/** The run's row fields (`auto_filled` is derived from the input and usage when a run is read). */
function withoutOutput(run: Run): Omit<Run, 'output' | 'auto_filled'> {
  const { output: _output, auto_filled: _filled, ...rest } = run;
  return rest;
}
