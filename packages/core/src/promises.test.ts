/**
 * How the public API fails (docs/api.md, "Errors: thrown or rejected"): a function that returns a Promise
 * never throws — bad input, however malformed, comes back as a rejected Promise with a WeftError; a
 * function that returns something else (`engine.start` returns a handle, `engine.compile` a plan,
 * `weft.app` a client) throws the WeftError at once.
 *
 * The registry's and the store's methods are found by reflection, so a new method is held to the rule
 * without a change here.
 */
import { describe, expect, it } from 'vitest';
import { isWeftError, WeftError } from './errors.js';
import { MemoryFileStore } from './files/index.js';
import type { Weft } from './registry/client.js';
import { createWeft } from './registry/weft.js';
import { createEngine } from './run/engine.js';
import { MemoryStore } from './store/memory.js';
import { draft } from './test-support/workflows.js';

const DOC = draft([
  { type: 'input', key: 'in', destinations: ['double'] },
  { type: 'code', key: 'double', code: '{ "result": 2 }' },
]);

/** A value that throws on any use: reading a property, converting it, iterating it. */
const booby = new Proxy(
  {},
  {
    get() {
      throw new Error('booby trap: read');
    },
    has() {
      throw new Error('booby trap: has');
    },
    ownKeys() {
      throw new Error('booby trap: keys');
    },
    getPrototypeOf() {
      throw new Error('booby trap: prototype');
    },
  },
);

/** Argument lists no method accepts: missing, of the wrong types, unknown ids. */
const BAD_ARGUMENTS: readonly (readonly unknown[])[] = [
  [],
  [null, null, null],
  [42, 42, 42],
  [Symbol('x'), Symbol('y'), Symbol('z')],
  [{}, [], () => {}],
  ['nope', 'nope', 'nope'],
];

/**
 * Calls `fn` as an app would: it must return a Promise (never throw), and that Promise settles with a
 * value or (unless `anyError`) a WeftError. Returns how it settled.
 */
async function settles(label: string, fn: () => unknown, anyError = false): Promise<'resolved' | 'rejected'> {
  let result: unknown;
  try {
    result = fn();
  } catch (error) {
    expect.fail(`${label} threw synchronously (${String(error)}): it returns a Promise, so it must reject`);
  }
  expect(result, `${label} returns a Promise`).toBeInstanceOf(Promise);
  try {
    await result;
    return 'resolved';
  } catch (error) {
    if (!anyError && !isWeftError(error))
      expect.fail(`${label} rejected with a non-WeftError: ${String(error)}`);
    return 'rejected';
  }
}

/** `[path, function]` for every method of `target` and of the objects it holds (one level down). */
function methods(target: object, prefix: string, skip: readonly string[] = []): [string, () => object][] {
  const out: [string, () => object][] = [];
  const names = new Set<string>();
  for (let o: object | null = target; o !== null && o !== Object.prototype; o = Object.getPrototypeOf(o)) {
    for (const name of Object.getOwnPropertyNames(o)) if (name !== 'constructor') names.add(name);
  }
  for (const name of names) {
    if (skip.includes(name) || name.startsWith('_')) continue;
    const value = (target as Record<string, unknown>)[name];
    if (typeof value === 'function') out.push([`${prefix}.${name}`, () => target]);
    else if (value !== null && typeof value === 'object' && !prefix.includes('.')) {
      out.push(...methods(value, `${prefix}.${name}`, skip));
    }
  }
  return out;
}

describe('engine: start throws, run rejects', () => {
  const engine = createEngine();

  it('engine.run rejects (never throws) for a bad document, bad options, options that are not an object', async () => {
    for (const [document, options, code] of [
      [{ steps: 'nope' }, undefined, 'VALIDATION_FAILED'],
      [null, undefined, 'VALIDATION_FAILED'],
      [booby, undefined, 'VALIDATION_FAILED'],
      [DOC, { input: 5 }, 'INVALID_ARGUMENT'],
      [DOC, { signal: {} }, 'INVALID_ARGUMENT'],
      [DOC, 'nope', 'INVALID_ARGUMENT'],
      [DOC, booby, 'INVALID_ARGUMENT'],
    ] as const) {
      expect(await settles('engine.run', () => engine.run(document, options as never))).toBe('rejected');
      await expect(engine.run(document, options as never)).rejects.toMatchObject({ code });
    }
  });

  it('engine.start, engine.compile and engine.resume throw the same WeftError synchronously', () => {
    expect(() => engine.start({ steps: 'nope' })).toThrow(WeftError);
    expect(() => engine.start(DOC, { input: 5 } as never)).toThrow(
      expect.objectContaining({ code: 'INVALID_ARGUMENT' }),
    );
    expect(() => engine.compile(null)).toThrow(expect.objectContaining({ code: 'VALIDATION_FAILED' }));
    expect(() => engine.resume(DOC, 'nope' as never)).toThrow(
      expect.objectContaining({ code: 'INVALID_ARGUMENT' }),
    );
  });

  it("a handle's cancel rejects for a bad reason; done never rejects", async () => {
    const handle = engine.start(DOC);
    expect(await settles('handle.cancel', () => handle.cancel(5 as never))).toBe('rejected');
    expect((await handle.done).status).toBe('COMPLETED');
  });
});

describe('registry and store: every method returns a Promise, whatever its arguments', () => {
  async function world(): Promise<Weft> {
    const weft = createWeft();
    const app = weft.app('app_a');
    const workflow = await app.workflows.create({ name: 'w', draft: DOC });
    await app.versions.publish(workflow.id);
    await app.runs.run(workflow.id);
    return weft;
  }

  it('weft.app(id) and every method of its API groups', async () => {
    const weft = await world();
    const app = weft.app('app_a');
    const all = methods(app, 'app');
    expect(all.length).toBeGreaterThan(30);
    for (const [path, owner] of all) {
      const name = path.split('.').at(-1)!;
      for (const args of BAD_ARGUMENTS) {
        await settles(`${path}(${args.length} bad arguments)`, () =>
          (owner() as Record<string, (...a: unknown[]) => unknown>)[name]!(...args),
        );
      }
    }
    expect(() => weft.app(42 as never)).toThrow(WeftError);
    await weft.close();
  });

  it('weft.sweep, weft.idle and weft.close', async () => {
    const weft = await world();
    for (const args of BAD_ARGUMENTS) await settles('weft.sweep', () => weft.sweep(...(args as [never])));
    expect(await settles('weft.idle', () => weft.idle())).toBe('resolved');
    expect(await settles('weft.close', () => weft.close())).toBe('resolved');
  });

  it.each([
    ['MemoryStore', () => new MemoryStore(), 20],
    ['MemoryFileStore', () => new MemoryFileStore(), 2],
  ] as const)('%s: every method', async (name, create, atLeast) => {
    // subscribe is synchronous by design (it returns the unsubscribe function): it throws, checked below.
    const all = methods(create(), name, ['subscribe']);
    expect(all.length).toBeGreaterThan(atLeast);
    for (const [path, owner] of all) {
      const name = path.split('.').at(-1)!;
      for (const args of BAD_ARGUMENTS) {
        // A store is called by the registry with checked values: any error may come back, but as a rejection.
        await settles(
          `${path}(${args.length} bad arguments)`,
          () => (owner() as Record<string, (...a: unknown[]) => unknown>)[name]!(...args),
          true,
        );
      }
    }
  });

  it('MemoryStore.subscribe, synchronous, throws INVALID_ARGUMENT for bad arguments', () => {
    const store = new MemoryStore();
    for (const args of BAD_ARGUMENTS) {
      expect(() => (store.subscribe as (...a: unknown[]) => unknown)(...args)).toThrow(
        expect.objectContaining({ code: 'INVALID_ARGUMENT' }),
      );
    }
  });
});
