/**
 * The Tests resource's mapping, in one place: Weft's `WorkflowTest` ↔ the platform's WorkflowTestSchema,
 * the platform's run options ↔ `tests.run` modes, and the platform's stats. The registry's test model is
 * changing (issue 14: DRAFT status, execute_* options, a new tests_stats shape): only this file follows.
 */
import type { CreateTestInput, RunTestsInput, UpdateTestInput, WorkflowTest } from '@weft/core';
import type { WireRun } from './wire-runs.js';

export interface WireExpectation {
  key: string;
  name: string;
  script: string;
  status: string | null;
  message: string | null;
}

export interface WireTest {
  id: string;
  name: string;
  status: string;
  input: Record<string, unknown>;
  step_key: string | null;
  expectations: WireExpectation[];
  expectations_passing_count: number;
  expectations_failing_count: number;
  workflow_id: string;
  run: WireRun | null;
  last_run_id: string | null;
  last_run_at: string | null;
  created_at: string;
  updated_at: string;
}

export interface WireTestsStats {
  total_count: number;
  running_count: number;
  cancelled_count: number;
  passing_count: number;
  failing_count: number;
  expectations_failing_count: number;
  expectations_passing_count: number;
}

/** A test that has never run is DRAFT on the platform (Weft's registry says null, or DRAFT after issue 14). */
export function testStatus(test: WorkflowTest): string {
  return (test.status as string | null) ?? 'DRAFT';
}

function resultsOf(test: WorkflowTest) {
  return new Map((test.results ?? []).map((r) => [r.key, r]));
}

export function toWireTest(test: WorkflowTest, run: WireRun | null): WireTest {
  const results = resultsOf(test);
  let passing = 0;
  let failing = 0;
  for (const r of results.values()) {
    if (r.status === 'PASSED') passing++;
    else if (r.status === 'FAILED') failing++;
  }
  return {
    id: test.id,
    name: test.name,
    status: testStatus(test),
    input: test.input,
    step_key: test.step_key,
    expectations: test.expectations.map((e) => {
      const result = results.get(e.key);
      return {
        key: e.key,
        name: e.name,
        script: e.script,
        status: result?.status ?? null,
        message: result?.message ?? null,
      };
    }),
    expectations_passing_count: passing,
    expectations_failing_count: failing,
    workflow_id: test.workflow_id,
    run,
    last_run_id: test.last_run_id,
    last_run_at: test.last_run_at,
    created_at: test.created_at,
    updated_at: test.updated_at,
  };
}

export function emptyTestsStats(): WireTestsStats {
  return {
    total_count: 0,
    running_count: 0,
    cancelled_count: 0,
    passing_count: 0,
    failing_count: 0,
    expectations_failing_count: 0,
    expectations_passing_count: 0,
  };
}

/** Adds one test to running stats (computed from the tests themselves, whatever shape tests_stats has). */
export function countTest(stats: WireTestsStats, test: WorkflowTest): void {
  stats.total_count++;
  const status = testStatus(test);
  if (status === 'RUNNING') stats.running_count++;
  else if (status === 'CANCELLED') stats.cancelled_count++;
  else if (status === 'PASSED') stats.passing_count++;
  else if (status === 'FAILED') stats.failing_count++;
  for (const r of test.results ?? []) {
    if (r.status === 'PASSED') stats.expectations_passing_count++;
    else if (r.status === 'FAILED') stats.expectations_failing_count++;
  }
}

interface ExpectationBody {
  key: string;
  name?: string;
  script: string;
}

function expectationsOf(items: readonly ExpectationBody[]) {
  // The platform's items also carry status/output/logs of a past evaluation: those are results, not input.
  return items.map((e) => ({ key: e.key, name: e.name ?? e.key, script: e.script }));
}

export function createTestInput(body: {
  name: string;
  input?: Record<string, unknown>;
  step_key?: string | null;
  expectations?: ExpectationBody[];
}): CreateTestInput {
  return {
    name: body.name,
    ...(body.input === undefined ? {} : { input: body.input }),
    ...(body.step_key === undefined ? {} : { step_key: body.step_key }),
    ...(body.expectations === undefined ? {} : { expectations: expectationsOf(body.expectations) }),
  };
}

export function updateTestInput(body: {
  name?: string;
  input?: Record<string, unknown>;
  step_key?: string | null;
  expectations?: ExpectationBody[];
}): UpdateTestInput {
  return {
    ...(body.name === undefined ? {} : { name: body.name }),
    ...(body.input === undefined ? {} : { input: body.input }),
    ...(body.step_key === undefined ? {} : { step_key: body.step_key }),
    ...(body.expectations === undefined ? {} : { expectations: expectationsOf(body.expectations) }),
  };
}

/** Run Tests (all of a workflow's, or only the failed ones) on the draft or a version number. */
export function runTestsInput(body: {
  workflow_version_number?: number;
  execute_failed_only?: boolean;
}): RunTestsInput {
  return {
    mode: body.execute_failed_only === true ? 'failed' : 'all',
    version: body.workflow_version_number ?? 'draft',
  };
}

/** Run Test: one test; `execute_expectations_only` re-evaluates its expectations against its last run. */
export function runTestInput(
  testId: string,
  body: { workflow_version_number?: number; execute_expectations_only?: boolean },
): RunTestsInput {
  return {
    mode: body.execute_expectations_only === true ? 'expectations' : 'all',
    version: body.workflow_version_number ?? 'draft',
    test_ids: [testId],
  };
}

/** A test status filter of the platform (`ALL` or a status) as a predicate. */
export function statusFilter(status: string | undefined): ((test: WorkflowTest) => boolean) | undefined {
  if (status === undefined || status === 'ALL') return undefined;
  return (test) => testStatus(test) === status;
}
