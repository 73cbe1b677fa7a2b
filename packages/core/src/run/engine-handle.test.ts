/**
 * The run handle as a class (engine-handle.ts): the same public behaviour as the object of closures it
 * replaced, and the engine's per-run data (runner, depth, variables) reachable through it.
 */
import { describe, expect, it } from 'vitest';
import { deferred, draft, task } from '../test-support/workflows.js';
import { createEngine } from './engine.js';
import { runnerOf } from './runners.js';

describe('the run handle', () => {
  it('on/off return the handle; id, done and snapshot are the run’s; it leaves `active` when the run ends', async () => {
    const engine = createEngine({ steps: { task: async () => 1 } });
    const handle = engine.start(draft([task('a')]), { id: 'r1' });
    const seen: string[] = [];
    const listener = () => seen.push('step');
    expect(handle.on('step.completed', listener)).toBe(handle);
    expect(handle.on('run.completed', () => seen.push('run'))).toBe(handle);
    expect(handle.off('step.started')).toBe(handle);
    expect(handle.id).toBe('r1');
    expect(handle.snapshot().status).toBe('PENDING');
    expect(engine.active.get('r1')).toBe(handle);
    const run = await handle.done;
    expect(run.status).toBe('COMPLETED');
    expect(seen).toEqual(['step', 'run']);
    expect(engine.active.has('r1')).toBe(false);
    expect(handle.snapshot().status).toBe('COMPLETED');
    expect(Object.keys(handle).sort()).toEqual(['done', 'id']);
  });

  it('cancel() before the run begins, during its first step, and after it ended', async () => {
    const gate = deferred<number>();
    const engine = createEngine({ steps: { task: () => gate.promise } });
    const before = engine.start(draft([task('a')]));
    const early = await before.cancel('early');
    expect(early).toMatchObject({ cancelled: true, status: 'CANCELLED' });
    const during = engine.start(draft([task('a', ['b']), task('b')]));
    await new Promise((resolve) => setImmediate(resolve));
    expect(during.snapshot().output.a?.status).toBe('RUNNING');
    const cancelling = during.cancel();
    gate.resolve(1); // the handler answers: the run ends without waiting out the grace period
    expect(await cancelling).toMatchObject({ cancelled: true, status: 'CANCELLED' });
    const after = await during.cancel();
    expect(after).toMatchObject({ cancelled: false, status: 'CANCELLED' });
    expect(after.message).toContain('already ended');
    await expect(during.cancel(5 as never)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });

  it('its methods work taken off the handle (const { done, cancel, on, snapshot } = engine.start(doc))', async () => {
    const gate = deferred<number>();
    const engine = createEngine({ steps: { task: () => gate.promise } });
    const handle = engine.start(draft([task('a')]));
    const { done, cancel, on, off, snapshot } = handle;
    const seen: string[] = [];
    expect(on('run.cancelled', () => seen.push('cancelled'))).toBe(handle);
    expect(off('step.started')).toBe(handle);
    // The same function each read: a caller can compare or remove what it took.
    expect(handle.cancel).toBe(cancel);
    await new Promise((resolve) => setImmediate(resolve));
    expect(snapshot().output.a?.status).toBe('RUNNING');
    const cancelling = cancel('taken off');
    gate.resolve(1);
    expect(await cancelling).toMatchObject({ cancelled: true, status: 'CANCELLED' });
    expect((await done).status).toBe('CANCELLED');
    expect(seen).toEqual(['cancelled']);
  });

  it('runnerOf finds the runner of an engine’s handle only', async () => {
    const engine = createEngine({ steps: { task: () => 1 } });
    const handle = engine.start(draft([task('a')]));
    expect(runnerOf(handle)?.id).toBe(handle.id);
    expect(runnerOf({ ...handle })).toBeUndefined();
    await handle.done;
  });
});
