/**
 * Discoverable workflows: Discover Workflows, Get Discoverable Workflow, Get Discoverable Workflow
 * Version, Run Discoverable Workflow, Cancel a Discoverable Workflow Run — and what must not leak.
 */
import { describe, expect, it } from 'vitest';
import { codeOf, draft, rejection, setup, valueDraft } from './test-support/fixtures.js';

async function owned() {
  const env = setup();
  const shared = await env.b.workflows.create({
    name: 'shared',
    discoverable: true,
    draft: valueDraft('b-draft'),
  });
  await env.b.workflows.updateDraft(shared.id, valueDraft('b-v1'));
  const v1 = await env.b.versions.publish(shared.id);
  await env.b.workflows.updateDraft(shared.id, valueDraft('b-draft'));
  const hidden = await env.b.workflows.create({ name: 'hidden', draft: valueDraft('secret') });
  await env.b.versions.publish(hidden.id);
  return { ...env, shared, hidden, v1 };
}

describe('discover', () => {
  it('lists other apps’ discoverable workflows (not the caller’s own, not private ones), without drafts', async () => {
    const { a, b, shared } = await owned();
    await a.workflows.create({ name: 'mine', discoverable: true });
    const page = await a.discover.list();
    expect(page.data.map((w) => w.id)).toEqual([shared.id]);
    expect(page.data[0]).not.toHaveProperty('draft');
    expect(page.data[0]).toMatchObject({ app_id: 'app_b', name: 'shared', latest_version: 1 });
    expect((await b.discover.list()).data.map((w) => w.name)).toEqual(['mine']);
  });

  it('a workflow that is not discoverable is NOT_FOUND, exactly like one that does not exist', async () => {
    const { a, hidden } = await owned();
    const missing = await rejection(a.discover.get('does-not-exist'));
    const privateOne = await rejection(a.discover.get(hidden.id));
    expect(privateOne.code).toBe('NOT_FOUND');
    expect(privateOne.message.replace(hidden.id, 'ID')).toBe(missing.message.replace('does-not-exist', 'ID'));
    expect(await codeOf(a.discover.getVersion(hidden.id, 1))).toBe('NOT_FOUND');
    expect(await codeOf(a.discover.listVersions(hidden.id))).toBe('NOT_FOUND');
    expect(await codeOf(a.discover.run(hidden.id))).toBe('NOT_FOUND');
    expect(await codeOf(a.workflows.get(hidden.id))).toBe('NOT_FOUND');
  });

  it('get, published versions and a version; drafts are FORBIDDEN', async () => {
    const { a, shared, v1 } = await owned();
    expect(await a.discover.get(shared.id)).toMatchObject({ id: shared.id, app_id: 'app_b' });
    expect((await a.discover.listVersions(shared.id)).data.map((v) => v.version)).toEqual([1]);
    expect((await a.discover.getVersion(shared.id, 'latest')).id).toBe(v1.id);
    expect((await a.discover.getVersion(shared.id, v1.id)).version).toBe(1);
    expect(await codeOf(a.discover.getVersion(shared.id, 'draft'))).toBe('FORBIDDEN');
    expect(await codeOf(a.discover.run(shared.id, { version: 'draft' }))).toBe('FORBIDDEN');
  });

  it('run: the run belongs to the caller (app_id) and records the owner (workflow_app_id)', async () => {
    const { a, b, shared } = await owned();
    const run = await a.discover.run(shared.id, { input: {} });
    expect(run).toMatchObject({
      app_id: 'app_a',
      workflow_app_id: 'app_b',
      workflow_id: shared.id,
      result: 'b-v1',
      version: 1,
    });
    expect((await a.runs.get(run.id)).id).toBe(run.id);
    expect((await a.runs.list()).data.map((r) => r.id)).toEqual([run.id]);
    // The owner cannot read the caller's run.
    expect(await codeOf(b.runs.get(run.id))).toBe('NOT_FOUND');
    expect((await b.runs.list({ workflow_id: shared.id })).data).toEqual([]);
  });

  it('cancel: an app cancels its own runs of a discoverable workflow, and no one else’s', async () => {
    const env = setup();
    const shared = await env.b.workflows.create({
      name: 's',
      discoverable: true,
      draft: draft([{ type: 'hold', key: 'h' }]),
    });
    await env.b.versions.publish(shared.id);
    const running = await env.a.discover.run(shared.id, { background: true });
    expect(running.status).toBe('RUNNING');
    expect(await codeOf(env.c.discover.cancel(shared.id, running.id))).toBe('NOT_FOUND');
    expect(await codeOf(env.b.discover.cancel(shared.id, running.id))).toBe('NOT_FOUND');
    expect(await codeOf(env.b.runs.cancel(running.id))).toBe('NOT_FOUND');
    expect(await codeOf(env.a.discover.cancel('other-workflow', running.id))).toBe('NOT_FOUND');
    await env.gates.started(running.id);
    const cancelled = await env.a.discover.cancel(shared.id, running.id);
    expect(cancelled.status).toBe('CANCELLED');
    expect(await codeOf(env.a.discover.cancel(shared.id, running.id))).toBe('NOT_CANCELLABLE');
  });

  it('making a workflow private again hides it at once; archived workflows are not discoverable', async () => {
    const { a, b, shared } = await owned();
    await b.workflows.update(shared.id, { discoverable: false });
    expect(await codeOf(a.discover.get(shared.id))).toBe('NOT_FOUND');
    await b.workflows.update(shared.id, { discoverable: true });
    await b.workflows.archive(shared.id);
    expect((await a.discover.list()).data).toEqual([]);
    expect(await codeOf(a.discover.run(shared.id))).toBe('NOT_FOUND');
  });
});
