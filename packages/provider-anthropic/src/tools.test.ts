/**
 * The tool loop over the Messages API, against a real node:http server: `tools` (`input_schema`),
 * `tool_choice` (`any` for required, `disable_parallel_tool_use`), streamed `tool_use` blocks whose
 * `input_json_delta`s split the arguments, two parallel calls in one turn, the assistant `tool_use` blocks
 * and one user message of `tool_result` blocks sent back, and a malformed tool input answered with an
 * `is_error` tool result the model recovers from.
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

const agent = (provider: Record<string, unknown> = {}) => ({
  steps: [
    {
      type: 'model',
      key: 'agent',
      input_connected: true,
      provider: {
        provider: 'anthropic',
        model: 'claude-haiku',
        messages: [
          { role: 'system', content: 'You help with orders.' },
          { role: 'user', content: 'Where are orders A1 and B2?' },
        ],
        tools: [
          { name: 'LOOKUP', description: 'Finds an order.', input: { order_id: { type: 'string' } } },
          'external:refund',
        ],
        tools_parallel: true,
        ...provider,
      },
    },
    { type: 'code', key: 'LOOKUP', code: '{"id": input.order_id, "status": "shipped"}' },
  ],
});

it('streams two tool_use blocks with split input_json_deltas, sends tool_result blocks back, and ends with the answer', async () => {
  let turn = 0;
  server = await startMockServer((_request, res) => {
    turn++;
    const sse = startSse(res);
    const send = (type: string, data: Record<string, unknown>) => sse.send({ type, ...data }, type);
    send('message_start', {
      message: {
        id: `msg_${turn}`,
        type: 'message',
        role: 'assistant',
        model: 'claude-haiku',
        content: [],
        usage: { input_tokens: 10, output_tokens: 1 },
      },
    });
    if (turn === 1) {
      send('content_block_start', { index: 0, content_block: { type: 'text', text: '' } });
      send('content_block_delta', { index: 0, delta: { type: 'text_delta', text: 'Looking both up.' } });
      send('content_block_stop', { index: 0 });
      send('content_block_start', {
        index: 1,
        content_block: { type: 'tool_use', id: 'toolu_a', name: 'LOOKUP', input: {} },
      });
      send('content_block_delta', {
        index: 1,
        delta: { type: 'input_json_delta', partial_json: '{"order_' },
      });
      send('content_block_delta', {
        index: 1,
        delta: { type: 'input_json_delta', partial_json: 'id": "A1"}' },
      });
      send('content_block_stop', { index: 1 });
      send('content_block_start', {
        index: 2,
        content_block: { type: 'tool_use', id: 'toolu_b', name: 'LOOKUP', input: {} },
      });
      send('content_block_delta', { index: 2, delta: { type: 'input_json_delta', partial_json: '' } });
      send('content_block_delta', {
        index: 2,
        delta: { type: 'input_json_delta', partial_json: '{"order_id": "B2"}' },
      });
      send('content_block_stop', { index: 2 });
      send('message_delta', { delta: { stop_reason: 'tool_use' }, usage: { output_tokens: 20 } });
    } else {
      send('content_block_start', { index: 0, content_block: { type: 'text', text: '' } });
      send('content_block_delta', { index: 0, delta: { type: 'text_delta', text: 'Both shipped.' } });
      send('content_block_stop', { index: 0 });
      send('message_delta', { delta: { stop_reason: 'end_turn' }, usage: { output_tokens: 5 } });
    }
    send('message_stop', {});
    sse.end();
  });
  const engine = createEngine({
    providers: [anthropic({ baseURL: server.url, pricing: {} })],
    tools: { refund: { description: 'Refunds an order.', handler: () => 'refunded' } },
  });
  const handle = engine.start(agent());
  const fragments: string[] = [];
  handle.on('model.delta', (e) => {
    if (e.tool_call !== undefined) fragments.push(`${e.tool_call.index}:${e.tool_call.arguments}`);
  });
  const run = await handle.done;
  expect(run.status).toBe('COMPLETED');
  expect(run.output.agent!.output).toMatchObject({
    message: 'Both shipped.',
    tool_calls: [
      { id: 'toolu_a', name: 'LOOKUP', input: { order_id: 'A1' } },
      { id: 'toolu_b', name: 'LOOKUP', input: { order_id: 'B2' } },
    ],
    tool_results: [
      { id: 'toolu_a', output: { id: 'A1', status: 'shipped' } },
      { id: 'toolu_b', output: { id: 'B2', status: 'shipped' } },
    ],
  });
  expect(fragments.join('|')).toBe('0:|0:{"order_|0:id": "A1"}|1:|1:|1:{"order_id": "B2"}');
  const [first, second] = server.requests.map((r) => r.json as Record<string, any>);
  expect(first).toMatchObject({
    system: 'You help with orders.',
    tools: [
      {
        name: 'LOOKUP',
        description: 'Finds an order.',
        input_schema: {
          type: 'object',
          properties: { order_id: { type: 'string' } },
          required: ['order_id'],
        },
      },
      { name: 'refund', description: 'Refunds an order.', input_schema: { type: 'object', properties: {} } },
    ],
    tool_choice: { type: 'auto' },
    stream: true,
  });
  expect(second!.messages).toEqual([
    { role: 'user', content: 'Where are orders A1 and B2?' },
    {
      role: 'assistant',
      content: [
        { type: 'text', text: 'Looking both up.' },
        { type: 'tool_use', id: 'toolu_a', name: 'LOOKUP', input: { order_id: 'A1' } },
        { type: 'tool_use', id: 'toolu_b', name: 'LOOKUP', input: { order_id: 'B2' } },
      ],
    },
    {
      role: 'user',
      content: [
        { type: 'tool_result', tool_use_id: 'toolu_a', content: '{"id":"A1","status":"shipped"}' },
        { type: 'tool_result', tool_use_id: 'toolu_b', content: '{"id":"B2","status":"shipped"}' },
      ],
    },
  ]);
});

it('a malformed streamed tool input goes back as an is_error tool_result; the model calls again and answers', async () => {
  let turn = 0;
  server = await startMockServer((request, res) => {
    turn++;
    if ((request.json as { stream?: boolean }).stream !== true) {
      const content =
        turn === 1
          ? [{ type: 'tool_use', id: 'toolu_x', name: 'nope', input: {} }]
          : turn === 2
            ? [{ type: 'tool_use', id: 'toolu_ok', name: 'LOOKUP', input: { order_id: 'A1' } }]
            : [{ type: 'text', text: 'A1 shipped.' }];
      sendJson(res, 200, {
        id: `msg_${turn}`,
        type: 'message',
        role: 'assistant',
        model: 'claude-haiku',
        content,
        stop_reason: turn < 3 ? 'tool_use' : 'end_turn',
        usage: { input_tokens: 10, output_tokens: 5 },
      });
      return;
    }
    const sse = startSse(res);
    const send = (type: string, data: Record<string, unknown>) => sse.send({ type, ...data }, type);
    send('message_start', {
      message: { id: 'm', type: 'message', role: 'assistant', model: 'claude-haiku', content: [], usage: {} },
    });
    send('content_block_start', {
      index: 0,
      content_block: { type: 'tool_use', id: 'toolu_bad', name: 'LOOKUP', input: {} },
    });
    send('content_block_delta', {
      index: 0,
      delta: { type: 'input_json_delta', partial_json: '{"order_id": "A1"' },
    });
    send('content_block_stop', { index: 0 });
    send('message_delta', { delta: { stop_reason: 'tool_use' }, usage: { output_tokens: 5 } });
    send('message_stop', {});
    sse.end();
  });
  const engine = createEngine({
    providers: [anthropic({ baseURL: server.url, pricing: {}, stream: true })],
    tools: { refund: { handler: () => 'refunded' } },
  });
  const run = await engine.run(agent({ tools_mode: 'required', tools_parallel: false, max_iterations: 2 }));
  // Streamed: turn 1 malformed, turn 2 malformed again, then no iterations left.
  expect(run.status).toBe('FAILED');
  expect(run.output.agent!.error).toMatchObject({ code: 'MAX_ITERATIONS' });
  const bodies = server.requests.map((r) => r.json as Record<string, any>);
  expect(bodies[0]!.tool_choice).toEqual({ type: 'any', disable_parallel_tool_use: true });
  expect(bodies[1]!.tool_choice).toEqual({ type: 'auto', disable_parallel_tool_use: true });
  const results = bodies[1]!.messages.at(-1);
  expect(results.role).toBe('user');
  expect(results.content[0]).toMatchObject({ type: 'tool_result', tool_use_id: 'toolu_bad', is_error: true });
  expect(results.content[0].content).toContain('not valid JSON');
  // The malformed call is sent back with an empty input object (the API wants an object there).
  expect(bodies[1]!.messages.at(-2).content).toEqual([
    { type: 'tool_use', id: 'toolu_bad', name: 'LOOKUP', input: {} },
  ]);

  // Not streamed: an unknown tool is a tool error too, and the model recovers.
  server.requests.length = 0;
  turn = 0;
  const plain = createEngine({
    providers: [anthropic({ baseURL: server.url, pricing: {}, stream: false })],
    tools: { refund: { handler: () => 'refunded' } },
  });
  const recovered = await plain.run(agent());
  expect(recovered.status).toBe('COMPLETED');
  expect(recovered.output.agent!.output).toMatchObject({
    message: 'A1 shipped.',
    tool_results: [
      { id: 'toolu_x', name: 'nope', output: { error: { code: 'INVALID_TOOL_CALL' } } },
      { id: 'toolu_ok', name: 'LOOKUP', output: { id: 'A1', status: 'shipped' } },
    ],
  });
});
