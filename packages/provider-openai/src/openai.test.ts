import type { ServerResponse } from 'node:http';
import { inspect } from 'node:util';
import { ERROR_CODES, type ModelRequest, WeftError } from '@weft/core';
import { type MockServer, sendJson, startMockServer, startSse } from '@weft/testing';
import { describeProviderRequests } from '@weft/testing/provider-contract';
import { afterEach, describe, expect, it } from 'vitest';
import { type OpenAIOptions, openai } from './openai.js';
import { pricing } from './pricing.js';

const KEY = 'sk-proj-weftTEST0123456789abcdef';
let server: MockServer | undefined;

afterEach(async () => {
  await server?.close();
  server = undefined;
});

function provider(extra: Partial<OpenAIOptions> = {}) {
  return openai({
    apiKey: KEY,
    baseURL: `${server!.url}/v1`,
    // No real waiting between attempts: the retry tests assert counts, the unit tests assert delays.
    sleep: async () => {},
    ...extra,
  });
}

function request(extra: Partial<ModelRequest> = {}): ModelRequest {
  return {
    provider: 'openai',
    model: 'gpt-4o-mini',
    messages: [
      { role: 'system', content: 'Be brief.' },
      { role: 'user', content: 'Say hi' },
    ],
    temperature: 0.2,
    max_tokens: 50,
    response_format: 'text',
    signal: new AbortController().signal,
    step_key: 'greet',
    ...extra,
  };
}

function completion(content: string | null, extra: Record<string, unknown> = {}) {
  return {
    id: 'chatcmpl-1',
    object: 'chat.completion',
    created: 1_700_000_000,
    model: 'gpt-4o-mini-2024-07-18',
    choices: [{ index: 0, message: { role: 'assistant', content, refusal: null }, finish_reason: 'stop' }],
    usage: { prompt_tokens: 12, completion_tokens: 3, total_tokens: 15 },
    ...extra,
  };
}

function chunk(delta: Record<string, unknown>, finish: string | null = null) {
  return {
    id: 'chatcmpl-2',
    object: 'chat.completion.chunk',
    created: 1_700_000_001,
    model: 'gpt-4o-mini-2024-07-18',
    choices: [{ index: 0, delta, finish_reason: finish }],
    usage: null,
  };
}

function streamHello(res: ServerResponse) {
  const sse = startSse(res);
  sse.send(chunk({ role: 'assistant', content: '' }));
  for (const piece of ['Hel', 'lo', ' there']) sse.send(chunk({ content: piece }));
  sse.send(chunk({}, 'stop'));
  sse.send({
    ...chunk({}),
    choices: [],
    usage: { prompt_tokens: 9, completion_tokens: 4, total_tokens: 13 },
  });
  sse.send('[DONE]');
  sse.end();
}

async function caught(promise: Promise<unknown>): Promise<WeftError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(WeftError);
    expectNoKey(error);
    return error as WeftError;
  }
  throw new Error('expected a rejection');
}

function expectNoKey(value: unknown) {
  const texts = [
    JSON.stringify(value),
    String(value),
    (value as Error).stack ?? '',
    inspect(value, { depth: 20, showHidden: true }),
  ];
  for (const text of texts) expect(text).not.toContain(KEY);
}

/** Resolves with whether the response had finished when the server saw the connection close. */
function closeWatcher() {
  let resolve!: (finished: boolean) => void;
  const closed = new Promise<boolean>((r) => {
    resolve = r;
  });
  return { closed, watch: (res: ServerResponse) => res.on('close', () => resolve(res.writableFinished)) };
}

describe('openai provider: requests', () => {
  it('sends the documented Chat Completions request and reads a plain reply', async () => {
    server = await startMockServer((_req, res) => sendJson(res, 200, completion('Hi!')));
    const result = await provider().complete(request());

    expect(result).toEqual({
      message: 'Hi!',
      refusal: null,
      raw: completion('Hi!'),
      usage: { input_tokens: 12, output_tokens: 3 },
      model: 'gpt-4o-mini-2024-07-18',
    });
    const sent = server.requests[0]!;
    expect(sent.method).toBe('POST');
    expect(sent.path).toBe('/v1/chat/completions');
    expect(sent.headers.authorization).toBe(`Bearer ${KEY}`);
    expect(sent.headers['content-type']).toBe('application/json');
    expect(sent.headers.accept).toBe('application/json');
    expect(sent.json).toEqual({
      model: 'gpt-4o-mini',
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: 'Say hi' },
      ],
      temperature: 0.2,
      max_tokens: 50,
      stream: false,
    });
  });

  it('omits unset fields and sends no auth header without an apiKey (Ollama, LM Studio)', async () => {
    server = await startMockServer((_req, res) => sendJson(res, 200, completion('ok')));
    const local = openai({ baseURL: `${server.url}/v1/`, name: 'ollama' });
    expect(local.name).toBe('ollama');
    await local.complete(request({ temperature: undefined, max_tokens: undefined, model: 'llama3.2' }));
    const sent = server.requests[0]!;
    expect(sent.path).toBe('/v1/chat/completions');
    expect(sent.headers.authorization).toBeUndefined();
    expect(sent.json).toEqual({ model: 'llama3.2', messages: request().messages, stream: false });
  });

  it('speaks Azure: deployment base URL, api-version query and api-key header', async () => {
    server = await startMockServer((_req, res) => sendJson(res, 200, completion('ok')));
    const azure = openai({
      name: 'azure',
      apiKey: KEY,
      baseURL: `${server.url}/openai/deployments/gpt-4o`,
      apiVersion: '2024-10-21',
      authHeader: 'api-key',
      headers: { 'x-ms-client-request-id': 'req-1' },
    });
    await azure.complete(request());
    const sent = server.requests[0]!;
    expect(sent.path).toBe('/openai/deployments/gpt-4o/chat/completions?api-version=2024-10-21');
    expect(sent.headers['api-key']).toBe(KEY);
    expect(sent.headers.authorization).toBeUndefined();
    expect(sent.headers['x-ms-client-request-id']).toBe('req-1');
  });

  it('JSON mode sends response_format json_object', async () => {
    server = await startMockServer((_req, res) => sendJson(res, 200, completion('{"a":1}')));
    const result = await provider().complete(request({ response_format: 'json' }));
    expect(result.message).toBe('{"a":1}');
    expect(server.requests[0]!.json).toMatchObject({ response_format: { type: 'json_object' } });
  });

  it('can send max_completion_tokens for reasoning models', async () => {
    server = await startMockServer((_req, res) => sendJson(res, 200, completion('ok')));
    await provider({ maxTokensParam: 'max_completion_tokens' }).complete(request({ model: 'o4-mini' }));
    const body = server.requests[0]!.json as Record<string, unknown>;
    expect(body.max_completion_tokens).toBe(50);
    expect(body).not.toHaveProperty('max_tokens');
  });

  it('reads tool calls and refusals', async () => {
    const toolCalls = [
      { id: 'call_1', type: 'function', function: { name: 'lookup', arguments: '{"q":"x"}' } },
    ];
    server = await startMockServer((_req, res, _r, i) =>
      sendJson(
        res,
        200,
        i === 0
          ? completion(null, {
              choices: [{ index: 0, message: { role: 'assistant', content: null, tool_calls: toolCalls } }],
            })
          : completion(null, {
              choices: [{ index: 0, message: { role: 'assistant', content: null, refusal: 'I cannot.' } }],
            }),
      ),
    );
    const first = await provider().complete(request());
    expect(first.message).toBe('');
    expect(first.tool_calls).toEqual(toolCalls);
    const second = await provider().complete(request());
    expect(second.refusal).toBe('I cannot.');
  });
});

describe('openai provider: streaming', () => {
  it('streams deltas over SSE and assembles the message and the final usage', async () => {
    server = await startMockServer((_req, res) => streamHello(res));
    const deltas: string[] = [];
    const result = await provider().complete(request({ onDelta: (d) => deltas.push(d) }));

    expect(deltas).toEqual(['Hel', 'lo', ' there']);
    expect(result.message).toBe('Hello there');
    expect(result.usage).toEqual({ input_tokens: 9, output_tokens: 4 });
    expect(result.model).toBe('gpt-4o-mini-2024-07-18');
    expect(result.raw).toMatchObject({
      object: 'chat.completion',
      choices: [{ message: { role: 'assistant', content: 'Hello there' }, finish_reason: 'stop' }],
      usage: { prompt_tokens: 9, completion_tokens: 4 },
    });
    const sent = server.requests[0]!;
    expect(sent.headers.accept).toBe('text/event-stream');
    expect(sent.json).toMatchObject({ stream: true, stream_options: { include_usage: true } });
  });

  it('assembles streamed tool-call fragments', async () => {
    server = await startMockServer((_req, res) => {
      const sse = startSse(res);
      sse.send(
        chunk({
          tool_calls: [{ index: 0, id: 'call_9', type: 'function', function: { name: 'f', arguments: '' } }],
        }),
      );
      sse.send(chunk({ tool_calls: [{ index: 0, function: { arguments: '{"a":' } }] }));
      sse.send(chunk({ tool_calls: [{ index: 0, function: { arguments: '1}' } }] }));
      sse.send(chunk({}, 'tool_calls'));
      sse.send('[DONE]');
      sse.end();
    });
    const result = await provider().complete(request({ onDelta: () => {} }));
    expect(result.tool_calls).toEqual([
      { id: 'call_9', type: 'function', function: { name: 'f', arguments: '{"a":1}' } },
    ]);
    expect(result.usage).toEqual({ input_tokens: 0, output_tokens: 0 });
  });

  it('accepts a compatible server that answers a stream request with one JSON body', async () => {
    server = await startMockServer((_req, res) => sendJson(res, 200, completion('whole')));
    const deltas: string[] = [];
    const result = await provider().complete(request({ onDelta: (d) => deltas.push(d) }));
    expect(deltas).toEqual(['whole']);
    expect(result.message).toBe('whole');
  });

  it('stream: false never streams, even with onDelta', async () => {
    server = await startMockServer((_req, res) => sendJson(res, 200, completion('x')));
    await provider({ stream: false }).complete(request({ onDelta: () => {} }));
    expect(server.requests[0]!.json).toMatchObject({ stream: false });
  });

  it('an error chunk mid-stream is a coded error', async () => {
    server = await startMockServer((_req, res) => {
      const sse = startSse(res);
      sse.send(chunk({ content: 'par' }));
      sse.send({ error: { message: 'upstream overloaded', type: 'server_error' } });
      sse.end();
    });
    const error = await caught(provider().complete(request({ onDelta: () => {} })));
    expect(error.code).toBe(ERROR_CODES.PROVIDER_UNAVAILABLE);
    expect(error.message).toContain('upstream overloaded');
    expect(server.requests).toHaveLength(1);
  });
});

describe('openai provider: reliability', () => {
  it('retries 429 honouring Retry-After: 0, then succeeds', async () => {
    server = await startMockServer((_req, res, _r, i) =>
      i === 0
        ? sendJson(
            res,
            429,
            { error: { message: 'Rate limit reached', type: 'requests' } },
            { 'retry-after': '0' },
          )
        : sendJson(res, 200, completion('after wait')),
    );
    const result = await openai({ apiKey: KEY, baseURL: `${server.url}/v1` }).complete(request());
    expect(result.message).toBe('after wait');
    expect(server.requests).toHaveLength(2);
    expect(server.requests[1]!.json).toEqual(server.requests[0]!.json);
  });

  it('retries a 500, then succeeds', async () => {
    server = await startMockServer((_req, res, _r, i) =>
      i === 0 ? sendJson(res, 500, { error: { message: 'oops' } }) : sendJson(res, 200, completion('ok')),
    );
    await expect(provider().complete(request())).resolves.toMatchObject({ message: 'ok' });
    expect(server.requests).toHaveLength(2);
  });

  it('429 on every attempt is PROVIDER_RATE_LIMIT after maxAttempts', async () => {
    server = await startMockServer((_req, res) => sendJson(res, 429, { error: { message: 'slow down' } }));
    const error = await caught(provider({ retry: { maxAttempts: 2 } }).complete(request()));
    expect(error.code).toBe(ERROR_CODES.PROVIDER_RATE_LIMIT);
    expect(error.details).toMatchObject({ status: 429, provider: 'openai', attempts: 2 });
    expect(server.requests).toHaveLength(2);
  });

  it('401 is PROVIDER_AUTH, not retried, and never shows the key the server echoed', async () => {
    server = await startMockServer((_req, res) =>
      sendJson(res, 401, {
        error: {
          message: `Incorrect API key provided: ${KEY}.`,
          type: 'invalid_request_error',
          code: 'invalid_api_key',
        },
      }),
    );
    const error = await caught(provider().complete(request()));
    expect(error.code).toBe(ERROR_CODES.PROVIDER_AUTH);
    expect(error.details).toMatchObject({
      status: 401,
      provider: 'openai',
      attempts: 1,
      code: 'invalid_api_key',
    });
    expect(error.message).toContain('[REDACTED]');
    expect(server.requests).toHaveLength(1);
  });

  it('403 and 404 are not retried either', async () => {
    server = await startMockServer((_req, res, _r, i) =>
      sendJson(res, i === 0 ? 403 : 404, {
        error: { message: i === 0 ? 'forbidden' : 'The model `x` does not exist' },
      }),
    );
    expect((await caught(provider().complete(request()))).code).toBe(ERROR_CODES.PROVIDER_AUTH);
    const notFound = await caught(provider().complete(request()));
    expect(notFound.code).toBe(ERROR_CODES.PROVIDER_BAD_REQUEST);
    expect(notFound.message).toContain('does not exist');
    expect(server.requests).toHaveLength(2);
  });

  it("400 is PROVIDER_BAD_REQUEST carrying the server's message", async () => {
    server = await startMockServer((_req, res) =>
      sendJson(res, 400, {
        error: {
          message: "Invalid value for 'temperature': must be between 0 and 2.",
          type: 'invalid_request_error',
          param: 'temperature',
          code: 'invalid_value',
        },
      }),
    );
    const error = await caught(provider().complete(request()));
    expect(error.code).toBe(ERROR_CODES.PROVIDER_BAD_REQUEST);
    expect(error.message).toContain("Invalid value for 'temperature': must be between 0 and 2.");
    expect(error.details).toMatchObject({
      status: 400,
      type: 'invalid_request_error',
      code: 'invalid_value',
    });
    expect(error.retryable).toBe(false);
    expect(server.requests).toHaveLength(1);
  });

  it('a reply slower than timeoutMs is PROVIDER_TIMEOUT', async () => {
    const watcher = closeWatcher();
    let replied = false;
    server = await startMockServer((_req, res) => {
      watcher.watch(res);
      setTimeout(() => {
        replied = true;
        sendJson(res, 200, completion('late'));
      }, 2000);
    });
    const error = await caught(provider({ timeoutMs: 150 }).complete(request()));
    expect(error.code).toBe(ERROR_CODES.PROVIDER_TIMEOUT);
    expect(error.details).toMatchObject({ timeout_ms: 150, attempts: 1 });
    // The client gave up at its own timeout, before the reply was sent (a behaviour, not a wall-clock
    // bound: a loaded machine may take any time to get here, the reply's timer always fires later).
    expect(replied).toBe(false);
    expect(await watcher.closed).toBe(false);
  });

  it('a stream that stalls past timeoutMs is PROVIDER_TIMEOUT (idle timeout)', async () => {
    server = await startMockServer((_req, res) => {
      const sse = startSse(res);
      sse.send(chunk({ content: 'start' }));
    });
    const deltas: string[] = [];
    // 1 s, not 150 ms: the same timeout bounds the wait for the response, which a loaded machine's first
    // request can exceed — then the error says "no response", not "stalled", and no delta arrived.
    const error = await caught(
      provider({ timeoutMs: 1_000 }).complete(request({ onDelta: (d) => deltas.push(d) })),
    );
    expect(error.code).toBe(ERROR_CODES.PROVIDER_TIMEOUT);
    expect(error.message).toMatch(/stalled/);
    expect(deltas).toEqual(['start']);
  });

  it('a malformed JSON body is PROVIDER_UNAVAILABLE, not retried (the call may have been billed)', async () => {
    server = await startMockServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"id": "chatcmpl-1", "choices": [');
    });
    const error = await caught(provider().complete(request()));
    expect(error.code).toBe(ERROR_CODES.PROVIDER_UNAVAILABLE);
    expect(error.details).toMatchObject({ reason: 'malformed_response', status: 200, attempts: 1 });
    expect(server.requests).toHaveLength(1);
  });

  it('a connection reset mid-stream is PROVIDER_UNAVAILABLE and not retried once deltas went out', async () => {
    server = await startMockServer((_req, res) => {
      const sse = startSse(res);
      sse.send(chunk({ content: 'Hel' }));
      sse.send(chunk({ content: 'lo' }));
      setTimeout(() => res.socket?.destroy(), 30);
    });
    const deltas: string[] = [];
    const error = await caught(provider().complete(request({ onDelta: (d) => deltas.push(d) })));
    expect(error.code).toBe(ERROR_CODES.PROVIDER_UNAVAILABLE);
    expect(error.message).toMatch(/closed mid-response/);
    expect(deltas).toEqual(['Hel', 'lo']);
    expect(server.requests).toHaveLength(1);
  });

  it('a stream that ends cleanly but early is retried while no delta went out', async () => {
    server = await startMockServer((_req, res, _r, i) => {
      if (i > 0) return streamHello(res);
      const sse = startSse(res);
      sse.send(chunk({ role: 'assistant', content: '' }));
      sse.end();
    });
    const result = await provider().complete(request({ onDelta: () => {} }));
    expect(result.message).toBe('Hello there');
    expect(server.requests).toHaveLength(2);
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
    expect(error.retryable).toBe(false);
    expect(await watcher.closed).toBe(false);
    expect(server.requests).toHaveLength(1);
  });

  it('aborting mid-stream closes the connection and is CANCELLED', async () => {
    const watcher = closeWatcher();
    server = await startMockServer((_req, res) => {
      watcher.watch(res);
      const sse = startSse(res);
      sse.send(chunk({ content: 'first' }));
    });
    const controller = new AbortController();
    const error = await caught(
      provider().complete(request({ signal: controller.signal, onDelta: () => controller.abort() })),
    );
    expect(error.code).toBe(ERROR_CODES.CANCELLED);
    expect(await watcher.closed).toBe(false);
  });
});

describe('openai provider: options and pricing', () => {
  it('validates its options without quoting the key', () => {
    expect(() => openai({ baseURL: 'ftp://x' })).toThrow(/baseURL/);
    expect(() => openai({ name: '' })).toThrow(/name/);
    expect(() => openai({ apiKey: 42 as unknown as string })).toThrow(/apiKey/);
  });

  it('exports a pricing snapshot keyed by provider and model', () => {
    expect(pricing.openai!['gpt-4o-mini']).toEqual({ input_per_million: 0.15, output_per_million: 0.6 });
    for (const price of Object.values(pricing.openai!)) {
      expect(price.input_per_million).toBeGreaterThan(0);
      expect(price.output_per_million).toBeGreaterThanOrEqual(price.input_per_million);
    }
  });

  it('declares the list prices as its own (the engine prices its calls with them), or the ones given', () => {
    expect(openai().pricing).toEqual(pricing.openai);
    expect(openai({ name: 'local', pricing: {} }).pricing).toEqual({});
    const custom = { 'llama3.2': { input_per_million: 0.1, output_per_million: 0.1 } };
    expect(openai({ pricing: custom }).pricing).toEqual(custom);
    expect(() => openai({ pricing: 'free' as never })).toThrow(
      expect.objectContaining({ code: 'INVALID_ARGUMENT' }),
    );
  });
});

describeProviderRequests('openai', (baseURL) => openai({ apiKey: 'k', baseURL }));
