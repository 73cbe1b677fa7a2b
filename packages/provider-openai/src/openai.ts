/**
 * `openai(options)`: a Provider speaking the Chat Completions wire format over `fetch`
 * (`POST {baseURL}/chat/completions`). Serves OpenAI, Azure OpenAI, Ollama, vLLM, LM Studio, OpenRouter
 * and any other compatible endpoint; register several under different `name`s.
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
import { ChatStream } from './stream.js';
import { buildBody, contentText, type MaxTokensParam, toToolCalls, toUsage } from './wire.js';

export const OPENAI_BASE_URL = 'https://api.openai.com/v1';

/** Every field may be left out or `undefined` (e.g. `apiKey: process.env.OPENAI_API_KEY`). */
export interface OpenAIOptions {
  /** Sent as `Authorization: Bearer <apiKey>` (or `api-key: <apiKey>`, see `authHeader`). Omit for local servers. */
  apiKey?: string | undefined;
  /** Default https://api.openai.com/v1. The provider posts to `{baseURL}/chat/completions`. */
  baseURL?: string | undefined;
  /** The provider name steps use. Default "openai". */
  name?: string | undefined;
  /** Azure OpenAI: adds `?api-version=<apiVersion>` to the URL. */
  apiVersion?: string | undefined;
  /** `bearer` (default): `Authorization: Bearer`; `api-key`: Azure's `api-key` header. */
  authHeader?: 'bearer' | 'api-key' | undefined;
  /** Extra headers on every request (`OpenAI-Organization`, OpenRouter's `HTTP-Referer`, ...). */
  headers?: Record<string, string> | undefined;
  /**
   * The body field `max_tokens` goes in. Default `max_tokens`; OpenAI's reasoning models (o-series, gpt-5)
   * only accept `max_completion_tokens`.
   */
  maxTokensParam?: MaxTokensParam | undefined;
  /** Stream (SSE) when the request has an `onDelta` (default), always, or never. */
  stream?: 'auto' | boolean | undefined;
  /**
   * Prices by model (credits per million tokens) for this provider's calls. Default: OpenAI's list prices
   * (`pricing.openai`, a snapshot); `{}` for none (a local server). `createEngine({ pricing })` overrides.
   */
  pricing?: Record<string, ModelPrice> | undefined;
  /**
   * The models automatic model choice may pick from this provider (`model: "auto"`; @weft/core's
   * CatalogueModel). Default: `catalogue` (a snapshot) when `baseURL` is OpenAI's own, else none; `[]` for none.
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

export function openai(options: OpenAIOptions = {}): Provider {
  if (options === null || typeof options !== 'object') throw invalidArgument('options', 'an object', options);
  const name = options.name ?? 'openai';
  if (typeof name !== 'string' || name === '') throw invalidArgument('name', 'a non-empty string', name);
  if (options.apiKey !== undefined && typeof options.apiKey !== 'string') {
    // The value is not quoted: it may be a secret of the wrong type.
    throw new WeftError(ERROR_CODES.INVALID_ARGUMENT, 'Expected `apiKey` to be a string.', {
      details: { parameter: 'apiKey' },
    });
  }
  const url = endpoint(options.baseURL ?? OPENAI_BASE_URL, options.apiVersion);
  const pricing = options.pricing ?? listPrices.openai;
  if (pricing === null || typeof pricing !== 'object' || Array.isArray(pricing))
    throw invalidArgument('pricing', 'an object of prices by model', pricing);
  const prices = Object.freeze({ ...pricing });
  const models = modelsFor(
    options.catalogue,
    options.baseURL === undefined || url.startsWith(`${OPENAI_BASE_URL}/`),
  );
  const maxTokensParam = options.maxTokensParam ?? 'max_tokens';
  const headers: Record<string, string> = { accept: 'application/json', ...options.headers };
  if (options.apiKey !== undefined && options.apiKey !== '') {
    if (options.authHeader === 'api-key') headers['api-key'] = options.apiKey;
    else headers.authorization = `Bearer ${options.apiKey}`;
  }
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

  function finish(body: unknown, status: number): ModelResponse {
    const record = body as any;
    const choice = Array.isArray(record?.choices) ? record.choices[0] : undefined;
    if (choice === undefined || choice === null || typeof choice !== 'object') {
      if (record?.error !== undefined) throw errorForStreamError(name, record.error);
      throw malformedResponse(name, status, 'a body without choices');
    }
    const message = choice.message ?? {};
    const response: ModelResponse = {
      message: contentText(message.content),
      raw: client.redact(body),
      usage: toUsage(record.usage),
    };
    const toolCalls = toToolCalls(message.tool_calls);
    if (toolCalls !== undefined) response.tool_calls = toolCalls;
    if (typeof message.refusal === 'string' || message.refusal === null) response.refusal = message.refusal;
    if (typeof record.model === 'string') response.model = record.model;
    return response;
  }

  async function readStream(response: Response, context: AttemptContext, request: ModelRequest) {
    const onDelta = request.onDelta;
    if (!(response.headers.get('content-type') ?? '').includes('text/event-stream')) {
      // A compatible server that ignored `stream: true` and answered with one JSON body.
      const result = finish(await readJson(response, context), response.status);
      if (result.message !== '' && onDelta !== undefined) {
        context.commit();
        onDelta(result.message);
      }
      return result;
    }
    const stream = new ChatStream();
    let done = false;
    for await (const event of readEvents(response, context)) {
      const data = event.data.trim();
      if (data === '[DONE]') {
        done = true;
        break;
      }
      if (data === '') continue;
      let chunk: any;
      try {
        chunk = JSON.parse(data);
      } catch {
        throw malformedResponse(name, response.status, data);
      }
      if (chunk?.error !== undefined && chunk?.error !== null) throw errorForStreamError(name, chunk.error);
      const delta = stream.push(chunk);
      if (delta !== '' && onDelta !== undefined) {
        context.commit();
        onDelta(delta);
      }
      if (stream.toolDeltas.length > 0 && request.onToolCallDelta !== undefined) {
        context.commit();
        for (const fragment of stream.toolDeltas) request.onToolCallDelta(fragment);
      }
    }
    if (!done && stream.finishReason === undefined) {
      throw providerError(
        ERROR_CODES.PROVIDER_UNAVAILABLE,
        `${name}: the stream ended before the reply was complete.`,
        {
          provider: name,
          status: response.status,
          transient: true,
        },
      );
    }
    const result: ModelResponse = {
      message: stream.text,
      raw: client.redact(stream.toCompletion()),
      usage: stream.tokenUsage(),
    };
    const toolCalls = stream.toolCalls();
    if (toolCalls !== undefined) result.tool_calls = toolCalls;
    if (stream.refusal !== undefined) result.refusal = stream.refusal;
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
        body: buildBody(request, stream, maxTokensParam),
        signal: request.signal,
        read: (response, context) =>
          stream
            ? readStream(response, context, request)
            : readJson(response, context).then((body) => finish(body, response.status)),
      });
    },
  };
}

function endpoint(baseURL: string, apiVersion: string | undefined): string {
  if (typeof baseURL !== 'string' || !/^https?:\/\//i.test(baseURL)) {
    throw invalidArgument('baseURL', 'an http(s) URL', baseURL);
  }
  const url = new URL(baseURL);
  url.pathname = `${url.pathname.replace(/\/+$/, '')}/chat/completions`;
  if (apiVersion !== undefined) url.searchParams.set('api-version', apiVersion);
  return url.toString();
}

/** The `catalogue` option, checked (entries are checked by the engine), or the default snapshot. */
function modelsFor(option: unknown, ownEndpoint: boolean): readonly CatalogueModel[] {
  if (option === undefined) return ownEndpoint ? listModels : [];
  if (!Array.isArray(option)) throw invalidArgument('catalogue', 'an array of catalogue models', option);
  return Object.freeze([...option]);
}
