/** Credits for a model call from a pricing table (per million input and output tokens). */
import type { PricingTable, TokenUsage } from '../providers/provider.js';

export type PriceLookup = { credits: number; priced: true } | { credits: 0; priced: false };

export function priceCall(
  table: PricingTable,
  provider: string,
  model: string,
  usage: TokenUsage,
): PriceLookup {
  const models = table[provider];
  const price = models?.[model] ?? models?.['*'];
  if (price === undefined) return { credits: 0, priced: false };
  const credits =
    (usage.input_tokens * price.input_per_million + usage.output_tokens * price.output_per_million) /
    1_000_000;
  return { credits: Number.isFinite(credits) ? credits : 0, priced: true } as PriceLookup;
}

/** Merges pricing tables; later tables override earlier ones model by model. */
export function mergePricing(...tables: Array<PricingTable | undefined>): PricingTable {
  const out: PricingTable = {};
  for (const table of tables) {
    if (table === undefined) continue;
    for (const [provider, models] of Object.entries(table)) out[provider] = { ...out[provider], ...models };
  }
  return out;
}
