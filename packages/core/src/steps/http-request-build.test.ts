/** http_request headers and bodies as the platform documents them, against a real loopback server. */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEngine } from '../run/engine.js';
import { draft } from '../test-support/workflows.js';

interface Seen {
  method: string;
  headers: IncomingMessage['headers'];
  body: string;
}

describe('http_request request building', () => {
  let server: Server;
  let base: string;
  let seen: Seen[] = [];
  beforeAll(async () => {
    server = createServer((req, res) => {
      let body = '';
      req.setEncoding('utf8');
      req.on('data', (c) => {
        body += c;
      });
      req.on('end', () => {
        seen.push({ method: req.method!, headers: req.headers, body });
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  async function send(step: Record<string, unknown>, input: Record<string, unknown> = {}) {
    seen = [];
    const run = await createEngine().run(
      draft([{ type: 'http_request', key: 'call', url: `${base}/x`, method: 'POST', ...step }]),
      { input },
    );
    return { run, request: seen[0] };
  }

  it('headers as "Name: value" lines (templated), blank lines ignored', async () => {
    const { run, request } = await send(
      { headers: 'Authorization: Bearer {{ input.token }}\r\n\nX-Trace:  abc: def \n' },
      { token: 't0k' },
    );
    expect(run.status).toBe('COMPLETED');
    expect(request!.headers.authorization).toBe('Bearer t0k');
    expect(request!.headers['x-trace']).toBe('abc: def');
  });

  it('headers as a JSON object written as a string', async () => {
    const { request } = await send({ headers: '{"X-One": "1"}' });
    expect(request!.headers['x-one']).toBe('1');
  });

  it('a malformed header line fails the step (not retried), naming the line', async () => {
    const { run, request } = await send({ headers: 'X-Ok: 1\nno colon here' });
    expect(request).toBeUndefined();
    expect(run.output.call!.error).toMatchObject({
      code: 'STEP_FAILED',
      details: { field: 'headers', line: 2 },
    });
    const bad = await send({ headers: { 'bad name': 'x' } });
    expect(bad.run.output.call!.error).toMatchObject({ details: { field: 'headers' } });
    expect(bad.run.output.call!.attempts).toBe(1);
  });

  it('a JSON string body is sent as is, typed application/json; other text as text/plain', async () => {
    const json = await send({ body: '{"a": {{ input.n }}}' }, { n: 2 });
    expect(json.request!.body).toBe('{"a": 2}');
    expect(json.request!.headers['content-type']).toBe('application/json');
    const plain = await send({ body: 'hello {{ input.who }}' }, { who: 'you' });
    expect(plain.request!.body).toBe('hello you');
    expect(plain.request!.headers['content-type']).toBe('text/plain;charset=UTF-8');
  });

  it('an object body is JSON; a content-type the document sets is kept', async () => {
    const obj = await send({ body: { a: [1, '{{ input.x }}'] } }, { x: 'y' });
    expect(JSON.parse(obj.request!.body)).toEqual({ a: [1, 'y'] });
    expect(obj.request!.headers['content-type']).toBe('application/json');
    const xml = await send({ headers: { 'Content-Type': 'application/xml' }, body: '<a/>' });
    expect(xml.request!.headers['content-type']).toBe('application/xml');
    expect(xml.request!.body).toBe('<a/>');
  });

  it('form bodies: urlencoded from an object or a JSON string, multipart from an object', async () => {
    const form = await send({
      headers: 'Content-Type: application/x-www-form-urlencoded',
      body: { grant_type: 'client_credentials', scope: ['a', 'b'], skip: null },
    });
    expect(form.request!.body).toBe('grant_type=client_credentials&scope=a&scope=b');
    const fromJson = await send({
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: '{"q": "a b"}',
    });
    expect(fromJson.request!.body).toBe('q=a+b');
    const multipart = await send({
      headers: { 'content-type': 'multipart/form-data' },
      body: { name: 'Ada', meta: { x: 1 } },
    });
    expect(multipart.request!.headers['content-type']).toMatch(/^multipart\/form-data; boundary=/);
    expect(multipart.request!.body).toContain('name="name"\r\n\r\nAda');
    expect(multipart.request!.body).toContain('name="meta"\r\n\r\n{"x":1}');
  });

  it('a GET body is not sent, and the step log says so', async () => {
    const { run, request } = await send({ method: 'GET', body: '{"a":1}' });
    expect(request!.method).toBe('GET');
    expect(request!.body).toBe('');
    expect(run.output.call!.logs[0]).toMatchObject({
      level: 'warn',
      message: expect.stringMatching(/GET request has no body/),
    });
  });
});
