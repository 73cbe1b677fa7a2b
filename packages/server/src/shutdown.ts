/**
 * Graceful shutdown (`weft serve` on SIGTERM): stop accepting requests, give the runs in progress
 * `graceMs` to end, cancel those still running (they end CANCELLED and are stored, and their streams
 * get their final `run` event), then wait for the last responses and the store's writes.
 *
 * Runs are not resumed after a restart yet: that needs the durable journal of issue 12. Until then a
 * run still going after the grace period is cancelled rather than lost mid-step.
 */
import type { Weft } from '@weft/core';
import type { FastifyInstance } from 'fastify';

export interface ShutdownOptions {
  /** How long runs in progress may take to end before they are cancelled. Default 30,000 ms. */
  graceMs?: number;
}

export interface ShutdownReport {
  /** Runs that were in progress and ended on their own within the grace period. */
  ended: number;
  /** Ids of the runs cancelled at the end of the grace period. */
  cancelled: string[];
}

export async function shutdown(
  server: FastifyInstance,
  weft: Weft,
  options: ShutdownOptions = {},
): Promise<ShutdownReport> {
  const graceMs = options.graceMs ?? 30_000;
  const closing = server.close();
  const active = [...weft.engine.active.values()];
  let timer: ReturnType<typeof setTimeout> | undefined;
  const graceOver = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, graceMs);
  });
  await Promise.race([Promise.all(active.map((h) => h.done)), graceOver]);
  clearTimeout(timer);
  const cancelled: string[] = [];
  for (const handle of weft.engine.active.values()) {
    const result = await handle.cancel('The server is shutting down.');
    if (result.cancelled) cancelled.push(handle.id);
  }
  await closing;
  await weft.close();
  return { ended: active.length - cancelled.length, cancelled };
}
