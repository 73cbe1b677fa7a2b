/**
 * Issue 11, item 6: JSON is data. `__proto__`, `constructor` and `prototype` keys stay own properties in
 * run inputs, outputs, variables, drafts, store copies and replays — never a prototype.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { WeftError } from './errors.js';
import { checkedCopy, setOwn } from './json-data.js';
import { createWeft } from './registry/weft.js';
import { createEngine } from './run/engine.js';
import { redact } from './run/variables.js';
import { copy } from './store/copy.js';
import { fcRuns, jsonObject, jsonValue, prototypesIntact } from './test-support/fc.js';
import { draft } from './test-support/workflows.js';

const EVE = () => JSON.parse('{"__proto__":{"isAdmin":true},"name":"eve"}') as Record<string, unknown>;
const EVE_JSON = '{"__proto__":{"isAdmin":true},"name":"eve"}';

const ECHO = draft([
  { type: 'input', key: 'in', destinations: ['echo'] },
  { type: 'code', key: 'echo', code: '{ "input": input, "vars": $vars }' },
]);

describe('__proto__ keys (regressions)', () => {
  it('a run input keeps its "__proto__" field as data', async () => {
    // Before: run.input serialised as {"name":"eve"} and run.input.isAdmin was true.
    const run = await createEngine().run(ECHO, {
      input: EVE(),
      variables: [{ key: 'pw', value: 'hunter22', secret: true }],
    });
    expect(JSON.stringify(run.input)).toBe(EVE_JSON);
    expect((run.input as { isAdmin?: unknown }).isAdmin).toBeUndefined();
    expect(JSON.stringify((run.result as { input: unknown }).input)).toBe(EVE_JSON);
    expect(prototypesIntact(run)).toBe(true);
  });

  it('redact, the store copy, checkedCopy and setOwn keep the key', () => {
    for (const out of [redact(EVE(), ['secret']), copy(EVE()), checkedCopy(EVE(), 'x')]) {
      expect(JSON.stringify(out)).toBe(EVE_JSON);
      expect((out as { isAdmin?: unknown }).isAdmin).toBeUndefined();
    }
    const target: Record<string, unknown> = {};
    setOwn(target, '__proto__', { isAdmin: true });
    expect(Object.keys(target)).toEqual(['__proto__']);
    expect(Object.getPrototypeOf(target)).toBe(Object.prototype);
  });

  it('drafts and replays keep the key', async () => {
    const weft = createWeft();
    const app = weft.app('app');
    const workflow = await app.workflows.create({
      name: 'w',
      draft: { ...ECHO, input_default: EVE() } as never,
    });
    // Before: the stored draft lost the key.
    expect(JSON.stringify((await app.workflows.get(workflow.id)).draft.input_default)).toBe(EVE_JSON);
    const run = await app.runs.run(workflow.id, { version: 'draft', input: EVE() });
    expect(JSON.stringify((await app.runs.get(run.id)).input)).toBe(EVE_JSON);
    const replay = await app.runs.replay(run.id);
    expect(JSON.stringify(replay.input)).toBe(EVE_JSON);
    expect(prototypesIntact(await app.runs.get(replay.id))).toBe(true);
  });

  it('a step cannot be keyed "__proto__" (it vanished from run.output); "constructor" is plain data', async () => {
    const doc = draft([
      { type: 'code', key: '__proto__', code: '1', destinations: ['constructor'] },
      { type: 'code', key: 'constructor', code: '2' },
    ]);
    expect(() => createEngine().compile(doc)).toThrow(/"__proto__" is reserved/);
    const ok = draft([{ type: 'code', key: 'constructor', code: '2' }]);
    const run = await createEngine().run(ok);
    expect(Object.keys(run.output)).toEqual(['constructor']);
    expect(run.result).toBe(2);
  });

  it('a variable keyed "__proto__" is a variable, not the prototype of $vars', async () => {
    const run = await createEngine().run(draft([{ type: 'code', key: 'c', code: '$vars' }]), {
      variables: [{ key: '__proto__', value: { isAdmin: true } }],
    });
    expect(JSON.stringify(run.result)).toBe('{"__proto__":{"isAdmin":true}}');
    expect((run.result as { isAdmin?: unknown }).isAdmin).toBeUndefined();
  });

  it('an input field named "constructor" reads the input, never Object.prototype', async () => {
    const doc = draft([
      {
        type: 'input',
        key: 'in',
        input: {
          constructor: { type: 'string', optional: true },
          toString: { type: 'string', optional: true },
        },
      },
    ]);
    const run = await createEngine().run(doc, { input: {} });
    expect(run.output.in!.output).toEqual({ constructor: null, toString: null });
  });
});

describe('checkedCopy', () => {
  const code = (value: unknown) => {
    try {
      checkedCopy(value, 'input');
      return 'ok';
    } catch (error) {
      return error instanceof WeftError
        ? `${error.code} ${String(error.details?.path ?? '')}`
        : 'not a WeftError';
    }
  };

  it('names the first value that is not JSON data', () => {
    expect(code({ a: [1, { b: 1n }] })).toBe('INVALID_ARGUMENT input.a[1].b');
    expect(code({ a: Number.NaN })).toBe('INVALID_ARGUMENT input.a');
    expect(code({ a: new Map() })).toBe('INVALID_ARGUMENT input.a');
    expect(code({ f: () => 1 })).toBe('INVALID_ARGUMENT input.f');
    const shared = { x: 1 };
    expect(code({ a: shared, b: shared })).toBe('ok');
    let deep: unknown = 1;
    for (let i = 0; i < 300; i++) deep = [deep];
    expect(code(deep)).toBe('LIMIT_EXCEEDED input' + '[0]'.repeat(256));
    const proxy = new Proxy(
      {},
      {
        ownKeys() {
          throw new Error('trap');
        },
      },
    );
    expect(code(proxy)).toBe('INVALID_ARGUMENT ');
  });
});

describe('property: JSON with dangerous keys round-trips through runs, variables, drafts and the store', () => {
  it('engine runs: input, outputs and variables, with and without secrets', async () => {
    const engine = createEngine();
    await fc.assert(
      fc.asyncProperty(jsonObject, jsonValue, fc.boolean(), async (input, value, secret) => {
        const variables = [
          { key: 'v', value },
          // A secret makes every record go through redact's copy.
          ...(secret ? [{ key: 's', value: 'zz-not-in-data-zz', secret: true }] : []),
        ];
        const run = await engine.run(ECHO, { input, variables });
        expect(run.status).toBe('COMPLETED');
        expect(JSON.stringify(run.input)).toBe(JSON.stringify(input));
        const result = run.result as { input: unknown; vars: { v: unknown } };
        expect(JSON.stringify(result.input)).toBe(JSON.stringify(input));
        expect(JSON.stringify(result.vars.v)).toBe(JSON.stringify(value));
        expect(prototypesIntact(run)).toBe(true);
      }),
      { numRuns: fcRuns(150) },
    );
  });

  it('registry: drafts, stored runs and replays', async () => {
    const weft = createWeft();
    const app = weft.app('app');
    await fc.assert(
      fc.asyncProperty(jsonObject, jsonObject, async (defaults, input) => {
        const workflow = await app.workflows.create({
          name: 'w',
          draft: { ...ECHO, input_default: defaults } as never,
        });
        const stored = await app.workflows.get(workflow.id);
        expect(JSON.stringify(stored.draft.input_default)).toBe(JSON.stringify(defaults));
        const run = await app.runs.run(workflow.id, { version: 'draft', input });
        const again = await app.runs.get(run.id);
        expect(JSON.stringify(again.input)).toBe(JSON.stringify(run.input));
        expect(JSON.stringify(again.output)).toBe(JSON.stringify(run.output));
        const replay = await app.runs.replay(run.id, { from_step_key: 'echo' });
        expect(JSON.stringify(replay.input)).toBe(JSON.stringify(run.input));
        expect(prototypesIntact([stored, again, replay])).toBe(true);
      }),
      { numRuns: fcRuns(60) },
    );
  });
});
