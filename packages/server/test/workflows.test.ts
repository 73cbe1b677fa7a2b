/** Workflows, drafts, versions and discover over HTTP. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { greeter } from './fixtures.js';
import { startServer, type TestServer } from './helpers.js';

let t: TestServer;
beforeAll(async () => {
  t = await startServer();
});
afterAll(() => t.close());

describe('workflows', () => {
  it('create, get, update, replace the draft, archive and restore', async () => {
    const created = await t.call('POST', '/apps/c/workflows', {
      body: { name: 'Greeter', description: 'Says hello', retention: 3600, draft: greeter },
    });
    expect(created.status).toBe(200);
    const w = created.body;
    expect(w).toMatchObject({
      name: 'Greeter',
      description: 'Says hello',
      app: { id: 'app_a' },
      app_id: 'app_a',
      version: null,
      tags: [],
      tests_stats: null,
      template_id: null,
      runs_count: 0,
      retention: { max_age_in_seconds: 3600, preserve_on_failure: false },
      enabled: true,
      deleted: false,
      discoverable: false,
      latest_version: null,
      input: greeter.input,
      steps: greeter.steps,
    });
    expect((await t.call('GET', `/apps/c/workflows/${w.id}`)).body).toEqual(w);
    const renamed = await t.call('PATCH', `/apps/c/workflows/${w.id}`, { body: { name: 'Hello' } });
    expect(renamed.body.name).toBe('Hello');
    const steps = [{ type: 'code', key: 'c', code: '1' }];
    const drafted = await t.call('PUT', `/apps/c/workflows/${w.id}/draft`, { body: { steps } });
    expect(drafted.body.steps).toEqual(steps);
    expect(drafted.body.draft).toEqual({ steps });
    const archived = await t.call('POST', `/apps/c/workflows/${w.id}/archive`);
    expect(archived.body.enabled).toBe(false);
    expect(archived.body.archived_at).not.toBeNull();
    const publish = await t.call('POST', `/apps/c/workflows/${w.id}/versions`, { body: {} });
    expect(publish.status).toBe(409);
    expect(publish.body.code).toBe('CONFLICT');
    const restored = await t.call('POST', `/apps/c/workflows/${w.id}/restore`);
    expect(restored.body.enabled).toBe(true);
  });

  it('lists newest first with page/take/count, search and tags; archived only on request', async () => {
    const app = await startServer();
    try {
      const names = ['Alpha report', 'Beta', 'Gamma report', 'Delta'];
      const ids: string[] = [];
      for (const name of names)
        ids.push((await app.call('POST', '/apps/c/workflows', { body: { name } })).body.id);
      const page1 = await app.call('GET', '/apps/c/workflows?take=3');
      expect(page1.body.map((w: { name: string }) => w.name)).toEqual(['Delta', 'Gamma report', 'Beta']);
      expect(page1.headers.get('pagination-count')).toBe('4');
      const page2 = await app.call('GET', '/apps/c/workflows?take=3&page=2');
      expect(page2.body.map((w: { name: string }) => w.name)).toEqual(['Alpha report']);
      const search = await app.call('GET', '/apps/c/workflows?search=REPORT');
      expect(search.body.map((w: { name: string }) => w.name)).toEqual(['Gamma report', 'Alpha report']);
      expect(search.headers.get('pagination-count')).toBe('2');
      const tagged = await app.call('GET', '/apps/c/workflows?tags=x&tags=y');
      expect(tagged.body).toEqual([]);
      await app.call('POST', `/apps/c/workflows/${ids[0]}/archive`);
      expect((await app.call('GET', '/apps/c/workflows')).body).toHaveLength(3);
      expect((await app.call('GET', '/apps/c/workflows?include_archived=true')).body).toHaveLength(4);
    } finally {
      await app.close();
    }
  });

  it('404 for an unknown workflow; 400 for a bad body', async () => {
    expect((await t.call('GET', '/apps/c/workflows/nope')).status).toBe(404);
    expect((await t.call('PATCH', '/apps/c/workflows/nope', { body: { name: 'x' } })).status).toBe(404);
    const bad = await t.call('POST', '/apps/c/workflows', { body: { name: '' } });
    expect(bad.status).toBe(400);
    expect(bad.body.errors[0].path).toEqual(['body', 'name']);
  });
});

describe('versions', () => {
  it('publish, list highest first, get by number, id and latest, roll back; versions never change', async () => {
    const w = (await t.call('POST', '/apps/c/workflows', { body: { name: 'V', draft: greeter } })).body;
    const v1 = await t.call('POST', `/apps/c/workflows/${w.id}/versions`, {
      body: { notes: 'first', created_by: { id: 'u1', name: 'Ada' } },
    });
    expect(v1.body).toMatchObject({
      version: 1,
      notes: 'first',
      created_by: { id: 'u1', name: 'Ada' },
      workflow_id: w.id,
    });
    expect(v1.body).toMatchObject({ key: null, input_default: null, input_options: null });
    await t.call('PUT', `/apps/c/workflows/${w.id}/draft`, {
      body: { steps: [{ type: 'code', key: 'c', code: '2' }] },
    });
    await t.call('POST', `/apps/c/workflows/${w.id}/versions`, { body: {} });
    const list = await t.call('GET', `/apps/c/workflows/${w.id}/versions`);
    expect(list.body.map((v: { version: number }) => v.version)).toEqual([2, 1]);
    expect(list.headers.get('pagination-count')).toBe('2');
    expect((await t.call('GET', `/apps/c/workflows/${w.id}/versions/1`)).body.notes).toBe('first');
    expect((await t.call('GET', `/apps/c/workflows/${w.id}/versions/${v1.body.id}`)).body.version).toBe(1);
    expect((await t.call('GET', `/apps/c/workflows/${w.id}/versions/latest`)).body.version).toBe(2);
    expect((await t.call('GET', `/apps/c/workflows/${w.id}/versions/7`)).status).toBe(404);
    const rolled = await t.call('POST', `/apps/c/workflows/${w.id}/rollback`, { body: { version: 1 } });
    expect(rolled.body).toMatchObject({ version: 3, rollback_version: 1 });
    const workflow = (await t.call('GET', `/apps/c/workflows/${w.id}`)).body;
    expect(workflow.version.version).toBe(3);
    expect(workflow.latest_version).toBe(3);
  });

  it('publishing an invalid draft is 400 VALIDATION_FAILED with every problem and its document path', async () => {
    const w = (
      await t.call('POST', '/apps/c/workflows', {
        body: {
          name: 'Bad',
          draft: {
            steps: [
              { type: 'code', key: 'a', code: '1', destinations: ['nowhere'] },
              { type: 'code', key: 'a', code: '(' },
            ],
          },
        },
      })
    ).body;
    const answer = await t.call('POST', `/apps/c/workflows/${w.id}/versions`, { body: {} });
    expect(answer.status).toBe(400);
    expect(answer.body.code).toBe('VALIDATION_FAILED');
    expect(answer.body.errors.length).toBeGreaterThanOrEqual(2);
    for (const e of answer.body.errors) {
      expect(e.code).toBe('VALIDATION_FAILED');
      expect(e.path[0]).toBe('document');
    }
  });
});

describe('discover', () => {
  it('lists, reads and runs other apps’ discoverable workflows; drafts are 403; the run is the caller’s', async () => {
    const shared = (
      await t.call('POST', '/apps/c/workflows', {
        body: { name: 'Shared greeter', draft: greeter, discoverable: true },
      })
    ).body;
    const hidden = (await t.call('POST', '/apps/c/workflows', { body: { name: 'Hidden', draft: greeter } }))
      .body;
    await t.call('POST', `/apps/c/workflows/${shared.id}/versions`, { body: {} });
    await t.call('POST', `/apps/c/workflows/${hidden.id}/versions`, { body: {} });
    const B = { key: t.keys.B };
    const found = await t.call('GET', '/apps/c/workflows/discover?search=greeter', B);
    expect(found.body.map((w: { id: string }) => w.id)).toEqual([shared.id]);
    expect(found.body[0]).not.toHaveProperty('draft');
    expect(found.body[0].steps).toEqual(greeter.steps);
    expect(found.body[0].tests_stats).toBeNull();
    expect((await t.call('GET', `/apps/c/workflows/discover/${hidden.id}`, B)).status).toBe(404);
    expect(
      (await t.call('GET', `/apps/c/workflows/discover/${shared.id}/versions/latest`, B)).body.version,
    ).toBe(1);
    const draft = await t.call('POST', `/apps/c/workflows/discover/${shared.id}/runs`, {
      ...B,
      body: { workflow_version_id: 'draft', input: { name: 'B' } },
    });
    expect(draft.status).toBe(403);
    expect(draft.body.code).toBe('FORBIDDEN');
    const run = await t.call('POST', `/apps/c/workflows/discover/${shared.id}/runs`, {
      ...B,
      body: { input: { name: 'B' } },
    });
    expect(run.body).toMatchObject({
      status: 'COMPLETED',
      result: 'Hello, B',
      app_id: 'app_b',
      workflow_app_id: 'app_a',
    });
    // The owner does not see B's run; B sees it as its own run count.
    expect((await t.call('GET', `/apps/c/workflows/${shared.id}/runs/${run.body.id}`)).status).toBe(404);
    expect((await t.call('GET', `/apps/c/workflows/discover/${shared.id}`, B)).body.runs_count).toBe(1);
    const cancel = await t.call(
      'POST',
      `/apps/c/workflows/discover/${shared.id}/runs/${run.body.id}/cancel`,
      B,
    );
    expect(cancel.status).toBe(409);
    expect(cancel.body.code).toBe('NOT_CANCELLABLE');
  });
});
