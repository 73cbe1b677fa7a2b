/** Cancelling a run of the caller: here, in the process that executes it (run.cancel), or its row. */
import { optionalString } from '../arguments.js';
import { ERROR_CODES, type ErrorRecord, WeftError } from '../errors.js';
import { boundCancelReason, reasonOfCancelError } from '../run/cancel-reason.js';
import { computeRetentionDueAt } from '../run/retention.js';
import { redact, resolveVariables } from '../run/variables.js';
import type { RunStatus } from '../statuses.js';
import { hasNotices } from '../store/notices.js';
import type { RunRecord, RunRow } from '../store/types.js';
import { loadRun } from './access.js';
import type { RegistryContext } from './context.js';
import { EndWaker } from './wait.js';

const ENDED: ReadonlySet<RunStatus> = new Set(['COMPLETED', 'FAILED', 'CANCELLED']);

export function notCancellable(id: string, status: string): WeftError {
  return new WeftError(
    ERROR_CODES.NOT_CANCELLABLE,
    `Run ${id} has already ended (${status}); there is nothing to cancel. Replay it (runs.replay) to run it again.`,
    { details: { run_id: id, status }, retryable: false },
  );
}

/** The reason `runs.cancel` records when the caller gives none. */
export const REGISTRY_CANCEL_REASON = 'Cancelled through the registry.';

/**
 * Cancels a run of the caller (already scope-checked). Exactly one terminal status wins: the engine
 * decides between a cancel and a completion racing each other, and the loser is told (NOT_CANCELLABLE
 * with the status the run ended with). The run records `reason` (bounded, run/cancel-reason.ts) as its
 * error (code CANCELLED) wherever it executes: here, in another process (cancelRemote), or on its row.
 */
export async function cancelRun(ctx: RegistryContext, row: RunRow, reason?: string): Promise<RunRecord> {
  optionalString(reason, 'reason');
  const text = boundCancelReason(reason ?? REGISTRY_CANCEL_REASON);
  const handle = ctx.recorder.handleOf(row.id);
  if (handle !== undefined) {
    const result = await handle.cancel(text);
    await ctx.recorder.ended(row.id);
    const final = (await loadRun(ctx, row.id))!;
    if (!result.cancelled) throw notCancellable(row.id, final.status);
    return final;
  }
  if (ENDED.has(row.status)) throw notCancellable(row.id, row.status);
  const error = cancelError(await redactReason(ctx, row, text));
  const remote = await cancelRemote(ctx, row.id, error);
  if (remote !== null) {
    if (remote.status !== 'CANCELLED') throw notCancellable(row.id, remote.status);
    return remote;
  }
  // Not running in this process (a durable store outlived the process that ran it): end the row.
  const now = ctx.now();
  const updated = await ctx.store.updateRun(
    row.id,
    {
      status: 'CANCELLED',
      error,
      ended_at: now,
      updated_at: now,
      retention_due_at: computeRetentionDueAt(row.retention, now),
    },
    { status_in: ['PENDING', 'RUNNING'] },
  );
  if (updated === null) {
    const current = await ctx.store.getRun(row.id);
    throw notCancellable(row.id, current?.status ?? 'unknown');
  }
  return (await loadRun(ctx, row.id))!;
}

/**
 * The reason with the secrets of the run's app redacted, as the process executing a run redacts its
 * error: a reason written on the row here (a request, or the end) reads as it would had the run been
 * cancelled where it executes.
 */
async function redactReason(ctx: RegistryContext, row: RunRow, reason: string): Promise<string> {
  const listed = await ctx.store.listVariables(row.workflow_app_id ?? row.app_id ?? '');
  if (!listed.some((v) => v.secret)) return reason;
  const { secrets } = resolveVariables(listed.map((v) => ({ key: v.key, value: v.value, secret: v.secret })));
  return redact(reason, secrets);
}

/** What a cancelled run records as its error: the cancel's reason. */
function cancelError(reason: string): ErrorRecord {
  return { code: ERROR_CODES.CANCELLED, message: reason };
}

/**
 * The cancel reason another process asked for, as the run's row holds it while the run is still live
 * (cancelRemote writes it before its `run.cancel` notice), or null: none asked (or not as a string).
 * The row is read as hostile: anything but a CANCELLED error with a string message is no request.
 */
export function requestedCancelReason(row: RunRow | null): string | null {
  if (row === null || (row.status !== 'PENDING' && row.status !== 'RUNNING')) return null;
  return reasonOfCancelError(row.error);
}

/**
 * How long a cancel waits for the process running the run to stop it, before ending the row itself: that
 * process's cancel grace (taken to be this Weft's `limits.cancelGraceMs`: give both the same) plus the
 * notice's way there and the run's last journal write back.
 */
export function remoteCancelWaitMs(cancelGraceMs: number): number {
  return cancelGraceMs + REMOTE_CANCEL_MARGIN_MS;
}
const REMOTE_CANCEL_MARGIN_MS = 1_000;

/**
 * A run another live process executes (its owner's lease runs), on a store with notices: the request is
 * written on the run's row (its `error`: CANCELLED with the caller's reason), that process is told
 * (`run.cancel`), reads the reason there and stops its handlers within its cancel grace; the run as it ended there, or null
 * when nobody answered in time (or nobody holds the run) — the caller then ends the row itself, and
 * the process still running it learns on its next append (LEASE_LOST).
 */
async function cancelRemote(
  ctx: RegistryContext,
  runId: string,
  error: ErrorRecord,
): Promise<RunRecord | null> {
  const { store } = ctx;
  if (!hasNotices(store)) return null;
  const lease = await store.getLease(runId);
  if (lease === null || lease.owner_id === null || lease.lease_until === null) return null;
  if (lease.lease_until < ctx.owner.now()) return null;
  // The request, durably on the row before any notice: the worker reads the caller's reason there when
  // it acts on the notice (a notice carries only the run id), and records it. Nothing else writes a live
  // run's `error` (the worker writes it with the end), so the request stands until the run has ended.
  const requested = await store.updateRun(
    runId,
    { error, updated_at: ctx.now() },
    { status_in: ['PENDING', 'RUNNING'] },
  );
  if (requested === null) return loadRun(ctx, runId); // ended meanwhile: as it ended
  const deadline = Date.now() + remoteCancelWaitMs(ctx.cancelGraceMs);
  const waker = new EndWaker(ctx, runId);
  try {
    let delay = 5;
    while (Date.now() < deadline) {
      // Sent again at every look: a notice can be lost (a listener that was connecting, or reconnecting).
      await store.notify('run.cancel', runId);
      const run = await loadRun(ctx, runId);
      if (run === null || ENDED.has(run.status)) return run;
      await waker.sleep(delay);
      delay = Math.min(delay * 2, 250);
    }
  } finally {
    waker.close();
  }
  return null;
}
