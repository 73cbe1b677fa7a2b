/**
 * Scripted replies: what a scripted provider answers. A reply is
 * - a string: the reply text;
 * - any other JSON value (object, array, number, boolean, null): the reply text is its JSON;
 * - `{ "$error": "<WeftError code>", "message"?, "details"?, "retryable"? }`: the call throws that error;
 * - `{ "$sequence": [reply, ...] }`: successive calls get successive replies, the last one repeats;
 * - `{ "$response": { "message", "usage"?, "tool_calls"?, "refusal"?, "model"? } }`: full control;
 * - a function of the request returning any of these (possibly async);
 * - an `Error` instance: thrown as it is.
 */
import { type ModelRequest, type ModelToolCall, type TokenUsage, WeftError } from '@weft/core';

/** A request as the scripted provider records and passes it to reply functions (no signal, no onDelta). */
export type ScriptedRequest = Omit<ModelRequest, 'signal' | 'onDelta'>;

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
