/** Retention: resolution, due dates, Update Run Data Retention Configuration, sweeps and what they purge. */
import { describe, expect, it } from 'vitest';
import { PURGED_MESSAGE } from '../store/purge.js';
import { codeOf, draft, manualClock, setup, valueDraft } from './test-support/fixtures.js';

const HOUR = 3600;
const iso = (ms: number) => new Date(ms).toISOString();

describe('retention', () => {
  it('comes from the run, else the workflow, else the engine; a bare number is max_age; -1 keeps forever', async () => {
    const { a } = setup({ retention: { max_age_in_seconds: 60, preserve_on_failure: true } });
    const plain = await a.workflows.create({ name: 'plain', draft: valueDraft(1) });
    const withDefault = await a.workflows.create({ name: 'd', draft: valueDraft(1), retention: 120 });
    expect((await a.runs.run(plain.id, { version: 'draft' })).retention).toEqual({
      max_age_in_seconds: 60,
      preserve_on_failure: true,
    });
    expect((await a.runs.run(withDefault.id, { version: 'draft' })).retention).toEqual({
      max_age_in_seconds: 120,
      preserve_on_failure: false,
    });
    const forever = await a.runs.run(withDefault.id, { version: 'draft', retention: -1 });
    expect(forever.retention).toEqual({ max_age_in_seconds: -1, preserve_on_failure: false });
    expect(forever.retention_due_at).toBeNull();
    const none = setup();
    const w = await none.a.workflows.create({ name: 'w', draft: valueDraft(1) });
    expect(await none.a.runs.run(w.id, { version: 'draft' })).toMatchObject({
      retention: null,
      retention_due_at: null,
    });
  });

  it('retention_due_at is ended_at + max_age, null while running', async () => {
    const clock = manualClock();
    const { a, gates } = setup({ clock });
    const w = await a.workflows.create({
      name: 'w',
      draft: draft([{ type: 'hold', key: 'h' }]),
      retention: HOUR,
    });
    const running = await a.runs.run(w.id, { version: 'draft', background: true });
    expect(running.retention_due_at).toBeNull();
    clock.advance(5000);
    gates.release(running.id);
    const ended = await a.runs.wait(running.id);
    expect(ended.ended_at).toBe(iso(clock.now()));
    expect(ended.retention_due_at).toBe(iso(clock.now() + HOUR * 1000));
  });

  it('updateRetention changes an existing run’s retention and recomputes the due date', async () => {
    const clock = manualClock();
    const { a, gates } = setup({ clock });
    const w = await a.workflows.create({ name: 'w', draft: valueDraft(1), retention: HOUR });
    const run = await a.runs.run(w.id, { version: 'draft' });
    const updated = await a.runs.updateRetention(run.id, {
      max_age_in_seconds: 60,
      preserve_on_failure: true,
    });
    expect(updated.retention).toEqual({ max_age_in_seconds: 60, preserve_on_failure: true });
    expect(updated.retention_due_at).toBe(iso(Date.parse(run.ended_at!) + 60_000));
    expect((await a.runs.updateRetention(run.id, -1)).retention_due_at).toBeNull();
    expect(await codeOf(a.runs.updateRetention(run.id, -2))).toBe('INVALID_ARGUMENT');

    // On a running run, the new retention applies when it ends.
    const slow = await a.workflows.create({
      name: 'slow',
      draft: draft([{ type: 'hold', key: 'h' }]),
      retention: HOUR,
    });
    const running = await a.runs.run(slow.id, { version: 'draft', background: true });
    expect((await a.runs.updateRetention(running.id, 10)).retention_due_at).toBeNull();
    gates.release(running.id);
    const ended = await a.runs.wait(running.id);
    expect(ended.retention).toEqual({ max_age_in_seconds: 10, preserve_on_failure: false });
    expect(ended.retention_due_at).toBe(iso(Date.parse(ended.ended_at!) + 10_000));
  });

  it('sweep(now) purges the data of due runs and keeps the shell; preserve_on_failure keeps failed runs whole', async () => {
    const clock = manualClock();
    const { weft, a } = setup({ clock });
    const ok = await a.workflows.create({
      name: 'ok',
      draft: draft([
        { type: 'count', key: 'c', destinations: ['log'] },
        { type: 'code', key: 'log', code: 'input.q' },
      ]),
    });
    const bad = await a.workflows.create({ name: 'bad', draft: draft([{ type: 'boom', key: 'x' }]) });
    const keep = { max_age_in_seconds: 60, preserve_on_failure: true };
    const done = await a.runs.run(ok.id, { version: 'draft', input: { q: 'private' }, retention: keep });
    const failed = await a.runs.run(bad.id, { version: 'draft', retention: keep });
    const failedPurgeable = await a.runs.run(bad.id, { version: 'draft', retention: 60 });
    const forever = await a.runs.run(ok.id, { version: 'draft', input: { q: 'kept' }, retention: -1 });
    const later = await a.runs.run(ok.id, { version: 'draft', input: { q: 'later' }, retention: HOUR });

    clock.advance(59_000);
    expect((await weft.sweep()).purged).toEqual([]);
    clock.advance(1_000);
    const { purged } = await weft.sweep();
    expect(purged.sort()).toEqual([done.id, failedPurgeable.id].sort());

    const shell = await a.runs.get(done.id);
    expect(shell).toMatchObject({
      id: done.id,
      status: 'COMPLETED',
      input: {},
      result: null,
      started_at: done.started_at,
      ended_at: done.ended_at,
      created_at: done.created_at,
      version: null,
      workflow_id: ok.id,
      purged_at: iso(clock.now()),
      usage: { total: done.usage.total },
    });
    expect(shell.output.c).toMatchObject({
      status: 'COMPLETED',
      output: null,
      logs: [],
      calls: [],
      start: done.output.c!.start,
    });
    expect(shell.output.log!.output).toBeNull();
    const failedShell = await a.runs.get(failedPurgeable.id);
    expect(failedShell.error).toEqual({ code: 'STEP_FAILED', message: PURGED_MESSAGE, step_key: 'x' });
    expect(failedShell.output.x!.error).toEqual({
      code: 'STEP_FAILED',
      message: PURGED_MESSAGE,
      step_key: 'x',
    });

    expect(await a.runs.get(failed.id)).toEqual(failed);
    expect((await a.runs.get(forever.id)).input).toEqual({ q: 'kept' });
    expect((await a.runs.get(later.id)).input).toEqual({ q: 'later' });
    expect((await weft.sweep(clock.now() + HOUR * 1000)).purged).toEqual([later.id]);
    expect((await weft.sweep(clock.now() + 100 * HOUR * 1000)).purged).toEqual([]);
    // Purged runs cannot be replayed (their input is gone).
    expect(await codeOf(a.runs.replay(done.id))).toBe('CONFLICT');
  });

  it('the optional timer sweeps on its own and stops on close()', async () => {
    const { weft, a } = setup({ sweepIntervalMs: 5 });
    const w = await a.workflows.create({ name: 'w', draft: valueDraft(1), retention: 0 });
    const run = await a.runs.run(w.id, { version: 'draft' });
    for (let i = 0; i < 100 && (await a.runs.get(run.id)).purged_at === null; i++) {
      await new Promise((r) => setTimeout(r, 5));
    }
    expect((await a.runs.get(run.id)).purged_at).not.toBeNull();
    await weft.close();
  });
});
