/**
 * What the registry knows of a run executing in this process: its handle and runner, what of it the
 * store has (row inserted, step records sent, end written) and whether the store is still this process's
 * to write for it.
 */

import type { WeftError } from '../errors.js';
import type { RunHandle } from '../run/handle.js';
import type { Runner } from '../run/runner.js';
import type { Retention, StepRecord } from '../run/types.js';
import type { RunRecord, RunRow } from '../store/types.js';
import { storedAnswer } from './answer.js';

export class Tracker {
  readonly id: string;
  readonly handle: RunHandle;
  readonly runner: Runner;
  /** The run's retention; undefined until resolved (`retained`) for runs the engine started itself. */
  retention: Retention | null | undefined;
  /** Resolves once `retention` is known. */
  retained: Promise<void> = Promise.resolve();
  /** The run's row is in the store (its first append was acknowledged, or it was resumed). */
  inserted: boolean;
  /** Each step's status as the store has its record (STEP indexes); a step is sent again when it changes. */
  readonly sent: Uint8Array;
  /** An append holding `run.ended` is in flight (the lease it releases is not "lost"). */
  endSent = false;
  /** The store has the run's end. */
  endStored = false;
  /**
   * Every step record the store has of this run, as sent (by key, in the order first sent), while this
   * process wrote the run from its first entry; null for a resumed run (its store had records before).
   */
  readonly stored: Record<string, StepRecord> | null;
  /** The row this process inserted (null for a resumed run). */
  insertRow: RunRow | null = null;
  /** The run's row as its end was committed (with `stored`: what the store holds once the run ended). */
  endRow: RunRow | null = null;
  /** Another owner holds the run now (or it ended elsewhere): its outcome is the store's, not ours. */
  lost = false;
  /** `weft.suspend` is suspending it (its running steps settle). */
  suspending = false;
  /** Suspended (`weft.suspend`): its journal is left as a prefix of the run, for another process to resume. */
  suspended = false;
  /** The store refused the run for good (not LEASE_LOST): its in-memory end is all there is. */
  refused: WeftError | null = null;
  /** Resolves once the run's first append has been answered (or the run ended without one). */
  readonly firstAppend: Promise<void>;
  #settleFirstAppend!: () => void;
  /** Resolves once the run has ended here and its end is written (or kept to be written later). */
  readonly ended: Promise<void>;
  readonly resolveEnded: () => void;

  constructor(handle: RunHandle, runner: Runner, inserted: boolean, retention: Retention | null | undefined) {
    this.id = handle.id;
    this.handle = handle;
    this.runner = runner;
    this.inserted = inserted;
    this.retention = retention;
    // A resumed run's store already has the records of every step settled in its journal.
    this.sent = inserted
      ? Uint8Array.from(runner.state.stepStatus)
      : new Uint8Array(runner.plan.steps.length);
    this.stored = inserted ? null : {};
    this.firstAppend = new Promise<void>((resolve) => {
      this.#settleFirstAppend = resolve;
    });
    let resolveEnded!: () => void;
    this.ended = new Promise<void>((resolve) => {
      resolveEnded = resolve;
    });
    this.resolveEnded = resolveEnded;
  }

  settleFirstAppend(): void {
    this.#settleFirstAppend();
  }

  /**
   * The run as the store holds it once its end is committed — computed from what this process wrote,
   * without reading the store back — or null when that is not known here (a resumed run, a run lost to
   * another owner, refused, or whose end is not committed).
   */
  answer(): RunRecord | null {
    if (!this.endStored || this.endRow === null || this.stored === null || !this.writable) return null;
    return storedAnswer(this.endRow, this.stored);
  }

  /** Whether this process is executing the run and may still write it. */
  get writable(): boolean {
    return !this.lost && !this.suspended && this.refused === null;
  }
}
