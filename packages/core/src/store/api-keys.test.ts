/** The WeftStore contract for what the HTTP server adds: API keys (hashes only) and run counts. */
import { describe, expect, it } from 'vitest';
import { isWeftError } from '../errors.js';
import { MemoryStore } from './memory.js';
import type { ApiKeyRecord, RunRow } from './types.js';

const at = (n: number) => new Date(Date.UTC(2024, 0, 1) + n * 1000).toISOString();

function key(id: string, app: string, hash: string): ApiKeyRecord {
  return { id, app_id: app, hash, name: null, created_at: at(0) };
}

function run(id: string, app: string, n: number, extra: Partial<RunRow> = {}): RunRow {
  return {
    id,
    result: null,
    input: {},
    status: 'COMPLETED',
    origin: 'WORKFLOW',
    error: null,
    started_at: at(n),
    ended_at: at(n),
    app_id: app,
    workflow_app_id: app,
    workflow_id: 'w',
    workflow_version_draft: null,
    workflow_version: null,
    collection_id: null,
    record_id: null,
    version: 1,
    usage: { total: 0, calls: [], steps: {} },
    retention: null,
    retention_due_at: null,
    created_at: at(n),
    updated_at: at(n),
    replay_of: null,
    purged_at: null,
    ...extra,
  };
}

describe('MemoryStore — API keys', () => {
  it('finds a key by its hash, lists an app’s keys oldest first, deletes', async () => {
    const store = new MemoryStore();
    await store.insertApiKey(key('k1', 'a', 'h1'));
    await store.insertApiKey(key('k2', 'b', 'h2'));
    await store.insertApiKey(key('k3', 'a', 'h3'));
    expect((await store.getApiKeyByHash('h2'))?.id).toBe('k2');
    expect(await store.getApiKeyByHash('nope')).toBeNull();
    expect((await store.listApiKeys('a')).map((k) => k.id)).toEqual(['k1', 'k3']);
    expect(await store.deleteApiKey('k1')).toBe(true);
    expect(await store.deleteApiKey('k1')).toBe(false);
    expect(await store.getApiKeyByHash('h1')).toBeNull();
    expect((await store.listApiKeys('a')).map((k) => k.id)).toEqual(['k3']);
  });

  it('refuses a duplicate id or hash with CONFLICT and never aliases stored records', async () => {
    const store = new MemoryStore();
    const record = key('k1', 'a', 'h1');
    await store.insertApiKey(record);
    record.app_id = 'changed';
    expect((await store.getApiKeyByHash('h1'))?.app_id).toBe('a');
    for (const dup of [key('k1', 'a', 'other'), key('k2', 'a', 'h1')]) {
      await expect(store.insertApiKey(dup)).rejects.toSatisfy((e) => isWeftError(e) && e.code === 'CONFLICT');
    }
  });
});

describe('MemoryStore — countRuns', () => {
  it('counts what listRuns lists over every page, with the same filters', async () => {
    const store = new MemoryStore();
    for (let i = 0; i < 7; i++) {
      await store.insertRun(
        run(`r${i}`, i < 5 ? 'a' : 'b', i, {
          status: i % 2 === 0 ? 'COMPLETED' : 'FAILED',
          origin: i === 0 ? 'TEST' : 'WORKFLOW',
          workflow_id: i < 3 ? 'w1' : 'w2',
        }),
      );
    }
    const queries = [
      { app_id: 'a' },
      { app_id: 'b' },
      { app_id: 'none' },
      { app_id: 'a', workflow_id: 'w1' },
      { app_id: 'a', status: 'FAILED' as const },
      { app_id: 'a', origin: ['TEST' as const] },
      { app_id: 'a', created_after: at(1), created_before: at(4) },
    ];
    for (const query of queries) {
      let listed = 0;
      let cursor: string | null = null;
      do {
        const page = await store.listRuns({ ...query, limit: 2, cursor });
        listed += page.data.length;
        cursor = page.next_cursor;
      } while (cursor !== null);
      expect(await store.countRuns(query)).toBe(listed);
    }
    expect(await store.countRuns({ app_id: 'a' })).toBe(5);
  });
});
