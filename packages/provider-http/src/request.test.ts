import { isWeftError } from '@weft/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkModelRequest } from './request.js';

const ok = {
  provider: 'openai',
  model: 'gpt-4o-mini',
  messages: [{ role: 'user', content: [{ type: 'text', text: 'hi' }] }],
  response_format: 'text',
  signal: new AbortController().signal,
  step_key: 's',
};

describe('checkModelRequest', () => {
  it('accepts a well-formed request', () => {
    expect(() => checkModelRequest(ok)).not.toThrow();
  });

  it.each([
    [null, 'request'],
    [{ ...ok, model: '' }, 'request.model'],
    [{ ...ok, messages: 5 }, 'request.messages'],
    [{ ...ok, messages: [null] }, 'request.messages[0]'],
    [{ ...ok, messages: [{ role: 'robot', content: 'x' }] }, 'request.messages[0].role'],
    [{ ...ok, messages: [{ role: 'user', content: 5 }] }, 'request.messages[0].content'],
    [{ ...ok, messages: [{ role: 'user', content: [{ text: 'x' }] }] }, 'request.messages[0].content[0]'],
    [{ ...ok, tools: [{}] }, 'request.tools[0]'],
    [{ ...ok, signal: {} }, 'request.signal'],
  ])('refuses a malformed request with INVALID_ARGUMENT naming the field (%#)', (request, parameter) => {
    try {
      checkModelRequest(request);
      expect.unreachable();
    } catch (error) {
      expect(isWeftError(error) && error.code).toBe('INVALID_ARGUMENT');
      expect((error as { details: { parameter: string } }).details.parameter).toBe(parameter);
    }
  });

  it('anything at all: passes or throws a WeftError, never another error', () => {
    fc.assert(
      fc.property(fc.anything({ withNullPrototype: true }), (value) => {
        try {
          checkModelRequest(value);
        } catch (error) {
          expect(isWeftError(error)).toBe(true);
        }
      }),
      { numRuns: 300 },
    );
  });
});
