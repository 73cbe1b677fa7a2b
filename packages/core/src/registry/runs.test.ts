/**
 * Runs: Run a Workflow, Get a Workflow Run, Get Workflow Runs, Cancel a Workflow Run, Replay a Workflow
 * Run — version selection, input checking, pinning, background runs, scoping, (journaling: durable.test.ts).
 */
import { describe, expect, it } from 'vitest';
import { MemoryStore } from '../store/memory.js';
import type { RunRow } from '../store/types.js';
import { tick } from '../test-support/workflows.js';
import { code, codeOf, draft, manualClock, rejection, setup, valueDraft } from './test-support/fixtures.js';

describe('run a workflow', () => {
  it('runs "latest" by default; a number, an id or "draft" pick what runs', async () => {
    const { a } = setup();
    const w = await a.workflows.create({ name: 'w', draft: valueDraft('v1') });
    const v1 = await a.versions.publish(w.id);
    await a.workflows.updateDraft(w.id, valueDraft('v2'));
    await a.versions.publish(w.id);
    await a.workflows.updateDraft(w.id, valueDraft('draft'));

    const latest = await a.runs.run(w.id);
    expect(latest).toMatchObject({
      status: 'COMPLETED',
      result: 'v2',
      version: 2,
      workflow_version_draft: null,
    });
    expect(latest.workflow_version).toMatchObject({ version: 2, workflow_id: w.id });
    expect((await a.runs.run(w.id, { version: 1 })).result).toBe('v1');
    expect((await a.runs.run(w.id, { version: v1.id })).result).toBe('v1');
    const drafted = await a.runs.run(w.id, { version: 'draft' });
    expect(drafted).toMatchObject({ result: 'draft', version: null, workflow_version: null });
    expect(drafted.workflow_version_draft!.steps).toEqual(valueDraft('draft').steps);
    expect(latest).toMatchObject({
      app_id: 'app_a',
      workflow_app_id: 'app_a',
      workflow_id: w.id,
      replay_of: null,
    });
  });

  it('a workflow without a published version: "latest" is NOT_FOUND and says to publish', async () => {
    const { a } = setup();
    const w = await a.workflows.create({ name: 'w', draft: valueDraft(1) });
    const error = await rejection(a.runs.run(w.id));
    expect(error.code).toBe('NOT_FOUND');
    expect(error.message).toMatch(/Publish its draft/);
  });

  it('an invalid draft run fails with the ValidationError and creates no run', async () => {
    const { a } = setup();
    const w = await a.workflows.create({ name: 'w', draft: draft([code('a', '(')]) });
    expect(await codeOf(a.runs.run(w.id, { version: 'draft' }))).toBe('VALIDATION_FAILED');
    expect((await a.runs.list()).data).toEqual([]);
  });

  it('input is checked against the input definition before anything runs: INVALID_INPUT with every problem', async () => {
    const { a, gates } = setup();
    const w = await a.workflows.create({
      name: 'w',
      draft: draft(
        [
          {
            type: 'input',
            key: 'in',
            input: {
              name: { type: 'string' },
              n: { type: 'number' },
              mode: { type: 'select', options: ['x', 'y'] },
            },
            destinations: ['c'],
          },
          { type: 'count', key: 'c' },
        ],
        { input_default: { mode: 'x' } },
      ),
    });
    await a.versions.publish(w.id);
    const error = await rejection(a.runs.run(w.id, { input: { n: 'two', mode: 'z' } }));
    expect(error.code).toBe('INVALID_INPUT');
    expect(error.details.problems.map((p: { path: string }) => p.path)).toEqual(['/name', '/n', '/mode']);
    expect(gates.calls.get('c')).toBeUndefined();
    expect((await a.runs.list()).data).toEqual([]);
    const ok = await a.runs.run(w.id, { input: { name: 'Ada', n: 2 } });
    expect(ok.status).toBe('COMPLETED');
    expect(ok.input).toEqual({ mode: 'x', name: 'Ada', n: 2 });
  });

  it('carries from_step_key, origin, collection_id and record_id through', async () => {
    const { a } = setup();
    const w = await a.workflows.create({ name: 'w', draft: draft([code('a', '1', ['b']), code('b', '2')]) });
    const run = await a.runs.run(w.id, {
      version: 'draft',
      from_step_key: 'b',
      origin: 'RECORD',
      collection_id: 'col',
      record_id: 'rec',
    });
    expect(run).toMatchObject({ origin: 'RECORD', collection_id: 'col', record_id: 'rec', result: 2 });
    expect(run.output.a!.status).toBe('SKIPPED');
  });

  it('background: true returns the RUNNING run at once; wait() returns it ended', async () => {
    const { a, gates } = setup();
    const w = await a.workflows.create({ name: 'w', draft: draft([{ type: 'hold', key: 'h' }]) });
    const running = await a.runs.run(w.id, { version: 'draft', background: true });
    expect(running.status).toBe('RUNNING');
    expect(running.ended_at).toBeNull();
    expect(running.output.h!.status).toBe('PENDING');
    expect((await a.runs.get(running.id)).status).toBe('RUNNING');
    gates.release(running.id, 'done');
    const ended = await a.runs.wait(running.id);
    expect(ended).toMatchObject({ status: 'COMPLETED', result: 'done' });
    expect(await a.runs.get(running.id)).toEqual(ended);
  });
});

describe('pinning', () => {
  it('a run keeps the version it ran, whatever is published or edited later', async () => {
    const { a } = setup();
    const w = await a.workflows.create({ name: 'w', draft: valueDraft('v1') });
    await a.versions.publish(w.id);
    const run = await a.runs.run(w.id);
    await a.workflows.updateDraft(w.id, valueDraft('v2'));
    await a.versions.publish(w.id);
    const again = await a.runs.get(run.id);
    expect(again.version).toBe(1);
    expect(again.workflow_version!.steps).toEqual(valueDraft('v1').steps);
    const replay = await a.runs.replay(run.id);
    expect(replay).toMatchObject({ version: 1, result: 'v1', replay_of: run.id });
  });

  it('a draft run pins the draft as it was at start, even while the draft changes under it', async () => {
    const { a, gates } = setup();
    const w = await a.workflows.create({
      name: 'w',
      draft: draft([{ type: 'hold', key: 'h', destinations: ['c'] }, code('c', '"first"')]),
    });
    const running = await a.runs.run(w.id, { version: 'draft', background: true });
    await a.workflows.updateDraft(
      w.id,
      draft([{ type: 'hold', key: 'h', destinations: ['c'] }, code('c', '"second"')]),
    );
    gates.release(running.id);
    const ended = await a.runs.wait(running.id);
    expect(ended.result).toBe('first');
    expect((ended.workflow_version_draft!.steps[1] as { code: string }).code).toBe('"first"');
  });
});

describe('get and list runs', () => {
  it('list: newest first, filtered by workflow, status, origin and created range, with cursors', async () => {
    const clock = manualClock();
    const { a, b } = setup({ clock });
    const ok = await a.workflows.create({ name: 'ok', draft: valueDraft(1) });
    const bad = await a.workflows.create({ name: 'bad', draft: draft([{ type: 'boom', key: 'x' }]) });
    const ids: string[] = [];
    for (let i = 0; i < 4; i++) {
      clock.advance(1000);
      ids.push(
        (
          await a.runs.run(i % 2 === 0 ? ok.id : bad.id, {
            version: 'draft',
            origin: i === 3 ? 'TEST' : 'WORKFLOW',
          })
        ).id,
      );
    }
    await b.workflows
      .create({ name: 'theirs', draft: valueDraft(2) })
      .then((x) => b.runs.run(x.id, { version: 'draft' }));
    const list = async (q: Parameters<typeof a.runs.list>[0]) => (await a.runs.list(q)).data.map((r) => r.id);
    expect(await list({})).toEqual([...ids].reverse());
    expect(await list({ workflow_id: ok.id })).toEqual([ids[2], ids[0]]);
    expect(await list({ status: 'FAILED' })).toEqual([ids[3], ids[1]]);
    expect(await list({ origin: 'TEST' })).toEqual([ids[3]]);
    const t0 = Date.UTC(2024, 0, 1);
    expect(await list({ created_after: new Date(t0 + 2000), created_before: t0 + 4000 })).toEqual([
      ids[2],
      ids[1],
    ]);
    const page = await a.runs.list({ limit: 3 });
    expect(page.data).toHaveLength(3);
    expect(page.data[0]!.output.x).toMatchObject({ status: 'FAILED', error: { message: 'boom' } });
    expect((await a.runs.list({ limit: 3, cursor: page.next_cursor })).data.map((r) => r.id)).toEqual([
      ids[0],
    ]);
    expect(await codeOf(a.runs.list({ cursor: 'garbage!' }))).toBe('INVALID_ARGUMENT');
  });

  it('no app can read, list, cancel, replay or re-retain another app’s runs', async () => {
    const { a, b } = setup();
    const w = await a.workflows.create({ name: 'w', draft: valueDraft(1) });
    const run = await a.runs.run(w.id, { version: 'draft' });
    expect(await codeOf(b.runs.get(run.id))).toBe('NOT_FOUND');
    expect(await codeOf(b.runs.cancel(run.id))).toBe('NOT_FOUND');
    expect(await codeOf(b.runs.replay(run.id))).toBe('NOT_FOUND');
    expect(await codeOf(b.runs.updateRetention(run.id, 60))).toBe('NOT_FOUND');
    expect(await codeOf(b.runs.wait(run.id))).toBe('NOT_FOUND');
    expect((await b.runs.list()).data).toEqual([]);
    expect((await b.runs.list({ workflow_id: w.id })).data).toEqual([]);
  });
});

describe('cancel', () => {
  it('PENDING or RUNNING → CANCELLED, aborting in-flight steps', async () => {
    const { a, gates } = setup();
    const w = await a.workflows.create({
      name: 'w',
      draft: draft([
        { type: 'hold', key: 'h', destinations: ['after'] },
        { type: 'count', key: 'after' },
      ]),
    });
    const running = await a.runs.run(w.id, { version: 'draft', background: true });
    await gates.started(running.id);
    const cancelled = await a.runs.cancel(running.id, 'user asked');
    expect(cancelled.status).toBe('CANCELLED');
    expect(cancelled.ended_at).not.toBeNull();
    expect(cancelled.output.h!.status).toBe('CANCELLED');
    expect(cancelled.output.after!.status).toBe('SKIPPED');
    expect(gates.aborted).toEqual([running.id]);
    expect(await a.runs.get(running.id)).toEqual(cancelled);
  });

  it('a finished run answers NOT_CANCELLABLE and keeps its status', async () => {
    const { a } = setup();
    const w = await a.workflows.create({ name: 'w', draft: valueDraft(1) });
    const run = await a.runs.run(w.id, { version: 'draft' });
    const error = await rejection(a.runs.cancel(run.id));
    expect(error.code).toBe('NOT_CANCELLABLE');
    expect(error.details).toMatchObject({ status: 'COMPLETED' });
    expect((await a.runs.get(run.id)).status).toBe('COMPLETED');
  });

  it('a cancel racing a completion: exactly one terminal status, and the loser is told', async () => {
    const { a, gates } = setup();
    const w = await a.workflows.create({ name: 'w', draft: draft([{ type: 'hold', key: 'h' }]) });
    const outcomes = new Set<string>();
    for (let i = 0; i < 30; i++) {
      const running = await a.runs.run(w.id, { version: 'draft', background: true });
      await gates.started(running.id);
      for (let t = 0; t < i % 3; t++) await tick();
      const cancel = a.runs.cancel(running.id).then(
        (run) => `cancelled:${run.status}`,
        (error: { code: string; details: { status: string } }) => `${error.code}:${error.details.status}`,
      );
      if (i % 2 === 0) gates.release(running.id);
      else queueMicrotask(() => gates.release(running.id));
      const outcome = await cancel;
      const stored = await a.runs.get(running.id);
      outcomes.add(outcome);
      if (outcome.startsWith('cancelled')) {
        expect(outcome).toBe('cancelled:CANCELLED');
        expect(stored.status).toBe('CANCELLED');
      } else {
        expect(outcome).toBe('NOT_CANCELLABLE:COMPLETED');
        expect(stored.status).toBe('COMPLETED');
      }
    }
    expect(outcomes.size).toBeGreaterThanOrEqual(1);
  });

  it('a run left RUNNING in the store by a process that is gone is cancelled in the store', async () => {
    const store = new MemoryStore();
    const { a } = setup({ store });
    const w = await a.workflows.create({ name: 'w', draft: valueDraft(1) });
    const done = await a.runs.run(w.id, { version: 'draft' });
    const orphan: RunRow = {
      ...(await store.getRun(done.id))!,
      id: 'orphan',
      status: 'RUNNING',
      ended_at: null,
    };
    await store.insertRun(orphan);
    const cancelled = await a.runs.cancel('orphan');
    expect(cancelled.status).toBe('CANCELLED');
    expect(cancelled.ended_at).not.toBeNull();
    expect(await codeOf(a.runs.cancel('orphan'))).toBe('NOT_CANCELLABLE');
  });
});

describe('replay', () => {
  const chain = draft([
    { type: 'count', key: 'a', destinations: ['b'] },
    { type: 'count', key: 'b', destinations: ['c'] },
    { type: 'count', key: 'c' },
    { type: 'count', key: 'side' },
  ]);

  it('replays the same pinned version with the same input, linked by replay_of', async () => {
    const { a } = setup();
    const w = await a.workflows.create({ name: 'w', draft: draft([code('echo', 'input.n * 2')]) });
    await a.versions.publish(w.id);
    const run = await a.runs.run(w.id, { input: { n: 21 }, collection_id: 'col' });
    const replay = await a.runs.replay(run.id);
    expect(replay).toMatchObject({
      result: 42,
      input: { n: 21 },
      version: 1,
      replay_of: run.id,
      collection_id: 'col',
    });
    expect(replay.id).not.toBe(run.id);
  });

  it('with from_step_key, steps not downstream keep their original records; the rest runs again', async () => {
    const { a, gates } = setup();
    const w = await a.workflows.create({ name: 'w', draft: chain });
    const run = await a.runs.run(w.id, { version: 'draft' });
    expect(run.output.b!.output).toBe('b#1');
    const replay = await a.runs.replay(run.id, { from_step_key: 'b' });
    expect(replay.status).toBe('COMPLETED');
    expect(replay.output.a).toEqual(run.output.a);
    expect(replay.output.side).toEqual(run.output.side);
    expect(replay.output.b!.output).toBe('b#2');
    expect(replay.output.c!.output).toBe('c#2');
    expect(gates.calls.get('a')).toBe(1);
    expect(gates.calls.get('side')).toBe(1);
    expect(replay.replay_of).toBe(run.id);
  });

  it('the platform’s body field stepKey is honoured like from_step_key; both given and different is INVALID_ARGUMENT', async () => {
    const { a, gates } = setup();
    const w = await a.workflows.create({ name: 'w', draft: chain });
    const run = await a.runs.run(w.id, { version: 'draft' });
    const replay = await a.runs.replay(run.id, { stepKey: 'c' });
    expect(replay.output.b).toEqual(run.output.b);
    expect(replay.output.c!.output).toBe('c#2');
    expect(gates.calls.get('b')).toBe(1);
    const same = await a.runs.replay(run.id, { stepKey: 'b', from_step_key: 'b' });
    expect(same.output.b!.output).toBe('b#2');
    const both = await a.runs.replay(run.id, { stepKey: 'b', from_step_key: 'c' }).catch((e) => e);
    expect(both).toMatchObject({ code: 'INVALID_ARGUMENT', details: { parameter: 'stepKey' } });
    expect(await codeOf(a.runs.replay(run.id, { stepKey: '' }))).toBe('INVALID_ARGUMENT');
  });

  it('an unknown from_step_key is INVALID_ARGUMENT', async () => {
    const { a } = setup();
    const w = await a.workflows.create({ name: 'w', draft: chain });
    const run = await a.runs.run(w.id, { version: 'draft' });
    expect(await codeOf(a.runs.replay(run.id, { from_step_key: 'nope' }))).toBe('INVALID_ARGUMENT');
  });
});
