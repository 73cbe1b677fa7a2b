/**
 * Assembles a streamed chat completion from its `chat.completion.chunk`s: text and refusal deltas,
 * tool-call fragments by index, the finish reason, and the usage of the final chunk
 * (`stream_options.include_usage`; its `choices` is empty — or null on some compatible servers).
 */
import type { ModelToolCall, ModelToolCallDelta, TokenUsage } from '@weft/core';
import { toUsage, type WireUsage } from './wire.js';

interface ToolCallParts {
  id: string;
  type: string;
  name: string;
  arguments: string;
}

export class ChatStream {
  text = '';
  refusal: string | undefined;
  finishReason: string | undefined;
  usage: WireUsage | undefined;
  id: string | undefined;
  model: string | undefined;
  created: number | undefined;
  private readonly tools = new Map<number, ToolCallParts>();
  /** The tool-call fragments of the last chunk pushed. */
  toolDeltas: ModelToolCallDelta[] = [];

  /** Takes one parsed chunk; returns its text delta ('' when it has none). */
  push(chunk: any): string {
    this.toolDeltas = [];
    if (typeof chunk?.id === 'string') this.id ??= chunk.id;
    if (typeof chunk?.model === 'string') this.model = chunk.model;
    if (typeof chunk?.created === 'number') this.created ??= chunk.created;
    if (chunk?.usage !== null && typeof chunk?.usage === 'object') this.usage = chunk.usage;
    const choices: any[] = Array.isArray(chunk?.choices) ? chunk.choices : [];
    let delta = '';
    for (const choice of choices) {
      if ((choice?.index ?? 0) !== 0) continue;
      const d = choice?.delta ?? {};
      if (typeof d.content === 'string') delta += d.content;
      if (typeof d.refusal === 'string') this.refusal = (this.refusal ?? '') + d.refusal;
      if (Array.isArray(d.tool_calls)) {
        for (const fragment of d.tool_calls) this.toolFragment(fragment);
      }
      if (typeof choice?.finish_reason === 'string') this.finishReason = choice.finish_reason;
    }
    this.text += delta;
    return delta;
  }

  private toolFragment(fragment: any): void {
    const index = typeof fragment?.index === 'number' ? fragment.index : this.tools.size;
    let call = this.tools.get(index);
    if (call === undefined) {
      call = { id: '', type: 'function', name: '', arguments: '' };
      this.tools.set(index, call);
    }
    if (typeof fragment?.id === 'string') call.id = fragment.id;
    if (typeof fragment?.type === 'string') call.type = fragment.type;
    if (typeof fragment?.function?.name === 'string') call.name += fragment.function.name;
    if (typeof fragment?.function?.arguments === 'string') call.arguments += fragment.function.arguments;
    const delta: ModelToolCallDelta = {
      index,
      arguments: typeof fragment?.function?.arguments === 'string' ? fragment.function.arguments : '',
    };
    if (typeof fragment?.id === 'string') delta.id = fragment.id;
    if (typeof fragment?.function?.name === 'string') delta.name = fragment.function.name;
    this.toolDeltas.push(delta);
  }

  toolCalls(): ModelToolCall[] | undefined {
    if (this.tools.size === 0) return undefined;
    return [...this.tools.entries()]
      .sort(([a], [b]) => a - b)
      .map(([, c]) => ({ id: c.id, type: c.type, function: { name: c.name, arguments: c.arguments } }));
  }

  tokenUsage(): TokenUsage {
    return toUsage(this.usage);
  }

  /** The equivalent non-streamed `chat.completion` object. */
  toCompletion(): Record<string, unknown> {
    const message: Record<string, unknown> = { role: 'assistant', content: this.text };
    if (this.refusal !== undefined) message.refusal = this.refusal;
    const toolCalls = this.toolCalls();
    if (toolCalls !== undefined) message.tool_calls = toolCalls;
    return {
      id: this.id,
      object: 'chat.completion',
      created: this.created,
      model: this.model,
      choices: [{ index: 0, message, finish_reason: this.finishReason ?? null }],
      usage: this.usage ?? null,
    };
  }
}
