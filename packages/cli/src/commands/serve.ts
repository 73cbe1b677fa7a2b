/**
 * `weft serve [folder]`: the Workflows API over HTTP (`@weft/server`) for the workflows of a folder, on
 * the project's store (the SQLite file `weft run` records into, or memory with `--store memory`).
 * Prints the URL and, when the app has none yet, a first API key; stops gracefully on SIGTERM or
 * Ctrl-C: no new requests; runs in progress get `--grace` ms to end, then are suspended — their running
 * steps get `--suspend-grace` ms to settle, and they stay RUNNING in the store, resumed by the next
 * `weft serve` on it (with `--store memory`, where nothing could resume them, they are cancelled).
 */
import { createWeft, isWeftError, type Weft } from '@weft/core';
import { createServer, newApiKey, shutdown } from '@weft/server';
import { CliError, EXIT } from '../errors.js';
import type { Io } from '../execute.js';
import { readJson } from '../files.js';
import { emptyFixtures, parseFixtures } from '../fixtures.js';
import { colorsFor, writeLine } from '../output.js';
import { displayPath } from '../project.js';
import type { ProviderChoice } from '../providers.js';
import { setupProviders } from '../providers.js';
import { folderWorkflows, providersOf, syncWorkflows } from '../serve-workflows.js';
import { openStore, type StoreChoice } from '../store.js';

export interface ServeFlags {
  port: string;
  host: string;
  app: string;
  store: StoreChoice | undefined;
  db: string | undefined;
  provider: ProviderChoice | undefined;
  fixtures: string | undefined;
  grace: string;
  /** Default 10000 (programmatic callers may leave it out). */
  suspendGrace?: string;
}

export interface ServeHooks {
  /** Resolves when the server must stop. Default: the first SIGTERM or SIGINT. */
  stopped?: Promise<unknown>;
  /** Called with the URL once the server listens. */
  onListening?: (url: string, weft: Weft) => void;
}

function integer(flag: string, value: string, min: number, max: number): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new CliError(`${flag}: expected an integer from ${min} to ${max}, got ${JSON.stringify(value)}.`);
  }
  return n;
}

function signals(): { stopped: Promise<NodeJS.Signals>; dispose(): void } {
  let resolve!: (signal: NodeJS.Signals) => void;
  const stopped = new Promise<NodeJS.Signals>((r) => {
    resolve = r;
  });
  const on = (signal: NodeJS.Signals) => resolve(signal);
  process.on('SIGTERM', on);
  process.on('SIGINT', on);
  return {
    stopped,
    dispose() {
      process.off('SIGTERM', on);
      process.off('SIGINT', on);
    },
  };
}

export async function serveCommand(
  folder: string | undefined,
  flags: ServeFlags,
  io: Io,
  hooks: ServeHooks = {},
): Promise<number> {
  const c = colorsFor(io.stderr, io.env);
  const port = integer('--port', flags.port, 0, 65_535);
  const graceMs = integer('--grace', flags.grace, 0, 3_600_000);
  const suspendGraceMs = integer('--suspend-grace', flags.suspendGrace ?? '10000', 0, 3_600_000);
  const workflows = folder === undefined ? [] : folderWorkflows(folder);
  const fixtures =
    flags.fixtures === undefined
      ? emptyFixtures()
      : parseFixtures(readJson(flags.fixtures, 'fixtures file'), flags.fixtures);
  const setup = await setupProviders({
    choice: flags.provider,
    env: io.env,
    names: providersOf(workflows),
    fixtures,
    fixturesSource: flags.fixtures ?? null,
    explicitFixtures: flags.fixtures !== undefined,
  });
  const opened = await openStore({ store: flags.store, db: flags.db }, io.env);
  const store = opened.store;
  const weft = createWeft({ store, providers: setup.providers, pricing: setup.pricing });

  let url: string;
  let firstKey: string | null = null;
  let server: Awaited<ReturnType<typeof createServer>>;
  try {
    // API keys live in the store (hashed); a first one is made when the app has none.
    if ((await store.listApiKeys(flags.app)).length === 0) {
      const created = newApiKey(flags.app, { name: 'weft serve' });
      await store.insertApiKey(created.record);
      firstKey = created.key;
    }
    const lines = await syncWorkflows(weft.app(flags.app), workflows);
    server = await createServer({ weft });
    try {
      url = await server.listen({ port, host: flags.host });
    } catch (error) {
      await server.close();
      throw new CliError(`Cannot listen on ${flags.host}:${port}: ${(error as Error).message}`);
    }
    writeLine(io.stdout, `Weft server listening on ${url}`);
    writeLine(io.stdout, `App: ${flags.app}   API: ${url}/apps/${flags.app}   Docs: ${url}/docs`);
    writeLine(
      io.stdout,
      firstKey === null
        ? `API keys: the app's existing ones; another: weft keys create --app ${flags.app}`
        : `API key (shown once; only its hash is kept): ${firstKey}`,
    );
    writeLine(
      io.stderr,
      c.dim(
        opened.path === null
          ? 'Store: memory (--store memory): workflows, runs and keys last as long as this process.'
          : `Store: ${displayPath(opened.path)} (workflows, runs and API keys are kept there).`,
      ),
    );
    writeLine(io.stderr, c.dim(setup.notice));
    for (const line of lines) {
      const mark = line.problems.length > 0 ? c.yellow('!') : c.green('✔');
      writeLine(io.stderr, `${mark} ${line.id} (${line.file}): ${line.status}`);
      for (const problem of line.problems) writeLine(io.stderr, c.dim(`    ${problem}`));
    }
  } catch (error) {
    opened.close();
    if (isWeftError(error)) throw new CliError(`--app ${JSON.stringify(flags.app)}: ${error.message}`);
    throw error;
  }
  hooks.onListening?.(url, weft);

  const fromSignals = hooks.stopped === undefined ? signals() : null;
  await (hooks.stopped ?? fromSignals!.stopped);
  writeLine(
    io.stderr,
    opened.path === null
      ? `Stopping: no new requests; runs in progress have ${graceMs} ms to end, then are cancelled.`
      : `Stopping: no new requests; runs in progress have ${graceMs} ms to end, then are suspended (their running steps get ${suspendGraceMs} ms more).`,
  );
  const report = await shutdown(server, weft, { graceMs, suspendGraceMs });
  opened.close();
  fromSignals?.dispose();
  const cancelled = report.cancelled.length;
  const suspended = report.suspended.length;
  writeLine(
    io.stderr,
    `Stopped (${report.ended} run${report.ended === 1 ? '' : 's'} ended, ${cancelled} cancelled${cancelled > 0 ? `: ${report.cancelled.join(', ')}` : ''}, ${suspended} suspended${suspended > 0 ? `: ${report.suspended.join(', ')}` : ''}).`,
  );
  if (suspended > 0) {
    writeLine(io.stderr, c.dim('Suspended runs are resumed by the next weft serve on this store.'));
  }
  return EXIT.OK;
}
