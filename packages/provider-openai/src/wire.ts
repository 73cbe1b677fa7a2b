/**
 * The Chat Completions wire format: the request body Weft sends and the pieces of the response it reads.
 * Only the fields Weft uses are typed; everything else stays in `raw`.
 */
import type { ModelContentPart, ModelMessage, ModelRequest, ModelToolCall, TokenUsage } from '@weft/core';

export type MaxTokensParam = 'max_tokens' | 'max_completion_tokens';

/** A message as Chat Completions takes it. */
export interface WireMessage {
  role: string;
  content: string | null | unknown[];
  tool_calls?: Array<{ id: string; type: 'function'; function: { name: string; arguments: string } }>;
  tool_call_id?: string;
}

export interface WireTool {
  type: 'function';
  function: { name: string; description: string; parameters: Record<string, unknown> };
}

export interface ChatCompletionBody {
  model: string;
  messages: WireMessage[];
  temperature?: number;
  max_tokens?: number;
  max_completion_tokens?: number;
  stream: boolean;
  stream_options?: { include_usage: true };
  tools?: WireTool[];
  tool_choice?: 'auto' | 'required' | 'none';
  parallel_tool_calls?: boolean;
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
    messages: request.messages.map(toWireMessage),
    stream,
  };
  if (request.temperature !== undefined) body.temperature = request.temperature;
  if (request.max_tokens !== undefined) body[maxTokensParam] = request.max_tokens;
  if (stream) body.stream_options = { include_usage: true };
  if (request.tools !== undefined && request.tools.length > 0) {
    body.tools = request.tools.map((tool) => ({
      type: 'function',
      function: { name: tool.name, description: tool.description, parameters: tool.parameters },
    }));
    body.tool_choice = request.tool_choice ?? 'auto';
    // Only sent with tools: the API refuses `parallel_tool_calls` without them.
    if (request.parallel_tool_calls !== undefined) body.parallel_tool_calls = request.parallel_tool_calls;
  }
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

/**
 * A ModelMessage in Chat Completions form: an assistant's tool calls as `tool_calls` (content null when it
 * said nothing), a tool result as a `role: "tool"` message, parts mapped (images as `image_url`, files as
 * `file` parts with a base64 data URL).
 */
export function toWireMessage(message: ModelMessage): WireMessage {
  if (message.role === 'tool') {
    return { role: 'tool', tool_call_id: message.tool_call_id ?? '', content: textOf(message.content) };
  }
  const wire: WireMessage = { role: message.role, content: toWireContent(message.content) };
  if (message.role === 'assistant' && message.tool_calls !== undefined && message.tool_calls.length > 0) {
    wire.tool_calls = message.tool_calls.map((call) => ({
      id: call.id,
      type: 'function',
      function: { name: call.function.name, arguments: call.function.arguments },
    }));
    if (wire.content === '') wire.content = null;
  }
  return wire;
}

function toWireContent(content: string | ModelContentPart[]): string | unknown[] {
  if (typeof content === 'string') return content;
  return content.map((part) => {
    const p = part as Record<string, unknown>;
    if (p.type === 'image') {
      const url =
        typeof p.url === 'string'
          ? p.url
          : `data:${String(p.media_type ?? 'image/png')};base64,${String(p.data ?? '')}`;
      return { type: 'image_url', image_url: { url } };
    }
    if (p.type === 'file' && typeof p.data === 'string') {
      return {
        type: 'file',
        file: {
          filename: typeof p.filename === 'string' ? p.filename : 'file',
          file_data: `data:${String(p.media_type ?? 'application/octet-stream')};base64,${p.data}`,
        },
      };
    }
    return part;
  });
}

function textOf(content: string | ModelContentPart[]): string {
  if (typeof content === 'string') return content;
  return content
    .map((part) => (part as { text?: unknown }).text)
    .filter((text): text is string => typeof text === 'string')
    .join('\n');
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
