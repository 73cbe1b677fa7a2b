/**
 * Differential test of the one-pass validator and compiler (issue 11, item 4): the restructured code and
 * the code before it (validate/old/, deleted once this passes) agree on generated documents — every
 * problem byte for byte, the copy, and the plan's structure.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compile } from '../compile/compile.js';
import type { Plan } from '../compile/plan.js';
import { hostileValue } from '../test-support/hostile.js';
import { compile as oldCompile } from './old/compile.js';
import { validateAndCopy as oldValidate } from './old/validate.js';
import { anything, fuzzedDocument, generated, type Obj, OPTIONS } from './test-support/documents.js';
import { validateAndCopy } from './validate.js';

const runs = Number(process.env.WEFT_DIFF_RUNS ?? 300);

/** Mutations that break a valid document in the ways the graph and key rules look at. */
const mutation = fc.oneof(
  fc.record({ op: fc.constant('edge' as const), from: fc.nat(), to: fc.nat() }),
  fc.record({
    op: fc.constant('dangling' as const),
    from: fc.nat(),
    name: fc.constantFrom('missing', 'S0', ''),
  }),
  fc.record({ op: fc.constant('duplicate' as const), from: fc.nat() }),
  fc.record({ op: fc.constant('note' as const), from: fc.nat() }),
  fc.record({ op: fc.constant('nokey' as const), from: fc.nat() }),
  fc.record({ op: fc.constant('entry' as const), from: fc.nat() }),
  fc.record({
    op: fc.constant('badexpr' as const),
    from: fc.nat(),
    field: fc.constantFrom('conditional', 'loop', 'code'),
  }),
  fc.record({ op: fc.constant('branch' as const), from: fc.nat(), to: fc.nat(), other: fc.nat() }),
  fc.record({ op: fc.constant('notastep' as const), from: fc.nat() }),
);

const broken = fc.tuple(generated, fc.array(mutation, { maxLength: 6 })).map(([{ doc }, ops]) => {
  const steps = doc.steps as Obj[];
  for (const m of ops) {
    if (steps.length === 0) break;
    const at = m.from % steps.length;
    const step = steps[at]!;
    if (typeof step !== 'object' || step === null) continue;
    const keyAt = (k: number) => (steps[k % steps.length] as Obj | undefined)?.key;
    switch (m.op) {
      case 'edge': {
        const list = Array.isArray(step.destinations) ? (step.destinations as unknown[]) : [];
        list.push(keyAt(m.to));
        step.destinations = list;
        break;
      }
      case 'dangling':
        step.destinations = [...((step.destinations as unknown[]) ?? []), m.name];
        break;
      case 'duplicate':
        steps.push({ ...step, destinations: [keyAt(m.from + 1)] });
        break;
      case 'note':
        step.type = 'note';
        break;
      case 'nokey':
        delete step.key;
        break;
      case 'entry':
        step.input_connected = true;
        break;
      case 'badexpr':
        step[m.field] = 'a +';
        if (m.field === 'code') step.type = 'code';
        break;
      case 'branch':
        steps.push({
          type: 'branch',
          key: `b${steps.length}`,
          conditions: {
            yes: { condition: 'true', order: 1, destinations: [keyAt(m.to), keyAt(m.to)] },
            no: { condition: 'false', order: 1, destinations: [keyAt(m.other)] },
          },
          else: [keyAt(m.other), `b${steps.length}`],
          destinations: [keyAt(m.to)],
        });
        break;
      case 'notastep':
        steps[at] = 5 as unknown as Obj;
        break;
    }
  }
  return doc;
});

function agree(doc: unknown, options: Record<string, unknown> = OPTIONS): void {
  const before = oldValidate(doc, options);
  const after = validateAndCopy(doc, options);
  expect(after.problems).toEqual(before.problems);
  expect(after.ok).toBe(before.ok);
  expect(after.copy).toEqual(before.copy);
}

/** A plan's structure, without functions. */
function shape(plan: Plan): unknown {
  return {
    hash: plan.hash,
    document: plan.document,
    entries: plan.entries,
    notes: plan.notes,
    chains: plan.chains,
    usesSteps: plan.usesSteps,
    byKey: [...plan.byKey.keys()],
    steps: plan.steps.map((s) => ({
      ...s,
      direct: s.direct === null ? null : [...s.direct],
      conditional: s.conditional && { source: s.conditional.source, site: s.conditional.site },
      loop: s.loop && { source: s.loop.source, site: s.loop.site },
      code: s.code && { source: s.code.source, site: s.code.site, fast: s.code.fast !== null },
      branch: s.branch && {
        ...s.branch,
        conditions: s.branch.conditions.map((c) => ({
          ...c,
          expression: { source: c.expression.source, site: c.expression.site },
        })),
      },
      config: {
        base: s.config.base,
        copies: s.config.copies,
        sync: s.config.sync,
        templates: s.config.templates.map((t) => ({ path: t.path, kind: t.template.kind })),
      },
      agent: s.agent && { ...s.agent, byWire: [...s.agent.byWire.keys()] },
    })),
  };
}

function compileAgrees(doc: unknown): void {
  let before: unknown;
  let after: unknown;
  try {
    before = shape(oldCompile(doc, OPTIONS));
  } catch (error) {
    before = { error: String(error), problems: (error as { problems?: unknown }).problems };
  }
  try {
    after = shape(compile(doc, OPTIONS));
  } catch (error) {
    after = { error: String(error), problems: (error as { problems?: unknown }).problems };
  }
  expect(after).toEqual(before);
}

describe('old and new validator agree', () => {
  it('on broken generated documents', () => {
    fc.assert(
      fc.property(broken, (doc) => agree(doc)),
      { numRuns: runs },
    );
  });
  it('on fuzzed documents', () => {
    fc.assert(
      fc.property(fuzzedDocument(anything), (doc) => agree(doc)),
      { numRuns: runs },
    );
  });
  it('on hostile values and anything', () => {
    fc.assert(
      fc.property(fc.oneof(hostileValue, anything, fuzzedDocument(hostileValue)), (doc) => agree(doc)),
      { numRuns: runs },
    );
  });
  it('on deep and cyclic documents', () => {
    const deep: Obj = { type: 'code', key: 'a', code: '1' };
    let at = deep;
    for (let i = 0; i < 200; i++) {
      const next: Obj = { x: [i] };
      at.nested = next;
      at = next;
    }
    const cyclic: Obj = { steps: [{ type: 'input', key: 'a' }] };
    (cyclic.steps as Obj[])[0]!.self = cyclic;
    (cyclic.steps as Obj[]).push(cyclic.steps as unknown as Obj);
    agree({ steps: [deep] });
    agree(cyclic);
    agree({
      steps: [
        {
          type: 'input',
          key: 'a',
          get boom() {
            throw new Error('no');
          },
        },
      ],
    });
  });
});

describe('old and new compiler agree', () => {
  it('on generated and broken documents', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          generated.map((g) => g.doc),
          broken,
        ),
        (doc) => compileAgrees(doc),
      ),
      { numRuns: runs },
    );
  });
});
