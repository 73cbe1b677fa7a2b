/**
 * `model` steps: resolve provider/model/temperature (the step's `provider` object first, then `auto`),
 * call the provider under its engine-wide concurrency cap, price the call into the usage ledger and,
 * for `response_format: json`, parse the reply. Output: `{ message, tool_calls?, refusal?, raw }`, plus
 * `provider` and `model` when Weft chose the model (providers/auto-model.ts).
 */
import { randomUUID } from 'node:crypto';
import type { LimitFunction } from 'p-limit';
import { ERROR_CODES, WeftError } from '../errors.js';
import type { Message, ModelConfig } from '../model/types.js';
import { isAutoModel, type ModelNeeds, type ModelSelection, stepNeeds } from '../providers/auto-model.js';
import type { PricingTable, Provider } from '../providers/provider.js';
import { priceCall } from '../usage/pricing.js';
import type { StepContext } from './types.js';

export interface ModelStepDeps {
  providers: ReadonlyMap<string, Provider>;
  providerLimit(name: string): LimitFunction;
  pricing: PricingTable;
  /** Automatic model choice (`model: "auto"`): the engine's catalogue and policy. */
  chooseModel?: (needs: ModelNeeds) => Promise<ModelSelection>;
}

export interface ModelOutput {
  message: unknown;
  tool_calls?: unknown;
  refusal?: string | null;
  raw: unknown;
  /** Set when Weft chose the model: the provider and model it ran on. */
  provider?: string;
  model?: string;
}

export function modelStep(deps: ModelStepDeps) {
  return async (context: StepContext<{ provider: ModelConfig }>): Promise<ModelOutput> => {
    const key = context.step.key;
    const config = context.config.provider;
    const auto = context.step.auto ?? {};
    let providerName = config.provider ?? auto.provider;
    let model = config.model ?? auto.model;
    const temperature = config.temperature ?? auto.temperature;
    const registered = [...deps.providers.keys()];
    let selected: ModelSelection | null = null;
    if (isAutoModel(config, context.step.auto)) {
      selected = await selectModel(deps, context, config);
      providerName = selected.provider;
      model = selected.model;
    }
    if (providerName === undefined || providerName === '') {
      throw new WeftError(
        ERROR_CODES.PROVIDER_NOT_FOUND,
        `Step "${key}" names no provider: set \`provider.provider\` or \`auto.provider\`` +
          (registered.length > 0 ? ` (registered: ${registered.join(', ')}).` : '.'),
        { step_key: key, retryable: false },
      );
    }
    const provider = deps.providers.get(providerName);
    if (provider === undefined) {
      throw new WeftError(
        ERROR_CODES.PROVIDER_NOT_FOUND,
        `Step "${key}" uses provider "${providerName}", which is not registered. ` +
          (registered.length > 0
            ? `Registered providers: ${registered.join(', ')}.`
            : 'No provider is registered: pass createEngine({ providers: [...] }).'),
        { step_key: key, details: { provider: providerName, registered }, retryable: false },
      );
    }
    if (model === undefined || model === '') {
      throw new WeftError(
        ERROR_CODES.PROVIDER_BAD_REQUEST,
        `Step "${key}" names no model: set \`provider.model\` or \`auto.model\`.`,
        {
          step_key: key,
          retryable: false,
        },
      );
    }
    const responseFormat = config.response_format ?? 'text';
    const messages: Message[] = config.messages.map((m) => ({
      role: m.role,
      content: typeof m.content === 'string' || Array.isArray(m.content) ? m.content : stringify(m.content),
    }));
    const index = context.index;
    const response = await deps.providerLimit(providerName)(() =>
      provider.complete({
        provider: providerName,
        model,
        messages,
        ...(temperature === undefined ? {} : { temperature }),
        ...(config.max_tokens === undefined ? {} : { max_tokens: config.max_tokens }),
        response_format: responseFormat,
        signal: context.signal,
        step_key: key,
        ...(index === undefined ? {} : { index }),
        onDelta: (delta) => context.emit('model.delta', { delta, ...(index === undefined ? {} : { index }) }),
      }),
    );
    const usage = response.usage ?? { input_tokens: 0, output_tokens: 0 };
    const price = priceCall(deps.pricing, providerName, model, usage);
    if (!price.priced) {
      context.log(
        'warn',
        `No price is known for ${providerName}/${model}: tokens are recorded, cost 0. Add it with createEngine({ pricing }).`,
      );
    }
    context.usage.record({
      id: randomUUID(),
      total: price.credits,
      provider: providerName,
      model,
      input_tokens: usage.input_tokens,
      output_tokens: usage.output_tokens,
      ...(selected === null ? {} : { auto: true }),
    });
    let message: unknown = response.message;
    if (responseFormat === 'json') {
      try {
        message = JSON.parse(stripFences(response.message));
      } catch (error) {
        throw new WeftError(
          ERROR_CODES.INVALID_MODEL_OUTPUT,
          `Step "${key}" asked for JSON but the model's reply does not parse (${(error as Error).message}).`,
          { step_key: key, details: { raw_text: response.message.slice(0, 10_000) }, retryable: true },
        );
      }
    }
    const output: ModelOutput = { message, raw: response.raw };
    if (response.tool_calls !== undefined) output.tool_calls = response.tool_calls;
    if (response.refusal !== undefined) output.refusal = response.refusal;
    if (selected !== null) {
      output.provider = selected.provider;
      output.model = selected.model;
    }
    return output;
  };
}

/** Chooses the step's model (its needs, the engine's policy) and says so in a `model.selected` event. */
async function selectModel(
  deps: ModelStepDeps,
  context: StepContext<{ provider: ModelConfig }>,
  config: ModelConfig,
): Promise<ModelSelection> {
  const auto = context.step.auto ?? {};
  // `provider: "auto"` opens every provider; otherwise the provider the step names narrows the choice.
  const named =
    config.provider === 'auto'
      ? undefined
      : config.provider !== undefined && config.provider !== ''
        ? config.provider
        : auto.provider !== 'auto'
          ? auto.provider
          : undefined;
  const needs = stepNeeds(context.step.key, config, named === undefined || named === '' ? null : named);
  if (deps.chooseModel === undefined) {
    throw new WeftError(
      ERROR_CODES.NO_MODEL_FITS,
      `Step "${needs.step_key}" leaves its model to Weft, but this engine has no catalogue.`,
      {
        step_key: needs.step_key,
        retryable: false,
      },
    );
  }
  const selected = await deps.chooseModel(needs);
  const index = context.index;
  context.emit('model.selected', {
    provider: selected.provider,
    model: selected.model,
    reason: selected.reason,
    needs,
    ...(index === undefined ? {} : { index }),
  });
  return selected;
}

/** Models often wrap JSON in a ```json fence even in JSON mode; accept exactly that wrapping. */
function stripFences(text: string): string {
  const match = /^\s*```(?:json)?\s*\n([\s\S]*?)\n?```\s*$/.exec(text);
  return match === null ? text : match[1]!;
}

function stringify(value: unknown): string {
  if (value === null || value === undefined) return '';
  return typeof value === 'string' ? value : (JSON.stringify(value) ?? '');
}
