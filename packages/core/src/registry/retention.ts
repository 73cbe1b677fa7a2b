/**
 * Retention sweeps: purge the data of every run due at `now` (docs/retention.md). Due runs come from
 * the store's due index, oldest first, in batches; what a purge removes is defined once, in
 * store/purge.ts.
 */
import type { SweepResult } from './client.js';
import type { RegistryContext } from './context.js';

const BATCH = 100;

export async function sweep(ctx: RegistryContext, now: string): Promise<SweepResult> {
  const purged: string[] = [];
  for (;;) {
    const due = await ctx.store.listRunsDue(now, BATCH);
    for (const run of due) {
      const row = await ctx.store.purgeRun(run.id, now);
      if (row !== null) purged.push(run.id);
    }
    if (due.length < BATCH) break;
  }
  return { purged };
}
