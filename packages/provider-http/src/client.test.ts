import { ERROR_CODES, WeftError } from '@weft/core';
import { type MockServer, sendJson, startMockServer, startSse } from '@weft/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { createHttpClient, type HttpClientOptions, readEvents, readJson } from './client.js';
import { providerError } from './errors.js';
import { sleep } from './retry.js';

const KEY = 'sk-weft-test-9f8e7d6c5b4a';
let server: MockServer | undefined;

afterEach(async () => {
  await server?.close();
  server = undefined;
});

const noWait = { sleep: async () => {}, random: () => 0 };

function client(extra: Partial<HttpClientOptions> = {}) {
  return createHttpClient({ provider: 'test', secrets: [KEY], ...noWait, ...extra });
}

function postJson(c: ReturnType<typeof client>, url: string, signal?: AbortSignal) {
  return c.post({
    url,
    headers: { authorization: `Bearer ${KEY}` },
    body: { hello: 'world' },
    signal,
    read: (response, context) => readJson(response, context),
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

describe('createHttpClient', () => {
  it('posts JSON and returns what read returns', async () => {
    server = await startMockServer((_req, res) => sendJson(res, 200, { ok: true }));
    await expect(postJson(client(), `${server.url}/x`)).resolves.toEqual({ ok: true });
    expect(server.requests[0]).toMatchObject({ method: 'POST', path: '/x', json: { hello: 'world' } });
    expect(server.requests[0]!.headers['content-type']).toBe('application/json');
  });

  it('retries 503 with backoff from the injected jitter and sleep', async () => {
    const waits: number[] = [];
    server = await startMockServer((_req, res, _r, i) =>
      i < 2 ? sendJson(res, 503, { error: { message: 'busy' } }) : sendJson(res, 200, { n: i }),
    );
    const c = client({
      retry: { baseDelayMs: 100, maxDelayMs: 1000 },
      random: () => 0.5,
      sleep: async (ms) => {
        waits.push(ms);
      },
    });
    await expect(postJson(c, server.url)).resolves.toEqual({ n: 2 });
    expect(waits).toEqual([50, 100]);
  });

  it('gives up after maxAttempts with the last error and the attempt count', async () => {
    server = await startMockServer((_req, res) => sendJson(res, 502, { error: 'bad gateway' }));
    const error = await caught(postJson(client({ retry: { maxAttempts: 4 } }), server.url));
    expect(error.code).toBe(ERROR_CODES.PROVIDER_UNAVAILABLE);
    expect(error.details).toMatchObject({ status: 502, provider: 'test', attempts: 4 });
    expect(server.requests).toHaveLength(4);
  });

  it('stops at once when Retry-After asks for longer than maxRetryAfterMs', async () => {
    server = await startMockServer((_req, res) => sendJson(res, 429, {}, { 'retry-after': '3600' }));
    const error = await caught(postJson(client(), server.url));
    expect(error.code).toBe(ERROR_CODES.PROVIDER_RATE_LIMIT);
    expect(error.details).toMatchObject({ attempts: 1, retry_after_ms: 3_600_000 });
    expect(server.requests).toHaveLength(1);
  });

  it('waits what Retry-After says (real sleep)', async () => {
    server = await startMockServer((_req, res, _r, i) =>
      i === 0 ? sendJson(res, 429, {}, { 'retry-after-ms': '120' }) : sendJson(res, 200, {}),
    );
    const c = createHttpClient({ provider: 'test' });
    const start = Date.now();
    await postJson(c, server.url);
    expect(Date.now() - start).toBeGreaterThanOrEqual(100);
  });

  it('retries network errors and reports PROVIDER_UNAVAILABLE', async () => {
    const closed = await startMockServer(() => {});
    const url = closed.url;
    await closed.close();
    const error = await caught(postJson(client(), url));
    expect(error.code).toBe(ERROR_CODES.PROVIDER_UNAVAILABLE);
    expect(error.details).toMatchObject({ attempts: 3, status: null });
    expect(error.message).toMatch(/could not reach/);
  });

  it('does not follow redirects (they would carry auth headers elsewhere)', async () => {
    server = await startMockServer((_req, res) => {
      res.writeHead(307, { location: 'http://127.0.0.1:1/elsewhere' });
      res.end();
    });
    const error = await caught(postJson(client(), server.url));
    expect(error.code).toBe(ERROR_CODES.PROVIDER_BAD_REQUEST);
    expect(error.message).toMatch(/redirect/);
    expect(server.requests).toHaveLength(1);
  });

  it('a caller abort during the backoff wait is CANCELLED', async () => {
    server = await startMockServer((_req, res) => sendJson(res, 500, {}));
    const controller = new AbortController();
    let backingOff!: () => void;
    const inBackoff = new Promise<void>((resolve) => {
      backingOff = resolve;
    });
    const c = createHttpClient({
      provider: 'test',
      retry: { baseDelayMs: 10_000 },
      random: () => 0.9,
      // The real sleep, announced: the abort comes once the client waits (not after a guessed 30 ms).
      sleep: (ms, signal) => {
        backingOff();
        return sleep(ms, signal);
      },
    });
    const pending = postJson(c, server.url, controller.signal);
    await inBackoff;
    expect(server.requests).toHaveLength(1);
    controller.abort();
    const error = await caught(pending);
    expect(error.code).toBe(ERROR_CODES.CANCELLED);
    expect(error.details).toMatchObject({ attempts: 1 });
  });

  it('an already aborted signal sends nothing', async () => {
    server = await startMockServer((_req, res) => sendJson(res, 200, {}));
    const error = await caught(postJson(client(), server.url, AbortSignal.abort()));
    expect(error.code).toBe(ERROR_CODES.CANCELLED);
    expect(server.requests).toHaveLength(0);
  });

  it('retries a transient stream failure before anything was committed, not after', async () => {
    const attempt = (commitFirst: boolean) =>
      startMockServer((_req, res) => {
        const sse = startSse(res);
        sse.send({ n: 1 });
        setTimeout(() => res.socket?.destroy(), 20);
      }).then(async (s) => {
        server = s;
        const seen: string[] = [];
        const error = await caught(
          client().post({
            url: s.url,
            headers: {},
            body: {},
            read: async (response, context) => {
              for await (const event of readEvents(response, context)) {
                if (commitFirst) context.commit();
                seen.push(event.data);
              }
              throw providerError('PROVIDER_UNAVAILABLE', 'ended early', {
                provider: 'test',
                transient: true,
              });
            },
          }),
        );
        await s.close();
        return { error, requests: s.requests.length, seen };
      });
    const before = await attempt(false);
    expect(before.error.code).toBe(ERROR_CODES.PROVIDER_UNAVAILABLE);
    expect(before.requests).toBe(3);
    const after = await attempt(true);
    expect(after.error.code).toBe(ERROR_CODES.PROVIDER_UNAVAILABLE);
    expect(after.error.message).toMatch(/closed mid-response/);
    expect(after.requests).toBe(1);
    expect(after.seen).toEqual(['{"n":1}']);
  });

  it('rethrows errors of the read callback (an onDelta that throws) untouched, without retrying', async () => {
    server = await startMockServer((_req, res) => sendJson(res, 200, {}));
    const boom = new Error('consumer failed');
    await expect(
      client().post({
        url: server.url,
        headers: {},
        body: {},
        read: async () => {
          throw boom;
        },
      }),
    ).rejects.toBe(boom);
    expect(server.requests).toHaveLength(1);
  });

  it('validates its options', () => {
    expect(() => createHttpClient({ provider: 'p', retry: { maxAttempts: 0 } })).toThrow(/maxAttempts/);
    expect(() => createHttpClient({ provider: 'p', timeoutMs: -1 })).toThrow(/timeoutMs/);
  });

  it('redact() strips secrets from values', () => {
    expect(client().redact({ echo: `key=${KEY}` })).toEqual({ echo: 'key=[REDACTED]' });
  });
});
