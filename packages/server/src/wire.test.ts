/** The wire shapes: error as a string with its code beside it, step times as epoch ms, documents whole. */
import { createWeft } from '@weft/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fcRuns } from '../../core/src/test-support/fc.js';
import { epochMs, toWireRun } from './wire-runs.js';
import { runTestInput, runTestsInput, toWireTest } from './wire-tests.js';

describe('toWireRun', () => {
  it('keeps every field of the run, with error and step times in the platform’s form', async () => {
    const app = createWeft().app('a');
    const w = await app.workflows.create({
      name: 'w',
      draft: { steps: [{ type: 'code', key: 'boom', code: '$error("bad")' }] },
    });
    const run = await app.runs.run(w.id, { version: 'draft' });
    const wire = toWireRun(run);
    for (const key of Object.keys(run)) expect(wire).toHaveProperty(key);
    expect(wire.error).toBe(run.error!.message);
    expect(wire.error_code).toBe('EXPRESSION_ERROR');
    expect(wire.output.boom!.start).toBe(Date.parse(run.output.boom!.start!));
    expect(wire.output.boom!.error_code).toBe('EXPRESSION_ERROR');
    expect(wire.workflow_version_draft).toMatchObject({
      key: null,
      input: {},
      input_default: null,
      input_options: null,
    });
    expect(wire.replay_of).toBeNull();
  });
});

describe('tests mapping', () => {
  const test = {
    id: 't',
    app_id: 'a',
    workflow_id: 'w',
    name: 'n',
    input: {},
    step_key: null,
    expectations: [
      { key: 'x', name: 'x', script: 'true' },
      { key: 'y', name: 'y', script: 'false' },
    ],
    status: 'FAILED' as const,
    results: [
      { key: 'x', name: 'x', status: 'PASSED' as const, message: null },
      { key: 'y', name: 'y', status: 'FAILED' as const, message: 'false' },
    ],
    last_run_id: null,
    last_run_at: null,
    created_at: 'c',
    updated_at: 'u',
  };

  it('results become expectation statuses and counts', () => {
    const wire = toWireTest(test, null);
    expect(wire.status).toBe('FAILED');
    expect(wire.expectations.map((e) => e.status)).toEqual(['PASSED', 'FAILED']);
    expect([wire.expectations_passing_count, wire.expectations_failing_count]).toEqual([1, 1]);
    expect(toWireTest({ ...test, status: 'DRAFT', results: [] }, null).expectations[0]!.status).toBeNull();
  });

  it('passes the platform’s run options to the registry as they are, and only those given', () => {
    expect(runTestsInput({})).toEqual({});
    expect(runTestsInput({ execute_failed_only: true, workflow_version_number: 3 })).toEqual({
      execute_failed_only: true,
      workflow_version_number: 3,
    });
    expect(runTestInput({ execute_expectations_only: true, execute_async: false })).toEqual({
      execute_expectations_only: true,
      execute_async: false,
    });
  });
});

describe('epochMs', () => {
  it('reads toISOString() output exactly as Date.parse does, and anything else through Date.parse', () => {
    fc.assert(
      fc.property(fc.integer({ min: -8.64e15, max: 8.64e15 }), (ms) => {
        const iso = new Date(ms).toISOString();
        expect(epochMs(iso)).toBe(Date.parse(iso));
      }),
      { numRuns: fcRuns(500) },
    );
    for (const iso of ['0050-06-01T12:00:00.000Z', '0000-01-01T00:00:00.000Z', '9999-12-31T23:59:59.999Z']) {
      expect(epochMs(iso), iso).toBe(Date.parse(iso));
    }
    expect(epochMs('2024-01-02')).toBe(Date.parse('2024-01-02'));
    expect(epochMs('2024-01-02T03:04:05+02:00')).toBe(Date.parse('2024-01-02T03:04:05+02:00'));
    expect(epochMs('not a date')).toBeNull();
    expect(epochMs('20x4-01-01T00:00:00.000Z')).toBeNull();
    expect(epochMs(null)).toBeNull();
  });
});
