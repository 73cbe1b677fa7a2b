/**
 * End to end: a workflow with a `model` step and an `auto` step runs through the engine against a real
 * node:http server speaking the Messages API (plain and streamed); run.usage is checked against the pricing.
 */
import { createEngine } from '@weft/core';
import { type MockServer, sendJson, startMockServer, startSse } from '@weft/testing';
import { afterEach, expect, it } from 'vitest';
import { anthropic } from './anthropic.js';

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
        provider: 'anthropic',
        model: 'claude-haiku',
        response_format: 'json',
        messages: [
          { role: 'system', content: 'You are terse.' },
          { role: 'user', content: 'Facts about {{ in.output.topic }} as JSON' },
        ],
      },
    },
    {
      type: 'model',
      key: 'title',
      auto: { provider: 'anthropic', model: 'claude-sonnet', temperature: 0.1 },
      provider: { messages: [{ role: 'user', content: 'A title for {{ in.output.topic }}' }] },
    },
  ],
};

const message = (model: string, text: string, input: number, output: number) => ({
  id: 'msg_1',
  type: 'message',
  role: 'assistant',
  model,
  content: [{ type: 'text', text }],
  stop_reason: 'end_turn',
  usage: { input_tokens: input, output_tokens: output },
});

it('runs model and auto steps through the Messages API and prices run.usage', async () => {
  server = await startMockServer((request, res) => {
    const body = request.json as { model: string; stream?: boolean };
    if (body.model === 'claude-haiku' && body.stream !== true) {
      sendJson(res, 200, message(body.model, '{"facts":["spins"]}', 1000, 200));
      return;
    }
    const text = body.model === 'claude-haiku' ? '{"facts":["spins"]}' : 'The Earth';
    const usage = body.model === 'claude-haiku' ? [1000, 200] : [500, 100];
    const sse = startSse(res);
    sse.send(
      { type: 'message_start', message: { ...message(body.model, '', usage[0]!, 1), content: [] } },
      'message_start',
    );
    sse.send(
      { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } },
      'content_block_start',
    );
    for (const piece of [text.slice(0, 4), text.slice(4)]) {
      sse.send(
        { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: piece } },
        'content_block_delta',
      );
    }
    sse.send({ type: 'content_block_stop', index: 0 }, 'content_block_stop');
    sse.send(
      { type: 'message_delta', delta: { stop_reason: 'end_turn' }, usage: { output_tokens: usage[1] } },
      'message_delta',
    );
    sse.send({ type: 'message_stop' }, 'message_stop');
    sse.end();
  });
  const engine = createEngine({
    providers: [anthropic({ apiKey: 'sk-ant-e2e-secret', baseURL: server.url })],
    pricing: {
      anthropic: {
        'claude-haiku': { input_per_million: 1, output_per_million: 5 },
        'claude-sonnet': { input_per_million: 3, output_per_million: 15 },
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
  expect(deltas.join('')).toBe('The Earth');
  const sent = server.requests.map((r) => ({
    path: r.path,
    headers: r.headers,
    body: r.json as Record<string, unknown>,
  }));
  expect(sent.every((r) => r.path === '/v1/messages' && r.headers['x-api-key'] === 'sk-ant-e2e-secret')).toBe(
    true,
  );
  const facts = sent.find((r) => r.body.model === 'claude-haiku')!.body;
  expect(String(facts.system)).toContain('You are terse.');
  expect(facts.max_tokens).toBe(1024);
  const title = sent.find((r) => r.body.model === 'claude-sonnet')!.body;
  expect(title).toMatchObject({
    temperature: 0.1,
    messages: [{ role: 'user', content: 'A title for the Earth' }],
  });
  // facts: 1000 × 1 + 200 × 5 per million = 0.002; title: 500 × 3 + 100 × 15 per million = 0.003.
  expect(run.usage.steps.facts!.total).toBeCloseTo(0.002, 10);
  expect(run.usage.steps.title!.total).toBeCloseTo(0.003, 10);
  expect(run.usage.total).toBeCloseTo(0.005, 10);
  expect(JSON.stringify(run)).not.toContain('sk-ant-e2e-secret');
});
