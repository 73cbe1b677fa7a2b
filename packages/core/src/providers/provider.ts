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
  complete(request: ModelRequest): Promise<ModelResponse>;
}

/** Price of a model in credits per million tokens. */
export interface ModelPrice {
  input_per_million: number;
  output_per_million: number;
}

/** `{ [provider]: { [model]: price } }`; a `"*"` model key prices every model of that provider. */
export type PricingTable = Record<string, Record<string, ModelPrice>>;
