/** JavaScript documents (docs/semantics.md, "JavaScript"): one example test per rule. */
import { describe, expect, it } from 'vitest';
import { createWeft } from '../registry/weft.js';
import { createEngine } from '../run/engine.js';
import { isBindableName, parseJavaScript } from './javascript.js';

const js = (steps: unknown[], extra: Record<string, unknown> = {}) => ({
  language: 'javascript',
  steps,
  ...extra,
});
const start = (destinations: string[]) => ({ type: 'input', key: 'start', destinations });
const code = (key: string, body: string, more: Record<string, unknown> = {}) => ({
  type: 'code',
  key,
  code: body,
  ...more,
});

describe('JavaScript: the platform way', () => {
  it('runs a document written the platform way: conditional, loop over input.items[index], code with map and { result }', async () => {
    const run = await createEngine().run(
      js([
        start(['MODEL']),
        code('MODEL', 'return { message: item.toUpperCase() };', {
          loop: 'return input.items[index];',
          destinations: ['CHECK'],
        }),
        code('CHECK', 'const r = MODEL.output.map(x => x.message); return { result: r };', {
          conditional: "return input.document_type === 'pdf';",
        }),
      ]),
      { input: { items: ['a', 'b', 'c'], document_type: 'pdf' } },
    );
    expect(run.status).toBe('COMPLETED');
    expect(run.result).toEqual(['A', 'B', 'C']);
    expect(run.output.MODEL!.output).toEqual([{ message: 'A' }, { message: 'B' }, { message: 'C' }]);
  });

  it('the engine default and createWeft({ language }) apply to documents that do not say', async () => {
    const doc = { steps: [code('a', 'return 1 + 1;')] };
    expect((await createEngine({ language: 'javascript' }).run(doc)).result).toBe(2);
    // The default is JSONata: the validator says the text looks like JavaScript and names the fix.
    await expect(createEngine().run(doc)).rejects.toThrow(/looks like JavaScript.*"language": "javascript"/);
    const weft = createWeft({ language: 'javascript' });
    expect(weft.engine.language).toBe('javascript');
    // The document's own language wins over the engine's.
    expect(
      (
        await createEngine({ language: 'javascript' }).run({
          language: 'jsonata',
          steps: [code('a', '1 + 1')],
        })
      ).result,
    ).toBe(2);
    expect(() => createEngine({ language: 'python' as never })).toThrow(/language/);
  });

  it("a code step's own language overrides the document's for its code", async () => {
    const run = await createEngine().run({
      steps: [
        code('a', '{ "n": 2 }', { destinations: ['b'] }),
        code('b', 'return a.output.n * 10;', { language: 'javascript' }),
      ],
    });
    expect(run.result).toBe(20);
  });

  it('bindings: input, each step key, steps[KEY], vars, run, item and index', async () => {
    const run = await createEngine({ variables: [{ key: 'REGION', value: 'eu' }] }).run(
      js([
        start(['first-step']),
        code('first-step', 'return { n: 1 };', { destinations: ['loop'] }),
        code(
          'loop',
          "return { i: index, item, region: vars.REGION, origin: run.origin, n: steps['first-step'].output.n, st: steps.start.status, input: input.x };",
          { loop: "return index < 2 ? 'e' + index : null;" },
        ),
      ]),
      { input: { x: 'X' } },
    );
    expect(run.status).toBe('COMPLETED');
    expect(run.result).toEqual([
      { i: 0, item: 'e0', region: 'eu', origin: 'WORKFLOW', n: 1, st: 'COMPLETED', input: 'X' },
      { i: 1, item: 'e1', region: 'eu', origin: 'WORKFLOW', n: 1, st: 'COMPLETED', input: 'X' },
    ]);
    expect(isBindableName('first-step')).toBe(false);
    expect(isBindableName('MODEL_1')).toBe(true);
    expect(isBindableName('class')).toBe(false);
  });

  it('a body may declare a name that is also a step key', async () => {
    const run = await createEngine().run(
      js([code('a', 'return 1;', { destinations: ['b'] }), code('b', 'const a = 5; return a;')]),
    );
    expect(run.result).toBe(5);
  });

  it('loops end on null, undefined or false; the loop expression sees the previous element as item', async () => {
    for (const end of ['null', 'undefined', 'false']) {
      const run = await createEngine().run(
        js([code('l', 'return item;', { loop: `return index < 3 ? index + 1 : ${end};` })]),
      );
      expect(run.result, end).toEqual([1, 2, 3]);
    }
    const linked = await createEngine().run(
      js([code('l', 'return item.v;', { loop: 'return index === 0 ? input.head : item.next;' })]),
      { input: { head: { v: 1, next: { v: 2, next: null } } } },
    );
    expect(linked.result).toEqual([1, 2]);
    // Returning the whole array every time never ends: bounded by maxLoopIterations.
    const forever = await createEngine({ limits: { maxLoopIterations: 5 } }).run(
      js([code('l', 'return item;', { loop: 'return input.items;' })]),
      { input: { items: [1] } },
    );
    expect(forever.output.l!.error!.code).toBe('LOOP_LIMIT');
  });

  it('conditionals and branch conditions must return a boolean', async () => {
    const run = await createEngine().run(js([code('a', 'return 1;', { conditional: 'return 1;' })]));
    expect(run.status).toBe('FAILED');
    expect(run.output.a!.error).toMatchObject({ code: 'EXPRESSION_ERROR' });
    expect(run.output.a!.error!.message).toContain("return x === 'yes';");
    const noReturn = await createEngine().run(js([code('a', 'return 1;', { conditional: 'input.x === 1' })]));
    expect(noReturn.output.a!.error!.message).toMatch(/true or false, got undefined/);
    const branch = await createEngine().run(
      js([
        {
          type: 'branch',
          key: 'b',
          conditions: {
            big: { condition: 'return input.n > 10;', destinations: ['x'], order: 1 },
            bad: { condition: "return 'yes';", destinations: ['y'], order: 2 },
          },
        },
        code('x', 'return "big";'),
        code('y', 'return "y";'),
      ]),
      { input: { n: 20 } },
    );
    expect(branch.output.b!.output).toEqual({ selected: 'big' });
    const failing = await createEngine().run(
      js([
        {
          type: 'branch',
          key: 'b',
          conditions: { bad: { condition: "return 'yes';", destinations: ['y'], order: 1 } },
        },
        code('y', 'return "y";'),
      ]),
    );
    expect(failing.output.b!.error).toMatchObject({ code: 'EXPRESSION_ERROR' });
  });

  it('the code step returns its output; undefined becomes null', async () => {
    const run = await createEngine().run(js([code('a', 'const x = 1;')]));
    expect(run.output.a!.output).toBeNull();
  });

  it('values cross as JSON: NaN → null, Date → ISO string, functions dropped, cycles and BigInt fail', async () => {
    const run = await createEngine().run(
      js([
        code(
          'a',
          'return { nan: NaN, inf: Infinity, d: new Date(0), f() {}, u: undefined, arr: [undefined, () => 1] };',
        ),
      ]),
    );
    expect(run.result).toEqual({ nan: null, inf: null, d: '1970-01-01T00:00:00.000Z', arr: [null, null] });
    const cycle = await createEngine().run(js([code('a', 'const o = {}; o.self = o; return o;')]));
    expect(cycle.output.a!.error).toMatchObject({ code: 'EXPRESSION_ERROR' });
    expect(cycle.output.a!.error!.message).toMatch(/as JSON/);
    const big = await createEngine().run(js([code('a', 'return 10n;')]));
    expect(big.output.a!.error).toMatchObject({ code: 'EXPRESSION_ERROR' });
  });

  it('an unguarded access to a skipped step fails that step with EXPRESSION_ERROR naming the field; ?. guards it', async () => {
    const doc = (body: string) =>
      js([
        start(['B', 'C']),
        // B → C: a step skipped by its conditional still leads on (rule 2), so C reads B once it settled.
        code('B', 'return { x: 1 };', { conditional: 'return false;', destinations: ['C'] }),
        code('C', body, { destinations: [] }),
      ]);
    const guarded = await createEngine().run(doc('return B.output?.x ?? "none";'));
    expect(guarded.output.C!.output).toBe('none');
    const unguarded = await createEngine().run(doc('return B.output.x;'));
    expect(unguarded.output.C!.status).toBe('FAILED');
    expect(unguarded.output.C!.error).toMatchObject({
      code: 'EXPRESSION_ERROR',
      step_key: 'C',
      details: { field: 'code', line: 1 },
    });
    expect(unguarded.output.C!.error!.message).toMatch(/`code` of step "C".*TypeError.*B\.output\?\.|guard/s);
    expect(unguarded.status).toBe('FAILED');
  });

  it('console.log goes to the step logs, capped; a retried or re-run evaluation keeps only its own lines', async () => {
    const run = await createEngine({ limits: { expression: { maxLogEntries: 3, maxLogChars: 10 } } }).run(
      js([
        code(
          'a',
          'console.log("hello", { n: 1 }, [2]); console.warn("careful"); console.error("x".repeat(50)); console.log("dropped"); console.log("dropped too"); return 1;',
        ),
      ]),
    );
    const logs = run.output.a!.logs.map((l) => [l.level, l.message]);
    expect(logs).toEqual([
      ['info', 'hello {"n"…'],
      ['warn', 'careful'],
      ['error', 'xxxxxxxxxx…'],
      ['warn', '2 more console lines were dropped (limits.expression.maxLogEntries).'],
    ]);
  });

  it('secrets are redacted from console lines and errors, as with JSONata', async () => {
    const run = await createEngine({
      variables: [{ key: 'TOKEN', value: 'sk-secret-123', secret: true }],
    }).run(js([code('a', 'console.log("token", vars.TOKEN); throw new Error("bad " + vars.TOKEN);')]));
    const text = JSON.stringify(run);
    expect(text).not.toContain('sk-secret-123');
    expect(run.output.a!.logs[0]!.message).toContain('token');
    expect(run.output.a!.error!.code).toBe('EXPRESSION_ERROR');
  });

  it('sandbox escapes find nothing: require, process, globalThis, the Function constructor, import()', async () => {
    for (const body of [
      "return this.constructor.constructor('return process')();",
      "return [].constructor.constructor('return process')().env;",
      'return require("fs");',
      'return globalThis.process.exit(1);',
      'return typeof setTimeout === "undefined" ? missing.x : 1;',
      'return fetch("http://127.0.0.1/");',
    ]) {
      const run = await createEngine().run(js([code('a', body)]));
      expect(run.output.a!.error, body).toMatchObject({ code: 'EXPRESSION_ERROR' });
    }
    // import() is refused by the validator (there are no modules), await is a syntax error (synchronous).
    await expect(createEngine().run(js([code('a', 'return import("fs");')]))).rejects.toThrow(/import\(\)/);
    await expect(createEngine().run(js([code('a', 'return await 1;')]))).rejects.toThrow(/syntax error/);
  });

  it('an evaluation leaves nothing behind for the next one: intrinsics and globals are frozen', async () => {
    const engine = createEngine();
    const polluted = await engine.run(js([code('a', 'Array.prototype.evil = 1; return 1;')]));
    expect(polluted.output.a!.error).toMatchObject({ code: 'EXPRESSION_ERROR' });
    const global = await engine.run(js([code('a', 'globalThis.leak = 1; return 1;')]));
    expect(global.output.a!.error).toMatchObject({ code: 'EXPRESSION_ERROR' });
    const next = await engine.run(js([code('a', 'return [typeof [].evil, typeof globalThis.leak];')]));
    expect(next.result).toEqual(['undefined', 'undefined']);
  });

  it('Date and Math.random are available', async () => {
    const run = await createEngine().run(
      js([code('a', 'const r = Math.random(); return r >= 0 && r < 1 && Date.now() > 0;')]),
    );
    expect(run.result).toBe(true);
  });
});

describe('parseJavaScript', () => {
  it('reports syntax errors with line and column, never evaluates', () => {
    const bad = parseJavaScript('const a = 1;\nreturn a +;');
    expect(bad).toMatchObject({ ok: false, error: { line: 2, column: 11 } });
    expect(parseJavaScript('while (true) {}')).toMatchObject({ ok: true, returns: false });
    expect(parseJavaScript('return 1;')).toMatchObject({ ok: true, returns: true });
    expect(parseJavaScript('const f = () => { return 1; };')).toMatchObject({ ok: true, returns: false });
    // A body cannot close the function it is wrapped in.
    expect(parseJavaScript('}); while (true) {} (function () {').ok).toBe(false);
    expect(parseJavaScript('('.repeat(100_000)).ok).toBe(false);
  });
});
