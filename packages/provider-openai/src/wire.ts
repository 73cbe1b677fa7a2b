/**
 * The Chat Completions wire format: the request body Weft sends and the pieces of the response it reads.
 * Only the fields Weft uses are typed; everything else stays in `raw`.
 */
import type { Message, ModelRequest, ModelToolCall, TokenUsage } from '@weft/core';

export type MaxTokensParam = 'max_tokens' | 'max_completion_tokens';

export interface ChatCompletionBody {
  model: string;
  messages: Array<{ role: string; content: Message['content'] }>;
  temperature?: number;
  max_tokens?: number;
  max_completion_tokens?: number;
  stream: boolean;
  stream_options?: { include_usage: true };
  response_format?:
    | { type: 'json_object' }
    | {
        type: 'json_schema';
        json_schema: { name: string; description?: string; schema: Record<string, unknown>; strict: false };
      };
}

export function buildBody(
  request: ModelRequest,
  stream: boolean,
  maxTokensParam: MaxTokensParam,
): ChatCompletionBody {
  const body: ChatCompletionBody = {
    model: request.model,
    messages: request.messages.map((m) => ({ role: m.role, content: m.content })),
    stream,
  };
  if (request.temperature !== undefined) body.temperature = request.temperature;
  if (request.max_tokens !== undefined) body[maxTokensParam] = request.max_tokens;
  if (stream) body.stream_options = { include_usage: true };
  if (request.response_format === 'json') {
    // Structured output (auto-fill): the schema itself. Not `strict`: strict mode refuses optional
    // properties and formats, and the engine checks the answer anyway.
    const schema = request.json_schema;
    body.response_format =
      schema === undefined
        ? { type: 'json_object' }
        : {
            type: 'json_schema',
            json_schema: {
              name: schema.name,
              ...(schema.description === undefined ? {} : { description: schema.description }),
              schema: schema.schema,
              strict: false,
            },
          };
  }
  return body;
}

export interface WireUsage {
  prompt_tokens?: number;
  completion_tokens?: number;
}

export function toUsage(usage: WireUsage | null | undefined): TokenUsage {
  return {
    input_tokens: count(usage?.prompt_tokens),
    output_tokens: count(usage?.completion_tokens),
  };
}

function count(value: unknown): number {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0 ? value : 0;
}

/** `content` is a string, null (tool calls only), or — from some compatible servers — an array of parts. */
export function contentText(content: unknown): string {
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) {
    return content
      .map((part) =>
        part !== null && typeof part === 'object' ? (part as { text?: unknown }).text : undefined,
      )
      .filter((text): text is string => typeof text === 'string')
      .join('');
  }
  return '';
}

export function toToolCalls(value: unknown): ModelToolCall[] | undefined {
  if (!Array.isArray(value) || value.length === 0) return undefined;
  return value.map((call: any) => ({
    id: String(call?.id ?? ''),
    type: String(call?.type ?? 'function'),
    function: {
      name: String(call?.function?.name ?? ''),
      arguments:
        typeof call?.function?.arguments === 'string'
          ? call.function.arguments
          : JSON.stringify(call?.function?.arguments ?? {}),
    },
  }));
}
