/**
 * What is particular to MemoryStore: cursors, copies, the bound on purged shells. The WeftStore contract
 * itself (every method, journal, leases) is the shared suite `describeStoreContract` of @weft/testing,
 * which packages/testing runs against MemoryStore (core cannot depend on @weft/testing).
 */
import { describe, expect, it } from 'vitest';
import type { StepRecord } from '../run/types.js';
import { decodeCursor, encodeCursor, pageLimit } from './cursor.js';
import { MemoryStore } from './memory.js';
import type { RunRow, Workflow } from './types.js';

const at = (n: number) => new Date(Date.UTC(2024, 0, 1) + n * 1000).toISOString();

function workflow(id: string, app: string, n: number, extra: Partial<Workflow> = {}): Workflow {
  return {
    id,
    app_id: app,
    name: id,
    description: null,
    discoverable: false,
    retention: null,
    draft: { steps: [] },
    latest_version: null,
    tests_stats: null,
    archived_at: null,
    created_at: at(n),
    updated_at: at(n),
    ...extra,
  };
}

function run(id: string, app: string, n: number, extra: Partial<RunRow> = {}): RunRow {
  return {
    id,
    result: 'r',
    input: { secret: 'x' },
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
    usage: {
      total: 3,
      calls: [{ id: 'c', total: 3 }],
      steps: { s: { total: 3, calls: [{ id: 'c', total: 3 }] } },
    },
    retention: null,
    retention_due_at: null,
    created_at: at(n),
    updated_at: at(n),
    replay_of: null,
    purged_at: null,
    ...extra,
  };
}

const step = (key: string, extra: Partial<StepRecord> = {}): StepRecord => ({
  status: 'COMPLETED',
  type: 'code',
  key,
  output: { value: key },
  logs: [{ level: 'info', message: 'hello', time: at(0) }],
  calls: [{ id: 'c', total: 1 }],
  start: at(0),
  end: at(1),
  error: null,
  attempts: 1,
  ...extra,
});

describe('cursors', () => {
  it('round-trip and are opaque base64url', () => {
    const c = encodeCursor({ key: at(5), id: 'a|b' });
    expect(c).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(decodeCursor(c)).toEqual({ key: at(5), id: 'a|b' });
  });

  it('refuse anything else with INVALID_ARGUMENT', () => {
    for (const bad of ['', '!!', Buffer.from('nobar').toString('base64url')]) {
      expect(() => decodeCursor(bad)).toThrow(/next_cursor/);
    }
  });

  it('page limits are 1–100, default 20', () => {
    expect(pageLimit({})).toBe(20);
    expect(pageLimit({ limit: 100 })).toBe(100);
    expect(() => pageLimit({ limit: 0 })).toThrow(/limit/);
    expect(() => pageLimit({ limit: 101 })).toThrow(/limit/);
    expect(() => pageLimit({ limit: 1.5 })).toThrow(/limit/);
  });
});

describe('MemoryStore — copies', () => {
  it('keep key order and never alias; records created in the same millisecond list in insertion order', async () => {
    const store = new MemoryStore();
    const w = workflow('w', 'a', 0, {
      draft: { key: 'k', input_default: { z: 1, a: 2, m: { y: 1, b: 2 } }, steps: [] },
    });
    await store.insertWorkflow(w);
    const got = (await store.getWorkflow('w'))!;
    expect(Object.keys(got)).toEqual(Object.keys(w));
    expect(Object.keys(got.draft.input_default!)).toEqual(['z', 'a', 'm']);
    expect(Object.keys(got.draft.input_default!.m as object)).toEqual(['y', 'b']);
    for (const id of ['r-z', 'r-a', 'r-m']) await store.insertRun(run(id, 'a', 1));
    expect((await store.listRuns({ app_id: 'a' })).data.map((r) => r.id)).toEqual(['r-m', 'r-a', 'r-z']);
  });
});

describe('MemoryStore — purged shells are bounded', () => {
  it('keeps the shells of the last maxPurgedRuns purged runs and deletes older ones whole', async () => {
    const store = new MemoryStore({ maxPurgedRuns: 2 });
    const policy = { max_age_in_seconds: 0, preserve_on_failure: false };
    for (const id of ['r1', 'r2', 'r3']) {
      await store.insertRun(run(id, 'a', 1, { retention: policy, retention_due_at: at(1) }));
      await store.saveStepResult(id, 's', step('s'));
    }
    for (const id of ['r1', 'r2', 'r3']) await store.purgeRun(id, at(2));
    expect(await store.getRun('r1')).toBeNull();
    expect((await store.getStepResults(['r1'])).get('r1')).toEqual({});
    expect(await store.getLease('r1')).toBeNull();
    expect((await store.getRun('r2'))!.purged_at).toBe(at(2));
    expect((await store.listRuns({ app_id: 'a' })).data.map((r) => r.id)).toEqual(['r3', 'r2']);
    expect((await store.listRuns({ app_id: 'a', workflow_id: 'w' })).data.map((r) => r.id)).toEqual([
      'r3',
      'r2',
    ]);
    // The id is free again once its shell is gone.
    await store.insertRun(run('r1', 'a', 5));
    expect((await store.listRuns({ app_id: 'a' })).data.map((r) => r.id)).toEqual(['r1', 'r3', 'r2']);
  });

  it('defaults to 10,000 and refuses a bad bound', () => {
    expect(() => new MemoryStore({ maxPurgedRuns: -1 })).toThrow(/maxPurgedRuns/);
    expect(() => new MemoryStore({ maxPurgedRuns: 1.5 })).toThrow(/maxPurgedRuns/);
    expect(() => new MemoryStore({ maxPurgedRuns: Number.POSITIVE_INFINITY })).not.toThrow();
  });
});
