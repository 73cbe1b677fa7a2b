/**
 * The caller's `signal` on a client-only Weft (`worker: false`, docs/durability.md "Workers"): its run
 * executes in a worker, so an abort cannot stop it here as `engine.start`'s signal does — it cancels the
 * run where it is (cancel.ts: `run.cancel` to the worker executing it, or the row when nobody holds it),
 * as `runs.cancel` would. A foreground call follows the signal for as long as it waits (wait.ts); a
 * background one until the run has ended (`followSignal`). Either way the listener is removed when
 * following stops, so one long-lived signal given to many calls holds no listener per ended run.
 */
import { ERROR_CODES, isWeftError } from '../errors.js';
import { cancelReasonOf, MAX_CANCEL_REASON_LENGTH } from '../run/cancel-reason.js';
import { isLiveStatus } from '../store/journal.js';
import { cancelRun } from './cancel.js';
import type { RegistryContext } from './context.js';
import { EndWaker } from './wait.js';

/** A signal's reason is the caller's text: kept to this many characters in the cancel's reason. */
export const MAX_SIGNAL_REASON_LENGTH = MAX_CANCEL_REASON_LENGTH;

/**
 * How often a background run's end is looked for (besides `run.ended` notices), to stop listening to its
 * signal: from the first to the last, doubling. Seeing the end late costs nothing but the listener for
 * that long: an abort meanwhile finds the run ended (NOT_CANCELLABLE), and nothing happens.
 */
const FOLLOW_FIRST_MS = 50;
const FOLLOW_MAX_MS = 2_000;

/**
 * The cancel reason a signal gives, as `engine.start` takes it (run/cancel-reason.ts): an Error's
 * message, a string, or a default — bounded, and never throwing whatever the reason is.
 */
export function signalReason(signal: AbortSignal): string {
  return cancelReasonOf(signal.reason);
}

/**
 * Listens to `signal` for one run: on abort (or at once, when it has already fired) it cancels the run,
 * once. NOT_CANCELLABLE (the run ended first) is the race's other outcome, not a failure. Any other
 * failure of the cancel (the store down, say) is handed to the waiting call (`throwIfFailed`) while it
 * waits, and reported (`onStoreError`, operation `cancel`) once nobody waits.
 */
export class SignalCancel {
  readonly #ctx: RegistryContext;
  readonly #runId: string;
  readonly #signal: AbortSignal;
  readonly #settled: () => void;
  /** Whether a call waits and takes the failure (foreground); else it is reported. */
  readonly #waited: boolean;
  #listening = false;
  #closed = false;
  #fired = false;
  #failure: { error: unknown } | null = null;

  /**
   * `settled` is called when the cancel has been done or has failed (the waiter looks again); `waited`:
   * a call waits for the run and takes a failure of the cancel (else it is reported).
   */
  constructor(
    ctx: RegistryContext,
    runId: string,
    signal: AbortSignal,
    settled: () => void,
    waited: boolean,
  ) {
    this.#ctx = ctx;
    this.#waited = waited;
    this.#runId = runId;
    this.#signal = signal;
    this.#settled = settled;
    if (signal.aborted) this.#fire();
    else {
      signal.addEventListener('abort', this.#onAbort, { once: true });
      this.#listening = true;
    }
  }

  /** Whether the signal has fired (the run is being, or has been, cancelled). */
  get fired(): boolean {
    return this.#fired;
  }

  /** Throws the cancel's failure, if it failed (otherwise than NOT_CANCELLABLE). */
  throwIfFailed(): void {
    if (this.#failure !== null) throw this.#failure.error;
  }

  /** Stops listening. A cancel already under way goes on; its failure is then reported. */
  close(): void {
    this.#closed = true;
    this.#detach();
  }

  readonly #onAbort = (): void => {
    this.#listening = false;
    this.#fire();
  };

  #detach(): void {
    if (!this.#listening) return;
    this.#listening = false;
    this.#signal.removeEventListener('abort', this.#onAbort);
  }

  #fire(): void {
    if (this.#fired) return;
    this.#fired = true;
    this.#detach();
    this.#cancel().then(this.#settled, (error: unknown) => {
      if (this.#closed || !this.#waited) report(this.#ctx, error, 'cancel', this.#runId);
      else this.#failure = { error };
      this.#settled();
    });
  }

  async #cancel(): Promise<void> {
    const row = await this.#ctx.store.getRun(this.#runId);
    // Gone (deleted by something else): there is nothing left to cancel; the waiter says NOT_FOUND.
    if (row === null) return;
    try {
      await cancelRun(this.#ctx, row, signalReason(this.#signal));
    } catch (error) {
      // The run ended before the cancel reached it: it keeps the status it ended with, as in-process.
      if (isWeftError(error) && error.code === ERROR_CODES.NOT_CANCELLABLE) return;
      throw error;
    }
  }
}

/**
 * A background run's signal, followed until the run has ended (seen through `run.ended` notices and a
 * look at its lease now and then), or the Weft closes. A failed look is reported and tried again later.
 */
export function followSignal(ctx: RegistryContext, runId: string, signal: AbortSignal): void {
  const waker = new EndWaker(ctx, runId);
  const stop = () => waker.wake();
  const cancel = new SignalCancel(ctx, runId, signal, stop, false);
  ctx.closing.add(stop);
  const follow = async () => {
    let delay = FOLLOW_FIRST_MS;
    while (!cancel.fired && !ctx.closing.closed) {
      try {
        const lease = await ctx.store.getLease(runId);
        if (lease === null || !isLiveStatus(lease.status)) return;
      } catch (error) {
        report(ctx, error, 'getLease', runId);
        delay = FOLLOW_MAX_MS;
      }
      await waker.sleep(delay);
      delay = Math.min(delay * 2, FOLLOW_MAX_MS);
    }
  };
  follow()
    .catch((error: unknown) => report(ctx, error, 'getLease', runId))
    .finally(() => {
      ctx.closing.delete(stop);
      cancel.close();
      waker.close();
    });
}

/** `onStoreError`, from a promise nobody awaits: a reporter that throws must not become an unhandled rejection. */
function report(ctx: RegistryContext, error: unknown, operation: string, runId: string): void {
  try {
    ctx.report(error, { operation, run_id: runId });
  } catch (thrown) {
    const message = thrown instanceof Error ? thrown.message : String(thrown);
    process.emitWarning(
      `onStoreError threw while reporting a failed ${operation} of run ${runId}: ${message}`,
      {
        code: 'WEFT_LISTENER_ERROR',
      },
    );
  }
}
