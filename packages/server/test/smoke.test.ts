import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type TestServer } from './helpers.js';

let t: TestServer;
beforeAll(async () => {
  t = await startServer();
});
afterAll(() => t.close());

describe('smoke', () => {
  it('creates, publishes and runs a workflow', async () => {
    const created = await t.call('POST', '/apps/app_a/workflows', {
      body: {
        name: 'Greeter',
        draft: { steps: [{ type: 'code', key: 'greet', code: '"Hello, " & input.name' }] },
      },
    });
    expect(created.status, JSON.stringify(created.body)).toBe(200);
    const id = created.body.id;
    const v = await t.call('POST', `/apps/c/workflows/${id}/versions`, { body: { notes: 'first' } });
    expect(v.status, JSON.stringify(v.body)).toBe(200);
    const run = await t.call('POST', `/apps/c/workflows/${id}/runs`, { body: { input: { name: 'Ada' } } });
    expect(run.status, JSON.stringify(run.body)).toBe(200);
    expect(run.body.result).toBe('Hello, Ada');
    const list = await t.call('GET', `/apps/c/workflows/${id}/runs`);
    expect(list.status, JSON.stringify(list.body)).toBe(200);
    expect(list.headers.get('pagination-count')).toBe('1');
    const wfs = await t.call('GET', `/apps/c/workflows`);
    expect(wfs.status, JSON.stringify(wfs.body)).toBe(200);
    const none = await t.call('GET', `/apps/c/workflows`, { key: null });
    expect(none.status).toBe(401);
    const spec = await t.call('GET', '/openapi.json');
    expect(spec.status).toBe(200);
  });
});
