/**
 * Workflow tests (the platform's Tests resource): each test runs the workflow with its input (origin TEST),
 * starting from its `step_key` when it has one, and checks expectations — booleans over the finished run,
 * in the workflow's language: JSONata expressions, or JavaScript function bodies (`return result === 11;`)
 * when the version (or the engine) says `"language": "javascript"`. The names a script reads are `result,
 * output, status, usage, error, input, step`: `output` is the run's step records by key
 * (`output.summarize.output` is that step's output), `step` is the record of the test's `step_key`.
 * Scripts are evaluated under the engine's expression limits, across the same evaluation boundary as the
 * run's own expressions. A test is DRAFT until it first runs, RUNNING while it runs, then PASSED, FAILED
 * or CANCELLED; `tests_stats` has the platform's counts. An expectation may reference the workflow's
 * expectation library (`expectation_id`, expectation-library.ts) instead of carrying a script: the
 * reference is checked when the test is written and resolved again at every run.
 */
import { ERROR_CODES, invalidArgument, isWeftError, WeftError } from '../errors.js';
import { compileJavaScript } from '../expressions/javascript.js';
import {
  compileExpression,
  DEFAULT_EXPRESSION_LIMITS,
  type ExpressionLanguage,
  type ExpressionLimits,
  normalizeValue,
  typeName,
} from '../expressions/jsonata.js';
import { checkedCopy } from '../json-data.js';
import type {
  ExpectationResult,
  PageQuery,
  RunRecord,
  TestExpectation,
  TestStatus,
  TestsStats,
  Workflow,
  WorkflowExpectation,
  WorkflowTest,
} from '../store/types.js';
import { loadRun, ownWorkflow, targetOf } from './access.js';
import {
  type CreateTestInput,
  type RunTestInput,
  type RunTestsInput,
  TEST_RUN_MODES,
  type TestRunMode,
  type TestRunReport,
  type TestsApi,
  type UpdateTestInput,
  type VersionRef,
} from './client.js';
import type { RegistryContext } from './context.js';
import { checkOptions, checkPageQuery, testNotFound } from './errors.js';
import { expectationsApi, libraryExpectation } from './expectation-library.js';
import { checkScript, languageOf } from './expectation-script.js';
import { startRun } from './start.js';

/** The names a JavaScript expectation reads (the JSONata scope's fields). */
const EXPECTATION_NAMES = ['result', 'output', 'status', 'usage', 'error', 'input', 'step'] as const;

/** The largest `output` (JSON characters) an expectation result keeps: past it, null. */
const MAX_RESULT_OUTPUT = 1_024;

/** Finds a library expectation of the test's workflow by id (null: there is none). */
type LibraryLookup = (id: string) => Promise<WorkflowExpectation | null>;

async function checkExpectations(
  value: unknown,
  language: ExpressionLanguage,
  library: LibraryLookup,
): Promise<TestExpectation[]> {
  if (!Array.isArray(value))
    throw invalidArgument(
      'expectations',
      'an array of { key, name, script } or { key, expectation_id }',
      value,
    );
  const keys = new Set<string>();
  const out: TestExpectation[] = [];
  // One store read per library expectation named, however many items name it.
  const found = new Map<string, Promise<WorkflowExpectation | null>>();
  for (const [i, e] of value.entries()) {
    if (e === null || typeof e !== 'object')
      throw invalidArgument(`expectations[${i}]`, '{ key, name, script } or { key, expectation_id }', e);
    const { key, name, script, expectation_id: expectationId } = e as Record<string, unknown>;
    if (typeof key !== 'string' || key === '')
      throw invalidArgument(`expectations[${i}].key`, 'a non-empty string', key);
    if (keys.has(key)) {
      throw new WeftError(
        ERROR_CODES.INVALID_ARGUMENT,
        `Expectation key "${key}" is used twice; give each expectation of a test its own key.`,
        { details: { parameter: `expectations[${i}].key` } },
      );
    }
    keys.add(key);
    if (name !== undefined && typeof name !== 'string')
      throw invalidArgument(`expectations[${i}].name`, 'a string', name);
    if (expectationId !== undefined) {
      // A library reference: the library's script runs; a `script` beside it (a test read back and sent
      // again) is ignored.
      if (typeof expectationId !== 'string' || expectationId === '')
        throw invalidArgument(
          `expectations[${i}].expectation_id`,
          'the id of a library expectation',
          expectationId,
        );
      if (!found.has(expectationId)) found.set(expectationId, library(expectationId));
      const entry = await found.get(expectationId)!;
      if (entry === null) {
        throw new WeftError(
          ERROR_CODES.INVALID_ARGUMENT,
          `Expectation "${key}" references library expectation "${expectationId}", which the workflow's library does not have. Create it first (tests.expectations.create), or give the expectation its own \`script\`.`,
          { details: { parameter: `expectations[${i}].expectation_id`, expectation_id: expectationId } },
        );
      }
      out.push({ key, name: name ?? entry.name, script: entry.script, expectation_id: entry.id });
      continue;
    }
    checkScript(script, language, `expectations[${i}].script`, `expectation "${key}"`);
    out.push({ key, name: name ?? key, script: script as string });
  }
  return out;
}

function checkInputObject(value: unknown): Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value))
    throw invalidArgument('input', 'an object', value);
  return checkedCopy(value, 'input') as Record<string, unknown>;
}

function checkStepKey(value: unknown): string | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== 'string' || value === '')
    throw invalidArgument('step_key', 'a step key or null', value);
  return value;
}

/** A test's expectation as it runs: a library reference whose expectation is gone is `missing`. */
export type ResolvedExpectation = TestExpectation & { missing?: true };

/** The value an expectation result keeps as `output`: small JSON only. */
function resultOutput(value: unknown): unknown {
  if (value === undefined) return null;
  try {
    const json = JSON.stringify(value);
    return json !== undefined && json.length <= MAX_RESULT_OUTPUT ? JSON.parse(json) : null;
  } catch {
    return null;
  }
}

/** The fields every result of expectation `e` carries. */
function resultBase(e: ResolvedExpectation) {
  return {
    key: e.key,
    name: e.name,
    ...(e.expectation_id === undefined ? {} : { expectation_id: e.expectation_id }),
    script: e.script,
  };
}

/** Evaluates a test's expectations over a finished run (null: no run, every expectation fails with `why`). */
export async function evaluateExpectations(
  test: Pick<WorkflowTest, 'step_key'> & { expectations: readonly ResolvedExpectation[] },
  run: RunRecord | null,
  why: string,
  language: ExpressionLanguage = 'jsonata',
  limits?: ExpressionLimits,
): Promise<ExpectationResult[]> {
  const results: ExpectationResult[] = [];
  for (const e of test.expectations) {
    const base = resultBase(e);
    if (e.missing === true) {
      results.push({
        ...base,
        status: 'FAILED',
        message: `Library expectation "${e.expectation_id}" no longer exists (it was deleted). Update the test: reference another library expectation or give this one its own script.`,
        output: null,
        code: ERROR_CODES.NOT_FOUND,
      });
      continue;
    }
    if (run === null) {
      results.push({ ...base, status: 'FAILED', message: why, output: null });
      continue;
    }
    const scope = {
      result: run.result,
      output: run.output,
      status: run.status,
      usage: run.usage,
      error: run.error,
      input: run.input,
      step: test.step_key === null ? null : (run.output[test.step_key] ?? null),
    };
    try {
      const site = { field: `expectations.${e.key}.script` };
      const value =
        language === 'javascript'
          ? await compileJavaScript(
              e.script,
              site,
              EXPECTATION_NAMES,
              limits ?? DEFAULT_EXPRESSION_LIMITS,
            ).call(scope)
          : normalizeValue(
              await compileExpression(e.script, site, limits).evaluate(scope, {
                input: run.input,
                steps: run.output,
                vars: {},
                run: {
                  id: run.id,
                  origin: run.origin,
                  app_id: run.app_id,
                  workflow_id: run.workflow_id,
                  version: run.version,
                },
              }),
            );
      const output = resultOutput(value);
      if (value === true) results.push({ ...base, status: 'PASSED', message: null, output });
      else if (value === false) {
        results.push({
          ...base,
          status: 'FAILED',
          message: `The expectation is false: ${e.script}`,
          output,
        });
      } else {
        results.push({
          ...base,
          status: 'FAILED',
          message: `The script must evaluate to true or false, got ${typeName(value)} (${e.script}).`,
          output,
        });
      }
    } catch (error) {
      results.push({
        ...base,
        status: 'FAILED',
        message: error instanceof Error ? error.message : String(error),
        output: null,
        ...(isWeftError(error) ? { code: error.code } : {}),
      });
    }
  }
  return results;
}

function testStatus(run: RunRecord | null, results: readonly ExpectationResult[]): TestStatus {
  if (run === null) return 'FAILED';
  if (run.status === 'CANCELLED') return 'CANCELLED';
  if (results.length === 0) return run.status === 'COMPLETED' ? 'PASSED' : 'FAILED';
  return results.every((r) => r.status === 'PASSED') ? 'PASSED' : 'FAILED';
}

async function allTests(ctx: RegistryContext, workflowId: string): Promise<WorkflowTest[]> {
  const out: WorkflowTest[] = [];
  let cursor: string | null = null;
  do {
    const page = await ctx.store.listTests({ workflow_id: workflowId, limit: 100, cursor });
    out.push(...page.data);
    cursor = page.next_cursor;
  } while (cursor !== null);
  return out;
}

/** The platform's counts over a workflow's tests. */
export function statsOf(tests: readonly WorkflowTest[]): TestsStats {
  const stats: TestsStats = {
    total_count: tests.length,
    running_count: 0,
    cancelled_count: 0,
    passing_count: 0,
    failing_count: 0,
    expectations_failing_count: 0,
    expectations_passing_count: 0,
  };
  for (const t of tests) {
    if (t.status === 'RUNNING') stats.running_count++;
    else if (t.status === 'CANCELLED') stats.cancelled_count++;
    else if (t.status === 'PASSED') stats.passing_count++;
    else if (t.status === 'FAILED') stats.failing_count++;
    for (const r of t.results) {
      if (r.status === 'PASSED') stats.expectations_passing_count++;
      else stats.expectations_failing_count++;
    }
  }
  return stats;
}

async function refreshStats(ctx: RegistryContext, workflow: Workflow): Promise<TestsStats> {
  const stats = statsOf(await allTests(ctx, workflow.id));
  await ctx.store.updateWorkflow(workflow.id, { tests_stats: stats, updated_at: ctx.now() });
  return stats;
}

/** `version` or the platform's `workflow_version_number` (default "draft"). */
function versionOf(input: RunTestInput): VersionRef {
  const number = input.workflow_version_number;
  if (number !== undefined && (!Number.isInteger(number) || number < 1)) {
    throw invalidArgument('workflow_version_number', 'a version number ≥ 1', number);
  }
  if (number !== undefined && input.version !== undefined && input.version !== number) {
    throw new WeftError(
      ERROR_CODES.INVALID_ARGUMENT,
      `Expected \`version\` and \`workflow_version_number\` to name the same version, got ${JSON.stringify(input.version)} and ${number}. Give one of them.`,
      { details: { parameter: 'workflow_version_number' } },
    );
  }
  return number ?? input.version ?? 'draft';
}

/** The mode, from `mode` or the platform's flags (they must agree). */
function modeOf(input: RunTestsInput): TestRunMode {
  const mode = input.mode;
  if (mode !== undefined && !(TEST_RUN_MODES as readonly string[]).includes(mode)) {
    throw invalidArgument('mode', TEST_RUN_MODES.map((m) => `"${m}"`).join(', '), mode);
  }
  const flagged: TestRunMode | undefined = input.execute_expectations_only
    ? 'expectations'
    : input.execute_failed_only
      ? 'failed'
      : undefined;
  if (input.execute_expectations_only && input.execute_failed_only) {
    throw invalidArgument('execute_failed_only', 'not combined with execute_expectations_only', true);
  }
  if (mode !== undefined && flagged !== undefined && mode !== flagged) {
    throw invalidArgument('mode', `"${flagged}" (as the execute_* flag says) or left out`, mode);
  }
  return mode ?? flagged ?? 'all';
}

export function testsApi(ctx: RegistryContext, appId: string): TestsApi {
  const ownTest = async (testId: string): Promise<WorkflowTest> => {
    if (typeof testId !== 'string' || testId === '')
      throw invalidArgument('testId', 'a non-empty string', testId);
    const test = await ctx.store.getTest(testId);
    if (test === null || test.app_id !== appId) throw testNotFound(testId);
    return test;
  };
  const locked = <T>(workflowId: string, fn: () => Promise<T>) => ctx.locks.run(`tests:${workflowId}`, fn);
  /** Tests running in the background (execute_async), by id. */
  const pending = new Map<string, Promise<void>>();
  const library =
    (workflowId: string): LibraryLookup =>
    (id) =>
      libraryExpectation(ctx, appId, workflowId, id);

  return {
    expectations: expectationsApi(ctx, appId),

    async create(workflowId, input: CreateTestInput) {
      checkOptions(input, 'input');
      const workflow = await ownWorkflow(ctx, appId, workflowId);
      if (typeof input?.name !== 'string' || input.name.trim() === '')
        throw invalidArgument('name', 'a non-empty string', input?.name);
      const now = ctx.now();
      const test: WorkflowTest = {
        id: ctx.ids(),
        app_id: appId,
        workflow_id: workflow.id,
        name: input.name,
        input: input.input === undefined ? {} : checkInputObject(input.input),
        step_key: checkStepKey(input.step_key),
        expectations: await checkExpectations(
          input.expectations ?? [],
          languageOf(ctx, workflow.draft),
          library(workflow.id),
        ),
        status: 'DRAFT',
        results: [],
        last_run_id: null,
        last_run_at: null,
        created_at: now,
        updated_at: now,
      };
      return locked(workflow.id, async () => {
        await ctx.store.insertTest(test);
        await refreshStats(ctx, workflow);
        return test;
      });
    },

    get: ownTest,

    async list(workflowId, query: PageQuery = {}) {
      checkPageQuery(query);
      await ownWorkflow(ctx, appId, workflowId);
      return ctx.store.listTests({ ...query, workflow_id: workflowId });
    },

    async update(testId, patch: UpdateTestInput) {
      checkOptions(patch, 'patch');
      const test = await ownTest(testId);
      const next: Parameters<typeof ctx.store.updateTest>[1] = { updated_at: ctx.now() };
      if (patch.name !== undefined) {
        if (typeof patch.name !== 'string' || patch.name.trim() === '')
          throw invalidArgument('name', 'a non-empty string', patch.name);
        next.name = patch.name;
      }
      if (patch.input !== undefined) next.input = checkInputObject(patch.input);
      if (patch.step_key !== undefined) next.step_key = checkStepKey(patch.step_key);
      if (patch.expectations !== undefined) {
        const workflow = await ownWorkflow(ctx, appId, test.workflow_id);
        next.expectations = await checkExpectations(
          patch.expectations,
          languageOf(ctx, workflow.draft),
          library(workflow.id),
        );
      }
      const updated = await ctx.store.updateTest(test.id, next);
      if (updated === null) throw testNotFound(testId);
      return updated;
    },

    async delete(testId) {
      const test = await ownTest(testId);
      const workflow = await ownWorkflow(ctx, appId, test.workflow_id);
      await locked(workflow.id, async () => {
        await ctx.store.deleteTest(test.id);
        await refreshStats(ctx, workflow);
      });
    },

    async run(workflowId, input: RunTestsInput = {}) {
      checkOptions(input, 'input');
      const mode = modeOf(input);
      const version = versionOf(input);
      if (
        input.test_ids !== undefined &&
        !(Array.isArray(input.test_ids) && input.test_ids.every((id) => typeof id === 'string'))
      ) {
        throw invalidArgument('test_ids', 'an array of test ids', input.test_ids);
      }
      const workflow = await ownWorkflow(ctx, appId, workflowId);
      const only = input.test_ids === undefined ? null : new Set(input.test_ids);
      return execute(workflow, mode, version, input.execute_async === true, (tests) =>
        tests.filter(
          (t) => (only === null || only.has(t.id)) && (mode !== 'failed' || t.status === 'FAILED'),
        ),
      );
    },

    async runTest(testId, input: RunTestInput = {}) {
      checkOptions(input, 'input');
      const mode: TestRunMode = input.execute_expectations_only === true ? 'expectations' : 'all';
      const version = versionOf(input);
      const test = await ownTest(testId);
      const workflow = await ownWorkflow(ctx, appId, test.workflow_id);
      const report = await execute(workflow, mode, version, input.execute_async === true, (tests) =>
        tests.filter((t) => t.id === test.id),
      );
      return report.tests[0] ?? test;
    },

    async stats(workflowId) {
      const workflow = await ownWorkflow(ctx, appId, workflowId);
      return statsOf(await allTests(ctx, workflow.id));
    },

    async wait(testId) {
      const test = await ownTest(testId);
      await pending.get(test.id);
      return ownTest(testId);
    },
  };

  /**
   * Runs (or re-evaluates) the tests `select` picks, under the workflow's tests lock. With `async`, the
   * tests are marked RUNNING and returned at once; each finishes in the background (`tests.wait`).
   */
  async function execute(
    workflow: Workflow,
    mode: TestRunMode,
    version: VersionRef,
    async: boolean,
    select: (tests: WorkflowTest[]) => WorkflowTest[],
  ) {
    const prepared = await locked(workflow.id, async () => {
      const tests = select(await allTests(ctx, workflow.id));
      let target: Awaited<ReturnType<typeof targetOf>> | null = null;
      if (mode !== 'expectations' && tests.length > 0) {
        target = await targetOf(ctx, workflow, version, true);
        // An invalid document fails the whole call (a ValidationError with every problem), not each test.
        ctx.engine.compile(target.document);
      }
      if (!async || target === null) return { tests, target, marked: null };
      const marked = await Promise.all(
        tests.map(
          async (t) => (await ctx.store.updateTest(t.id, { status: 'RUNNING', updated_at: ctx.now() })) ?? t,
        ),
      );
      return { tests, target, marked };
    });
    const { tests, target, marked } = prepared;
    // One read per library expectation per call, however many tests reference it.
    const cache = new Map<string, Promise<WorkflowExpectation | null>>();
    const lookup: LibraryLookup = (id) => {
      let found = cache.get(id);
      if (found === undefined) {
        found = libraryExpectation(ctx, appId, workflow.id, id);
        cache.set(id, found);
      }
      return found;
    };
    const finish = async (): Promise<TestRunReport> => {
      const done = await Promise.all(tests.map((test) => runOne(workflow, test, target, lookup)));
      const stats = await locked(workflow.id, () => refreshStats(ctx, workflow));
      return { tests: done, stats };
    };
    if (marked === null) return finish();
    const background = finish();
    for (const t of tests) {
      const settled = background.then(
        () => undefined,
        () => undefined,
      );
      pending.set(t.id, settled);
      void settled.then(() => {
        if (pending.get(t.id) === settled) pending.delete(t.id);
      });
    }
    const stats = await locked(workflow.id, () => refreshStats(ctx, workflow));
    return { tests: marked, stats };
  }

  /** One test: its run (from its step_key, origin TEST), its expectations, its new status. */
  async function runOne(
    workflow: Workflow,
    test: WorkflowTest,
    target: Awaited<ReturnType<typeof targetOf>> | null,
    lookup: LibraryLookup,
  ): Promise<WorkflowTest> {
    // Library references run the library's current script, read when the test runs.
    const expectations = await Promise.all(
      test.expectations.map(async (e): Promise<ResolvedExpectation> => {
        if (e.expectation_id === undefined) return e;
        const found = await lookup(e.expectation_id);
        return found === null ? { ...e, missing: true } : { ...e, script: found.script };
      }),
    );
    let run: RunRecord | null = null;
    let why = 'The test has not run yet: run it with tests.run(workflowId).';
    if (target === null) {
      run = test.last_run_id === null ? null : await loadRun(ctx, test.last_run_id);
    } else {
      try {
        run = await startRun(ctx, {
          app_id: appId,
          workflow,
          target,
          input: test.input,
          checkInput: true,
          origin: 'TEST',
          ...(test.step_key === null ? {} : { from_step_key: test.step_key }),
        });
      } catch (error) {
        if (!isWeftError(error)) throw error;
        why = `The run could not start: ${error.message}`;
      }
    }
    const results = await evaluateExpectations(
      { step_key: test.step_key, expectations },
      run,
      why,
      languageOf(ctx, run?.workflow_version_draft ?? run?.workflow_version ?? workflow.draft),
      ctx.engine.expressionLimits,
    );
    const now = ctx.now();
    const updated = await ctx.store.updateTest(test.id, {
      status: testStatus(run, results),
      results,
      // The copies of library scripts follow the library (a deleted one keeps the last script it ran).
      ...(expectations.some((e, i) => e.script !== test.expectations[i]!.script)
        ? { expectations: expectations.map(({ missing: _missing, ...e }) => e) }
        : {}),
      ...(target === null ? {} : { last_run_id: run?.id ?? null, last_run_at: now }),
      updated_at: now,
    });
    return updated ?? test;
  }
}
