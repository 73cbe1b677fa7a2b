/**
 * `auto` over the Chat Completions wire format, against a real server on 127.0.0.1: auto-fill's
 * structured output goes out as `response_format: json_schema`, and the default catalogue serves
 * automatic model choice.
 */
import { createEngine } from '@weft/core';
import { type MockServer, sendJson, startMockServer } from '@weft/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { catalogue } from './catalogue.js';
import { openai } from './openai.js';
import { pricing } from './pricing.js';

let server: MockServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

const completion = (content: string) => ({
  id: 'chatcmpl-1',
  object: 'chat.completion',
  created: 1_700_000_000,
  model: 'gpt-4o-mini-2024-07-18',
  choices: [{ index: 0, message: { role: 'assistant', content, refusal: null }, finish_reason: 'stop' }],
  usage: { prompt_tokens: 100, completion_tokens: 10, total_tokens: 110 },
});

const version = {
  key: 'triage',
  description: 'Triage a support ticket.',
  input: {
    text: { type: 'string' },
    priority: { type: 'select', options: ['low', 'high'], allowed_modes: ['auto'], desc: 'How urgent' },
    tags: { type: 'string', array: true, allowed_modes: ['all'], optional: true },
  },
  steps: [{ type: 'code', key: 'echo', code: '$input' }],
};

describe('openai: auto-fill and automatic model choice', () => {
  it('auto-fill sends response_format json_schema with the fields, and retries once with the problems', async () => {
    const answers = ['{"priority":"urgent"}', '{"priority":"high","tags":["login"]}'];
    server = await startMockServer((_req, res, _raw, i) => sendJson(res, 200, completion(answers[i]!)));
    const engine = createEngine({
      providers: [openai({ apiKey: 'sk-test', baseURL: `${server.url}/v1`, sleep: async () => {} })],
      auto: { provider: 'openai', model: 'gpt-4o-mini' },
      pricing,
    });
    const run = await engine.run(version, { input: { text: 'I cannot log in' } });
    expect(run.status).toBe('COMPLETED');
    expect(run.input).toEqual({ text: 'I cannot log in', priority: 'high', tags: ['login'] });
    expect(run.auto_filled).toEqual(['priority', 'tags']);
    const body = server.requests[0]!.json as Record<string, any>;
    expect(body.model).toBe('gpt-4o-mini');
    expect(body.response_format).toEqual({
      type: 'json_schema',
      json_schema: {
        name: 'input_fields',
        description: 'The values of the input fields left to the model.',
        strict: false,
        schema: {
          type: 'object',
          properties: {
            priority: { enum: ['low', 'high'], description: 'How urgent' },
            tags: { type: 'array', items: { type: 'string' } },
          },
          required: ['priority'],
          additionalProperties: false,
        },
      },
    });
    expect(JSON.stringify(body.messages)).toContain('I cannot log in');
    const retry = server.requests[1]!.json as Record<string, any>;
    expect(retry.messages.at(-1).content).toContain('must be one of "low", "high"');
    // Two calls priced at gpt-4o-mini's list price, under the `auto` ledger entry.
    expect(run.usage.steps.$auto!.calls).toHaveLength(2);
    expect(run.usage.total).toBeCloseTo(2 * ((100 * 0.15 + 10 * 0.6) / 1e6), 12);
  });

  it("publishes its catalogue for api.openai.com only; a model step with model 'auto' runs on the cheapest", async () => {
    expect(openai().catalogue).toBe(catalogue);
    expect(openai({ baseURL: 'http://localhost:11434/v1' }).catalogue).toEqual([]);
    expect(() => openai({ catalogue: 'all' as never })).toThrow(
      expect.objectContaining({ code: 'INVALID_ARGUMENT' }),
    );

    server = await startMockServer((_req, res) => sendJson(res, 200, completion('Hi')));
    const engine = createEngine({
      providers: [
        openai({ apiKey: 'sk-test', baseURL: `${server.url}/v1`, catalogue, sleep: async () => {} }),
      ],
    });
    const run = await engine.run({
      key: 'x',
      steps: [
        {
          type: 'model',
          key: 'm',
          provider: { provider: 'openai', model: 'auto', messages: [{ role: 'user', content: 'Hi' }] },
        },
      ],
    });
    expect(run.output.m!.output).toMatchObject({ provider: 'openai', model: 'gpt-4.1-nano', message: 'Hi' });
    expect((server.requests[0]!.json as { model: string }).model).toBe('gpt-4.1-nano');
  });
});
