/**
 * `weft test <file>`: runs a workflow's tests through the in-process Workflows API (`createWeft`, Tests):
 * each test runs the draft with its input (origin TEST) and its expectations — JSONata booleans over the
 * finished run — are checked. Tests come from `<name>.tests.json` beside the workflow and/or a `tests`
 * array embedded in it. Tests run one at a time, each on its own fixtures. The tests file may hold the
 * workflow's expectation library (`"expectations": [{ id, name, script }]`), which its tests reference by
 * `expectation_id`: it is created in the registry's library first, and each reference runs its script.
 */
import { existsSync } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import { createWeft, isWeftError, type RunRecord, type WorkflowTest } from '@weft/core';
import { asUsageError, engineOptions, openWorkspace, parseVariables, workspaceEngine } from '../common.js';
import { CliError, EXIT } from '../errors.js';
import { isPlainObject, readJson } from '../files.js';
import { type Fixtures, mergeFixtures, parseFixtures } from '../fixtures.js';
import { colorsFor, duration, short, writeLine } from '../output.js';
import { displayPath, type LoadedWorkflow, loadWorkflow, sibling } from '../project.js';
import { type ProviderChoice, scriptedFrom } from '../providers.js';
import type { Io } from './run.js';

export interface TestFlags {
  provider?: ProviderChoice;
  fixtures?: string;
  var: string[];
  secret: string[];
  /** `--plugin` modules of host steps and services. */
  plugin?: string[];
  json: boolean;
  /** The expression language of documents that do not say (`--language`). */
  language?: 'jsonata' | 'javascript';
}

/** A test as written in a tests file: the registry's test object, plus optional per-test fixtures. */
export interface TestDefinition {
  name: string;
  input?: Record<string, unknown>;
  step_key?: string | null;
  expectations?: Array<{ key: string; name?: string; script?: string; expectation_id?: string }>;
  fixtures?: unknown;
}

/** An expectation of the tests file's library: `id` is the file's own name for it. */
export interface LibraryDefinition {
  id: string;
  name: string;
  script: string;
}

interface LoadedTests {
  source: string;
  tests: Array<{ definition: TestDefinition; where: string }>;
  /** The tests file's expectation library (empty without one). */
  library: Array<{ definition: LibraryDefinition; where: string }>;
  /** Fixtures of the tests file (over the workflow's), if any. */
  fixtures: Fixtures | null;
}

/** `x.tests.json` → `x.json`; anything else is the workflow itself. */
export function workflowFileOf(file: string): string {
  return /\.tests\.json$/i.test(file) ? file.replace(/\.tests\.json$/i, '.json') : file;
}

function readTests(root: LoadedWorkflow, explicitTestsFile: string | null): LoadedTests {
  const tests: LoadedTests['tests'] = [];
  const library: LoadedTests['library'] = [];
  let fixtures: Fixtures | null = null;
  const sources: string[] = [];
  (root.embeddedTests ?? []).forEach((definition, i) => {
    tests.push({
      definition: checkTest(definition, `${root.file}: tests[${i}]`),
      where: `${root.file}: tests[${i}]`,
    });
  });
  if (tests.length > 0) sources.push(root.file);
  const testsPath = explicitTestsFile ?? sibling(root.path, '.tests.json');
  if (existsSync(testsPath)) {
    const file = displayPath(testsPath);
    sources.push(file);
    const doc = readJson(file, 'tests file');
    if (!isPlainObject(doc) || !Array.isArray(doc.tests)) {
      throw new CliError(
        `${file}: expected { "tests": [ { name, input, step_key?, expectations: [...] } ], "fixtures"? }.`,
      );
    }
    if (doc.expectations !== undefined) {
      if (!Array.isArray(doc.expectations)) {
        throw new CliError(`${file}: "expectations" (the library) must be an array of { id, name, script }.`);
      }
      const ids = new Set<string>();
      doc.expectations.forEach((definition, i) => {
        const where = `${file}: expectations[${i}]`;
        const checked = checkLibraryExpectation(definition, where);
        if (ids.has(checked.id)) throw new CliError(`${where}: the id "${checked.id}" is used twice.`);
        ids.add(checked.id);
        library.push({ definition: checked, where });
      });
    }
    doc.tests.forEach((definition, i) => {
      tests.push({
        definition: checkTest(definition, `${file}: tests[${i}]`),
        where: `${file}: tests[${i}]`,
      });
    });
    if (doc.fixtures !== undefined) {
      if (typeof doc.fixtures === 'string') {
        const path = displayPath(resolve(dirname(testsPath), doc.fixtures));
        fixtures = parseFixtures(readJson(path, 'fixtures file'), path);
      } else {
        fixtures = parseFixtures(doc.fixtures, `${file}: fixtures`);
      }
    }
  }
  if (tests.length === 0) {
    throw new CliError(
      `${root.file}: no tests found. Write them in ${displayPath(sibling(root.path, '.tests.json'))} ` +
        '({ "tests": [{ "name", "input", "expectations": [{ "key", "name", "script" }] }] }) or embed a "tests" array in the workflow.',
    );
  }
  return { source: sources.join(' and '), tests, fixtures, library };
}

function checkLibraryExpectation(value: unknown, where: string): LibraryDefinition {
  if (!isPlainObject(value))
    throw new CliError(`${where}: a library expectation must be an object { id, name, script }.`);
  if (typeof value.id !== 'string' || value.id === '')
    throw new CliError(`${where}: "id" must be a non-empty string (tests reference it as "expectation_id").`);
  return value as unknown as LibraryDefinition;
}

function checkTest(value: unknown, where: string): TestDefinition {
  if (!isPlainObject(value))
    throw new CliError(`${where}: a test must be an object { name, input, expectations }.`);
  if (typeof value.name !== 'string' || value.name.trim() === '')
    throw new CliError(`${where}: "name" must be a non-empty string.`);
  if (value.input !== undefined && !isPlainObject(value.input))
    throw new CliError(`${where}: "input" must be an object.`);
  if (value.expectations !== undefined && !Array.isArray(value.expectations)) {
    throw new CliError(`${where}: "expectations" must be an array of { key, name, script }.`);
  }
  return value as unknown as TestDefinition;
}

interface TestOutcome {
  name: string;
  status: 'PASSED' | 'FAILED';
  duration_ms: number;
  run_id: string | null;
  run_status: string | null;
  result: unknown;
  error: RunRecord['error'] | null;
  expectations: WorkflowTest['results'];
}

export async function testCommand(file: string, flags: TestFlags, io: Io): Promise<number> {
  const c = colorsFor(io.stdout, io.env);
  const workflowFile = workflowFileOf(file);
  const root = loadWorkflow(workflowFile);
  const loaded = readTests(root, workflowFile === file ? null : resolve(file));
  const variables = parseVariables(flags.var, flags.secret);
  const workspace = await openWorkspace(root, {
    provider: flags.provider,
    fixtures: flags.fixtures,
    env: io.env,
    preferScripted: true,
    plugins: flags.plugin ?? [],
    language: flags.language,
  });
  workspaceEngine(workspace); // checks every document first: an invalid one is bad input (exit 2)

  const base =
    loaded.fixtures === null ? workspace.fixtures : mergeFixtures(workspace.fixtures, loaded.fixtures);
  let current = base;
  const { workflows: _resolver, ...options } = engineOptions(workspace, () => current);
  const weft = createWeft(options);
  const app = weft.app('local');
  try {
    for (const variable of variables)
      await app.variables.set(variable.key, variable.value, { secret: variable.secret === true });
    for (const [id, sub] of workspace.workflows) {
      await app.workflows.create({ id, name: id, draft: sub.document as never });
      await app.versions.publish(id, { notes: `from ${sub.file}` });
    }
    const workflow = await app.workflows.create({
      name: basename(root.path).replace(/\.json$/i, ''),
      draft: root.document as never,
    });
    // The file's library, created in the workflow's; the file's ids map to the registry's.
    const libraryIds = new Map<string, string>();
    const fileIds = new Map<string, string>();
    for (const { definition, where } of loaded.library) {
      try {
        const { id: _id, ...input } = definition;
        const expectation = await app.tests.expectations.create(workflow.id, input);
        libraryIds.set(definition.id, expectation.id);
        fileIds.set(expectation.id, definition.id);
      } catch (error) {
        const usage = asUsageError(error);
        if (usage instanceof CliError) throw new CliError(`${where}: ${usage.message}`);
        throw error;
      }
    }
    const created: Array<{ test: WorkflowTest; fixtures: Fixtures; source: string }> = [];
    for (const { definition, where } of loaded.tests) {
      let fixtures = base;
      const source =
        definition.fixtures === undefined ? (workspace.fixturesSource ?? 'fixtures') : `${where}.fixtures`;
      if (definition.fixtures !== undefined)
        fixtures = mergeFixtures(base, parseFixtures(definition.fixtures, source));
      // A bad fixture is bad input, reported before any test runs.
      if (workspace.setup.dryRun) scriptedFrom(fixtures, source);
      try {
        const test = await app.tests.create(workflow.id, {
          name: definition.name,
          input: definition.input ?? {},
          step_key: definition.step_key ?? null,
          expectations: (definition.expectations ?? []).map((e, i) => {
            if (!isPlainObject(e) || e.expectation_id === undefined) return e;
            const id = libraryIds.get(String(e.expectation_id));
            if (id === undefined) {
              throw new CliError(
                `expectations[${i}].expectation_id "${String(e.expectation_id)}" is not the id of an expectation in the tests file's "expectations" library.`,
              );
            }
            return { ...e, expectation_id: id };
          }) as never,
        });
        created.push({ test, fixtures, source });
      } catch (error) {
        const usage = asUsageError(error);
        if (usage instanceof CliError) throw new CliError(`${where}: ${usage.message}`);
        throw error;
      }
    }

    if (!flags.json) {
      writeLine(io.stderr, c.dim(workspace.setup.notice));
      writeLine(
        io.stdout,
        `${c.bold('weft test')} ${root.file} ${c.dim(`· ${created.length} test${created.length === 1 ? '' : 's'} from ${loaded.source}`)}`,
      );
    }
    const outcomes: TestOutcome[] = [];
    for (const { test, fixtures, source } of created) {
      current = fixtures;
      workspace.setup.useFixtures(fixtures, source);
      const started = Date.now();
      const report = await app.tests.run(workflow.id, { test_ids: [test.id] });
      const done = report.tests[0]!;
      const run = done.last_run_id === null ? null : await app.runs.get(done.last_run_id);
      const outcome: TestOutcome = {
        name: done.name,
        status: done.status === 'PASSED' ? 'PASSED' : 'FAILED',
        duration_ms: Date.now() - started,
        run_id: run?.id ?? null,
        run_status: run?.status ?? null,
        result: run?.result ?? null,
        error: run?.error ?? null,
        // Library references are shown by the file's id, not the registry's generated one.
        expectations: done.results.map((r) =>
          r.expectation_id === undefined
            ? r
            : { ...r, expectation_id: fileIds.get(r.expectation_id) ?? r.expectation_id },
        ),
      };
      outcomes.push(outcome);
      if (!flags.json) printOutcome(outcome, io, c);
    }
    const passed = outcomes.filter((o) => o.status === 'PASSED').length;
    const failed = outcomes.length - passed;
    if (flags.json) {
      writeLine(io.stdout, JSON.stringify({ workflow: root.file, passed, failed, tests: outcomes }, null, 2));
    } else {
      writeLine(io.stdout);
      writeLine(
        io.stdout,
        `${failed === 0 ? c.green(`${passed} passed`) : `${passed} passed`}, ${failed > 0 ? c.red(`${failed} failed`) : `${failed} failed`}`,
      );
    }
    return failed === 0 ? EXIT.OK : EXIT.FAILED;
  } catch (error) {
    if (isWeftError(error)) throw asUsageError(error);
    throw error;
  } finally {
    await weft.close();
  }
}

function printOutcome(outcome: TestOutcome, io: Io, c: ReturnType<typeof colorsFor>): void {
  const mark = outcome.status === 'PASSED' ? c.green('✔') : c.red('✖');
  writeLine(io.stdout, `${mark} ${outcome.name} ${c.dim(duration(outcome.duration_ms))}`);
  for (const e of outcome.expectations) {
    const ok = e.status === 'PASSED';
    writeLine(
      io.stdout,
      `    ${ok ? c.green('✔') : c.red('✖')} ${e.name}${ok || e.message === null ? '' : c.red(` — ${e.message}`)}`,
    );
  }
  if (outcome.status === 'FAILED') {
    if (outcome.run_status !== null && outcome.run_status !== 'COMPLETED') {
      const error = outcome.error === null ? '' : `: ${outcome.error.code}: ${outcome.error.message}`;
      writeLine(io.stdout, c.dim(`    run ${outcome.run_status}${error}`));
    } else if (outcome.run_status !== null) {
      writeLine(io.stdout, c.dim(`    result: ${short(outcome.result, 200)}`));
    }
  }
}
