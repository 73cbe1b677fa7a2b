import type { ServerResponse } from 'node:http';
import { inspect } from 'node:util';
import { ERROR_CODES, type ModelRequest, WeftError } from '@weft/core';
import { type MockServer, sendJson, startMockServer, startSse } from '@weft/testing';
import { describeProviderRequests } from '@weft/testing/provider-contract';
import { afterEach, describe, expect, it } from 'vitest';
import { type AnthropicOptions, anthropic } from './anthropic.js';
import { pricing } from './pricing.js';
import { JSON_INSTRUCTION, stripFences } from './wire.js';

const KEY = 'sk-ant-api03-weftTEST0123456789abcdef';
let server: MockServer | undefined;

afterEach(async () => {
  await server?.close();
  server = undefined;
});

function provider(extra: Partial<AnthropicOptions> = {}) {
  return anthropic({ apiKey: KEY, baseURL: server!.url, sleep: async () => {}, ...extra });
}

function request(extra: Partial<ModelRequest> = {}): ModelRequest {
  return {
    provider: 'anthropic',
    model: 'claude-sonnet-4-5',
    messages: [
      { role: 'system', content: 'You are terse.' },
      { role: 'system', content: 'Answer in English.' },
      { role: 'user', content: 'Say hi' },
    ],
    temperature: 0.3,
    response_format: 'text',
    signal: new AbortController().signal,
    step_key: 'greet',
    ...extra,
  };
}

function message(text: string, extra: Record<string, unknown> = {}) {
  return {
    id: 'msg_01',
    type: 'message',
    role: 'assistant',
    model: 'claude-sonnet-4-5-20250929',
    content: [{ type: 'text', text }],
    stop_reason: 'end_turn',
    stop_sequence: null,
    usage: { input_tokens: 21, output_tokens: 5 },
    ...extra,
  };
}

function streamHello(res: ServerResponse) {
  const sse = startSse(res);
  sse.send(
    {
      type: 'message_start',
      message: {
        ...message(''),
        content: [],
        stop_reason: null,
        usage: { input_tokens: 25, output_tokens: 1 },
      },
    },
    'message_start',
  );
  sse.send(
    { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } },
    'content_block_start',
  );
  sse.send({ type: 'ping' }, 'ping');
  for (const text of ['Hel', 'lo', '!']) {
    sse.send(
      { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text } },
      'content_block_delta',
    );
  }
  sse.send({ type: 'content_block_stop', index: 0 }, 'content_block_stop');
  sse.send(
    {
      type: 'message_delta',
      delta: { stop_reason: 'end_turn', stop_sequence: null },
      usage: { output_tokens: 15 },
    },
    'message_delta',
  );
  sse.send({ type: 'message_stop' }, 'message_stop');
  sse.end();
}

async function caught(promise: Promise<unknown>): Promise<WeftError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(WeftError);
    for (const text of [
      JSON.stringify(error),
      String(error),
      (error as Error).stack ?? '',
      inspect(error, { depth: 20, showHidden: true }),
    ]) {
      expect(text).not.toContain(KEY);
    }
    return error as WeftError;
  }
  throw new Error('expected a rejection');
}

function closeWatcher() {
  let resolve!: (finished: boolean) => void;
  const closed = new Promise<boolean>((r) => {
    resolve = r;
  });
  return { closed, watch: (res: ServerResponse) => res.on('close', () => resolve(res.writableFinished)) };
}

describe('anthropic provider: requests', () => {
  it('sends the documented Messages API request and reads a plain reply', async () => {
    server = await startMockServer((_req, res) => sendJson(res, 200, message('Hi!')));
    const result = await provider().complete(request());

    expect(result).toEqual({
      message: 'Hi!',
      raw: message('Hi!'),
      usage: { input_tokens: 21, output_tokens: 5 },
      model: 'claude-sonnet-4-5-20250929',
    });
    const sent = server.requests[0]!;
    expect(sent.method).toBe('POST');
    expect(sent.path).toBe('/v1/messages');
    expect(sent.headers['x-api-key']).toBe(KEY);
    expect(sent.headers['anthropic-version']).toBe('2023-06-01');
    expect(sent.headers['content-type']).toBe('application/json');
    expect(sent.headers.authorization).toBeUndefined();
    expect(sent.json).toEqual({
      model: 'claude-sonnet-4-5',
      max_tokens: 1024,
      system: 'You are terse.\n\nAnswer in English.',
      messages: [{ role: 'user', content: 'Say hi' }],
      temperature: 0.3,
      stream: false,
    });
  });

  it("uses the step's max_tokens, the maxTokens option, and clamps temperature to the API's 0–1", async () => {
    server = await startMockServer((_req, res) => sendJson(res, 200, message('ok')));
    await provider().complete(request({ max_tokens: 77, temperature: 1.7 }));
    await provider({ maxTokens: 4096, name: 'claude' }).complete(
      request({ temperature: undefined, messages: [{ role: 'user', content: 'x' }] }),
    );
    expect(server.requests[0]!.json).toMatchObject({ max_tokens: 77, temperature: 1 });
    expect(server.requests[1]!.json).toEqual({
      model: 'claude-sonnet-4-5',
      max_tokens: 4096,
      messages: [{ role: 'user', content: 'x' }],
      stream: false,
    });
  });

  it('keeps user/assistant turns in order and converts image_url parts', async () => {
    server = await startMockServer((_req, res) => sendJson(res, 200, message('ok')));
    await provider().complete(
      request({
        messages: [
          { role: 'user', content: 'first' },
          { role: 'assistant', content: 'reply' },
          { role: 'system', content: 'late system note' },
          {
            role: 'user',
            content: [
              { type: 'text', text: 'look' } as { type: string },
              { type: 'image_url', image_url: { url: 'data:image/png;base64,AAAA' } } as { type: string },
              { type: 'image_url', image_url: { url: 'https://example.test/cat.png' } } as { type: string },
            ],
          },
        ],
      }),
    );
    expect(server.requests[0]!.json).toMatchObject({
      system: 'late system note',
      messages: [
        { role: 'user', content: 'first' },
        { role: 'assistant', content: 'reply' },
        {
          role: 'user',
          content: [
            { type: 'text', text: 'look' },
            { type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'AAAA' } },
            { type: 'image', source: { type: 'url', url: 'https://example.test/cat.png' } },
          ],
        },
      ],
    });
  });

  it('JSON mode appends the JSON instruction to the system prompt and unwraps fenced replies', async () => {
    server = await startMockServer((_req, res) => sendJson(res, 200, message('```json\n{"a": 1}\n```')));
    const result = await provider().complete(request({ response_format: 'json' }));
    expect(result.message).toBe('{"a": 1}');
    const body = server.requests[0]!.json as { system: string };
    expect(body.system).toBe(`You are terse.\n\nAnswer in English.\n\n${JSON_INSTRUCTION}`);
    expect(body).not.toHaveProperty('response_format');
  });

  it('reads tool_use blocks as tool calls, and refusals', async () => {
    server = await startMockServer((_req, res, _r, i) =>
      sendJson(
        res,
        200,
        i === 0
          ? message('', {
              content: [
                { type: 'text', text: 'Looking up.' },
                { type: 'tool_use', id: 'toolu_1', name: 'lookup', input: { q: 'x' } },
              ],
              stop_reason: 'tool_use',
            })
          : message('', { content: [], stop_reason: 'refusal' }),
      ),
    );
    const first = await provider().complete(request());
    expect(first.message).toBe('Looking up.');
    expect(first.tool_calls).toEqual([
      { id: 'toolu_1', type: 'function', function: { name: 'lookup', arguments: '{"q":"x"}' } },
    ]);
    const second = await provider().complete(request());
    expect(second.refusal).toBe('The model refused to answer.');
  });

  it('counts prompt-cache tokens as input tokens', async () => {
    server = await startMockServer((_req, res) =>
      sendJson(
        res,
        200,
        message('ok', {
          usage: {
            input_tokens: 10,
            cache_creation_input_tokens: 100,
            cache_read_input_tokens: 1000,
            output_tokens: 2,
          },
        }),
      ),
    );
    expect((await provider().complete(request())).usage).toEqual({ input_tokens: 1110, output_tokens: 2 });
  });
});

describe('anthropic provider: streaming', () => {
  it('streams text deltas and takes usage from message_start and message_delta', async () => {
    server = await startMockServer((_req, res) => streamHello(res));
    const deltas: string[] = [];
    const result = await provider().complete(request({ onDelta: (d) => deltas.push(d) }));

    expect(deltas).toEqual(['Hel', 'lo', '!']);
    expect(result.message).toBe('Hello!');
    expect(result.usage).toEqual({ input_tokens: 25, output_tokens: 15 });
    expect(result.model).toBe('claude-sonnet-4-5-20250929');
    expect(result.raw).toMatchObject({
      id: 'msg_01',
      content: [{ type: 'text', text: 'Hello!' }],
      stop_reason: 'end_turn',
      usage: { input_tokens: 25, output_tokens: 15 },
    });
    const sent = server.requests[0]!;
    expect(sent.headers.accept).toBe('text/event-stream');
    expect(sent.json).toMatchObject({ stream: true });
  });

  it('assembles streamed tool_use input', async () => {
    server = await startMockServer((_req, res) => {
      const sse = startSse(res);
      sse.send({ type: 'message_start', message: { ...message(''), content: [] } }, 'message_start');
      sse.send(
        {
          type: 'content_block_start',
          index: 0,
          content_block: { type: 'tool_use', id: 'toolu_2', name: 'f', input: {} },
        },
        'content_block_start',
      );
      for (const partial_json of ['{"a"', ': 1}']) {
        sse.send(
          { type: 'content_block_delta', index: 0, delta: { type: 'input_json_delta', partial_json } },
          'content_block_delta',
        );
      }
      sse.send({ type: 'content_block_stop', index: 0 }, 'content_block_stop');
      sse.send(
        { type: 'message_delta', delta: { stop_reason: 'tool_use' }, usage: { output_tokens: 9 } },
        'message_delta',
      );
      sse.send({ type: 'message_stop' }, 'message_stop');
      sse.end();
    });
    const result = await provider().complete(request({ onDelta: () => {} }));
    expect(result.tool_calls).toEqual([
      { id: 'toolu_2', type: 'function', function: { name: 'f', arguments: '{"a":1}' } },
    ]);
  });

  it('an error event after deltas is a coded error and not retried', async () => {
    server = await startMockServer((_req, res) => {
      const sse = startSse(res);
      sse.send({ type: 'message_start', message: { ...message(''), content: [] } }, 'message_start');
      sse.send(
        { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'Hel' } },
        'content_block_delta',
      );
      sse.send({ type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } }, 'error');
      sse.end();
    });
    const deltas: string[] = [];
    const error = await caught(provider().complete(request({ onDelta: (d) => deltas.push(d) })));
    expect(error.code).toBe(ERROR_CODES.PROVIDER_UNAVAILABLE);
    expect(error.message).toContain('Overloaded');
    expect(error.details).toMatchObject({ type: 'overloaded_error', attempts: 1 });
    expect(deltas).toEqual(['Hel']);
    expect(server.requests).toHaveLength(1);
  });

  it('an error event before any delta is retried', async () => {
    server = await startMockServer((_req, res, _r, i) => {
      if (i > 0) return streamHello(res);
      const sse = startSse(res);
      sse.send({ type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } }, 'error');
      sse.end();
    });
    const result = await provider().complete(request({ onDelta: () => {} }));
    expect(result.message).toBe('Hello!');
    expect(server.requests).toHaveLength(2);
  });
});

describe('anthropic provider: reliability', () => {
  it('retries 429 honouring Retry-After: 0, then succeeds', async () => {
    server = await startMockServer((_req, res, _r, i) =>
      i === 0
        ? sendJson(
            res,
            429,
            {
              type: 'error',
              error: { type: 'rate_limit_error', message: 'Number of requests has exceeded your rate limit' },
            },
            { 'retry-after': '0' },
          )
        : sendJson(res, 200, message('after wait')),
    );
    const result = await anthropic({ apiKey: KEY, baseURL: server.url }).complete(request());
    expect(result.message).toBe('after wait');
    expect(server.requests).toHaveLength(2);
  });

  it('retries a 500 and a 529 (overloaded), then succeeds', async () => {
    server = await startMockServer((_req, res, _r, i) => {
      if (i === 0)
        return sendJson(res, 500, { type: 'error', error: { type: 'api_error', message: 'Internal' } });
      if (i === 1)
        return sendJson(res, 529, {
          type: 'error',
          error: { type: 'overloaded_error', message: 'Overloaded' },
        });
      return sendJson(res, 200, message('ok'));
    });
    await expect(provider().complete(request())).resolves.toMatchObject({ message: 'ok' });
    expect(server.requests).toHaveLength(3);
  });

  it('401 is PROVIDER_AUTH, not retried, and the key never shows', async () => {
    server = await startMockServer((_req, res) =>
      sendJson(res, 401, {
        type: 'error',
        error: { type: 'authentication_error', message: `invalid x-api-key ${KEY}` },
      }),
    );
    const error = await caught(provider().complete(request()));
    expect(error.code).toBe(ERROR_CODES.PROVIDER_AUTH);
    expect(error.details).toMatchObject({
      status: 401,
      provider: 'anthropic',
      attempts: 1,
      type: 'authentication_error',
    });
    expect(server.requests).toHaveLength(1);
  });

  it("400 is PROVIDER_BAD_REQUEST carrying the server's message", async () => {
    server = await startMockServer((_req, res) =>
      sendJson(res, 400, {
        type: 'error',
        error: { type: 'invalid_request_error', message: 'max_tokens: Field required' },
      }),
    );
    const error = await caught(provider().complete(request()));
    expect(error.code).toBe(ERROR_CODES.PROVIDER_BAD_REQUEST);
    expect(error.message).toContain('max_tokens: Field required');
    expect(error.details).toMatchObject({ status: 400, type: 'invalid_request_error', attempts: 1 });
    expect(server.requests).toHaveLength(1);
  });

  it('a reply slower than timeoutMs is PROVIDER_TIMEOUT', async () => {
    server = await startMockServer((_req, res) => {
      setTimeout(() => sendJson(res, 200, message('late')), 2000);
    });
    const error = await caught(provider({ timeoutMs: 150 }).complete(request()));
    expect(error.code).toBe(ERROR_CODES.PROVIDER_TIMEOUT);
    expect(server.requests).toHaveLength(1);
  });

  it('a malformed JSON body is PROVIDER_UNAVAILABLE, not retried', async () => {
    server = await startMockServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('<html>502 from a proxy</html>');
    });
    const error = await caught(provider().complete(request()));
    expect(error.code).toBe(ERROR_CODES.PROVIDER_UNAVAILABLE);
    expect(error.details).toMatchObject({ reason: 'malformed_response', attempts: 1 });
    expect(server.requests).toHaveLength(1);
  });

  it('a connection reset mid-stream is PROVIDER_UNAVAILABLE', async () => {
    server = await startMockServer((_req, res) => {
      const sse = startSse(res);
      sse.send({ type: 'message_start', message: { ...message(''), content: [] } }, 'message_start');
      sse.send(
        { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'Hi' } },
        'content_block_delta',
      );
      setTimeout(() => res.socket?.destroy(), 30);
    });
    const deltas: string[] = [];
    const error = await caught(provider().complete(request({ onDelta: (d) => deltas.push(d) })));
    expect(error.code).toBe(ERROR_CODES.PROVIDER_UNAVAILABLE);
    expect(deltas).toEqual(['Hi']);
    expect(server.requests).toHaveLength(1);
  });

  it('aborting mid-request closes the connection the server holds and is CANCELLED', async () => {
    const watcher = closeWatcher();
    let arrived!: () => void;
    const held = new Promise<void>((r) => {
      arrived = r;
    });
    server = await startMockServer((_req, res) => {
      watcher.watch(res);
      arrived();
    });
    const controller = new AbortController();
    const pending = provider().complete(request({ signal: controller.signal }));
    await held;
    controller.abort();
    const error = await caught(pending);
    expect(error.code).toBe(ERROR_CODES.CANCELLED);
    expect(await watcher.closed).toBe(false);
  });
});

describe('anthropic provider: helpers and pricing', () => {
  it('stripFences unwraps one fenced block only', () => {
    expect(stripFences('```json\n[1, 2]\n```')).toBe('[1, 2]');
    expect(stripFences('```\n{"a":1}\n```\n')).toBe('{"a":1}');
    expect(stripFences('{"a":"```"}')).toBe('{"a":"```"}');
  });

  it('validates its options', () => {
    expect(() => anthropic({ maxTokens: 0 })).toThrow(/maxTokens/);
    expect(() => anthropic({ baseURL: 'nope' })).toThrow(/baseURL/);
  });

  it('exports a pricing snapshot keyed by provider and model', () => {
    expect(pricing.anthropic!['claude-sonnet-4-5']).toEqual({ input_per_million: 3, output_per_million: 15 });
    for (const price of Object.values(pricing.anthropic!)) {
      expect(price.output_per_million).toBeGreaterThan(price.input_per_million);
    }
  });

  it('declares the list prices as its own (the engine prices its calls with them), or the ones given', () => {
    expect(anthropic().pricing).toEqual(pricing.anthropic);
    expect(anthropic({ pricing: {} }).pricing).toEqual({});
    expect(() => anthropic({ pricing: [] as never })).toThrow(
      expect.objectContaining({ code: 'INVALID_ARGUMENT' }),
    );
  });
});

describeProviderRequests('anthropic', (baseURL) => anthropic({ apiKey: 'k', baseURL }));
