/**
 * The shape of a `ModelRequest` a provider is handed, checked before it is translated to a wire format.
 * The engine always builds well-formed requests; this guards the providers' other callers (an app that
 * calls `provider.complete` itself), so that a malformed request is an INVALID_ARGUMENT naming the field
 * — a rejection, never a TypeError thrown from inside the translation.
 */
import { invalidArgument, type ModelRequest } from '@weft/core';

const ROLES: ReadonlySet<string> = new Set(['system', 'user', 'assistant', 'tool']);

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

export function checkModelRequest(request: unknown): asserts request is ModelRequest {
  if (!isObject(request)) throw invalidArgument('request', 'a ModelRequest object', request);
  if (typeof request.model !== 'string' || request.model === '') {
    throw invalidArgument('request.model', 'a non-empty string', request.model);
  }
  const { messages } = request;
  if (!Array.isArray(messages)) throw invalidArgument('request.messages', 'an array of messages', messages);
  messages.forEach((message: unknown, i) => {
    const at = `request.messages[${i}]`;
    if (!isObject(message)) throw invalidArgument(at, 'a message object', message);
    if (typeof message.role !== 'string' || !ROLES.has(message.role)) {
      throw invalidArgument(`${at}.role`, 'one of system, user, assistant, tool', message.role);
    }
    const { content } = message;
    if (typeof content === 'string') return;
    if (!Array.isArray(content))
      throw invalidArgument(`${at}.content`, 'a string or an array of parts', content);
    content.forEach((part: unknown, j) => {
      if (!isObject(part) || typeof part.type !== 'string') {
        throw invalidArgument(`${at}.content[${j}]`, 'a part object with a string `type`', part);
      }
    });
    if (message.tool_calls !== undefined && !Array.isArray(message.tool_calls)) {
      throw invalidArgument(`${at}.tool_calls`, 'an array of tool calls', message.tool_calls);
    }
  });
  if (request.tools !== undefined) {
    if (!Array.isArray(request.tools))
      throw invalidArgument('request.tools', 'an array of tools', request.tools);
    request.tools.forEach((tool: unknown, i) => {
      if (!isObject(tool) || typeof tool.name !== 'string') {
        throw invalidArgument(`request.tools[${i}]`, 'a tool object with a string `name`', tool);
      }
    });
  }
  const { signal } = request;
  if (signal !== undefined && !(signal instanceof AbortSignal)) {
    throw invalidArgument('request.signal', 'an AbortSignal', signal);
  }
  if (request.onDelta !== undefined && typeof request.onDelta !== 'function') {
    throw invalidArgument('request.onDelta', 'a function', request.onDelta);
  }
}
