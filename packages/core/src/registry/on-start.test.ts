/** `onStart`: a caller gets the run's handle before its first step, so it can stream every event. */
import { describe, expect, it } from 'vitest';
import type { RunHandle } from '../run/handle.js';
import { code, draft } from './test-support/fixtures.js';
import { createWeft } from './weft.js';

const chain = draft([code('a', '1', ['b']), code('b', 'a.output + 1')]);

function recorder() {
  const events: string[] = [];
  let handle: RunHandle | undefined;
  return {
    events,
    get handle() {
      return handle;
    },
    onStart(h: RunHandle) {
      handle = h;
      events.push(`start:${h.snapshot().status}`);
      h.on('step.started', (e) => events.push(`started:${e.step_key}`));
      h.on('step.completed', (e) => events.push(`completed:${e.step_key}`));
      h.on('run.completed', () => events.push('run.completed'));
    },
  };
}

describe('RunWorkflowInput.onStart', () => {
  it('is called once, before the first step, with the handle of the run returned', async () => {
    const app = createWeft().app('a');
    const workflow = await app.workflows.create({ name: 'w', draft: chain });
    const r = recorder();
    const run = await app.runs.run(workflow.id, { version: 'draft', onStart: (h) => r.onStart(h) });
    expect(r.handle?.id).toBe(run.id);
    expect(r.events).toEqual([
      'start:PENDING',
      'started:a',
      'completed:a',
      'started:b',
      'completed:b',
      'run.completed',
    ]);
  });

  it('works for discover runs and replays, and is not called when the run cannot start', async () => {
    const weft = createWeft();
    const owner = weft.app('owner');
    const caller = weft.app('caller');
    const workflow = await owner.workflows.create({ name: 'w', draft: chain, discoverable: true });
    await owner.versions.publish(workflow.id);
    const viaDiscover = recorder();
    const run = await caller.discover.run(workflow.id, { onStart: (h) => viaDiscover.onStart(h) });
    expect(viaDiscover.events.at(-1)).toBe('run.completed');
    const viaReplay = recorder();
    // Another app's workflow is replayed from its entry steps only (issue 11, item 7): a from_step_key
    // naming a later step is FORBIDDEN, and onStart is not called for it.
    await expect(
      caller.runs.replay(run.id, { from_step_key: 'b', onStart: (h) => viaReplay.onStart(h) }),
    ).rejects.toMatchObject({ code: 'FORBIDDEN' });
    expect(viaReplay.events).toEqual([]);
    await caller.runs.replay(run.id, { from_step_key: 'a', onStart: (h) => viaReplay.onStart(h) });
    expect(viaReplay.events).toEqual([
      'start:PENDING',
      'started:a',
      'completed:a',
      'started:b',
      'completed:b',
      'run.completed',
    ]);

    let called = false;
    const onStart = () => {
      called = true;
    };
    await expect(owner.runs.run('missing', { onStart })).rejects.toThrow(/not found/);
    const invalid = await owner.workflows.create({ name: 'bad', draft: draft([code('a', '1', ['x'])]) });
    await expect(owner.runs.run(invalid.id, { version: 'draft', onStart })).rejects.toThrow();
    expect(called).toBe(false);
  });

  it('a callback that throws is reported and the run goes on', async () => {
    const app = createWeft().app('a');
    const workflow = await app.workflows.create({ name: 'w', draft: chain });
    const warnings: string[] = [];
    const onWarning = (w: Error) => warnings.push(w.message);
    process.on('warning', onWarning);
    try {
      const run = await app.runs.run(workflow.id, {
        version: 'draft',
        onStart: () => {
          throw new Error('boom');
        },
      });
      expect(run.status).toBe('COMPLETED');
      await new Promise((resolve) => setImmediate(resolve));
      expect(warnings.some((w) => w.includes('boom'))).toBe(true);
    } finally {
      process.off('warning', onWarning);
    }
  });
});
