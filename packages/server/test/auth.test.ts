/** API keys, app scoping, rate limits, body limits and hostile requests. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiKey, hashApiKey } from '../src/keys.js';
import { greeter } from './fixtures.js';
import { startServer, type TestServer } from './helpers.js';

let t: TestServer;
beforeAll(async () => {
  t = await startServer({ server: { bodyLimit: 4096, rateLimit: { max: 1000, timeWindowMs: 60_000 } } });
});
afterAll(() => t.close());

describe('API keys', () => {
  it('401 without a key, with a malformed header, or with a key the server does not know', async () => {
    for (const headers of <Array<Record<string, string>>>[
      {},
      { authorization: 'Basic abc' },
      { authorization: 'Bearer' },
      { authorization: 'Bearer a b' },
      { authorization: `Bearer ${'x'.repeat(5000)}` },
      { authorization: 'Bearer weft_unknown' },
    ]) {
      const answer = await t.call('GET', '/apps/app_a/workflows', { key: null, headers });
      expect(answer.status, JSON.stringify(headers).slice(0, 60)).toBe(401);
      expect(answer.body.code).toBe('UNAUTHORIZED');
      expect(answer.body.status).toBe(401);
    }
  });

  it('keys are stored hashed: the store holds the SHA-256, never the key', async () => {
    const stored = await t.weft.store.listApiKeys('app_a');
    expect(stored).toHaveLength(1);
    expect(stored[0]!.hash).toBe(hashApiKey(t.keys.A));
    expect(JSON.stringify(stored)).not.toContain(t.keys.A);
    expect(t.keys.A).toMatch(/^weft_[A-Za-z0-9_-]{43}$/);
  });

  it('the key’s app, or "c", is the app; any other app is 404 like a missing resource', async () => {
    expect((await t.call('GET', '/apps/app_a/workflows')).status).toBe(200);
    expect((await t.call('GET', '/apps/c/workflows')).status).toBe(200);
    const other = await t.call('GET', '/apps/app_b/workflows');
    const unknown = await t.call('GET', '/apps/no_such_app/workflows');
    expect(other.status).toBe(404);
    expect(unknown.status).toBe(404);
    expect(other.body.message.replace('app_b', 'X')).toBe(unknown.body.message.replace('no_such_app', 'X'));
  });

  it('a deleted key stops working at once', async () => {
    const { key, record } = await createApiKey(t.weft.store, 'app_a');
    expect((await t.call('GET', '/apps/c/workflows', { key })).status).toBe(200);
    await t.weft.store.deleteApiKey(record.id);
    expect((await t.call('GET', '/apps/c/workflows', { key })).status).toBe(401);
  });
});

describe('limits', () => {
  it('rate-limits per key with 429 and retry-after; another key is not affected', async () => {
    const limited = await startServer({ server: { rateLimit: { max: 3, timeWindowMs: 60_000 } } });
    try {
      const statuses: number[] = [];
      for (let i = 0; i < 5; i++) statuses.push((await limited.call('GET', '/apps/c/workflows')).status);
      expect(statuses).toEqual([200, 200, 200, 429, 429]);
      const answer = await limited.call('GET', '/apps/c/workflows');
      expect(answer.body).toMatchObject({ status: 429, code: 'RATE_LIMITED' });
      expect(Number(answer.headers.get('retry-after'))).toBeGreaterThan(0);
      expect((await limited.call('GET', '/apps/c/workflows', { key: limited.keys.B })).status).toBe(200);
    } finally {
      await limited.close();
    }
  });

  it('a body over bodyLimit is 413 LIMIT', async () => {
    const answer = await t.call('POST', '/apps/c/workflows', { body: { name: 'x'.repeat(10_000) } });
    expect(answer.status).toBe(413);
    expect(answer.body.code).toBe('LIMIT');
  });

  it('malformed JSON is 400; a non-JSON body is 415; prototype keys are refused', async () => {
    const bad = await t.call('POST', '/apps/c/workflows', {
      raw: '{"name": ',
      headers: { 'content-type': 'application/json' },
    });
    expect(bad.status).toBe(400);
    expect(bad.body.code).toBe('INVALID_ARGUMENT');
    const text = await t.call('POST', '/apps/c/workflows', {
      raw: 'name=x',
      headers: { 'content-type': 'text/plain' },
    });
    expect(text.status).toBe(415);
    const proto = await t.call('POST', '/apps/c/workflows', {
      raw: '{"name":"p","__proto__":{"polluted":true}}',
      headers: { 'content-type': 'application/json' },
    });
    expect(proto.status).toBe(400);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('every problem of a body is listed with its path', async () => {
    const answer = await t.call('POST', '/apps/c/workflows', {
      body: { description: 5, discoverable: 'yes', draft: { steps: 'x' }, color: 'red' },
    });
    expect(answer.status).toBe(400);
    const paths = answer.body.errors.map((e: { path: string[] }) => e.path.join('.')).sort();
    expect(paths).toEqual(
      expect.arrayContaining([
        'body.color',
        'body.description',
        'body.discoverable',
        'body.draft.steps',
        'body.name',
      ]),
    );
    for (const e of answer.body.errors) expect(e).toMatchObject({ code: 'INVALID_ARGUMENT' });
  });

  it('an unknown query parameter is 400 on every route, verbose is accepted where the SDK sends it', async () => {
    const wf = await t.call('POST', '/apps/c/workflows', { body: { name: 'q', draft: greeter } });
    expect((await t.call('GET', `/apps/c/workflows/${wf.body.id}?x=1`)).status).toBe(400);
    expect((await t.call('GET', '/apps/c/variables?x=1')).status).toBe(400);
    const run = await t.call('POST', `/apps/c/workflows/${wf.body.id}/runs?verbose=all`, {
      body: { workflow_version_id: 'draft', input: { name: 'v' } },
    });
    expect(run.status).toBe(200);
  });

  it('unknown routes and methods are 404 in the error shape', async () => {
    const answer = await t.call('DELETE', '/apps/c/workflows');
    expect(answer.status).toBe(404);
    expect(answer.body).toMatchObject({ status: 404, code: 'NOT_FOUND' });
    expect((await t.call('GET', '/nope', { key: null })).status).toBe(404);
  });

  it('health and the OpenAPI document need no key', async () => {
    expect((await t.call('GET', '/health', { key: null })).body).toEqual({ status: 'ok' });
    expect((await t.call('GET', '/openapi.json', { key: null })).status).toBe(200);
  });
});

describe('hostile values are answered, never crash the server', () => {
  it('odd ids, huge numbers, deep documents', async () => {
    const wf = await t.call('POST', '/apps/c/workflows', { body: { name: 'g', draft: greeter } });
    for (const path of [
      '/apps/c/workflows/%00',
      '/apps/c/workflows/..%2F..%2Fetc',
      `/apps/c/workflows/${wf.body.id}/versions/99999999999999999999`,
      `/apps/c/workflows/${wf.body.id}/runs/${'r'.repeat(300)}`,
      `/apps/c/workflows/${wf.body.id}/runs?page=1e9`,
    ]) {
      const answer = await t.call('GET', path);
      expect([400, 404, 414], path).toContain(answer.status);
      expect(typeof answer.body.message, path).toBe('string');
    }
    let deep: unknown = 'x';
    for (let i = 0; i < 300; i++) deep = { a: deep };
    const answer = await t.call('PUT', `/apps/c/workflows/${wf.body.id}/draft`, {
      body: { steps: [{ type: 'code', key: 'c', code: '1', extra: deep }] },
    });
    expect([200, 400, 413]).toContain(answer.status);
    expect((await t.call('GET', '/health', { key: null })).status).toBe(200);
  });
});
