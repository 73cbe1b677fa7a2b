/**
 * `weft.suspend()` on a SQLite file (what `weft serve` does on SIGTERM): a run mid-way through a chain
 * is left RUNNING with no owner, its completed steps journaled and recorded; a Weft opened later on the
 * same file (another connection, as the next process) resumes it at once and completes it without
 * executing its completed steps again.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createWeft, type StepContext, type WorkflowVersionDraft } from '@weft/core';
import { afterAll, expect, it } from 'vitest';
import { SqliteStore } from './sqlite-store.js';

const dir = mkdtempSync(join(tmpdir(), 'weft-sqlite-suspend-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const CHAIN = {
  key: 'chain',
  steps: [
    { type: 'work', key: 'a', destinations: ['b'] },
    { type: 'work', key: 'b', destinations: ['c'] },
    { type: 'work', key: 'c', destinations: ['d'] },
    { type: 'work', key: 'd' },
  ],
} as unknown as WorkflowVersionDraft;

it('a run suspended mid-way through a chain is resumed from its journal by the next Weft on the file', async () => {
  const path = join(dir, 'suspend.db');
  const first = new SqliteStore({ path });
  const executed: string[] = [];
  let reachedC!: () => void;
  const atC = new Promise<void>((resolve) => {
    reachedC = resolve;
  });
  let releaseC!: (value: string) => void;
  const c = new Promise<string>((resolve) => {
    releaseC = resolve;
  });
  const weft = createWeft({
    store: first,
    steps: {
      work: (ctx: StepContext) => {
        executed.push(ctx.step.key);
        if (ctx.step.key !== 'c') return `${ctx.step.key}@1`;
        reachedC();
        return c;
      },
    },
  });
  const app = weft.app('app_1');
  const workflow = await app.workflows.create({ name: 'chain', draft: CHAIN });
  await app.versions.publish(workflow.id);
  const run = await app.runs.run(workflow.id, { background: true });
  await atC;

  const suspending = weft.suspend({ graceMs: 60_000 });
  releaseC('c@1'); // c, running, settles; d does not start
  expect(await suspending).toEqual({ suspended: [run.id], ended: [], cancelled: [] });
  first.close();
  expect(executed).toEqual(['a', 'b', 'c']);

  const second = new SqliteStore({ path });
  expect(await second.getLease(run.id)).toMatchObject({
    status: 'RUNNING',
    owner_id: null,
    lease_until: null,
  });
  const records = (await second.getStepResults([run.id])).get(run.id)!;
  expect(Object.keys(records).sort()).toEqual(['a', 'b', 'c']);
  expect(records.c).toMatchObject({ status: 'COMPLETED', output: 'c@1' });
  const types = (await second.loadJournal(run.id)).map((e) => e.type);
  expect(types).not.toContain('run.ended');

  const resumedSteps: string[] = [];
  const next = createWeft({
    store: second,
    steps: {
      work: (ctx: StepContext) => {
        resumedSteps.push(ctx.step.key);
        return `${ctx.step.key}@2`;
      },
    },
  });
  const done = await next.app('app_1').runs.wait(run.id);
  expect(done).toMatchObject({ status: 'COMPLETED', result: 'd@2' });
  expect(resumedSteps).toEqual(['d']);
  expect(done.output.a).toMatchObject({ status: 'COMPLETED', output: 'a@1' });
  expect(done.output.c).toMatchObject({ status: 'COMPLETED', output: 'c@1' });
  await next.close();
  second.close();
});
