/**
 * `model` steps: resolve provider/model/temperature (the step's `provider` object first, then `auto`),
 * call the provider under its engine-wide concurrency cap, price each call into the usage ledger and, for
 * `response_format: json`, parse the reply. A step with tools runs the tool loop (docs/semantics.md,
 * "Tools"): each model call is one turn; a reply with tool calls is recorded through the run's agent port
 * (run/agent.ts runs the calls, journaled), and the next turn sends their results. Output:
 * `{ provider, model, message, tool_calls, tool_results, refusal?, raw? }`.
 */
import { randomUUID } from 'node:crypto';
import type { LimitFunction } from 'p-limit';
import type { AgentPlan } from '../compile/agent.js';
import { ERROR_CODES, type ErrorRecord, WeftError } from '../errors.js';
import { inputJsonSchema } from '../model/tool-schema.js';
import type { ModelConfig } from '../model/types.js';
import { isAutoModel, type ModelNeeds, type ModelSelection, stepNeeds } from '../providers/auto-model.js';
import type {
  ModelMessage,
  ModelRequest,
  ModelResponse,
  ModelToolDefinition,
  PricingTable,
  Provider,
} from '../providers/provider.js';
import type { TranscriptTurn } from '../run/agent.js';
import type { AgentPort } from '../run/context.js';
import { priceCall } from '../usage/pricing.js';
import type { PolicyFetch } from './http-fetch.js';
import { internal } from './internal.js';
import { type FileExtractor, type FileImageExtractor, resolveFileMarkers } from './model-files.js';
import { documentMessages, inlineFiles, transcriptMessages } from './model-messages.js';
import type { ModelOutput, ModelToolCallOutput, ModelToolResultOutput } from './model-output.js';
import { checkToolCalls } from './tool-calls.js';
import type { StepContext, ToolDefinition } from './types.js';

export interface ModelStepDeps {
  providers: ReadonlyMap<string, Provider>;
  providerLimit(name: string): LimitFunction;
  pricing: PricingTable;
  /** Keep the provider's raw reply in the output (`createEngine({ includeRawModelOutput })`). */
  includeRaw?: boolean;
  /** The engine's tools, for their descriptions and input definitions. */
  tools?: ReadonlyMap<string, ToolDefinition>;
  /** The engine's policy-checked fetch: `file` parts given by http(s) URL are fetched and sent inline. */
  fetch?: PolicyFetch;
  /** Text extractors by media type (`createEngine({ fileExtractors })`), for `{{ FIELD:contents }}`. */
  extractors?: Readonly<Record<string, FileExtractor>>;
  /** Image extractors by media type (`createEngine({ fileImageExtractors })`), for `{{ FIELD:images }}`. */
  imageExtractors?: Readonly<Record<string, FileImageExtractor>>;
  /** Automatic model choice (`model: "auto"`): the engine's catalogue and policy. */
  chooseModel?: (needs: ModelNeeds) => Promise<ModelSelection>;
}

const NO_TOOLS: ReadonlyMap<string, ToolDefinition> = new Map();

export function modelStep(deps: ModelStepDeps) {
  const engineTools = deps.tools ?? NO_TOOLS;
  return async (context: StepContext<{ provider: ModelConfig }>): Promise<ModelOutput> => {
    const key = context.step.key;
    const config = context.config.provider;
    const { providerName, provider, model, selected } = await resolve(deps, context);
    const auto = selected !== null;
    const index = context.index;
    const files = {
      fetch: deps.fetch,
      extractors: deps.extractors ?? {},
      ...(deps.imageExtractors === undefined ? {} : { imageExtractors: deps.imageExtractors }),
    };
    const host = internal(context).execution;
    // The run's document (its input's file flags) and the run itself (the key of its extraction cache).
    const fileSite = { step: context.step, signal: context.signal, document: host.plan?.document, run: host };
    const messages = await inlineFiles(
      await resolveFileMarkers(documentMessages(config.messages), files, fileSite),
      deps.fetch,
      context,
    );
    const base: ModelRequest = {
      provider: providerName,
      model,
      messages,
      ...((config.temperature ?? context.step.auto?.temperature) === undefined
        ? {}
        : { temperature: (config.temperature ?? context.step.auto?.temperature)! }),
      ...(config.max_tokens === undefined ? {} : { max_tokens: config.max_tokens }),
      response_format: config.response_format ?? 'text',
      signal: context.signal,
      step_key: key,
      ...(index === undefined ? {} : { index }),
      onDelta: (delta) => context.emit('model.delta', { delta, ...(index === undefined ? {} : { index }) }),
      onToolCallDelta: (delta) =>
        context.emit('model.delta', {
          delta: '',
          tool_call: delta,
          ...(index === undefined ? {} : { index }),
        }),
    };
    const call = (request: ModelRequest) =>
      deps.providerLimit(providerName)(() => provider.complete(request));
    const ctx = internal(context);
    const agent = ctx.plan.agent;
    checkCapabilities(provider, model, base, agent, key);
    const port =
      agent === null || agent.mode === 'none'
        ? null
        : ctx.execution.agentPort(ctx.plan.index, index, context.attempt);
    if (port === null || agent === null) {
      const response = await call(base);
      recordUsage(deps, context, providerName, model, response, auto);
      return finish(deps, context, providerName, model, response, []);
    }
    return runToolLoop(deps, engineTools, context, agent, port, base, call, providerName, model, auto);
  };
}

/**
 * What the step needs against what the provider says the model can take (`provider.capabilities`):
 * PROVIDER_BAD_REQUEST before any call when it lacks one.
 */
function checkCapabilities(
  provider: Provider,
  model: string,
  request: ModelRequest,
  agent: AgentPlan | null,
  key: string,
): void {
  const can = provider.capabilities?.(model);
  if (can === undefined) return;
  const parts = request.messages.flatMap((m) => (Array.isArray(m.content) ? m.content : []));
  const needs: Array<[keyof typeof can, boolean, string]> = [
    ['tools', agent !== null && agent.mode !== 'none', 'tools'],
    ['images', parts.some((p) => p.type === 'image'), 'image parts'],
    ['files', parts.some((p) => p.type === 'file'), 'file parts'],
    ['json', request.response_format === 'json', '`response_format: "json"`'],
  ];
  for (const [capability, needed, what] of needs) {
    if (needed && can[capability] === false) {
      throw new WeftError(
        ERROR_CODES.PROVIDER_BAD_REQUEST,
        `Step "${key}" uses ${what}, which ${provider.name}'s model "${model}" does not take. Choose another model, or remove them.`,
        { step_key: key, details: { provider: provider.name, model, capability }, retryable: false },
      );
    }
  }
}

/** The tool loop (docs/semantics.md, "Tools"): a model call per turn until a reply without tool calls. */
async function runToolLoop(
  deps: ModelStepDeps,
  engineTools: ReadonlyMap<string, ToolDefinition>,
  context: StepContext<{ provider: ModelConfig }>,
  agent: AgentPlan,
  port: AgentPort,
  base: ModelRequest,
  call: (request: ModelRequest) => Promise<ModelResponse>,
  providerName: string,
  model: string,
  auto: boolean,
): Promise<ModelOutput> {
  const key = context.step.key;
  const tools = toolDefinitions(agent, engineTools);
  // The transcript's messages, turn by turn: a settled turn never changes, so each is converted once
  // (rebuilding every turn's messages for every model call was quadratic in turns; W14's profile).
  const history: ModelMessage[] = [];
  let converted = 0;
  for (;;) {
    // A retried or resumed attempt picks up the turns already made; their calls may still be running.
    await port.settled(context.signal);
    const turns = port.turns();
    const turn = turns.length + 1;
    if (turn > agent.maxIterations) throw exhausted(key, agent, turns);
    if (turns.length > converted) {
      history.push(...transcriptMessages(turns.slice(converted), agent.tools));
      converted = turns.length;
    }
    const request: ModelRequest = {
      ...base,
      messages: [...base.messages, ...history],
      tools,
      tool_choice: agent.mode === 'required' && turn === 1 ? 'required' : 'auto',
      parallel_tool_calls: agent.parallel,
      turn,
    };
    const response = await port.slot(() => call(request));
    recordUsage(deps, context, providerName, model, response, auto);
    const requested = Array.isArray(response.tool_calls) ? response.tool_calls : [];
    if (requested.length === 0) return finish(deps, context, providerName, model, response, turns);
    port.replied({
      turn,
      message: typeof response.message === 'string' ? response.message : '',
      refusal: typeof response.refusal === 'string' ? response.refusal : null,
      model: typeof response.model === 'string' ? response.model : null,
      tool_calls: checkToolCalls(requested, agent, engineTools, turn),
    });
  }
}

/** Every tool's wire definition: the tool object's description and input, else the engine tool's. */
function toolDefinitions(
  agent: AgentPlan,
  engineTools: ReadonlyMap<string, ToolDefinition>,
): ModelToolDefinition[] {
  return agent.tools.map((tool) => {
    const engine = tool.step < 0 ? engineTools.get(tool.target) : undefined;
    const description =
      tool.description ?? engine?.description ?? defaultDescription(tool.step >= 0, tool.target);
    const parameters =
      tool.parameters ?? inputJsonSchema(engine?.input as Record<string, unknown> | undefined);
    return { name: tool.wire, description, parameters: parameters as Record<string, unknown> };
  });
}

function defaultDescription(step: boolean, target: string): string {
  return step ? `Runs the workflow step "${target}".` : `The tool "${target}".`;
}

/**
 * No model calls are left: the step fails with the error of a failed call of the last turn whose tool step
 * has `throw_on_error` (default true), else MAX_ITERATIONS; either keeps the transcript.
 */
function exhausted(key: string, agent: AgentPlan, turns: readonly TranscriptTurn[]): WeftError {
  const last = turns[turns.length - 1];
  const transcript = turns;
  for (const call of last?.calls ?? []) {
    const tool = agent.tools.find((t) => t.name === call.name);
    // A call the engine refused (INVALID_TOOL_CALL) never ran its tool: it is not the tool's failure.
    if (
      call.status === 'FAILED' &&
      tool?.throwOnError === true &&
      call.error !== null &&
      call.error.code !== ERROR_CODES.INVALID_TOOL_CALL
    ) {
      return new WeftError(
        call.error.code,
        `Step "${key}": the tool "${call.name}" failed on the last model call the step may make (max_iterations ${agent.maxIterations}): ${call.error.message}`,
        { step_key: key, details: { tool_call_id: call.id, tool: call.name, transcript }, retryable: false },
      );
    }
  }
  return new WeftError(
    ERROR_CODES.MAX_ITERATIONS,
    `Step "${key}" made ${agent.maxIterations} model calls (max_iterations) and the model still called tools. ` +
      'Raise `provider.max_iterations`, or tell the model in its messages when to answer; the transcript is in `details.transcript`.',
    { step_key: key, details: { max_iterations: agent.maxIterations, transcript }, retryable: false },
  );
}

async function resolve(
  deps: ModelStepDeps,
  context: StepContext<{ provider: ModelConfig }>,
): Promise<{ providerName: string; provider: Provider; model: string; selected: ModelSelection | null }> {
  const key = context.step.key;
  const config = context.config.provider;
  const auto = context.step.auto ?? {};
  let providerName = config.provider ?? auto.provider;
  let model = config.model ?? auto.model;
  let selected: ModelSelection | null = null;
  if (isAutoModel(config, context.step.auto)) {
    selected = await selectModel(deps, context, config);
    providerName = selected.provider;
    model = selected.model;
  }
  const registered = [...deps.providers.keys()];
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
      { step_key: key, retryable: false },
    );
  }
  return { providerName, provider, model, selected };
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

function recordUsage(
  deps: ModelStepDeps,
  context: StepContext<{ provider: ModelConfig }>,
  providerName: string,
  model: string,
  response: ModelResponse,
  auto: boolean,
): void {
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
    ...(auto ? { auto: true } : {}),
  });
}

/** The step's output from the final reply and the turns before it. */
function finish(
  deps: ModelStepDeps,
  context: StepContext<{ provider: ModelConfig }>,
  providerName: string,
  model: string,
  response: ModelResponse,
  turns: readonly TranscriptTurn[],
): ModelOutput {
  const key = context.step.key;
  const text = typeof response.message === 'string' ? response.message : '';
  let message: unknown = text;
  if ((context.config.provider.response_format ?? 'text') === 'json') {
    try {
      message = JSON.parse(stripFences(text));
    } catch (error) {
      throw new WeftError(
        ERROR_CODES.INVALID_MODEL_OUTPUT,
        `Step "${key}" asked for JSON but the model's reply does not parse (${(error as Error).message}).`,
        { step_key: key, details: { raw_text: text.slice(0, 10_000) }, retryable: true },
      );
    }
  }
  const tool_calls: ModelToolCallOutput[] = [];
  const tool_results: ModelToolResultOutput[] = [];
  for (const turn of turns) {
    for (const call of turn.calls) {
      tool_calls.push({ id: call.id, name: call.name, input: call.input });
      tool_results.push({
        id: call.id,
        name: call.name,
        output: call.status === 'COMPLETED' ? call.output : { error: errorOf(call.error) },
      });
    }
  }
  const output: ModelOutput = {
    provider: providerName,
    // The model the step asked for (or Weft chose): a provider's dated alias of it is in `raw`.
    model,
    message,
    tool_calls,
    tool_results,
  };
  if (typeof response.refusal === 'string') output.refusal = response.refusal;
  if (deps.includeRaw === true) output.raw = response.raw;
  return output;
}

function errorOf(error: ErrorRecord | null): { code: string; message: string } {
  return error === null
    ? { code: ERROR_CODES.CANCELLED, message: 'The call did not run.' }
    : { code: error.code, message: error.message };
}

/** Models often wrap JSON in a ```json fence even in JSON mode; accept exactly that wrapping. */
function stripFences(text: string): string {
  const match = /^\s*```(?:json)?\s*\n([\s\S]*?)\n?```\s*$/.exec(text);
  return match === null ? text : match[1]!;
}
