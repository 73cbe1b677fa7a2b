/** The expectation library (`tests.expectations`) and tests that reference it by `expectation_id`. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { WorkflowExpectation } from '../store/types.js';
import { fcRuns } from '../test-support/fc.js';
import { MAX_LIBRARY_EXPECTATIONS } from './expectation-library.js';
import { code, codeOf, draft, rejection, setup } from './test-support/fixtures.js';

async function withWorkflow(env = setup()) {
  const w = await env.a.workflows.create({
    name: 'double',
    draft: draft([
      { type: 'input', key: 'in', input: { n: { type: 'number' } }, destinations: ['double'] },
      code('double', '{"result": input.n * 2}'),
    ]),
  });
  return { ...env, w };
}

describe('the expectation library', () => {
  it('create, get, list (newest first, search, pages), update, delete', async () => {
    const { a, w } = await withWorkflow();
    const four = await a.tests.expectations.create(w.id, { name: 'Result is 4', script: 'result = 4' });
    expect(four).toMatchObject({
      app_id: 'app_a',
      workflow_id: w.id,
      name: 'Result is 4',
      script: 'result = 4',
    });
    expect(four.created_at).toBe(four.updated_at);
    const done = await a.tests.expectations.create(w.id, {
      name: 'completed',
      script: 'status = "COMPLETED"',
    });
    expect(await a.tests.expectations.get(four.id)).toEqual(four);
    expect((await a.tests.expectations.list(w.id)).data.map((e) => e.id)).toEqual([done.id, four.id]);
    expect((await a.tests.expectations.list(w.id, { search: 'RESULT' })).data.map((e) => e.id)).toEqual([
      four.id,
    ]);
    const first = await a.tests.expectations.list(w.id, { limit: 1 });
    expect(first.data.map((e) => e.id)).toEqual([done.id]);
    expect(
      (await a.tests.expectations.list(w.id, { cursor: first.next_cursor })).data.map((e) => e.id),
    ).toEqual([four.id]);
    const renamed = await a.tests.expectations.update(four.id, { name: 'four' });
    expect(renamed).toMatchObject({ name: 'four', script: 'result = 4' });
    const rescripted = await a.tests.expectations.update(four.id, { script: 'result = 2 * 2' });
    expect(rescripted).toMatchObject({ name: 'four', script: 'result = 2 * 2' });
    await a.tests.expectations.delete(four.id);
    expect(await codeOf(a.tests.expectations.get(four.id))).toBe('NOT_FOUND');
    expect(await codeOf(a.tests.expectations.delete(four.id))).toBe('NOT_FOUND');
    expect((await a.tests.expectations.list(w.id)).data.map((e) => e.id)).toEqual([done.id]);
  });

  it('checks its input: name length, a script that parses (with the position), unknown fields', async () => {
    const { a, w } = await withWorkflow();
    const cases: Array<[unknown, string]> = [
      [{ name: '', script: 'true' }, 'name'],
      [{ name: 'x'.repeat(257), script: 'true' }, 'name'],
      [{ name: 'n', script: '' }, 'script'],
      [{ name: 'n', script: 42 }, 'script'],
      [{ name: 'n', script: 'x'.repeat(10_001) }, 'script'],
      [{ name: 'n', script: 'true', scirpt: 'true' }, 'input.scirpt'],
      [null, 'input'],
    ];
    for (const [input, parameter] of cases) {
      const error = await rejection(a.tests.expectations.create(w.id, input as never));
      expect(error.code, parameter).toBe('INVALID_ARGUMENT');
      expect(error.details.parameter, JSON.stringify(input)?.slice(0, 60)).toBe(parameter);
    }
    const syntax = await rejection(
      a.tests.expectations.create(w.id, { name: 'broken', script: 'result = (' }),
    );
    expect(syntax.code).toBe('INVALID_ARGUMENT');
    expect(syntax.details).toMatchObject({ parameter: 'script', position: expect.any(Number) });
    expect(syntax.message).toMatch(/library expectation "broken" does not parse at position \d+/);
    const e = await a.tests.expectations.create(w.id, { name: 'ok', script: 'true' });
    const patch = await rejection(a.tests.expectations.update(e.id, { script: 'result = )' }));
    expect(patch.details.parameter).toBe('script');
    expect(
      (await rejection(a.tests.expectations.update(e.id, { nme: 'x' } as never))).details.parameter,
    ).toBe('patch.nme');
    expect((await rejection(a.tests.expectations.list(w.id, { search: 7 } as never))).details.parameter).toBe(
      'search',
    );
    // Nothing was written by the refused calls.
    expect((await a.tests.expectations.list(w.id)).data.map((x) => x.script)).toEqual(['true']);
  });

  it('JavaScript workflows: scripts are function bodies, a syntax error names line and column', async () => {
    const { a } = setup();
    const w = await a.workflows.create({
      name: 'js',
      draft: {
        language: 'javascript',
        steps: [{ type: 'code', key: 'c', code: 'return { result: 11 };' }],
      } as never,
    });
    await a.tests.expectations.create(w.id, { name: 'eleven', script: 'return result === 11;' });
    const error = await rejection(a.tests.expectations.create(w.id, { name: 'bad', script: 'return (;' }));
    expect(error.details).toMatchObject({ parameter: 'script', line: 1, column: expect.any(Number) });
  });

  it('is app-isolated: another app gets NOT_FOUND for the expectation and the workflow, and learns nothing', async () => {
    const { a, b, w } = await withWorkflow();
    const e = await a.tests.expectations.create(w.id, { name: 'mine', script: 'true' });
    const own = await rejection(b.tests.expectations.get('no-such-id'));
    const other = await rejection(b.tests.expectations.get(e.id));
    expect(other.code).toBe('NOT_FOUND');
    // The same words as for an id that exists nowhere.
    expect(other.message.replace(e.id, 'X')).toBe(own.message.replace('no-such-id', 'X'));
    expect(await codeOf(b.tests.expectations.update(e.id, { name: 'theirs' }))).toBe('NOT_FOUND');
    expect(await codeOf(b.tests.expectations.delete(e.id))).toBe('NOT_FOUND');
    expect(await codeOf(b.tests.expectations.list(w.id))).toBe('NOT_FOUND');
    expect(await codeOf(b.tests.expectations.create(w.id, { name: 'x', script: 'true' }))).toBe('NOT_FOUND');
    expect(await a.tests.expectations.get(e.id)).toEqual(e);
  });

  it(`holds at most ${MAX_LIBRARY_EXPECTATIONS} expectations per workflow (CONFLICT past that)`, async () => {
    const { weft, a, w } = await withWorkflow();
    const now = new Date().toISOString();
    for (let i = 0; i < MAX_LIBRARY_EXPECTATIONS; i++) {
      await weft.store.insertExpectation({
        id: `e${i}`,
        app_id: 'app_a',
        workflow_id: w.id,
        name: `e${i}`,
        script: 'true',
        created_at: now,
        updated_at: now,
      });
    }
    expect(await codeOf(a.tests.expectations.create(w.id, { name: 'one more', script: 'true' }))).toBe(
      'CONFLICT',
    );
  });
});

describe('tests that reference the library by expectation_id', () => {
  it('run the library’s current script; results show expectation_id, name, script, status and output', async () => {
    const { a, w } = await withWorkflow();
    const lib = await a.tests.expectations.create(w.id, { name: 'Result is 4', script: 'result = 4' });
    const test = await a.tests.create(w.id, {
      name: 'doubles 2',
      input: { n: 2 },
      expectations: [
        { key: 'lib', expectation_id: lib.id },
        // A script beside the reference (a test read back and sent again) is ignored.
        { key: 'lib2', name: 'named here', expectation_id: lib.id, script: 'false' },
        { key: 'own', script: 'result * 10' },
      ],
    });
    expect(test.expectations).toEqual([
      { key: 'lib', name: 'Result is 4', script: 'result = 4', expectation_id: lib.id },
      { key: 'lib2', name: 'named here', script: 'result = 4', expectation_id: lib.id },
      { key: 'own', name: 'own', script: 'result * 10' },
    ]);
    const ran = await a.tests.runTest(test.id);
    expect(ran.status).toBe('FAILED');
    expect(ran.results).toEqual([
      {
        key: 'lib',
        name: 'Result is 4',
        expectation_id: lib.id,
        script: 'result = 4',
        status: 'PASSED',
        message: null,
        output: true,
      },
      {
        key: 'lib2',
        name: 'named here',
        expectation_id: lib.id,
        script: 'result = 4',
        status: 'PASSED',
        message: null,
        output: true,
      },
      {
        key: 'own',
        name: 'own',
        script: 'result * 10',
        status: 'FAILED',
        message: expect.stringMatching(/true or false, got number/),
        output: 40,
      },
    ]);
    // Editing the library changes what the test checks, from its next run on.
    await a.tests.expectations.update(lib.id, { script: 'result = 5' });
    const again = await a.tests.run(w.id, { mode: 'expectations' });
    expect(again.tests[0]!.results.slice(0, 2).map((r) => [r.status, r.script, r.output])).toEqual([
      ['FAILED', 'result = 5', false],
      ['FAILED', 'result = 5', false],
    ]);
    expect((await a.tests.get(test.id)).expectations[0]!.script).toBe('result = 5');
  });

  it('an unknown expectation_id (or another workflow’s or app’s) is INVALID_ARGUMENT at write time', async () => {
    const env = await withWorkflow();
    const { a, b, w } = env;
    const other = await a.workflows.create({ name: 'other', draft: draft([code('c', '1')]) });
    const elsewhere = await a.tests.expectations.create(other.id, { name: 'x', script: 'true' });
    const bw = await b.workflows.create({ name: 'b', draft: draft([code('c', '1')]) });
    const foreign = await b.tests.expectations.create(bw.id, { name: 'x', script: 'true' });
    for (const id of ['nope', elsewhere.id, foreign.id]) {
      const error = await rejection(
        a.tests.create(w.id, { name: 't', expectations: [{ key: 'k', expectation_id: id }] }),
      );
      expect(error.code).toBe('INVALID_ARGUMENT');
      expect(error.details).toMatchObject({
        parameter: 'expectations[0].expectation_id',
        expectation_id: id,
      });
      expect(error.message).toMatch(/library does not have/);
    }
    const t = await a.tests.create(w.id, { name: 't' });
    expect(
      (await rejection(a.tests.update(t.id, { expectations: [{ key: 'k', expectation_id: '' }] }))).details
        .parameter,
    ).toBe('expectations[0].expectation_id');
    expect((await rejection(a.tests.update(t.id, { expectations: [{ key: 'k' }] }))).details.parameter).toBe(
      'expectations[0].script',
    );
  });

  it('a library expectation deleted while tests reference it: the next run fails it with code NOT_FOUND', async () => {
    const { a, w } = await withWorkflow();
    const lib = await a.tests.expectations.create(w.id, { name: 'four', script: 'result = 4' });
    const test = await a.tests.create(w.id, {
      name: 't',
      input: { n: 2 },
      expectations: [
        { key: 'gone', expectation_id: lib.id },
        { key: 'own', script: 'result = 4' },
      ],
    });
    expect((await a.tests.runTest(test.id)).status).toBe('PASSED');
    await a.tests.expectations.delete(lib.id);
    const after = await a.tests.runTest(test.id);
    expect(after.status).toBe('FAILED');
    expect(after.results[0]).toMatchObject({
      key: 'gone',
      expectation_id: lib.id,
      status: 'FAILED',
      code: 'NOT_FOUND',
      script: 'result = 4',
      message: expect.stringMatching(/no longer exists/),
    });
    expect(after.results[1]).toMatchObject({ key: 'own', status: 'PASSED' });
    // The test keeps its reference (and the last script it ran) until it is updated.
    expect((await a.tests.get(test.id)).expectations[0]).toEqual({
      key: 'gone',
      name: 'four',
      script: 'result = 4',
      expectation_id: lib.id,
    });
    const fixed = await a.tests.update(test.id, { expectations: [{ key: 'own', script: 'result = 4' }] });
    expect((await a.tests.runTest(fixed.id)).status).toBe('PASSED');
  });

  it('property: every referencing expectation evaluates the library script it names at run time', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.integer({ min: 0, max: 6 }), { minLength: 1, maxLength: 5 }),
        fc.array(fc.tuple(fc.nat(4), fc.boolean()), { minLength: 1, maxLength: 6 }),
        async (targets, refs) => {
          const { a, w } = await withWorkflow();
          // Library expectation i checks `result = targets[i]`; the run's result is 2 × 2 = 4.
          const lib: WorkflowExpectation[] = [];
          for (const [i, t] of targets.entries())
            lib.push(
              await a.tests.expectations.create(w.id, { name: `is ${t} #${i}`, script: `result = ${t}` }),
            );
          const picks = refs.map(([i, del]) => ({ i: i % lib.length, del }));
          const test = await a.tests.create(w.id, {
            name: 't',
            input: { n: 2 },
            expectations: picks.map((p, k) => ({ key: `k${k}`, expectation_id: lib[p.i]!.id })),
          });
          const deleted = new Set(picks.filter((p) => p.del).map((p) => lib[p.i]!.id));
          for (const id of deleted) await a.tests.expectations.delete(id);
          const ran = await a.tests.runTest(test.id);
          for (const [k, p] of picks.entries()) {
            const r = ran.results[k]!;
            const e = lib[p.i]!;
            expect(r.expectation_id).toBe(e.id);
            if (deleted.has(e.id)) expect(r).toMatchObject({ status: 'FAILED', code: 'NOT_FOUND' });
            else expect(r.status).toBe(targets[p.i] === 4 ? 'PASSED' : 'FAILED');
          }
          expect(ran.status).toBe(ran.results.every((r) => r.status === 'PASSED') ? 'PASSED' : 'FAILED');
        },
      ),
      { numRuns: fcRuns(20) },
    );
  });
});
