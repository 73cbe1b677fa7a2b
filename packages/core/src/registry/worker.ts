/**
 * Workers (docs/durability.md, "Workers"): a Weft with `worker: { concurrency }` executes, besides the
 * runs it starts itself, the runs other processes sharing its store enqueued (PENDING, unowned) and the
 * runs whose owner died (live, lease ended). It claims them in batches with `store.claimRuns` — disjoint
 * between concurrent workers — and starts (empty journal) or resumes each through the registry's
 * recovery path, so a claimed run is executed, journaled and heartbeaten like any run of this process.
 *
 * It looks for work when a `run.pending` notice arrives (stores with notices), when one of its runs
 * ends (a slot freed), and every `pollMs` (notices can be lost, and an expired lease sends none). A
 * `run.cancel` notice for a run executing here cancels it here, with the reason the canceller wrote on its row.
 *
 * On a store with worker presence (store/presence.ts) it announces itself when it opens and every
 * `owner.heartbeatMs`, until a lease from then, and withdraws when it stops claiming: a client can then
 * tell "no worker" from "workers busy" (NO_WORKER, no-worker.ts).
 */
import { reasonOfCancelError } from '../run/cancel-reason.js';
import type { Variable } from '../run/variables.js';
import { hasClaimsWithRows, type RunLease } from '../store/journal.js';
import { hasNotices } from '../store/notices.js';
import { hasPresence } from '../store/presence.js';
import type { RunRow } from '../store/types.js';
import { requestedCancelReason } from './cancel.js';
import type { RegistryContext } from './context.js';
import type { WorkerSettings } from './worker-options.js';

/** Claim batches per wake-up: the rest waits for the next one (bounded work per tick). */
const MAX_BATCHES = 100;

/** The reason a run cancelled by a notice records when its row holds none (a canceller of an older Weft). */
const REMOTE_CANCEL_REASON = 'Cancelled from another process sharing the store.';

export class Worker {
  readonly #ctx: RegistryContext;
  readonly #settings: WorkerSettings;
  readonly #unsubscribe: Array<() => void> = [];
  #timer: ReturnType<typeof setInterval> | null = null;
  #presence: ReturnType<typeof setInterval> | null = null;
  #busy: Promise<void> | null = null;
  #again = false;
  #closed = false;
  /** Runs a `run.cancel` notice is being acted on for (the notice repeats while the canceller waits). */
  readonly #cancelling = new Set<string>();

  constructor(ctx: RegistryContext, settings: WorkerSettings) {
    this.#ctx = ctx;
    this.#settings = settings;
  }

  start(): void {
    const { store } = this.#ctx;
    if (hasNotices(store)) {
      this.#unsubscribe.push(store.subscribe('run.pending', () => this.wake()));
      this.#unsubscribe.push(
        store.subscribe('run.cancel', (notice) => {
          if (notice.run_id !== null) this.#cancel(notice.run_id);
        }),
      );
    }
    this.#timer = setInterval(() => this.wake(), this.#settings.pollMs);
    this.#timer.unref();
    if (hasPresence(store)) {
      this.#announce();
      this.#presence = setInterval(() => this.#announce(), this.#ctx.owner.heartbeatMs);
      this.#presence.unref();
    }
    setImmediate(() => this.wake());
  }

  #announce(): void {
    const { store, owner, recovery } = this.#ctx;
    if (this.#closed || recovery.stopped || !hasPresence(store)) return;
    store.announceWorker(owner.id, owner.until()).catch((error: unknown) => {
      this.#ctx.report(error, { operation: 'announceWorker' });
    });
  }

  /** Looks for runs to claim now (coalesced: one scan at a time, another after it if asked meanwhile). */
  wake(): void {
    if (this.#closed) return;
    if (this.#busy !== null) {
      this.#again = true;
      return;
    }
    // After the current macrotask: the runs a group commit ends together free their slots first, and
    // one claim takes them all (instead of one claim per run that ended).
    const busy = new Promise<void>((resolve) => setImmediate(resolve))
      .then(() => this.#scan())
      .catch((error: unknown) => this.#ctx.report(error, { operation: 'claimRuns' }))
      .finally(() => {
        this.#busy = null;
        if (this.#again) {
          this.#again = false;
          this.wake();
        }
      });
    this.#busy = busy;
  }

  async #scan(): Promise<void> {
    const { store, owner, recorder, recovery } = this.#ctx;
    for (let batch = 0; batch < MAX_BATCHES && !this.#closed && !recovery.stopped; batch++) {
      const free = this.#settings.concurrency - recorder.live;
      if (free <= 0) return;
      const claim = { owner_id: owner.id, lease_until: owner.until(), now: owner.now() };
      const limit = Math.min(free, 1_000);
      // A store that returns the claimed rows with the claim (PostgreSQL) saves a read per run.
      const claimed: Array<{ lease: RunLease; row?: RunRow }> = hasClaimsWithRows(store)
        ? await store.claimRunsWithRows(claim, limit)
        : (await store.claimRuns(claim, limit)).map((lease) => ({ lease }));
      // The runs of a batch begin at once: their reads (row unless claimed with it, variables once per
      // app; the journal only when it has entries) overlap on the store's connections instead of
      // queueing one run after another.
      const variables = new Map<string, Promise<Variable[]>>();
      await Promise.all(
        claimed.map(async ({ lease, row }) => {
          if (recovery.stopped) {
            // Suspending (weft.suspend): a run claimed meanwhile goes back at once, for the next Weft.
            await store.releaseRun(lease.run_id, owner.id);
            return;
          }
          await recovery.resumeClaimed(lease.run_id, { variables, journalSeq: lease.journal_seq, row });
          // A slot frees when the run ends here: look for more work then.
          void recorder.ended(lease.run_id).then(() => this.wake());
        }),
      );
      if (claimed.length < free) return;
    }
  }

  /**
   * A `run.cancel` notice: a run executing here is cancelled with the reason the canceller wrote on its
   * row (cancel.ts), else a reason of ours. The notice comes again at every look of the canceller: one
   * read and one cancel per run at a time.
   */
  #cancel(runId: string): void {
    const { recorder, store } = this.#ctx;
    if (recorder.handleOf(runId) === undefined || this.#cancelling.has(runId)) return;
    this.#cancelling.add(runId);
    store
      .getRun(runId)
      .then((row) => {
        // The request on the live row; or, when the canceller's wait ran out between its notice and this
        // read and it ended the row itself, the reason the ended row records — the same text, which the
        // store then holds (a run cancelled here with another would report a different outcome).
        const reason =
          requestedCancelReason(row) ??
          (row?.status === 'CANCELLED' ? reasonOfCancelError(row.error) : null) ??
          REMOTE_CANCEL_REASON;
        return recorder.handleOf(runId)?.cancel(reason);
      })
      .catch((error: unknown) => this.#ctx.report(error, { operation: 'cancel', run_id: runId }))
      .finally(() => this.#cancelling.delete(runId));
  }

  /** Stops claiming (runs in progress here go on to their end), and says so to the store. */
  async close(): Promise<void> {
    if (this.#closed) return this.#busy ?? undefined;
    this.#closed = true;
    if (this.#timer !== null) clearInterval(this.#timer);
    if (this.#presence !== null) clearInterval(this.#presence);
    for (const unsubscribe of this.#unsubscribe.splice(0)) unsubscribe();
    await this.#busy;
    const { store, owner } = this.#ctx;
    if (hasPresence(store)) {
      await store.withdrawWorker(owner.id).catch((error: unknown) => {
        this.#ctx.report(error, { operation: 'withdrawWorker' });
      });
    }
  }
}
