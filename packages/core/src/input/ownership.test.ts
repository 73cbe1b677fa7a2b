/**
 * A run's input is copied once (input/files.ts: `handOverRunInput` / `ownRunInput`): the registry's copy
 * is the run's input, `engine.start` called directly copies what it is given — and both refuse the same
 * inputs with the same errors. The isolation of each store's registry path is the shared contract
 * (@weft/testing/input-contract); here: the hand-over itself, `engine.start` called directly, and the
 * property that the two paths agree on every input, hostile ones included.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { WeftError } from '../errors.js';
import { createWeft } from '../registry/weft.js';
import { createEngine } from '../run/engine.js';
import type { StepContext } from '../steps/types.js';
import { MemoryStore } from '../store/memory.js';
import { fcRuns, jsonObject, jsonValue } from '../test-support/fc.js';
import { hostileValue } from '../test-support/hostile.js';
import { draft } from '../test-support/workflows.js';
import { captureRunInput, copyRunInput, handOverRunInput, ownRunInput } from './files.js';

const DOC = draft(
  [
    {
      type: 'input',
      key: 'in',
      input: {
        name: { type: 'string', optional: true },
        count: { type: 'number', optional: true },
        upload: { type: 'file', optional: true },
      },
      destinations: ['look'],
    },
    { type: 'look', key: 'look' },
  ],
  {},
);

const given = () =>
  JSON.parse('{"name":"ada","nested":{"list":[1,{"two":2}]},"__proto__":{"isAdmin":true}}') as Record<
    string,
    unknown
  >;

describe('the hand-over', () => {
  it('engine.start keeps a handed-over copy as it is, once; a second start with it copies it', () => {
    const caller = given();
    const copy = handOverRunInput(DOC, captureRunInput(caller));
    expect(copy).toEqual(caller);
    expect(copy).not.toBe(caller);
    expect(copy.nested).not.toBe(caller.nested);
    expect(ownRunInput(DOC, copy)).toBe(copy);
    const again = ownRunInput(DOC, copy);
    expect(again).toEqual(copy);
    expect(again).not.toBe(copy);
  });

  it('any other object is copied: the caller’s own object is never the run’s', () => {
    const caller = given();
    const owned = ownRunInput(DOC, caller);
    expect(owned).toEqual(caller);
    expect(owned).not.toBe(caller);
    expect(ownRunInput(DOC, copyRunInput(DOC, caller))).not.toBe(caller);
  });

  it('both refuse a non-object input as engine.start always has (INVALID_ARGUMENT `input`)', () => {
    for (const value of [5, 'x', null, [], new Date(0), new Map()]) {
      for (const take of [
        (doc: object, input: unknown) => handOverRunInput(doc, captureRunInput(input)),
        ownRunInput,
      ]) {
        expect(() => take(DOC, value)).toThrow(
          expect.objectContaining({ code: 'INVALID_ARGUMENT', details: { parameter: 'input' } }),
        );
      }
    }
  });
});

describe('engine.start called directly', () => {
  it('copies the input: neither the caller nor the run can change the other’s object', async () => {
    const seen: unknown[] = [];
    const engine = createEngine({
      steps: {
        look: (ctx: StepContext) => {
          const input = ctx.scope.input as Record<string, unknown>;
          seen.push(JSON.parse(JSON.stringify(input)));
          (input.nested as { list: unknown[] }).list.push('added by the run');
          return null;
        },
      },
    });
    const caller = given();
    const handle = engine.start(DOC, { input: caller });
    (caller.nested as { list: unknown[] }).list.push('added by the caller');
    caller.name = 'changed';
    const run = await handle.done;
    expect(run.status).toBe('COMPLETED');
    expect(seen).toEqual([given()]);
    expect((caller.nested as { list: unknown[] }).list).toEqual([1, { two: 2 }, 'added by the caller']);
  });

  it('input_default is merged under the input in a new object: a run never writes into the document', async () => {
    const doc = { ...DOC, input_default: { name: 'default', extra: { deep: 1 } } };
    const engine = createEngine({
      steps: {
        look: (ctx: StepContext) => {
          (ctx.scope.input as Record<string, unknown>).name = 'written by the run';
          return null;
        },
      },
    });
    const run = await engine.run(doc, { input: { count: 1 } });
    expect(run.status).toBe('COMPLETED');
    expect(doc.input_default).toEqual({ name: 'default', extra: { deep: 1 } });
    expect((await engine.run(doc)).input).toMatchObject({ name: 'written by the run' });
    expect(doc.input_default.name).toBe('default');
  });
});

/** An input the paths must agree on: JSON data, hostile values at any field, and built hostile shapes. */
const inputs: fc.Arbitrary<() => unknown> = fc.oneof(
  jsonObject.map((o) => () => structuredCloneOwn(o)),
  fc
    .dictionary(fc.constantFrom('name', 'count', 'upload', 'other', '__proto__'), hostileValue, {
      maxKeys: 3,
    })
    .map((o) => () => ({ ...o })),
  hostileValue.map((v) => () => v),
  fc.constantFrom<() => unknown>(
    () => {
      const cyclic: Record<string, unknown> = { name: 'a' };
      cyclic.self = cyclic;
      return cyclic;
    },
    () =>
      Object.defineProperty({ name: 'a' }, 'count', {
        enumerable: true,
        get() {
          throw new Error('a getter that throws');
        },
      }),
    () =>
      new Proxy(
        { name: 'a' },
        {
          ownKeys() {
            throw new Error('a proxy that throws');
          },
        },
      ),
    () => new Proxy({ name: 'a', count: 2 }, {}),
    () => ({ count: 10n }),
    () => ({ count: -0, list: [-0] }),
    // biome-ignore lint/suspicious/noSparseArray: a sparse array is one of the hostile shapes
    () => ({ list: [1, , 3] }),
    () => ({ fn: () => 1 }),
    () => ({ upload: Buffer.from('%PDF-1.4\n') }),
    () => ({ other: new Uint8Array([1, 2]) }),
    () => ({ upload: { data: 5 } }),
    () => ({ name: 5, count: 'five' }),
    () => {
      let deep: Record<string, unknown> = {};
      const root = deep;
      for (let i = 0; i < 300; i++) deep = deep.d = {};
      return root;
    },
  ),
  jsonValue.map((v) => () => ({ name: 'x', other: v })),
);

/** A fresh copy keeping own "__proto__" keys (structuredClone keeps them as data too). */
function structuredCloneOwn<T>(value: T): T {
  return structuredClone(value);
}

type Outcome =
  | { seen: unknown; recorded: string }
  | { error: { code: string; message: string; details: unknown } };

/**
 * What the run's step saw of its input (kept as it is: a -0 stays -0), and the run's recorded input as
 * JSON text (a store's answer is JSON data: -0 is 0 there on every path); or the error.
 */
async function outcome(seen: unknown[], work: () => Promise<{ input: unknown }>): Promise<Outcome> {
  seen.length = 0;
  try {
    const run = await work();
    return { seen: seen[0], recorded: JSON.stringify(run.input) };
  } catch (error) {
    if (!(error instanceof WeftError)) throw error;
    return { error: { code: error.code, message: error.message, details: error.details } };
  }
}

describe('the registry and engine.start agree', () => {
  it('property: for any input, the same run input or the same error (code, message, details)', async () => {
    const seen: unknown[] = [];
    const look = (ctx: StepContext) => {
      seen.push(structuredClone(ctx.scope.input));
      return null;
    };
    const weft = createWeft({ store: new MemoryStore(), steps: { look }, recover: false });
    const app = weft.app('app');
    const workflow = await app.workflows.create({ name: 'inputs', draft: DOC });
    const engine = createEngine({ steps: { look } });
    try {
      await fc.assert(
        fc.asyncProperty(inputs, async (make) => {
          const viaRegistry = await outcome(seen, () =>
            app.runs.run(workflow.id, { version: 'draft', input: make() as never }),
          );
          const viaEngine = await outcome(seen, () => engine.run(DOC, { input: make() as never }));
          expect(viaRegistry).toEqual(viaEngine);
          if ('seen' in viaRegistry) {
            // Own "__proto__" keys stay data on both paths (toEqual would not see a swapped prototype).
            expect(Object.getPrototypeOf(viaRegistry.seen)).toBe(Object.prototype);
          }
        }),
        { numRuns: fcRuns(150) },
      );
    } finally {
      await weft.close();
    }
  });
});
