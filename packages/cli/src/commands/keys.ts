/**
 * `weft keys create --app A` (prints a new key once), `weft keys list --app A`, `weft keys revoke ID`:
 * the API keys of `weft serve`, kept as SHA-256 hashes in the project's database.
 */
import { isWeftError } from '@weft/core';
import { newApiKey } from '@weft/server';
import { CliError, EXIT } from '../errors.js';
import type { Io } from '../execute.js';
import { colorsFor, writeLine } from '../output.js';
import { displayPath } from '../project.js';
import { openStore } from '../store.js';

export interface KeysFlags {
  app?: string;
  name?: string;
  db?: string;
  json: boolean;
}

export async function keysCreateCommand(flags: KeysFlags, io: Io): Promise<number> {
  if (flags.app === undefined) throw new CliError('weft keys create: give the app with --app <app>.');
  let created: ReturnType<typeof newApiKey>;
  try {
    created = newApiKey(flags.app, { name: flags.name ?? null });
  } catch (error) {
    if (isWeftError(error)) throw new CliError(`--app / --name: ${error.message}`);
    throw error;
  }
  // Keys must outlive the command: always the SQLite file (--db, else the project's).
  const opened = await openStore({ store: 'sqlite', db: flags.db }, io.env);
  try {
    await opened.store.insertApiKey(created.record);
  } finally {
    opened.close();
  }
  if (flags.json) {
    writeLine(io.stdout, JSON.stringify({ key: created.key, id: created.record.id, app_id: flags.app }));
    return EXIT.OK;
  }
  const c = colorsFor(io.stderr, io.env);
  writeLine(io.stdout, created.key);
  writeLine(
    io.stderr,
    c.dim(
      `API key ${created.record.id} for app "${flags.app}": shown once, only its hash is kept (${displayPath(opened.path!)}). Send it as Authorization: Bearer <key>.`,
    ),
  );
  return EXIT.OK;
}

export async function keysListCommand(flags: KeysFlags, io: Io): Promise<number> {
  if (flags.app === undefined) throw new CliError('weft keys list: give the app with --app <app>.');
  const opened = await openStore({ store: 'sqlite', db: flags.db }, io.env, { mustExist: true });
  let keys: Awaited<ReturnType<typeof opened.store.listApiKeys>>;
  try {
    keys = await opened.store.listApiKeys(flags.app);
  } finally {
    opened.close();
  }
  if (flags.json) {
    writeLine(io.stdout, JSON.stringify(keys.map(({ hash: _hash, ...rest }) => rest)));
    return EXIT.OK;
  }
  if (keys.length === 0) {
    writeLine(
      io.stderr,
      `No API keys for app "${flags.app}": create one with weft keys create --app ${flags.app}.`,
    );
    return EXIT.OK;
  }
  for (const k of keys)
    writeLine(io.stdout, `${k.id}  ${k.created_at}${k.name === null ? '' : `  ${k.name}`}`);
  return EXIT.OK;
}

export async function keysRevokeCommand(id: string, flags: KeysFlags, io: Io): Promise<number> {
  const opened = await openStore({ store: 'sqlite', db: flags.db }, io.env, { mustExist: true });
  let deleted: boolean;
  try {
    deleted = await opened.store.deleteApiKey(id);
  } finally {
    opened.close();
  }
  if (!deleted) {
    throw new CliError(
      `No API key "${id}" in ${displayPath(opened.path!)}: list them with weft keys list --app <app>.`,
    );
  }
  writeLine(io.stderr, `API key ${id} revoked: requests with it are refused from now on.`);
  return EXIT.OK;
}
