// @weft/provider-anthropic — the Messages API over fetch. Values first, then types.
// The wire details (request bodies, stream assembly) are internal.

export type { RetryOptions } from '@weft/provider-http';
export type { AnthropicOptions } from './anthropic.js';
export { ANTHROPIC_BASE_URL, ANTHROPIC_VERSION, anthropic } from './anthropic.js';
export { catalogue } from './catalogue.js';
export { pricing } from './pricing.js';
export { DEFAULT_MAX_TOKENS, JSON_INSTRUCTION } from './wire.js';
