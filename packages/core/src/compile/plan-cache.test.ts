import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ValidationError } from '../errors.js';
import { createEngine } from '../run/engine.js';
import type { Run } from '../run/types.js';
import { fcRuns } from '../test-support/fc.js';
import { code, draft } from '../test-support/workflows.js';
import { PlanCache } from './plan-cache.js';

const chain = (values: readonly number[]) =>
  draft(values.map((v, i) => code(`s${i}`, String(v), i + 1 < values.length ? [`s${i + 1}`] : [])));

const copy = <T>(value: T): T => JSON.parse(JSON.stringify(value)) as T;

/** What a run computed: its status and each step's status and output. */
function outcome(run: Run) {
  return {
    status: run.status,
    steps: Object.fromEntries(Object.entries(run.output).map(([k, r]) => [k, [r.status, r.output]])),
  };
}

describe('PlanCache', () => {
  it('a new object with the content of a compiled one gets its plan, without compiling again', () => {
    const cache = new PlanCache();
    const doc = chain([1, 2, 3]);
    const plan = cache.get(doc);
    expect(cache.get(copy(doc))).toBe(plan);
    expect(cache.get(structuredClone(doc))).toBe(plan);
    // Not JSON-plain (an undefined member, a toJSON): found by its JSON text instead.
    expect(cache.get({ ...copy(doc), extra: undefined })).toBe(plan);
    expect(cache.get({ toJSON: () => copy(doc) })).toBe(plan);
    expect(cache.size).toBe(1);
  });

  it('a copy whose content differs — a step’s code, the key order — is compiled: never a stale plan', () => {
    const cache = new PlanCache();
    const doc = chain([1, 2, 3]);
    const plan = cache.get(doc);
    const changed = copy(doc);
    (changed.steps[1] as { code: string }).code = '20';
    const other = cache.get(changed);
    expect(other).not.toBe(plan);
    expect((other.document.steps[1] as { code: string }).code).toBe('20');
    const reordered = { steps: copy(doc.steps), key: doc.key };
    const third = cache.get(reordered);
    expect(third).not.toBe(plan);
    expect(third.hash).not.toBe(plan.hash);
    expect(cache.get(copy(doc))).toBe(plan);
  });

  it('a document object already seen is not read again (docs/semantics.md, "Documents are read once")', () => {
    const cache = new PlanCache();
    const doc = chain([1, 2]);
    const plan = cache.get(doc);
    (doc.steps[0] as { code: string }).code = '10';
    expect(cache.get(doc)).toBe(plan);
    // …while its copy, which has the new content, gets a plan of its own.
    const copied = cache.get(copy(doc));
    expect(copied).not.toBe(plan);
    expect((copied.document.steps[0] as { code: string }).code).toBe('10');
  });

  it('keeps at most `max` plans and `maxBytes` of text, the least recently used going first', () => {
    const docs = [chain([1]), chain([2]), chain([3])];
    const cache = new PlanCache({ max: 2 });
    const plans = docs.map((d) => cache.get(copy(d)));
    expect(cache.size).toBe(2);
    expect(cache.get(copy(docs[2]!))).toBe(plans[2]);
    expect(cache.get(copy(docs[0]!))).not.toBe(plans[0]); // evicted: compiled again
    // Of other shapes (no token lists made): the bytes are the texts' lengths.
    const sized = [chain([1]), chain([1, 2]), chain([1, 2, 3])];
    const [, l2, l3] = sized.map((d) => JSON.stringify(d).length);
    const small = new PlanCache({ maxBytes: l2! + l3! });
    const kept = sized.map((d) => small.get(copy(d)));
    expect(small.size).toBe(2);
    expect(small.bytes).toBe(l2! + l3!);
    expect(small.get(copy(sized[1]!))).toBe(kept[1]);
    // A token list, once made, counts too (8 bytes a token), and the bound still holds.
    small.get(copy(sized[2]!));
    const withTokens = new PlanCache({ maxBytes: 4 * l3! });
    for (const d of docs) withTokens.get(copy(d));
    expect(withTokens.bytes).toBeLessThanOrEqual(4 * l3!);
    // A document with more text than maxBytes is compiled for each new object, not kept.
    const tiny = new PlanCache({ maxBytes: 10 });
    const first = tiny.get(copy(docs[0]!));
    expect(tiny.get(copy(docs[0]!))).not.toBe(first);
    expect(tiny.size).toBe(0);
    expect(new PlanCache({ max: 0 }).get(docs[0]).steps).toHaveLength(1);
  });

  it('a comparison that meets a throwing getter or a cycle falls back to validation, which reports it', () => {
    const cache = new PlanCache();
    const doc = chain([1, 2]);
    cache.get(doc);
    const throwing = copy(doc);
    Object.defineProperty(throwing.steps[1]!, 'code', {
      enumerable: true,
      get() {
        throw new Error('boom');
      },
    });
    expect(() => cache.get(throwing)).toThrow();
    const cyclic = copy(doc) as unknown as { steps: Array<Record<string, unknown>> };
    cyclic.steps[1]!.self = cyclic;
    expect(() => cache.get(cyclic)).toThrow(ValidationError);
  });

  it('property: a random chain and a random change — the warm engine’s run equals a fresh engine’s', async () => {
    const engine = createEngine();
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.integer({ min: -5, max: 5 }), { minLength: 1, maxLength: 6 }),
        fc.nat(),
        fc.integer({ min: -5, max: 5 }),
        fc.constantFrom('code', 'reorder', 'destination', 'none'),
        async (values, at, value, change) => {
          const doc = chain(values);
          await engine.run(doc);
          await engine.run(copy(doc));
          const changed = copy(doc) as unknown as { key: string; steps: Array<Record<string, unknown>> };
          const step = changed.steps[at % values.length]!;
          if (change === 'code') step.code = String(value);
          else if (change === 'destination') step.destinations = [];
          else if (change === 'reorder') {
            const { key, ...rest } = step;
            changed.steps[at % values.length] = { ...rest, key };
          }
          const warm = await engine.run(changed);
          const fresh = await createEngine().run(copy(changed));
          expect(outcome(warm)).toEqual(outcome(fresh));
        },
      ),
      { numRuns: fcRuns(60) },
    );
  });
});
