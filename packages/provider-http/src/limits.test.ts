/**
 * Issue 11, item 9: every provider response is bounded — in size (`maxResponseBytes`, `maxEventSize`) and
 * in time (`totalTimeoutMs`, which nothing the server sends can extend). Real loopback servers.
 */
import { ERROR_CODES, WeftError } from '@weft/core';
import { type MockServer, sendJson, startMockServer, startSse } from '@weft/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { createHttpClient, type HttpClientOptions, readEvents, readJson } from './client.js';

const KEY = 'sk-weft-test-0123456789abcdef';
let server: MockServer | undefined;

afterEach(async () => {
  await server?.close();
  server = undefined;
});

function client(extra: Partial<HttpClientOptions> = {}) {
  return createHttpClient({
    provider: 'test',
    secrets: [KEY],
    sleep: async () => {},
    random: () => 0,
    ...extra,
  });
}

async function caught(promise: Promise<unknown>): Promise<WeftError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(WeftError);
    return error as WeftError;
  }
  throw new Error('expected a rejection');
}

const json = (c: ReturnType<typeof client>, url: string) =>
  c.post({ url, headers: {}, body: {}, read: (response, context) => readJson(response, context) });

const events = (c: ReturnType<typeof client>, url: string, seen: string[] = []) =>
  c.post({
    url,
    headers: {},
    body: {},
    read: async (response, context) => {
      for await (const event of readEvents(response, context)) seen.push(event.data);
      return seen;
    },
  });

describe('maxResponseBytes', () => {
  it('refuses a JSON body larger than the limit, without retrying', async () => {
    // Regression: a 50 MB body was accepted whole.
    server = await startMockServer((_req, res) => sendJson(res, 200, { big: 'x'.repeat(4096) }));
    const error = await caught(json(client({ maxResponseBytes: 1024 }), server.url));
    expect(error.code).toBe(ERROR_CODES.RESPONSE_TOO_LARGE);
    expect(error.retryable).toBe(false);
    expect(error.details).toMatchObject({ max_bytes: 1024, attempts: 1 });
    expect(server.requests).toHaveLength(1);
  });

  it('counts a chunked body as it streams (no Content-Length)', async () => {
    server = await startMockServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      for (let i = 0; i < 16; i++) res.write(' '.repeat(256));
      res.end('{}');
    });
    const error = await caught(json(client({ maxResponseBytes: 1024 }), server.url));
    expect(error.code).toBe(ERROR_CODES.RESPONSE_TOO_LARGE);
  });

  it('bounds a stream in all', async () => {
    server = await startMockServer((_req, res) => {
      const sse = startSse(res);
      for (let i = 0; i < 50; i++) sse.send({ delta: 'y'.repeat(100) });
      res.end();
    });
    const error = await caught(events(client({ maxResponseBytes: 2048 }), server.url));
    expect(error.code).toBe(ERROR_CODES.RESPONSE_TOO_LARGE);
  });

  it('reads only the start of an error body, and redacts it before cutting it', async () => {
    // Regression: the 500-character cut of a 400 quoting the request left the start of the key behind.
    server = await startMockServer((_req, res) =>
      sendJson(res, 400, {
        error: { message: `${'m'.repeat(480)} your key ${KEY} ${'z'.repeat(10_000_000)}` },
      }),
    );
    const error = await caught(json(client(), server.url));
    expect(error.code).toBe(ERROR_CODES.PROVIDER_BAD_REQUEST);
    expect(error.message).not.toContain('sk-weft-');
    expect(JSON.stringify(error.details)).not.toContain('sk-weft-');
    expect(error.message.length).toBeLessThan(700);
  });
});

describe('maxEventSize', () => {
  it('refuses an event that never ends (a stream with no line break)', async () => {
    // Regression: such a stream grew the heap by 396 MB in 30 s.
    server = await startMockServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      for (let i = 0; i < 64; i++) res.write(`${i === 0 ? 'data: ' : ''}${'n'.repeat(1024)}`);
    });
    const error = await caught(events(client({ maxEventSize: 16 * 1024 }), server.url));
    expect(error.code).toBe(ERROR_CODES.RESPONSE_TOO_LARGE);
    expect(error.details).toMatchObject({ max_event_size: 16 * 1024 });
  });

  it('passes events below the limit', async () => {
    server = await startMockServer((_req, res) => {
      const sse = startSse(res);
      sse.send({ a: 'x'.repeat(100) });
      res.end();
    });
    const seen = await events(client({ maxEventSize: 1024 }), server.url);
    expect(seen).toHaveLength(1);
  });
});

describe('totalTimeoutMs', () => {
  it('a stream that keeps sending cannot extend the deadline', async () => {
    // Regression: the idle timeout restarted on every chunk, so a stream that never ended never timed out.
    server = await startMockServer((_req, res) => {
      const sse = startSse(res);
      const timer = setInterval(() => sse.send({ tick: 1 }), 10);
      res.on('close', () => clearInterval(timer));
    });
    const seen: string[] = [];
    // The idle timeout is far above the total one, and the total one leaves a loaded machine time to
    // connect and read some events before it ends the stream.
    const error = await caught(events(client({ timeoutMs: 30_000, totalTimeoutMs: 800 }), server.url, seen));
    expect(error.code).toBe(ERROR_CODES.TIMEOUT);
    expect(error.retryable).toBe(true);
    expect(error.details).toMatchObject({ total_timeout_ms: 800, attempts: 1 });
    expect(seen.length).toBeGreaterThan(0);
    expect(server.requests).toHaveLength(1);
  });

  it('covers the retries and their waits', async () => {
    server = await startMockServer((_req, res) => sendJson(res, 503, { error: { message: 'busy' } }));
    const c = createHttpClient({
      provider: 'test',
      // Wide enough that a loaded machine's slow first request cannot reach the deadline itself.
      totalTimeoutMs: 3_000,
      retry: { maxAttempts: 10, baseDelayMs: 2_000, maxDelayMs: 2_000 },
      random: () => 0.99,
    });
    const error = await caught(json(c, server.url));
    // The second wait would pass the deadline: the client stops with the last real error instead.
    expect(error.code).toBe(ERROR_CODES.PROVIDER_UNAVAILABLE);
    expect(server.requests.length).toBeLessThanOrEqual(2);
  });

  it('validates the new options', () => {
    expect(() => createHttpClient({ provider: 'p', totalTimeoutMs: 0 })).toThrow(/totalTimeoutMs/);
    expect(() => createHttpClient({ provider: 'p', maxResponseBytes: 1.5 })).toThrow(/maxResponseBytes/);
    expect(() => createHttpClient({ provider: 'p', maxEventSize: -1 })).toThrow(/maxEventSize/);
  });
});
