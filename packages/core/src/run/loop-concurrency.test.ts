/**
 * A loop's `max_concurrency` means what it says (issue 16, item 6; docs/semantics.md, rule 10): honoured up
 * to `concurrency.engine`, not clipped by the per-run default; when a cap does clip it, `loop.started` and
 * the step's record say so (`effective_concurrency`).
 */
import { describe, expect, it } from 'vitest';
import type { WeftEventMap } from '../events/events.js';
import { draft, tick } from '../test-support/workflows.js';
import { createEngine } from './engine.js';
import type { EngineOptions } from './options.js';

async function peakOf(options: EngineOptions, steps: Array<Record<string, unknown>>) {
  let inFlight = 0;
  let peak = 0;
  const started: Array<WeftEventMap['loop.started']> = [];
  const handle = createEngine({
    ...options,
    steps: {
      w: async () => {
        inFlight++;
        peak = Math.max(peak, inFlight);
        for (let i = 0; i < 3; i++) await tick();
        inFlight--;
        return 1;
      },
    },
  }).start(draft(steps));
  handle.on('loop.started', (e) => started.push(e));
  const run = await handle.done;
  return { run, peak, started };
}

const loop = (extra: Record<string, unknown> = {}) => ({
  type: 'w',
  key: 'l',
  loop: '[1..200]',
  ...extra,
});

describe('a loop’s max_concurrency', () => {
  it('is honoured above the per-run default (16), with nothing to report', async () => {
    const { run, peak, started } = await peakOf({}, [loop({ max_concurrency: 64 })]);
    expect(run.status).toBe('COMPLETED');
    expect(peak).toBe(64);
    expect(started).toHaveLength(1);
    expect(started[0]).toMatchObject({
      step_key: 'l',
      type: 'w',
      count: 200,
      max_concurrency: 64,
      effective_concurrency: 64,
    });
    expect(run.output.l!.iterations).toEqual({ count: 200, errors: [] });
  });

  it('is clipped by concurrency.engine, and the event and the record say so', async () => {
    const { run, peak, started } = await peakOf({ concurrency: { engine: 20 } }, [
      loop({ max_concurrency: 64 }),
    ]);
    expect(peak).toBe(20);
    expect(started[0]).toMatchObject({ max_concurrency: 64, effective_concurrency: 20 });
    expect(run.output.l!.iterations).toEqual({ count: 200, errors: [], effective_concurrency: 20 });
  });

  it('is clipped by an explicit concurrency.run (a deliberate cap), and says so', async () => {
    const { run, peak, started } = await peakOf({ concurrency: { run: 5 } }, [loop({ max_concurrency: 64 })]);
    expect(peak).toBe(5);
    expect(started[0]).toMatchObject({ max_concurrency: 64, effective_concurrency: 5 });
    expect(run.output.l!.iterations!.effective_concurrency).toBe(5);
  });

  it('defaults to limits.loopConcurrency, reported the same way', async () => {
    const { run, peak, started } = await peakOf({}, [loop()]);
    expect(peak).toBe(8);
    expect(started[0]).toMatchObject({ max_concurrency: 8, effective_concurrency: 8 });
    expect(run.output.l!.iterations!.effective_concurrency).toBeUndefined();
  });

  it('raises the run’s default cap for the whole run: the run cap is the widest loop’s', async () => {
    // Two loops side by side, 40 each: the run's cap is 40 (the widest), so together they peak at 40.
    const { peak, started } = await peakOf({}, [
      { ...loop({ max_concurrency: 40 }), key: 'a' },
      { ...loop({ max_concurrency: 40 }), key: 'b' },
    ]);
    expect(peak).toBe(40);
    expect(started.map((e) => e.effective_concurrency)).toEqual([40, 40]);
  });

  it('in a sub-workflow, is clipped by the parent’s cap (the cap the child shares)', async () => {
    const child = draft([loop({ max_concurrency: 64 })]);
    let inFlight = 0;
    let peak = 0;
    const started: Array<WeftEventMap['loop.started']> = [];
    const engine = createEngine({
      steps: {
        w: async () => {
          inFlight++;
          peak = Math.max(peak, inFlight);
          for (let i = 0; i < 3; i++) await tick();
          inFlight--;
          return 1;
        },
      },
      workflows: { resolve: () => ({ document: child, workflow_id: 'child' }) },
    });
    engine.on('loop.started', (e) => started.push(e));
    const run = await engine.run(draft([{ type: 'workflow', key: 'sub', workflow_id: 'child' }]));
    expect(run.status).toBe('COMPLETED');
    // The parent plan has no loop: its cap is the default 16, which its child's executions count against.
    expect(peak).toBe(16);
    expect(started[0]).toMatchObject({ max_concurrency: 64, effective_concurrency: 16 });
  });
});
