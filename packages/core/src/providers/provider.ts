/**
 * The interface provider packages implement (@weft/provider-openai, @weft/provider-anthropic,
 * @weft/testing's scripted provider). The core's `model` step resolves templates and `auto` defaults,
 * calls `complete`, parses JSON replies, prices the usage and records it in the run's ledger.
 */
import type { Message } from '../model/types.js';

/** Token counts of one model call, as the provider reported them. */
export interface TokenUsage {
  input_tokens: number;
  output_tokens: number;
}

export interface ModelRequest {
  /** The provider name the step resolved to (after `auto`). */
  provider: string;
  model: string;
  /** Messages with every template resolved. */
  messages: Message[];
  temperature?: number;
  max_tokens?: number;
  response_format: 'text' | 'json';
  /**
   * With `response_format: json`: the JSON Schema the reply must follow (structured output). OpenAI-style
   * providers send it as `response_format: json_schema`, Anthropic as one forced tool call; either way the
   * reply's `message` is the JSON text. Auto-fill of input fields sets it (run/auto-fill.ts).
   */
  json_schema?: { name: string; description?: string; schema: Record<string, unknown> };
  /** Set when the call fills input fields left to a model (run/auto-fill.ts): which ones. */
  auto_fill?: { fields: readonly string[] };
  /** Fires when the step is cancelled or times out: abort the HTTP request itself. */
  signal: AbortSignal;
  /** The step being run, for providers that script replies by step (the scripted provider). */
  step_key: string;
  /** Set when the step runs in a loop. */
  index?: number;
  /** Streaming providers call this with each text delta; it reaches the run as `model.delta`. */
  onDelta?: (delta: string) => void;
}

export interface ModelToolCall {
  id: string;
  type: string;
  function: { name: string; arguments: string };
}

export interface ModelResponse {
  /** The reply text (the engine parses it when `response_format` is json). */
  message: string;
  tool_calls?: ModelToolCall[];
  refusal?: string | null;
  /** The provider's response body (or the assembled stream), for debugging. */
  raw: unknown;
  usage: TokenUsage;
  /** The model that actually answered, if the provider says. */
  model?: string;
}

export interface Provider {
  /** The name steps use in `provider.provider` / `auto.provider`, e.g. "openai". */
  readonly name: string;
  /**
   * The provider's own prices, by model (`"*"` for every model): the engine prices this provider's calls
   * with them unless `createEngine({ pricing })` prices the model. Without a price a call costs 0 credits
   * and the run logs a warning.
   */
  readonly pricing?: Readonly<Record<string, ModelPrice>> | undefined;
  /**
   * The models this provider serves, with what each can do and costs (providers/catalogue.ts): what the
   * engine chooses from when a step leaves the model to it (`model: "auto"`). Without one, the provider's
   * models are never chosen automatically.
   */
  readonly catalogue?: readonly CatalogueModel[] | undefined;
  complete(request: ModelRequest): Promise<ModelResponse>;
}

/**
 * One model of a provider's catalogue. Capabilities left out count as false (a model is never chosen for
 * what its provider did not declare); `price` left out falls back to the provider's `pricing`.
 */
export interface CatalogueModel {
  /** The model name sent to the provider, e.g. "gpt-4o-mini". */
  model: string;
  /** `response_format: json` (and structured output with a JSON Schema). */
  json?: boolean;
  /** Tool calls. */
  tools?: boolean;
  /** Image parts in messages. */
  images?: boolean;
  /** File (document) parts in messages. */
  files?: boolean;
  /** Prompt and reply tokens the model takes in one call. */
  context_window: number;
  /** Reply tokens at most. */
  max_output: number;
  /** Credits per million tokens; default: the provider's `pricing` for the model. */
  price?: ModelPrice;
}

/** Price of a model in credits per million tokens. */
export interface ModelPrice {
  input_per_million: number;
  output_per_million: number;
}

/** `{ [provider]: { [model]: price } }`; a `"*"` model key prices every model of that provider. */
export type PricingTable = Record<string, Record<string, ModelPrice>>;
