/**
 * The `WeftStore` contract as one vitest suite, for every store: `MemoryStore` (packages/testing runs it),
 * `@weft/store-sqlite`, and the Postgres store to come. A store passes when
 *
 *   describeStoreContract('MyStore', { create: () => new MyStore(), destroy: (s) => s.close() });
 *
 * is green in its package's tests. It imports vitest's `describe/it/expect` itself (vitest is a peer
 * dependency of this entry point only: `@weft/testing/store-contract`, never the main entry, which the
 * CLI loads at run time), so a store's test file is one call.
 *
 * It covers every method: lists and cursor pagination, immutability of versions, conditions on
 * `updateRun`, purge, the journal (ordering, gaps, owner checks, atomic batches) and leases (claims,
 * expiry, races, recovery), plus a model-based property over random sequences of journal and lease
 * operations, checked against a small reference model.
 */
import {
  isWeftError,
  type PublishedVersion,
  type StepRecord,
  type WeftStore,
  type Workflow,
  type WorkflowTest,
} from '@weft/core';
import {
  hasFrozenWorkflowReads,
  type JournalEntry,
  NOTICE_TOPICS,
  type NoticeTopic,
  PURGED_MESSAGE,
  type RunLease,
  type RunRow,
  type StoreNotice,
  type StoreNotices,
} from '@weft/core/store';
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

export interface StoreContractOptions {
  /** A new, empty store (called before each test). */
  create(): WeftStore | Promise<WeftStore>;
  /** Releases a store after its test (close the file, drop the schema). */
  destroy?(store: WeftStore): void | Promise<void>;
  /** fast-check runs of the model-based property (default 40). */
  propertyRuns?: number;
}

const T0 = Date.UTC(2024, 0, 1);
/** The ISO time `n` seconds after 2024-01-01. */
export const at = (n: number): string => new Date(T0 + n * 1000).toISOString();

export function workflowFixture(id: string, app: string, n: number, extra: Partial<Workflow> = {}): Workflow {
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

export function versionFixture(workflowId: string, n: number): PublishedVersion {
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

export function runFixture(id: string, app: string, n: number, extra: Partial<RunRow> = {}): RunRow {
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

export function stepFixture(key: string, extra: Partial<StepRecord> = {}): StepRecord {
  return {
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
  };
}

function testFixture(id: string, n: number): WorkflowTest {
  return {
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
  };
}

/** The code a promise rejects with ('OK' when it resolves). */
export async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    if (isWeftError(error)) return error.code;
    throw error;
  }
  return 'OK';
}

/** An entry as a store sees it: opaque beyond its bookkeeping fields (any type, any data). */
const entry = (seq: number, type = 'step.settled', extra: Record<string, unknown> = {}): JournalEntry =>
  ({ seq, type, at: at(seq), ...extra }) as unknown as JournalEntry;
/** A loaded entry's data fields. */
const fields = (e: JournalEntry | undefined) => e as unknown as Record<string, unknown>;

const live = (id: string, extra: Partial<RunRow> = {}) =>
  runFixture(id, 'a', 1, {
    status: 'RUNNING',
    ended_at: null,
    result: null,
    usage: { total: 0, calls: [], steps: {} },
    ...extra,
  });

export function describeStoreContract(name: string, options: StoreContractOptions): void {
  describe(`${name} — the WeftStore contract`, () => {
    let store: WeftStore;
    beforeEach(async () => {
      store = await options.create();
    });
    afterEach(async () => {
      await options.destroy?.(store);
    });

    describe('workflows', () => {
      it('lists one app’s workflows newest first with cursor pagination, archived hidden by default', async () => {
        for (let i = 0; i < 5; i++) await store.insertWorkflow(workflowFixture(`w${i}`, 'a', i));
        await store.insertWorkflow(workflowFixture('other', 'b', 10));
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

      it('refuses a duplicate id with CONFLICT, applies patches, never aliases stored records', async () => {
        const w = workflowFixture('w', 'a', 0, {
          draft: { key: 'k', input_default: { z: 1, a: 2, m: { y: 1, b: 2 } }, steps: [] },
        });
        await store.insertWorkflow(w);
        expect(await codeOf(store.insertWorkflow(w))).toBe('CONFLICT');
        w.name = 'changed';
        const got = (await store.getWorkflow('w'))!;
        expect(got).toEqual({ ...w, name: 'w' });
        // Key order survives the store (documents are shown to people).
        expect(Object.keys(got.draft.input_default!)).toEqual(['z', 'a', 'm']);
        expect(Object.keys(got.draft.input_default!.m as object)).toEqual(['y', 'b']);
        got.draft.steps.push({ type: 'note', key: 'n' });
        expect((await store.getWorkflow('w'))!.draft.steps).toEqual([]);
        const updated = await store.updateWorkflow('w', {
          name: 'renamed',
          latest_version: 3,
          updated_at: at(5),
        });
        expect(updated).toMatchObject({
          name: 'renamed',
          latest_version: 3,
          updated_at: at(5),
          created_at: at(0),
        });
        expect((await store.getWorkflow('w'))!.name).toBe('renamed');
        expect(await store.updateWorkflow('none', { name: 'x', updated_at: at(5) })).toBeNull();
        expect(await store.getWorkflow('none')).toBeNull();
      });

      it('frozen reads (getFrozenWorkflow, when the store has it): one deep-frozen object per stored content', async (ctx) => {
        if (!hasFrozenWorkflowReads(store)) return ctx.skip();
        await store.insertWorkflow(
          workflowFixture('w', 'a', 0, { draft: { key: 'k', steps: [{ type: 'note', key: 'n' }] } }),
        );
        const first = (await store.getFrozenWorkflow('w'))!;
        expect(first).toEqual(await store.getWorkflow('w'));
        expect(Object.isFrozen(first) && Object.isFrozen(first.draft.steps[0])).toBe(true);
        expect(await store.getFrozenWorkflow('w')).toBe(first);
        // getWorkflow is unchanged: the caller's own copy.
        const own = (await store.getWorkflow('w'))!;
        expect(own).not.toBe(first);
        own.draft.steps.push({ type: 'note', key: 'm' });
        expect((await store.getFrozenWorkflow('w'))!.draft.steps).toHaveLength(1);
        // A change is read afresh.
        await store.updateWorkflow('w', { draft: { key: 'k', steps: [] }, updated_at: at(1) });
        const changed = (await store.getFrozenWorkflow('w'))!;
        expect(changed).not.toBe(first);
        expect(changed).toEqual(await store.getWorkflow('w'));
        expect(changed.draft.steps).toEqual([]);
        expect(await store.getFrozenWorkflow('none')).toBeNull();
      });

      it('indexes discoverable, non-archived workflows across apps', async () => {
        await store.insertWorkflow(workflowFixture('a1', 'a', 1, { discoverable: true }));
        await store.insertWorkflow(workflowFixture('b1', 'b', 2, { discoverable: true }));
        await store.insertWorkflow(workflowFixture('b2', 'b', 3));
        await store.updateWorkflow('b2', { discoverable: true, updated_at: at(4) });
        expect((await store.listDiscoverableWorkflows({})).data.map((w) => w.id)).toEqual(['b2', 'b1', 'a1']);
        expect(
          (await store.listDiscoverableWorkflows({ exclude_app_id: 'b' })).data.map((w) => w.id),
        ).toEqual(['a1']);
        const page = await store.listDiscoverableWorkflows({ limit: 1 });
        expect(
          (await store.listDiscoverableWorkflows({ limit: 5, cursor: page.next_cursor })).data.map(
            (w) => w.id,
          ),
        ).toEqual(['b1', 'a1']);
        await store.updateWorkflow('b1', { archived_at: at(5), updated_at: at(5) });
        await store.updateWorkflow('a1', { discoverable: false, updated_at: at(5) });
        expect((await store.listDiscoverableWorkflows({})).data.map((w) => w.id)).toEqual(['b2']);
      });

      it('lists records created in the same millisecond newest-inserted first, across pages', async () => {
        for (const id of ['w-z', 'w-a', 'w-m', 'w-b'])
          await store.insertWorkflow(workflowFixture(id, 'a', 1));
        const first = await store.listWorkflows({ app_id: 'a', limit: 3 });
        expect(first.data.map((w) => w.id)).toEqual(['w-b', 'w-m', 'w-a']);
        const rest = await store.listWorkflows({ app_id: 'a', limit: 3, cursor: first.next_cursor });
        expect(rest.data.map((w) => w.id)).toEqual(['w-z']);
        expect(rest.next_cursor).toBeNull();
      });

      it('refuses a cursor that is not one of its own, and limits outside 1–100, with INVALID_ARGUMENT', async () => {
        await store.insertWorkflow(workflowFixture('w', 'a', 1));
        expect(await codeOf(store.listWorkflows({ app_id: 'a', cursor: 'not a cursor!' }))).toBe(
          'INVALID_ARGUMENT',
        );
        expect(await codeOf(store.listWorkflows({ app_id: 'a', limit: 0 }))).toBe('INVALID_ARGUMENT');
        expect(await codeOf(store.listRuns({ app_id: 'a', limit: 101 }))).toBe('INVALID_ARGUMENT');
      });
    });

    describe('versions', () => {
      it('are immutable: a second insert of an id or a number fails with IMMUTABLE_VERSION; reads are frozen', async () => {
        await store.insertVersion(versionFixture('w', 1));
        expect(await codeOf(store.insertVersion(versionFixture('w', 1)))).toBe('IMMUTABLE_VERSION');
        expect(await codeOf(store.insertVersion({ ...versionFixture('w', 1), id: 'other' }))).toBe(
          'IMMUTABLE_VERSION',
        );
        expect(await codeOf(store.insertVersion({ ...versionFixture('w', 2), id: 'w-v1' }))).toBe(
          'IMMUTABLE_VERSION',
        );
        const v = (await store.getVersion('w-v1'))!;
        expect(v).toEqual(versionFixture('w', 1));
        expect(Object.isFrozen(v)).toBe(true);
        expect(Object.isFrozen(v.steps[0])).toBe(true);
        expect(() => {
          (v as { notes: string | null }).notes = 'x';
        }).toThrow(TypeError);
        expect((await store.getVersion('w-v1'))!.notes).toBeNull();
      });

      it('lists highest number first and finds by number and latest', async () => {
        for (let n = 1; n <= 12; n++) await store.insertVersion(versionFixture('w', n));
        await store.insertVersion(versionFixture('other', 1));
        const first = await store.listVersions({ workflow_id: 'w', limit: 5 });
        expect(first.data.map((v) => v.version)).toEqual([12, 11, 10, 9, 8]);
        const second = await store.listVersions({ workflow_id: 'w', limit: 5, cursor: first.next_cursor });
        expect(second.data.map((v) => v.version)).toEqual([7, 6, 5, 4, 3]);
        const third = await store.listVersions({ workflow_id: 'w', limit: 5, cursor: second.next_cursor });
        expect(third.data.map((v) => v.version)).toEqual([2, 1]);
        expect(third.next_cursor).toBeNull();
        expect((await store.getLatestVersion('w'))!.version).toBe(12);
        expect((await store.getVersionByNumber('w', 3))!.id).toBe('w-v3');
        expect(await store.getVersionByNumber('w', 13)).toBeNull();
        expect(await store.getLatestVersion('none')).toBeNull();
        expect(await store.getVersion('none')).toBeNull();
        expect((await store.listVersions({ workflow_id: 'none' })).data).toEqual([]);
      });
    });

    describe('runs', () => {
      it('round-trip every field', async () => {
        const row = runFixture('r', 'a', 1, {
          workflow_version: versionFixture('w', 1),
          retention: { max_age_in_seconds: 5, preserve_on_failure: true },
          retention_due_at: at(6),
          error: { code: 'X', message: 'm', step_key: 's', details: { n: [1, { b: null }] } },
          collection_id: 'c',
          record_id: 'rec',
          replay_of: 'orig',
        });
        await store.insertRun(row);
        expect(await store.getRun('r')).toEqual(row);
        expect(await store.getRun('none')).toBeNull();
        expect(await codeOf(store.insertRun(row))).toBe('CONFLICT');
      });

      it('lists per app (and per app and workflow) newest first, filtered by status, origin and created range', async () => {
        await store.insertRun(runFixture('r1', 'a', 1));
        await store.insertRun(runFixture('r2', 'a', 2, { status: 'FAILED' }));
        await store.insertRun(runFixture('r3', 'a', 3, { origin: 'TEST', workflow_id: 'w2' }));
        await store.insertRun(runFixture('r4', 'a', 4));
        await store.insertRun(runFixture('x1', 'b', 5));
        const ids = async (q: Parameters<WeftStore['listRuns']>[0]) =>
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
        expect(await ids({ app_id: 'a', status: [] })).toEqual([]);
        const page = await store.listRuns({ app_id: 'a', limit: 1, status: 'COMPLETED' });
        expect(page.data.map((r) => r.id)).toEqual(['r4']);
        const next = await store.listRuns({
          app_id: 'a',
          limit: 5,
          status: 'COMPLETED',
          cursor: page.next_cursor,
        });
        expect(next.data.map((r) => r.id)).toEqual(['r3', 'r1']);
        expect(next.next_cursor).toBeNull();
        // A range with a cursor: both bounds hold on every page.
        const ranged = await store.listRuns({
          app_id: 'a',
          limit: 1,
          created_after: at(2),
          created_before: at(4),
        });
        expect(
          (
            await store.listRuns({
              app_id: 'a',
              limit: 5,
              created_after: at(2),
              created_before: at(4),
              cursor: ranged.next_cursor,
            })
          ).data.map((r) => r.id),
        ).toEqual(['r2']);
      });

      it('pages through many runs without loss or repeat', async () => {
        const made: string[] = [];
        for (let i = 0; i < 45; i++) {
          // Three runs per second: ties on created_at are broken by insertion order.
          const id = `r${String(i).padStart(2, '0')}`;
          made.push(id);
          await store.insertRun(runFixture(id, 'a', Math.floor(i / 3)));
        }
        const seen: string[] = [];
        let cursor: string | null = null;
        for (let pages = 0; pages < 20; pages++) {
          const page: Awaited<ReturnType<WeftStore['listRuns']>> = await store.listRuns({
            app_id: 'a',
            limit: 7,
            cursor,
          });
          seen.push(...page.data.map((r) => r.id));
          cursor = page.next_cursor;
          if (cursor === null) break;
        }
        expect(seen).toEqual([...made].reverse());
      });

      it('keeps step records per run (upserted one at a time, first-saved order) and reads them in one call', async () => {
        await store.insertRun(runFixture('r', 'a', 1));
        await store.insertRun(runFixture('q', 'a', 1));
        await store.saveStepResult('r', 'b', stepFixture('b', { status: 'RUNNING' }));
        await store.saveStepResult('r', 'a', stepFixture('a'));
        await store.saveStepResult('r', 'b', stepFixture('b'));
        await store.saveStepResult(
          'q',
          'z',
          stepFixture('z', { skip_reason: 'not_reached', status: 'SKIPPED' }),
        );
        const results = await store.getStepResults(['r', 'q', 'none']);
        expect(Object.keys(results.get('r')!)).toEqual(['b', 'a']);
        expect(results.get('r')!.b).toEqual(stepFixture('b'));
        expect(results.get('q')!.z!.skip_reason).toBe('not_reached');
        expect(results.get('none')).toEqual({});
        expect((await store.getStepResults([])).size).toBe(0);
      });

      it('updateRun applies a patch, optionally only from given statuses', async () => {
        await store.insertRun(runFixture('r', 'a', 1, { status: 'RUNNING', ended_at: null }));
        expect(await store.updateRun('nope', { status: 'FAILED' })).toBeNull();
        const done = await store.updateRun(
          'r',
          { status: 'COMPLETED', ended_at: at(2), result: { ok: [1, 2] } },
          { status_in: ['RUNNING'] },
        );
        expect(done).toMatchObject({ status: 'COMPLETED', ended_at: at(2), result: { ok: [1, 2] } });
        expect(
          await store.updateRun('r', { status: 'CANCELLED' }, { status_in: ['PENDING', 'RUNNING'] }),
        ).toBeNull();
        expect((await store.getRun('r'))!.status).toBe('COMPLETED');
        // An empty patch changes nothing and returns the row.
        expect(await store.updateRun('r', {})).toEqual(await store.getRun('r'));
      });

      it('indexes due runs; preserve_on_failure keeps failed runs out; purge keeps the shell only', async () => {
        const keep = { max_age_in_seconds: 10, preserve_on_failure: true };
        await store.insertRun(runFixture('due', 'a', 1, { retention: keep, retention_due_at: at(11) }));
        await store.insertRun(
          runFixture('failed', 'a', 1, { status: 'FAILED', retention: keep, retention_due_at: at(11) }),
        );
        await store.insertRun(runFixture('later', 'a', 1, { retention: keep, retention_due_at: at(100) }));
        await store.insertRun(runFixture('forever', 'a', 1));
        await store.saveStepResult(
          'due',
          's',
          stepFixture('s', { error: { code: 'X', message: 'secret', details: { a: 1 } } }),
        );
        expect((await store.listRunsDue(at(10), 10)).map((r) => r.id)).toEqual([]);
        expect((await store.listRunsDue(at(11), 10)).map((r) => r.id)).toEqual(['due']);
        expect((await store.listRunsDue(at(1000), 10)).map((r) => r.id)).toEqual(['due', 'later']);
        expect((await store.listRunsDue(at(1000), 1)).map((r) => r.id)).toEqual(['due']);

        const purged = (await store.purgeRun('due', at(50)))!;
        expect(purged).toMatchObject({
          id: 'due',
          status: 'COMPLETED',
          input: {},
          result: null,
          purged_at: at(50),
          updated_at: at(50),
          version: 1,
          usage: { total: 3, calls: [], steps: { s: { total: 3, calls: [] } } },
        });
        expect(await store.getRun('due')).toEqual(purged);
        const s = (await store.getStepResults(['due'])).get('due')!.s!;
        expect(s).toMatchObject({ status: 'COMPLETED', output: null, logs: [], calls: [], attempts: 1 });
        expect(s.error).toEqual({ code: 'X', message: PURGED_MESSAGE });
        expect((await store.listRunsDue(at(1000), 10)).map((r) => r.id)).toEqual(['later']);
        // Purging again changes nothing.
        expect((await store.purgeRun('due', at(60)))!.purged_at).toBe(at(50));
        expect(await store.purgeRun('none', at(60))).toBeNull();
        // A retention update moves a run in the due index.
        await store.updateRun('later', { retention_due_at: at(5) });
        expect((await store.listRunsDue(at(6), 10)).map((r) => r.id)).toEqual(['later']);
        // Failed runs with preserve_on_failure become due once the policy changes.
        await store.updateRun('failed', {
          retention: { max_age_in_seconds: 10, preserve_on_failure: false },
        });
        expect((await store.listRunsDue(at(1000), 10)).map((r) => r.id)).toEqual(['later', 'failed']);
      });
    });

    describe('tests and variables', () => {
      it('tests: insert, update, list per workflow with pages, delete', async () => {
        await store.insertTest(testFixture('t1', 1));
        await store.insertTest(testFixture('t2', 2));
        await store.insertTest(testFixture('t3', 3));
        expect(await codeOf(store.insertTest(testFixture('t1', 1)))).toBe('CONFLICT');
        const first = await store.listTests({ workflow_id: 'w', limit: 2 });
        expect(first.data.map((t) => t.id)).toEqual(['t3', 't2']);
        expect(
          (await store.listTests({ workflow_id: 'w', cursor: first.next_cursor })).data.map((t) => t.id),
        ).toEqual(['t1']);
        expect((await store.updateTest('t1', { status: 'PASSED', updated_at: at(3) }))!.status).toBe(
          'PASSED',
        );
        expect((await store.getTest('t1'))!.status).toBe('PASSED');
        expect(await store.updateTest('none', { status: 'PASSED', updated_at: at(3) })).toBeNull();
        expect(await store.deleteTest('t2')).toBe(true);
        expect(await store.deleteTest('t2')).toBe(false);
        expect(await store.getTest('t2')).toBeNull();
        expect((await store.listTests({ workflow_id: 'w' })).data.map((t) => t.id)).toEqual(['t3', 't1']);
      });

      it('library expectations: insert, update, list per workflow (pages, search), count, delete', async () => {
        const e = (id: string, workflow: string, n: number, name: string) => ({
          id,
          app_id: 'a',
          workflow_id: workflow,
          name,
          script: `result = ${n}`,
          created_at: at(n),
          updated_at: at(n),
        });
        await store.insertExpectation(e('e1', 'w', 1, 'Total is right'));
        await store.insertExpectation(e('e2', 'w', 2, 'Ünïcode TOTAL'));
        await store.insertExpectation(e('e3', 'w', 3, 'Status 100%_done'));
        await store.insertExpectation(e('x1', 'other', 4, 'Total elsewhere'));
        expect(await codeOf(store.insertExpectation(e('e1', 'w', 1, 'again')))).toBe('CONFLICT');
        expect(await store.getExpectation('e1')).toEqual(e('e1', 'w', 1, 'Total is right'));
        expect(await store.getExpectation('none')).toBeNull();
        const first = await store.listExpectations({ workflow_id: 'w', limit: 2 });
        expect(first.data.map((x) => x.id)).toEqual(['e3', 'e2']);
        expect(
          (await store.listExpectations({ workflow_id: 'w', cursor: first.next_cursor })).data.map(
            (x) => x.id,
          ),
        ).toEqual(['e1']);
        const search = async (text: string) =>
          (await store.listExpectations({ workflow_id: 'w', search: text })).data.map((x) => x.id);
        // Case-insensitive (JavaScript's toLowerCase, so beyond ASCII too); `%` and `_` are plain text.
        expect(await search('total')).toEqual(['e2', 'e1']);
        expect(await search('ÜNÏ')).toEqual(['e2']);
        expect(await search('100%_')).toEqual(['e3']);
        expect(await search('%')).toEqual(['e3']);
        expect(await search('nothing')).toEqual([]);
        expect(await search('')).toEqual(['e3', 'e2', 'e1']);
        const searched = await store.listExpectations({ workflow_id: 'w', search: 'o', limit: 1 });
        expect(searched.data.map((x) => x.id)).toEqual(['e3']);
        expect(
          (
            await store.listExpectations({ workflow_id: 'w', search: 'o', cursor: searched.next_cursor })
          ).data.map((x) => x.id),
        ).toEqual(['e2', 'e1']);
        expect(await store.countExpectations('w')).toBe(3);
        expect(await store.countExpectations('nobody')).toBe(0);
        const updated = await store.updateExpectation('e1', { name: 'Renamed', updated_at: at(9) });
        expect(updated).toEqual({ ...e('e1', 'w', 1, 'Renamed'), updated_at: at(9) });
        // The search follows the new name.
        expect(await search('renamed')).toEqual(['e1']);
        expect(await search('right')).toEqual([]);
        // What the caller holds never aliases what is stored.
        updated!.script = 'changed';
        expect((await store.getExpectation('e1'))!.script).toBe('result = 1');
        expect(await store.updateExpectation('none', { name: 'x', updated_at: at(9) })).toBeNull();
        expect(await store.deleteExpectation('e2')).toBe(true);
        expect(await store.deleteExpectation('e2')).toBe(false);
        expect(await store.getExpectation('e2')).toBeNull();
        expect(await store.countExpectations('w')).toBe(2);
        expect((await store.listExpectations({ workflow_id: 'w' })).data.map((x) => x.id)).toEqual([
          'e3',
          'e1',
        ]);
        expect((await store.listExpectations({ workflow_id: 'other' })).data.map((x) => x.id)).toEqual([
          'x1',
        ]);
        expect(await codeOf(store.listExpectations({ workflow_id: 'w', limit: 0 }))).toBe('INVALID_ARGUMENT');
      });

      it('variables: upsert by key per app, sorted by key', async () => {
        const v = (key: string, value: unknown, secret = false) => ({
          key,
          value,
          secret,
          created_at: at(0),
          updated_at: at(0),
        });
        await store.setVariable('a', v('b', 1));
        await store.setVariable('a', v('a', { deep: [2] }, true));
        await store.setVariable('a', v('b', 3));
        await store.setVariable('other', v('z', 9));
        expect(await store.listVariables('a')).toEqual([v('a', { deep: [2] }, true), v('b', 3)]);
        expect(await store.deleteVariable('a', 'a')).toBe(true);
        expect(await store.deleteVariable('a', 'a')).toBe(false);
        expect((await store.listVariables('a')).map((x) => x.key)).toEqual(['b']);
        expect(await store.listVariables('nobody')).toEqual([]);
      });
    });

    describe('API keys and run counts (the HTTP server)', () => {
      const key = (id: string, app: string, hash: string) => ({
        id,
        app_id: app,
        hash,
        name: id === 'k1' ? 'ci' : null,
        created_at: at(0),
      });

      it('API keys: found by hash, listed per app oldest first, deleted; a duplicate id or hash is CONFLICT', async () => {
        await store.insertApiKey(key('k1', 'a', 'h1'));
        await store.insertApiKey(key('k2', 'b', 'h2'));
        await store.insertApiKey(key('k3', 'a', 'h3'));
        expect(await store.getApiKeyByHash('h1')).toEqual(key('k1', 'a', 'h1'));
        expect(await store.getApiKeyByHash('none')).toBeNull();
        expect((await store.listApiKeys('a')).map((k) => k.id)).toEqual(['k1', 'k3']);
        expect(await codeOf(store.insertApiKey(key('k1', 'a', 'other')))).toBe('CONFLICT');
        expect(await codeOf(store.insertApiKey(key('k9', 'a', 'h2')))).toBe('CONFLICT');
        expect(await store.deleteApiKey('k1')).toBe(true);
        expect(await store.deleteApiKey('k1')).toBe(false);
        expect(await store.getApiKeyByHash('h1')).toBeNull();
        expect(await store.listApiKeys('nobody')).toEqual([]);
      });

      it('countRuns counts what listRuns lists over every page, with the same filters', async () => {
        for (let i = 0; i < 7; i++) {
          await store.insertRun(
            runFixture(`r${i}`, i < 5 ? 'a' : 'b', i, {
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
            const page: Awaited<ReturnType<WeftStore['listRuns']>> = await store.listRuns({
              ...query,
              limit: 2,
              cursor,
            });
            listed += page.data.length;
            cursor = page.next_cursor;
          } while (cursor !== null);
          expect(await store.countRuns(query), JSON.stringify(query)).toBe(listed);
        }
        expect(await store.countRuns({ app_id: 'a' })).toBe(5);
      });
    });

    describe('journal', () => {
      const owner = { owner_id: 'p1', lease_until: at(100) };

      it('appends in order and loads in order, in pages', async () => {
        await store.insertRun(live('r'), owner);
        const lease = await store.appendJournal('r', {
          owner_id: 'p1',
          now: at(1),
          entries: [entry(1, 'run.started', { input: { a: 1 } }), entry(2), entry(3)],
        });
        expect(lease).toEqual({
          run_id: 'r',
          status: 'RUNNING',
          owner_id: 'p1',
          lease_until: at(100),
          journal_seq: 3,
        });
        await store.appendJournal('r', {
          owner_id: 'p1',
          now: at(2),
          entries: [entry(4, 'x', { nested: { z: 1, a: [null] } })],
        });
        const all = await store.loadJournal('r');
        // Loaded entries carry their run's id, whether or not they were appended with it.
        expect(all).toEqual(
          [
            entry(1, 'run.started', { input: { a: 1 } }),
            entry(2),
            entry(3),
            entry(4, 'x', { nested: { z: 1, a: [null] } }),
          ].map((e) => ({ ...e, run_id: 'r' })),
        );
        expect(Object.keys(fields(all[3]).nested as object)).toEqual(['z', 'a']);
        expect((await store.loadJournal('r', { after_seq: 2 })).map((e) => e.seq)).toEqual([3, 4]);
        expect((await store.loadJournal('r', { after_seq: 1, limit: 2 })).map((e) => e.seq)).toEqual([2, 3]);
        expect(await store.loadJournal('r', { after_seq: 4 })).toEqual([]);
        expect(await store.loadJournal('none')).toEqual([]);
        expect(await codeOf(store.loadJournal('r', { limit: 0 }))).toBe('INVALID_ARGUMENT');
        expect(await codeOf(store.loadJournal('r', { after_seq: -1 }))).toBe('INVALID_ARGUMENT');
        // What was loaded is the caller's.
        (fields(all[0]).input as Record<string, unknown>).a = 2;
        expect(fields((await store.loadJournal('r'))[0]).input).toEqual({ a: 1 });
      });

      it('refuses gaps, repeats and a wrong start with JOURNAL_CONFLICT, and writes nothing', async () => {
        await store.insertRun(live('r'), owner);
        const append = (entries: ReturnType<typeof entry>[]) =>
          store.appendJournal('r', { owner_id: 'p1', now: at(1), entries, steps: { s: stepFixture('s') } });
        expect(await codeOf(append([entry(2)]))).toBe('JOURNAL_CONFLICT');
        expect(await codeOf(append([entry(0)]))).toBe('INVALID_ARGUMENT');
        await append([entry(1), entry(2)]);
        expect(await codeOf(append([entry(2)]))).toBe('JOURNAL_CONFLICT');
        expect(await codeOf(append([entry(3), entry(5)]))).toBe('JOURNAL_CONFLICT');
        expect(await codeOf(append([entry(4)]))).toBe('JOURNAL_CONFLICT');
        expect((await store.loadJournal('r')).map((e) => e.seq)).toEqual([1, 2]);
        expect((await store.getLease('r'))!.journal_seq).toBe(2);
      });

      it('writes the projections with the entries in one transaction; a refused batch writes none of them', async () => {
        await store.insertRun(live('r'), owner);
        await store.appendJournal('r', {
          owner_id: 'p1',
          now: at(1),
          entries: [entry(1, 'step.settled', { key: 'a' })],
          steps: { a: stepFixture('a') },
          run: { usage: { total: 2, calls: [], steps: {} }, updated_at: at(1) },
        });
        expect((await store.getStepResults(['r'])).get('r')).toEqual({ a: stepFixture('a') });
        expect((await store.getRun('r'))!.usage.total).toBe(2);
        // Refused (wrong owner): neither the step nor the patch lands.
        expect(
          await codeOf(
            store.appendJournal('r', {
              owner_id: 'p2',
              now: at(1),
              entries: [entry(2)],
              steps: { b: stepFixture('b') },
              run: { status: 'FAILED' },
            }),
          ),
        ).toBe('LEASE_LOST');
        expect(Object.keys((await store.getStepResults(['r'])).get('r')!)).toEqual(['a']);
        expect((await store.getRun('r'))!.status).toBe('RUNNING');
        // A batch that ends the run releases it.
        const lease = await store.appendJournal('r', {
          owner_id: 'p1',
          now: at(2),
          entries: [entry(2, 'run.ended')],
          run: { status: 'COMPLETED', ended_at: at(2), result: 42 },
        });
        expect(lease).toEqual({
          run_id: 'r',
          status: 'COMPLETED',
          owner_id: null,
          lease_until: null,
          journal_seq: 2,
        });
        expect(
          await codeOf(store.appendJournal('r', { owner_id: 'p1', now: at(3), entries: [entry(3)] })),
        ).toBe('LEASE_LOST');
      });

      it('checks the owner and the lease: LEASE_LOST after expiry or takeover; NOT_FOUND for no run', async () => {
        await store.insertRun(live('r'), { owner_id: 'p1', lease_until: at(10) });
        await store.appendJournal('r', { owner_id: 'p1', now: at(10), entries: [entry(1)] });
        expect(
          await codeOf(store.appendJournal('r', { owner_id: 'p1', now: at(11), entries: [entry(2)] })),
        ).toBe('LEASE_LOST');
        expect(
          await codeOf(store.appendJournal('none', { owner_id: 'p1', now: at(1), entries: [entry(1)] })),
        ).toBe('NOT_FOUND');
        // The lease lapsed but nobody took the run: its owner renews and goes on.
        expect(await store.renewLeases('p1', at(30))).toEqual(['r']);
        await store.appendJournal('r', {
          owner_id: 'p1',
          now: at(11),
          entries: [entry(2)],
          lease_until: at(40),
        });
        expect((await store.getLease('r'))!.lease_until).toBe(at(40));
        // Another process takes it over after expiry: the old owner's appends fail from then on.
        expect(
          (await store.claimRun('r', { owner_id: 'p2', lease_until: at(80), now: at(41) })).claimed,
        ).toBe(true);
        let error: unknown;
        try {
          await store.appendJournal('r', { owner_id: 'p1', now: at(41), entries: [entry(3)] });
        } catch (e) {
          error = e;
        }
        expect(isWeftError(error) && error.code).toBe('LEASE_LOST');
        expect(isWeftError(error) && error.details).toMatchObject({ owner_id: 'p2', lease_until: at(80) });
        expect(isWeftError(error) && error.message).toMatch(/now owned by "p2"/);
        await store.appendJournal('r', { owner_id: 'p2', now: at(42), entries: [entry(3)] });
        expect((await store.loadJournal('r')).map((e) => e.seq)).toEqual([1, 2, 3]);
      });

      it('refuses malformed batches with INVALID_ARGUMENT naming the field', async () => {
        await store.insertRun(live('r'), owner);
        const bad = async (batch: unknown) => {
          try {
            await store.appendJournal('r', batch as never);
          } catch (e) {
            return isWeftError(e) ? `${e.code} ${String(e.details?.parameter)}` : String(e);
          }
          return 'OK';
        };
        expect(await bad(null)).toBe('INVALID_ARGUMENT batch');
        expect(await bad({ owner_id: '', now: at(1), entries: [] })).toBe('INVALID_ARGUMENT batch.owner_id');
        expect(await bad({ owner_id: 'p1', now: 'yesterday', entries: [] })).toBe(
          'INVALID_ARGUMENT batch.now',
        );
        expect(await bad({ owner_id: 'p1', now: at(1), entries: {} })).toBe('INVALID_ARGUMENT batch.entries');
        expect(await bad({ owner_id: 'p1', now: at(1), entries: [{ seq: 1.5, type: 'x', at: at(1) }] })).toBe(
          'INVALID_ARGUMENT batch.entries[0].seq',
        );
        expect(await bad({ owner_id: 'p1', now: at(1), entries: [{ seq: 1, type: '', at: at(1) }] })).toBe(
          'INVALID_ARGUMENT batch.entries[0].type',
        );
        expect(await bad({ owner_id: 'p1', now: at(1), entries: [{ seq: 1, type: 'x' }] })).toBe(
          'INVALID_ARGUMENT batch.entries[0].at',
        );
        expect(await bad({ owner_id: 'p1', now: at(1), entries: [entry(1), entry(3)] })).toBe(
          'JOURNAL_CONFLICT batch.entries[1].seq',
        );
        expect(await bad({ owner_id: 'p1', now: at(1), entries: [{ ...entry(1), run_id: 'other' }] })).toBe(
          'INVALID_ARGUMENT batch.entries[0].run_id',
        );
        expect(await bad({ owner_id: 'p1', now: at(1), entries: [{ ...entry(1), run_id: 'r' }] })).toBe('OK');
        expect((await store.loadJournal('r')).map((e) => e.seq)).toEqual([1]);
      });

      it('an append of projections only (no entries) still checks the owner', async () => {
        await store.insertRun(live('r'), owner);
        await store.appendJournal('r', {
          owner_id: 'p1',
          now: at(1),
          entries: [],
          steps: { a: stepFixture('a') },
        });
        expect(Object.keys((await store.getStepResults(['r'])).get('r')!)).toEqual(['a']);
        expect((await store.getLease('r'))!.journal_seq).toBe(0);
        expect(await codeOf(store.appendJournal('r', { owner_id: 'p2', now: at(1), entries: [] }))).toBe(
          'LEASE_LOST',
        );
      });

      it('appendJournals: one group, each append on its own; inserts with the first batch', async () => {
        await store.insertRun(live('a'), owner);
        await store.insertRun(live('b'), { owner_id: 'p2', lease_until: at(100) });
        const outcomes = await store.appendJournals([
          {
            run_id: 'a',
            batch: { owner_id: 'p1', now: at(1), entries: [entry(1)], steps: { s: stepFixture('s') } },
          },
          // Refused (b is p2's): its step record must not land, and the others still commit.
          {
            run_id: 'b',
            batch: { owner_id: 'p1', now: at(1), entries: [entry(1)], steps: { s: stepFixture('s') } },
          },
          // Two appends to one run apply in order.
          { run_id: 'a', batch: { owner_id: 'p1', now: at(1), entries: [entry(2), entry(3)] } },
          // A new run, inserted owned, with its first entries.
          {
            run_id: 'c',
            insert: live('c'),
            batch: { owner_id: 'p1', now: at(1), lease_until: at(60), entries: [entry(1, 'run.started')] },
          },
          // Its insert conflicts: nothing of it is written.
          {
            run_id: 'a',
            insert: live('a'),
            batch: { owner_id: 'p1', now: at(1), lease_until: at(60), entries: [entry(4)] },
          },
          { run_id: 'none', batch: { owner_id: 'p1', now: at(1), entries: [entry(1)] } },
          { run_id: 'a', batch: { owner_id: 'p1', now: 'never', entries: [] } },
          // An insert whose lease has already ended at `now` is refused whole.
          {
            run_id: 'd',
            insert: live('d'),
            batch: { owner_id: 'p1', now: at(70), lease_until: at(60), entries: [entry(1)] },
          },
        ]);
        expect(outcomes.map((o) => (o.ok ? 'OK' : o.error.code))).toEqual([
          'OK',
          'LEASE_LOST',
          'OK',
          'OK',
          'CONFLICT',
          'NOT_FOUND',
          'INVALID_ARGUMENT',
          'LEASE_LOST',
        ]);
        expect(outcomes[2]).toEqual({
          ok: true,
          lease: { run_id: 'a', status: 'RUNNING', owner_id: 'p1', lease_until: at(100), journal_seq: 3 },
        });
        expect(outcomes[3]).toEqual({
          ok: true,
          lease: { run_id: 'c', status: 'RUNNING', owner_id: 'p1', lease_until: at(60), journal_seq: 1 },
        });
        expect((await store.loadJournal('a')).map((e) => e.seq)).toEqual([1, 2, 3]);
        expect(await store.loadJournal('b')).toEqual([]);
        expect((await store.getStepResults(['b'])).get('b')).toEqual({});
        expect(await store.getRun('c')).toEqual(live('c'));
        expect(await store.getRun('d')).toBeNull();
        expect(await store.appendJournals([])).toEqual([]);
        expect(await codeOf(store.appendJournals({} as never))).toBe('INVALID_ARGUMENT');
        expect(
          await codeOf(
            store.appendJournals(
              Array.from({ length: 1001 }, () => ({
                run_id: 'a',
                batch: { owner_id: 'p1', now: at(1), entries: [] },
              })),
            ),
          ),
        ).toBe('INVALID_ARGUMENT');
      });

      it('purge deletes the journal and keeps the shell', async () => {
        await store.insertRun(
          live('r', { retention: { max_age_in_seconds: 0, preserve_on_failure: false } }),
          owner,
        );
        await store.appendJournal('r', {
          owner_id: 'p1',
          now: at(1),
          entries: [entry(1), entry(2, 'run.ended', { result: 'secret' })],
          steps: { s: stepFixture('s') },
          run: { status: 'COMPLETED', ended_at: at(2), retention_due_at: at(2), result: 'secret' },
        });
        expect((await store.listRunsDue(at(2), 10)).map((r) => r.id)).toEqual(['r']);
        await store.purgeRun('r', at(3));
        expect(await store.loadJournal('r')).toEqual([]);
        expect((await store.getRun('r'))!.result).toBeNull();
        expect((await store.getStepResults(['r'])).get('r')!.s!.output).toBeNull();
        expect((await store.getLease('r'))!.journal_seq).toBe(2);
      });
    });

    describe('leases', () => {
      it('a run inserted with a lease is owned; without one it is unowned', async () => {
        await store.insertRun(live('owned'), { owner_id: 'p1', lease_until: at(10) });
        await store.insertRun(live('free'));
        await store.insertRun(runFixture('ended', 'a', 1), { owner_id: 'p1', lease_until: at(10) });
        expect(await store.getLease('owned')).toEqual({
          run_id: 'owned',
          status: 'RUNNING',
          owner_id: 'p1',
          lease_until: at(10),
          journal_seq: 0,
        });
        expect((await store.getLease('free'))!.owner_id).toBeNull();
        // An ended run is never owned.
        expect((await store.getLease('ended'))!.owner_id).toBeNull();
        expect(await store.getLease('none')).toBeNull();
        expect(await codeOf(store.insertRun(live('bad'), { owner_id: '', lease_until: at(1) }))).toBe(
          'INVALID_ARGUMENT',
        );
        expect(await store.getRun('bad')).toBeNull();
      });

      it('claims are compare-and-set: free or expired runs only, never ended ones', async () => {
        await store.insertRun(live('r'));
        await store.insertRun(runFixture('done', 'a', 1));
        const claim = (owner: string, now: number, until = now + 10) =>
          store.claimRun('r', { owner_id: owner, lease_until: at(until), now: at(now) });
        const first = await claim('p1', 0);
        expect(first).toEqual({
          claimed: true,
          lease: { run_id: 'r', status: 'RUNNING', owner_id: 'p1', lease_until: at(10), journal_seq: 0 },
        });
        const refused = await claim('p2', 10);
        expect(refused).toMatchObject({ claimed: false, reason: 'OWNED', lease: { owner_id: 'p1' } });
        // The owner may claim again (it extends its lease).
        expect((await claim('p1', 5, 20)).claimed).toBe(true);
        expect((await claim('p2', 20)).claimed).toBe(false);
        expect(await claim('p2', 21)).toMatchObject({
          claimed: true,
          lease: { owner_id: 'p2', lease_until: at(31) },
        });
        expect(
          await store.claimRun('done', { owner_id: 'p1', lease_until: at(99), now: at(0) }),
        ).toMatchObject({
          claimed: false,
          reason: 'ENDED',
        });
        expect(await store.claimRun('none', { owner_id: 'p1', lease_until: at(99), now: at(0) })).toEqual({
          claimed: false,
          reason: 'NOT_FOUND',
          lease: null,
        });
        expect(await codeOf(store.claimRun('r', { owner_id: 'p1', lease_until: 'soon', now: at(0) }))).toBe(
          'INVALID_ARGUMENT',
        );
      });

      it('racing claims: exactly one of many concurrent claimants wins', async () => {
        await store.insertRun(live('r'));
        const results = await Promise.all(
          Array.from({ length: 8 }, (_, i) =>
            store.claimRun('r', { owner_id: `p${i}`, lease_until: at(50), now: at(0) }),
          ),
        );
        const winners = results.filter((r) => r.claimed);
        expect(winners).toHaveLength(1);
        const owner = (await store.getLease('r'))!.owner_id;
        expect(winners[0]!.lease!.owner_id).toBe(owner);
        for (const r of results)
          if (!r.claimed) expect(r).toMatchObject({ reason: 'OWNED', lease: { owner_id: owner } });
      });

      it('renewLeases extends every live run of the owner (or the ones named) and says which', async () => {
        await store.insertRun(live('a'), { owner_id: 'p1', lease_until: at(10) });
        await store.insertRun(live('b'), { owner_id: 'p1', lease_until: at(10) });
        await store.insertRun(live('c'), { owner_id: 'p2', lease_until: at(10) });
        expect((await store.renewLeases('p1', at(20))).sort()).toEqual(['a', 'b']);
        expect((await store.getLease('a'))!.lease_until).toBe(at(20));
        expect((await store.getLease('c'))!.lease_until).toBe(at(10));
        expect(await store.renewLeases('p1', at(30), ['b', 'c', 'none'])).toEqual(['b']);
        expect((await store.getLease('a'))!.lease_until).toBe(at(20));
        expect((await store.getLease('b'))!.lease_until).toBe(at(30));
        // An ended run is no longer renewed (it has no owner).
        await store.updateRun('a', { status: 'COMPLETED', ended_at: at(21) });
        expect(await store.renewLeases('p1', at(40))).toEqual(['b']);
        expect(await store.getLease('a')).toMatchObject({ owner_id: null, lease_until: null });
        expect(await store.renewLeases('nobody', at(40))).toEqual([]);
      });

      it('releaseRun gives a run up, only for its owner', async () => {
        await store.insertRun(live('r'), { owner_id: 'p1', lease_until: at(10) });
        expect(await store.releaseRun('r', 'p2')).toBe(false);
        expect(await store.releaseRun('none', 'p1')).toBe(false);
        expect(await store.releaseRun('r', 'p1')).toBe(true);
        expect(await store.getLease('r')).toMatchObject({
          owner_id: null,
          lease_until: null,
          status: 'RUNNING',
        });
        expect(
          await codeOf(store.appendJournal('r', { owner_id: 'p1', now: at(1), entries: [entry(1)] })),
        ).toBe('LEASE_LOST');
        expect((await store.claimRun('r', { owner_id: 'p2', lease_until: at(10), now: at(1) })).claimed).toBe(
          true,
        );
      });

      it('listRecoverableRuns: live runs that are unowned or whose lease ended, lease ended first', async () => {
        await store.insertRun(live('fresh'), { owner_id: 'p1', lease_until: at(100) });
        await store.insertRun(live('stale2'), { owner_id: 'p1', lease_until: at(20) });
        await store.insertRun(live('stale1'), { owner_id: 'p2', lease_until: at(10) });
        await store.insertRun(live('pending', { status: 'PENDING', started_at: null }));
        await store.insertRun(live('exact'), { owner_id: 'p3', lease_until: at(50) });
        await store.insertRun(runFixture('ended', 'a', 1));
        const ids = async (now: number, limit = 100) =>
          (await store.listRecoverableRuns(at(now), limit)).map((l) => l.run_id);
        expect(await ids(50)).toEqual(['pending', 'stale1', 'stale2']);
        expect(await ids(51)).toEqual(['pending', 'stale1', 'stale2', 'exact']);
        expect(await ids(51, 2)).toEqual(['pending', 'stale1']);
        const [first] = await store.listRecoverableRuns(at(51), 1);
        expect(first).toEqual({
          run_id: 'pending',
          status: 'PENDING',
          owner_id: null,
          lease_until: null,
          journal_seq: 0,
        });
        expect(await codeOf(store.listRecoverableRuns(at(1), 0))).toBe('INVALID_ARGUMENT');
        // Claimed runs drop out; ended runs never appear.
        await store.claimRun('stale1', { owner_id: 'p9', lease_until: at(200), now: at(51) });
        await store.updateRun('stale2', { status: 'FAILED', ended_at: at(51) });
        expect(await ids(51)).toEqual(['pending', 'exact']);
      });

      it('claimRuns claims the recoverable runs in listRecoverableRuns order, up to the limit', async () => {
        await store.insertRun(live('fresh'), { owner_id: 'p1', lease_until: at(100) });
        await store.insertRun(live('stale'), { owner_id: 'p2', lease_until: at(10) });
        await store.insertRun(live('pending', { status: 'PENDING', started_at: null }));
        await store.insertRun(live('free'));
        await store.insertRun(runFixture('ended', 'a', 1));
        const claim = (owner: string, now: number) => ({
          owner_id: owner,
          lease_until: at(now + 300),
          now: at(now),
        });
        expect(await store.listRecoverableRuns(at(20), 10)).toHaveLength(3);
        const first = await store.claimRuns(claim('p9', 20), 2);
        expect(first).toEqual([
          { run_id: 'free', status: 'RUNNING', owner_id: 'p9', lease_until: at(320), journal_seq: 0 },
          { run_id: 'pending', status: 'PENDING', owner_id: 'p9', lease_until: at(320), journal_seq: 0 },
        ]);
        expect((await store.claimRuns(claim('p8', 20), 10)).map((l) => l.run_id)).toEqual(['stale']);
        expect(await store.getLease('stale')).toMatchObject({ owner_id: 'p8', lease_until: at(320) });
        // Nothing left to claim until a lease ends.
        expect(await store.claimRuns(claim('p7', 20), 10)).toEqual([]);
        expect((await store.claimRuns(claim('p7', 101), 10)).map((l) => l.run_id)).toEqual(['fresh']);
        // The claimed runs are the new owners' to append to.
        await store.appendJournal('free', { owner_id: 'p9', now: at(21), entries: [entry(1)] });
        expect(await codeOf(store.claimRuns(claim('p7', 1), 0))).toBe('INVALID_ARGUMENT');
        expect(await codeOf(store.claimRuns(claim('', 1), 1))).toBe('INVALID_ARGUMENT');
        expect(await codeOf(store.claimRuns({ ...claim('p7', 1), now: 'later' }, 1))).toBe(
          'INVALID_ARGUMENT',
        );
      });

      it('claimRuns from concurrent callers: every run claimed by exactly one of them', async () => {
        const total = 30;
        for (let i = 0; i < total; i++) await store.insertRun(live(`r${String(i).padStart(2, '0')}`));
        const results = await Promise.all(
          Array.from({ length: 6 }, (_, i) =>
            store.claimRuns({ owner_id: `w${i}`, lease_until: at(60), now: at(0) }, 7),
          ),
        );
        const claimed = results.flatMap((leases, i) =>
          leases.map((l) => ({ run: l.run_id, owner: `w${i}` })),
        );
        expect(claimed.map((c) => c.run).sort()).toEqual(
          Array.from({ length: total }, (_, i) => `r${String(i).padStart(2, '0')}`),
        );
        for (const { run, owner } of claimed) {
          expect((await store.getLease(run))!.owner_id).toBe(owner);
        }
      });
    });

    it('model-based: random journal and lease operations behave as the reference model says', async () => {
      let round = 0;
      await fc.assert(
        fc.asyncProperty(fc.array(operation, { minLength: 1, maxLength: 40 }), async (ops) => {
          // Each sample uses fresh run ids in the same store: cheaper than a store per sample.
          const prefix = `m${round++}-`;
          const model = new LeaseModel();
          try {
            await check(prefix, model, ops);
          } finally {
            // Earlier rounds' runs must not be claimable by this round's claimRuns: end them all.
            for (const run of MODEL_RUNS) {
              await store.updateRun(prefix + run, { status: 'CANCELLED', ended_at: at(0) }).catch(() => {});
            }
          }
        }),
        { numRuns: options.propertyRuns ?? 40 },
      );

      async function check(prefix: string, model: LeaseModel, ops: Operation[]): Promise<void> {
        for (const op of ops) {
          const id = 'run' in op ? prefix + op.run : '';
          const now = at(op.now);
          switch (op.kind) {
            case 'insert': {
              const expected = model.insert(op.run, op.owner, op.now + op.ttl);
              const got = await codeOf(
                store.insertRun(
                  live(id),
                  op.owner === null ? undefined : { owner_id: op.owner, lease_until: at(op.now + op.ttl) },
                ),
              );
              expect(got, `insert ${id}`).toBe(expected);
              break;
            }
            case 'claim': {
              const expected = model.claim(op.run, op.owner, op.now, op.now + op.ttl);
              const got = await store.claimRun(id, {
                owner_id: op.owner,
                lease_until: at(op.now + op.ttl),
                now,
              });
              expect(got.claimed ? 'CLAIMED' : got.reason, `claim ${id} by ${op.owner} at ${op.now}`).toBe(
                expected,
              );
              break;
            }
            case 'renew': {
              const expected = model.renew(op.owner, op.now + op.ttl).map((r) => prefix + r);
              const got = (await store.renewLeases(op.owner, at(op.now + op.ttl))).filter((r) =>
                r.startsWith(prefix),
              );
              expect(got.sort(), `renew ${op.owner}`).toEqual(expected.sort());
              break;
            }
            case 'claimMany': {
              const expected = model.claimMany(op.owner, op.now, op.now + op.ttl, op.limit);
              const got = await store.claimRuns(
                { owner_id: op.owner, lease_until: at(op.now + op.ttl), now },
                op.limit,
              );
              expect(
                got.map((l) => l.run_id),
                `claimRuns by ${op.owner} at ${op.now}, limit ${op.limit}`,
              ).toEqual(expected.map((r) => prefix + r));
              for (const lease of got) {
                expect(lease).toMatchObject({ owner_id: op.owner, lease_until: at(op.now + op.ttl) });
              }
              break;
            }
            case 'release': {
              expect(await store.releaseRun(id, op.owner), `release ${id}`).toBe(
                model.release(op.run, op.owner),
              );
              break;
            }
            case 'append': {
              const start = (model.runs.get(op.run)?.seq ?? 0) + 1 + op.skew;
              const entries = Array.from({ length: op.count }, (_, i) => entry(Math.max(1, start) + i));
              const expected = model.append(op.run, op.owner, op.now, entries, op.end);
              const got = await codeOf(
                store.appendJournal(id, {
                  owner_id: op.owner,
                  now,
                  entries,
                  ...(op.end ? { run: { status: 'COMPLETED' as const, ended_at: now } } : {}),
                }),
              );
              expect(got, `append ${id} by ${op.owner} at ${op.now}`).toBe(expected);
              break;
            }
          }
          // After every operation, the observable state agrees with the model (every run after a batch claim).
          for (const run of op.kind === 'claimMany' ? MODEL_RUNS : [op.run]) {
            const state = model.runs.get(run);
            const lease = await store.getLease(prefix + run);
            if (state === undefined) expect(lease).toBeNull();
            else
              expect(lease).toEqual({
                run_id: prefix + run,
                status: state.ended ? 'COMPLETED' : 'RUNNING',
                owner_id: state.owner,
                lease_until: state.until === null ? null : at(state.until),
                journal_seq: state.seq,
              } satisfies RunLease);
          }
        }
        for (const [run, state] of model.runs) {
          expect((await store.loadJournal(prefix + run)).map((e) => e.seq)).toEqual(
            Array.from({ length: state.seq }, (_, i) => i + 1),
          );
        }
      }
    });
  });
}

// ── notices (stores that have them) ─────────────────────────────────────────────────────────────────

export interface NoticesContractOptions<S extends WeftStore & StoreNotices> {
  /** A new, empty store with notices (called before each test). */
  create(): S | Promise<S>;
  destroy?(store: S): void | Promise<void>;
  /**
   * A second store on the same data (another process, another connection), to check that notices cross
   * it; omit for an in-process store.
   */
  peer?(store: S): S | Promise<S>;
  /** How long a notice may take to arrive (default 10 s). */
  deliveryMs?: number;
}

/** Everything one listener received, and a way to wait for a given notice. */
class NoticeLog {
  readonly notices: StoreNotice[] = [];
  readonly #unsubscribe: Array<() => void> = [];

  constructor(
    store: StoreNotices,
    readonly deliveryMs: number,
  ) {
    for (const topic of NOTICE_TOPICS) {
      this.#unsubscribe.push(store.subscribe(topic, (notice) => this.notices.push(notice)));
    }
  }

  /** The run ids of the notices of `topic` received so far (rescan notices left out). */
  runs(topic: NoticeTopic): string[] {
    return this.notices.filter((n) => n.topic === topic && n.run_id !== null).map((n) => n.run_id!);
  }

  async waitFor(topic: NoticeTopic, runId: string): Promise<void> {
    const deadline = Date.now() + this.deliveryMs;
    while (!this.runs(topic).includes(runId)) {
      if (Date.now() > deadline) {
        throw new Error(
          `No ${topic} notice for ${runId} within ${this.deliveryMs} ms; got ${JSON.stringify(this.notices)}`,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  }

  /**
   * Waits until this listener receives a barrier notice sent through `sender` after everything before:
   * notices sent before it have arrived by then (a store delivers one sender's notices in order).
   */
  async barrier(sender: StoreNotices, name: string): Promise<void> {
    await sender.notify('run.cancel', name);
    await this.waitFor('run.cancel', name);
  }

  /** Resolves once the store delivers to this listener (a store may start listening asynchronously). */
  async ready(sender: StoreNotices): Promise<void> {
    const deadline = Date.now() + this.deliveryMs;
    for (let i = 0; ; i++) {
      const probe = `ready-${i}`;
      await sender.notify('run.cancel', probe);
      const until = Date.now() + 200;
      while (Date.now() < until && !this.runs('run.cancel').includes(probe)) {
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
      if (this.runs('run.cancel').includes(probe)) return;
      if (Date.now() > deadline)
        throw new Error(`The store delivered no notice within ${this.deliveryMs} ms`);
    }
  }

  close(): void {
    for (const unsubscribe of this.#unsubscribe) unsubscribe();
  }
}

export function describeNoticesContract<S extends WeftStore & StoreNotices>(
  name: string,
  options: NoticesContractOptions<S>,
): void {
  describe(`${name} — store notices`, () => {
    let store: S;
    let peer: S;
    let log: NoticeLog;
    const deliveryMs = options.deliveryMs ?? 10_000;
    beforeEach(async () => {
      store = await options.create();
      peer = options.peer === undefined ? store : await options.peer(store);
      // The listener is on the store; the writes come from the peer (another process when there is one).
      log = new NoticeLog(store, deliveryMs);
      await log.ready(peer);
    });
    afterEach(async () => {
      log.close();
      if (peer !== store) await options.destroy?.(peer);
      await options.destroy?.(store);
    });

    it('run.pending: a live run inserted without an owner, or released; not one inserted owned or ended', async () => {
      await peer.insertRun(live('free'));
      await peer.insertRun(live('owned'), { owner_id: 'p1', lease_until: at(100) });
      await peer.insertRun(runFixture('done', 'a', 1));
      await log.barrier(peer, 'b1');
      expect(log.runs('run.pending')).toEqual(['free']);
      expect(await peer.releaseRun('owned', 'p1')).toBe(true);
      await log.waitFor('run.pending', 'owned');
      // Claims and renewals send nothing; a release of a run one does not own writes nothing and sends nothing.
      await peer.claimRun('free', { owner_id: 'p2', lease_until: at(10), now: at(0) });
      await peer.renewLeases('p2', at(20));
      expect(await peer.releaseRun('free', 'p1')).toBe(false);
      await log.barrier(peer, 'b2');
      expect(log.runs('run.pending')).toEqual(['free', 'owned']);
    });

    it('run.ended: a run going from live to ended, by any write; once', async () => {
      await peer.insertRun(live('a'), { owner_id: 'p1', lease_until: at(100) });
      await peer.insertRun(live('b'));
      await peer.insertRun(live('c'), { owner_id: 'p1', lease_until: at(100) });
      await peer.appendJournal('a', {
        owner_id: 'p1',
        now: at(1),
        entries: [entry(1), entry(2, 'run.ended')],
        run: { status: 'COMPLETED', ended_at: at(2) },
      });
      await peer.updateRun(
        'b',
        { status: 'CANCELLED', ended_at: at(2) },
        { status_in: ['PENDING', 'RUNNING'] },
      );
      const [outcome] = await peer.appendJournals([
        {
          run_id: 'c',
          batch: { owner_id: 'p1', now: at(1), entries: [entry(1)], run: { status: 'FAILED' } },
        },
      ]);
      expect(outcome!.ok).toBe(true);
      // Neither a write that keeps a run live nor one to an ended run sends run.ended.
      await peer.insertRun(live('d'), { owner_id: 'p1', lease_until: at(100) });
      await peer.appendJournal('d', {
        owner_id: 'p1',
        now: at(1),
        entries: [entry(1)],
        run: { usage: { total: 1, calls: [], steps: {} } },
      });
      await peer.updateRun('a', { status: 'FAILED' });
      await log.barrier(peer, 'b1');
      expect(log.runs('run.ended').sort()).toEqual(['a', 'b', 'c']);
    });

    it('run.cancel (and any topic) through notify, to every subscriber, until it unsubscribes', async () => {
      const second: StoreNotice[] = [];
      const unsubscribe = store.subscribe('run.cancel', (notice) => second.push(notice));
      await peer.notify('run.cancel', 'r1');
      await log.waitFor('run.cancel', 'r1');
      await log.barrier(peer, 'b1');
      expect(second.filter((n) => n.run_id === 'r1')).toHaveLength(1);
      unsubscribe();
      await peer.notify('run.cancel', 'r2');
      await peer.notify('run.ended', 'r3');
      await log.waitFor('run.ended', 'r3');
      await log.waitFor('run.cancel', 'r2');
      expect(second.map((n) => n.run_id)).not.toContain('r2');
      expect(await codeOf(peer.notify('run.started' as never, 'r'))).toBe('INVALID_ARGUMENT');
      expect(await codeOf(peer.notify('run.cancel', ''))).toBe('INVALID_ARGUMENT');
      expect(await codeOf(peer.notify('run.cancel', 'x'.repeat(1001)))).toBe('INVALID_ARGUMENT');
      expect(() => store.subscribe('nope' as never, () => {})).toThrow(/topic/);
    });

    it('a listener that throws stops neither the write nor the other listeners', async () => {
      const seen: string[] = [];
      const boom = new Error('listener bug');
      const warnings: unknown[] = [];
      const onWarning = (warning: unknown) => warnings.push(warning);
      process.on('warning', onWarning);
      const off1 = store.subscribe('run.ended', () => {
        throw boom;
      });
      const off2 = store.subscribe('run.ended', (n) => seen.push(n.run_id ?? 'null'));
      try {
        await peer.insertRun(live('r'));
        expect(await peer.updateRun('r', { status: 'FAILED' })).toMatchObject({ status: 'FAILED' });
        await log.waitFor('run.ended', 'r');
        expect(seen).toContain('r');
        await new Promise((resolve) => setTimeout(resolve, 20));
        // Seen (a process warning), not swallowed, and not a crash.
        expect(warnings).toContainEqual(
          expect.objectContaining({ code: 'WEFT_NOTICE_LISTENER', cause: boom }),
        );
      } finally {
        off1();
        off2();
        process.off('warning', onWarning);
      }
    });
  });
}

// ── the reference model of journal and leases ──────────────────────────────────────────────────────

type Operation =
  | { kind: 'insert'; run: string; owner: string | null; now: number; ttl: number }
  | { kind: 'claim'; run: string; owner: string; now: number; ttl: number }
  | { kind: 'renew'; run: string; owner: string; now: number; ttl: number }
  | { kind: 'release'; run: string; owner: string; now: number }
  | { kind: 'claimMany'; owner: string; now: number; ttl: number; limit: number }
  | { kind: 'append'; run: string; owner: string; now: number; count: number; skew: number; end: boolean };

const MODEL_RUNS = ['r1', 'r2', 'r3'] as const;
const runs = fc.constantFrom(...MODEL_RUNS);
const owners = fc.constantFrom('p1', 'p2', 'p3');
const times = fc.integer({ min: 0, max: 60 });
const ttls = fc.integer({ min: 0, max: 30 });

const operation: fc.Arbitrary<Operation> = fc.oneof(
  fc.record({
    kind: fc.constant('insert' as const),
    run: runs,
    // Often unowned: claimRuns then has ties (by id) to order.
    owner: fc.option(owners, { freq: 2 }),
    now: times,
    ttl: ttls,
  }),
  fc.record({ kind: fc.constant('claim' as const), run: runs, owner: owners, now: times, ttl: ttls }),
  fc.record({ kind: fc.constant('renew' as const), run: runs, owner: owners, now: times, ttl: ttls }),
  fc.record({ kind: fc.constant('release' as const), run: runs, owner: owners, now: times }),
  fc.record({
    kind: fc.constant('claimMany' as const),
    owner: owners,
    now: times,
    ttl: ttls,
    limit: fc.integer({ min: 1, max: 4 }),
  }),
  fc.record({
    kind: fc.constant('append' as const),
    run: runs,
    owner: owners,
    now: times,
    count: fc.integer({ min: 0, max: 3 }),
    // Mostly the right seq; sometimes a gap or a repeat.
    skew: fc.constantFrom(0, 0, 0, 0, 1, -1),
    end: fc.boolean(),
  }),
);

interface ModelRun {
  owner: string | null;
  until: number | null;
  seq: number;
  ended: boolean;
}

/** What the contract says, in a few lines: the oracle of the model-based property. */
class LeaseModel {
  readonly runs = new Map<string, ModelRun>();

  insert(run: string, owner: string | null, until: number): string {
    if (this.runs.has(run)) return 'CONFLICT';
    this.runs.set(run, { owner, until: owner === null ? null : until, seq: 0, ended: false });
    return 'OK';
  }

  claim(run: string, owner: string, now: number, until: number): string {
    const r = this.runs.get(run);
    if (r === undefined) return 'NOT_FOUND';
    if (r.ended) return 'ENDED';
    if (r.owner === null || r.until === null || r.until < now || r.owner === owner) {
      r.owner = owner;
      r.until = until;
      return 'CLAIMED';
    }
    return 'OWNED';
  }

  renew(owner: string, until: number): string[] {
    const renewed: string[] = [];
    for (const [id, r] of this.runs) {
      if (!r.ended && r.owner === owner) {
        r.until = until;
        renewed.push(id);
      }
    }
    return renewed;
  }

  /** claimRuns: the recoverable runs (unowned first, then by lease end, then id), up to `limit`. */
  claimMany(owner: string, now: number, until: number, limit: number): string[] {
    const claimable = [...this.runs]
      .filter(([, r]) => !r.ended && (r.owner === null || r.until === null || r.until < now))
      .sort(([a, x], [b, y]) => (x.until ?? -1) - (y.until ?? -1) || (a < b ? -1 : a > b ? 1 : 0))
      .slice(0, limit);
    for (const [, r] of claimable) {
      r.owner = owner;
      r.until = until;
    }
    return claimable.map(([id]) => id);
  }

  release(run: string, owner: string): boolean {
    const r = this.runs.get(run);
    if (r === undefined || r.owner !== owner) return false;
    r.owner = null;
    r.until = null;
    return true;
  }

  append(run: string, owner: string, now: number, entries: Array<{ seq: number }>, end: boolean): string {
    const r = this.runs.get(run);
    if (r === undefined) return 'NOT_FOUND';
    if (r.owner !== owner || r.until === null || r.until < now) return 'LEASE_LOST';
    if (entries.length > 0 && entries[0]!.seq !== r.seq + 1) return 'JOURNAL_CONFLICT';
    if (entries.length > 0) r.seq = entries[entries.length - 1]!.seq;
    if (end) {
      r.ended = true;
      r.owner = null;
      r.until = null;
    }
    return 'OK';
  }
}
