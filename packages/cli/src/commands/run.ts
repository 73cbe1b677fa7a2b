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
import { type OutputMode, renderRun } from '../summary.js';

export interface RunFlags {
  input?: string;
  var: string[];
  secret: string[];
  fromStep?: string;
  provider?: ProviderChoice;
  fixtures?: string;
  output: OutputMode;
  json: boolean;
  /** The expression language of documents that do not say (`--language`). */
  language?: 'jsonata' | 'javascript';
}

export interface Io {
  stdout: NodeJS.WriteStream;
  stderr: NodeJS.WriteStream;
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
  const input = await parseInput(flags.input);
  const variables = parseVariables(flags.var, flags.secret);
  const workspace = await openWorkspace(root, {
    provider: flags.provider,
    fixtures: flags.fixtures,
    env: io.env,
    language: flags.language,
  });
  const engine = workspaceEngine(workspace);
  checkInput(root.document, input);

  writeLine(io.stderr, err.dim(workspace.setup.notice));
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
      ...(flags.fromStep === undefined ? {} : { from_step_key: flags.fromStep }),
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
