/**
 * Running one registry run in the foreground (`weft run`, `weft runs replay`): live progress from the
 * engine's events, Ctrl-C, the final summary — and, while it runs, a lease on the run in the store,
 * renewed every second, so that other `weft` processes can tell a live run from one whose process died,
 * and so that `weft runs cancel` from another terminal stops it (the cancel releases the lease; the
 * next renewal sees it and cancels the run here).
 */
import { randomUUID } from 'node:crypto';
import type { Run, RunHandle, RunRecord, Weft, WeftEventName } from '@weft/core';
import { EXIT } from './errors.js';
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
  /** Starts the run in the background (`background: true`) and returns it. */
  start(): Promise<RunRecord>;
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
  const cancel = (reason: string) => {
    cancelReason ??= reason;
    if (handle !== undefined) void handle.cancel(reason);
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

  let heartbeat: NodeJS.Timeout | null = null;
  let run: Run;
  let cancelledElsewhere = false;
  try {
    const started = await o.start();
    // A run still PENDING (filling input fields left to a model) has not emitted run.started yet.
    const pending = handle === undefined ? engine.active.get(started.id) : undefined;
    if (pending !== undefined) onStarted({ run_id: started.id });
    if (handle === undefined) {
      // Ended before it started (e.g. cancelled at once): the stored record is the run.
      run = started;
    } else {
      heartbeat = await holdLease(o, started.id, () => {
        cancelledElsewhere = true;
        cancel('Cancelled from another process (weft runs cancel).');
      });
      run = await handle.done;
    }
  } finally {
    if (heartbeat !== null) clearInterval(heartbeat);
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
 * Claims the run for this process and renews the claim every HEARTBEAT_MS. When a renewal finds the run
 * gone from this process (another process ended it: `weft runs cancel`), `onLost` is called once.
 */
async function holdLease(
  o: ExecuteOptions,
  runId: string,
  onLost: () => void,
): Promise<NodeJS.Timeout | null> {
  const store = o.weft.store;
  const owner = `weft-cli:${process.pid}:${randomUUID()}`;
  const until = () => new Date(Date.now() + LEASE_MS).toISOString();
  try {
    const claim = await store.claimRun(runId, {
      owner_id: owner,
      lease_until: until(),
      now: new Date().toISOString(),
    });
    if (!claim.claimed) return null;
  } catch (error) {
    o.storeErrors.push(`could not take the lease of run ${runId}: ${(error as Error).message}`);
    return null;
  }
  let lost = false;
  let busy = false;
  const timer = setInterval(() => {
    if (lost || busy) return;
    busy = true;
    store
      .renewLeases(owner, until(), [runId])
      .then(async (renewed) => {
        if (renewed.length > 0) return;
        const lease = await store.getLease(runId);
        // Ending the run here releases the lease too: only a run that ended elsewhere is "lost".
        if (lease !== null && lease.status === 'CANCELLED' && o.weft.engine.active.has(runId)) {
          lost = true;
          onLost();
        }
      })
      .catch(() => {
        // A failed heartbeat is retried on the next tick; the lease outlasts several.
      })
      .finally(() => {
        busy = false;
      });
  }, HEARTBEAT_MS);
  timer.unref();
  return timer;
}
