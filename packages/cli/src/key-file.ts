/**
 * API keys of a project, hashed at rest: `<data>/api-keys.json` holds each key's record (id, app,
 * SHA-256, name, date) — never a key. `weft keys create` appends to it; `weft serve` puts its records
 * in the server's store at start. It lets keys outlive a memory-store server; with a durable store the
 * records also live in the database.
 */
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ApiKeyRecord } from '@weft/core';
import { CliError } from './errors.js';
import { isPlainObject } from './files.js';

export const KEY_FILE = 'api-keys.json';

interface KeyFile {
  version: 1;
  keys: ApiKeyRecord[];
}

function isRecord(value: unknown): value is ApiKeyRecord {
  if (!isPlainObject(value)) return false;
  const r = value as Record<string, unknown>;
  return (
    typeof r.id === 'string' &&
    typeof r.app_id === 'string' &&
    typeof r.hash === 'string' &&
    /^[0-9a-f]{64}$/.test(r.hash) &&
    (r.name === null || typeof r.name === 'string') &&
    typeof r.created_at === 'string'
  );
}

export function readKeyFile(dataDir: string): ApiKeyRecord[] {
  const path = join(dataDir, KEY_FILE);
  if (!existsSync(path)) return [];
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new CliError(`${path}: not valid JSON (${(error as Error).message}). Fix it or delete it.`);
  }
  const keys = isPlainObject(parsed) ? (parsed as { keys?: unknown }).keys : undefined;
  if (!Array.isArray(keys) || !keys.every(isRecord)) {
    throw new CliError(
      `${path}: expected { "version": 1, "keys": [ { id, app_id, hash, name, created_at } ] }.`,
    );
  }
  return keys;
}

export function addToKeyFile(dataDir: string, record: ApiKeyRecord): string {
  const path = join(dataDir, KEY_FILE);
  const keys = readKeyFile(dataDir);
  mkdirSync(dataDir, { recursive: true });
  const content: KeyFile = { version: 1, keys: [...keys, record] };
  // Written whole then renamed, so a crash never leaves half a file; readable by the owner only.
  const temporary = `${path}.${process.pid}.tmp`;
  writeFileSync(temporary, `${JSON.stringify(content, null, 2)}\n`, { mode: 0o600 });
  renameSync(temporary, path);
  chmodSync(path, 0o600);
  return path;
}
