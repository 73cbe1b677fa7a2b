/**
 * The interface provider packages implement (@weft/provider-openai, @weft/provider-anthropic,
 * @weft/testing's scripted provider). The core's `model` step resolves templates and `auto` defaults,
 * turns the document's messages (files and images included) into `ModelMessage`s, runs the tool loop,
 * calls `complete` once per model call, parses JSON replies, prices the usage and records it in the run's
 * ledger. A provider only translates one request to its wire format and one reply back.
 */

/** Token counts of one model call, as the provider reported them. */
export interface TokenUsage {
  input_tokens: number;
  output_tokens: number;
}

export interface ModelTextPart {
  type: 'text';
  text: string;
}

/** An image: by URL (the provider fetches it) or inline (`data`, base64, with its media type). */
export interface ModelImagePart {
  type: 'image';
  url?: string;
  data?: string;
  media_type?: string;
}

/** A document (PDF, text…), always inline: `data` is base64. */
export interface ModelFilePart {
  type: 'file';
  data: string;
  media_type: string;
  filename?: string;
}

/** Any other part a document wrote (e.g. a provider's own `image_url`): passed on as it is. */
export interface ModelOtherPart {
  type: string;
  [field: string]: unknown;
}

export type ModelContentPart = ModelTextPart | ModelImagePart | ModelFilePart | ModelOtherPart;

/**
 * One message of a model call, provider-agnostic. `assistant` messages carry the tool calls the model
 * made (`tool_calls`); each result goes back in a `tool` message of its own (`tool_call_id`, `name` the
 * tool's wire name, `is_error` when the tool failed). Providers that group results (Anthropic) merge
 * consecutive `tool` messages.
 */
export interface ModelMessage {
  role: 'system' | 'user' | 'assistant' | 'tool';
  content: string | ModelContentPart[];
  tool_calls?: ModelToolCall[];
  tool_call_id?: string;
  name?: string;
  is_error?: boolean;
}

/** A tool the model may call: its wire name, what it does, and its arguments as a JSON Schema object. */
export interface ModelToolDefinition {
  name: string;
  description: string;
  parameters: Record<string, unknown>;
}

/** A streamed fragment of a tool call (`index`: the call's position in the reply). */
export interface ModelToolCallDelta {
  index: number;
  id?: string;
  name?: string;
  /** The next piece of the arguments' JSON text ('' when the fragment has none). */
  arguments: string;
}

export interface ModelRequest {
  /** The provider name the step resolved to (after `auto`). */
  provider: string;
  model: string;
  /** Messages with every template resolved, files and images as parts. */
  messages: ModelMessage[];
  temperature?: number;
  max_tokens?: number;
  response_format: 'text' | 'json';
  /** Tools the model may call (absent: none). */
  tools?: ModelToolDefinition[];
  /**
   * With `tools`: `auto` (the model decides), `required` (it must call at least one), `none` (it must
   * not call any; the tools are still described, as in a conversation that already used them).
   */
  tool_choice?: 'auto' | 'required' | 'none';
  /** With `tools`: whether the model may call several in one reply. */
  parallel_tool_calls?: boolean;
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
  /** With tools: which model call of the step's tool loop this is (1, 2, …). */
  turn?: number;
  /** Streaming providers call this with each text delta; it reaches the run as `model.delta`. */
  onDelta?: (delta: string) => void;
  /** Streaming providers call this with each fragment of a tool call; it reaches the run as `model.delta`. */
  onToolCallDelta?: (delta: ModelToolCallDelta) => void;
}

export interface ModelToolCall {
  id: string;
  type: string;
  /** `arguments` is the JSON text the model wrote (possibly malformed: the engine checks it). */
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

/** What a model can take; anything left out counts as supported. */
export interface ModelCapabilities {
  /** Tool calls (`tools`, `tool_choice`). */
  tools?: boolean;
  /** Image parts. */
  images?: boolean;
  /** File (document) parts. */
  files?: boolean;
  /** `response_format: json`. */
  json?: boolean;
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
   * What `model` can take. The `model` step fails with PROVIDER_BAD_REQUEST, before calling, when a
   * step needs what the model lacks (tools, images, files). Default: everything.
   */
  capabilities?(model: string): ModelCapabilities;
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
