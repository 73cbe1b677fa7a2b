/**
 * Invariants of automatic model choice over generated needs and catalogues: the default policy picks a
 * model that fits, none cheaper fits, the choice does not depend on the catalogue's order, and it is null
 * exactly when nothing fits. And of auto-fill's check: whatever a model answers, the values it keeps pass
 * the input check of the fields (so a filled run never holds an input its definition refuses).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { inputProblems } from '../input/check.js';
import { check } from '../run/auto-fill.js';
import { fcRuns } from '../test-support/fc.js';
import { defaultAutoModel, estimatedCost, type ModelNeeds, unmetNeeds } from './auto-model.js';
import type { CatalogueEntry } from './catalogue.js';

const price = fc.option(
  fc.record({
    input_per_million: fc.constantFrom(0, 0.1, 1, 5),
    output_per_million: fc.constantFrom(0, 0.4, 4),
  }),
  { nil: null },
);
const entry: fc.Arbitrary<CatalogueEntry> = fc.record({
  provider: fc.constantFrom('a', 'b', 'c'),
  model: fc.constantFrom('m1', 'm2', 'm3', 'm4'),
  json: fc.boolean(),
  tools: fc.boolean(),
  images: fc.boolean(),
  files: fc.boolean(),
  context_window: fc.constantFrom(1_000, 8_000, 200_000),
  max_output: fc.constantFrom(100, 4_000),
  price,
});
const catalogue = fc.uniqueArray(entry, { selector: (e) => `${e.provider}/${e.model}`, maxLength: 12 });
const needs: fc.Arbitrary<ModelNeeds> = fc.record({
  step_key: fc.constant('s'),
  provider: fc.constantFrom(null, 'a', 'b'),
  json: fc.boolean(),
  tools: fc.boolean(),
  images: fc.boolean(),
  files: fc.boolean(),
  prompt_tokens: fc.integer({ min: 0, max: 10_000 }),
  max_tokens: fc.option(fc.integer({ min: 1, max: 5_000 }), { nil: null }),
});

describe('default policy (property)', () => {
  it('picks a fitting model no other fitting model beats, whatever the catalogue order; null iff none fits', () => {
    fc.assert(
      fc.property(needs, catalogue, fc.nat(), (n, list, seed) => {
        const choice = defaultAutoModel(n, list);
        const fitting = list.filter((e) => unmetNeeds(e, n).length === 0);
        if (fitting.length === 0) return choice === null;
        const chosen = list.find((e) => e.provider === choice?.provider && e.model === choice?.model);
        expect(chosen).toBeDefined();
        expect(unmetNeeds(chosen!, n)).toEqual([]);
        for (const other of fitting)
          expect(estimatedCost(other, n)).toBeGreaterThanOrEqual(estimatedCost(chosen!, n));
        const shuffled = [...list].sort(
          (x, y) =>
            ((seed + x.model.charCodeAt(1) * 7 + x.provider.charCodeAt(0)) % 5) -
            ((seed + y.model.charCodeAt(1) * 7 + y.provider.charCodeAt(0)) % 5),
        );
        const again = defaultAutoModel(n, shuffled);
        expect([again?.provider, again?.model]).toEqual([choice?.provider, choice?.model]);
        return true;
      }),
      { numRuns: fcRuns(300) },
    );
  });
});

describe('auto-fill answers (property)', () => {
  const fields = {
    n: { type: 'number', allowed_modes: ['auto'] },
    s: { type: 'select', options: ['x', 'y'], allowed_modes: ['auto'] },
    d: { type: 'date', allowed_modes: ['auto'], optional: true },
    o: { type: 'object', allowed_modes: ['auto'], fields: { k: { type: 'boolean' } } },
  };
  it('an answer with no problems gives values that pass the input check', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.constantFrom('n', 's', 'd', 'o', 'z'), fc.jsonValue()), (answer) => {
        const result = check({ step_key: null, config: {}, fields }, JSON.stringify(answer));
        if (result.problems.length > 0) return true;
        expect(inputProblems({ input: fields, steps: [] }, result.values)).toEqual([]);
        expect(Object.keys(result.values).every((k) => k in fields)).toBe(true);
        return true;
      }),
      { numRuns: fcRuns(300) },
    );
  });
});
