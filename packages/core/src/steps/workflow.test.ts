/** `workflow` steps as the platform defines them (issue 14, item 2). */
import { describe, expect, it } from 'vitest';
import type { VersionDocument } from '../model/types.js';
import { createEngine } from '../run/engine.js';
import type { WorkflowResolver } from '../run/options.js';
import { code, draft } from '../test-support/workflows.js';

/** A resolver over a fixed set of documents, recording what it was asked. */
function library(documents: Record<string, VersionDocument>) {
  const asked: Array<{ workflow_id: string; workflow_version_id: string | number }> = [];
  const resolver: WorkflowResolver = {
    resolve(reference) {
      asked.push({ workflow_id: reference.workflow_id, workflow_version_id: reference.workflow_version_id });
      const document = documents[reference.workflow_id];
      if (document === undefined) throw new Error(`no workflow ${reference.workflow_id}`);
      return { document, workflow_id: reference.workflow_id, app_id: 'app_lib', version: 7, draft: false };
    },
  };
  return { resolver, asked };
}

const twoEntries: VersionDocument = {
  steps: [
    { type: 'input', key: 'manual', input: { a: { type: 'number' } }, destinations: ['a_out'] },
    { type: 'input', key: 'api', input: { b: { type: 'number' } }, destinations: ['b_out'] },
    { type: 'code', key: 'a_out', code: '"from manual: " & $string(input.a)' },
    { type: 'code', key: 'b_out', code: '"from api: " & $string(input.b)' },
  ],
};

describe('workflow step', () => {
  it('outputs the child run: { run_id, status, origin, usage, result, … }', async () => {
    const { resolver } = library({ child: draft([code('c', 'input.n + 1')]) });
    const engine = createEngine({ workflows: resolver });
    const run = await engine.run(
      draft([{ type: 'workflow', key: 'sub', workflow_id: 'child', input: { n: 1 } }]),
      { origin: 'TEST' },
    );
    const output = run.output.sub!.output as Record<string, unknown>;
    expect(output).toMatchObject({
      status: 'COMPLETED',
      origin: 'TEST',
      result: 2,
      error: null,
      workflow_id: 'child',
      workflow_app_id: 'app_lib',
      usage: { total: 0, calls: [], steps: {} },
    });
    expect(typeof output.run_id).toBe('string');
    expect(output.run_id).not.toBe(run.id);
    expect(typeof output.date).toBe('string');
  });

  it('workflow_version_id: "latest" by default, else "draft", an id or a number, passed to the resolver', async () => {
    const { resolver, asked } = library({ child: draft([code('c', '1')]) });
    const engine = createEngine({ workflows: resolver });
    const refs = [undefined, 'draft', 'latest', 'wfv_123', 3, '4'];
    await engine.run(
      draft(
        refs.map((ref, i) => ({
          type: 'workflow',
          key: `s${i}`,
          workflow_id: 'child',
          ...(ref === undefined ? {} : { workflow_version_id: ref }),
        })),
      ),
    );
    expect(asked.map((a) => a.workflow_version_id)).toEqual(['latest', 'draft', 'latest', 'wfv_123', 3, '4']);
  });

  it('step_key starts the child at that input step; only that step’s fields are required', async () => {
    const { resolver } = library({ child: twoEntries });
    const engine = createEngine({ workflows: resolver });
    const run = await engine.run(
      draft([{ type: 'workflow', key: 'sub', workflow_id: 'child', step_key: 'api', input: { b: 2 } }]),
    );
    expect(run.status).toBe('COMPLETED');
    expect((run.output.sub!.output as { result: unknown }).result).toBe('from api: 2');
  });

  it('a step_key the child does not have fails the step, naming the child’s input steps', async () => {
    const { resolver } = library({ child: twoEntries });
    const run = await createEngine({ workflows: resolver }).run(
      draft([{ type: 'workflow', key: 'sub', workflow_id: 'child', step_key: 'nope' }]),
    );
    expect(run.output.sub!.error).toMatchObject({ code: 'INVALID_ARGUMENT', details: { field: 'step_key' } });
    expect(run.output.sub!.error!.message).toMatch(/input steps are: manual, api/);
  });

  it('the child input is checked against the child’s definition (INVALID_INPUT fails the step); a JSON string is an object', async () => {
    const { resolver } = library({ child: twoEntries });
    const engine = createEngine({ workflows: resolver });
    const bad = await engine.run(
      draft([{ type: 'workflow', key: 'sub', workflow_id: 'child', step_key: 'api', input: { b: 'two' } }]),
    );
    expect(bad.status).toBe('FAILED');
    expect(bad.output.sub!.error).toMatchObject({ code: 'INVALID_INPUT', step_key: 'sub' });
    const json = await engine.run(
      draft([{ type: 'workflow', key: 'sub', workflow_id: 'child', step_key: 'api', input: '{"b": 5}' }]),
    );
    expect((json.output.sub!.output as { result: unknown }).result).toBe('from api: 5');
    const notObject = await engine.run(
      draft([{ type: 'workflow', key: 'sub', workflow_id: 'child', input: '[1]' }]),
    );
    expect(notObject.output.sub!.error).toMatchObject({ code: 'INVALID_INPUT' });
  });

  it('the child sees the parent’s variables, and its record keeps secrets redacted', async () => {
    const { resolver } = library({
      child: draft([code('c', '$vars.greeting & " " & $vars.token')]),
    });
    const engine = createEngine({ workflows: resolver, variables: [{ key: 'greeting', value: 'hi' }] });
    let childRun: unknown;
    engine.on('run.completed', ({ run }) => {
      if (run.workflow_id === 'child') childRun = run;
    });
    const run = await engine.run(
      draft([{ type: 'workflow', key: 'sub', workflow_id: 'child' }, code('after', 'sub.output.result')]),
      { variables: [{ key: 'token', value: 's3cr3t', secret: true }] },
    );
    expect(run.status).toBe('COMPLETED');
    // The child computed with the real value, and both records show it redacted.
    expect(JSON.stringify(childRun)).not.toContain('s3cr3t');
    expect((childRun as { result: unknown }).result).toBe('hi [secret]');
    expect(JSON.stringify(run)).not.toContain('s3cr3t');
  });

  it('an isolated child (another app’s workflow) sees its own variables, not the parent’s', async () => {
    const engine = createEngine({
      workflows: {
        resolve: () => ({
          document: draft([code('c', '[$vars.token, $vars.own]')]),
          isolated: true,
          variables: [{ key: 'own', value: 'mine' }],
        }),
      },
    });
    const run = await engine.run(draft([{ type: 'workflow', key: 'sub', workflow_id: 'x' }]), {
      variables: [{ key: 'token', value: 'parent-secret', secret: true }],
    });
    expect((run.output.sub!.output as { result: unknown }).result).toEqual(['mine']);
  });

  it('the child’s usage rolls up into the parent’s usage.calls tree', async () => {
    const spend = draft([{ type: 'spend', key: 'spend' }]);
    const middle = draft([{ type: 'workflow', key: 'inner', workflow_id: 'spend' }]);
    const engine = createEngine({
      steps: { spend: (ctx) => ctx.usage.record({ id: 'model-call', total: 1.5 }) },
      workflows: {
        resolve: ({ workflow_id }) => ({ document: workflow_id === 'spend' ? spend : middle, workflow_id }),
      },
    });
    const run = await engine.run(draft([{ type: 'workflow', key: 'outer', workflow_id: 'middle' }]));
    expect(run.usage.total).toBe(1.5);
    expect(run.usage.calls).toEqual([
      expect.objectContaining({
        workflow_id: 'middle',
        total: 1.5,
        calls: [
          expect.objectContaining({
            workflow_id: 'spend',
            total: 1.5,
            calls: [{ id: 'model-call', total: 1.5 }],
          }),
        ],
      }),
    ]);
  });

  it('a failing child fails the step with the child’s error and run_id', async () => {
    const engine = createEngine({
      workflows: { resolve: () => ({ document: draft([code('bad', '1 + "x"')]) }) },
    });
    const run = await engine.run(draft([{ type: 'workflow', key: 'sub', workflow_id: 'any' }]));
    expect(run.status).toBe('FAILED');
    const error = run.output.sub!.error!;
    expect(error).toMatchObject({ code: 'EXPRESSION_ERROR', step_key: 'sub' });
    expect(typeof error.details!.run_id).toBe('string');
    expect(error.details!.child_error).toMatchObject({ code: 'EXPRESSION_ERROR', step_key: 'bad' });
    expect(error.message).toContain(error.details!.run_id as string);
  });

  it('recursion is bounded: past limits.maxWorkflowDepth the step fails with SUBWORKFLOW_DEPTH', async () => {
    const self = draft([{ type: 'workflow', key: 'again', workflow_id: 'self' }]);
    const engine = createEngine({
      limits: { maxWorkflowDepth: 3 },
      workflows: { resolve: () => ({ document: self }) },
    });
    const run = await engine.run(self);
    expect(run.status).toBe('FAILED');
    let error = run.error!;
    while (error.details?.child_error !== undefined) error = error.details.child_error as typeof error;
    expect(error).toMatchObject({ code: 'SUBWORKFLOW_DEPTH', details: { depth: 4, limit: 3 } });
  });
});
