/**
 * `scriptedProvider`: a deterministic Provider for dry runs and tests. A call is answered by the first
 * of: `replies[step_key]`, the first `match` entry whose `when(request)` is true, `models[model]`,
 * `default`, and finally the built-in echo (see `echoReply`). An auto-fill call (`request.auto_fill`) is
 * answered by `replies[step_key]` (the input step's key, or "$auto" for the workflow input), else field by
 * field from `autoFill`, with a placeholder that fits the field for the others (auto.ts).
 */
import {
  type AutoModelPolicy,
  CancelledError,
  type CatalogueModel,
  invalidArgument,
  type ModelRequest,
  type ModelResponse,
  type Provider,
  type TokenUsage,
} from '@weft/core';
import {
  checkChoices,
  placeholder,
  SCRIPTED_CATALOGUE,
  type ScriptedChoices,
  scriptedAutoModel,
} from './auto.js';
import { type ResolvedReply, resolveReply, type ScriptedReply, type ScriptedRequest } from './reply.js';
import { estimateTokens, messageText, splitWords } from './text.js';

export interface ScriptedMatcher {
  when: (request: ScriptedRequest) => boolean;
  reply: ScriptedReply;
}

export interface ScriptedProviderOptions {
  /** The provider name steps use. Default "scripted". */
  name?: string;
  /** Replies by step key (checked first). */
  replies?: Record<string, ScriptedReply>;
  /** Matchers, tried in order after the step keys. */
  match?: ScriptedMatcher[];
  /** Replies by model name (after the matchers). */
  models?: Record<string, ScriptedReply>;
  /** The reply when nothing else matched. Default: the echo (see README). */
  default?: ScriptedReply;
  /** Simulated latency before answering, in ms (the abort signal cuts it short → CANCELLED). */
  latencyMs?: number | ((request: ScriptedRequest) => number);
  /** Token counts. Default: `ceil(chars / 4)` of the prompt's text and of the reply. */
  usage?: TokenUsage | ((request: ScriptedRequest, message: string) => TokenUsage);
  /** Simulate streaming through `onDelta`, one word per delta, when the request has one. Default true. */
  stream?: boolean;
  /** The models automatic model choice may pick (`model: "auto"`). Default SCRIPTED_CATALOGUE; `[]`: none. */
  catalogue?: readonly CatalogueModel[];
  /** Auto-fill answers by field name (any reply; its JSON text is parsed, plain text stays a string). */
  autoFill?: Record<string, ScriptedReply>;
  /** The model automatic choice gives a step, by step key (see `autoModel`). */
  choose?: ScriptedChoices;
}

export interface ScriptedProvider extends Provider {
  /** Every request received, in order, without its signal and onDelta: frozen snapshots (a copy each). */
  readonly calls: ScriptedRequest[];
  /** Forgets the calls and restarts every `$sequence`. */
  reset(): void;
  /** The same script, calls record and sequence positions under another provider name. */
  withName(name: string): ScriptedProvider;
  readonly catalogue: readonly CatalogueModel[];
  /** A policy for `createEngine({ autoModel })`: `choose` for the steps it names, else the default policy. */
  readonly autoModel: AutoModelPolicy;
}

/** Where the reply of a call came from (in `raw.source`). */
export type ReplySource = 'replies' | 'match' | 'models' | 'default' | 'echo' | 'auto_fill';

interface SharedState {
  calls: ScriptedRequest[];
  positions: WeakMap<object, number>;
}

const ECHO_LENGTH = 60;

/**
 * The built-in default reply: `echo: <last user message>` (whitespace collapsed, first 60 characters);
 * for `response_format: "json"` the JSON `{"echo": "<same text>"}`.
 */
export function echoReply(request: Pick<ModelRequest, 'messages' | 'response_format'>): string {
  let last = '';
  for (let i = request.messages.length - 1; i >= 0; i--) {
    const message = request.messages[i]!;
    if (message.role === 'user') {
      last = messageText(message);
      break;
    }
  }
  const snippet = last.replace(/\s+/g, ' ').trim().slice(0, ECHO_LENGTH);
  return request.response_format === 'json' ? JSON.stringify({ echo: snippet }) : `echo: ${snippet}`;
}

export function scriptedProvider(options: ScriptedProviderOptions = {}): ScriptedProvider {
  validateOptions(options);
  return build(options, options.name ?? 'scripted', { calls: [], positions: new WeakMap() });
}

function build(options: ScriptedProviderOptions, name: string, state: SharedState): ScriptedProvider {
  const pick = (request: ScriptedRequest): { reply: ScriptedReply; source: ReplySource } | undefined => {
    if (options.replies !== undefined && Object.hasOwn(options.replies, request.step_key)) {
      return { reply: options.replies[request.step_key] as ScriptedReply, source: 'replies' };
    }
    for (const matcher of options.match ?? []) {
      if (matcher.when(request)) return { reply: matcher.reply, source: 'match' };
    }
    if (options.models !== undefined && Object.hasOwn(options.models, request.model)) {
      return { reply: options.models[request.model] as ScriptedReply, source: 'models' };
    }
    if (options.default !== undefined) return { reply: options.default, source: 'default' };
    return undefined;
  };

  /** An auto-fill answer: each field from `autoFill`, else a placeholder that fits its schema. */
  async function autoFillReply(request: ScriptedRequest): Promise<string> {
    const schema = request.json_schema?.schema ?? {};
    const properties = (schema.properties ?? {}) as Record<string, unknown>;
    const answer: Record<string, unknown> = {};
    for (const field of request.auto_fill?.fields ?? []) {
      if (options.autoFill !== undefined && Object.hasOwn(options.autoFill, field)) {
        const text = (await resolveReply(options.autoFill[field]!, request, name, state.positions)).message;
        answer[field] = parseOr(text);
      } else answer[field] = placeholder(properties[field], field);
    }
    return JSON.stringify(answer);
  }

  async function complete(request: ModelRequest): Promise<ModelResponse> {
    const { signal, onDelta, onToolCallDelta, ...rest } = request;
    // One frozen snapshot is both the `calls` record and what matchers and reply functions see: the
    // engine changing its request later cannot reach it (it is a copy), and a script cannot change the
    // record or the engine's request through it (it is frozen).
    const view = snapshot(rest) as ScriptedRequest;
    state.calls.push(view);
    const cancelled = () =>
      new CancelledError(`${name}: the request was cancelled.`, { details: { provider: name } });
    if (signal?.aborted) throw cancelled();

    const latency =
      typeof options.latencyMs === 'function' ? options.latencyMs(view) : (options.latencyMs ?? 0);
    if (latency > 0) await delay(latency, signal, cancelled);

    const filling = view.auto_fill !== undefined && !Object.hasOwn(options.replies ?? {}, view.step_key);
    const picked = filling ? { reply: autoFillReply, source: 'auto_fill' as const } : pick(view);
    const resolved: ResolvedReply =
      picked === undefined
        ? { message: echoReply(view) }
        : await resolveReply(picked.reply, view, name, state.positions);
    if (signal?.aborted) throw cancelled();

    if (onDelta !== undefined && options.stream !== false) {
      for (const word of splitWords(resolved.message)) {
        if (signal?.aborted) throw cancelled();
        onDelta(word);
        await Promise.resolve();
      }
      if (signal?.aborted) throw cancelled();
    }

    if (onToolCallDelta !== undefined && options.stream !== false && resolved.tool_calls !== undefined) {
      resolved.tool_calls.forEach((call, index) => {
        onToolCallDelta({ index, id: call.id, name: call.function.name, arguments: call.function.arguments });
      });
    }

    const usage = resolved.usage ?? usageFor(options, view, resolved.message);
    const response: ModelResponse = {
      message: resolved.message,
      raw: {
        scripted: true,
        provider: name,
        source: picked?.source ?? 'echo',
        step_key: view.step_key,
        message: resolved.message,
      },
      usage: { input_tokens: usage.input_tokens, output_tokens: usage.output_tokens },
      model: resolved.model ?? view.model,
    };
    if (resolved.tool_calls !== undefined) response.tool_calls = resolved.tool_calls;
    if (resolved.refusal !== undefined) response.refusal = resolved.refusal;
    return response;
  }

  return {
    name,
    calls: state.calls,
    catalogue: options.catalogue ?? SCRIPTED_CATALOGUE,
    autoModel: scriptedAutoModel(options.choose),
    complete,
    reset() {
      state.calls.length = 0;
      state.positions = new WeakMap();
    },
    withName(other: string) {
      if (typeof other !== 'string' || other === '')
        throw invalidArgument('name', 'a non-empty string', other);
      return build(options, other, state);
    },
  };
}

/**
 * A deep copy of a request, frozen: arrays and plain objects are copied member by member (a request is JSON
 * data: messages, tools, schemas); anything else goes through structuredClone, which for the whole
 * request costs more (it serialises and parses back; W14's profile had two of them per call).
 */
export function snapshot<T>(value: T, depth = 0): T {
  if (value === null || typeof value !== 'object') return value;
  if (depth > MAX_SNAPSHOT_DEPTH) return Object.freeze(structuredClone(value));
  if (Array.isArray(value)) {
    const out = new Array(value.length);
    for (let i = 0; i < value.length; i++) out[i] = snapshot(value[i], depth + 1);
    return Object.freeze(out) as T;
  }
  const proto = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) return deepFreeze(structuredClone(value));
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(value)) {
    const member = (value as Record<string, unknown>)[key];
    // Like structuredClone, functions cannot be copied; unlike it, they are dropped, not thrown on.
    if (typeof member === 'function') continue;
    const copy = snapshot(member, depth + 1);
    // Plain assignment (fast), but `__proto__` must stay an own key, not become the prototype.
    if (key === '__proto__') {
      Object.defineProperty(out, key, { value: copy, enumerable: true, writable: true, configurable: true });
    } else out[key] = copy;
  }
  return Object.freeze(out) as T;
}

/** Past this depth the rest of a value is copied by structuredClone (no deep recursion on hostile data). */
const MAX_SNAPSHOT_DEPTH = 64;

function deepFreeze<T>(value: T): T {
  const stack: unknown[] = [value];
  while (stack.length > 0) {
    const next = stack.pop();
    if (next === null || typeof next !== 'object' || Object.isFrozen(next)) continue;
    // Typed arrays with elements cannot be frozen; their bytes stay a copy the engine never sees.
    if (ArrayBuffer.isView(next)) continue;
    Object.freeze(next);
    for (const member of Object.values(next)) stack.push(member);
  }
  return value;
}

function parseOr(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

function usageFor(options: ScriptedProviderOptions, request: ScriptedRequest, message: string): TokenUsage {
  if (typeof options.usage === 'function') return options.usage(request, message);
  if (options.usage !== undefined) return options.usage;
  const prompt = request.messages.map(messageText).join('\n');
  return { input_tokens: estimateTokens(prompt), output_tokens: estimateTokens(message) };
}

function delay(ms: number, signal: AbortSignal | undefined, cancelled: () => Error): Promise<void> {
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      clearTimeout(timer);
      reject(cancelled());
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

function validateOptions(options: ScriptedProviderOptions): void {
  if (options === null || typeof options !== 'object') {
    throw invalidArgument('options', 'an object', options);
  }
  if (options.name !== undefined && (typeof options.name !== 'string' || options.name === '')) {
    throw invalidArgument('name', 'a non-empty string', options.name);
  }
  const latency = options.latencyMs;
  if (latency !== undefined && typeof latency !== 'function') {
    if (!(typeof latency === 'number' && Number.isFinite(latency) && latency >= 0)) {
      throw invalidArgument('latencyMs', 'a number ≥ 0 or a function', latency);
    }
  }
  if (options.catalogue !== undefined && !Array.isArray(options.catalogue)) {
    throw invalidArgument('catalogue', 'an array of catalogue models', options.catalogue);
  }
  if (options.choose !== undefined) checkChoices(options.choose, 'choose');
  for (const key of ['replies', 'models', 'autoFill'] as const) {
    const value = options[key];
    if (value !== undefined && (value === null || typeof value !== 'object' || Array.isArray(value))) {
      throw invalidArgument(key, 'an object', value);
    }
  }
  if (options.match !== undefined) {
    if (!Array.isArray(options.match)) throw invalidArgument('match', 'an array', options.match);
    options.match.forEach((m, i) => {
      if (m === null || typeof m !== 'object' || typeof m.when !== 'function') {
        throw invalidArgument(`match[${i}].when`, 'a function', m?.when);
      }
    });
  }
}
