/**
 * Graceful shutdown (`weft serve` on SIGTERM): stop accepting requests, give the runs in progress
 * `graceMs` to end, then
 *
 * - on a store another process can open (SQLite, PostgreSQL): suspend those still running
 *   (`weft.suspend`) — no new step starts, the running ones get `suspendGraceMs` to settle (then they are
 *   abandoned and run again on resume), each run's journal is flushed and its lease released. The runs
 *   stay RUNNING in the store and the next `weft serve` on it (any Weft with recovery) resumes them at once;
 *   a streamed or foreground request still open gets the run as stored, RUNNING;
 * - on a MemoryStore (nothing outlives the process, nothing could resume them): cancel them — they end
 *   CANCELLED and are stored, and their streams get their final `run` event;
 *
 * then wait for the last responses and the store's writes.
 */
import { invalidArgument, MemoryStore, type Weft } from '@weft/core';
import type { FastifyInstance } from 'fastify';

export interface ShutdownOptions {
  /** How long runs in progress may take to end on their own. Default 30,000 ms. */
  graceMs?: number;
  /**
   * After `graceMs`, how long the steps still running may take to settle before their run is suspended
   * anyway (their executions abandoned: they run again on resume). Default 10,000 ms. Durable stores only.
   */
  suspendGraceMs?: number;
  /** Suspend the runs still in progress (true) or cancel them (false). Default: cancel on a MemoryStore only. */
  suspend?: boolean;
}

export interface ShutdownReport {
  /** Runs that were in progress and ended on their own (within the grace periods). */
  ended: number;
  /** Ids of the runs cancelled (MemoryStore; or PENDING runs, not in the store yet). */
  cancelled: string[];
  /** Ids of the runs suspended: RUNNING in the store, resumed by the next Weft with recovery on it. */
  suspended: string[];
}

const MAX_GRACE_MS = 3_600_000;

function graceOption(value: unknown, parameter: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (!(Number.isInteger(value) && (value as number) >= 0 && (value as number) <= MAX_GRACE_MS)) {
    throw invalidArgument(parameter, 'a whole number of milliseconds from 0 to 3,600,000', value);
  }
  return value as number;
}

export async function shutdown(
  server: FastifyInstance,
  weft: Weft,
  options: ShutdownOptions = {},
): Promise<ShutdownReport> {
  const graceMs = graceOption(options.graceMs, 'graceMs', 30_000);
  const suspendGraceMs = graceOption(options.suspendGraceMs, 'suspendGraceMs', 10_000);
  if (options.suspend !== undefined && typeof options.suspend !== 'boolean') {
    throw invalidArgument('suspend', 'true or false', options.suspend);
  }
  const suspend = options.suspend ?? !(weft.store instanceof MemoryStore);
  const closing = server.close();
  const active = [...weft.engine.active.values()];
  let timer: ReturnType<typeof setTimeout> | undefined;
  const graceOver = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, graceMs);
  });
  await Promise.race([Promise.all(active.map((h) => h.done)), graceOver]);
  clearTimeout(timer);
  const cancelled: string[] = [];
  const suspended: string[] = [];
  if (suspend) {
    const result = await weft.suspend({ graceMs: suspendGraceMs });
    cancelled.push(...result.cancelled);
    suspended.push(...result.suspended);
  } else {
    for (const handle of weft.engine.active.values()) {
      const result = await handle.cancel('The server is shutting down.');
      if (result.cancelled) cancelled.push(handle.id);
    }
  }
  // The open requests answer now. A connection kept alive after its last response would hold close()
  // for the keep-alive timeout (72 s): idle ones are closed as they become idle.
  const sweeper = setInterval(() => server.server.closeIdleConnections?.(), 25);
  try {
    await closing;
  } finally {
    clearInterval(sweeper);
  }
  await weft.close();
  return { ended: Math.max(0, active.length - cancelled.length - suspended.length), cancelled, suspended };
}
