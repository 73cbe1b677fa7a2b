// @weft/provider-http — shared HTTP reliability for Weft's provider packages. Values first, then types.

export type {
  AttemptContext,
  FetchLike,
  HttpClient,
  HttpClientOptions,
  PostRequest,
} from './client.js';
export {
  createHttpClient,
  DEFAULT_MAX_RESPONSE_BYTES,
  DEFAULT_TIMEOUT_MS,
  DEFAULT_TOTAL_TIMEOUT_MS,
  malformedResponse,
  readCapped,
  readEvents,
  readJson,
  readText,
  responseTooLarge,
} from './client.js';
export type { ErrorBody, ProviderErrorOptions } from './errors.js';
export {
  codeForStatus,
  describeNetworkError,
  errorForStatus,
  errorForStreamError,
  finalizeError,
  isProviderError,
  isRetryableStatus,
  isTransient,
  parseErrorBody,
  providerError,
  redactText,
  redactValue,
} from './errors.js';
export { checkModelRequest } from './request.js';
export type { RetryOptions } from './retry.js';
export { backoffDelay, DEFAULT_RETRY, parseRetryAfter, sleep } from './retry.js';
export type { SSEEvent } from './sse.js';
export { DEFAULT_MAX_EVENT_SIZE, parseSSEText, SSEDecoder, SSEEventTooLarge } from './sse.js';
