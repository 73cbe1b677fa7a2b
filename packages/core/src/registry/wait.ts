/**
 * `runs.wait`, and a foreground `runs.run`: the run once it has ended and been stored — wherever it runs.
 *
 * - In progress here: until it ends here. A run that ended here while the store failed answers its
 *   in-memory record (FAILED with STORE_ERROR), never RUNNING.
 * - In progress in another process sharing the store (its owner's lease runs): the store is read again
 *   and again (5 ms, doubling to 250 ms between reads) until the run has ended. A run this process was
 *   executing and lost to another owner is waited for the same way: its outcome is the new owner's.
 * - Live in the store with no live owner (its process died): resumed here first, when this Weft resumes
 *   runs (`recover`, the default with a store); else RUN_ORPHANED, saying how to resume it. In a Weft
 *   that has suspended its runs (`weft.suspend`), the run as it stands: RUNNING.
 * - In a client-only Weft, PENDING and unclaimed with no worker in sight for `noWorkerMs`: NO_WORKER
 *   (no-worker.ts). The run stays enqueued; the caller's signal, if any, keeps cancelling it until it
 *   has ended or the Weft closes (followSignal, as for a background run).
 * - With the caller's `signal` (a client's foreground `runs.run` / `runs.replay`): its abort cancels the
 *   run (signal-cancel.ts) and the wait goes on until the run has ended, CANCELLED unless its end won the
 *   race. A cancel that fails otherwise than NOT_CANCELLABLE fails the wait with its error.
 */
import { ERROR_CODES, isWeftError, WeftError } from '../errors.js';
import { isLiveStatus, type RunLease } from '../store/journal.js';
import { hasNotices } from '../store/notices.js';
import type { RunRecord, RunRow } from '../store/types.js';
import { loadRun } from './access.js';
import type { RegistryContext } from './context.js';
import { runNotFound } from './errors.js';
import { NoWorkerWatch } from './no-worker.js';
import { followSignal, SignalCancel } from './signal-cancel.js';

const FIRST_POLL_MS = 5;
const MAX_POLL_MS = 250;

export async function waitRun(ctx: RegistryContext, runId: string, signal?: AbortSignal): Promise<RunRecord> {
  const waker = new EndWaker(ctx, runId);
  // Attached before the first read: an abort from now on is a cancel (one that came earlier, too).
  const cancel = signal === undefined ? null : new SignalCancel(ctx, runId, signal, () => waker.wake(), true);
  let follow = false;
  try {
    return await waitWith(ctx, runId, waker, cancel);
  } catch (error) {
    // NO_WORKER: the call gives up waiting, not the run — it stays enqueued for a worker to come. The
    // caller's signal keeps meaning "cancel it", as a background run's does, until the run has ended
    // (or the Weft closes): an abort after the error must not leave the run to be executed later.
    follow = cancel !== null && !cancel.fired && isWeftError(error) && error.code === ERROR_CODES.NO_WORKER;
    throw error;
  } finally {
    // The call settles: the signal is no longer listened to here (a cancel under way goes on, its
    // failure reported); after NO_WORKER it is followed on (followSignal) from now on.
    cancel?.close();
    waker.close();
    if (follow) followSignal(ctx, runId, signal!);
  }
}

async function waitWith(
  ctx: RegistryContext,
  runId: string,
  waker: EndWaker,
  cancel: SignalCancel | null,
): Promise<RunRecord> {
  let delay = FIRST_POLL_MS;
  const noWorker = ctx.enqueue ? new NoWorkerWatch(ctx, cancel !== null) : null;
  for (;;) {
    cancel?.throwIfFailed();
    // Ended here with its end committed: what the store holds is known without reading it back.
    const answer = await ctx.recorder.ended(runId);
    if (answer !== null) return answer;
    const run = await loadRun(ctx, runId);
    if (run === null) throw runNotFound(runId);
    if (!isLiveStatus(run.status)) return run;
    if (ctx.recorder.isLive(runId)) continue; // resumed here meanwhile: wait for it here
    // A client-only Weft's run without an owner waits for a worker to claim it (NO_WORKER: none in sight).
    await noWorker?.check(run);
    if (!ctx.enqueue && !ctx.recorder.isActive(runId)) {
      const lease = await ctx.store.getLease(runId);
      if (orphaned(lease, ctx.owner.now())) {
        // This Weft suspended its runs (weft.suspend) and resumes none: the run as it stands (RUNNING).
        if (ctx.recovery.stopped) return run;
        if (!ctx.autoRecover) throw runOrphaned(run, lease);
        if (await ctx.recovery.resumeOne(runId)) {
          delay = FIRST_POLL_MS;
          continue;
        }
      }
    }
    await waker.sleep(delay);
    delay = Math.min(delay * 2, MAX_POLL_MS);
  }
}

/**
 * Sleeps that end early when the store says the run ended (stores with notices: a run.ended notice for
 * it, or a null one — notices may have been missed). One subscription for the whole wait: a store that
 * listens on a connection of its own would otherwise start and stop listening at every sleep. A notice
 * is only a reason to read the store again.
 */
export class EndWaker {
  #wake: (() => void) | null = null;
  /** wake() was called between two sleeps: the next one returns at once. */
  #woken = false;
  readonly #unsubscribe: () => void;

  constructor(ctx: RegistryContext, runId: string) {
    const { store } = ctx;
    this.#unsubscribe = hasNotices(store)
      ? store.subscribe('run.ended', (notice) => {
          if (notice.run_id === null || notice.run_id === runId) this.#wake?.();
        })
      : () => undefined;
  }

  /** Ends the current sleep now (something other than a notice says the store may have changed). */
  wake(): void {
    if (this.#wake === null) this.#woken = true;
    else this.#wake();
  }

  sleep(ms: number): Promise<void> {
    if (this.#woken) {
      this.#woken = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        if (this.#wake === done) this.#wake = null;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.#wake = done;
    });
  }

  close(): void {
    this.#wake = null;
    this.#unsubscribe();
  }
}

/** Whether nobody holds the run: no owner, or a lease that ended before `now`. */
function orphaned(lease: RunLease | null, now: string): boolean {
  return lease === null || lease.owner_id === null || lease.lease_until === null || lease.lease_until < now;
}

function runOrphaned(run: RunRow, lease: RunLease | null): WeftError {
  const since = lease?.lease_until ?? null;
  return new WeftError(
    ERROR_CODES.RUN_ORPHANED,
    `Run ${run.id} is ${run.status}, but no process holds it${since === null ? '' : ` (its owner's lease ended at ${since})`}: the process running it stopped before it ended, and this Weft does not resume runs (recover: false). Resume it with weft.recover(["${run.id}"]) — or open a Weft with recovery on this store — or cancel it (runs.cancel).`,
    { details: { run_id: run.id, status: run.status, lease_until: since }, retryable: false },
  );
}
