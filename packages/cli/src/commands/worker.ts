/**
 * `weft worker --db postgres://…`: a worker process (docs/durability.md — Workers; docs/cli.md). It
 * executes the runs other processes enqueue in the database (`weft run --db postgres://…`, a client-only
 * Weft, `weft serve`) and the runs whose process died, at most `--concurrency` at once, until SIGTERM or
 * Ctrl-C. Then it suspends (`weft.suspend`): it claims nothing more, starts no new step, gives the
 * steps running `--grace` ms to settle, and releases the runs still in progress, which another worker
 * resumes from their journal at once.
 */
import { createWeft } from '@weft/core';
import { CliError, EXIT } from '../errors.js';
import type { Io } from '../execute.js';
import { readJson } from '../files.js';
import { emptyFixtures, parseFixtures } from '../fixtures.js';
import { colorsFor, writeLine } from '../output.js';
import { pdfText } from '../pdf.js';
import { loadPlugins, NO_PLUGINS } from '../plugin.js';
import { displayPath } from '../project.js';
import { type ProviderChoice, setupProviders } from '../providers.js';
import { openStore, postgresUrlOf } from '../store.js';

export interface WorkerFlags {
  db: string | undefined;
  concurrency: string;
  grace: string;
  plugin: string[];
  provider: ProviderChoice | undefined;
  fixtures: string | undefined;
}

export interface WorkerHooks {
  /** Resolves when the worker must stop. Default: the first SIGTERM or SIGINT. */
  stopped?: Promise<unknown>;
  /** Called once the worker claims runs. */
  onReady?: (ownerId: string) => void;
}

function integer(flag: string, value: string, min: number, max: number): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new CliError(`${flag}: expected an integer from ${min} to ${max}, got ${JSON.stringify(value)}.`);
  }
  return n;
}

function signalled(): { stopped: Promise<unknown>; dispose(): void } {
  let resolve!: (signal: unknown) => void;
  const stopped = new Promise((r) => {
    resolve = r;
  });
  process.on('SIGTERM', resolve);
  process.on('SIGINT', resolve);
  return {
    stopped,
    dispose() {
      process.off('SIGTERM', resolve);
      process.off('SIGINT', resolve);
    },
  };
}

export async function workerCommand(flags: WorkerFlags, io: Io, hooks: WorkerHooks = {}): Promise<number> {
  const c = colorsFor(io.stderr, io.env);
  const concurrency = integer('--concurrency', flags.concurrency, 1, 10_000);
  const graceMs = integer('--grace', flags.grace, 0, 3_600_000);
  if (postgresUrlOf({ db: flags.db }, io.env) === null) {
    throw new CliError(
      '--db: give the PostgreSQL database the workers share (--db postgres://USER@HOST/DB, or WEFT_DB). On a SQLite file, weft run and weft serve execute their runs in their own process (a library worker can share a file: docs/durability.md, Workers).',
    );
  }
  const fixtures =
    flags.fixtures === undefined
      ? emptyFixtures()
      : parseFixtures(readJson(flags.fixtures, 'fixtures file'), flags.fixtures);
  const setup = await setupProviders({
    choice: flags.provider,
    env: io.env,
    names: [],
    fixtures,
    fixturesSource: flags.fixtures ?? null,
    explicitFixtures: flags.fixtures !== undefined,
  });
  const plugins = flags.plugin.length === 0 ? NO_PLUGINS : await loadPlugins(flags.plugin);
  const opened = await openStore({ db: flags.db }, io.env);
  const weft = createWeft({
    store: opened.store,
    providers: setup.providers,
    pricing: setup.pricing,
    steps: plugins.steps,
    services: plugins.services,
    tools: plugins.tools,
    fileExtractors: { 'application/pdf': pdfText },
    ...(setup.autoModel === undefined ? {} : { autoModel: setup.autoModel }),
    worker: { concurrency },
    onStoreError: (error, context) =>
      writeLine(
        io.stderr,
        c.yellow(
          `weft worker: store error (${context.operation}${context.run_id === undefined ? '' : `, run ${context.run_id}`}): ${error instanceof Error ? error.message : String(error)}`,
        ),
      ),
  });
  writeLine(
    io.stdout,
    `Weft worker ${weft.ownerId} on ${displayPath(opened.path!)}: up to ${concurrency} run${concurrency === 1 ? '' : 's'} at once.`,
  );
  writeLine(io.stderr, c.dim(setup.notice));
  hooks.onReady?.(weft.ownerId);

  const fromSignals = hooks.stopped === undefined ? signalled() : null;
  await (hooks.stopped ?? fromSignals!.stopped);
  writeLine(io.stderr, `Stopping: no new runs; the steps running have ${graceMs} ms to settle.`);
  // Suspended, not abandoned: the runs still in progress are released for the other workers at once.
  const report = await weft.suspend({ graceMs });
  fromSignals?.dispose();
  opened.close();
  const handed = report.suspended.length;
  writeLine(
    io.stderr,
    `Stopped (${report.ended.length} run${report.ended.length === 1 ? '' : 's'} ended, ${handed} handed to the other workers${handed > 0 ? `: ${report.suspended.join(', ')}` : ''}).`,
  );
  return EXIT.OK;
}
