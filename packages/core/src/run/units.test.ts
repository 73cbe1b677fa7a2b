import { describe, expect, it } from 'vitest';
import { draft } from '../test-support/workflows.js';
import { createEngine } from './engine.js';
import { computeRetentionDueAt, normalizeRetention } from './retention.js';
import { retryDelay } from './retry.js';
import { redact, resolveVariables } from './variables.js';

describe('plans', () => {
  it('are compiled once per distinct content and shared by runs', () => {
    const engine = createEngine({ steps: { task: () => 1 } });
    const doc = draft([{ type: 'task', key: 'a', conditional: 'true' }]);
    const plan = engine.compile(doc);
    expect(engine.compile(structuredClone(doc))).toBe(plan);
    expect(engine.compile(draft([{ type: 'task', key: 'b' }]))).not.toBe(plan);
    expect(Object.isFrozen(plan.document)).toBe(true);
  });

  it('are found by document object first: a known object is not read again', async () => {
    const engine = createEngine({ steps: { task: () => 1 } });
    const doc = draft([{ type: 'task', key: 'a' }]);
    let reads = 0;
    const steps = doc.steps;
    Object.defineProperty(doc, 'steps', {
      enumerable: true,
      get: () => {
        reads++;
        return steps;
      },
    });
    const plan = engine.compile(doc);
    const afterFirst = reads;
    expect(afterFirst).toBeGreaterThan(0);
    expect(engine.compile(doc)).toBe(plan);
    expect((await engine.run(doc)).status).toBe('COMPLETED');
    expect(reads).toBe(afterFirst);
  });

  it('a document object is read once: changing it later needs a new object (docs/semantics.md)', async () => {
    const engine = createEngine({ steps: { task: (ctx) => ctx.step.key } });
    const doc = draft([{ type: 'task', key: 'a' }]);
    expect(Object.keys((await engine.run(doc)).output)).toEqual(['a']);
    (doc.steps[0] as { key: string }).key = 'changed';
    // The same object: its plan, as first read.
    expect(Object.keys((await engine.run(doc)).output)).toEqual(['a']);
    // A new object with the new content: compiled, and found by content for the next copy.
    const copy = structuredClone(doc);
    expect(Object.keys((await engine.run(copy)).output)).toEqual(['changed']);
    expect(engine.compile(structuredClone(doc))).toBe(engine.compile(copy));
  });

  it('an invalid document object is checked again each time (nothing is remembered for it)', () => {
    const engine = createEngine({ steps: { task: () => 1 } });
    const doc = draft([{ type: 'nope', key: 'a' }]);
    expect(() => engine.compile(doc)).toThrow();
    (doc.steps[0] as { type: string }).type = 'task';
    expect(engine.compile(doc).steps[0]!.type).toBe('task');
  });

  it('runs are pinned: mutating the document after start changes nothing', async () => {
    const engine = createEngine({ steps: { task: (ctx) => ctx.step.key } });
    const doc = draft([{ type: 'task', key: 'a' }]);
    const handle = engine.start(doc);
    (doc.steps[0] as { key: string }).key = 'changed';
    const run = await handle.done;
    expect(Object.keys(run.output)).toEqual(['a']);
    expect(run.workflow_version_draft!.steps[0]!.key).toBe('a');
  });
});

describe('retention', () => {
  it('normalises a bare number and computes the due date', () => {
    expect(normalizeRetention(60)).toEqual({ max_age_in_seconds: 60, preserve_on_failure: false });
    expect(
      computeRetentionDueAt(
        { max_age_in_seconds: 60, preserve_on_failure: false },
        '2026-01-01T00:00:00.000Z',
      ),
    ).toBe('2026-01-01T00:01:00.000Z');
    expect(
      computeRetentionDueAt(
        { max_age_in_seconds: -1, preserve_on_failure: false },
        '2026-01-01T00:00:00.000Z',
      ),
    ).toBeNull();
    expect(computeRetentionDueAt({ max_age_in_seconds: 5, preserve_on_failure: false }, null)).toBeNull();
    expect(() => normalizeRetention(-5)).toThrow(/`retention`/);
  });
});

describe('retry delays', () => {
  it('grow by backoff_rate, are capped, and jitter stays in [d/2, d]', () => {
    const policy = { max_attempts: 5, interval_ms: 100, backoff_rate: 2, max_delay_ms: 300, jitter: false };
    expect([1, 2, 3, 4].map((a) => retryDelay(policy, a))).toEqual([100, 200, 300, 300]);
    expect(retryDelay({ ...policy, jitter: true }, 2, () => 0)).toBe(100);
    expect(retryDelay({ ...policy, jitter: true }, 2, () => 1)).toBe(200);
  });
});

describe('secrets', () => {
  it('redacts every occurrence, deeply, without touching the input', () => {
    const { secrets, values } = resolveVariables([
      { key: 't', value: 'abc', secret: true },
      { key: 'p', value: 'public' },
    ]);
    expect(values).toEqual({ t: 'abc', p: 'public' });
    const input = { a: ['xabcx', { abc: 'abc' }], n: 1 };
    expect(redact(input, secrets)).toEqual({ a: ['x[secret]x', { '[secret]': '[secret]' }], n: 1 });
    expect(input.a[0]).toBe('xabcx');
    expect(Object.keys(redact({ a: 1, b: 'abc', c: 3 }, secrets))).toEqual(['a', 'b', 'c']);
  });
});
