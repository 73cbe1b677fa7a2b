// @weft/provider-openai — the Chat Completions wire format over fetch. Values first, then types.

export type { RetryOptions } from '@weft/provider-http';
export type { OpenAIOptions } from './openai.js';
export { OPENAI_BASE_URL, openai } from './openai.js';
export { pricing } from './pricing.js';
export { ChatStream } from './stream.js';
export type { ChatCompletionBody, MaxTokensParam } from './wire.js';
export { buildBody } from './wire.js';
