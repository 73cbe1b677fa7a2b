// @weft/provider-openai — the Chat Completions wire format over fetch. Values first, then types.
// The wire details (request bodies, stream assembly) are internal.

export type { RetryOptions } from '@weft/provider-http';
export { catalogue } from './catalogue.js';
export type { OpenAIOptions } from './openai.js';
export { OPENAI_BASE_URL, openai } from './openai.js';
export { pricing } from './pricing.js';
export type { MaxTokensParam } from './wire.js';
