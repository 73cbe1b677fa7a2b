/**
 * `anthropic(options)`: a Provider for the Anthropic Messages API over `fetch` (`POST {baseURL}/v1/messages`
 * with `x-api-key` and `anthropic-version`). System messages are joined into the `system` field;
 * `max_tokens` defaults to 1024; JSON mode is an instruction appended to the system prompt.
 */
import {
  type CatalogueModel,
  ERROR_CODES,
  invalidArgument,
  type ModelPrice,
  type ModelRequest,
  type ModelResponse,
  type Provider,
  WeftError,
} from '@weft/core';
import {
  type AttemptContext,
  checkModelRequest,
  createHttpClient,
  errorForStreamError,
  type FetchLike,
  malformedResponse,
  providerError,
  type RetryOptions,
  readEvents,
  readJson,
} from '@weft/provider-http';
import { catalogue as listModels } from './catalogue.js';
import { pricing as listPrices } from './pricing.js';
import { MessageStream } from './stream.js';
import {
  buildBody,
  DEFAULT_MAX_TOKENS,
  JSON_INSTRUCTION,
  readContent,
  stripFences,
  structuredAnswer,
  toUsage,
} from './wire.js';

export const ANTHROPIC_BASE_URL = 'https://api.anthropic.com';
export const ANTHROPIC_VERSION = '2023-06-01';

/** Every field may be left out or `undefined` (e.g. `apiKey: process.env.ANTHROPIC_API_KEY`). */
export interface AnthropicOptions {
  /** Sent as `x-api-key`. */
  apiKey?: string | undefined;
  /** Default https://api.anthropic.com. The provider posts to `{baseURL}/v1/messages`. */
  baseURL?: string | undefined;
  /** The provider name steps use. Default "anthropic". */
  name?: string | undefined;
  /** The `anthropic-version` header. Default "2023-06-01". */
  anthropicVersion?: string | undefined;
  /** `max_tokens` when the step sets none (the API requires one). Default 1024. */
  maxTokens?: number | undefined;
  /** Appended to the system prompt for `response_format: "json"`. Default `JSON_INSTRUCTION`. */
  jsonInstruction?: string | undefined;
  /** Extra headers on every request (`anthropic-beta`, ...). */
  headers?: Record<string, string> | undefined;
  /** Stream (SSE) when the request has an `onDelta` (default), always, or never. */
  stream?: 'auto' | boolean | undefined;
  /**
   * Prices by model (credits per million tokens) for this provider's calls. Default: Anthropic's list
   * prices (`pricing.anthropic`, a snapshot); `{}` for none. `createEngine({ pricing })` overrides.
   */
  pricing?: Record<string, ModelPrice> | undefined;
  /**
   * The models automatic model choice may pick from this provider (`model: "auto"`; @weft/core's
   * CatalogueModel). Default: `catalogue` (a snapshot) when `baseURL` is Anthropic's own, else none; `[]` for none.
   */
  catalogue?: readonly CatalogueModel[] | undefined;
  /** Per-attempt timeout, ms. Default 60 000 (an idle timeout while streaming). */
  timeoutMs?: number | undefined;
  /** Deadline of one call, ms: attempts, retry waits and the whole stream. Default 600 000 → TIMEOUT. */
  totalTimeoutMs?: number | undefined;
  /** Largest response body, bytes (a stream counts its wire bytes). Default 10 MB → RESPONSE_TOO_LARGE. */
  maxResponseBytes?: number | undefined;
  /** Largest server-sent event, characters. Default 1,000,000 → RESPONSE_TOO_LARGE. */
  maxEventSize?: number | undefined;
  retry?: RetryOptions | undefined;
  /** For tests: the fetch, sleep and jitter source the client uses. */
  fetch?: FetchLike | undefined;
  sleep?: ((ms: number, signal: AbortSignal | undefined) => Promise<void>) | undefined;
  random?: (() => number) | undefined;
}

export function anthropic(options: AnthropicOptions = {}): Provider {
  if (options === null || typeof options !== 'object') throw invalidArgument('options', 'an object', options);
  const name = options.name ?? 'anthropic';
  if (typeof name !== 'string' || name === '') throw invalidArgument('name', 'a non-empty string', name);
  if (options.apiKey !== undefined && typeof options.apiKey !== 'string') {
    // The value is not quoted: it may be a secret of the wrong type.
    throw new WeftError(ERROR_CODES.INVALID_ARGUMENT, 'Expected `apiKey` to be a string.', {
      details: { parameter: 'apiKey' },
    });
  }
  const maxTokens = options.maxTokens ?? DEFAULT_MAX_TOKENS;
  if (!(Number.isInteger(maxTokens) && maxTokens >= 1))
    throw invalidArgument('maxTokens', 'an integer ≥ 1', maxTokens);
  const jsonInstruction = options.jsonInstruction ?? JSON_INSTRUCTION;
  const url = endpoint(options.baseURL ?? ANTHROPIC_BASE_URL);
  const pricing = options.pricing ?? listPrices.anthropic;
  if (pricing === null || typeof pricing !== 'object' || Array.isArray(pricing))
    throw invalidArgument('pricing', 'an object of prices by model', pricing);
  const prices = Object.freeze({ ...pricing });
  const models = modelsFor(options.catalogue, url.startsWith(`${ANTHROPIC_BASE_URL}/`));
  const headers: Record<string, string> = {
    accept: 'application/json',
    'anthropic-version': options.anthropicVersion ?? ANTHROPIC_VERSION,
    ...options.headers,
  };
  if (options.apiKey !== undefined && options.apiKey !== '') headers['x-api-key'] = options.apiKey;
  const client = createHttpClient({
    provider: name,
    timeoutMs: options.timeoutMs,
    totalTimeoutMs: options.totalTimeoutMs,
    maxResponseBytes: options.maxResponseBytes,
    maxEventSize: options.maxEventSize,
    retry: options.retry,
    fetch: options.fetch,
    sleep: options.sleep,
    random: options.random,
    secrets: [options.apiKey],
  });

  function finish(body: unknown, status: number, request: ModelRequest): ModelResponse {
    const json = request.response_format === 'json';
    const record = body as any;
    if (record === null || typeof record !== 'object' || !Array.isArray(record.content)) {
      if (record?.type === 'error' && record.error !== undefined)
        throw errorForStreamError(name, record.error);
      throw malformedResponse(name, status, 'a body without content');
    }
    const read = readContent(record.content);
    const { message: text, toolCalls } = structuredAnswer(request, read.text, read.toolCalls);
    const response: ModelResponse = {
      message: json ? stripFences(text) : text,
      raw: client.redact(body),
      usage: toUsage(record.usage),
    };
    if (toolCalls !== undefined) response.tool_calls = toolCalls;
    if (record.stop_reason === 'refusal')
      response.refusal = text === '' ? 'The model refused to answer.' : text;
    if (typeof record.model === 'string') response.model = record.model;
    return response;
  }

  async function readStream(response: Response, context: AttemptContext, request: ModelRequest) {
    const onDelta = request.onDelta;
    const json = request.response_format === 'json';
    if (!(response.headers.get('content-type') ?? '').includes('text/event-stream')) {
      const result = finish(await readJson(response, context), response.status, request);
      if (result.message !== '' && onDelta !== undefined) {
        context.commit();
        onDelta(result.message);
      }
      return result;
    }
    const stream = new MessageStream();
    for await (const event of readEvents(response, context)) {
      let data: any;
      try {
        data = JSON.parse(event.data);
      } catch {
        throw malformedResponse(name, response.status, event.data);
      }
      if ((data?.type ?? event.event) === 'error') throw errorForStreamError(name, data?.error);
      const delta = stream.push(data);
      if (delta !== '' && onDelta !== undefined) {
        context.commit();
        onDelta(delta);
      }
      if (stream.toolDelta !== undefined && request.onToolCallDelta !== undefined) {
        context.commit();
        request.onToolCallDelta(stream.toolDelta);
      }
      if (stream.stopped) break;
    }
    if (!stream.stopped) {
      throw providerError(
        ERROR_CODES.PROVIDER_UNAVAILABLE,
        `${name}: the stream ended before message_stop.`,
        {
          provider: name,
          status: response.status,
          transient: true,
        },
      );
    }
    const answer = structuredAnswer(request, stream.text, stream.toolCalls());
    const result: ModelResponse = {
      message: json ? stripFences(answer.message) : answer.message,
      raw: client.redact(stream.toMessage()),
      usage: stream.tokenUsage(),
    };
    const toolCalls = answer.toolCalls;
    if (toolCalls !== undefined) result.tool_calls = toolCalls;
    if (stream.stopReason === 'refusal') {
      result.refusal = stream.text === '' ? 'The model refused to answer.' : stream.text;
    }
    if (stream.model !== undefined) result.model = stream.model;
    return result;
  }

  return {
    name,
    pricing: prices,
    catalogue: models,
    // async: a malformed request rejects (INVALID_ARGUMENT naming the field), it never throws.
    async complete(request: ModelRequest): Promise<ModelResponse> {
      checkModelRequest(request);
      const stream =
        options.stream === true || ((options.stream ?? 'auto') === 'auto' && request.onDelta !== undefined);
      return client.post({
        url,
        headers: stream ? { ...headers, accept: 'text/event-stream' } : headers,
        body: buildBody(request, { stream, maxTokens, jsonInstruction }),
        signal: request.signal,
        read: (response, context) =>
          stream
            ? readStream(response, context, request)
            : readJson(response, context).then((body) => finish(body, response.status, request)),
      });
    },
  };
}

function endpoint(baseURL: string): string {
  if (typeof baseURL !== 'string' || !/^https?:\/\//i.test(baseURL)) {
    throw invalidArgument('baseURL', 'an http(s) URL', baseURL);
  }
  const url = new URL(baseURL);
  url.pathname = `${url.pathname.replace(/\/+$/, '')}/v1/messages`;
  return url.toString();
}

/** The `catalogue` option, checked (entries are checked by the engine), or the default snapshot. */
function modelsFor(option: unknown, ownEndpoint: boolean): readonly CatalogueModel[] {
  if (option === undefined) return ownEndpoint ? listModels : [];
  if (!Array.isArray(option)) throw invalidArgument('catalogue', 'an array of catalogue models', option);
  return Object.freeze([...option]);
}
