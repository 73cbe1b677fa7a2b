/**
 * Authentication and tenancy for every `/apps/{app_id}/…` route: `Authorization: Bearer <key>` must
 * name a stored key, and `{app_id}` must be the key's app (or `c`, the SDK's stand-in for it). A path
 * naming any other app is answered exactly like a resource that does not exist (404), so a key learns
 * nothing about other apps — not even whether they exist.
 */
import type { WeftStore } from '@weft/core';
import type { ApiKeyRecord } from '@weft/core/store';
import type { FastifyRequest } from 'fastify';
import { appNotFound, unauthorized } from './http-errors.js';
import { hashApiKey, PLACEHOLDER_APP_ID } from './keys.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** The key the request authenticated with (set on every /apps route). */
    apiKey: ApiKeyRecord | null;
  }
}

/** Longer than any key we issue: refused before hashing. */
const MAX_KEY_LENGTH = 256;
const BEARER = /^Bearer[ \t]+([^\s]+)[ \t]*$/i;

/** The key of a request, or throws UNAUTHORIZED. */
export async function authenticate(store: WeftStore, header: string | undefined): Promise<ApiKeyRecord> {
  if (header === undefined || header === '') {
    throw unauthorized(
      'No API key: send `Authorization: Bearer <key>` (create a key with `weft keys create --app <app>`).',
    );
  }
  const match = BEARER.exec(header);
  if (match === null) {
    throw unauthorized('The Authorization header must be `Bearer <key>`, with one key and nothing else.');
  }
  const key = match[1]!;
  const record = key.length > MAX_KEY_LENGTH ? null : await store.getApiKeyByHash(hashApiKey(key));
  if (record === null) {
    throw unauthorized(
      'This API key is not known to this server: check it, or create one with `weft keys create`.',
    );
  }
  return record;
}

/** The app a request acts for: the key's, when the path names it (or names `c`); else NOT_FOUND. */
export function scopedApp(key: ApiKeyRecord, pathAppId: string): string {
  if (pathAppId === PLACEHOLDER_APP_ID || pathAppId === key.app_id) return key.app_id;
  throw appNotFound(pathAppId);
}

/** The app of an authenticated request on an /apps/{app_id} route. */
export function appOf(request: FastifyRequest): string {
  const key = request.apiKey;
  if (key === null) throw unauthorized('No API key.');
  return scopedApp(key, (request.params as { app_id: string }).app_id);
}
