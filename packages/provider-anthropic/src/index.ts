// @weft/provider-anthropic — the Messages API over fetch. Values first, then types.

export type { RetryOptions } from '@weft/provider-http';
export type { AnthropicOptions } from './anthropic.js';
export { ANTHROPIC_BASE_URL, ANTHROPIC_VERSION, anthropic } from './anthropic.js';
export { pricing } from './pricing.js';
export { MessageStream } from './stream.js';
export type { BodyOptions, MessagesBody } from './wire.js';
export { buildBody, DEFAULT_MAX_TOKENS, JSON_INSTRUCTION, stripFences } from './wire.js';
