/**
 * A snapshot of OpenAI's list prices (USD per million tokens, standard tier, late 2025) for a few current
 * models. Credits = USD. A snapshot goes stale: the host overrides or extends it through the engine's
 * pricing option (e.g. `mergePricing(pricing, { openai: { 'gpt-4o': {...} } })`), and re-keys it when it
 * registers the provider under another name (`{ azure: pricing.openai }`).
 */
import type { PricingTable } from '@weft/core';

export const pricing: PricingTable = {
  openai: {
    'gpt-5': { input_per_million: 1.25, output_per_million: 10 },
    'gpt-5-mini': { input_per_million: 0.25, output_per_million: 2 },
    'gpt-5-nano': { input_per_million: 0.05, output_per_million: 0.4 },
    'gpt-4.1': { input_per_million: 2, output_per_million: 8 },
    'gpt-4.1-mini': { input_per_million: 0.4, output_per_million: 1.6 },
    'gpt-4.1-nano': { input_per_million: 0.1, output_per_million: 0.4 },
    'gpt-4o': { input_per_million: 2.5, output_per_million: 10 },
    'gpt-4o-mini': { input_per_million: 0.15, output_per_million: 0.6 },
    o3: { input_per_million: 2, output_per_million: 8 },
    'o4-mini': { input_per_million: 1.1, output_per_million: 4.4 },
  },
};
