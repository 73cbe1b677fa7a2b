/**
 * Rule 11 across processes (docs/durability.md, "How the registry uses it", item 2): a run whose journal
 * is refused because the run ended CANCELLED where the journal is kept (its durable store: another
 * process cancelled it) ends CANCELLED here too, with the reason recorded there — whatever it was doing:
 * running, stopping on a failure, or ending with the very append refused. Nothing more is written. The
 * registry does this with `runner.abandon(new CancelledError(reason))` (registry/recorder.ts).
 */
import { describe, expect, it } from 'vitest';
import { CancelledError } from '../errors.js';
import { deferred, draft, task, tick } from '../test-support/workflows.js';
import { createEngine } from './engine.js';
import type { JournalEntry } from './journal.js';
import { runnerOf } from './runners.js';

/** A journal sink that keeps what it is given; `hold(type)` makes the append carrying `type` wait. */
function sink() {
  const stored: JournalEntry[] = [];
  let holdType: string | null = null;
  const held = deferred();
  let holding = false;
  return {
    stored,
    held,
    get holding() {
      return holding;
    },
    hold(type: string) {
      holdType = type;
    },
    journal: {
      append: async (entries: readonly JournalEntry[]) => {
        if (holdType !== null && entries.some((e) => e.type === holdType)) {
          holdType = null;
          holding = true;
          await held.promise;
        }
        stored.push(...JSON.parse(JSON.stringify(entries)));
      },
    },
  };
}

const waitsForAbort = (ctx: { signal: AbortSignal }) =>
  new Promise((_, reject) => ctx.signal.addEventListener('abort', () => reject(new Error('stopped'))));

describe('a run cancelled where its journal is kept', () => {
  it('running: stopped like a cancel, CANCELLED with that reason (run.cancelled); nothing more written', async () => {
    const s = sink();
    const started = deferred();
    const engine = createEngine({
      journal: s.journal,
      steps: {
        wait: (ctx) => {
          started.resolve();
          return waitsForAbort(ctx);
        },
        task: () => 1,
      },
    });
    const reasons: string[] = [];
    engine.on('run.cancelled', (e) => {
      reasons.push(e.reason);
    });
    engine.on('run.failed', () => reasons.push('run.failed'));
    const handle = engine.start(draft([{ type: 'wait', key: 'a', destinations: ['b'] }, task('b')]));
    await started.promise;
    await tick();
    const written = s.stored.length;
    runnerOf(handle)!.abandon(new CancelledError('Cancelled by the caller, elsewhere.'));
    const run = await handle.done;
    expect(run).toMatchObject({
      status: 'CANCELLED',
      error: { code: 'CANCELLED', message: 'Cancelled by the caller, elsewhere.' },
    });
    expect(run.output.a!.status).toBe('CANCELLED');
    expect(run.output.b!.status).toBe('SKIPPED');
    expect(reasons).toEqual(['Cancelled by the caller, elsewhere.']);
    await tick();
    expect(s.stored.length).toBe(written);
  });

  it('stopping on a failure (a step still in its grace period): CANCELLED with that reason, not FAILED', async () => {
    const s = sink();
    const never = deferred<string>();
    const engine = createEngine({
      journal: s.journal,
      limits: { cancelGraceMs: 60_000 },
      steps: {
        stubborn: () => never.promise,
        boom: async () => {
          await tick();
          throw new Error('boom');
        },
      },
    });
    const handle = engine.start(
      draft([
        { type: 'stubborn', key: 'slow' },
        { type: 'boom', key: 'bad' },
      ]),
    );
    // The failure stops the run; `slow` ignores its abort, so the run waits in its grace period.
    while (runnerOf(handle)!.state.stopReason === null) await tick();
    expect(runnerOf(handle)!.state.error).toMatchObject({ code: expect.any(String) });
    runnerOf(handle)!.abandon(new CancelledError('Cancelled elsewhere first.'));
    never.resolve('late');
    const run = await handle.done;
    expect(run).toMatchObject({
      status: 'CANCELLED',
      error: { code: 'CANCELLED', message: 'Cancelled elsewhere first.' },
    });
  });

  it('ending with the append refused (its run.ended in flight): CANCELLED with that reason, not COMPLETED', async () => {
    const s = sink();
    s.hold('run.ended');
    const engine = createEngine({ journal: s.journal, steps: { task: () => 1 } });
    const events: string[] = [];
    engine.on('run.completed', () => events.push('run.completed'));
    engine.on('run.cancelled', (e) => {
      events.push(`run.cancelled: ${e.reason}`);
    });
    const handle = engine.start(draft([task('a')]));
    while (!s.holding) await tick();
    runnerOf(handle)!.abandon(new CancelledError('The store says cancelled.'));
    const run = await handle.done;
    s.held.resolve();
    expect(run).toMatchObject({
      status: 'CANCELLED',
      error: { code: 'CANCELLED', message: 'The store says cancelled.' },
    });
    expect(run.output.a!.status).toBe('COMPLETED');
    expect(events).toEqual(['run.cancelled: The store says cancelled.']);
  });
});
