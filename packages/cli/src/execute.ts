/**
 * Running one registry run in the foreground (`weft run`, `weft runs replay`): live progress from the
 * engine's events, Ctrl-C, the final summary. The registry journals the run under its own lease, renewed
 * every HEARTBEAT_MS (the `owner` option the commands pass to createWeft), so that other `weft`
 * processes can tell a live run from one whose process died, and so that `weft runs cancel` from another
 * terminal stops it: the cancel ends the stored run, the next renewal misses it and the registry abandons
 * the local execution; the summary is then the stored run (CANCELLED).
 */
import type { Run, RunHandle, RunRecord, Weft, WeftEventName } from '@weft/core';
import { ERROR_CODES, isWeftError } from '@weft/core';
import { CliError, EXIT } from './errors.js';
import { interruptHandler, onInterrupt } from './interrupt.js';
import { colorsFor, writeLine } from './output.js';
import { LiveProgress, PlainProgress, type Progress, RunView, silentProgress } from './progress.js';
import { displayPath } from './project.js';
import type { OpenedStore } from './store.js';
import { type OutputMode, renderRun } from './summary.js';

/** Every engine event (a Record, so that tsc says so when @weft/core adds one). */
const EVENTS: Record<WeftEventName, true> = {
  'run.started': true,
  'step.started': true,
  'step.retrying': true,
  'loop.started': true,
  'loop.iteration': true,
  'model.delta': true,
  'tool.called': true,
  'tool.result': true,
  'model.selected': true,
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

/** How long a `weft` process holds the lease of the run it executes, and how often it renews it. */
export const LEASE_MS = 15_000;
export const HEARTBEAT_MS = 1_000;
/** The registry's owner options of a `weft` process that executes runs. */
export const CLI_OWNER = { leaseMs: LEASE_MS, heartbeatMs: HEARTBEAT_MS } as const;
/** The bounds of `WEFT_LEASE_MS`: a lease shorter than a second would lapse between two renewals. */
const MIN_LEASE_MS = 1_000;
const MAX_LEASE_MS = 3_600_000;

/**
 * The owner options of this process: `WEFT_LEASE_MS` sets the lease (how long after its process dies
 * another `weft` may resume a run — `weft runs resume`), renewed three times per lease at least.
 */
export function cliOwner(env: NodeJS.ProcessEnv): { leaseMs: number; heartbeatMs: number } {
  const raw = env.WEFT_LEASE_MS;
  if (raw === undefined || raw.trim() === '') return CLI_OWNER;
  const leaseMs = Number(raw);
  if (!Number.isInteger(leaseMs) || leaseMs < MIN_LEASE_MS || leaseMs > MAX_LEASE_MS) {
    throw new CliError(
      `WEFT_LEASE_MS=${raw}: expected a whole number of milliseconds from ${MIN_LEASE_MS} to ${MAX_LEASE_MS}.`,
    );
  }
  return { leaseMs, heartbeatMs: Math.min(HEARTBEAT_MS, Math.floor(leaseMs / 3)) };
}

export interface Io {
  stdout: NodeJS.WriteStream;
  stderr: NodeJS.WriteStream;
  /** Where `--input @-` reads from (default process.stdin). */
  stdin?: NodeJS.ReadableStream;
  env: NodeJS.ProcessEnv;
}

export interface ExecuteOptions {
  weft: Weft;
  opened: OpenedStore;
  /** The document the run executes (the progress view lists its steps). */
  document: Record<string, unknown>;
  /**
   * Starts the run in the background (`background: true`) and returns it. `signal` aborts on the first
   * Ctrl-C / SIGTERM: a client (`weft run --db postgres://…`) gives it to `runs.run`, so that the run is
   * cancelled where a worker executes it (docs/durability.md, "A client's signal").
   */
  start(signal: AbortSignal): Promise<RunRecord>;
  output: OutputMode;
  json: boolean;
  /** The provider notice (first line on stderr) and whether model calls are scripted. */
  notice: string;
  dryRun: boolean;
  /** Store write failures the registry reported (printed after the run). */
  storeErrors: string[];
  io: Io;
}

export async function execute(o: ExecuteOptions): Promise<number> {
  const { io, weft } = o;
  const err = colorsFor(io.stderr, io.env);
  const out = colorsFor(io.stdout, io.env);
  const engine = weft.engine;

  writeLine(io.stderr, err.dim(o.notice));
  if (o.json) {
    for (const name of EVENT_NAMES) {
      engine.on(name, (event) => writeLine(io.stdout, JSON.stringify({ event: name, ...event })));
    }
  }

  const view = new RunView(o.document);
  let progress: Progress = silentProgress;
  if (!o.json) {
    progress =
      io.stderr.isTTY === true ? new LiveProgress(view, io.stderr, err) : new PlainProgress(view, io.stderr);
  }
  // The run this command started is the first to start (its sub-workflow runs start later).
  let handle: RunHandle | undefined;
  let cancelReason: string | null = null;
  const onStarted = (e: { run_id: string }) => {
    if (handle !== undefined) return;
    handle = engine.active.get(e.run_id);
    if (handle === undefined) return;
    progress.start(handle);
    if (cancelReason !== null) void handle.cancel(cancelReason);
  };
  engine.on('run.started', onStarted);
  // A run enqueued for workers (weft run --db postgres://…) runs elsewhere: the signal given with it
  // cancels it there, with this reason (the client follows it until the run has ended; a cancel that
  // fails is reported like a store error, below).
  const interrupt = new AbortController();
  const cancel = (reason: string) => {
    cancelReason ??= reason;
    if (handle !== undefined) void handle.cancel(reason);
    interrupt.abort(reason);
  };

  let interrupted = false;
  const removeListeners = onInterrupt(
    interruptHandler({
      cancel,
      note: (message) => {
        if (o.json || interrupted) writeLine(io.stderr, message);
        else progress.note(message);
        interrupted = true;
      },
      exit: (code) => process.exit(code),
    }),
  );

  let run: Run;
  let cancelledElsewhere = false;
  try {
    const started = await o.start(interrupt.signal);
    // A run still PENDING (filling input fields left to a model) has not emitted run.started yet.
    const pending = handle === undefined ? engine.active.get(started.id) : undefined;
    if (pending !== undefined) onStarted({ run_id: started.id });
    if (handle === undefined && (started.status === 'PENDING' || started.status === 'RUNNING')) {
      // Enqueued for the workers sharing the store: wait for one of them to end it (a Ctrl-C meanwhile
      // cancels it through the signal given with it).
      run = await weft.app(started.app_id ?? '').runs.wait(started.id);
    } else if (handle === undefined) {
      // Ended before it started (e.g. cancelled at once): the stored record is the run.
      run = started;
    } else {
      const local = await handle.done;
      // The stored run is the truth: a run cancelled from another process was abandoned here.
      run = await weft.app(started.app_id ?? '').runs.wait(started.id);
      cancelledElsewhere = run.status === 'CANCELLED' && local.status !== 'CANCELLED';
    }
  } catch (error) {
    // E.g. NO_WORKER: the run stays enqueued and the client follows its signal until the Weft closes.
    // This process is done with it: stop following (else its timers would keep the process alive).
    weft.close().catch(() => undefined);
    throw noWorkerError(error) ?? error;
  } finally {
    removeListeners();
    engine.off('run.started', onStarted);
  }
  progress.stop(run);
  await weft.close();

  if (o.json) {
    // stdout holds the events only; the summary goes to stderr.
    writeLine(io.stderr, renderRun(run, 'result', err, o.dryRun).split('\n')[0]);
  } else {
    writeLine(io.stderr);
    const columns = io.stdout.isTTY === true ? io.stdout.columns : undefined;
    writeLine(io.stdout, renderRun(run, o.output, out, o.dryRun, columns));
  }
  // A cancel from another process already ended the stored run: this process's own final write is
  // refused by design, which is not worth a warning.
  const errors = cancelledElsewhere ? [] : o.storeErrors;
  for (const message of errors) writeLine(io.stderr, err.yellow(`weft: ${message}`));
  if (o.opened.path !== null && errors.length === 0) {
    writeLine(
      io.stderr,
      err.dim(`Recorded as run ${run.id} in ${displayPath(o.opened.path)} (weft runs show ${run.id}).`),
    );
  }
  return run.status === 'COMPLETED' ? EXIT.OK : EXIT.FAILED;
}

/**
 * NO_WORKER from `weft run --db postgres://…`: said in the CLI's terms (exit 1), with the run id and how
 * to go on; null for any other error.
 */
function noWorkerError(error: unknown): CliError | null {
  if (!isWeftError(error) || error.code !== ERROR_CODES.NO_WORKER) return null;
  const runId = String(error.details?.run_id ?? '');
  const waited = Number(error.details?.waited_ms ?? 0);
  return new CliError(
    `NO_WORKER: no worker claimed run ${runId} in ${waited} ms, and none is alive on this database. The run stays PENDING: start one (weft worker --db …) and it runs (see it with weft runs show ${runId} --db …), or cancel it (weft runs cancel ${runId} --db …).`,
    { cause: error, exitCode: EXIT.FAILED },
  );
}
