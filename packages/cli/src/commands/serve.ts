/**
 * `weft serve [folder]`: the Workflows API over HTTP (`@weft/server`) for the workflows of a folder.
 * Prints the URL and, when the app has none yet, a first API key; stops gracefully on SIGTERM or
 * Ctrl-C (no new requests; runs in progress get `--grace` ms to end, then are cancelled and stored).
 */
import { createWeft, type Weft } from '@weft/core';
import { createServer, newApiKey, shutdown } from '@weft/server';
import { CliError, EXIT } from '../errors.js';
import { readJson } from '../files.js';
import { emptyFixtures, parseFixtures } from '../fixtures.js';
import { addToKeyFile, readKeyFile } from '../key-file.js';
import { colorsFor, writeLine } from '../output.js';
import { openProjectStore } from '../project-store.js';
import type { ProviderChoice } from '../providers.js';
import { setupProviders } from '../providers.js';
import { folderWorkflows, providersOf, syncWorkflows } from '../serve-workflows.js';
import type { Io } from './run.js';

export interface ServeFlags {
  port: string;
  host: string;
  app: string;
  data: string;
  provider: ProviderChoice | undefined;
  fixtures: string | undefined;
  grace: string;
}

export interface ServeHooks {
  /** Resolves when the server must stop. Default: the first SIGTERM or SIGINT. */
  stopped?: Promise<unknown>;
  /** Called with the URL once the server listens (tests). */
  onListening?: (url: string, weft: Weft) => void;
}

function integer(flag: string, value: string, min: number, max: number): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max)
    throw new CliError(`${flag}: expected an integer from ${min} to ${max}, got ${JSON.stringify(value)}.`);
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
  const project = openProjectStore(flags.data);
  const weft = createWeft({ store: project.store, providers: setup.providers, pricing: setup.pricing });

  // API keys: the project's (hashed) key file first; a first key when the app has none.
  let firstKey: string | null = null;
  try {
    const known = new Set((await project.store.listApiKeys(flags.app)).map((k) => k.id));
    for (const record of readKeyFile(flags.data)) {
      if ((await project.store.getApiKeyByHash(record.hash)) === null)
        await project.store.insertApiKey(record);
      if (record.app_id === flags.app) known.add(record.id);
    }
    if (known.size === 0) {
      const created = newApiKey(flags.app, { name: 'weft serve' });
      await project.store.insertApiKey(created.record);
      addToKeyFile(flags.data, created.record);
      firstKey = created.key;
    }
  } catch (error) {
    if (error instanceof CliError) throw error;
    throw new CliError(`--app ${JSON.stringify(flags.app)}: ${(error as Error).message}`);
  }

  const lines = await syncWorkflows(weft.app(flags.app), workflows);
  const server = await createServer({ weft });
  let url: string;
  try {
    url = await server.listen({ port, host: flags.host });
  } catch (error) {
    await server.close();
    throw new CliError(`Cannot listen on ${flags.host}:${port}: ${(error as Error).message}`);
  }

  writeLine(io.stdout, `Weft server listening on ${url}`);
  writeLine(io.stdout, `App: ${flags.app}   API: ${url}/apps/${flags.app}   Docs: ${url}/docs`);
  if (firstKey !== null) {
    writeLine(io.stdout, `API key (shown once; only its hash is kept): ${firstKey}`);
  } else {
    writeLine(
      io.stdout,
      `API keys: the app's existing ones (${flags.data}); another: weft keys create --app ${flags.app}`,
    );
  }
  writeLine(io.stderr, c.dim(project.notice));
  writeLine(io.stderr, c.dim(setup.notice));
  for (const line of lines) {
    writeLine(
      io.stderr,
      `${line.problems.length > 0 ? c.yellow('!') : c.green('✔')} ${line.id} (${line.file}): ${line.status}`,
    );
    for (const problem of line.problems) writeLine(io.stderr, c.dim(`    ${problem}`));
  }
  hooks.onListening?.(url, weft);

  const fromSignals = hooks.stopped === undefined ? signals() : null;
  await (hooks.stopped ?? fromSignals!.stopped);
  writeLine(io.stderr, `Stopping: no new requests; runs in progress have ${graceMs} ms to end.`);
  const report = await shutdown(server, weft, { graceMs });
  fromSignals?.dispose();
  writeLine(
    io.stderr,
    `Stopped (${report.ended} run${report.ended === 1 ? '' : 's'} ended, ${report.cancelled.length} cancelled${report.cancelled.length > 0 ? `: ${report.cancelled.join(', ')}` : ''}).`,
  );
  return EXIT.OK;
}
