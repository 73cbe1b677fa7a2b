/**
 * The tool loop over the Chat Completions wire format, against a real node:http server: `tools`,
 * `tool_choice`, `parallel_tool_calls`, streamed `tool_calls` deltas with arguments split across chunks,
 * two parallel calls in one turn, the assistant `tool_calls` and `role: "tool"` messages sent back, and a
 * malformed tool-call JSON answered with a tool error the model recovers from.
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

const agent = (provider: Record<string, unknown> = {}) => ({
  steps: [
    {
      type: 'model',
      key: 'agent',
      input_connected: true,
      provider: {
        provider: 'openai',
        model: 'gpt-4o-mini',
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

const chunk = (delta: Record<string, unknown>, finish: string | null = null) => ({
  id: 'c',
  object: 'chat.completion.chunk',
  model: 'gpt-4o-mini',
  choices: [{ index: 0, delta, finish_reason: finish }],
});

it('streams two parallel tool calls with split arguments, sends the results back, and ends with the answer', async () => {
  let turn = 0;
  server = await startMockServer((_request, res) => {
    turn++;
    const sse = startSse(res);
    if (turn === 1) {
      sse.send(chunk({ role: 'assistant', content: null }));
      sse.send(
        chunk({
          tool_calls: [
            { index: 0, id: 'call_a', type: 'function', function: { name: 'LOOKUP', arguments: '' } },
          ],
        }),
      );
      sse.send(chunk({ tool_calls: [{ index: 0, function: { arguments: '{"order_' } }] }));
      sse.send(
        chunk({
          tool_calls: [
            {
              index: 1,
              id: 'call_b',
              type: 'function',
              function: { name: 'LOOKUP', arguments: '{"order_id"' },
            },
          ],
        }),
      );
      sse.send(chunk({ tool_calls: [{ index: 0, function: { arguments: 'id": "A1"}' } }] }));
      sse.send(chunk({ tool_calls: [{ index: 1, function: { arguments: ': "B2"}' } }] }, 'tool_calls'));
    } else {
      sse.send(chunk({ content: 'Both ' }));
      sse.send(chunk({ content: 'shipped.' }, 'stop'));
    }
    sse.send({
      id: 'c',
      object: 'chat.completion.chunk',
      choices: [],
      usage: { prompt_tokens: 10, completion_tokens: 5 },
    });
    sse.send('[DONE]');
    sse.end();
  });
  const engine = createEngine({
    providers: [openai({ baseURL: `${server.url}/v1`, pricing: {} })],
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
      { id: 'call_a', name: 'LOOKUP', input: { order_id: 'A1' } },
      { id: 'call_b', name: 'LOOKUP', input: { order_id: 'B2' } },
    ],
    tool_results: [
      { id: 'call_a', output: { id: 'A1', status: 'shipped' } },
      { id: 'call_b', output: { id: 'B2', status: 'shipped' } },
    ],
  });
  expect(fragments.join('|')).toBe('0:|0:{"order_|1:{"order_id"|0:id": "A1"}|1:: "B2"}');
  const [first, second] = server.requests.map((r) => r.json as Record<string, any>);
  expect(first).toMatchObject({
    tools: [
      {
        type: 'function',
        function: {
          name: 'LOOKUP',
          description: 'Finds an order.',
          parameters: {
            type: 'object',
            properties: { order_id: { type: 'string' } },
            required: ['order_id'],
          },
        },
      },
      {
        type: 'function',
        function: {
          name: 'refund',
          description: 'Refunds an order.',
          parameters: { type: 'object', properties: {} },
        },
      },
    ],
    tool_choice: 'auto',
    parallel_tool_calls: true,
    stream: true,
  });
  expect(second!.messages).toEqual([
    { role: 'system', content: 'You help with orders.' },
    { role: 'user', content: 'Where are orders A1 and B2?' },
    {
      role: 'assistant',
      content: null,
      tool_calls: [
        { id: 'call_a', type: 'function', function: { name: 'LOOKUP', arguments: '{"order_id":"A1"}' } },
        { id: 'call_b', type: 'function', function: { name: 'LOOKUP', arguments: '{"order_id":"B2"}' } },
      ],
    },
    { role: 'tool', tool_call_id: 'call_a', content: '{"id":"A1","status":"shipped"}' },
    { role: 'tool', tool_call_id: 'call_b', content: '{"id":"B2","status":"shipped"}' },
  ]);
  expect(run.output.LOOKUP).toMatchObject({
    status: 'COMPLETED',
    calls: [{ tool_index: 0 }, { tool_index: 1 }],
  });
});

it('a malformed tool-call JSON goes back as a tool error; the model calls again and answers', async () => {
  let turn = 0;
  server = await startMockServer((_request, res) => {
    turn++;
    const message =
      turn === 1
        ? {
            role: 'assistant',
            content: null,
            tool_calls: [
              { id: 'bad', type: 'function', function: { name: 'LOOKUP', arguments: '{"order_id": "A1"' } },
            ],
          }
        : turn === 2
          ? {
              role: 'assistant',
              content: null,
              tool_calls: [
                {
                  id: 'good',
                  type: 'function',
                  function: { name: 'LOOKUP', arguments: '{"order_id":"A1"}' },
                },
              ],
            }
          : { role: 'assistant', content: 'A1 shipped.' };
    sendJson(res, 200, {
      id: `c${turn}`,
      object: 'chat.completion',
      model: 'gpt-4o-mini',
      choices: [{ index: 0, message, finish_reason: turn < 3 ? 'tool_calls' : 'stop' }],
      usage: { prompt_tokens: 10, completion_tokens: 5 },
    });
  });
  const engine = createEngine({
    providers: [openai({ baseURL: `${server.url}/v1`, pricing: {}, stream: false })],
    tools: { refund: { handler: () => 'refunded' } },
  });
  const run = await engine.run(agent({ tools_mode: 'required', tools_parallel: false }));
  expect(run.status).toBe('COMPLETED');
  expect(run.output.agent!.output).toMatchObject({
    message: 'A1 shipped.',
    tool_results: [
      { id: 'bad', output: { error: { code: 'INVALID_TOOL_CALL' } } },
      { id: 'good', output: { id: 'A1', status: 'shipped' } },
    ],
  });
  const bodies = server.requests.map((r) => r.json as Record<string, any>);
  expect(bodies.map((b) => b.tool_choice)).toEqual(['required', 'auto', 'auto']);
  expect(bodies[0]!.parallel_tool_calls).toBe(false);
  const toolMessage = bodies[1]!.messages.at(-1);
  expect(toolMessage).toMatchObject({ role: 'tool', tool_call_id: 'bad' });
  expect(JSON.parse(toolMessage.content)).toMatchObject({ error: { code: 'INVALID_TOOL_CALL' } });
  // The malformed call is sent back with `{}` arguments (the API wants JSON there).
  expect(bodies[1]!.messages.at(-2).tool_calls[0].function.arguments).toBe('{}');
});
