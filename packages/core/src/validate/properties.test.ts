/**
 * fast-check properties of the validator:
 * 1. generated valid documents (DAGs of every built-in type and a host type, with unknown extra fields)
 *    have no problem at all, round-trip unchanged and are not mutated; compile accepts them and keeps
 *    every field;
 * 2. one injected defect is reported with its code at its path;
 * 3. any value at all (fc.anything, fc.jsonValue, fuzzed steps) never makes it throw, and whatever it
 *    accepts, compile accepts too.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compile } from '../compile/compile.js';
import { parseExpression } from '../expressions/jsonata.js';
import { fcRuns } from '../test-support/fc.js';
import { PROBLEM_CODES } from './codes.js';
import { type ValidationResult, validateVersion } from './index.js';
import {
  anything,
  fuzzedDocument,
  generated,
  type Obj,
  OPTIONS,
  STEP_FIELD_NAMES,
} from './test-support/documents.js';

/** Every problem is well formed. */
function wellFormed(result: ValidationResult): void {
  expect(typeof result.ok).toBe('boolean');
  expect(result.ok).toBe(!result.problems.some((p) => p.severity === 'error'));
  for (const p of result.problems) {
    expect(Object.hasOwn(PROBLEM_CODES, p.code)).toBe(true);
    expect(['error', 'warning']).toContain(p.severity);
    expect(p.path === '' || p.path.startsWith('/')).toBe(true);
    expect(typeof p.message).toBe('string');
    expect(p.message.length).toBeGreaterThan(0);
    if (p.position !== undefined) expect(Number.isInteger(p.position) && p.position >= 0).toBe(true);
    if (p.step_key !== undefined) expect(typeof p.step_key).toBe('string');
  }
}

describe('property 1: valid documents', () => {
  it('have no problem, are not mutated, round-trip unchanged, and compile keeping every field', () => {
    fc.assert(
      fc.property(generated, ({ doc }) => {
        const before = structuredClone(doc);
        const result = validateVersion(doc, OPTIONS);
        expect(result).toEqual({ ok: true, problems: [] });
        expect(doc).toEqual(before);
        const json = JSON.parse(JSON.stringify(doc));
        expect(json).toEqual(doc);
        expect(validateVersion(json, OPTIONS)).toEqual(result);
        expect(validateVersion(structuredClone(doc), OPTIONS)).toEqual(result);
        expect(compile(doc, OPTIONS).document).toEqual(doc);
      }),
      { numRuns: fcRuns(100) },
    );
  });
});

describe('property 2: one injected defect', () => {
  const codesOf = (result: ValidationResult) => [
    ...new Set(result.problems.filter((p) => p.severity === 'error').map((p) => p.code)),
  ];

  it('dangling destination', () => {
    fc.assert(
      fc.property(generated, fc.nat(), ({ doc, keys, runnable }, seed) => {
        const i = runnable[seed % runnable.length]!;
        const list = (doc.steps as Obj[])[i]!.destinations as string[];
        list.push('missing!');
        const result = validateVersion(doc, OPTIONS);
        expect(codesOf(result)).toEqual(['DANGLING_DESTINATION']);
        expect(result.problems).toContainEqual(
          expect.objectContaining({
            code: 'DANGLING_DESTINATION',
            path: `/steps/${i}/destinations/${list.length - 1}`,
            step_key: keys[i],
          }),
        );
      }),
      { numRuns: fcRuns(60) },
    );
  });

  it('cycle (or self-loop when there is one runnable step)', () => {
    fc.assert(
      fc.property(generated, fc.nat(), fc.boolean(), ({ doc, keys, runnable, pred }, seed, toFirst) => {
        const steps = doc.steps as Obj[];
        if (runnable.length === 1) {
          (steps[0]!.destinations as string[]).push(keys[0]!);
          const result = validateVersion(doc, OPTIONS);
          expect(codesOf(result)).toEqual(['SELF_LOOP']);
          return;
        }
        const j = runnable[1 + (seed % (runnable.length - 1))]!;
        const target = toFirst ? 0 : pred.get(j)!;
        const list = steps[j]!.destinations as string[];
        list.push(keys[target]!);
        const result = validateVersion(doc, OPTIONS);
        expect(codesOf(result)).toEqual(['CYCLE']);
        const pairs = result.problems
          .filter((p) => p.code === 'CYCLE')
          .flatMap((p) => {
            const names = p.message.match(/cycle: (.*?)\. A workflow/)![1]!.split(' -> ');
            return names.slice(1).map((name, k) => `${names[k]}>${name}`);
          });
        expect(pairs).toContain(`${keys[j]}>${keys[target]}`);
      }),
      { numRuns: fcRuns(60) },
    );
  });

  it('duplicate key', () => {
    fc.assert(
      fc.property(generated, fc.nat(), ({ doc, keys, runnable }, seed) => {
        const steps = doc.steps as Obj[];
        const taken = keys[runnable[seed % runnable.length]!]!;
        steps.push({ type: 'code', key: taken, code: '1' });
        const result = validateVersion(doc, OPTIONS);
        expect(codesOf(result)).toEqual(['DUPLICATE_STEP_KEY']);
        expect(result.problems).toContainEqual(
          expect.objectContaining({
            code: 'DUPLICATE_STEP_KEY',
            path: `/steps/${steps.length - 1}/key`,
            step_key: taken,
          }),
        );
      }),
      { numRuns: fcRuns(60) },
    );
  });

  it('broken expression (conditional, code, template) with its position', () => {
    const broken = fc.constantFrom('input.a +', '(1', '[1, 2', '$sum(', '"open');
    fc.assert(
      fc.property(
        generated,
        fc.nat(),
        broken,
        fc.constantFrom('conditional', 'template'),
        (g, seed, source, where) => {
          const steps = g.doc.steps as Obj[];
          const parsed = parseExpression(source);
          if (parsed.ok) throw new Error('not broken');
          let path: string;
          let position: number;
          if (where === 'conditional') {
            const i = seed % steps.length;
            steps[i]!.conditional = source;
            path = `/steps/${i}/conditional`;
            position = parsed.error.position;
          } else {
            const url = `https://example.com/{{${source}}}`;
            steps.push({ type: 'http_request', key: 'New-Step', url });
            (steps[0]!.destinations as string[]).push('New-Step');
            path = `/steps/${steps.length - 1}/url`;
            position = url.indexOf('{{') + 2 + parsed.error.position;
          }
          const result = validateVersion(g.doc, OPTIONS);
          expect(codesOf(result)).toEqual(['EXPRESSION_SYNTAX']);
          expect(result.problems).toContainEqual(
            expect.objectContaining({ code: 'EXPRESSION_SYNTAX', path, position }),
          );
        },
      ),
      { numRuns: fcRuns(60) },
    );
  });
});

describe('property 3: never throws', () => {
  /** Whatever validates must compile: the validator is the compiler's only gate. */
  function checkAgainstCompile(value: unknown, result: ValidationResult): void {
    if (result.ok) expect(() => compile(value, OPTIONS)).not.toThrow();
  }

  it('fc.anything()', () => {
    fc.assert(
      fc.property(anything, (value) => {
        const result = validateVersion(value, OPTIONS);
        wellFormed(result);
        checkAgainstCompile(value, result);
      }),
      { numRuns: fcRuns(300) },
    );
  });

  it('fc.jsonValue(), as the document and as its steps', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 4 }), (value) => {
        wellFormed(validateVersion(value));
        const doc = { steps: Array.isArray(value) ? value : [value] };
        const result = validateVersion(doc, OPTIONS);
        wellFormed(result);
        checkAgainstCompile(doc, result);
      }),
      { numRuns: fcRuns(300) },
    );
  });

  it('a valid document with one field of one step set to any value', () => {
    fc.assert(
      fc.property(
        generated,
        fc.nat(),
        fc.constantFrom(...STEP_FIELD_NAMES),
        anything,
        (g, seed, field, value) => {
          const steps = g.doc.steps as Obj[];
          steps[seed % steps.length]![field] = value;
          const result = validateVersion(g.doc, OPTIONS);
          wellFormed(result);
          checkAgainstCompile(g.doc, result);
        },
      ),
      { numRuns: fcRuns(200) },
    );
  });

  it('fuzzed steps: known field names with any values', () => {
    fc.assert(
      fc.property(fuzzedDocument(anything), (doc) => {
        const result = validateVersion(doc, OPTIONS);
        wellFormed(result);
        checkAgainstCompile(doc, result);
      }),
      { numRuns: fcRuns(300) },
    );
  });
});
