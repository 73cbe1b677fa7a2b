/**
 * `weft run <file>`: runs a draft or version document locally, with live progress, and records the run
 * (docs/cli.md — Run history): the file and its sub-workflows become workflows of the store, the run is
 * started through the registry (`createWeft({ store })`), and the store keeps it for `weft runs …`.
 */
import { createWeft, isWeftError } from '@weft/core';
import {
  asUsageError,
  checkInput,
  engineOptions,
  openWorkspace,
  parseInput,
  parseVariables,
  workspaceEngine,
} from '../common.js';
import { CliError, EXIT } from '../errors.js';
import { execute, type Io } from '../execute.js';
import { loadWorkflow } from '../project.js';
import type { ProviderChoice } from '../providers.js';
import { openStore, type StoreChoice, withVariables } from '../store.js';
import type { OutputMode } from '../summary.js';
import { syncWorkspace } from '../sync.js';

export { EVENT_NAMES, type Io } from '../execute.js';

export interface RunFlags {
  input?: string;
  var: string[];
  secret: string[];
  fromStep?: string;
  provider?: ProviderChoice;
  fixtures?: string;
  output: OutputMode;
  json: boolean;
  store?: StoreChoice;
  db?: string;
}

export async function runCommand(file: string, flags: RunFlags, io: Io): Promise<number> {
  const root = loadWorkflow(file);
  const input = await parseInput(flags.input);
  const variables = parseVariables(flags.var, flags.secret);
  const workspace = await openWorkspace(root, {
    provider: flags.provider,
    fixtures: flags.fixtures,
    env: io.env,
  });
  workspaceEngine(workspace); // every document is checked before anything is recorded
  checkInput(root.document, input);

  const opened = await openStore({ store: flags.store, db: flags.db }, io.env);
  const storeErrors: string[] = [];
  try {
    // Sub-workflows found in the store first (syncWorkspace puts the literal ones there), else on disk.
    const weft = createWeft({
      ...engineOptions(workspace),
      store: withVariables(opened.store, variables),
      onStoreError: (error, context) =>
        storeErrors.push(
          `could not record ${context.operation}${context.run_id === undefined ? '' : ` of run ${context.run_id}`}: ${error instanceof Error ? error.message : String(error)}`,
        ),
    });
    let target: Awaited<ReturnType<typeof syncWorkspace>>;
    try {
      target = await syncWorkspace(weft, workspace);
    } catch (error) {
      // A bad document or option is bad input (2); a store that fails is a failure (1).
      if (isWeftError(error) && error.code === 'STORE_ERROR') {
        throw new CliError(error.message, { cause: error, exitCode: EXIT.FAILED });
      }
      throw asUsageError(error);
    }
    return await execute({
      weft,
      opened,
      document: root.document,
      async start() {
        try {
          return await target.app.runs.run(target.workflowId, {
            version: target.version,
            input,
            background: true,
            ...(flags.fromStep === undefined ? {} : { from_step_key: flags.fromStep }),
          });
        } catch (error) {
          throw asUsageError(error);
        }
      },
      output: flags.output,
      json: flags.json,
      notice: workspace.setup.notice,
      dryRun: workspace.setup.dryRun,
      storeErrors,
      io,
    });
  } finally {
    opened.close();
  }
}
