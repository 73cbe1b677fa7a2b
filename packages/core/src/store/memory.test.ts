/** The WeftStore contract, run against MemoryStore. */
import { describe, expect, it } from 'vitest';
import { isWeftError } from '../errors.js';
import type { StepRecord } from '../run/types.js';
import { decodeCursor, encodeCursor, pageLimit } from './cursor.js';
import { MemoryStore } from './memory.js';
import { PURGED_MESSAGE } from './purge.js';
import type { PublishedVersion, RunRow, Workflow, WorkflowTest } from './types.js';

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

function version(workflowId: string, n: number): PublishedVersion {
  return {
    id: `${workflowId}-v${n}`,
    app_id: 'a',
    workflow_id: workflowId,
    version: n,
    description: null,
    rollback_version: null,
    notes: null,
    created_by: null,
    created_at: at(n),
    steps: [{ type: 'code', key: 'c', code: String(n) }],
  } as PublishedVersion;
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

async function code(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    if (isWeftError(error)) return error.code;
    throw error;
  }
  return 'OK';
}

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

describe('MemoryStore — workflows', () => {
  it('lists one app’s workflows newest first with cursor pagination, archived hidden by default', async () => {
    const store = new MemoryStore();
    for (let i = 0; i < 5; i++) await store.insertWorkflow(workflow(`w${i}`, 'a', i));
    await store.insertWorkflow(workflow('other', 'b', 10));
    await store.updateWorkflow('w2', { archived_at: at(20), updated_at: at(20) });
    const first = await store.listWorkflows({ app_id: 'a', limit: 2 });
    expect(first.data.map((w) => w.id)).toEqual(['w4', 'w3']);
    const second = await store.listWorkflows({ app_id: 'a', limit: 2, cursor: first.next_cursor });
    expect(second.data.map((w) => w.id)).toEqual(['w1', 'w0']);
    expect(second.next_cursor).toBeNull();
    const all = await store.listWorkflows({ app_id: 'a', include_archived: true, limit: 10 });
    expect(all.data.map((w) => w.id)).toEqual(['w4', 'w3', 'w2', 'w1', 'w0']);
    expect((await store.listWorkflows({ app_id: 'nobody' })).data).toEqual([]);
  });

  it('refuses a duplicate id with CONFLICT and never aliases stored records', async () => {
    const store = new MemoryStore();
    const w = workflow('w', 'a', 0);
    await store.insertWorkflow(w);
    expect(await code(store.insertWorkflow(w))).toBe('CONFLICT');
    w.name = 'changed';
    const got = (await store.getWorkflow('w'))!;
    expect(got.name).toBe('w');
    got.draft.steps.push({ type: 'note', key: 'n' });
    expect((await store.getWorkflow('w'))!.draft.steps).toEqual([]);
  });

  it('indexes discoverable, non-archived workflows across apps', async () => {
    const store = new MemoryStore();
    await store.insertWorkflow(workflow('a1', 'a', 1, { discoverable: true }));
    await store.insertWorkflow(workflow('b1', 'b', 2, { discoverable: true }));
    await store.insertWorkflow(workflow('b2', 'b', 3));
    await store.updateWorkflow('b2', { discoverable: true, updated_at: at(4) });
    expect((await store.listDiscoverableWorkflows({})).data.map((w) => w.id)).toEqual(['b2', 'b1', 'a1']);
    expect((await store.listDiscoverableWorkflows({ exclude_app_id: 'b' })).data.map((w) => w.id)).toEqual([
      'a1',
    ]);
    await store.updateWorkflow('b1', { archived_at: at(5), updated_at: at(5) });
    await store.updateWorkflow('a1', { discoverable: false, updated_at: at(5) });
    expect((await store.listDiscoverableWorkflows({})).data.map((w) => w.id)).toEqual(['b2']);
  });
});

describe('MemoryStore — versions', () => {
  it('are immutable: a second insert of an id or a number fails with IMMUTABLE_VERSION; reads are frozen', async () => {
    const store = new MemoryStore();
    await store.insertVersion(version('w', 1));
    expect(await code(store.insertVersion(version('w', 1)))).toBe('IMMUTABLE_VERSION');
    expect(await code(store.insertVersion({ ...version('w', 1), id: 'other' }))).toBe('IMMUTABLE_VERSION');
    const v = (await store.getVersion('w-v1'))!;
    expect(Object.isFrozen(v)).toBe(true);
    expect(Object.isFrozen(v.steps[0])).toBe(true);
    expect(() => {
      (v as { notes: string | null }).notes = 'x';
    }).toThrow(TypeError);
  });

  it('lists highest number first and finds by number and latest', async () => {
    const store = new MemoryStore();
    for (let n = 1; n <= 12; n++) await store.insertVersion(version('w', n));
    const first = await store.listVersions({ workflow_id: 'w', limit: 5 });
    expect(first.data.map((v) => v.version)).toEqual([12, 11, 10, 9, 8]);
    const second = await store.listVersions({ workflow_id: 'w', limit: 5, cursor: first.next_cursor });
    expect(second.data.map((v) => v.version)).toEqual([7, 6, 5, 4, 3]);
    expect((await store.getLatestVersion('w'))!.version).toBe(12);
    expect((await store.getVersionByNumber('w', 3))!.id).toBe('w-v3');
    expect(await store.getLatestVersion('none')).toBeNull();
  });
});

describe('MemoryStore — runs', () => {
  it('lists per app (and per app and workflow) newest first, filtered by status, origin and created range', async () => {
    const store = new MemoryStore();
    await store.insertRun(run('r1', 'a', 1));
    await store.insertRun(run('r2', 'a', 2, { status: 'FAILED' }));
    await store.insertRun(run('r3', 'a', 3, { origin: 'TEST', workflow_id: 'w2' }));
    await store.insertRun(run('r4', 'a', 4));
    await store.insertRun(run('x1', 'b', 5));
    const ids = async (q: Parameters<MemoryStore['listRuns']>[0]) =>
      (await store.listRuns(q)).data.map((r) => r.id);
    expect(await ids({ app_id: 'a' })).toEqual(['r4', 'r3', 'r2', 'r1']);
    expect(await ids({ app_id: 'a', workflow_id: 'w' })).toEqual(['r4', 'r2', 'r1']);
    expect(await ids({ app_id: 'a', status: 'FAILED' })).toEqual(['r2']);
    expect(await ids({ app_id: 'a', status: ['FAILED', 'COMPLETED'], origin: 'WORKFLOW' })).toEqual([
      'r4',
      'r2',
      'r1',
    ]);
    expect(await ids({ app_id: 'a', origin: 'TEST' })).toEqual(['r3']);
    expect(await ids({ app_id: 'a', created_after: at(2), created_before: at(4) })).toEqual(['r3', 'r2']);
    const page = await store.listRuns({ app_id: 'a', limit: 1, status: 'COMPLETED' });
    expect(page.data.map((r) => r.id)).toEqual(['r4']);
    expect(
      (await store.listRuns({ app_id: 'a', limit: 1, status: 'COMPLETED', cursor: page.next_cursor }))
        .data[0]!.id,
    ).toBe('r3');
  });

  it('keeps step records per run (upserted one at a time) and reads them in one call', async () => {
    const store = new MemoryStore();
    await store.insertRun(run('r', 'a', 1));
    await store.saveStepResult('r', 'a', step('a', { status: 'RUNNING' }));
    await store.saveStepResult('r', 'a', step('a'));
    await store.saveStepResult('r', 'b', step('b'));
    const results = await store.getStepResults(['r', 'none']);
    expect(Object.keys(results.get('r')!)).toEqual(['a', 'b']);
    expect(results.get('r')!.a!.status).toBe('COMPLETED');
    expect(results.get('none')).toEqual({});
  });

  it('updateRun applies a patch, optionally only from given statuses', async () => {
    const store = new MemoryStore();
    await store.insertRun(run('r', 'a', 1, { status: 'RUNNING', ended_at: null }));
    expect(await store.updateRun('nope', { status: 'FAILED' })).toBeNull();
    const done = await store.updateRun(
      'r',
      { status: 'COMPLETED', ended_at: at(2) },
      { status_in: ['RUNNING'] },
    );
    expect(done!.status).toBe('COMPLETED');
    expect(
      await store.updateRun('r', { status: 'CANCELLED' }, { status_in: ['PENDING', 'RUNNING'] }),
    ).toBeNull();
    expect((await store.getRun('r'))!.status).toBe('COMPLETED');
  });

  it('indexes due runs; preserve_on_failure keeps failed runs out; purge keeps the shell only', async () => {
    const store = new MemoryStore();
    const keep = { max_age_in_seconds: 10, preserve_on_failure: true };
    await store.insertRun(run('due', 'a', 1, { retention: keep, retention_due_at: at(11) }));
    await store.insertRun(
      run('failed', 'a', 1, { status: 'FAILED', retention: keep, retention_due_at: at(11) }),
    );
    await store.insertRun(run('later', 'a', 1, { retention: keep, retention_due_at: at(100) }));
    await store.insertRun(run('forever', 'a', 1));
    await store.saveStepResult(
      'due',
      's',
      step('s', { error: { code: 'X', message: 'secret', details: { a: 1 } } }),
    );
    expect((await store.listRunsDue(at(10), 10)).map((r) => r.id)).toEqual([]);
    expect((await store.listRunsDue(at(11), 10)).map((r) => r.id)).toEqual(['due']);
    expect((await store.listRunsDue(at(1000), 10)).map((r) => r.id)).toEqual(['due', 'later']);

    const purged = (await store.purgeRun('due', at(50)))!;
    expect(purged).toMatchObject({
      id: 'due',
      status: 'COMPLETED',
      input: {},
      result: null,
      purged_at: at(50),
      version: 1,
      usage: { total: 3, calls: [], steps: { s: { total: 3, calls: [] } } },
    });
    const s = (await store.getStepResults(['due'])).get('due')!.s!;
    expect(s).toMatchObject({ status: 'COMPLETED', output: null, logs: [], calls: [], attempts: 1 });
    expect(s.error).toEqual({ code: 'X', message: PURGED_MESSAGE });
    expect((await store.listRunsDue(at(1000), 10)).map((r) => r.id)).toEqual(['later']);
    // Purging again changes nothing.
    expect((await store.purgeRun('due', at(60)))!.purged_at).toBe(at(50));
    // A retention update moves a run in the due index.
    await store.updateRun('later', { retention_due_at: at(5) });
    expect((await store.listRunsDue(at(6), 10)).map((r) => r.id)).toEqual(['later']);
  });
});

describe('MemoryStore — tests and variables', () => {
  const test = (id: string, n: number): WorkflowTest => ({
    id,
    app_id: 'a',
    workflow_id: 'w',
    name: id,
    input: {},
    step_key: null,
    expectations: [],
    status: 'DRAFT',
    results: [],
    last_run_id: null,
    last_run_at: null,
    created_at: at(n),
    updated_at: at(n),
  });

  it('tests: insert, update, list per workflow, delete', async () => {
    const store = new MemoryStore();
    await store.insertTest(test('t1', 1));
    await store.insertTest(test('t2', 2));
    expect((await store.listTests({ workflow_id: 'w' })).data.map((t) => t.id)).toEqual(['t2', 't1']);
    expect((await store.updateTest('t1', { status: 'PASSED', updated_at: at(3) }))!.status).toBe('PASSED');
    expect(await store.deleteTest('t2')).toBe(true);
    expect(await store.deleteTest('t2')).toBe(false);
    expect((await store.listTests({ workflow_id: 'w' })).data.map((t) => t.id)).toEqual(['t1']);
  });

  it('variables: upsert by key per app, sorted by key', async () => {
    const store = new MemoryStore();
    const v = (key: string, value: unknown) => ({
      key,
      value,
      secret: false,
      created_at: at(0),
      updated_at: at(0),
    });
    await store.setVariable('a', v('b', 1));
    await store.setVariable('a', v('a', 2));
    await store.setVariable('a', v('b', 3));
    await store.setVariable('other', v('z', 9));
    expect((await store.listVariables('a')).map((x) => [x.key, x.value])).toEqual([
      ['a', 2],
      ['b', 3],
    ]);
    expect(await store.deleteVariable('a', 'a')).toBe(true);
    expect(await store.deleteVariable('a', 'a')).toBe(false);
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
