/**
 * When the engine reads its clock (docs/semantics.md, "The journal": facts recorded in one synchronous
 * stretch of engine work, with no handler or listener running in between, may share one clock reading).
 * A clock the test moves by hand shows which reading each fact got: time a handler or a listener spent
 * is always seen by the facts after it; the engine's own bookkeeping between two of them is not.
 */
import { describe, expect, it } from 'vitest';
import { draft, task } from '../test-support/workflows.js';
import { createEngine } from './engine.js';
import type { JournalEntry } from './journal.js';

const T0 = Date.UTC(2026, 0, 1);
const iso = (ms: number) => new Date(ms).toISOString();

function setup(steps: Record<string, (ctx: unknown) => unknown>) {
  let now = T0;
  let reads = 0;
  const journal: JournalEntry[] = [];
  const engine = createEngine({
    steps,
    clock: {
      now: () => {
        reads++;
        return now;
      },
    },
    journal: { append: (entries) => void journal.push(...entries) },
  });
  return {
    engine,
    journal,
    advance: (ms: number) => {
      now += ms;
    },
    reads: () => reads,
  };
}

const chain = (n: number, extra: Record<string, unknown> = {}) =>
  draft(Array.from({ length: n }, (_, i) => task(`s${i}`, i + 1 < n ? [`s${i + 1}`] : [], extra)));

describe('clock readings', () => {
  it('a fact after a handler sees the time the handler took, and the next step starts at that time', async () => {
    const t = setup({
      task: async () => {
        t.advance(1000);
        return 1;
      },
    });
    await t.engine.run(chain(3));
    const at = (type: string, key: string) =>
      t.journal.find((e) => e.type === type && (e as { key?: string }).key === key)!.at;
    expect(at('step.started', 's0')).toBe(iso(T0));
    expect(at('step.settled', 's0')).toBe(iso(T0 + 1000));
    // Settling s0 and starting s1 are one stretch of engine work: one reading.
    expect(at('step.started', 's1')).toBe(iso(T0 + 1000));
    expect(at('step.settled', 's1')).toBe(iso(T0 + 2000));
    expect(at('step.settled', 's2')).toBe(iso(T0 + 3000));
  });

  it('a fact after a listener sees the time the listener took', async () => {
    const t = setup({ task: async () => 1 });
    const handle = t.engine.start(chain(2, { conditional: 'true' }));
    const times: Record<string, string> = {};
    handle.on('step.completed', (e) => {
      times[`completed ${e.step_key}`] = e.time;
      t.advance(500);
    });
    handle.on('step.started', (e) => {
      times[`started ${e.step_key}`] = e.time;
      t.advance(50);
    });
    await handle.done;
    const at = (type: string, key: string) =>
      t.journal.find((e) => e.type === type && (e as { key?: string }).key === key)!.at;
    // s0: evaluated at T0; its step.started event, then the listener (+50), then the journal's start.
    expect(at('step.evaluated', 's0')).toBe(iso(T0));
    expect(times['started s0']).toBe(iso(T0));
    expect(at('step.started', 's0')).toBe(iso(T0 + 50));
    expect(at('step.settled', 's0')).toBe(iso(T0 + 50));
    expect(times['completed s0']).toBe(iso(T0 + 50));
    // The step.completed listener took 500 ms: s1's conditional is evaluated after it.
    expect(at('step.evaluated', 's1')).toBe(iso(T0 + 550));
    expect(times['started s1']).toBe(iso(T0 + 550));
    expect(at('step.started', 's1')).toBe(iso(T0 + 600));
  });

  it('a stretch that begins later (a timer, an await) reads the clock again', async () => {
    const t = setup({
      task: () =>
        new Promise((resolve) =>
          setTimeout(() => {
            t.advance(20);
            resolve(1);
          }, 1),
        ),
    });
    await t.engine.run(chain(2));
    const settled = t.journal.filter((e) => e.type === 'step.settled').map((e) => e.at);
    expect(settled).toEqual([iso(T0 + 20), iso(T0 + 40)]);
  });

  it('reads the clock once per step of a chain nobody listens to', async () => {
    const t = setup({ task: async () => 1 });
    await t.engine.run(chain(1));
    const base = t.reads();
    const n = 200;
    const before = t.reads();
    await t.engine.run(chain(n));
    // A step's answer is stamped once: its fact, and the next step's start in the same stretch.
    expect(t.reads() - before).toBeLessThanOrEqual(n + base + 2);
  });
});
