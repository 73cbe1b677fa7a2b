/** Credits for a model call from a pricing table (per million input and output tokens). */
import { invalidArgument } from '../errors.js';
import type { PricingTable, Provider, TokenUsage } from '../providers/provider.js';

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

/** The prices providers declare (`provider.pricing`), keyed by the name each is registered under. */
export function providerPricing(providers: ReadonlyMap<string, Provider>): PricingTable {
  const out: PricingTable = {};
  for (const [name, provider] of providers) {
    const prices: unknown = provider.pricing;
    if (prices === undefined) continue;
    if (prices === null || typeof prices !== 'object' || Array.isArray(prices)) {
      throw invalidArgument(`providers.${name}.pricing`, 'an object of prices by model', prices);
    }
    for (const [model, price] of Object.entries(prices))
      checkPrice(`providers.${name}.pricing.${model}`, price);
    out[name] = { ...(prices as PricingTable[string]) };
  }
  return out;
}

function checkPrice(parameter: string, price: unknown): void {
  const fields = price as Record<string, unknown> | null;
  for (const field of ['input_per_million', 'output_per_million']) {
    const value = typeof fields === 'object' && fields !== null ? fields[field] : undefined;
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 0)
      throw invalidArgument(`${parameter}.${field}`, 'a finite number ≥ 0', value);
  }
}
