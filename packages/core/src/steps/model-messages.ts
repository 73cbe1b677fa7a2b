/**
 * A `model` step's messages as providers take them (`ModelMessage`): the document's messages (the
 * platform's roles and parts: text, image, file; an assistant's `tools`; a `tool` message's
 * `tool_result` parts), then the tool loop's turns so far — each reply with tool calls as an assistant
 * message, each result as a `tool` message of its own.
 */
import type { PlanTool } from '../compile/agent.js';
import { ERROR_CODES, WeftError } from '../errors.js';
import type { Message } from '../model/types.js';
import type { ModelContentPart, ModelMessage, ModelToolCall } from '../providers/provider.js';
import type { TranscriptCall, TranscriptTurn } from '../run/agent.js';
import type { PolicyFetch } from './http-fetch.js';

type Obj = Record<string, unknown>;
const isObject = (value: unknown): value is Obj =>
  value !== null && typeof value === 'object' && !Array.isArray(value);

const DATA_URL = /^data:([^;,]+)?(;[^,]*)?,/;

/** The document's messages (templates resolved) as ModelMessages. */
export function documentMessages(messages: readonly Message[]): ModelMessage[] {
  const out: ModelMessage[] = [];
  for (const m of messages) {
    if (m.role === 'tool') {
      // Each `tool_result` part is one result; providers that group results merge them back.
      for (const part of Array.isArray(m.content) ? m.content : []) {
        const p = part as Obj;
        out.push({
          role: 'tool',
          tool_call_id: typeof p.id === 'string' ? p.id : '',
          ...(typeof p.name === 'string' ? { name: p.name } : {}),
          content: resultText(p.output),
        });
      }
      continue;
    }
    const message: ModelMessage = { role: m.role, content: contentOf(m.content) };
    if (m.role === 'assistant' && Array.isArray(m.tools) && m.tools.length > 0) {
      message.tool_calls = m.tools.map((call) => ({
        id: call.id,
        type: 'function',
        function: { name: call.name, arguments: argumentsText(call.input) },
      }));
    }
    out.push(message);
  }
  return out;
}

function contentOf(content: unknown): string | ModelContentPart[] {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return stringify(content);
  return content.map((part) => partOf(part as Obj));
}

/**
 * A platform part as a ModelContentPart: `image` by URL (a data URL becomes inline data), `file` inline
 * when given as a data URL (files by URL are fetched first: steps/model-files.ts); other types as they are.
 */
function partOf(part: Obj): ModelContentPart {
  if (part.type === 'text') return { type: 'text', text: stringify(part.text) };
  if ((part.type === 'image' || part.type === 'file') && typeof part.url === 'string') {
    const inline = fromDataUrl(part.url);
    if (part.type === 'image') {
      return inline === null ? { type: 'image', url: part.url } : { type: 'image', ...inline };
    }
    if (inline !== null) {
      return { type: 'file', data: inline.data, media_type: inline.media_type, ...filename(part) };
    }
  }
  const { disable_variables: _ignored, ...rest } = part;
  return rest as ModelContentPart;
}

function filename(part: Obj): { filename?: string } {
  return typeof part.filename === 'string' ? { filename: part.filename } : {};
}

/** `data:[type][;base64],payload` as base64 data and its media type, or null for any other URL. */
export function fromDataUrl(url: string): { data: string; media_type: string } | null {
  const match = DATA_URL.exec(url);
  if (match === null) return null;
  const mediaType = match[1] ?? 'text/plain';
  const payload = url.slice(match[0].length);
  const base64 = (match[2] ?? '').split(';').includes('base64');
  return {
    media_type: mediaType,
    data: base64 ? payload : Buffer.from(decodeURIComponent(payload), 'utf8').toString('base64'),
  };
}

/** The most bytes a `file` part fetched by URL may have (the engine's `http.maxResponseBytes` may lower it). */
export const MAX_FILE_PART_BYTES = 20 * 1024 * 1024;

/**
 * `file` parts given by an http(s) URL, fetched through the engine's policy-checked fetch (redirects, private
 * addresses, `http.allow` and the size cap all apply) and sent inline as base64: OpenAI's `file` parts
 * take no URL. Parts fetch one at a time; a failure fails the model call (before anything is sent).
 */
export async function inlineFiles(
  messages: ModelMessage[],
  fetch: PolicyFetch | undefined,
  context: { step: { key: string }; signal: AbortSignal },
): Promise<ModelMessage[]> {
  if (fetch === undefined) return messages;
  for (const message of messages) {
    if (!Array.isArray(message.content)) continue;
    for (let k = 0; k < message.content.length; k++) {
      const part = message.content[k] as Obj;
      if (part.type !== 'file' || typeof part.url !== 'string' || !/^https?:\/\//i.test(part.url)) continue;
      const fetched = await fetch({
        step_key: context.step.key,
        url: part.url,
        signal: context.signal,
        maxBytes: MAX_FILE_PART_BYTES,
        useHttpTimeout: true,
      });
      if (!fetched.ok) {
        throw new WeftError(
          ERROR_CODES.STEP_FAILED,
          `Step "${context.step.key}": the file ${part.url} of a message could not be fetched (HTTP ${fetched.status} ${fetched.statusText}).`,
          {
            step_key: context.step.key,
            details: { url: part.url, status: fetched.status },
            retryable: fetched.status >= 500,
          },
        );
      }
      const name = decodeURIComponent(new URL(fetched.url).pathname.split('/').pop() ?? '') || 'file';
      message.content[k] = {
        type: 'file',
        data: Buffer.from(fetched.bytes).toString('base64'),
        media_type: fetched.mediaType === '' ? 'application/octet-stream' : fetched.mediaType,
        filename: typeof part.filename === 'string' ? part.filename : name,
      };
    }
  }
  return messages;
}

/** The tool loop's turns as messages, after the document's. */
export function transcriptMessages(
  turns: readonly TranscriptTurn[],
  tools: readonly PlanTool[],
): ModelMessage[] {
  const out: ModelMessage[] = [];
  for (const turn of turns) {
    const calls: ModelToolCall[] = turn.calls.map((call) => ({
      id: call.id,
      type: 'function',
      function: { name: wireName(call.name, tools), arguments: argumentsText(call.input) },
    }));
    out.push({ role: 'assistant', content: turn.message, tool_calls: calls });
    for (const call of turn.calls) {
      const failed = call.status !== 'COMPLETED';
      out.push({
        role: 'tool',
        tool_call_id: call.id,
        name: wireName(call.name, tools),
        content: failed ? errorText(call) : resultText(call.output),
        ...(failed ? { is_error: true } : {}),
      });
    }
  }
  return out;
}

export function wireName(name: string, tools: readonly PlanTool[]): string {
  for (const tool of tools) if (tool.name === name) return tool.wire;
  return name;
}

/** What the model reads of a failed call: the error's code and message. */
function errorText(call: TranscriptCall): string {
  const error = call.error ?? { code: 'CANCELLED', message: 'The call did not run.' };
  return JSON.stringify({ error: { code: error.code, message: error.message } });
}

function resultText(output: unknown): string {
  return typeof output === 'string' ? output : (JSON.stringify(output ?? null) ?? 'null');
}

/** Arguments as JSON object text; arguments that were not an object (a malformed call) are sent as `{}`. */
function argumentsText(input: unknown): string {
  return isObject(input) ? JSON.stringify(input) : '{}';
}

function stringify(value: unknown): string {
  if (value === null || value === undefined) return '';
  return typeof value === 'string' ? value : (JSON.stringify(value) ?? '');
}
