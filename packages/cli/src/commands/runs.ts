/**
 * `weft runs list | show | replay | resume | cancel | wait`: the run history `weft run` records in the run
 * database (docs/cli.md — Run history), read and driven through the registry (`createWeft({ store })`).
 */
import { existsSync } from 'node:fs';
import { createWeft, isWeftError, RUN_STATUSES, type RunRecord, type RunStatus, type Weft } from '@weft/core';
import { isLiveStatus } from '@weft/core/store';
import { asUsageError, engineOptions, openWorkspace, parseVariables, type Workspace } from '../common.js';
import { CliError, EXIT } from '../errors.js';
import { cliOwner, execute, type Io, LEASE_MS } from '../execute.js';
import { readJson } from '../files.js';
import { emptyFixtures, parseFixtures } from '../fixtures.js';
import { type Colors, colorsFor, duration, writeLine } from '../output.js';
import { RunView, renderFrame } from '../progress.js';
import { loadWorkflow, providerNames } from '../project.js';
import { type ProviderChoice, setupProviders } from '../providers.js';
import { type OpenedStore, openStore, withVariables } from '../store.js';
import { type OutputMode, renderRun, runMs, statusLine } from '../summary.js';
import { LOCAL_APP } from '../sync.js';

export interface RunsFlags {
  db?: string;
}

/** Opens the run database (which must exist) and a registry on it; closes both after `work`. */
async function withRegistry<T>(
  flags: RunsFlags,
  io: Io,
  work: (weft: Weft, opened: OpenedStore) => Promise<T>,
): Promise<T> {
  const opened = await openStore({ db: flags.db }, io.env, { mustExist: true });
  // Reading and cancelling runs never resumes one (this process has no providers for them).
  const weft = createWeft({ store: opened.store, recover: false });
  try {
    return await work(weft, opened);
  } catch (error) {
    throw cliErrorOf(error);
  } finally {
    await weft.close();
    opened.close();
  }
}

function cliErrorOf(error: unknown): unknown {
  if (!isWeftError(error)) return error;
  if (error.code === 'NOT_FOUND' || error.code === 'INVALID_ARGUMENT' || error.code === 'INVALID_INPUT') {
    return new CliError(error.message, { cause: error });
  }
  if (
    error.code === 'NOT_CANCELLABLE' ||
    error.code === 'CONFLICT' ||
    error.code === 'FORBIDDEN' ||
    error.code === 'STORE_ERROR'
  ) {
    return new CliError(error.message, { cause: error, exitCode: EXIT.FAILED });
  }
  return error;
}

/** A run of any app of the database (the CLI is its one user), through the registry of its app. */
async function findRun(weft: Weft, runId: string): Promise<RunRecord> {
  const row = await weft.store.getRun(runId);
  if (row === null) {
    throw new CliError(`No run "${runId}" in the run database. List the runs with: weft runs list`);
  }
  return weft.app(row.app_id ?? LOCAL_APP).runs.get(runId);
}

// ── list ─────────────────────────────────────────────────────────────────────────────────────────────

export interface ListFlags extends RunsFlags {
  app: string;
  workflow?: string;
  status?: string[];
  limit: string;
  cursor?: string;
  json: boolean;
}

function parseStatuses(values: readonly string[] | undefined): RunStatus[] | undefined {
  if (values === undefined) return undefined;
  const statuses = values.flatMap((v) => v.split(',')).map((v) => v.trim().toUpperCase());
  for (const s of statuses) {
    if (!(RUN_STATUSES as readonly string[]).includes(s)) {
      throw new CliError(`--status ${s}: expected one of ${RUN_STATUSES.join(', ')}.`);
    }
  }
  return statuses as RunStatus[];
}

function parseLimit(value: string): number {
  const limit = Number(value);
  if (!Number.isInteger(limit) || limit < 1 || limit > 100) {
    throw new CliError(`--limit ${value}: expected a whole number from 1 to 100.`);
  }
  return limit;
}

/** `2024-01-05 14:03:12` in local time: what a person scanning a table wants. */
function when(iso: string | null): string {
  if (iso === null) return '';
  const d = new Date(iso);
  if (!Number.isFinite(d.getTime())) return iso;
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

function colorStatus(status: string, c: Colors): string {
  if (status === 'COMPLETED') return c.green(status);
  if (status === 'FAILED') return c.red(status);
  if (status === 'CANCELLED') return c.yellow(status);
  return c.cyan(status);
}

/**
 * Whether a live run has an owner whose lease runs now. False means the process running it is gone —
 * except for a run younger than a lease, which its process may not have claimed yet.
 */
async function ownerAlive(weft: Weft, run: RunRecord): Promise<boolean> {
  const lease = await weft.store.getLease(run.id);
  if (lease === null) return false;
  if (lease.owner_id === null || lease.lease_until === null) {
    return Date.now() - Date.parse(run.created_at) < LEASE_MS;
  }
  return Date.parse(lease.lease_until) >= Date.now();
}

export async function runsListCommand(flags: ListFlags, io: Io): Promise<number> {
  const c = colorsFor(io.stdout, io.env);
  const statuses = parseStatuses(flags.status);
  const limit = parseLimit(flags.limit);
  return withRegistry(flags, io, async (weft) => {
    const page = await weft.app(flags.app).runs.list({
      limit,
      ...(flags.workflow === undefined ? {} : { workflow_id: flags.workflow }),
      ...(statuses === undefined ? {} : { status: statuses }),
      ...(flags.cursor === undefined ? {} : { cursor: flags.cursor }),
    });
    if (flags.json) {
      writeLine(io.stdout, JSON.stringify(page, null, 2));
      return EXIT.OK;
    }
    if (page.data.length === 0) {
      writeLine(io.stderr, `No runs${flags.app === LOCAL_APP ? '' : ` of app ${flags.app}`} yet.`);
      return EXIT.OK;
    }
    const names = new Map<string, string>();
    for (const id of new Set(page.data.map((r) => r.workflow_id).filter((id): id is string => id !== null))) {
      names.set(id, (await weft.store.getWorkflow(id))?.name ?? id);
    }
    const rows: string[][] = [];
    for (const run of page.data) {
      let status: string = run.status;
      if (isLiveStatus(run.status) && !(await ownerAlive(weft, run)))
        status = `${run.status} (no live owner)`;
      const ms = runMs(run);
      const running =
        run.started_at !== null && run.ended_at === null ? Date.now() - Date.parse(run.started_at) : null;
      rows.push([
        run.id,
        run.workflow_id === null ? '' : (names.get(run.workflow_id) ?? run.workflow_id),
        status,
        when(run.started_at ?? run.created_at),
        ms !== null ? duration(ms) : running !== null ? `${duration(running)}…` : '',
        run.usage.total > 0 ? String(Number(run.usage.total.toPrecision(3))) : '0',
      ]);
    }
    const header = ['ID', 'WORKFLOW', 'STATUS', 'STARTED', 'DURATION', 'CREDITS'];
    const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
    const line = (cells: string[], paint: (cell: string, i: number) => string = (x) => x) =>
      cells
        .map((cell, i) => {
          const padded = i === cells.length - 1 ? cell.padStart(widths[i]!) : cell.padEnd(widths[i]!);
          return paint(padded, i);
        })
        .join('  ')
        .trimEnd();
    writeLine(io.stdout, c.dim(line(header)));
    for (const row of rows) {
      writeLine(
        io.stdout,
        line(row, (cell, i) => (i === 2 ? colorStatus(cell, c) : i === 0 ? c.bold(cell) : cell)),
      );
    }
    if (page.next_cursor !== null) {
      writeLine(io.stderr, c.dim(`More: weft runs list --cursor ${page.next_cursor}`));
    }
    return EXIT.OK;
  });
}

// ── show ─────────────────────────────────────────────────────────────────────────────────────────────

export interface ShowFlags extends RunsFlags {
  output: OutputMode;
}

/** The run as `weft run` prints it, with its step tree and where it came from. */
function renderStored(run: RunRecord, c: Colors, columns: number | undefined, live: boolean | null): string {
  const document = (run.workflow_version ?? run.workflow_version_draft ?? { steps: [] }) as Record<
    string,
    unknown
  >;
  const view = new RunView(document);
  view.finish(run);
  const lines = [
    `${c.bold(`run ${run.id}`)}${c.dim(` · workflow ${run.workflow_id ?? '(none)'}${run.version === null ? ' (draft)' : ` v${run.version}`} · started ${when(run.started_at ?? run.created_at)}${run.replay_of === null ? '' : ` · replay of ${run.replay_of}`}`)}`,
  ];
  if (live === false) {
    lines.push(
      c.yellow(
        `${run.status}, but no process holds its lease: the process running it stopped before it ended. Resume it with: weft runs resume ${run.id} — or cancel it with: weft runs cancel ${run.id}`,
      ),
    );
  }
  if (run.purged_at !== null) lines.push(c.dim(`Its data was purged by retention at ${run.purged_at}.`));
  if (view.steps.length > 0) lines.push(renderFrame(view, c, ' ', true));
  lines.push('', renderRun(run, 'result', c, false, columns));
  return lines.join('\n');
}

export async function runsShowCommand(runId: string, flags: ShowFlags, io: Io): Promise<number> {
  const c = colorsFor(io.stdout, io.env);
  return withRegistry(flags, io, async (weft) => {
    const run = await findRun(weft, runId);
    if (flags.output !== 'result') {
      writeLine(io.stdout, renderRun(run, flags.output, c, false));
    } else {
      const live = isLiveStatus(run.status) ? await ownerAlive(weft, run) : null;
      writeLine(
        io.stdout,
        renderStored(run, c, io.stdout.isTTY === true ? io.stdout.columns : undefined, live),
      );
    }
    return run.status === 'COMPLETED' ? EXIT.OK : EXIT.FAILED;
  });
}

// ── replay ───────────────────────────────────────────────────────────────────────────────────────────

export interface ReplayFlags extends RunsFlags {
  fromStep?: string;
  provider?: ProviderChoice;
  fixtures?: string;
  var: string[];
  secret: string[];
  output: OutputMode;
  json: boolean;
}

/**
 * The providers of a replay: those of the workflow's file when it is still where it was run from
 * (its fixtures beside it), else the flags alone (a dry run echoes without fixtures).
 */
async function replayProviders(
  workflowFile: string | null,
  document: Record<string, unknown>,
  flags: ReplayFlags,
  env: NodeJS.ProcessEnv,
): Promise<Pick<Workspace, 'setup'> & { options: ReturnType<typeof engineOptions> | null }> {
  if (workflowFile !== null && existsSync(workflowFile)) {
    const workspace = await openWorkspace(loadWorkflow(workflowFile), {
      provider: flags.provider,
      fixtures: flags.fixtures,
      env,
    });
    return { setup: workspace.setup, options: engineOptions(workspace) };
  }
  const fixtures =
    flags.fixtures === undefined
      ? emptyFixtures()
      : parseFixtures(readJson(flags.fixtures, 'fixtures file'), flags.fixtures);
  const setup = await setupProviders({
    choice: flags.provider,
    env,
    names: providerNames(document),
    fixtures,
    fixturesSource: flags.fixtures ?? null,
    explicitFixtures: flags.fixtures !== undefined,
  });
  return { setup, options: null };
}

export async function runsReplayCommand(runId: string, flags: ReplayFlags, io: Io): Promise<number> {
  return driveStoredRun(runId, flags, io, (app, original) =>
    app.runs.replay(original.id, {
      background: true,
      ...(flags.fromStep === undefined ? {} : { from_step_key: flags.fromStep }),
    }),
  );
}

/**
 * A recorded run driven in the foreground by this process (`replay`, `resume`): its document from the
 * database, the providers of its workflow file (replayProviders), live progress and the summary.
 */
async function driveStoredRun(
  runId: string,
  flags: ReplayFlags,
  io: Io,
  start: (app: ReturnType<Weft['app']>, original: RunRecord, weft: Weft) => Promise<RunRecord>,
): Promise<number> {
  const variables = parseVariables(flags.var, flags.secret);
  const owner = cliOwner(io.env);
  const opened = await openStore({ db: flags.db }, io.env, { mustExist: true });
  const storeErrors: string[] = [];
  try {
    const reader = createWeft({ store: opened.store, recover: false });
    let original: RunRecord;
    let workflowFile: string | null = null;
    try {
      original = await findRun(reader, runId);
      const workflow =
        original.workflow_id === null ? null : await reader.store.getWorkflow(original.workflow_id);
      workflowFile = workflow?.description ?? null;
    } catch (error) {
      throw cliErrorOf(error);
    }
    const document = (original.workflow_version ??
      original.workflow_version_draft ?? { steps: [] }) as Record<string, unknown>;
    const { setup, options } = await replayProviders(workflowFile, document, flags, io.env);
    const { workflows: _files, ...engine } = options ?? {
      providers: setup.providers,
      pricing: setup.pricing,
    };
    const weft = createWeft({
      ...engine,
      owner,
      recover: false,
      store: withVariables(opened.store, variables),
      onStoreError: (error, context) =>
        storeErrors.push(
          `could not record ${context.operation}${context.run_id === undefined ? '' : ` of run ${context.run_id}`}: ${error instanceof Error ? error.message : String(error)}`,
        ),
    });
    const app = weft.app(original.app_id ?? LOCAL_APP);
    return await execute({
      weft,
      opened,
      document,
      async start() {
        try {
          return await start(app, original, weft);
        } catch (error) {
          throw cliErrorOf(asUsageError(error));
        }
      },
      output: flags.output,
      json: flags.json,
      notice: setup.notice,
      dryRun: setup.dryRun,
      storeErrors,
      io,
    });
  } finally {
    opened.close();
  }
}

// ── resume ───────────────────────────────────────────────────────────────────────────────────────────

export type ResumeFlags = Omit<ReplayFlags, 'fromStep'>;

/**
 * Resumes a run whose process died (killed, crashed, the machine restarted) from its journal, in this
 * process: completed steps keep their records and are not run again, the steps that were running run
 * again (docs/durability.md, "Recovery"). Only a run nobody holds is taken: the lease is claimed by
 * compare-and-set, so two `weft runs resume` (or a live `weft run`) never run it twice.
 */
export async function runsResumeCommand(runId: string, flags: ResumeFlags, io: Io): Promise<number> {
  return driveStoredRun(runId, flags, io, async (app, original, weft) => {
    if (!isLiveStatus(original.status)) {
      throw new CliError(
        `Run ${runId} has already ended (${original.status}): there is nothing to resume. Run it again with: weft runs replay ${runId}`,
        { exitCode: EXIT.FAILED },
      );
    }
    const result = await weft.recover([original.id]);
    const failed = result.failed.find((f) => f.run_id === original.id);
    if (failed !== undefined || result.resumed.includes(original.id)) return app.runs.get(original.id);
    const now = await app.runs.get(original.id);
    if (!isLiveStatus(now.status)) return now; // its process ended it meanwhile
    const lease = await weft.store.getLease(original.id);
    const until = lease?.lease_until ?? null;
    throw new CliError(
      `Run ${runId} is ${now.status} and its lease is held by a live process${until === null ? '' : ` until ${until}`} (the process running it renews it every second): resuming it here would run it twice. Wait for it with: weft runs wait ${runId} — or cancel it with: weft runs cancel ${runId}. If that process is gone, retry once its lease has ended (WEFT_LEASE_MS sets the lease of weft processes).`,
      { exitCode: EXIT.FAILED },
    );
  });
}

// ── cancel ───────────────────────────────────────────────────────────────────────────────────────────

export interface CancelFlags extends RunsFlags {
  reason?: string;
}

export async function runsCancelCommand(runId: string, flags: CancelFlags, io: Io): Promise<number> {
  const c = colorsFor(io.stdout, io.env);
  return withRegistry(flags, io, async (weft) => {
    const before = await findRun(weft, runId);
    const live = isLiveStatus(before.status) ? await ownerAlive(weft, before) : false;
    const run = await weft
      .app(before.app_id ?? LOCAL_APP)
      .runs.cancel(runId, flags.reason ?? 'Cancelled with weft runs cancel.');
    writeLine(io.stdout, statusLine(run, c, false));
    writeLine(
      io.stderr,
      c.dim(
        live
          ? `Run ${runId} is cancelled; the weft process running it stops it within a second.`
          : `Run ${runId} is cancelled.`,
      ),
    );
    return EXIT.OK;
  });
}

// ── wait ─────────────────────────────────────────────────────────────────────────────────────────────

export interface WaitFlags extends RunsFlags {
  timeout: string;
  output: OutputMode;
}

/** How often `weft runs wait` reads the run, and how long a run may go without a live owner. */
export const WAIT_POLL_MS = 200;

function parseTimeout(value: string): number {
  const seconds = Number(value);
  if (!Number.isFinite(seconds) || seconds <= 0 || seconds > 86_400) {
    throw new CliError(`--timeout ${value}: expected a number of seconds from 0 to 86400.`);
  }
  return seconds * 1000;
}

export async function runsWaitCommand(runId: string, flags: WaitFlags, io: Io): Promise<number> {
  const c = colorsFor(io.stdout, io.env);
  const timeoutMs = parseTimeout(flags.timeout);
  return withRegistry(flags, io, async (weft) => {
    const deadline = Date.now() + timeoutMs;
    let run = await findRun(weft, runId);
    // Each read is one indexed row; the loop ends at the deadline whatever happens.
    while (isLiveStatus(run.status)) {
      if (!(await ownerAlive(weft, run))) {
        // One more read: the owner may have ended it between the two reads.
        run = await findRun(weft, runId);
        if (!isLiveStatus(run.status)) break;
        throw new CliError(
          `Run ${runId} is ${run.status}, but no process holds its lease: the process running it stopped before it ended, so waiting would never end. Resume it from its journal with: weft runs resume ${runId} (its completed steps are not run again) — or run it again with: weft runs replay ${runId}, or cancel it with: weft runs cancel ${runId}`,
          { exitCode: EXIT.FAILED },
        );
      }
      if (Date.now() >= deadline) {
        throw new CliError(`Run ${runId} is still ${run.status} after ${flags.timeout}s (--timeout).`, {
          exitCode: EXIT.PENDING,
        });
      }
      await new Promise((resolve) =>
        setTimeout(resolve, Math.min(WAIT_POLL_MS, Math.max(1, deadline - Date.now()))),
      );
      run = await findRun(weft, runId);
    }
    writeLine(
      io.stdout,
      renderRun(run, flags.output, c, false, io.stdout.isTTY === true ? io.stdout.columns : undefined),
    );
    return run.status === 'COMPLETED' ? EXIT.OK : EXIT.FAILED;
  });
}
