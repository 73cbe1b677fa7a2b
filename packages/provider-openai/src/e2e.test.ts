/**
 * End to end: a workflow with a `model` step and an `auto` step runs through the engine against a real
 * node:http server speaking the Chat Completions wire format; run.usage is checked against the pricing.
 */
import { createEngine } from '@weft/core';
import { type MockServer, sendJson, startMockServer, startSse } from '@weft/testing';
import { afterEach, expect, it } from 'vitest';
import { openai } from './openai.js';

let server: MockServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

const workflow = {
  key: 'e2e',
  steps: [
    { type: 'input', key: 'in', input: { topic: { type: 'string' } }, destinations: ['facts', 'title'] },
    {
      type: 'model',
      key: 'facts',
      provider: {
        provider: 'openai',
        model: 'gpt-4o-mini',
        response_format: 'json',
        messages: [{ role: 'user', content: 'Facts about {{ in.output.topic }} as JSON' }],
      },
    },
    {
      type: 'model',
      key: 'title',
      auto: { provider: 'openai', model: 'gpt-4o', temperature: 0.1 },
      provider: { messages: [{ role: 'user', content: 'A title for {{ in.output.topic }}' }] },
    },
  ],
};

it('runs model and auto steps through the OpenAI wire format and prices run.usage', async () => {
  server = await startMockServer((request, res) => {
    const body = request.json as { model: string; stream?: boolean; response_format?: unknown };
    if (body.model === 'gpt-4o-mini') {
      sendJson(res, 200, {
        id: 'c1',
        object: 'chat.completion',
        model: body.model,
        choices: [
          { index: 0, message: { role: 'assistant', content: '{"facts":["spins"]}' }, finish_reason: 'stop' },
        ],
        usage: { prompt_tokens: 1000, completion_tokens: 200, total_tokens: 1200 },
      });
    } else {
      const sse = startSse(res);
      sse.send({
        id: 'c2',
        object: 'chat.completion.chunk',
        model: body.model,
        choices: [{ index: 0, delta: { content: 'The ' } }],
      });
      sse.send({
        id: 'c2',
        object: 'chat.completion.chunk',
        model: body.model,
        choices: [{ index: 0, delta: { content: 'Earth' }, finish_reason: 'stop' }],
      });
      sse.send({
        id: 'c2',
        object: 'chat.completion.chunk',
        model: body.model,
        choices: [],
        usage: { prompt_tokens: 500, completion_tokens: 100, total_tokens: 600 },
      });
      sse.send('[DONE]');
      sse.end();
    }
  });
  const engine = createEngine({
    providers: [openai({ apiKey: 'sk-e2e-secret', baseURL: `${server.url}/v1`, stream: 'auto' })],
    pricing: {
      openai: {
        'gpt-4o-mini': { input_per_million: 1, output_per_million: 2 },
        'gpt-4o': { input_per_million: 10, output_per_million: 20 },
      },
    },
  });
  const handle = engine.start(workflow, { input: { topic: 'the Earth' } });
  const deltas: string[] = [];
  handle.on('model.delta', (e) => {
    if (e.step_key === 'title') deltas.push(e.delta);
  });
  const run = await handle.done;

  expect(run.status).toBe('COMPLETED');
  expect(run.output.facts!.output).toMatchObject({ message: { facts: ['spins'] } });
  expect(run.output.title!.output).toMatchObject({ message: 'The Earth' });
  const sent = server.requests.map((r) => r.json as Record<string, unknown>);
  const titleRequest = sent.find((b) => b.model === 'gpt-4o')!;
  expect(titleRequest).toMatchObject({
    temperature: 0.1,
    messages: [{ role: 'user', content: 'A title for the Earth' }],
  });
  expect(sent.find((b) => b.model === 'gpt-4o-mini')).toMatchObject({
    response_format: { type: 'json_object' },
  });
  expect(titleRequest.stream).toBe(true);
  expect(deltas.join('')).toBe('The Earth');
  // facts: 1000 × 1 + 200 × 2 per million = 0.0014; title: 500 × 10 + 100 × 20 per million = 0.007.
  expect(run.usage.steps.facts!.total).toBeCloseTo(0.0014, 10);
  expect(run.usage.steps.title!.total).toBeCloseTo(0.007, 10);
  expect(run.usage.total).toBeCloseTo(0.0084, 10);
  expect(run.usage.calls.map((c) => [c.model, c.input_tokens, c.output_tokens])).toEqual(
    expect.arrayContaining([
      ['gpt-4o-mini', 1000, 200],
      ['gpt-4o', 500, 100],
    ]),
  );
  expect(JSON.stringify(run)).not.toContain('sk-e2e-secret');
});
