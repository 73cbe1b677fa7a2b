/**
 * The engine's catalogue: every model the registered providers publish (`provider.catalogue`), checked
 * once when the engine is created, each with its effective price. Automatic model choice
 * (auto-model.ts) picks from it.
 *
 * A model's price is, in order: the engine's `pricing` option for that provider and model, the
 * catalogue entry's own `price`, the provider's `pricing` (by model, then `"*"`). A model with none is
 * still a candidate, ranked after every priced one (its cost is unknown, not zero).
 */
import { invalidArgument } from '../errors.js';
import type { CatalogueModel, ModelPrice, PricingTable, Provider } from './provider.js';

/** A catalogue model with its provider, every capability spelled out, and its effective price. */
export interface CatalogueEntry {
  /** The name the provider is registered under. */
  provider: string;
  model: string;
  json: boolean;
  tools: boolean;
  images: boolean;
  files: boolean;
  context_window: number;
  max_output: number;
  /** Null when no price is known. */
  price: ModelPrice | null;
}

/** Models per provider catalogue at most: a catalogue is data from a package, not a stream. */
export const MAX_CATALOGUE_MODELS = 1_000;

const CAPABILITIES = ['json', 'tools', 'images', 'files'] as const;

/**
 * The catalogue of every registered provider, in registration order then catalogue order. Throws
 * INVALID_ARGUMENT naming the field (`providers.<name>.catalogue[<i>].<field>`) for a malformed entry.
 */
export function buildCatalogue(
  providers: ReadonlyMap<string, Provider>,
  pricing: { engine?: PricingTable | undefined; providers: PricingTable },
): CatalogueEntry[] {
  const out: CatalogueEntry[] = [];
  for (const [name, provider] of providers) {
    const list: unknown = provider.catalogue;
    if (list === undefined) continue;
    const where = `providers.${name}.catalogue`;
    if (!Array.isArray(list)) throw invalidArgument(where, 'an array of catalogue models', list);
    if (list.length > MAX_CATALOGUE_MODELS) {
      throw invalidArgument(where, `at most ${MAX_CATALOGUE_MODELS} models`, `${list.length} models`);
    }
    const seen = new Set<string>();
    list.forEach((raw: unknown, i) => {
      const entry = checkModel(raw, `${where}[${i}]`);
      if (seen.has(entry.model)) {
        throw invalidArgument(`${where}[${i}].model`, 'a model name not listed before', entry.model);
      }
      seen.add(entry.model);
      const price =
        pricing.engine?.[name]?.[entry.model] ??
        entry.price ??
        pricing.providers[name]?.[entry.model] ??
        pricing.providers[name]?.['*'] ??
        null;
      out.push({
        provider: name,
        model: entry.model,
        json: entry.json === true,
        tools: entry.tools === true,
        images: entry.images === true,
        files: entry.files === true,
        context_window: entry.context_window,
        max_output: entry.max_output,
        price: price === null ? null : { ...price },
      });
    });
  }
  return out;
}

/** The catalogues' own prices as a pricing table (so that a chosen model's calls are priced with them). */
export function cataloguePricing(providers: ReadonlyMap<string, Provider>): PricingTable {
  const out: PricingTable = {};
  for (const [name, provider] of providers) {
    if (!Array.isArray(provider.catalogue)) continue;
    for (const entry of provider.catalogue) {
      if (entry?.price === undefined || typeof entry.model !== 'string') continue;
      out[name] ??= {};
      out[name][entry.model] = { ...entry.price };
    }
  }
  return out;
}

function checkModel(raw: unknown, where: string): CatalogueModel {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw invalidArgument(where, 'an object { model, context_window, max_output, … }', raw);
  }
  const entry = raw as Record<string, unknown>;
  if (typeof entry.model !== 'string' || entry.model === '' || entry.model === 'auto') {
    throw invalidArgument(`${where}.model`, 'a non-empty model name other than "auto"', entry.model);
  }
  for (const field of ['context_window', 'max_output'] as const) {
    const value = entry[field];
    if (!(typeof value === 'number' && Number.isSafeInteger(value) && value >= 1)) {
      throw invalidArgument(`${where}.${field}`, 'a positive integer (tokens)', value);
    }
  }
  for (const field of CAPABILITIES) {
    if (entry[field] !== undefined && typeof entry[field] !== 'boolean') {
      throw invalidArgument(`${where}.${field}`, 'true, false or absent', entry[field]);
    }
  }
  if (entry.price !== undefined) {
    const price = entry.price as Record<string, unknown> | null;
    for (const field of ['input_per_million', 'output_per_million'] as const) {
      const value = price !== null && typeof price === 'object' ? price[field] : undefined;
      if (!(typeof value === 'number' && Number.isFinite(value) && value >= 0)) {
        throw invalidArgument(`${where}.price.${field}`, 'a finite number ≥ 0', value);
      }
    }
  }
  return entry as unknown as CatalogueModel;
}
