/**
 * The Tests resource's mapping, in one place: Weft's `WorkflowTest` ↔ the platform's WorkflowTestSchema
 * (expectation results merged into the expectations, their counts, the last run), and the request
 * bodies ↔ the registry's inputs (which take the platform's run options as they are).
 */
import type {
  CreateTestInput,
  RunTestsInput,
  TestExpectationInput,
  TestsApi,
  TestsStats,
  UpdateTestInput,
  WorkflowTest,
} from '@weft/core';
import type { WireRun } from './wire-runs.js';

type RunTestInput = NonNullable<Parameters<TestsApi['runTest']>[1]>;

export interface WireExpectation {
  key: string;
  name: string;
  script: string;
  expectation_id?: string;
  status: string | null;
  output?: unknown;
  message: string | null;
  code?: string;
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

/** The platform's WorkflowTestStatsSchema: the registry's `TestsStats` as it is. */
export type WireTestsStats = TestsStats;

export function testStatus(test: WorkflowTest): string {
  return test.status;
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
        ...(e.expectation_id === undefined ? {} : { expectation_id: e.expectation_id }),
        status: result?.status ?? null,
        ...(result?.output === undefined ? {} : { output: result.output }),
        message: result?.message ?? null,
        ...(result?.code === undefined ? {} : { code: result.code }),
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

interface ExpectationBody {
  key: string;
  name?: string;
  script?: string;
  expectation_id?: string;
}

function expectationsOf(items: readonly ExpectationBody[]): TestExpectationInput[] {
  // The platform's items also carry status/output/logs of a past evaluation: those are results, not input.
  // A library reference's name defaults to the library expectation's (the registry fills it in).
  return items.map((e) =>
    e.expectation_id === undefined
      ? { key: e.key, name: e.name ?? e.key, ...(e.script === undefined ? {} : { script: e.script }) }
      : { key: e.key, expectation_id: e.expectation_id, ...(e.name === undefined ? {} : { name: e.name }) },
  );
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

/** Run Tests: every test (or, with `execute_failed_only`, the failed ones) on the draft or a version. */
export function runTestsInput(body: {
  workflow_version_number?: number;
  execute_failed_only?: boolean;
}): RunTestsInput {
  return {
    ...(body.workflow_version_number === undefined
      ? {}
      : { workflow_version_number: body.workflow_version_number }),
    ...(body.execute_failed_only === undefined ? {} : { execute_failed_only: body.execute_failed_only }),
  };
}

/** Run Test: one test; `execute_expectations_only` re-evaluates its expectations against its last run. */
export function runTestInput(body: {
  workflow_version_number?: number;
  execute_async?: boolean;
  execute_expectations_only?: boolean;
}): RunTestInput {
  return {
    ...(body.workflow_version_number === undefined
      ? {}
      : { workflow_version_number: body.workflow_version_number }),
    ...(body.execute_async === undefined ? {} : { execute_async: body.execute_async }),
    ...(body.execute_expectations_only === undefined
      ? {}
      : { execute_expectations_only: body.execute_expectations_only }),
  };
}

/** A test status filter of the platform (`ALL` or a status) as a predicate. */
export function statusFilter(status: string | undefined): ((test: WorkflowTest) => boolean) | undefined {
  if (status === undefined || status === 'ALL') return undefined;
  return (test) => testStatus(test) === status;
}
