/**
 * `auto` over the Messages API, against a real server on 127.0.0.1: auto-fill's structured output is one
 * forced tool call (`tools` + `tool_choice: { type: "tool" }`), whose input is the answer.
 */
import { createEngine } from '@weft/core';
import { type MockServer, sendJson, startMockServer } from '@weft/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { anthropic } from './anthropic.js';
import { catalogue } from './catalogue.js';
import { JSON_INSTRUCTION } from './wire.js';

let server: MockServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

const toolAnswer = (input: unknown) => ({
  id: 'msg_01',
  type: 'message',
  role: 'assistant',
  model: 'claude-haiku-4-5-20251001',
  content: [{ type: 'tool_use', id: 'toolu_01', name: 'input_fields', input }],
  stop_reason: 'tool_use',
  stop_sequence: null,
  usage: { input_tokens: 50, output_tokens: 8 },
});

const version = {
  key: 'triage',
  notes: 'Urgent when the customer cannot log in.',
  input: {
    text: { type: 'string' },
    priority: { type: 'select', options: ['low', 'high'], allowed_modes: ['auto'] },
    due: { type: 'date', allowed_modes: ['auto'] },
  },
  steps: [{ type: 'code', key: 'echo', code: '$input' }],
};

describe('anthropic: auto-fill and automatic model choice', () => {
  it('auto-fill forces one tool call whose input is the answer, and retries once with the problems', async () => {
    const answers = [
      { priority: 'high', due: 'tomorrow' },
      { priority: 'high', due: '2025-06-02' },
    ];
    server = await startMockServer((_req, res, _raw, i) => sendJson(res, 200, toolAnswer(answers[i])));
    const engine = createEngine({
      providers: [anthropic({ apiKey: 'sk-ant-test', baseURL: server.url, sleep: async () => {} })],
      auto: { provider: 'anthropic', model: 'claude-haiku-4-5' },
    });
    const run = await engine.run(version, { input: { text: 'I cannot log in' } });
    expect(run.status).toBe('COMPLETED');
    expect(run.input).toEqual({ text: 'I cannot log in', priority: 'high', due: '2025-06-02' });
    const body = server.requests[0]!.json as Record<string, any>;
    expect(body.tools).toEqual([
      {
        name: 'input_fields',
        description: 'The values of the input fields left to the model.',
        input_schema: {
          type: 'object',
          properties: { priority: { enum: ['low', 'high'] }, due: { type: 'string', format: 'date' } },
          required: ['priority', 'due'],
          additionalProperties: false,
        },
      },
    ]);
    expect(body.tool_choice).toEqual({ type: 'tool', name: 'input_fields' });
    expect(body.system).not.toContain(JSON_INSTRUCTION);
    expect(body.system).toContain('fill in the input fields');
    expect(JSON.stringify(body.messages)).toContain('Urgent when the customer cannot log in.');
    const retry = server.requests[1]!.json as Record<string, any>;
    expect(retry.messages.at(-2)).toEqual({
      role: 'assistant',
      content: '{"priority":"high","due":"tomorrow"}',
    });
    expect(retry.messages.at(-1).content).toContain('/due');
    expect(run.usage.steps.$auto!.calls.map((c) => c.model)).toEqual([
      'claude-haiku-4-5',
      'claude-haiku-4-5',
    ]);
  });

  it("model 'auto' picks from the catalogue: the cheapest that takes images", async () => {
    expect(anthropic().catalogue).toBe(catalogue);
    server = await startMockServer((_req, res) =>
      sendJson(res, 200, {
        ...toolAnswer({}),
        content: [{ type: 'text', text: 'A cat.' }],
        stop_reason: 'end_turn',
      }),
    );
    const engine = createEngine({
      providers: [
        anthropic({ apiKey: 'sk-ant-test', baseURL: server.url, catalogue, sleep: async () => {} }),
      ],
    });
    const step = (content: unknown) => ({
      key: 'x',
      steps: [
        {
          type: 'model',
          key: 'm',
          auto: { provider: 'anthropic' },
          provider: { messages: [{ role: 'user', content }] },
        },
      ],
    });
    const text = await engine.run(step('Hi'));
    expect(text.output.m!.output).toMatchObject({ model: 'claude-3-5-haiku-latest' });
    const image = await engine.run(
      step([{ type: 'image_url', image_url: { url: 'https://example.com/cat.png' } }]),
    );
    expect(image.output.m!.output).toMatchObject({ model: 'claude-haiku-4-5', message: 'A cat.' });
  });
});
