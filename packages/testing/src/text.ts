/** Deterministic text helpers of the scripted provider: message text, token estimates, word deltas. */
import type { ModelMessage } from '@weft/core';

/** The text of a message: its string content, or its text parts joined with "\n". */
export function messageText(message: Pick<ModelMessage, 'content'>): string {
  if (typeof message.content === 'string') return message.content;
  return message.content
    .map((part) => {
      const text = (part as { text?: unknown }).text;
      return typeof text === 'string' ? text : '';
    })
    .filter((text) => text !== '')
    .join('\n');
}

/** The deterministic token estimate: `ceil(characters / 4)`. */
export function estimateTokens(text: string): number {
  return Math.ceil(text.length / 4);
}

/** Splits text into streaming deltas, one word (with its trailing whitespace) each; they join back exactly. */
export function splitWords(text: string): string[] {
  return text.match(/\s+|\S+\s*/g) ?? [];
}
