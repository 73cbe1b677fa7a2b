/**
 * A client-only Weft (`worker: false`) waiting for a run nobody executes (docs/durability.md, "Workers"):
 * without a bound, `runs.wait` and a foreground `runs.run` would wait forever when no worker runs on the
 * store. Once the run has stayed PENDING and unclaimed for `noWorkerMs` of the wait, the store's worker
 * presence (store/presence.ts) says whether any worker is alive: none — the wait fails NO_WORKER (the run
 * stays enqueued for a worker to come); some — they are busy, the count starts again. A store without
 * presence cannot tell the two apart: the wait goes on, bounded only by the caller. A foreground call's
 * signal goes on cancelling the run after NO_WORKER (wait.ts): `details.signal_followed`.
 */
import { ERROR_CODES, WeftError } from '../errors.js';
import { hasPresence } from '../store/presence.js';
import type { RunRow } from '../store/types.js';
import type { RegistryContext } from './context.js';

export class NoWorkerWatch {
  readonly #ctx: RegistryContext;
  /** The waiting call has a signal: it goes on cancelling the run after NO_WORKER (wait.ts). */
  readonly #signalFollowed: boolean;
  /** When the count started (epoch ms): the wait's start, or the last time workers were seen busy. */
  #since = Date.now();

  constructor(ctx: RegistryContext, signalFollowed = false) {
    this.#ctx = ctx;
    this.#signalFollowed = signalFollowed;
  }

  /** Throws NO_WORKER when `run` (live, as just read) has waited `noWorkerMs` with no worker alive. */
  async check(run: RunRow): Promise<void> {
    const { store, owner, noWorkerMs } = this.#ctx;
    if (run.status !== 'PENDING' || noWorkerMs === Number.POSITIVE_INFINITY || !hasPresence(store)) return;
    const waited = Date.now() - this.#since;
    if (waited < noWorkerMs) return;
    const lease = await store.getLease(run.id);
    if (lease === null || lease.status !== 'PENDING') return; // begun or ended meanwhile: read it again
    const held = lease.owner_id !== null && lease.lease_until !== null && lease.lease_until >= owner.now();
    if (held || (await store.countWorkers(owner.now())) > 0) {
      this.#since = Date.now(); // claimed, or workers alive and busy: look again after another bound
      return;
    }
    const signal = this.#signalFollowed
      ? ' The signal given with the call still cancels it (until it has ended or this Weft closes).'
      : '';
    throw new WeftError(
      ERROR_CODES.NO_WORKER,
      `Run ${run.id} was enqueued for the workers (this Weft is a client: worker: false), but no worker claimed it in ${waited} ms and none is alive on this store. The run stays PENDING, nothing is lost: start a worker on the same store (createWeft({ store, worker: {} }) or \`weft worker --db …\`) and call runs.wait("${run.id}") again, or cancel it (runs.cancel).${signal}`,
      {
        details: {
          run_id: run.id,
          waited_ms: waited,
          ...(this.#signalFollowed ? { signal_followed: true } : {}),
        },
        retryable: true,
      },
    );
  }
}
