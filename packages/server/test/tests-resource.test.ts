/** The Tests resource and variables over HTTP. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGates } from './fixtures.js';
import { startServer, type TestServer } from './helpers.js';

const gates = createGates();
let t: TestServer;
let wid: string;
const doubler = async (): Promise<string> =>
  (
    await t.call('POST', '/apps/c/workflows', {
      body: {
        name: 'Double',
        draft: { steps: [{ type: 'code', key: 'double', code: '{ "result": input.n * 2 }' }] },
      },
    })
  ).body.id;
beforeAll(async () => {
  t = await startServer({ weft: { steps: { hold: gates.hold } } });
  wid = await doubler();
});
afterAll(() => t.close());

describe('tests', () => {
  it('create (DRAFT), run all, read with its run, stats, re-evaluate expectations, update, delete', async () => {
    // A workflow of its own: it counts the workflow's tests, which the other tests here add to (the
    // shuffled order of \`--sequence.shuffle\` ran one of them first).
    const wid = await doubler();
    const created = await t.call('POST', `/apps/c/workflows/${wid}/tests`, {
      body: {
        name: 'doubles 21',
        input: { n: 21 },
        step_key: 'double',
        expectations: [{ key: 'answer', name: 'is 42', script: 'result = 42' }],
      },
    });
    expect(created.status).toBe(200);
    expect(created.body).toMatchObject({ status: 'DRAFT', run: null, expectations_passing_count: 0 });
    const other = await t.call('POST', `/apps/c/workflows/${wid}/tests`, { body: { name: 'completes' } });
    const report = await t.call('POST', `/apps/c/workflows/${wid}/tests/runs`, { body: {} });
    expect(report.status).toBe(200);
    expect(report.body.tests.map((x: { status: string }) => x.status)).toEqual(['PASSED', 'PASSED']);
    expect(report.body.stats).toEqual({
      total_count: 2,
      running_count: 0,
      cancelled_count: 0,
      passing_count: 2,
      failing_count: 0,
      expectations_failing_count: 0,
      expectations_passing_count: 1,
    });
    const one = await t.call('GET', `/apps/c/workflows/${wid}/tests/${created.body.id}`);
    expect(one.body.run).toMatchObject({ origin: 'TEST', result: 42 });
    expect(one.body.expectations[0]).toMatchObject({ key: 'answer', status: 'PASSED', message: null });
    const list = await t.call('GET', `/apps/c/workflows/${wid}/tests?status=PASSED&search=doubles`);
    expect(list.body.map((x: { id: string }) => x.id)).toEqual([created.body.id]);
    const updated = await t.call('PATCH', `/apps/c/workflows/${wid}/tests/${created.body.id}`, {
      body: { expectations: [{ key: 'answer', name: 'is 43', script: 'result = 43' }] },
    });
    expect(updated.status).toBe(200);
    const again = await t.call('POST', `/apps/c/workflows/${wid}/tests/${created.body.id}/runs`, {
      body: { execute_expectations_only: true },
    });
    expect(again.body.status).toBe('FAILED');
    expect(again.body.run.id).toBe(one.body.run.id);
    const stats = await t.call('GET', `/apps/c/workflows/${wid}/tests/stats`);
    expect(stats.body).toMatchObject({ total_count: 2, failing_count: 1, expectations_failing_count: 1 });
    const failedOnly = await t.call('POST', `/apps/c/workflows/${wid}/tests/runs`, {
      body: { execute_failed_only: true },
    });
    expect(failedOnly.body.tests.map((x: { id: string }) => x.id)).toEqual([created.body.id]);
    const deleted = await t.call('DELETE', `/apps/c/workflows/${wid}/tests/${other.body.id}`);
    expect(deleted.body.id).toBe(other.body.id);
    expect((await t.call('GET', `/apps/c/workflows/${wid}/tests/${other.body.id}`)).status).toBe(404);
  });

  it('bad scripts and unknown tests are 400 and 404; a test of another workflow is 404', async () => {
    const bad = await t.call('POST', `/apps/c/workflows/${wid}/tests`, {
      body: { name: 'x', expectations: [{ key: 'k', script: '(' }] },
    });
    expect(bad.status).toBe(400);
    expect(bad.body.code).toBe('INVALID_ARGUMENT');
    const w2 = (await t.call('POST', '/apps/c/workflows', { body: { name: 'Other' } })).body.id;
    const test = (await t.call('POST', `/apps/c/workflows/${wid}/tests`, { body: { name: 'mine' } })).body.id;
    expect((await t.call('GET', `/apps/c/workflows/${w2}/tests/${test}`)).status).toBe(404);
    expect((await t.call('GET', `/apps/c/workflows/${wid}/tests/none`)).status).toBe(404);
  });

  it('execute_async answers at once; cancel stops the test runs in progress', async () => {
    const w = (
      await t.call('POST', '/apps/c/workflows', {
        body: { name: 'Slow', draft: { steps: [{ type: 'hold', key: 'h', input: { gate: 'tests' } }] } },
      })
    ).body.id;
    const test = (await t.call('POST', `/apps/c/workflows/${w}/tests`, { body: { name: 'slow' } })).body;
    const started = await t.call('POST', `/apps/c/workflows/${w}/tests/${test.id}/runs`, {
      body: { execute_async: true },
    });
    expect(started.status).toBe(200);
    expect(started.body.status).toBe('RUNNING');
    // The test's run starts in the background: cancel once it is in progress, not after a fixed time.
    await gates.reached('tests');
    const cancelled = await t.call('POST', `/apps/c/workflows/${w}/tests/cancel`);
    expect(cancelled.body.cancelled).toHaveLength(1);
    const ended = await t.weft.app('app_a').tests.wait(test.id);
    expect(ended.status).toBe('CANCELLED');
    const after = await t.call('GET', `/apps/c/workflows/${w}/tests/${test.id}`);
    expect(after.body.status).toBe('CANCELLED');
    expect(after.body.run.status).toBe('CANCELLED');
    const stats = await t.call('GET', `/apps/c/workflows/${w}/tests/stats`);
    expect(stats.body.cancelled_count).toBe(1);
  });
});

describe('variables', () => {
  it('create, list (secrets without value), update many, rename, delete; secrets never answered', async () => {
    const secret = 'sk-live-do-not-leak';
    expect(
      (await t.call('POST', '/apps/c/variables', { body: { key: 'greeting', value: 'Hello' } })).status,
    ).toBe(200);
    const created = await t.call('POST', '/apps/c/variables', {
      body: { key: 'api_key', value: secret, secret: true },
    });
    expect(created.body).toMatchObject({ key: 'api_key', secret: true });
    expect(created.body).not.toHaveProperty('value');
    const dup = await t.call('POST', '/apps/c/variables', { body: { key: 'greeting', value: 'x' } });
    expect(dup.status).toBe(409);
    const list = await t.call('GET', '/apps/c/variables');
    expect(list.body.map((v: { key: string }) => v.key)).toEqual(['api_key', 'greeting']);
    expect(list.headers.get('pagination-count')).toBe('2');
    const many = await t.call('PATCH', '/apps/c/variables', {
      body: [
        { key: 'greeting', value: 'Hi' },
        { key: 'api_key', secret: true },
        { key: 'fresh', value: 1 },
      ],
    });
    expect(many.body.map((v: { key: string; value?: unknown }) => [v.key, v.value])).toEqual([
      ['api_key', undefined],
      ['fresh', 1],
      ['greeting', 'Hi'],
    ]);
    const missing = await t.call('PATCH', '/apps/c/variables', { body: [{ key: 'nothing' }] });
    expect(missing.status).toBe(400);
    const renamed = await t.call('PATCH', '/apps/c/variables/api_key', { body: { key: 'openai_key' } });
    expect(renamed.body).toMatchObject({ key: 'openai_key', secret: true });
    // The secret moved with its value: a run sees it, redacted.
    const w = (
      await t.call('POST', '/apps/c/workflows', {
        body: {
          name: 'Vars',
          draft: { steps: [{ type: 'code', key: 'c', code: '$vars.greeting & " " & $vars.openai_key' }] },
        },
      })
    ).body.id;
    const run = await t.call('POST', `/apps/c/workflows/${w}/runs`, {
      body: { workflow_version_id: 'draft' },
    });
    expect(run.body.result).toBe('Hi [secret]');
    const deleted = await t.call('DELETE', '/apps/c/variables/openai_key');
    expect(deleted.body).not.toHaveProperty('value');
    expect((await t.call('DELETE', '/apps/c/variables/openai_key')).status).toBe(404);
    const bad = await t.call('POST', '/apps/c/variables', { body: { key: '1bad', value: 'x' } });
    expect(bad.status).toBe(400);
    expect(bad.body.errors[0].path).toEqual(['body', 'key']);
  });

  it('no answer of any route contains a secret value', async () => {
    // In app B: the test above lists app A's variables, whatever the order the tests run in.
    const key = t.keys.B;
    const secret = 'sk-very-secret-value-42';
    await t.call('POST', '/apps/c/variables', { key, body: { key: 'token', value: secret, secret: true } });
    const w = (
      await t.call('POST', '/apps/c/workflows', {
        key,
        body: { name: 'Leak', draft: { steps: [{ type: 'code', key: 'c', code: '$vars.token' }] } },
      })
    ).body.id;
    const bodies = [
      await t.call('GET', '/apps/c/variables', { key }),
      await t.call('PATCH', '/apps/c/variables', { key, body: [{ key: 'token', secret: true }] }),
      await t.call('PATCH', '/apps/c/variables/token', { key, body: {} }),
      await t.call('POST', `/apps/c/workflows/${w}/runs`, { key, body: { workflow_version_id: 'draft' } }),
      await t.call('GET', `/apps/c/workflows/${w}/runs`, { key }),
    ];
    for (const answer of bodies) {
      expect(answer.status).toBe(200);
      expect(JSON.stringify(answer.body)).not.toContain(secret);
    }
  });
});
