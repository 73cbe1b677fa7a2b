/** `weft run <file>`: runs a draft or version document locally, with live progress. */
import type { Run, WeftEventName } from '@weft/core';
import {
  asUsageError,
  checkInput,
  openWorkspace,
  parseInput,
  parseVariables,
  workspaceEngine,
} from '../common.js';
import { EXIT } from '../errors.js';
import { interruptHandler, onInterrupt } from '../interrupt.js';
import { colorsFor, writeLine } from '../output.js';
import { LiveProgress, PlainProgress, type Progress, RunView, silentProgress } from '../progress.js';
import { loadWorkflow } from '../project.js';
import type { ProviderChoice } from '../providers.js';
import { presetFor, readRunFile } from '../replay.js';
import { type OutputMode, renderRun } from '../summary.js';

export interface RunFlags {
  input?: string;
  var: string[];
  secret: string[];
  fromStep?: string;
  /** A run saved by `weft run -o run` (or `--json`) to replay. */
  fromRun?: string;
  /** `--plugin` modules of host steps and services. */
  plugin?: string[];
  provider?: ProviderChoice;
  fixtures?: string;
  output: OutputMode;
  json: boolean;
}

export interface Io {
  stdout: NodeJS.WriteStream;
  stderr: NodeJS.WriteStream;
  /** Where `--input @-` reads from (default process.stdin). */
  stdin?: NodeJS.ReadableStream;
  env: NodeJS.ProcessEnv;
}

/** Every engine event (a Record, so that tsc says so when @weft/core adds one). */
const EVENTS: Record<WeftEventName, true> = {
  'run.started': true,
  'step.started': true,
  'step.retrying': true,
  'loop.iteration': true,
  'model.delta': true,
  usage: true,
  log: true,
  'step.completed': true,
  'step.failed': true,
  'step.skipped': true,
  'step.cancelled': true,
  'run.completed': true,
  'run.failed': true,
  'run.cancelled': true,
};
export const EVENT_NAMES = Object.keys(EVENTS) as WeftEventName[];

export async function runCommand(file: string, flags: RunFlags, io: Io): Promise<number> {
  const err = colorsFor(io.stderr, io.env);
  const out = colorsFor(io.stdout, io.env);
  const root = loadWorkflow(file);
  const given = await parseInput(flags.input, io.stdin);
  const variables = parseVariables(flags.var, flags.secret);
  const workspace = await openWorkspace(root, {
    provider: flags.provider,
    fixtures: flags.fixtures,
    env: io.env,
    plugins: flags.plugin ?? [],
  });
  const engine = workspaceEngine(workspace);
  const stored = flags.fromRun === undefined ? null : readRunFile(flags.fromRun);
  // A replay takes the stored run's input unless --input gives one.
  const input = stored !== null && flags.input === undefined ? stored.input : given;
  const fromStep = flags.fromStep;
  if (stored === null || flags.input !== undefined) checkInput(root.document, input, fromStep);

  writeLine(io.stderr, err.dim(workspace.setup.notice));
  if (fromStep !== undefined && stored === null) {
    writeLine(
      io.stderr,
      err.yellow(
        `warning: --from-step ${fromStep} without --from-run: the steps before it do not run, so their outputs are empty (null) in expressions. Pass --from-run run.json (saved by \`weft run ${file} -o run > run.json\`) to reuse a run's outputs.`,
      ),
    );
  }
  if (flags.json) {
    for (const name of EVENT_NAMES) {
      engine.on(name, (event) => writeLine(io.stdout, JSON.stringify({ event: name, ...event })));
    }
  }

  let handle: ReturnType<typeof engine.start>;
  try {
    const { version, workflow_id, app_id } = root.document;
    handle = engine.start(root.document, {
      input,
      variables,
      ...(fromStep === undefined ? {} : { from_step_key: fromStep }),
      ...(stored === null
        ? {}
        : {
            replay_of: stored.id,
            check_input: flags.input !== undefined,
            preset: presetFor(root.document as never, stored, fromStep),
          }),
      // A published version's own metadata is carried to the run.
      ...(Number.isInteger(version) ? { version: version as number } : {}),
      ...(typeof workflow_id === 'string' ? { workflow_id } : {}),
      ...(typeof app_id === 'string' ? { app_id, workflow_app_id: app_id } : {}),
    });
  } catch (error) {
    throw asUsageError(error);
  }

  const view = new RunView(root.document);
  let progress: Progress = silentProgress;
  if (!flags.json) {
    progress =
      io.stderr.isTTY === true ? new LiveProgress(view, io.stderr, err) : new PlainProgress(view, io.stderr);
  }
  progress.start(handle);

  let interrupted = false;
  const removeListeners = onInterrupt(
    interruptHandler({
      cancel: (reason) => void handle.cancel(reason),
      note: (message) => {
        if (flags.json || interrupted) writeLine(io.stderr, message);
        else progress.note(message);
        interrupted = true;
      },
      exit: (code) => process.exit(code),
    }),
  );
  let run: Run;
  try {
    run = await handle.done;
  } finally {
    removeListeners();
  }
  progress.stop(run);

  if (flags.json) {
    // stdout holds the events only; the summary goes to stderr.
    writeLine(io.stderr, renderRun(run, 'result', err, workspace.setup.dryRun).split('\n')[0]);
  } else {
    writeLine(io.stderr);
    const columns = io.stdout.isTTY === true ? io.stdout.columns : undefined;
    writeLine(io.stdout, renderRun(run, flags.output, out, workspace.setup.dryRun, columns));
  }
  return run.status === 'COMPLETED' ? EXIT.OK : EXIT.FAILED;
}
