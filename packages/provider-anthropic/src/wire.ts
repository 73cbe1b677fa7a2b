/**
 * The Messages API wire format: the body Weft sends (`system` apart from `messages`, `max_tokens`
 * required) and the content blocks it reads back.
 */
import type { Message, ModelRequest, ModelToolCall, TokenUsage } from '@weft/core';

export const DEFAULT_MAX_TOKENS = 1024;

/** Appended to the system prompt when a step asks for `response_format: "json"` (the API has no JSON mode). */
export const JSON_INSTRUCTION =
  'Respond with a single valid JSON value and nothing else: no prose before or after it and no Markdown code fences.';

export interface MessagesBody {
  model: string;
  max_tokens: number;
  system?: string;
  messages: Array<{ role: 'user' | 'assistant'; content: string | unknown[] }>;
  temperature?: number;
  /** Structured output only: the one tool whose input is the answer, and `tool_choice` forcing it. */
  tools?: Array<{ name: string; description?: string; input_schema: Record<string, unknown> }>;
  tool_choice?: { type: 'tool'; name: string };
  stream: boolean;
}

export interface BodyOptions {
  stream: boolean;
  maxTokens: number;
  jsonInstruction: string;
}

export function buildBody(request: ModelRequest, options: BodyOptions): MessagesBody {
  const system: string[] = [];
  const messages: MessagesBody['messages'] = [];
  for (const message of request.messages) {
    if (message.role === 'system') {
      const text = textOf(message);
      if (text !== '') system.push(text);
    } else {
      messages.push({ role: message.role, content: toContent(message.content) });
    }
  }
  const schema = request.response_format === 'json' ? request.json_schema : undefined;
  // Structured output is one forced tool call (the tool's input is the answer); plain JSON an instruction.
  if (request.response_format === 'json' && schema === undefined) system.push(options.jsonInstruction);
  // The documented field order: model, max_tokens, system, messages, temperature, stream.
  const body: MessagesBody = {
    model: request.model,
    max_tokens: request.max_tokens ?? options.maxTokens,
  } as MessagesBody;
  if (system.length > 0) body.system = system.join('\n\n');
  body.messages = messages;
  // The workflow schema allows 0–2; the Messages API accepts 0–1.
  if (request.temperature !== undefined) body.temperature = Math.min(1, Math.max(0, request.temperature));
  if (schema !== undefined) {
    body.tools = [
      {
        name: schema.name,
        ...(schema.description === undefined ? {} : { description: schema.description }),
        input_schema: schema.schema,
      },
    ];
    body.tool_choice = { type: 'tool', name: schema.name };
  }
  body.stream = options.stream;
  return body;
}

function textOf(message: Message): string {
  if (typeof message.content === 'string') return message.content;
  return message.content
    .map((part) => (part as { text?: unknown }).text)
    .filter((text): text is string => typeof text === 'string')
    .join('\n');
}

/**
 * Message parts: `text` parts pass through; OpenAI-style `image_url` parts become Anthropic `image` blocks
 * (a `data:` URL as a base64 source, any other URL as a url source); other parts pass through unchanged.
 */
function toContent(content: Message['content']): string | unknown[] {
  if (typeof content === 'string') return content;
  return content.map((part) => {
    const p = part as Record<string, any>;
    if (p.type === 'image_url') {
      const url: unknown = typeof p.image_url === 'string' ? p.image_url : p.image_url?.url;
      if (typeof url === 'string') {
        const data = /^data:([^;,]+);base64,(.*)$/s.exec(url);
        if (data !== null)
          return { type: 'image', source: { type: 'base64', media_type: data[1], data: data[2] } };
        return { type: 'image', source: { type: 'url', url } };
      }
    }
    return part;
  });
}

export interface WireUsage {
  input_tokens?: number;
  output_tokens?: number;
  cache_creation_input_tokens?: number;
  cache_read_input_tokens?: number;
}

/** Input tokens include prompt-cache writes and reads, so that the ledger never under-counts. */
export function toUsage(usage: WireUsage | null | undefined): TokenUsage {
  return {
    input_tokens:
      count(usage?.input_tokens) +
      count(usage?.cache_creation_input_tokens) +
      count(usage?.cache_read_input_tokens),
    output_tokens: count(usage?.output_tokens),
  };
}

function count(value: unknown): number {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0 ? value : 0;
}

/** The text blocks joined, and the tool_use blocks as OpenAI-style tool calls. */
export function readContent(content: unknown): { text: string; toolCalls: ModelToolCall[] | undefined } {
  const blocks: any[] = Array.isArray(content) ? content : [];
  let text = '';
  const toolCalls: ModelToolCall[] = [];
  for (const block of blocks) {
    if (block?.type === 'text' && typeof block.text === 'string') text += block.text;
    else if (block?.type === 'tool_use') {
      toolCalls.push({
        id: String(block.id ?? ''),
        type: 'function',
        function: { name: String(block.name ?? ''), arguments: JSON.stringify(block.input ?? {}) },
      });
    }
  }
  return { text, toolCalls: toolCalls.length > 0 ? toolCalls : undefined };
}

/**
 * Structured output: the forced tool call's input is the answer (its JSON text); the call is not a tool
 * call of the step. Without it (a model that answered in text anyway) the text stands.
 */
export function structuredAnswer(
  request: ModelRequest,
  text: string,
  toolCalls: ModelToolCall[] | undefined,
): { message: string; toolCalls: ModelToolCall[] | undefined } {
  const name = request.response_format === 'json' ? request.json_schema?.name : undefined;
  if (name === undefined) return { message: text, toolCalls };
  const call = toolCalls?.find((c) => c.function.name === name);
  if (call === undefined) return { message: text, toolCalls };
  const rest = toolCalls!.filter((c) => c !== call);
  return { message: call.function.arguments, toolCalls: rest.length > 0 ? rest : undefined };
}

/** In JSON mode: unwraps a reply the model fenced anyway (```json … ```). */
export function stripFences(text: string): string {
  const match = /^\s*```[a-zA-Z]*\s*\n([\s\S]*?)\n?\s*```\s*$/.exec(text);
  return match === null ? text : match[1]!.trim();
}
