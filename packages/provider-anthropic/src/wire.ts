/**
 * The Messages API wire format: the body Weft sends (`system` apart from `messages`, `max_tokens`
 * required) and the content blocks it reads back.
 */
import type { ModelContentPart, ModelMessage, ModelRequest, ModelToolCall, TokenUsage } from '@weft/core';

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
  /** The step's tools, or (structured output) the one tool whose input is the answer. */
  /** Structured output only: the one tool whose input is the answer, and `tool_choice` forcing it. */
  tools?: Array<{ name: string; description?: string; input_schema: Record<string, unknown> }>;
  tool_choice?:
    | { type: 'auto' | 'any' | 'none'; disable_parallel_tool_use?: boolean }
    | { type: 'tool'; name: string };
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
      continue;
    }
    const role = message.role === 'assistant' ? 'assistant' : 'user';
    const content = toBlocks(message);
    // Consecutive messages of one role are merged: the API wants roles to alternate, and every tool result
    // of a turn in one user message.
    const last = messages[messages.length - 1];
    if (
      last !== undefined &&
      last.role === role &&
      (message.role === 'tool' || isToolResults(last.content))
    ) {
      last.content = [...asBlocks(last.content), ...asBlocks(content)];
    } else {
      messages.push({ role, content });
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
  if (request.tools !== undefined && request.tools.length > 0) {
    body.tools = request.tools.map((tool) => ({
      name: tool.name,
      description: tool.description,
      input_schema: tool.parameters,
    }));
    const type = request.tool_choice === 'required' ? 'any' : (request.tool_choice ?? 'auto');
    body.tool_choice =
      request.parallel_tool_calls === false && type !== 'none'
        ? { type, disable_parallel_tool_use: true }
        : { type };
  }
  // Structured output (auto-fill) forces its one tool, replacing any others.
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

function isToolResults(content: string | unknown[]): boolean {
  return (
    Array.isArray(content) &&
    content.length > 0 &&
    content.every((b) => (b as { type?: unknown }).type === 'tool_result')
  );
}

function asBlocks(content: string | unknown[]): unknown[] {
  return typeof content === 'string' ? [{ type: 'text', text: content }] : content;
}

/** A ModelMessage's content as Messages blocks: tool calls as `tool_use`, a tool result as `tool_result`. */
function toBlocks(message: ModelMessage): string | unknown[] {
  if (message.role === 'tool') {
    const block: Record<string, unknown> = {
      type: 'tool_result',
      tool_use_id: message.tool_call_id ?? '',
      content: textOf(message),
    };
    if (message.is_error === true) block.is_error = true;
    return [block];
  }
  const content = toContent(message.content);
  if (message.role !== 'assistant' || message.tool_calls === undefined || message.tool_calls.length === 0) {
    return content;
  }
  const blocks = asBlocks(content).filter(
    (b) =>
      !((b as { type?: unknown; text?: unknown }).type === 'text' && (b as { text?: unknown }).text === ''),
  );
  for (const call of message.tool_calls) {
    blocks.push({
      type: 'tool_use',
      id: call.id,
      name: call.function.name,
      input: parseInput(call.function.arguments),
    });
  }
  return blocks;
}

/** `tool_use.input` must be an object: arguments that are not one (a malformed call) are sent as `{}`. */
function parseInput(text: string): Record<string, unknown> {
  try {
    const value = JSON.parse(text);
    return value !== null && typeof value === 'object' && !Array.isArray(value) ? value : {};
  } catch {
    return {};
  }
}

function textOf(message: ModelMessage): string {
  if (typeof message.content === 'string') return message.content;
  return message.content
    .map((part) => (part as { text?: unknown }).text)
    .filter((text): text is string => typeof text === 'string')
    .join('\n');
}

/**
 * Message parts: `text` parts pass through; `image` parts become `image` blocks (inline data as a base64
 * source, a URL as a url source; OpenAI-style `image_url` parts too); `file` parts become `document`
 * blocks (base64); other parts pass through unchanged.
 */
function toContent(content: string | ModelContentPart[]): string | unknown[] {
  if (typeof content === 'string') return content;
  return content.map((part) => {
    const p = part as Record<string, any>;
    if (p.type === 'image') {
      if (typeof p.data === 'string') {
        return {
          type: 'image',
          source: { type: 'base64', media_type: p.media_type ?? 'image/png', data: p.data },
        };
      }
      if (typeof p.url === 'string') return imageFromUrl(p.url);
    }
    if (p.type === 'file' && typeof p.data === 'string') {
      const block: Record<string, unknown> = {
        type: 'document',
        source: { type: 'base64', media_type: p.media_type ?? 'application/pdf', data: p.data },
      };
      if (typeof p.filename === 'string') block.title = p.filename;
      return block;
    }
    if (p.type === 'image_url') {
      const url: unknown = typeof p.image_url === 'string' ? p.image_url : p.image_url?.url;
      if (typeof url === 'string') return imageFromUrl(url);
    }
    return part;
  });
}

function imageFromUrl(url: string): unknown {
  const data = /^data:([^;,]+);base64,(.*)$/s.exec(url);
  if (data !== null) return { type: 'image', source: { type: 'base64', media_type: data[1], data: data[2] } };
  return { type: 'image', source: { type: 'url', url } };
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
        // A streamed input that did not parse is kept as the text the model wrote (the engine reports it).
        function: {
          name: String(block.name ?? ''),
          arguments: typeof block.input === 'string' ? block.input : JSON.stringify(block.input ?? {}),
        },
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
