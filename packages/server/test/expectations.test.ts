/** The expectation library over HTTP (`/tests/expectations`), and tests that reference it. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type TestServer } from './helpers.js';

let t: TestServer;
let wid: string;
const base = () => `/apps/c/workflows/${wid}/tests/expectations`;

beforeAll(async () => {
  t = await startServer();
  wid = (
    await t.call('POST', '/apps/c/workflows', {
      body: {
        name: 'Double',
        draft: { steps: [{ type: 'code', key: 'double', code: '{ "result": input.n * 2 }' }] },
      },
    })
  ).body.id;
});
afterAll(() => t.close());

describe('the expectation library', () => {
  it('create, get, list (search, page/take and headers), update, delete: the platform’s shapes', async () => {
    const created = await t.call('POST', base(), { body: { name: 'Is 42', script: 'result = 42' } });
    expect(created.status).toBe(200);
    expect(Object.keys(created.body).sort()).toEqual(['created_at', 'id', 'name', 'script', 'updated_at']);
    expect(created.body).toMatchObject({ name: 'Is 42', script: 'result = 42' });
    // ISO 8601 in UTC with milliseconds, as every other date of the API.
    expect(created.body.created_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    const second = await t.call('POST', base(), {
      body: { name: 'completes', script: 'status = "COMPLETED"' },
    });
    const third = await t.call('POST', base(), { body: { name: 'Is positive', script: 'result > 0' } });
    const one = await t.call('GET', `${base()}/${created.body.id}`);
    expect(one.body).toEqual(created.body);

    const all = await t.call('GET', base());
    expect(all.body.map((e: { id: string }) => e.id)).toEqual([
      third.body.id,
      second.body.id,
      created.body.id,
    ]);
    expect(all.headers.get('pagination-count')).toBe('3');
    const page2 = await t.call('GET', `${base()}?page=2&take=2`);
    expect(page2.body.map((e: { id: string }) => e.id)).toEqual([created.body.id]);
    expect([page2.headers.get('pagination-page'), page2.headers.get('pagination-take')]).toEqual(['2', '2']);
    expect(page2.headers.get('pagination-count')).toBe('3');
    const search = await t.call('GET', `${base()}?search=is%20`);
    expect(search.body.map((e: { id: string }) => e.id)).toEqual([third.body.id, created.body.id]);
    expect(search.headers.get('pagination-count')).toBe('2');

    const patched = await t.call('PATCH', `${base()}/${created.body.id}`, {
      body: { script: 'result = 2 * 21' },
    });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({ id: created.body.id, name: 'Is 42', script: 'result = 2 * 21' });
    const deleted = await t.call('DELETE', `${base()}/${third.body.id}`);
    expect(deleted.status).toBe(200);
    expect(deleted.body.id).toBe(third.body.id);
    expect((await t.call('GET', `${base()}/${third.body.id}`)).status).toBe(404);
    expect((await t.call('DELETE', `${base()}/${third.body.id}`)).status).toBe(404);
  });

  it('400 with every problem of the body; a script that does not parse is 400 with where', async () => {
    const bad = await t.call('POST', base(), { body: { name: 'x'.repeat(257), extra: 1 } });
    expect(bad.status).toBe(400);
    const paths = bad.body.errors.map((e: { path: string[] }) => e.path.join('.'));
    expect(paths).toEqual(expect.arrayContaining(['body.name', 'body.script']));
    expect(bad.body.errors.length).toBeGreaterThanOrEqual(3);
    const syntax = await t.call('POST', base(), { body: { name: 'broken', script: 'result = (' } });
    expect(syntax.status).toBe(400);
    expect(syntax.body.code).toBe('INVALID_ARGUMENT');
    expect(syntax.body.message).toMatch(/does not parse at position \d+/);
    expect(syntax.body.errors[0].path).toEqual(['script']);
    const e = (await t.call('POST', base(), { body: { name: 'ok', script: 'true' } })).body;
    const patch = await t.call('PATCH', `${base()}/${e.id}`, { body: { scirpt: 'true' } });
    expect(patch.status).toBe(400);
    expect((await t.call('GET', `${base()}?take=0`)).status).toBe(400);
    expect((await t.call('GET', `${base()}?unknown=1`)).status).toBe(400);
    await t.call('DELETE', `${base()}/${e.id}`);
  });

  it('404 for a missing workflow, and for an expectation of another workflow of the same app', async () => {
    const other = (
      await t.call('POST', '/apps/c/workflows', { body: { name: 'Other', draft: { steps: [] } } })
    ).body.id;
    const e = (
      await t.call('POST', `/apps/c/workflows/${other}/tests/expectations`, {
        body: { name: 'elsewhere', script: 'true' },
      })
    ).body;
    expect((await t.call('GET', '/apps/c/workflows/nope/tests/expectations')).status).toBe(404);
    for (const method of ['GET', 'DELETE'] as const) {
      const answer = await t.call(method, `${base()}/${e.id}`);
      expect(answer.status).toBe(404);
      expect(answer.body.code).toBe('NOT_FOUND');
    }
    expect((await t.call('PATCH', `${base()}/${e.id}`, { body: { name: 'moved' } })).status).toBe(404);
    // Another app's expectation under one's own workflow: worded exactly like an id that exists nowhere.
    const bw = (
      await t.call('POST', '/apps/c/workflows', { key: t.keys.B, body: { name: 'B', draft: { steps: [] } } })
    ).body.id;
    const theirs = (
      await t.call('POST', `/apps/c/workflows/${bw}/tests/expectations`, {
        key: t.keys.B,
        body: { name: 'theirs', script: 'true' },
      })
    ).body.id;
    const foreign = await t.call('GET', `${base()}/${theirs}`);
    const missing = await t.call('GET', `${base()}/missing-id`);
    expect(foreign.status).toBe(404);
    expect(JSON.stringify(foreign.body).replaceAll(theirs, 'X')).toBe(
      JSON.stringify(missing.body).replaceAll('missing-id', 'X'),
    );
    // Nor can a test of app A reference it.
    const test = await t.call('POST', `/apps/c/workflows/${wid}/tests`, {
      body: { name: 'x', expectations: [{ key: 'k', expectation_id: theirs }] },
    });
    expect(test.status).toBe(400);
  });
});

describe('tests that reference the library', () => {
  it('run the library script; items show expectation_id, name, script, status and output', async () => {
    const lib = (await t.call('POST', base(), { body: { name: 'Doubles', script: 'result = input.n * 2' } }))
      .body;
    const created = await t.call('POST', `/apps/c/workflows/${wid}/tests`, {
      body: {
        name: 'references the library',
        input: { n: 21 },
        expectations: [
          { key: 'lib', name: 'from the library', expectation_id: lib.id },
          { key: 'own', name: 'own script', script: 'result' },
        ],
      },
    });
    expect(created.status).toBe(200);
    expect(created.body.expectations[0]).toMatchObject({
      key: 'lib',
      expectation_id: lib.id,
      script: 'result = input.n * 2',
      status: null,
    });
    const ran = await t.call('POST', `/apps/c/workflows/${wid}/tests/runs`, {
      body: {},
    });
    expect(ran.status).toBe(200);
    const test = ran.body.tests.find((x: { id: string }) => x.id === created.body.id);
    expect(test.expectations).toEqual([
      {
        key: 'lib',
        name: 'from the library',
        script: 'result = input.n * 2',
        expectation_id: lib.id,
        status: 'PASSED',
        output: true,
        message: null,
      },
      {
        key: 'own',
        name: 'own script',
        script: 'result',
        status: 'FAILED',
        output: 42,
        message: expect.stringMatching(/true or false, got number/),
      },
    ]);
    // Deleted from the library: the test keeps the reference, its next run fails it with code NOT_FOUND.
    await t.call('DELETE', `${base()}/${lib.id}`);
    const after = await t.call('POST', `/apps/c/workflows/${wid}/tests/${created.body.id}/runs`, {
      body: {},
    });
    expect(after.body.expectations[0]).toMatchObject({
      expectation_id: lib.id,
      status: 'FAILED',
      code: 'NOT_FOUND',
    });
    await t.call('DELETE', `/apps/c/workflows/${wid}/tests/${created.body.id}`);
  });

  it('an unknown expectation_id, or an item with neither script nor expectation_id, is 400 with the path', async () => {
    const unknown = await t.call('POST', `/apps/c/workflows/${wid}/tests`, {
      body: { name: 'x', expectations: [{ key: 'k', expectation_id: 'nope' }] },
    });
    expect(unknown.status).toBe(400);
    expect(unknown.body.errors[0].path).toEqual(['expectations[0]', 'expectation_id']);
    const neither = await t.call('POST', `/apps/c/workflows/${wid}/tests`, {
      body: { name: 'x', expectations: [{ key: 'k' }] },
    });
    expect(neither.status).toBe(400);
    expect(neither.body.errors[0].path).toEqual(['expectations[0]', 'script']);
  });
});
