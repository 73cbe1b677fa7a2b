/**
 * A snapshot of Anthropic's list prices (USD per million tokens, late 2025) for a few current models,
 * under both their aliases and their dated ids. Credits = USD. A snapshot goes stale: the host overrides
 * or extends it through the engine's pricing option, and re-keys it when it registers the provider under
 * another name (`{ bedrock: pricing.anthropic }`). Prompt-cache tokens are counted as input tokens.
 */
import type { ModelPrice, PricingTable } from '@weft/core';

const price = (input: number, output: number): ModelPrice => ({
  input_per_million: input,
  output_per_million: output,
});

export const pricing: PricingTable = {
  anthropic: {
    'claude-opus-4-5': price(5, 25),
    'claude-opus-4-5-20251101': price(5, 25),
    'claude-opus-4-1': price(15, 75),
    'claude-opus-4-1-20250805': price(15, 75),
    'claude-opus-4-0': price(15, 75),
    'claude-opus-4-20250514': price(15, 75),
    'claude-sonnet-4-5': price(3, 15),
    'claude-sonnet-4-5-20250929': price(3, 15),
    'claude-sonnet-4-0': price(3, 15),
    'claude-sonnet-4-20250514': price(3, 15),
    'claude-haiku-4-5': price(1, 5),
    'claude-haiku-4-5-20251001': price(1, 5),
    'claude-3-5-haiku-latest': price(0.8, 4),
    'claude-3-5-haiku-20241022': price(0.8, 4),
  },
};
