/** In-process tests of the pure pieces: JSON errors, fixtures, graphs, the live frame, Ctrl-C handling. */
import pc from 'picocolors';
import { describe, expect, it, vi } from 'vitest';
import { EXIT } from '../src/errors.js';
import { lineColumn, locateJsonError } from '../src/files.js';
import { fixtureFetch, mergeFixtures, parseFixtures } from '../src/fixtures.js';
import { graphOf, statusesOf, toDot, toMermaid } from '../src/graph.js';
import { interruptHandler } from '../src/interrupt.js';
import { duration, short } from '../src/output.js';
import { RunView, renderFrame, visibleSteps } from '../src/progress.js';
import { humanValue, usageTotals } from '../src/summary.js';

const plain = pc.createColors(false);

describe('JSON errors', () => {
  it('locates the first error with 1-based line and column', () => {
    expect(locateJsonError('{"a": 1}')).toBeNull();
    expect(locateJsonError('{\n  "a": 1\n  "b": 2\n}')).toEqual({
      line: 3,
      column: 3,
      message: "expected ',' or a closing bracket",
    });
    expect(locateJsonError('[1, 2,]')).toMatchObject({ line: 1, column: 7, message: 'expected a value' });
    expect(locateJsonError('{"a": tru}')).toMatchObject({ line: 1, column: 7 });
    expect(locateJsonError('')).toMatchObject({
      line: 1,
      column: 1,
      message: 'the file is empty, expected a JSON value',
    });
    expect(locateJsonError('{"a": 1} // note')).toMatchObject({
      message: 'comments are not allowed in JSON',
    });
    expect(locateJsonError('{"a": "x')).toMatchObject({ message: 'unterminated string' });
  });

  it('converts offsets to lines and columns', () => {
    expect(lineColumn('ab\ncd', 0)).toEqual({ line: 1, column: 1 });
    expect(lineColumn('ab\ncd', 4)).toEqual({ line: 2, column: 2 });
  });
});

describe('fixtures', () => {
  it('splits the http answers from the scripted provider part, normalising keys', () => {
    const f = parseFixtures(
      {
        replies: { a: 'x' },
        http: { 'get https://Example.com/a': { body: { ok: 1 } }, 'https://example.com/b': { status: 404 } },
      },
      'f.json',
    );
    expect(f.scripted).toEqual({ replies: { a: 'x' } });
    expect([...f.http.keys()]).toEqual(['GET https://example.com/a', 'https://example.com/b']);
    expect(f.http.get('https://example.com/b')).toEqual({
      status: 404,
      headers: {},
      body: null,
      latency_ms: 0,
    });
  });

  it('rejects malformed http answers with the place', () => {
    expect(() => parseFixtures({ http: { 'https://x.test/': { code: 200 } } }, 'f.json')).toThrow(
      /unknown key "code"/,
    );
    expect(() => parseFixtures({ http: { 'https://x.test/': { status: 99 } } }, 'f.json')).toThrow(
      /HTTP status/,
    );
    expect(() => parseFixtures({ http: { '/relative': {} } }, 'f.json')).toThrow(/absolute url/);
    expect(() => parseFixtures([], 'f.json')).toThrow(/must be a JSON object/);
  });

  it('merges replies and http answers by key, other keys replaced', () => {
    const base = parseFixtures(
      { latency_ms: 500, replies: { a: 1, b: 2 }, http: { 'https://x.test/': { body: 'base' } } },
      'a',
    );
    const over = parseFixtures(
      { latency_ms: 0, replies: { b: 3 }, http: { 'https://x.test/': { body: 'over' } } },
      'b',
    );
    const merged = mergeFixtures(base, over);
    expect(merged.scripted).toEqual({ latency_ms: 0, replies: { a: 1, b: 3 } });
    expect(merged.http.get('https://x.test/')!.body).toBe('over');
  });

  it('answers matching requests from the fixtures and sends the others on', async () => {
    const fixtures = parseFixtures(
      {
        http: {
          'POST https://api.test/items': { status: 201, body: { id: 7 } },
          'https://api.test/text': { body: 'plain', headers: { 'x-test': '1' } },
        },
      },
      'f',
    );
    const fallback = vi.fn(async () => new Response('from the network'));
    const f = fixtureFetch(() => fixtures, fallback as unknown as typeof fetch);
    const created = await f('https://api.test/items', { method: 'POST', body: '{}' });
    expect(created.status).toBe(201);
    expect(created.statusText).toBe('Created');
    expect(created.headers.get('content-type')).toBe('application/json');
    expect(await created.json()).toEqual({ id: 7 });
    const text = await f(new URL('https://api.test/text'));
    expect(await text.text()).toBe('plain');
    expect(text.headers.get('x-test')).toBe('1');
    expect(fallback).not.toHaveBeenCalled();
    expect(await (await f('https://api.test/items')).text()).toBe('from the network'); // GET does not match POST
    expect(fallback).toHaveBeenCalledTimes(1);
  });

  it('honours the abort signal while waiting out a latency', async () => {
    const fixtures = parseFixtures({ http: { 'https://slow.test/': { latency_ms: 10_000 } } }, 'f');
    const controller = new AbortController();
    const pending = fixtureFetch(() => fixtures)('https://slow.test/', { signal: controller.signal });
    controller.abort(new Error('stop'));
    await expect(pending).rejects.toThrow('stop');
  });
});

describe('graphs', () => {
  const doc = {
    steps: [
      { type: 'note', key: 'n', note: 'ignored', destinations: ['a'] },
      { type: 'input', key: 'in', destinations: ['b'] },
      {
        type: 'branch',
        key: 'b',
        conditions: {
          late: { condition: 'true', destinations: ['y "quoted"'], order: 2 },
          early: { condition: 'true', destinations: ['x'], order: 1 },
        },
        else: ['z'],
        destinations: ['x'],
      },
      { type: 'code', key: 'x', code: '1', loop: '[1,2]' },
      { type: 'code', key: 'y "quoted"', code: '1', conditional: 'true' },
      { type: 'code', key: 'z', code: '1', destinations: ['nowhere'] },
    ],
  };

  it('keeps runnable steps, orders branch edges by `order`, drops edges to unknown steps', () => {
    const graph = graphOf(doc);
    expect(graph.nodes.map((n) => n.key)).toEqual(['in', 'b', 'x', 'y "quoted"', 'z']);
    expect(graph.edges).toEqual([
      { from: 'in', to: 'b', label: null },
      { from: 'b', to: 'x', label: 'early' },
      { from: 'b', to: 'y "quoted"', label: 'late' },
      { from: 'b', to: 'z', label: 'else' },
      { from: 'b', to: 'x', label: null },
    ]);
  });

  it('escapes labels in both formats', () => {
    const graph = graphOf(doc);
    expect(toMermaid(graph)).toContain('s3["y #quot;quoted#quot;<br/>code · ? conditional"]');
    expect(toMermaid(graph)).toContain('s2["x<br/>code · ↻ loop"]');
    const dot = toDot(graph, { x: 'FAILED' });
    expect(dot).toContain('"y \\"quoted\\"" [label="y \\"quoted\\"\\ncode · ? conditional"];');
    expect(dot).toContain(
      '"x" [label="x\\ncode · ↻ loop\\nFAILED", style="rounded,filled", fillcolor="#fee2e2", color="#dc2626"];',
    );
  });

  it('reads step statuses from a run', () => {
    expect(statusesOf({ output: { a: { status: 'COMPLETED' }, b: { status: 'SKIPPED' } } })).toEqual({
      a: 'COMPLETED',
      b: 'SKIPPED',
    });
    expect(statusesOf({ nope: 1 })).toBeNull();
  });
});

describe('Ctrl-C', () => {
  it('cancels on the first signal and exits with 130 on the second', () => {
    const calls: string[] = [];
    const handler = interruptHandler({
      cancel: (reason) => calls.push(`cancel: ${reason}`),
      note: (message) => calls.push(`note: ${message}`),
      exit: (code) => calls.push(`exit ${code}`),
    });
    handler('SIGINT');
    expect(calls).toEqual([
      'note: Cancelling… (press Ctrl-C again to exit now)',
      'cancel: Cancelled by Ctrl-C.',
    ]);
    handler('SIGINT');
    expect(calls.at(-1)).toBe(`exit ${EXIT.INTERRUPTED}`);
    expect(EXIT.INTERRUPTED).toBe(130);
  });
});

describe('the live frame', () => {
  it('shows one line per runnable step with status, loop counts and elapsed time', () => {
    const view = new RunView({
      steps: [
        { type: 'note', key: 'n' },
        { type: 'input', key: 'in' },
        { type: 'model', key: 'enrich', loop: 'input.items' },
        { type: 'code', key: 'out' },
      ],
    });
    const [input, enrich] = view.steps;
    input!.status = 'COMPLETED';
    input!.startedAt = 1000;
    input!.endedAt = 1012;
    enrich!.status = 'RUNNING';
    enrich!.startedAt = Date.now() - 1500;
    enrich!.loop = { count: 6, completed: 3, failed: 1, cancelled: 0 };
    const frame = renderFrame(view, plain, '⠋', false);
    const lines = frame.split('\n');
    expect(lines[0]).toMatch(/^✔ in\s+input\s+completed\s+12ms$/);
    expect(lines[1]).toMatch(/^⠋ enrich\s+model\s+running\s+1\.\ds {2}4\/6 items \(1 failed\)$/);
    expect(lines[2]).toMatch(/^· out\s+code\s+pending\s*$/);
    expect(lines.at(-1)).toMatch(/^⠋ 1\/3 steps settled · \d/);
    expect(renderFrame(view, plain, '⠋', true).split('\n')).toHaveLength(3);
  });
});

describe('a frame taller than the terminal', () => {
  it('folds the settled steps at the top and counts what still does not fit', () => {
    const steps = Array.from({ length: 30 }, (_, i) => ({ type: 'code', key: `s${i}` }));
    const view = new RunView({ steps });
    view.steps.forEach((s, i) => {
      s.status = i < 20 ? (i % 2 === 0 ? 'COMPLETED' : 'SKIPPED') : i < 22 ? 'RUNNING' : 'PENDING';
    });
    expect(visibleSteps(view.steps, 40)).toMatchObject({ folded: null, more: 0 });
    const { shown, folded, more } = visibleSteps(view.steps, 8);
    expect(folded).toEqual({ completed: 10, skipped: 10 });
    expect(shown.map((s) => s.key)).toEqual(['s20', 's21', 's22', 's23', 's24', 's25']);
    expect(more).toBe(4);
    const frame = renderFrame(view, plain, '⠋', false, '', 10).split('\n');
    expect(frame).toHaveLength(10);
    expect(frame[0]).toBe('✔ 10 completed · 10 skipped (folded)');
    expect(frame[7]).toBe('… 4 more');
    const tight = visibleSteps(view.steps, 5);
    expect(tight.shown.map((s) => s.key)).toEqual(['s20', 's21', 's22']);
    expect(tight.more).toBe(7);
    expect(renderFrame(view, plain, '⠋', true, '', 10).split('\n')).toHaveLength(30);
  });
});

describe('output helpers', () => {
  it('formats durations and short values', () => {
    expect(duration(850)).toBe('850ms');
    expect(duration(1250)).toBe('1.2s');
    expect(duration(125_000)).toBe('2m 5s');
    // Regression: the hand-written formatter rounded the seconds but not the minutes ("1m 60s").
    expect(duration(119_600)).toBe('1m 59s');
    expect(duration(59_999)).toBe('59.9s');
    expect(duration(3_725_000)).toBe('1h 2m 5s');
    expect(duration(0.4)).toBe('0ms');
    expect(duration(-1)).toBe('');
    expect(short('a\n  b', 10)).toBe('a b');
    expect(short({ a: 'x'.repeat(100) }, 12)).toBe('{"a":"xxxxx…');
  });

  it('prints an object result one field per line, multi-line strings indented', () => {
    expect(humanValue({ id: 'T-1', reply: 'Hi,\n\nThanks', n: [1, 2] }, plain)).toBe(
      '  id     T-1\n  reply  Hi,\n\n         Thanks\n  n      [1,2]',
    );
    expect(humanValue(42, plain)).toBe('  42');
  });

  it('counts model calls and tokens through nested sub-workflow calls', () => {
    expect(
      usageTotals([
        { id: '1', total: 0, input_tokens: 10, output_tokens: 5 },
        { id: '2', total: 0, calls: [{ id: '3', total: 0, input_tokens: 1, output_tokens: 1 }] },
      ]),
    ).toEqual({ calls: 2, tokens: 17 });
  });
});
