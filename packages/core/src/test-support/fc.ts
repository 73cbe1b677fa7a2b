/**
 * fast-check run counts: bounded by default so CI stays fast on 2 cores; `WEFT_FC_RUNS=N` multiplies
 * every property's runs for a heavier local soak (e.g. `WEFT_FC_RUNS=20 npx pnpm@10 test`).
 */
const factor = Number(process.env.WEFT_FC_RUNS ?? 1);

export function fcRuns(base: number): number {
  return Math.max(1, Math.round(base * (Number.isFinite(factor) && factor > 0 ? factor : 1)));
}
