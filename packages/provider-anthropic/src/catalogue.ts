/**
 * The models `anthropic()` offers for automatic model choice (`model: "auto"`), by alias, with what each
 * takes (a snapshot of Anthropic's model overview, late 2025; prices from pricing.ts). JSON output works
 * for every model (an instruction, or one forced tool call for structured output). Used only against
 * Anthropic's own endpoint unless the `catalogue` option gives one.
 */
import type { CatalogueModel } from '@weft/core';
import { pricing } from './pricing.js';

const prices = pricing.anthropic!;

const model = (name: string, max_output: number, attachments: boolean): CatalogueModel => ({
  model: name,
  json: true,
  tools: true,
  images: attachments,
  files: attachments,
  context_window: 200_000,
  max_output,
  ...(prices[name] === undefined ? {} : { price: { ...prices[name] } }),
});

export const catalogue: readonly CatalogueModel[] = Object.freeze([
  model('claude-opus-4-5', 64_000, true),
  model('claude-opus-4-1', 32_000, true),
  model('claude-sonnet-4-5', 64_000, true),
  model('claude-sonnet-4-0', 64_000, true),
  model('claude-haiku-4-5', 64_000, true),
  model('claude-3-5-haiku-latest', 8_192, false),
]);
