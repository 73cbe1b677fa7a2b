/** Pieces shared by the commands: input and variable flags, problems, fixtures discovery, the engine setup. */
import { existsSync } from 'node:fs';
import {
  createEngine,
  type Engine,
  type EngineOptions,
  ERROR_CODES,
  inputProblems,
  isWeftError,
  type Problem,
  ValidationError,
  type Variable,
  WeftError,
} from '@weft/core';
import { CliError } from './errors.js';
import { isPlainObject, parseJson, readJson } from './files.js';
import { emptyFixtures, type Fixtures, fixtureFetch, fixtureTools, parseFixtures } from './fixtures.js';
import { pdfImages, pdfText } from './pdf.js';
import { loadPlugins, NO_PLUGINS, type Plugins } from './plugin.js';
import { displayPath, type LoadedWorkflow, providerNames, sibling, WorkflowFiles } from './project.js';
import { type ProviderChoice, type ProviderSetup, setupProviders } from './providers.js';

/** `--input '<json>'`, `--input @file.json` or `--input @-` (stdin): a JSON object. */
export async function parseInput(
  value: string | undefined,
  stdin: NodeJS.ReadableStream = process.stdin,
): Promise<Record<string, unknown>> {
  if (value === undefined) return {};
  let parsed: unknown;
  if (value.startsWith('@')) {
    const file = value.slice(1);
    if (file === '') throw new CliError('--input @<file>: give a file name after "@" (or @- for stdin).');
    parsed = file === '-' ? parseJson(await readStdin(stdin), '--input (stdin)') : readJson(file, 'input');
  } else {
    parsed = parseJson(value, '--input');
  }
  if (!isPlainObject(parsed)) {
    throw new CliError(
      `--input must be a JSON object (the run input), got ${JSON.stringify(parsed)?.slice(0, 40)}.`,
    );
  }
  return parsed;
}

async function readStdin(stdin: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stdin) chunks.push(Buffer.from(chunk));
  return Buffer.concat(chunks).toString('utf8');
}

/** `--var KEY=VALUE` / `--secret KEY=VALUE` → variables (values are strings). */
export function parseVariables(vars: readonly string[], secrets: readonly string[]): Variable[] {
  const out = new Map<string, Variable>();
  const add = (pair: string, secret: boolean) => {
    const at = pair.indexOf('=');
    const key = at < 0 ? pair : pair.slice(0, at);
    if (at < 0 || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(key)) {
      const flag = secret ? '--secret' : '--var';
      throw new CliError(
        `${flag} ${JSON.stringify(pair)}: expected KEY=VALUE with KEY a letter or _ then letters, digits, _.`,
      );
    }
    out.set(key, { key, value: pair.slice(at + 1), secret });
  };
  for (const pair of vars) add(pair, false);
  for (const pair of secrets) add(pair, true);
  return [...out.values()];
}

/** `file: /path CODE message` lines, errors first, warnings after (marked). */
export function problemLines(file: string, problems: readonly Problem[]): string[] {
  const line = (p: Problem) =>
    `${file}: ${p.severity === 'error' ? '' : `${p.severity} `}${p.path === '' ? '/' : p.path} ${p.code} ${p.message}`;
  return [
    ...problems.filter((p) => p.severity === 'error').map(line),
    ...problems.filter((p) => p.severity !== 'error').map(line),
  ];
}

/** Validates (and compiles) a document with the engine; an invalid one is a usage error listing its problems. */
export function checkDocument(engine: Engine, workflow: LoadedWorkflow): void {
  try {
    engine.compile(workflow.document);
  } catch (error) {
    if (error instanceof ValidationError) {
      const errors = error.problems.filter((p) => p.severity === 'error');
      throw new CliError(
        `${workflow.file}: the workflow is invalid (${errors.length} error${errors.length === 1 ? '' : 's'}):`,
        { lines: problemLines(workflow.file, errors) },
      );
    }
    throw error;
  }
}

/** Input problems (against the input definition, input_default merged) as a usage error. */
export function checkInput(
  document: Record<string, unknown>,
  input: Record<string, unknown>,
  fromStep?: string,
): void {
  const problems = inputProblems(document, input, { from_step_key: fromStep });
  if (problems.length > 0) {
    throw new CliError(
      `The input does not match the workflow's input definition (${problems.length} problem${problems.length === 1 ? '' : 's'}):`,
      { lines: problems.map((p) => `  ${p.path === '' ? '/' : p.path} ${p.message}`) },
    );
  }
}

/** A WeftError from a bad option (INVALID_ARGUMENT, INVALID_INPUT) becomes a usage error. */
export function asUsageError(error: unknown): unknown {
  if (
    isWeftError(error) &&
    (error.code === ERROR_CODES.INVALID_ARGUMENT || error.code === ERROR_CODES.INVALID_INPUT)
  ) {
    return new CliError(error.message, { cause: error });
  }
  return error;
}

export interface Workspace {
  root: LoadedWorkflow;
  files: WorkflowFiles;
  /** Sub-workflows found through literal `workflow_id`s. */
  workflows: Map<string, LoadedWorkflow>;
  fixtures: Fixtures;
  fixturesSource: string | null;
  setup: ProviderSetup;
  /** Host step handlers and services from `--plugin` modules. */
  plugins: Plugins;
  /** `--language`: the expression language of documents that do not say. */
  language?: 'jsonata' | 'javascript' | undefined;
}

export interface WorkspaceOptions {
  provider: ProviderChoice | undefined;
  fixtures: string | undefined;
  env: NodeJS.ProcessEnv;
  preferScripted?: boolean;
  /** Fixtures to use when no --fixtures is given and no <name>.fixtures.json exists. */
  defaultFixtures?: { fixtures: Fixtures; source: string } | undefined;
  /** `--plugin` modules. */
  plugins?: readonly string[];
  /** `--language`: the expression language of documents that do not say. */
  language?: 'jsonata' | 'javascript' | undefined;
}

/** Loads the workflow, its sub-workflows and fixtures, and chooses the providers. */
export async function openWorkspace(root: LoadedWorkflow, options: WorkspaceOptions): Promise<Workspace> {
  const files = new WorkflowFiles(root);
  const { workflows } = files.scan(root);
  let fixtures = emptyFixtures();
  let fixturesSource: string | null = null;
  if (options.fixtures !== undefined) {
    fixtures = parseFixtures(readJson(options.fixtures, 'fixtures file'), options.fixtures);
    fixturesSource = options.fixtures;
  } else {
    const beside = sibling(root.path, '.fixtures.json');
    if (existsSync(beside)) {
      fixturesSource = displayPath(beside);
      fixtures = parseFixtures(readJson(fixturesSource, 'fixtures file'), fixturesSource);
    } else if (options.defaultFixtures !== undefined) {
      fixtures = options.defaultFixtures.fixtures;
      fixturesSource = options.defaultFixtures.source;
    }
  }
  const names = new Set(providerNames(root.document));
  for (const sub of workflows.values()) for (const name of providerNames(sub.document)) names.add(name);
  const setup = await setupProviders({
    choice: options.provider,
    env: options.env,
    names: [...names],
    fixtures,
    fixturesSource,
    explicitFixtures: options.fixtures !== undefined,
    preferScripted: options.preferScripted ?? false,
  });
  const plugins =
    options.plugins === undefined || options.plugins.length === 0
      ? NO_PLUGINS
      : await loadPlugins(options.plugins);
  return { root, files, workflows, fixtures, fixturesSource, setup, plugins, language: options.language };
}

/** Engine options for a workspace: providers, pricing, the file resolver of sub-workflows, HTTP fixtures. */
export function engineOptions(
  workspace: Workspace,
  currentFixtures: () => Fixtures = () => workspace.fixtures,
): EngineOptions {
  const { files, setup } = workspace;
  const options: EngineOptions = {
    providers: setup.providers,
    pricing: setup.pricing,
    steps: workspace.plugins.steps,
    services: workspace.plugins.services,
    // `{{ input.FIELD:contents }}` of a PDF (loaded on first use).
    fileExtractors: { 'application/pdf': pdfText },
    // `{{ input.FIELD:images }}` of a PDF: the images it embeds, as PNG (pdf.ts).
    fileImageExtractors: { 'application/pdf': pdfImages },
    // A dry run answers the fixtures' tools; a --plugin tool of the same name wins.
    tools: setup.dryRun
      ? {
          ...fixtureTools(currentFixtures, Object.keys(workspace.fixtures.tools)),
          ...workspace.plugins.tools,
        }
      : workspace.plugins.tools,
    workflows: {
      resolve({ workflow_id }) {
        const found = files.find(workflow_id);
        if (found === null) {
          throw new WeftError(ERROR_CODES.NOT_FOUND, files.notFound(workflow_id), { retryable: false });
        }
        return { document: found.document as never, workflow_id };
      },
    },
  };
  if (setup.dryRun) options.http = { fetch: fixtureFetch(currentFixtures) };
  if (setup.autoModel !== undefined) options.autoModel = setup.autoModel;
  if (workspace.language !== undefined) options.language = workspace.language;
  return options;
}

/** A plain engine for a workspace, with every document (root and sub-workflows) checked first. */
export function workspaceEngine(workspace: Workspace): Engine {
  const engine = createEngine(engineOptions(workspace));
  checkDocument(engine, workspace.root);
  for (const sub of workspace.workflows.values()) checkDocument(engine, sub);
  return engine;
}
