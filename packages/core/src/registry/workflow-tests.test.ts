/** Workflow tests: DRAFT until run, expectations over the finished run, origin TEST, the platform's tests_stats. */
import { describe, expect, it } from 'vitest';
import { code, codeOf, draft, setup } from './test-support/fixtures.js';

async function withTests() {
  const env = setup();
  const w = await env.a.workflows.create({
    name: 'double',
    draft: draft([
      { type: 'input', key: 'in', input: { n: { type: 'number' } }, destinations: ['double'] },
      code('double', '{"result": input.n * 2}'),
    ]),
  });
  const pass = await env.a.tests.create(w.id, {
    name: 'doubles 2',
    input: { n: 2 },
    step_key: 'double',
    expectations: [
      { key: 'result', name: 'result is 4', script: 'result = 4' },
      { key: 'status', name: 'completed', script: 'status = "COMPLETED" and step.status = "COMPLETED"' },
    ],
  });
  const fail = await env.a.tests.create(w.id, {
    name: 'wrong on purpose',
    input: { n: 3 },
    expectations: [
      { key: 'result', name: 'result is 7', script: 'result = 7' },
      { key: 'steps', name: 'reads steps', script: 'output.double.output.result = 6' },
    ],
  });
  return { ...env, w, pass, fail };
}

describe('workflow tests', () => {
  it('run all: each test and expectation is PASSED or FAILED; runs have origin TEST; stats are kept', async () => {
    const { a, w, pass, fail } = await withTests();
    expect((await a.workflows.get(w.id)).tests_stats).toEqual({
      total_count: 2,
      running_count: 0,
      cancelled_count: 0,
      passing_count: 0,
      failing_count: 0,
      expectations_failing_count: 0,
      expectations_passing_count: 0,
    });
    const report = await a.tests.run(w.id);
    const byId = new Map(report.tests.map((t) => [t.id, t]));
    expect(byId.get(pass.id)).toMatchObject({
      status: 'PASSED',
      results: [
        { key: 'result', status: 'PASSED', message: null },
        { key: 'status', status: 'PASSED', message: null },
      ],
    });
    expect(byId.get(fail.id)!.status).toBe('FAILED');
    expect(byId.get(fail.id)!.results.map((r) => r.status)).toEqual(['FAILED', 'PASSED']);
    expect(byId.get(fail.id)!.results[0]!.message).toMatch(/false: result = 7/);
    expect(report.stats).toMatchObject({
      total_count: 2,
      passing_count: 1,
      failing_count: 1,
      expectations_passing_count: 3,
      expectations_failing_count: 1,
    });
    expect((await a.workflows.get(w.id)).tests_stats).toEqual(report.stats);
    const run = await a.runs.get(byId.get(pass.id)!.last_run_id!);
    expect(run.origin).toBe('TEST');
    expect((await a.runs.list({ origin: 'TEST' })).data).toHaveLength(2);
  });

  it('failed only re-runs the failed tests; expectations only re-evaluates against the last runs', async () => {
    const { a, w, pass, fail } = await withTests();
    await a.tests.run(w.id);
    await a.tests.update(fail.id, {
      expectations: [{ key: 'result', name: 'result is 6', script: 'result = 6' }],
    });
    const reevaluated = await a.tests.run(w.id, { mode: 'expectations' });
    expect(reevaluated.tests.map((t) => t.status)).toEqual(['PASSED', 'PASSED']);
    expect((await a.runs.list({ origin: 'TEST' })).data).toHaveLength(2);
    await a.tests.update(pass.id, { expectations: [{ key: 'x', name: 'x', script: 'result = 5' }] });
    await a.tests.run(w.id, { mode: 'expectations', test_ids: [pass.id] });
    const failedOnly = await a.tests.run(w.id, { mode: 'failed' });
    expect(failedOnly.tests.map((t) => t.id)).toEqual([pass.id]);
    expect((await a.runs.list({ origin: 'TEST' })).data).toHaveLength(3);
    expect(failedOnly.stats).toMatchObject({ total_count: 2, passing_count: 1, failing_count: 1 });
  });

  it('a script that errors or is not boolean fails its expectation with the reason; a bad input fails the test', async () => {
    const { a, w } = await withTests();
    const odd = await a.tests.create(w.id, {
      name: 'odd',
      input: { n: 1 },
      expectations: [
        { key: 'num', name: 'not boolean', script: 'result' },
        { key: 'err', name: 'errors', script: '$undefinedFn()' },
      ],
    });
    const badInput = await a.tests.create(w.id, {
      name: 'bad input',
      input: { n: 'x' },
      expectations: [{ key: 'k', name: 'k', script: 'true' }],
    });
    const report = await a.tests.run(w.id, { test_ids: [odd.id, badInput.id] });
    const byId = new Map(report.tests.map((t) => [t.id, t]));
    expect(byId.get(odd.id)!.results.map((r) => r.status)).toEqual(['FAILED', 'FAILED']);
    expect(byId.get(odd.id)!.results[0]!.message).toMatch(/true or false, got number/);
    expect(byId.get(badInput.id)).toMatchObject({ status: 'FAILED', last_run_id: null });
    expect(byId.get(badInput.id)!.results[0]!.message).toMatch(/could not start.*n/);
  });

  it('create checks expectations; tests are scoped to the app; delete updates the stats', async () => {
    const { a, b, w, pass } = await withTests();
    expect(
      await codeOf(a.tests.create(w.id, { name: 't', expectations: [{ key: 'k', name: 'k', script: '(' }] })),
    ).toBe('INVALID_ARGUMENT');
    expect(
      await codeOf(
        a.tests.create(w.id, {
          name: 't',
          expectations: [
            { key: 'k', name: 'k', script: 'true' },
            { key: 'k', name: 'k', script: 'true' },
          ],
        }),
      ),
    ).toBe('INVALID_ARGUMENT');
    expect(await codeOf(b.tests.get(pass.id))).toBe('NOT_FOUND');
    expect(await codeOf(b.tests.run(w.id))).toBe('NOT_FOUND');
    expect((await a.tests.list(w.id)).data).toHaveLength(2);
    await a.tests.delete(pass.id);
    expect((await a.workflows.get(w.id)).tests_stats!.total_count).toBe(1);
    expect(await codeOf(a.tests.get(pass.id))).toBe('NOT_FOUND');
  });

  it('a new test is DRAFT; step_key is the step its run starts from', async () => {
    const { a } = setup();
    const w = await a.workflows.create({
      name: 'two entries',
      draft: draft([
        { type: 'input', key: 'manual', input: { a: { type: 'number' } }, destinations: ['from_a'] },
        { type: 'input', key: 'api', input: { b: { type: 'number' } }, destinations: ['from_b'] },
        code('from_a', '"a" & $string(input.a)'),
        code('from_b', '"b" & $string(input.b)'),
      ]),
    });
    const test = await a.tests.create(w.id, {
      name: 'api only',
      input: { b: 1 },
      step_key: 'api',
      expectations: [{ key: 'r', name: 'r', script: 'result = "b1" and output.from_a.status = "SKIPPED"' }],
    });
    expect(test.status).toBe('DRAFT');
    const ran = await a.tests.runTest(test.id);
    expect(ran).toMatchObject({ status: 'PASSED', results: [{ status: 'PASSED' }] });
    const run = await a.runs.get(ran.last_run_id!);
    expect(run.output.manual!.status).toBe('SKIPPED');
  });

  it('execute_failed_only, execute_expectations_only and workflow_version_number are the platform’s names for mode and version', async () => {
    const { a, w, pass, fail } = await withTests();
    await a.versions.publish(w.id);
    await a.workflows.updateDraft(
      w.id,
      draft([{ type: 'input', key: 'in', destinations: ['double'] }, code('double', '0')]),
    );
    // Version 1 still doubles; the draft does not.
    const onV1 = await a.tests.run(w.id, { workflow_version_number: 1 });
    expect(onV1.tests.find((t) => t.id === pass.id)!.status).toBe('PASSED');
    const run = await a.runs.get(onV1.tests[0]!.last_run_id!);
    expect(run.version).toBe(1);
    const failedOnly = await a.tests.run(w.id, { execute_failed_only: true, workflow_version_number: 1 });
    expect(failedOnly.tests.map((t) => t.id)).toEqual([fail.id]);
    const again = await a.tests.runTest(pass.id, { execute_expectations_only: true });
    expect(again.last_run_id).toBe(onV1.tests.find((t) => t.id === pass.id)!.last_run_id);
    expect(await codeOf(a.tests.run(w.id, { workflow_version_number: 1, version: 2 }))).toBe(
      'INVALID_ARGUMENT',
    );
    expect(await codeOf(a.tests.run(w.id, { mode: 'all', execute_failed_only: true }))).toBe(
      'INVALID_ARGUMENT',
    );
    expect(await codeOf(a.tests.run(w.id, { workflow_version_number: 0 }))).toBe('INVALID_ARGUMENT');
  });

  it('execute_async returns the tests RUNNING; wait resolves with the finished test; stats count them', async () => {
    const { a, w, pass } = await withTests();
    const report = await a.tests.run(w.id, { execute_async: true });
    expect(report.tests.map((t) => t.status)).toEqual(['RUNNING', 'RUNNING']);
    expect(report.stats.running_count).toBe(2);
    const done = await a.tests.wait(pass.id);
    expect(done.status).toBe('PASSED');
    const one = await a.tests.runTest(pass.id, { execute_async: true });
    expect(one.status).toBe('RUNNING');
    expect((await a.tests.wait(pass.id)).status).toBe('PASSED');
    await a.tests.wait((await a.tests.list(w.id)).data[0]!.id);
    expect(await a.tests.stats(w.id)).toMatchObject({ running_count: 0, passing_count: 1, failing_count: 1 });
  });
});
