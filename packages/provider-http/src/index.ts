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
  DEFAULT_TIMEOUT_MS,
  malformedResponse,
  readEvents,
  readJson,
  readText,
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
export type { RetryOptions } from './retry.js';
export { backoffDelay, DEFAULT_RETRY, parseRetryAfter, sleep } from './retry.js';
export type { SSEEvent } from './sse.js';
export { parseSSEText, SSEDecoder } from './sse.js';
