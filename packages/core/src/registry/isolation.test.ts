/**
 * Issue 11, item 7: an app running another app's discoverable workflow gets what the contract exposes and
 * nothing more — it cannot skip the owner's guard steps, read the owner's private helpers through child
 * runs, or learn which custom ids other apps use.
 */
import { describe, expect, it } from 'vitest';
import { codeOf, draft, setup } from './test-support/fixtures.js';

/** Owner app_b's discoverable "charge" workflow: a guard, then the action. */
async function guarded() {
  const env = setup();
  const workflow = await env.b.workflows.create({
    name: 'charge',
    discoverable: true,
    draft: draft([
      { type: 'input', key: 'in', destinations: ['guard'] },
      { type: 'code', key: 'guard', code: 'input.amount < 100', destinations: ['act'] },
      { type: 'code', key: 'act', conditional: 'guard.output = true', code: '"charged"' },
    ]),
  });
  await env.b.versions.publish(workflow.id);
  return { ...env, workflow };
}

describe('discoverable workflows: entry steps only', () => {
  it('a caller from another app cannot start at a step after the guard', async () => {
    const { a, workflow } = await guarded();
    // Regression: the run COMPLETED with "charged" while the guard was SKIPPED.
    expect(await codeOf(a.discover.run(workflow.id, { from_step_key: 'act', input: { amount: 1e9 } }))).toBe(
      'FORBIDDEN',
    );
    const run = await a.discover.run(workflow.id, { from_step_key: 'in', input: { amount: 1e9 } });
    expect(run.output.act!.status).toBe('SKIPPED');
    expect(run.result).not.toBe('charged');
  });

  it('nor through a replay', async () => {
    const { a, workflow } = await guarded();
    const run = await a.discover.run(workflow.id, { input: { amount: 1e9 } });
    expect(await codeOf(a.runs.replay(run.id, { from_step_key: 'act' }))).toBe('FORBIDDEN');
    expect((await a.runs.replay(run.id)).output.act!.status).toBe('SKIPPED');
  });

  it('nor through a workflow step whose step_key names a later step of it', async () => {
    const { a, workflow } = await guarded();
    const caller = await a.workflows.create({
      name: 'caller',
      draft: draft([
        {
          type: 'workflow',
          key: 'sub',
          workflow_id: workflow.id,
          workflow_version_id: 'latest',
          step_key: 'act',
          input: { amount: 1e9 },
        },
      ]),
    });
    const run = await a.runs.run(caller.id, { version: 'draft' });
    expect(run.status).toBe('FAILED');
    expect(run.output.sub!.error).toMatchObject({ code: 'FORBIDDEN' });
    expect(JSON.stringify(run)).not.toContain('charged');
  });

  it('the owner still may', async () => {
    const { b, workflow } = await guarded();
    const run = await b.runs.run(workflow.id, { from_step_key: 'act', input: { amount: 1e9 } });
    expect(run.output.guard!.status).toBe('SKIPPED');
  });
});

describe('sub-workflows of another app', () => {
  it('a discoverable workflow calling its owner’s private helper: the child run belongs to the owner', async () => {
    const { a, b } = setup();
    const helper = await b.workflows.create({
      name: 'private helper',
      draft: draft([{ type: 'code', key: 'inner', code: '{ "internal": "owner-only", "result": 7 }' }]),
    });
    const shared = await b.workflows.create({
      name: 'shared',
      discoverable: true,
      draft: draft([{ type: 'workflow', key: 'sub', workflow_id: helper.id, workflow_version_id: 'draft' }]),
    });
    await b.versions.publish(shared.id);
    const run = await a.discover.run(shared.id);
    expect(run.status).toBe('COMPLETED');
    const childId = run.output.sub!.calls[0]!.run_id as string;
    // Regression: the child run was stored in the caller's app, with the helper's private draft and outputs.
    expect(await codeOf(a.runs.get(childId))).toBe('NOT_FOUND');
    const listed = await a.runs.list();
    expect(listed.data.map((r) => r.id)).toEqual([run.id]);
    expect(JSON.stringify(listed)).not.toContain('owner-only');
    const child = await b.runs.get(childId);
    expect(child).toMatchObject({ app_id: 'app_b', workflow_id: helper.id, status: 'COMPLETED' });
  });

  it('a workflow calling one of its own app’s workflows keeps the child in that app', async () => {
    const { a } = setup();
    const child = await a.workflows.create({
      name: 'child',
      draft: draft([{ type: 'code', key: 'c', code: '1' }]),
    });
    const parent = await a.workflows.create({
      name: 'parent',
      draft: draft([{ type: 'workflow', key: 'sub', workflow_id: child.id, workflow_version_id: 'draft' }]),
    });
    const run = await a.runs.run(parent.id, { version: 'draft' });
    expect((await a.runs.get(run.output.sub!.calls[0]!.run_id as string)).app_id).toBe('app_a');
  });
});

describe('custom workflow ids are scoped per app', () => {
  it('another app’s id neither conflicts nor leaks', async () => {
    const { a, b } = setup();
    const mine = await a.workflows.create({ name: 'a', id: 'invoice' });
    // Regression: this was CONFLICT, which told app_b that some app has a workflow "invoice".
    const theirs = await b.workflows.create({ name: 'b', id: 'invoice' });
    expect(mine.id).toBe('app_a:invoice');
    expect(theirs.id).toBe('app_b:invoice');
    expect((await a.workflows.get('invoice')).name).toBe('a');
    expect((await b.workflows.get('invoice')).name).toBe('b');
    expect(await codeOf(a.workflows.get('app_b:invoice'))).toBe('NOT_FOUND');
    expect(await codeOf(a.workflows.create({ name: 'again', id: 'invoice' }))).toBe('CONFLICT');
  });

  it('the short form works wherever the app names its own workflow, sub-workflows included', async () => {
    const { a } = setup();
    await a.workflows.create({
      name: 'child',
      id: 'child',
      draft: draft([{ type: 'code', key: 'c', code: '41 + 1' }]),
    });
    await a.workflows.create({
      name: 'parent',
      id: 'parent',
      draft: draft([{ type: 'workflow', key: 'sub', workflow_id: 'child', workflow_version_id: 'draft' }]),
    });
    const run = await a.runs.run('parent', { version: 'draft' });
    expect(run.result).toMatchObject({ status: 'COMPLETED', result: 42 });
    expect(run.workflow_id).toBe('app_a:parent');
  });
});
