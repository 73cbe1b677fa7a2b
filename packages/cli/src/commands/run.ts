/**
 * `weft run <file>`: runs a draft or version document locally, with live progress, and records the run
 * (docs/cli.md — Run history): the file and its sub-workflows become workflows of the store, the run is
 * started through the registry (`createWeft({ store })`), and the store keeps it for `weft runs …`.
 */
import { existsSync } from 'node:fs';
import { createWeft, isWeftError, type RunRecord } from '@weft/core';
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
import { cliOwner, execute, type Io } from '../execute.js';
import { parseFileFlags, withFileInputs } from '../input-files.js';
import { colorsFor, writeLine } from '../output.js';
import { loadWorkflow } from '../project.js';
import type { ProviderChoice } from '../providers.js';
import { readRunFile } from '../replay.js';
import { openStore, type StoreChoice, withVariables } from '../store.js';
import type { OutputMode } from '../summary.js';
import { type SyncedTarget, syncWorkspace } from '../sync.js';

export { EVENT_NAMES, type Io } from '../execute.js';

export interface RunFlags {
  input?: string;
  /** `--file FIELD=PATH`: file inputs read from paths (input-files.ts). */
  file?: string[];
  var: string[];
  secret: string[];
  fromStep?: string;
  /** A stored run (its id) or a run saved by `weft run -o run` / `--json` (a file) to replay. */
  fromRun?: string;
  /** Modules with host step types and services (`--plugin`). */
  plugin?: string[];
  provider?: ProviderChoice;
  fixtures?: string;
  output: OutputMode;
  json: boolean;
  store?: StoreChoice;
  db?: string;
  /** The expression language of documents that do not say (`--language`). */
  language?: 'jsonata' | 'javascript';
}

export async function runCommand(file: string, flags: RunFlags, io: Io): Promise<number> {
  const root = loadWorkflow(file);
  if (flags.fromRun !== undefined && flags.input !== undefined) {
    throw new CliError(
      '--input cannot be combined with --from-run: a replay reuses the input of the run it replays. Drop --input, or run without --from-run.',
    );
  }
  if (flags.fromRun !== undefined && (flags.file ?? []).length > 0) {
    throw new CliError(
      '--file cannot be combined with --from-run: a replay reuses the input of the run it replays. Drop --file, or run without --from-run.',
    );
  }
  const input = withFileInputs(
    root.document,
    await parseInput(flags.input, io.stdin),
    parseFileFlags(flags.file ?? []),
  );
  const variables = parseVariables(flags.var, flags.secret);
  const workspace = await openWorkspace(root, {
    provider: flags.provider,
    fixtures: flags.fixtures,
    env: io.env,
    plugins: flags.plugin ?? [],
    language: flags.language,
  });
  workspaceEngine(workspace); // every document is checked before anything is recorded
  if (flags.fromRun === undefined) checkInput(root.document, input, flags.fromStep);
  if (flags.fromStep !== undefined && flags.fromRun === undefined) {
    const err = colorsFor(io.stderr, io.env);
    writeLine(
      io.stderr,
      err.yellow(
        `warning: --from-step ${flags.fromStep} without --from-run: the steps before it do not run, so their outputs are empty (null) in expressions. Pass --from-run RUN (a run id from \`weft runs list\`, or a file saved by \`weft run ${file} -o run > run.json\`) to reuse a run's outputs.`,
      ),
    );
  }

  const opened = await openStore({ store: flags.store, db: flags.db }, io.env);
  const storeErrors: string[] = [];
  try {
    // Sub-workflows found in the store first (syncWorkspace puts the literal ones there), else on disk.
    // recover: false — this process has the providers and step types of this workflow only; runs other
    // processes left behind are not resumed here (`weft runs show` tells them; docs/cli.md).
    const weft = createWeft({
      ...engineOptions(workspace),
      owner: cliOwner(io.env),
      recover: false,
      // On PostgreSQL the run is enqueued for the workers (`weft worker --db …`) and waited for.
      ...(opened.postgres ? { worker: false as const } : {}),
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
      async start(interrupted) {
        // A client (PostgreSQL): the run executes on a worker, and Ctrl-C cancels it there through the
        // signal. In process, Ctrl-C cancels the run's handle (execute.ts).
        const signal = opened.postgres ? { signal: interrupted } : {};
        try {
          if (flags.fromRun !== undefined) {
            const runId = await storedRunId(weft, target, flags.fromRun);
            return await target.app.runs.replay(runId, {
              background: true,
              ...signal,
              ...(flags.fromStep === undefined ? {} : { from_step_key: flags.fromStep }),
            });
          }
          return await target.app.runs.run(target.workflowId, {
            version: target.version,
            input,
            background: true,
            ...signal,
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

/**
 * The id of the run `--from-run` names in the store: a run id as it is, or the run in a file saved by
 * `weft run -o run` / `--json` — imported into the store (as a run of this workflow and app) when the
 * store does not have it, so the registry's replay can keep its upstream records.
 */
async function storedRunId(
  weft: ReturnType<typeof createWeft>,
  target: SyncedTarget,
  fromRun: string,
): Promise<string> {
  if (!existsSync(fromRun)) {
    if ((await weft.store.getRun(fromRun)) === null) {
      throw new CliError(
        `--from-run ${fromRun}: no such file, and no run with that id in the run store. Give a run id from \`weft runs list\` or a file saved by \`weft run <file> -o run\`.`,
      );
    }
    return fromRun;
  }
  const run = readRunFile(fromRun);
  if ((await weft.store.getRun(run.id)) !== null) return run.id;
  const { output, ...fields } = run;
  const row: Omit<RunRecord, 'output'> = {
    ...fields,
    app_id: target.app.app_id,
    workflow_app_id: target.app.app_id,
    workflow_id: target.workflowId,
    replay_of: run.replay_of ?? null,
    purged_at: null,
  };
  await weft.store.insertRun(row);
  for (const [key, record] of Object.entries(output)) await weft.store.saveStepResult(run.id, key, record);
  return run.id;
}
