/**
 * Assembles a streamed Message from its events: `message_start` (the skeleton and input usage),
 * `content_block_start` / `content_block_delta` (`text_delta`, `input_json_delta`) / `content_block_stop`,
 * `message_delta` (stop reason and cumulative usage), `message_stop`. `ping` is ignored; `error` events are
 * the caller's to throw.
 */
import type { ModelToolCall, ModelToolCallDelta, TokenUsage } from '@weft/core';
import { readContent, toUsage, type WireUsage } from './wire.js';

export class MessageStream {
  text = '';
  stopped = false;
  stopReason: string | undefined;
  model: string | undefined;
  private message: Record<string, unknown> = {};
  private readonly blocks: Array<Record<string, any>> = [];
  private readonly partialJson = new Map<number, string>();
  private usage: WireUsage = {};
  /** Tool-use blocks by content index → their position among the reply's tool calls. */
  private readonly toolIndex = new Map<number, number>();
  /** The tool-call fragment of the last event pushed, if it had one. */
  toolDelta: ModelToolCallDelta | undefined;

  /** Takes one parsed event; returns its text delta ('' when it has none). */
  push(event: any): string {
    this.toolDelta = undefined;
    switch (event?.type) {
      case 'message_start': {
        const message = event.message ?? {};
        this.message = { ...message };
        if (typeof message.model === 'string') this.model = message.model;
        if (message.usage !== null && typeof message.usage === 'object') this.usage = { ...message.usage };
        return '';
      }
      case 'content_block_start': {
        const index = Number(event.index ?? this.blocks.length);
        this.blocks[index] = { ...event.content_block };
        if (event.content_block?.type === 'tool_use') {
          const call = this.toolIndex.size;
          this.toolIndex.set(index, call);
          this.toolDelta = {
            index: call,
            id: String(event.content_block.id ?? ''),
            name: String(event.content_block.name ?? ''),
            arguments: '',
          };
        }
        return '';
      }
      case 'content_block_delta': {
        const index = Number(event.index ?? 0);
        let block = this.blocks[index];
        if (block === undefined) {
          block = { type: 'text', text: '' };
          this.blocks[index] = block;
        }
        const delta = event.delta ?? {};
        if (delta.type === 'text_delta' && typeof delta.text === 'string') {
          block.text = (typeof block.text === 'string' ? block.text : '') + delta.text;
          this.text += delta.text;
          return delta.text;
        }
        if (delta.type === 'input_json_delta' && typeof delta.partial_json === 'string') {
          this.partialJson.set(index, (this.partialJson.get(index) ?? '') + delta.partial_json);
          const call = this.toolIndex.get(index);
          if (call !== undefined) this.toolDelta = { index: call, arguments: delta.partial_json };
        }
        return '';
      }
      case 'content_block_stop': {
        const index = Number(event.index ?? 0);
        const json = this.partialJson.get(index);
        const block = this.blocks[index];
        if (json !== undefined && block !== undefined) {
          try {
            block.input = json === '' ? {} : JSON.parse(json);
          } catch {
            block.input = json;
          }
        }
        return '';
      }
      case 'message_delta': {
        if (typeof event.delta?.stop_reason === 'string') this.stopReason = event.delta.stop_reason;
        // Usage in message_delta is cumulative: it replaces the counts it carries.
        if (event.usage !== null && typeof event.usage === 'object') {
          for (const [key, value] of Object.entries(event.usage)) {
            if (typeof value === 'number') (this.usage as Record<string, number>)[key] = value;
          }
        }
        return '';
      }
      case 'message_stop':
        this.stopped = true;
        return '';
      default:
        return '';
    }
  }

  tokenUsage(): TokenUsage {
    return toUsage(this.usage);
  }

  toolCalls(): ModelToolCall[] | undefined {
    return readContent(this.blocks).toolCalls;
  }

  /** The equivalent non-streamed Message object. */
  toMessage(): Record<string, unknown> {
    return {
      ...this.message,
      content: this.blocks.filter((block) => block !== undefined),
      stop_reason: this.stopReason ?? null,
      usage: this.usage,
    };
  }
}
