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
 */
import { ERROR_CODES, WeftError } from '../errors.js';
import { isLiveStatus, type RunLease } from '../store/journal.js';
import type { RunRecord, RunRow } from '../store/types.js';
import { loadRun } from './access.js';
import type { RegistryContext } from './context.js';
import { runNotFound } from './errors.js';

const FIRST_POLL_MS = 5;
const MAX_POLL_MS = 250;

export async function waitRun(ctx: RegistryContext, runId: string): Promise<RunRecord> {
  let delay = FIRST_POLL_MS;
  for (;;) {
    await ctx.recorder.ended(runId);
    const run = await loadRun(ctx, runId);
    if (run === null) throw runNotFound(runId);
    if (!isLiveStatus(run.status)) return run;
    if (ctx.recorder.isLive(runId)) continue; // resumed here meanwhile: wait for it here
    if (!ctx.recorder.isActive(runId)) {
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
    await new Promise((resolve) => setTimeout(resolve, delay));
    delay = Math.min(delay * 2, MAX_POLL_MS);
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
