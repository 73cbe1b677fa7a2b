/** Run a Workflow, Get Workflow Runs, Get a Workflow Run, Replay, Cancel, Retention — over real HTTP. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGates, differencesFromExample, engineOptions, greeter, seedRunExample } from './fixtures.js';
import { startServer, type TestServer } from './helpers.js';

const gates = createGates();
let t: TestServer;
let greeterId: string;
let holdId: string;

beforeAll(async () => {
  t = await startServer({
    weft: engineOptions({
      steps: { wait_for_cancel: engineOptions().steps!.wait_for_cancel!, hold: gates.hold },
    }),
  });
  const created = await t.call('POST', '/apps/app_a/workflows', {
    body: { name: 'Greeter', draft: greeter },
  });
  greeterId = created.body.id;
  await t.call('POST', `/apps/app_a/workflows/${greeterId}/versions`, { body: { notes: 'v1' } });
  const hold = await t.call('POST', '/apps/app_a/workflows', {
    body: {
      name: 'Hold',
      draft: {
        steps: [
          { type: 'hold', key: 'first', input: { gate: '{{ input.gate }}' }, destinations: ['second'] },
          { type: 'code', key: 'second', code: '"done"' },
        ],
      },
    },
  });
  holdId = hold.body.id;
});
afterAll(() => t.close());

describe('Run a Workflow', () => {
  it('runs the latest version and answers the ended run in the seed’s shape', async () => {
    const run = await t.call('POST', `/apps/app_a/workflows/${greeterId}/runs`, {
      body: { input: { name: 'Ada' } },
    });
    expect(run.status).toBe(200);
    expect(run.body).toMatchObject({
      status: 'COMPLETED',
      result: 'Hello, Ada',
      app_id: 'app_a',
      workflow_app_id: 'app_a',
      workflow_id: greeterId,
      version: 1,
      error: null,
      error_code: null,
      origin: 'WORKFLOW',
    });
    expect(differencesFromExample(seedRunExample(), run.body)).toEqual([]);
    const step = run.body.output.greet;
    expect(step.status).toBe('COMPLETED');
    expect(typeof step.start).toBe('number');
    expect(typeof step.end).toBe('number');
    expect(step.end).toBeGreaterThanOrEqual(step.start);
  });

  it('runs the draft, a version number, or a version id; the SDK’s body without input', async () => {
    const draft = await t.call('POST', `/apps/c/workflows/${greeterId}/runs`, {
      body: { workflow_version_id: 'draft', input: { name: 'D' } },
    });
    expect(draft.body.workflow_version_draft).not.toBeNull();
    expect(draft.body.workflow_version).toBeNull();
    const v1 = await t.call('POST', `/apps/c/workflows/${greeterId}/runs`, {
      body: { workflow_version_id: 1, input: { name: 'N' } },
    });
    expect(v1.body.version).toBe(1);
    const byId = await t.call('POST', `/apps/c/workflows/${greeterId}/runs`, {
      body: { workflow_version_id: v1.body.workflow_version.id, input: { name: 'I' } },
    });
    expect(byId.body.result).toBe('Hello, I');
    const bodiless = await t.call('POST', `/apps/c/workflows/${holdId}/runs`, {
      body: undefined,
      headers: { 'content-type': 'application/json' },
    });
    // The hold workflow has never been published: 404 with the reason, not a body error.
    expect(bodiless.status).toBe(404);
    expect(bodiless.body.message).toMatch(/no published version/);
  });

  it('a bad input is 400 with every problem, under body.input, and starts nothing', async () => {
    const before = (await t.call('GET', `/apps/c/workflows/${greeterId}/runs`)).headers.get(
      'pagination-count',
    );
    const bad = await t.call('POST', `/apps/c/workflows/${greeterId}/runs`, {
      body: { input: { name: 5, x: 1 } },
    });
    expect(bad.status).toBe(400);
    expect(bad.body.code).toBe('INVALID_INPUT');
    expect(bad.body.errors.map((e: { path: string[] }) => e.path)).toContainEqual(['body', 'input', 'name']);
    const after = (await t.call('GET', `/apps/c/workflows/${greeterId}/runs`)).headers.get(
      'pagination-count',
    );
    expect(after).toBe(before);
  });

  it('a malformed body is 400 listing every field, not only the first', async () => {
    const bad = await t.call('POST', `/apps/c/workflows/${greeterId}/runs`, {
      body: { input: 'x', background: 'yes', extra: 1 },
    });
    expect(bad.status).toBe(400);
    expect(bad.body.code).toBe('INVALID_ARGUMENT');
    const paths = bad.body.errors.map((e: { path: string[] }) => e.path.join('.'));
    expect(paths).toEqual(expect.arrayContaining(['body.input', 'body.background', 'body.extra']));
  });

  it('background: true answers at once with the RUNNING run; GET shows it end', async () => {
    const run = await t.call('POST', `/apps/c/workflows/${holdId}/runs`, {
      body: { workflow_version_id: 'draft', background: true, input: { gate: 'bg' } },
    });
    expect(run.status).toBe(200);
    expect(run.body.status).toBe('RUNNING');
    // Stored step records are written as steps settle: a step still running reads PENDING.
    expect(run.body.output.first.status).toBe('PENDING');
    gates.open('bg');
    await t.weft.app('app_a').runs.wait(run.body.id);
    const got = await t.call('GET', `/apps/c/workflows/${holdId}/runs/${run.body.id}`);
    expect(got.body.status).toBe('COMPLETED');
    expect(got.body.result).toBe('done');
  });

  it('a foreground run answers after runWaitMs with the run as it stands', async () => {
    const short = await startServer({
      weft: { steps: { hold: gates.hold } },
      server: { runWaitMs: 50 },
    });
    try {
      const wf = await short.call('POST', '/apps/app_a/workflows', {
        body: { name: 'h', draft: { steps: [{ type: 'hold', key: 'h', input: { gate: 'slow' } }] } },
      });
      const run = await short.call('POST', `/apps/c/workflows/${wf.body.id}/runs`, {
        body: { workflow_version_id: 'draft' },
      });
      expect(run.status).toBe(200);
      expect(run.body.status).toBe('RUNNING');
      expect(run.headers.get('x-weft-run-wait')).toBe('timeout');
      gates.open('slow');
      const ended = await short.weft.app('app_a').runs.wait(run.body.id);
      expect(ended.status).toBe('COMPLETED');
    } finally {
      await short.close();
    }
  });

  it('an unknown workflow is 404; a bad version reference is 404 naming it', async () => {
    const missing = await t.call('POST', '/apps/c/workflows/nope/runs', { body: {} });
    expect(missing.status).toBe(404);
    expect(missing.body).toMatchObject({ status: 404, code: 'NOT_FOUND' });
    const v = await t.call('POST', `/apps/c/workflows/${greeterId}/runs`, {
      body: { workflow_version_id: 99 },
    });
    expect(v.status).toBe(404);
  });
});

describe('Get Workflow Runs', () => {
  it('pages with page/take, counts every page, filters by status and origin', async () => {
    const wf = await t.call('POST', '/apps/app_a/workflows', { body: { name: 'Pager', draft: greeter } });
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      const run = await t.call('POST', `/apps/c/workflows/${wf.body.id}/runs`, {
        body: { workflow_version_id: 'draft', input: { name: `n${i}` } },
      });
      ids.push(run.body.id);
    }
    const page2 = await t.call('GET', `/apps/c/workflows/${wf.body.id}/runs?page=2&take=2`);
    expect(page2.status).toBe(200);
    expect(Array.isArray(page2.body)).toBe(true);
    expect(page2.body.map((r: { id: string }) => r.id)).toEqual([ids[2], ids[1]]);
    expect(page2.headers.get('pagination-page')).toBe('2');
    expect(page2.headers.get('pagination-take')).toBe('2');
    expect(page2.headers.get('pagination-count')).toBe('5');
    const page3 = await t.call('GET', `/apps/c/workflows/${wf.body.id}/runs?page=3&take=2`);
    expect(page3.body.map((r: { id: string }) => r.id)).toEqual([ids[0]]);
    const past = await t.call('GET', `/apps/c/workflows/${wf.body.id}/runs?page=9&take=2`);
    expect(past.body).toEqual([]);
    expect(past.headers.get('pagination-count')).toBe('5');
    const failed = await t.call('GET', `/apps/c/workflows/${wf.body.id}/runs?status=FAILED`);
    expect(failed.body).toEqual([]);
    expect(failed.headers.get('pagination-count')).toBe('0');
    const all = await t.call(
      'GET',
      `/apps/c/workflows/${wf.body.id}/runs?status=ALL&origin=WORKFLOW&verbose=all`,
    );
    expect(all.body).toHaveLength(5);
  });

  it('refuses a bad page, take, status or an unknown query parameter with 400', async () => {
    for (const q of [
      'page=0',
      'take=101',
      'take=x',
      'status=DONE',
      'cursor=abc',
      'created_after=yesterday',
    ]) {
      const answer = await t.call('GET', `/apps/c/workflows/${greeterId}/runs?${q}`);
      expect(answer.status, q).toBe(400);
      expect(answer.body.code, q).toBe('INVALID_ARGUMENT');
    }
  });
});

describe('Get a Workflow Run', () => {
  it('is 404 for a run of another workflow, worded like a missing run', async () => {
    const run = await t.call('POST', `/apps/c/workflows/${greeterId}/runs`, {
      body: { input: { name: 'x' } },
    });
    const wrong = await t.call('GET', `/apps/c/workflows/${holdId}/runs/${run.body.id}`);
    const missing = await t.call('GET', `/apps/c/workflows/${holdId}/runs/nope`);
    expect(wrong.status).toBe(404);
    expect(wrong.body.message.replace(run.body.id, 'ID')).toBe(missing.body.message.replace('nope', 'ID'));
  });
});

describe('Cancel a Workflow Run', () => {
  it('cancels a running run; an ended run is 409 NOT_CANCELLABLE', async () => {
    const run = await t.call('POST', `/apps/c/workflows/${holdId}/runs`, {
      body: { workflow_version_id: 'draft', background: true, input: { gate: 'never' } },
    });
    const cancelled = await t.call('POST', `/apps/c/workflows/${holdId}/runs/${run.body.id}/cancel`);
    expect(cancelled.status).toBe(200);
    expect(cancelled.body.status).toBe('CANCELLED');
    // The cancel's reason, as the platform's `error` string, with Weft's code beside it.
    expect(cancelled.body).toMatchObject({ error: 'Cancelled over HTTP.', error_code: 'CANCELLED' });
    expect(cancelled.body.output.first.status).toBe('CANCELLED');
    expect(cancelled.body.output.second.status).toBe('SKIPPED');
    const again = await t.call('POST', `/apps/c/workflows/${holdId}/runs/${run.body.id}/cancel`, {
      raw: '',
      headers: { 'content-type': 'application/json' },
    });
    expect(again.status).toBe(409);
    expect(again.body.code).toBe('NOT_CANCELLABLE');
  });

  it('a live run whose row holds a cancel request (another process asked) answers error and error_code null', async () => {
    const run = await t.call('POST', `/apps/c/workflows/${holdId}/runs`, {
      body: { workflow_version_id: 'draft', background: true, input: { gate: 'never' } },
    });
    // As a canceller in another process writes it on the row before its notice.
    const request = { code: 'CANCELLED', message: 'Requested elsewhere.' };
    expect(
      await t.weft.store.updateRun(run.body.id, { error: request }, { status_in: ['RUNNING'] }),
    ).not.toBeNull();
    const got = await t.call('GET', `/apps/c/workflows/${holdId}/runs/${run.body.id}`);
    expect(got.body).toMatchObject({ status: 'RUNNING', error: null, error_code: null });
    const listed = await t.call('GET', `/apps/c/workflows/${holdId}/runs?status=RUNNING`);
    const mine = (listed.body as Array<{ id: string }>).filter((r) => r.id === run.body.id);
    expect(mine).toMatchObject([{ status: 'RUNNING', error: null, error_code: null }]);
    const cancelled = await t.call('POST', `/apps/c/workflows/${holdId}/runs/${run.body.id}/cancel`);
    expect(cancelled.body).toMatchObject({
      status: 'CANCELLED',
      error: 'Cancelled over HTTP.',
      error_code: 'CANCELLED',
    });
  });
});

describe('Replay a Workflow Run', () => {
  it('replays from stepKey (the platform’s field) keeping upstream records; both fields differing is 400', async () => {
    const wf = await t.call('POST', '/apps/app_a/workflows', {
      body: {
        name: 'Two',
        draft: {
          steps: [
            { type: 'code', key: 'a', code: '$random()', destinations: ['b'] },
            { type: 'code', key: 'b', code: 'a.output' },
          ],
        },
      },
    });
    const run = await t.call('POST', `/apps/c/workflows/${wf.body.id}/runs`, {
      body: { workflow_version_id: 'draft' },
    });
    const replay = await t.call('POST', `/apps/c/workflows/${wf.body.id}/runs/${run.body.id}/replay`, {
      body: { stepKey: 'b' },
    });
    expect(replay.status).toBe(200);
    expect(replay.body.replay_of).toBe(run.body.id);
    expect(replay.body.output.a.output).toBe(run.body.output.a.output);
    expect(replay.body.result).toBe(run.body.result);
    const conflict = await t.call('POST', `/apps/c/workflows/${wf.body.id}/runs/${run.body.id}/replay`, {
      body: { stepKey: 'a', from_step_key: 'b' },
    });
    expect(conflict.status).toBe(400);
    expect(conflict.body.errors[0].path).toEqual(['stepKey']);
    const unknown = await t.call('POST', `/apps/c/workflows/${wf.body.id}/runs/${run.body.id}/replay`, {
      body: { stepKey: 'zzz' },
    });
    expect(unknown.status).toBe(400);
    expect(unknown.body.message).toMatch(/from_step_key/);
  });
});

describe('Update Run Data Retention Configuration', () => {
  it('sets the retention and recomputes retention_due_at; a bad one is 400', async () => {
    const run = await t.call('POST', `/apps/c/workflows/${greeterId}/runs`, {
      body: { input: { name: 'r' } },
    });
    const updated = await t.call('PATCH', `/apps/c/workflows/${greeterId}/runs/${run.body.id}/retention`, {
      body: { retention: { max_age_in_seconds: 60 } },
    });
    expect(updated.status).toBe(200);
    expect(updated.body.retention).toEqual({ max_age_in_seconds: 60, preserve_on_failure: false });
    expect(Date.parse(updated.body.retention_due_at)).toBe(Date.parse(run.body.ended_at) + 60_000);
    const bad = await t.call('PATCH', `/apps/c/workflows/${greeterId}/runs/${run.body.id}/retention`, {
      body: { retention: -5 },
    });
    expect(bad.status).toBe(400);
    const missing = await t.call('PATCH', `/apps/c/workflows/${greeterId}/runs/${run.body.id}/retention`, {
      body: {},
    });
    expect(missing.status).toBe(400);
    expect(missing.body.errors[0].path).toEqual(['body', 'retention']);
  });
});
