/** Test expectations in JavaScript (issue 14, item 4): `return result === 11;`, in the workflow's language. */
import { describe, expect, it } from 'vitest';
import { setup } from './test-support/fixtures.js';

const jsDraft = {
  language: 'javascript',
  steps: [
    { type: 'input', key: 'in', input: { n: { type: 'number' } }, destinations: ['double'] },
    {
      type: 'code',
      key: 'double',
      code: 'console.log("doubling", input.n); return { result: input.n * 2 };',
    },
  ],
} as never;

describe('JavaScript test expectations', () => {
  it('are function bodies over result, output, status, usage, error, input and step', async () => {
    const { a } = setup();
    const w = await a.workflows.create({ name: 'double', draft: jsDraft });
    const test = await a.tests.create(w.id, {
      name: 'doubles',
      input: { n: 5.5 },
      step_key: 'double',
      expectations: [
        { key: 'result', name: 'result', script: 'return result === 11;' },
        {
          key: 'all',
          name: 'every name',
          script:
            "return status === 'COMPLETED' && error === null && input.n === 5.5 && step.output.result === 11 && output.double.logs[0].message === 'doubling 5.5' && usage.total === 0;",
        },
        { key: 'false', name: 'false fails', script: 'return result === 12;' },
        { key: 'type', name: 'not a boolean', script: 'return result;' },
        { key: 'throws', name: 'a throw fails the expectation', script: 'return output.missing.output;' },
        { key: 'loop', name: 'a limit fails the expectation', script: 'while (true) {}' },
      ],
    });
    const report = await a.tests.run(w.id, { test_ids: [test.id] });
    const results = Object.fromEntries(report.tests[0]!.results.map((r) => [r.key, r]));
    expect(results.result).toMatchObject({ status: 'PASSED' });
    expect(results.all).toMatchObject({ status: 'PASSED' });
    expect(results.false).toMatchObject({ status: 'FAILED', message: expect.stringContaining('false') });
    expect(results.type).toMatchObject({
      status: 'FAILED',
      message: expect.stringContaining('true or false'),
    });
    expect(results.throws).toMatchObject({ status: 'FAILED', message: expect.stringContaining('TypeError') });
    expect(results.loop).toMatchObject({ status: 'FAILED', message: expect.stringContaining('deadline') });
    expect(report.tests[0]!.status).toBe('FAILED');
  });

  it('a script that does not parse is refused at create, with line and column', async () => {
    const { a } = setup();
    const w = await a.workflows.create({ name: 'double', draft: jsDraft });
    await expect(
      a.tests.create(w.id, {
        name: 'broken',
        expectations: [{ key: 'k', name: 'k', script: 'return result ===;' }],
      }),
    ).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', details: { line: 1, column: 18 } });
  });

  it('createWeft({ language }) is the default for workflows that do not say', async () => {
    const { a } = setup({ language: 'javascript' });
    const w = await a.workflows.create({
      name: 'plain',
      draft: { steps: [{ type: 'code', key: 'c', code: 'return { result: 3 };' }] } as never,
    });
    const t = await a.tests.create(w.id, {
      name: 'three',
      expectations: [{ key: 'k', name: 'k', script: 'return result === 3;' }],
    });
    const report = await a.tests.run(w.id, { test_ids: [t.id] });
    expect(report.tests[0]!.status).toBe('PASSED');
  });
});
