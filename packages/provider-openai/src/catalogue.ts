/**
 * The models `openai()` offers for automatic model choice (`model: "auto"`), with what each takes (a
 * snapshot of OpenAI's model pages, late 2025; prices from pricing.ts). Only models that work with the
 * provider's default wire settings are listed: the reasoning models (gpt-5, o-series) need
 * `maxTokensParam: "max_completion_tokens"` and refuse a `temperature`, so they are left out; add them
 * with the `catalogue` option. Used only against OpenAI's own endpoint: a compatible server (Azure,
 * Ollama, vLLM…) serves other models, so it has no catalogue unless the `catalogue` option gives one.
 */
import type { CatalogueModel } from '@weft/core';
import { pricing } from './pricing.js';

const prices = pricing.openai!;

const model = (name: string, context_window: number, max_output: number): CatalogueModel => ({
  model: name,
  json: true,
  tools: true,
  images: true,
  files: true,
  context_window,
  max_output,
  ...(prices[name] === undefined ? {} : { price: { ...prices[name] } }),
});

export const catalogue: readonly CatalogueModel[] = Object.freeze([
  model('gpt-4.1', 1_047_576, 32_768),
  model('gpt-4.1-mini', 1_047_576, 32_768),
  model('gpt-4.1-nano', 1_047_576, 32_768),
  model('gpt-4o', 128_000, 16_384),
  model('gpt-4o-mini', 128_000, 16_384),
]);
