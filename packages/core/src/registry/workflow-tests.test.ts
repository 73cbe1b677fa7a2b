/** Workflow tests: expectations over the finished run, PASSED | FAILED, origin TEST, tests_stats. */
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
    expect((await a.workflows.get(w.id)).tests_stats).toMatchObject({
      total: 2,
      passed: 0,
      failed: 0,
      not_run: 2,
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
    expect(report.stats).toMatchObject({ total: 2, passed: 1, failed: 1, not_run: 0 });
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
    expect(failedOnly.stats).toMatchObject({ total: 2, passed: 1, failed: 1 });
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
    expect((await a.workflows.get(w.id)).tests_stats!.total).toBe(1);
    expect(await codeOf(a.tests.get(pass.id))).toBe('NOT_FOUND');
  });
});
