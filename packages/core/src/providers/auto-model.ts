/**
 * Automatic model choice. A `model` step leaves the model to Weft with `provider: "auto"`, `model:
 * "auto"`, or an `auto` block that names no model (`isAutoModel`). Its needs (`stepNeeds`: JSON output,
 * tools, image and file parts, an estimate of its prompt and reply tokens) go to the policy with the
 * engine's catalogue (catalogue.ts); the default policy (`defaultAutoModel`) picks the cheapest model
 * that serves every need, and `createEngine({ autoModel })` replaces it. The decision is pure; the
 * `model` step does the rest (the `model.selected` event, the call, the usage).
 */
import { ERROR_CODES, WeftError } from '../errors.js';
import type { CatalogueEntry } from './catalogue.js';

/** What a step asks of the model it runs on. */
export interface ModelNeeds {
  /** The step (the input step, or "auto", for auto-fill). */
  step_key: string;
  /** Only this provider's models (the step named it); null: any registered provider. */
  provider: string | null;
  /** `response_format: json` (or structured output). */
  json: boolean;
  /** The step gives the model tools. */
  tools: boolean;
  /** Its messages have image parts. */
  images: boolean;
  /** Its messages have file (document) parts. */
  files: boolean;
  /** Estimated prompt tokens: ⌈characters / 4⌉ of the text, plus 1,000 per image or file part. */
  prompt_tokens: number;
  /** The reply tokens the step asks for (`max_tokens`); null when it does not say. */
  max_tokens: number | null;
}

/** A policy's answer. `reason` is shown in the `model.selected` event. */
export interface ModelChoice {
  provider: string;
  model: string;
  reason?: string;
}

/**
 * `createEngine({ autoModel })`: picks a model for the needs from the catalogue (already narrowed to the
 * step's provider, if it named one), or returns null when none fits (the step then fails with
 * NO_MODEL_FITS). It must return a model of the catalogue it was given.
 */
export type AutoModelPolicy = (
  needs: Readonly<ModelNeeds>,
  catalogue: readonly CatalogueEntry[],
) => ModelChoice | null | Promise<ModelChoice | null>;

/** Reply tokens assumed for the cost estimate when a step sets no `max_tokens`. */
export const DEFAULT_REPLY_TOKENS = 1_000;
/** Prompt tokens counted per image or file part. */
export const TOKENS_PER_ATTACHMENT = 1_000;

const IMAGE_PARTS: ReadonlySet<string> = new Set(['image', 'image_url', 'input_image']);
const FILE_PARTS: ReadonlySet<string> = new Set(['file', 'input_file', 'document']);

/** Whether a `model` step leaves its model to Weft. */
export function isAutoModel(
  config: { provider?: string | undefined; model?: string | undefined },
  auto: { provider?: string | undefined; model?: string | undefined } | null | undefined,
): boolean {
  if (config.provider === 'auto' || config.model === 'auto') return true;
  if (config.model !== undefined && config.model !== '') return false;
  if (auto === null || auto === undefined) return false;
  return auto.model === undefined || auto.model === '' || auto.model === 'auto' || auto.provider === 'auto';
}

/**
 * A step's needs, from its resolved config: the one place they are computed (tools are a non-empty
 * `tools` array of the config, when the document has one).
 */
export function stepNeeds(
  stepKey: string,
  config: {
    messages?: ReadonlyArray<{ content: unknown }> | undefined;
    response_format?: string | undefined;
    max_tokens?: number | undefined;
    tools?: unknown;
  },
  provider: string | null,
): ModelNeeds {
  let chars = 0;
  let images = 0;
  let files = 0;
  for (const message of config.messages ?? []) {
    const content = message?.content;
    if (typeof content === 'string') chars += content.length;
    else if (Array.isArray(content)) {
      for (const part of content) {
        const type =
          part !== null && typeof part === 'object' ? (part as { type?: unknown }).type : undefined;
        if (typeof type === 'string' && IMAGE_PARTS.has(type)) images++;
        else if (typeof type === 'string' && FILE_PARTS.has(type)) files++;
        else if (
          part !== null &&
          typeof part === 'object' &&
          typeof (part as { text?: unknown }).text === 'string'
        ) {
          chars += (part as { text: string }).text.length;
        } else chars += (JSON.stringify(part) ?? '').length;
      }
    } else if (content !== undefined && content !== null) chars += (JSON.stringify(content) ?? '').length;
  }
  return {
    step_key: stepKey,
    provider,
    json: config.response_format === 'json',
    tools: Array.isArray(config.tools) && config.tools.length > 0,
    images: images > 0,
    files: files > 0,
    prompt_tokens: Math.ceil(chars / 4) + TOKENS_PER_ATTACHMENT * (images + files),
    max_tokens: typeof config.max_tokens === 'number' ? config.max_tokens : null,
  };
}

/** What `entry` lacks for `needs`, in words (empty when it fits). */
export function unmetNeeds(entry: CatalogueEntry, needs: ModelNeeds): string[] {
  const out: string[] = [];
  if (needs.provider !== null && entry.provider !== needs.provider) out.push(`provider ${needs.provider}`);
  if (needs.json && !entry.json) out.push('JSON output');
  if (needs.tools && !entry.tools) out.push('tools');
  if (needs.images && !entry.images) out.push('images');
  if (needs.files && !entry.files) out.push('files');
  if (needs.max_tokens !== null && needs.max_tokens > entry.max_output) {
    out.push(`${needs.max_tokens} reply tokens (max_output ${entry.max_output})`);
  }
  const window = needs.prompt_tokens + (needs.max_tokens ?? 0);
  if (window > entry.context_window) {
    out.push(`~${window} tokens of context (context_window ${entry.context_window})`);
  }
  return out;
}

/** The estimated credits of one call: prompt tokens and `max_tokens` (or 1,000) reply tokens. */
export function estimatedCost(entry: CatalogueEntry, needs: ModelNeeds): number {
  if (entry.price === null) return Number.POSITIVE_INFINITY;
  const reply = needs.max_tokens ?? Math.min(DEFAULT_REPLY_TOKENS, entry.max_output);
  return (needs.prompt_tokens * entry.price.input_per_million + reply * entry.price.output_per_million) / 1e6;
}

/**
 * The default policy: of the models that serve every need, the one with the lowest estimated cost;
 * ties (and unpriced models, ranked last) go to the provider name, then the model name, in code-point
 * order. Null when none fits.
 */
export function defaultAutoModel(
  needs: Readonly<ModelNeeds>,
  catalogue: readonly CatalogueEntry[],
): ModelChoice | null {
  let best: CatalogueEntry | null = null;
  let bestCost = 0;
  let fitting = 0;
  for (const entry of catalogue) {
    if (unmetNeeds(entry, needs).length > 0) continue;
    fitting++;
    const cost = estimatedCost(entry, needs);
    if (best === null || cost < bestCost || (cost === bestCost && before(entry, best))) {
      best = entry;
      bestCost = cost;
    }
  }
  if (best === null) return null;
  const wanted = describeNeeds(needs);
  return {
    provider: best.provider,
    model: best.model,
    reason:
      `the cheapest of ${fitting} model${fitting === 1 ? '' : 's'} that fit${fitting === 1 ? 's' : ''} (${wanted})` +
      (Number.isFinite(bestCost)
        ? `: about ${round(bestCost)} credits a call`
        : ': no model that fits has a price'),
  };
}

function before(a: CatalogueEntry, b: CatalogueEntry): boolean {
  if (a.provider !== b.provider) return a.provider < b.provider;
  return a.model < b.model;
}

function round(n: number): number {
  return Number(n.toPrecision(3));
}

/** The needs in words, for messages: "JSON output, images, ~1200 prompt tokens". */
export function describeNeeds(needs: ModelNeeds): string {
  const parts: string[] = [];
  if (needs.provider !== null) parts.push(`provider ${needs.provider}`);
  if (needs.json) parts.push('JSON output');
  if (needs.tools) parts.push('tools');
  if (needs.images) parts.push('images');
  if (needs.files) parts.push('files');
  parts.push(`~${needs.prompt_tokens} prompt tokens`);
  if (needs.max_tokens !== null) parts.push(`${needs.max_tokens} reply tokens`);
  return parts.join(', ');
}

/** Candidates listed in NO_MODEL_FITS's `details.unmet` at most. */
const MAX_UNMET_LISTED = 50;

/** The NO_MODEL_FITS error: the needs, and per candidate what it lacks. */
export function noModelFits(
  needs: ModelNeeds,
  catalogue: readonly CatalogueEntry[],
  why?: string,
): WeftError {
  const unmet = catalogue
    .map((entry) => ({ provider: entry.provider, model: entry.model, unmet: unmetNeeds(entry, needs) }))
    .filter((c) => c.unmet.length > 0);
  const closest = [...unmet].sort((a, b) => a.unmet.length - b.unmet.length)[0];
  const message =
    catalogue.length === 0
      ? `Step "${needs.step_key}" leaves its model to Weft, but no registered provider${needs.provider === null ? '' : ` named "${needs.provider}"`} publishes a catalogue of models. Register a provider package with a catalogue, or name the model (\`provider.model\`).`
      : `Step "${needs.step_key}" leaves its model to Weft, and no model serves what it needs (${describeNeeds(needs)})` +
        (why === undefined ? '' : `: ${why}`) +
        (closest === undefined
          ? '.'
          : `. Closest: ${closest.provider}/${closest.model}, which lacks ${closest.unmet.join(', ')}.`) +
        ' Register a provider with such a model, shorten the prompt, or name a model.';
  return new WeftError(ERROR_CODES.NO_MODEL_FITS, message, {
    step_key: needs.step_key,
    details: { needs: { ...needs }, unmet: unmet.slice(0, MAX_UNMET_LISTED) },
    retryable: false,
  });
}

/** A choice with its reason, checked against the catalogue. */
export interface ModelSelection {
  provider: string;
  model: string;
  reason: string;
}

/**
 * `choose(needs)`: the catalogue narrowed to the needs' provider, then the policy. Throws NO_MODEL_FITS
 * when the policy finds nothing, INVALID_ARGUMENT when a custom policy answers with a model that is not
 * in the catalogue it was given.
 */
export function modelChooser(
  catalogue: readonly CatalogueEntry[],
  policy: AutoModelPolicy = defaultAutoModel,
): (needs: ModelNeeds) => Promise<ModelSelection> {
  const custom = policy !== defaultAutoModel;
  return async (needs) => {
    const candidates =
      needs.provider === null ? catalogue : catalogue.filter((entry) => entry.provider === needs.provider);
    const choice = await policy(Object.freeze({ ...needs }), candidates);
    if (choice === null || choice === undefined) {
      throw noModelFits(needs, candidates, custom ? 'the autoModel policy found none' : undefined);
    }
    const entry = candidates.find((e) => e.provider === choice.provider && e.model === choice.model);
    if (entry === undefined) {
      throw new WeftError(
        ERROR_CODES.INVALID_ARGUMENT,
        `Expected \`autoModel\` to return a model of the catalogue it was given (or null), got ${JSON.stringify(
          { provider: choice?.provider, model: choice?.model },
        )} for step "${needs.step_key}".`,
        { step_key: needs.step_key, details: { parameter: 'autoModel' }, retryable: false },
      );
    }
    const reason =
      typeof choice.reason === 'string' && choice.reason !== ''
        ? choice.reason.slice(0, 1_000)
        : 'chosen by the autoModel policy';
    return { provider: entry.provider, model: entry.model, reason };
  };
}
