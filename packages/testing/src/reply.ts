/**
 * Scripted replies: what a scripted provider answers. A reply is
 * - a string: the reply text;
 * - any other JSON value (object, array, number, boolean, null): the reply text is its JSON;
 * - `{ "$error": "<WeftError code>", "message"?, "details"?, "retryable"? }`: the call throws that error;
 * - `{ "$sequence": [reply, ...] }`: successive calls get successive replies, the last one repeats;
 * - `{ "$response": { "message", "usage"?, "tool_calls"?, "refusal"?, "model"? } }`: full control;
 * - `{ "$turns": [reply, ...] }`: the reply to model call N of a step's tool loop is the N-th (the last one
 *   repeats): "on turn 1 call `lookup`, on turn 2 answer". Unlike `$sequence` it depends on the run only;
 * - `{ "$tool_calls": [{ "name", "input"?, "id"? }, ...], "message"? }`: a reply calling tools (`name` as the
 *   document writes it, `external:` or not; `id` defaults to `call_<turn>_<n>`);
 * - a function of the request returning any of these (possibly async);
 * - an `Error` instance: thrown as it is.
 */
import { type ModelRequest, type ModelToolCall, type TokenUsage, WeftError } from '@weft/core';

/** A request as the scripted provider records and passes it to reply functions (no signal, no onDelta). */
export type ScriptedRequest = Omit<ModelRequest, 'signal' | 'onDelta' | 'onToolCallDelta'>;

export type ScriptedReplyFn = (request: ScriptedRequest) => ScriptedReply | Promise<ScriptedReply>;

export interface ScriptedErrorReply {
  $error: string;
  message?: string;
  details?: Record<string, unknown>;
  retryable?: boolean;
}

export interface ScriptedSequenceReply {
  $sequence: readonly ScriptedReply[];
}

export interface ScriptedTurnsReply {
  $turns: readonly ScriptedReply[];
}

export interface ScriptedToolCall {
  name: string;
  input?: unknown;
  id?: string;
}

export interface ScriptedToolCallsReply {
  $tool_calls: readonly ScriptedToolCall[];
  message?: string;
}

export interface ScriptedResponseReply {
  $response: {
    message: unknown;
    usage?: TokenUsage;
    tool_calls?: ModelToolCall[];
    refusal?: string | null;
    model?: string;
  };
}

export type ScriptedReply =
  | string
  | number
  | boolean
  | null
  | readonly unknown[]
  | ScriptedErrorReply
  | ScriptedSequenceReply
  | ScriptedTurnsReply
  | ScriptedToolCallsReply
  | ScriptedResponseReply
  | { readonly [key: string]: unknown }
  | ScriptedReplyFn
  | Error;

/** `{ $error: code, message?, details? }`: a reply that throws a WeftError with that code. */
export function scriptedError(
  code: string,
  message?: string,
  details?: Record<string, unknown>,
): ScriptedErrorReply {
  const reply: ScriptedErrorReply = { $error: code };
  if (message !== undefined) reply.message = message;
  if (details !== undefined) reply.details = details;
  return reply;
}

/** `{ $sequence: replies }`: successive calls get successive replies; the last one repeats. */
export function sequence(...replies: ScriptedReply[]): ScriptedSequenceReply {
  return { $sequence: replies };
}

/** `{ $turns: replies }`: the reply to model call N of a tool loop is `replies[N - 1]` (the last repeats). */
export function turns(...replies: ScriptedReply[]): ScriptedTurnsReply {
  return { $turns: replies };
}

/** `{ $tool_calls: calls, message? }`: a reply that calls tools. */
export function toolCalls(calls: ScriptedToolCall[], message?: string): ScriptedToolCallsReply {
  return message === undefined ? { $tool_calls: calls } : { $tool_calls: calls, message };
}

/** What a reply resolved to. */
export interface ResolvedReply {
  message: string;
  usage?: TokenUsage;
  tool_calls?: ModelToolCall[];
  refusal?: string | null;
  model?: string;
}

const MAX_DEPTH = 16;

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/**
 * Resolves a reply for a request. `positions` keeps each `$sequence` object's next index.
 * Throws the scripted error, if the reply is one.
 */
export async function resolveReply(
  reply: ScriptedReply,
  request: ScriptedRequest,
  provider: string,
  positions: WeakMap<object, number>,
  depth = 0,
): Promise<ResolvedReply> {
  if (depth > MAX_DEPTH) {
    throw new WeftError('INVALID_ARGUMENT', `${provider}: scripted replies nest deeper than ${MAX_DEPTH}.`);
  }
  if (typeof reply === 'function') {
    return resolveReply(await reply(request), request, provider, positions, depth + 1);
  }
  if (reply instanceof Error) throw reply;
  if (typeof reply === 'string') return { message: reply };
  if (isPlainObject(reply)) {
    if (typeof reply.$error === 'string') {
      const e = reply as unknown as ScriptedErrorReply;
      const options: { details: Record<string, unknown>; retryable?: boolean } = {
        details: { ...e.details, provider, scripted: true },
      };
      if (typeof e.retryable === 'boolean') options.retryable = e.retryable;
      throw new WeftError(e.$error, e.message ?? `${provider}: scripted ${e.$error}.`, options);
    }
    if (Array.isArray(reply.$sequence)) {
      const items = reply.$sequence as ScriptedReply[];
      if (items.length === 0) return { message: '' };
      const at = positions.get(reply) ?? 0;
      positions.set(reply, at + 1);
      const item = items[Math.min(at, items.length - 1)] as ScriptedReply;
      return resolveReply(item, request, provider, positions, depth + 1);
    }
    if (Array.isArray(reply.$turns)) {
      const items = reply.$turns as ScriptedReply[];
      if (items.length === 0) return { message: '' };
      const turn = typeof request.turn === 'number' && request.turn >= 1 ? request.turn : 1;
      const item = items[Math.min(turn, items.length) - 1] as ScriptedReply;
      return resolveReply(item, request, provider, positions, depth + 1);
    }
    if (Array.isArray(reply.$tool_calls)) {
      const turn = typeof request.turn === 'number' ? request.turn : 1;
      const calls = reply.$tool_calls as ScriptedToolCall[];
      return {
        message: typeof reply.message === 'string' ? reply.message : '',
        tool_calls: calls.map((call, n) => ({
          id: typeof call.id === 'string' && call.id !== '' ? call.id : `call_${turn}_${n}`,
          type: 'function',
          function: {
            // The model calls a tool by its wire name: `external:refund` is `refund` on the wire.
            name: String(call.name).replace(/^external:/, ''),
            arguments:
              typeof call.input === 'string' ? call.input : (JSON.stringify(call.input ?? {}) ?? '{}'),
          },
        })),
      };
    }
    if (isPlainObject(reply.$response)) {
      const r = reply.$response as ScriptedResponseReply['$response'];
      const out: ResolvedReply = { message: toText(r.message) };
      if (r.usage !== undefined) out.usage = r.usage;
      if (r.tool_calls !== undefined) out.tool_calls = r.tool_calls;
      if (r.refusal !== undefined) out.refusal = r.refusal;
      if (r.model !== undefined) out.model = r.model;
      return out;
    }
  }
  return { message: toText(reply) };
}

function toText(value: unknown): string {
  if (typeof value === 'string') return value;
  const text = JSON.stringify(value);
  return text ?? '';
}
