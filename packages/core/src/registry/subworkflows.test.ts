/** `workflow` steps resolve their sub-workflow through the registry. */
import { describe, expect, it } from 'vitest';
import { code, draft, setup, valueDraft } from './test-support/fixtures.js';

/** Runs `workflowId` and returns the child's result as the caller's result. */
const caller = (workflowId: string, version: string | number) =>
  draft([
    {
      type: 'workflow',
      key: 'sub',
      workflow_id: workflowId,
      workflow_version_id: version,
      input: { n: 1 },
      destinations: ['out'],
    },
    code('out', 'sub.output.result'),
  ]);

describe('sub-workflows', () => {
  it('resolve "latest", a number, an id and "draft" within the caller’s app', async () => {
    const { a } = setup();
    const child = await a.workflows.create({ name: 'child', draft: valueDraft('c1') });
    const v1 = await a.versions.publish(child.id);
    await a.workflows.updateDraft(child.id, valueDraft('c2'));
    await a.versions.publish(child.id);
    await a.workflows.updateDraft(child.id, valueDraft('c-draft'));
    const parent = await a.workflows.create({ name: 'parent', draft: caller(child.id, 'latest') });
    expect((await a.runs.run(parent.id, { version: 'draft' })).result).toBe('c2');
    for (const [ref, expected] of [
      [1, 'c1'],
      [v1.id, 'c1'],
      ['draft', 'c-draft'],
    ] as const) {
      await a.workflows.updateDraft(parent.id, caller(child.id, ref));
      expect((await a.runs.run(parent.id, { version: 'draft' })).result).toBe(expected);
    }
  });

  it('the child run is stored too, in the caller’s app, with the owner as workflow_app_id', async () => {
    const { a } = setup();
    const child = await a.workflows.create({ name: 'child', draft: draft([code('c', 'input.n + 1')]) });
    const parent = await a.workflows.create({ name: 'parent', draft: caller(child.id, 'draft') });
    const run = await a.runs.run(parent.id, { version: 'draft' });
    expect(run.result).toBe(2);
    const childRunId = (run.output.sub!.output as { run_id: string }).run_id;
    expect(run.output.sub!.calls[0]!.run_id).toBe(childRunId);
    const childRun = await a.runs.get(childRunId);
    expect(childRun).toMatchObject({
      status: 'COMPLETED',
      workflow_id: child.id,
      app_id: 'app_a',
      result: 2,
    });
  });

  it('another app’s workflow resolves only when discoverable, and only its published versions', async () => {
    const { a, b } = setup();
    const hidden = await b.workflows.create({ name: 'hidden', draft: valueDraft('h') });
    await b.versions.publish(hidden.id);
    const shared = await b.workflows.create({ name: 'shared', discoverable: true, draft: valueDraft('s') });
    await b.versions.publish(shared.id);
    const p1 = await a.workflows.create({ name: 'p1', draft: caller(hidden.id, 'latest') });
    const r1 = await a.runs.run(p1.id, { version: 'draft' });
    expect(r1.status).toBe('FAILED');
    expect(r1.error).toMatchObject({ code: 'NOT_FOUND' });
    const p2 = await a.workflows.create({ name: 'p2', draft: caller(shared.id, 'latest') });
    const r2 = await a.runs.run(p2.id, { version: 'draft' });
    expect(r2.result).toBe('s');
    const p3 = await a.workflows.create({ name: 'p3', draft: caller(shared.id, 'draft') });
    expect((await a.runs.run(p3.id, { version: 'draft' })).error).toMatchObject({ code: 'FORBIDDEN' });
  });

  it('a child of the same app sees the parent’s variables; another app’s workflow sees its owner’s only', async () => {
    const { a, b } = setup();
    await a.variables.set('token', 'a-secret', { secret: true });
    await a.variables.set('who', 'app a');
    await b.variables.set('who', 'app b');
    const reads = draft([code('c', '[$vars.who, $vars.token]')]);
    const own = await a.workflows.create({ name: 'own', draft: reads });
    const theirs = await b.workflows.create({ name: 'theirs', discoverable: true, draft: reads });
    await b.versions.publish(theirs.id);
    const p1 = await a.workflows.create({ name: 'p1', draft: caller(own.id, 'draft') });
    const r1 = await a.runs.run(p1.id, { version: 'draft' });
    expect(r1.result).toEqual(['app a', '[secret]']);
    const p2 = await a.workflows.create({ name: 'p2', draft: caller(theirs.id, 'latest') });
    const r2 = await a.runs.run(p2.id, { version: 'draft' });
    expect(r2.result).toEqual(['app b']);
  });

  it('a discoverable workflow run by another app still reaches its owner’s private sub-workflows', async () => {
    const { a, b } = setup();
    const helper = await b.workflows.create({ name: 'helper', draft: valueDraft('from helper') });
    await b.versions.publish(helper.id);
    const shared = await b.workflows.create({
      name: 'shared',
      discoverable: true,
      draft: caller(helper.id, 'latest'),
    });
    await b.versions.publish(shared.id);
    const run = await a.discover.run(shared.id);
    expect(run).toMatchObject({
      status: 'COMPLETED',
      result: 'from helper',
      app_id: 'app_a',
      workflow_app_id: 'app_b',
    });
  });
});

describe('sub-workflows outside the store', () => {
  it('resolve through createWeft({ workflows }) only when the store has no such workflow', async () => {
    const asked: string[] = [];
    const { a } = setup({
      workflows: {
        resolve(reference) {
          asked.push(reference.workflow_id);
          if (reference.workflow_id !== 'on-disk') throw new Error(`no file for ${reference.workflow_id}`);
          return { document: draft([code('x', '"from the fallback"')]), workflow_id: 'on-disk' };
        },
      },
    });
    const stored = await a.workflows.create({
      name: 'stored',
      draft: draft([code('y', '"from the store"')]),
    });
    const parent = await a.workflows.create({ name: 'parent', draft: caller('on-disk', 'latest') });
    expect((await a.runs.run(parent.id, { version: 'draft' })).result).toBe('from the fallback');
    await a.workflows.updateDraft(parent.id, caller(stored.id, 'draft'));
    expect((await a.runs.run(parent.id, { version: 'draft' })).result).toBe('from the store');
    await a.workflows.updateDraft(parent.id, caller('nowhere', 'latest'));
    const failed = await a.runs.run(parent.id, { version: 'draft' });
    expect(failed.status).toBe('FAILED');
    expect(failed.error!.message).toContain('no file for nowhere');
    expect(asked).toEqual(['on-disk', 'nowhere']);
  });
});
