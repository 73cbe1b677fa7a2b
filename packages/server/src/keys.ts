/**
 * API keys: `weft_` + 43 base64url characters (256 random bits), each bound to one app. Only the key's
 * SHA-256 is stored (`WeftStore.insertApiKey`); the key itself is shown once, when it is created. A
 * fast hash is enough here: the keys are random, not passwords, so there is nothing to brute-force
 * from a leaked hash.
 */
import * as crypto from 'node:crypto';
import { randomBytes, randomUUID } from 'node:crypto';
import { invalidArgument, type WeftStore } from '@weft/core';
import type { ApiKeyRecord } from '@weft/core/store';

export const API_KEY_PREFIX = 'weft_';
/** The app id the platform's SDK puts in paths when the key alone names the app. */
export const PLACEHOLDER_APP_ID = 'c';
/** What an app id may look like: it is a path segment of every route. */
export const APP_ID_PATTERN = /^[A-Za-z0-9._~-]{1,128}$/;

export interface NewApiKey {
  /** The key: give it to the client now, it cannot be read back. */
  key: string;
  /** What is stored: the hash, never the key. */
  record: ApiKeyRecord;
}

// One-shot `crypto.hash` (Node ≥ 20.12) is several times cheaper than createHash().update().digest(),
// and this runs on every request.
const oneShot = (crypto as { hash?: (algorithm: string, data: string, encoding: 'hex') => string }).hash;

export function hashApiKey(key: string): string {
  if (oneShot !== undefined) return oneShot('sha256', key, 'hex');
  return crypto.createHash('sha256').update(key, 'utf8').digest('hex');
}

export function checkAppId(appId: unknown): string {
  if (typeof appId !== 'string' || !APP_ID_PATTERN.test(appId) || appId === PLACEHOLDER_APP_ID) {
    throw invalidArgument(
      'appId',
      `an app id of 1–128 letters, digits, ".", "_", "~" or "-" (not "${PLACEHOLDER_APP_ID}", which stands for the key's app)`,
      appId,
    );
  }
  return appId;
}

/** Makes a key for `appId` (nothing is stored). */
export function newApiKey(appId: string, options: { name?: string | null; now?: Date } = {}): NewApiKey {
  checkAppId(appId);
  const name = options.name ?? null;
  if (name !== null && (typeof name !== 'string' || name.length > 200)) {
    throw invalidArgument('name', 'a string of at most 200 characters, or null', name);
  }
  const key = `${API_KEY_PREFIX}${randomBytes(32).toString('base64url')}`;
  return {
    key,
    record: {
      id: `key_${randomUUID()}`,
      app_id: appId,
      hash: hashApiKey(key),
      name,
      created_at: (options.now ?? new Date()).toISOString(),
    },
  };
}

/** Makes a key for `appId` and stores its hash. */
export async function createApiKey(
  store: WeftStore,
  appId: string,
  options: { name?: string | null } = {},
): Promise<NewApiKey> {
  const created = newApiKey(appId, options);
  await store.insertApiKey(created.record);
  return created;
}
