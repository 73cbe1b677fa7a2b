/**
 * The scripted provider's side of `auto`: its catalogue (what automatic model choice picks from in dry
 * runs), its answers to auto-fill requests (per field, from fixtures, else a deterministic placeholder
 * that fits the field's JSON Schema), and a policy that pins the model of chosen steps (`choose`).
 */
import {
  type AutoModelPolicy,
  type CatalogueModel,
  defaultAutoModel,
  invalidArgument,
  type ModelChoice,
} from '@weft/core';

/**
 * The default catalogue of a scripted provider: a small JSON-only text model and a large one that takes
 * everything, priced so that the small one wins when it fits.
 */
export const SCRIPTED_CATALOGUE: readonly CatalogueModel[] = Object.freeze([
  {
    model: 'scripted-mini',
    json: true,
    context_window: 16_000,
    max_output: 4_000,
    price: { input_per_million: 0.1, output_per_million: 0.4 },
  },
  {
    model: 'scripted-max',
    json: true,
    tools: true,
    images: true,
    files: true,
    context_window: 1_000_000,
    max_output: 64_000,
    price: { input_per_million: 1, output_per_million: 4 },
  },
]);

type Json = Record<string, unknown>;
const isObject = (value: unknown): value is Json =>
  value !== null && typeof value === 'object' && !Array.isArray(value);

const MAX_DEPTH = 32;

/**
 * A value that fits a JSON Schema node (as auto-fill builds them, input/json-schema.ts), the same every
 * time: the first `enum` value, `false`, `0`, a fixed date and time, `"<name>"` for strings, one element
 * for arrays, every required property for objects.
 */
export function placeholder(schema: unknown, name: string, depth = 0): unknown {
  if (!isObject(schema) || depth > MAX_DEPTH) return null;
  if (Array.isArray(schema.enum) && schema.enum.length > 0) return schema.enum[0];
  switch (schema.type) {
    case 'boolean':
      return false;
    case 'number':
    case 'integer':
      return 0;
    case 'array':
      return [placeholder(schema.items, name, depth + 1)];
    case 'object': {
      const out: Json = {};
      const properties = isObject(schema.properties) ? schema.properties : {};
      const required = Array.isArray(schema.required) ? schema.required : [];
      for (const key of required) {
        if (typeof key === 'string') out[key] = placeholder(properties[key], key, depth + 1);
      }
      return out;
    }
    case 'string':
      switch (schema.format) {
        case 'date':
          return '2025-01-01';
        case 'date-time':
          return '2025-01-01T09:00:00Z';
        case 'time':
          return '09:00';
        case 'uri':
          return 'https://example.com/';
        default:
          return Array.isArray(schema.examples) && typeof schema.examples[0] === 'string'
            ? schema.examples[0]
            : `scripted ${name}`;
      }
    default:
      return null;
  }
}

/** `choose`: the model per step key — a model name (the first catalogue entry with it), or `{ provider, model }`. */
export type ScriptedChoices = Record<string, string | { provider: string; model: string }>;

export function checkChoices(choose: unknown, parameter: string): ScriptedChoices {
  if (!isObject(choose)) throw invalidArgument(parameter, 'an object of step key → model', choose);
  for (const [key, value] of Object.entries(choose)) {
    const ok =
      (typeof value === 'string' && value !== '') ||
      (isObject(value) && typeof value.provider === 'string' && typeof value.model === 'string');
    if (!ok) throw invalidArgument(`${parameter}.${key}`, 'a model name or { provider, model }', value);
  }
  return choose as ScriptedChoices;
}

/**
 * A policy for `createEngine({ autoModel })`: the model `choose` names for the step, else the default
 * policy. A name missing from the catalogue the step may use fails the step with NO_MODEL_FITS (null).
 */
export function scriptedAutoModel(choose: ScriptedChoices = {}): AutoModelPolicy {
  return (needs, catalogue): ModelChoice | null => {
    if (!Object.hasOwn(choose, needs.step_key)) return defaultAutoModel(needs, catalogue);
    const pinned = choose[needs.step_key]!;
    const entry = catalogue.find((e) =>
      typeof pinned === 'string'
        ? e.model === pinned
        : e.provider === pinned.provider && e.model === pinned.model,
    );
    if (entry === undefined) return null;
    return {
      provider: entry.provider,
      model: entry.model,
      reason: `pinned by the fixtures (choose.${needs.step_key})`,
    };
  };
}
