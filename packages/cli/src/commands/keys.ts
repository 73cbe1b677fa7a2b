/** `weft keys create --app A` (prints a new key once) and `weft keys list [--app A]`. */

import { isWeftError } from '@weft/core';
import { newApiKey } from '@weft/server';
import { CliError, EXIT } from '../errors.js';
import { addToKeyFile, readKeyFile } from '../key-file.js';
import { colorsFor, writeLine } from '../output.js';
import type { Io } from './run.js';

export interface KeysFlags {
  app?: string;
  name?: string;
  data: string;
  json: boolean;
}

export function keysCreateCommand(flags: KeysFlags, io: Io): number {
  if (flags.app === undefined) throw new CliError('weft keys create: give the app with --app <app>.');
  let created: ReturnType<typeof newApiKey>;
  try {
    created = newApiKey(flags.app, { name: flags.name ?? null });
  } catch (error) {
    if (isWeftError(error)) throw new CliError(`--app / --name: ${error.message}`);
    throw error;
  }
  const path = addToKeyFile(flags.data, created.record);
  if (flags.json) {
    writeLine(io.stdout, JSON.stringify({ key: created.key, id: created.record.id, app_id: flags.app }));
    return EXIT.OK;
  }
  const c = colorsFor(io.stderr, io.env);
  writeLine(io.stdout, created.key);
  writeLine(
    io.stderr,
    c.dim(
      `API key ${created.record.id} for app "${flags.app}": shown once, only its hash is kept (${path}). Send it as Authorization: Bearer <key>.`,
    ),
  );
  return EXIT.OK;
}

export function keysListCommand(flags: KeysFlags, io: Io): number {
  const keys = readKeyFile(flags.data).filter((k) => flags.app === undefined || k.app_id === flags.app);
  if (flags.json) {
    writeLine(io.stdout, JSON.stringify(keys.map(({ hash: _hash, ...rest }) => rest)));
    return EXIT.OK;
  }
  if (keys.length === 0) {
    writeLine(io.stderr, 'No API keys yet: create one with weft keys create --app <app>.');
    return EXIT.OK;
  }
  for (const k of keys)
    writeLine(io.stdout, `${k.id}  ${k.app_id}  ${k.created_at}${k.name === null ? '' : `  ${k.name}`}`);
  return EXIT.OK;
}
