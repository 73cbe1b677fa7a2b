/**
 * An interrupted `workflow` step resumes by re-attaching to the child run it started (its id is journaled
 * as `child.started` before the child's first entry), never by starting a second child: two Wefts on one
 * SQLite file, the first "killed" (its store handle hangs from a chosen moment on).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createWeft, type StepContext, type Weft, type WeftStore } from '@weft/core';
import { severable } from '@weft/testing/durable-contract';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { SqliteStore } from './sqlite-store.js';

const dir = mkdtempSync(join(tmpdir(), 'weft-sqlite-subworkflow-'));
let n = 0;
const open: SqliteStore[] = [];
const wefts: Weft[] = [];
afterEach(async () => {
  for (const w of wefts.splice(0)) await Promise.race([w.close(), new Promise((r) => setTimeout(r, 50))]);
  for (const s of open.splice(0).reverse()) s.close();
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const HOUR = 3_600_000;

function store(path: string): SqliteStore {
  const s = new SqliteStore({ path });
  open.push(s);
  return s;
}

function weft(s: WeftStore, steps: Record<string, (ctx: StepContext) => unknown>, offsetMs = 0): Weft {
  const w = createWeft({
    store: s,
    recover: false,
    onStoreError: () => undefined,
    steps,
    clock: { now: () => Date.now() + offsetMs },
  });
  wefts.push(w);
  return w;
}

/** Every step execution, by run and step: the attempts. */
type Log = Map<string, number[]>;
function record(log: Log, ctx: StepContext): void {
  const key = `${ctx.run.id}/${ctx.step.key}`;
  log.set(key, [...(log.get(key) ?? []), ctx.attempt]);
}

/** A parent (`sub` runs the child, then `after`) and a child (`one`, then `gate`), created by `w`. */
async function workflows(w: Weft) {
  const app = w.app('app_1');
  const child = await app.workflows.create({
    name: 'child',
    draft: {
      key: 'child',
      steps: [
        { type: 'work', key: 'one', destinations: ['gate'] },
        { type: 'gate', key: 'gate' },
      ],
    } as never,
  });
  const parent = await app.workflows.create({
    name: 'parent',
    draft: {
      key: 'parent',
      steps: [
        {
          type: 'workflow',
          key: 'sub',
          workflow_id: child.id,
          workflow_version_id: 'draft',
          destinations: ['after'],
        },
        { type: 'work', key: 'after' },
      ],
    } as never,
  });
  return { app, child, parent };
}

describe('an interrupted workflow step re-attaches to its child run', () => {
  it('a crash while the child runs: the resumed parent waits for the same child (resumed too), not a new one', async () => {
    const path = join(dir, `sub-${++n}.db`);
    const first = store(path);
    const cut = severable(first);
    const log: Log = new Map();
    let gateReached!: () => void;
    const reached = new Promise<void>((resolve) => {
      gateReached = resolve;
    });
    const a = weft(cut.store, {
      work: (ctx) => {
        record(log, ctx);
        return `${ctx.step.key}@A`;
      },
      // The child's gate never answers in A: A dies while it runs.
      gate: (ctx) => {
        record(log, ctx);
        gateReached();
        return new Promise(() => undefined);
      },
    });
    const { app, child, parent } = await workflows(a);
    const started = await app.runs.run(parent.id, { version: 'draft', background: true });
    await reached;
    await a.idle();
    cut.sever();
    const children = await first.listRuns({ app_id: 'app_1', workflow_id: child.id });
    expect(children.data).toHaveLength(1);
    const childId = children.data[0]!.id;
    expect(children.data[0]!.status).toBe('RUNNING');
    const journal = await first.loadJournal(started.id);
    expect(journal.filter((e) => e.type === 'child.started')).toMatchObject([
      { key: 'sub', index: null, attempt: 1, child_run_id: childId },
    ]);

    // B: another process, an hour later (A's leases have ended), resumes the parent only.
    const b = weft(
      store(path),
      {
        work: (ctx) => {
          record(log, ctx);
          return `${ctx.step.key}@B`;
        },
        gate: (ctx) => {
          record(log, ctx);
          return 'opened';
        },
      },
      HOUR,
    );
    await b.recover([started.id]);
    const run = await b.app('app_1').runs.wait(started.id);
    expect(run).toMatchObject({ status: 'COMPLETED', result: 'after@B' });
    expect(run.output.sub!.output).toMatchObject({ run_id: childId, status: 'COMPLETED', result: 'opened' });
    // One child run, resumed: its completed step `one` ran once, its `gate` again (attempt 2).
    const after = await b.store.listRuns({ app_id: 'app_1', workflow_id: child.id });
    expect(after.data.map((r) => [r.id, r.status])).toEqual([[childId, 'COMPLETED']]);
    expect(log.get(`${childId}/one`)).toEqual([1]);
    expect(log.get(`${childId}/gate`)).toEqual([1, 2]);
    // The parent's journal names one child, journaled once (the resumed step re-attached).
    const entries = await b.store.loadJournal(started.id);
    expect(entries.filter((e) => e.type === 'child.started')).toHaveLength(1);
  });

  it('a crash after the child ended but before the parent settled its step: the child’s result is used', async () => {
    const path = join(dir, `sub-${++n}.db`);
    const first = store(path);
    // Hangs every call from the append that holds the parent's settle of `sub` on (A dies there).
    let parentId = '';
    let dead = false;
    const never = new Promise<never>(() => undefined);
    const dying = new Proxy(first as WeftStore, {
      get(target, property, receiver) {
        const value = Reflect.get(target, property, receiver);
        if (typeof value !== 'function') return value;
        return (...args: unknown[]) => {
          if (dead) return never;
          if (property === 'appendJournals') {
            const appends = args[0] as Array<{
              run_id: string;
              batch: { entries: Array<{ type: string; key?: string }> };
            }>;
            const settles = appends.some(
              (x) =>
                x.run_id === parentId &&
                x.batch.entries.some((e) => e.type === 'step.settled' && e.key === 'sub'),
            );
            if (settles) {
              dead = true;
              return never;
            }
          }
          return (value as (...a: unknown[]) => unknown).apply(target, args);
        };
      },
    });
    const log: Log = new Map();
    const steps = {
      work: (ctx: StepContext) => {
        record(log, ctx);
        return `${ctx.step.key}!`;
      },
      gate: async (ctx: StepContext) => {
        record(log, ctx);
        await new Promise((resolve) => setTimeout(resolve, 5));
        return 'passed';
      },
    };
    const a = weft(dying, steps);
    const { app, child, parent } = await workflows(a);
    const started = await app.runs.run(parent.id, { version: 'draft', background: true });
    parentId = started.id;
    // Bounded by time, not by a count of 5 ms turns (which a loaded machine can use up first).
    for (const end = Date.now() + 30_000; !dead && Date.now() < end; ) {
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    expect(dead).toBe(true);
    const children = await first.listRuns({ app_id: 'app_1', workflow_id: child.id });
    expect(children.data).toHaveLength(1);
    const childId = children.data[0]!.id;
    // The child's end reached the store before A died; the parent's settle of `sub` did not.
    expect(children.data[0]!.status).toBe('COMPLETED');
    expect((await first.getRun(parentId))!.status).toBe('RUNNING');

    const b = weft(store(path), steps, HOUR);
    await b.recover([parentId]);
    const run = await b.app('app_1').runs.wait(parentId);
    expect(run).toMatchObject({ status: 'COMPLETED', result: 'after!' });
    expect(run.output.sub!.output).toMatchObject({ run_id: childId, status: 'COMPLETED', result: 'passed' });
    expect((await b.store.listRuns({ app_id: 'app_1', workflow_id: child.id })).data).toHaveLength(1);
    // Nothing of the child ran again.
    expect(log.get(`${childId}/one`)).toEqual([1]);
    expect(log.get(`${childId}/gate`)).toEqual([1]);
  });
});
