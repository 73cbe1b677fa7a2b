import { afterEach, describe, expect, it } from 'vitest';
import { type MockServer, sendJson, startMockServer, startSse } from './mock-server.js';

let server: MockServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

describe('startMockServer', () => {
  it('listens on 127.0.0.1 and records requests before the handler answers', async () => {
    server = await startMockServer((recorded, res, _req, index) =>
      sendJson(res, 201, { echo: recorded.json, index }, { 'x-test': '1' }),
    );
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const response = await fetch(`${server.url}/a?b=c`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-key': 'k' },
      body: JSON.stringify({ n: 1 }),
    });
    expect(response.status).toBe(201);
    expect(response.headers.get('x-test')).toBe('1');
    expect(await response.json()).toEqual({ echo: { n: 1 }, index: 0 });
    expect(server.requests[0]).toMatchObject({
      method: 'POST',
      path: '/a?b=c',
      body: '{"n":1}',
      json: { n: 1 },
    });
    expect(server.requests[0]!.headers['x-key']).toBe('k');
  });

  it('writes SSE frames and answers 500 when the handler throws', async () => {
    server = await startMockServer((_r, res, _req, index) => {
      if (index === 1) throw new Error('handler bug');
      const sse = startSse(res);
      sse.send({ a: 1 }, 'named');
      sse.send('[DONE]');
      sse.end();
    });
    const text = await (await fetch(server.url, { method: 'POST', body: 'x' })).text();
    expect(text).toBe('event: named\ndata: {"a":1}\n\ndata: [DONE]\n\n');
    expect(server.requests[0]!.json).toBeUndefined();
    const failed = await fetch(server.url, { method: 'POST' });
    expect(failed.status).toBe(500);
    expect(await failed.text()).toContain('handler bug');
  });
});
