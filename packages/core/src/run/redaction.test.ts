/**
 * Issue 11, item 5: a secret never leaves the engine — not as itself, JSON-escaped, URL-encoded, as a
 * lowercased host, in base64, split across streamed deltas, cut by a truncation, as a number or an object
 * leaf, nor through a sub-workflow run.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { describeValue, invalidArgument, WeftError } from '../errors.js';
import { WEFT_EVENT_NAMES } from '../events/events.js';
import type { Provider } from '../providers/provider.js';
import type { StepContext } from '../steps/types.js';
import { fcRuns } from '../test-support/fc.js';
import { draft } from '../test-support/workflows.js';
import { createEngine } from './engine.js';
import type { EngineOptions } from './options.js';
import { compileSecrets, DeltaRedactor, SECRET_PLACEHOLDER } from './redaction.js';
import type { Run } from './types.js';
import { redact, resolveVariables } from './variables.js';

const jsonEscaped = (text: string) => JSON.stringify(text).slice(1, -1);

/** Every way `secret` could show in serialised output (and, checked by the caller, prefixes of ≥ 8). */
function leaks(serialised: string, secret: string): string[] {
  const found: string[] = [];
  const lower = serialised.toLowerCase();
  const forms: Array<[string, string, boolean]> = [
    ['raw', jsonEscaped(secret), true],
    ['json-escaped', jsonEscaped(jsonEscaped(secret)), true],
    ['url-encoded', jsonEscaped(encodeURIComponent(secret)), true],
    ['base64', jsonEscaped(Buffer.from(secret).toString('base64')), false],
  ];
  for (const [name, form, caseless] of forms) {
    if (caseless ? lower.includes(form.toLowerCase()) : serialised.includes(form)) found.push(name);
  }
  for (let n = 8; n < secret.length; n++) {
    const at = serialised.indexOf(jsonEscaped(secret.slice(0, n)));
    if (at >= 0) {
      found.push(`prefix of ${n} in …${serialised.slice(Math.max(0, at - 80), at + 40)}…`);
      break;
    }
  }
  return found;
}

/** Runs `doc` collecting every event; returns the serialised run and events. */
async function observe(
  options: EngineOptions,
  doc: unknown,
  start: Parameters<ReturnType<typeof createEngine>['run']>[1],
) {
  const engine = createEngine(options);
  const events: string[] = [];
  for (const name of WEFT_EVENT_NAMES) engine.on(name, (e) => events.push(JSON.stringify({ name, ...e })));
  const run = await engine.run(doc, start);
  return { run, text: `${JSON.stringify(run)}\n${events.join('\n')}` };
}

describe('redaction (regressions)', () => {
  it('non-string secrets: a number and the string leaves of an object', async () => {
    const doc = draft([
      {
        type: 'code',
        key: 'c',
        code: '{ "pin": $vars.pin, "token": $vars.cred.token, "s": $string($vars.pin) }',
      },
    ]);
    const { run, text } = await observe({}, doc, {
      variables: [
        { key: 'pin', value: 98765432, secret: true },
        { key: 'cred', value: { token: 'tok-abcdef-123' }, secret: true },
      ],
    });
    // Before: both came out verbatim.
    expect(run.result).toEqual({ pin: SECRET_PLACEHOLDER, token: SECRET_PLACEHOLDER, s: SECRET_PLACEHOLDER });
    expect(text).not.toContain('98765432');
    expect(text).not.toContain('tok-abcdef-123');
  });

  it('escaped forms: JSON-escaped, URL-encoded, base64, lowercased', async () => {
    const pw = 'pa"ss\\wOrd/?x';
    const doc = draft([
      {
        type: 'code',
        key: 'c',
        code: '[$string({"p": $vars.pw}), $encodeUrlComponent($vars.pw), $base64encode($vars.pw), $lowercase($vars.pw), $uppercase($vars.pw)]',
      },
    ]);
    const { run, text } = await observe({}, doc, { variables: [{ key: 'pw', value: pw, secret: true }] });
    expect(run.result).toEqual([`{"p":"${SECRET_PLACEHOLDER}"}`, ...new Array(4).fill(SECRET_PLACEHOLDER)]);
    expect(leaks(text, pw)).toEqual([]);
  });

  it('streamed deltas: a secret split across chunks never shows in model.delta events', async () => {
    const secret = 'sk-live-SUPERSECRET';
    const provider: Provider = {
      name: 'p',
      async complete(request) {
        for (const chunk of ['Your key: sk-li', 've-SUPER', 'SECRET', ' — done']) request.onDelta?.(chunk);
        return {
          message: `Your key: ${secret} — done`,
          raw: null,
          usage: { input_tokens: 1, output_tokens: 1 },
        };
      },
    };
    const doc = draft([
      {
        type: 'model',
        key: 'm',
        provider: { provider: 'p', model: 'x', messages: [{ role: 'user', content: 'hi' }] },
      },
    ]);
    const engine = createEngine({ providers: [provider] });
    const deltas: string[] = [];
    const handle = engine.start(doc, { variables: [{ key: 'k', value: secret, secret: true }] });
    handle.on('model.delta', (e) => deltas.push(e.delta));
    const run = await handle.done;
    // Before: the events spelled the secret across three deltas though the output was redacted.
    expect(deltas.join('')).toBe(`Your key: ${SECRET_PLACEHOLDER} — done`);
    expect(deltas.some((d) => d.includes('SUPER'))).toBe(false);
    expect(JSON.stringify(run)).not.toContain('SUPERSECRET');
  });

  it('truncation: a secret cut by a truncation leaves no prefix', async () => {
    const secret = 'sk-live-0123456789abcdef';
    const steps = {
      // A thrown non-Error is cut at 500 characters; describeValue at 40.
      object: () => {
        throw { body: `${'x'.repeat(480)}${secret}` };
      },
      describe: () => {
        throw invalidArgument('key', 'a number', `${secret}${secret}`);
      },
    };
    const doc = draft([
      { type: 'object', key: 'a', throw_on_error: false },
      { type: 'describe', key: 'b', throw_on_error: false },
    ]);
    const { text } = await observe({ steps }, doc, {
      variables: [{ key: 'k', value: secret, secret: true }],
    });
    expect(describeValue(`${secret}${secret}`)).toContain('sk-live-0123456789abcdefsk-live-01234567…');
    expect(leaks(text, secret)).toEqual([]);
  });

  it('URL rewriting: a secret in an http_request host (lowercased) or path (percent-encoded)', async () => {
    const secret = 'Tok En?x';
    const host = 'MySecretHost';
    const fetch = (async () => {
      throw new TypeError('fetch failed', { cause: { code: 'ECONNREFUSED' } });
    }) as typeof globalThis.fetch;
    const doc = draft([
      {
        type: 'http_request',
        key: 'h',
        url: 'https://{{$vars.host}}.example.com/a/{{$vars.path}}',
        throw_on_error: false,
      },
    ]);
    const { run, text } = await observe({ http: { fetch } }, doc, {
      variables: [
        { key: 'host', value: host, secret: true },
        { key: 'path', value: secret, secret: true },
      ],
    });
    expect(run.output.h!.error!.message).toContain(SECRET_PLACEHOLDER);
    expect(text.toLowerCase()).not.toContain('mysecrethost');
    expect(text).not.toContain(encodeURIComponent('Tok En'));
    expect(text).not.toContain('Tok%20En');
  });

  it('sub-workflows: the child run records no secret of its parent', async () => {
    const child = draft([{ type: 'code', key: 'echo', code: '{ "got": input.key }' }]);
    const doc = draft([
      { type: 'workflow', key: 'sub', workflow_id: 'child', input: { key: '{{$vars.key}}' } },
    ]);
    const runs: Run[] = [];
    const engine = createEngine({
      workflows: { resolve: () => ({ document: child, workflow_id: 'child' }) },
    });
    engine.on('run.completed', (e) => runs.push(e.run));
    const run = await engine.run(doc, {
      variables: [{ key: 'key', value: 'sk-child-secret-1', secret: true }],
    });
    expect(run.status).toBe('COMPLETED');
    expect(runs).toHaveLength(2);
    // Before: the child's input and output held the secret in plain text.
    expect(JSON.stringify(runs)).not.toContain('sk-child-secret-1');
  });
});

describe('DeltaRedactor and the matcher', () => {
  it('holds back a possible start of a secret until it knows', () => {
    const out: string[] = [];
    const r = new DeltaRedactor(['abcdef'], (t) => out.push(t));
    r.push('xxab');
    r.push('c');
    expect(out).toEqual(['xx']);
    r.push('dzz');
    r.flush();
    expect(out.join('')).toBe('xxabcdzz');
    const out2: string[] = [];
    const r2 = new DeltaRedactor(['abcdef'], (t) => out2.push(t));
    for (const ch of 'zabcdefz') r2.push(ch);
    r2.flush();
    expect(out2.join('')).toBe(`z${SECRET_PLACEHOLDER}z`);
  });

  it('redacts prefixes before an ellipsis or at the end only', () => {
    const m = compileSecrets(['0123456789abc']);
    expect(m.text('see 01234567…')).toBe(`see ${SECRET_PLACEHOLDER}…`);
    expect(m.text('ends with 012345678')).toBe(`ends with ${SECRET_PLACEHOLDER}`);
    expect(m.text('01234567 in the middle')).toBe('01234567 in the middle');
    expect(m.text('0123456…')).toBe('0123456…');
  });

  it('expands non-string secrets', () => {
    expect(
      resolveVariables([{ key: 'o', value: { a: 'leaf-1', b: [12345, 'x'] }, secret: true }]).secrets,
    ).toEqual(['{"a":"leaf-1","b":[12345,"x"]}', 'leaf-1', '12345']);
    expect(redact({ n: 12345, m: 99, s: 'has 12345' }, ['12345'])).toEqual({
      n: SECRET_PLACEHOLDER,
      m: 99,
      s: `has ${SECRET_PLACEHOLDER}`,
    });
  });
});

// ── the property ─────────────────────────────────────────────────────────────────────────────────

const secretString = fc.string({
  minLength: 4,
  maxLength: 24,
  unit: fc.oneof(
    { weight: 6, arbitrary: fc.constantFrom(...'abcdefghijKLMNOPQRstuvwxyz0123456789') },
    {
      weight: 2,
      arbitrary: fc.constantFrom('"', '\\', '/', '?', '%', ' ', '&', '=', '+', '#', ':', '.', '-', '\n'),
    },
    { weight: 1, arbitrary: fc.constantFrom('é', 'Ω', '😀', '…') },
  ),
});
const secretValue = fc.oneof(
  secretString,
  fc.integer({ min: 10_000, max: 2_147_483_647 }),
  fc.record({ token: secretString, n: fc.integer({ min: 10_000, max: 99_999_999 }) }),
);

/** The strings a test must not find: each secret string (an object's leaves; a number's digits). */
function secretTexts(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (typeof value === 'number') return [String(value)];
  const o = value as { token: string; n: number };
  return [o.token, String(o.n)];
}

/** A document that routes `$vars.s` through every step type, every failure path and every encoding. */
function leakyDocument() {
  return draft([
    { type: 'input', key: 'in', destinations: ['echo', 'leak', 'http', 'model', 'sub', 'bad_code'] },
    {
      type: 'code',
      key: 'echo',
      code:
        '{ "raw": $vars.s, "text": $string($vars.s), "json": $string({"p": $vars.s}), ' +
        '"url": $encodeUrlComponent($string($vars.s)), "lower": $lowercase($string($vars.s)), ' +
        '"upper": $uppercase($string($vars.s)), "b64": $base64encode($string($vars.s)) }',
    },
    { type: 'leak', key: 'leak', throw_on_error: false },
    {
      type: 'http_request',
      key: 'http',
      url: 'https://h.example.com/x/{{$string($vars.s)}}',
      throw_on_error: false,
    },
    {
      type: 'model',
      key: 'model',
      throw_on_error: false,
      provider: {
        provider: 'p',
        model: 'x',
        response_format: 'json',
        messages: [{ role: 'user', content: '{{$string($vars.s)}}' }],
      },
    },
    {
      type: 'workflow',
      key: 'sub',
      workflow_id: 'child',
      input: { v: '{{$string($vars.s)}}' },
      throw_on_error: false,
    },
    {
      type: 'code',
      key: 'bad_code',
      code: '$number($string($vars.s)) + $error($string($vars.s))',
      throw_on_error: false,
    },
  ]);
}

const CHILD = draft([{ type: 'code', key: 'echo', code: '{ "v": input.v, "again": input.v & "!" }' }]);

function leakyEngine(cuts: number[]): EngineOptions {
  const text = (ctx: StepContext) => {
    const v = ctx.vars.s;
    return typeof v === 'string' ? v : JSON.stringify(v);
  };
  const provider: Provider = {
    name: 'p',
    async complete(request) {
      const s = String(request.messages[0]!.content);
      const reply = `${'r'.repeat(10_000 - Math.floor(s.length / 2))}${s} not json`;
      let at = 9_990 - Math.floor(s.length / 2);
      request.onDelta?.(reply.slice(0, at));
      for (const cut of cuts) {
        const next = Math.min(reply.length, at + 1 + (cut % 7));
        request.onDelta?.(reply.slice(at, next));
        at = next;
      }
      request.onDelta?.(reply.slice(at));
      return { message: reply, raw: { reply }, usage: { input_tokens: 1, output_tokens: 1 } };
    },
  };
  return {
    ids: (() => {
      let n = 0;
      return () => `run-${++n}`;
    })(),
    clock: { now: () => 0 },
    providers: [provider],
    workflows: { resolve: () => ({ document: CHILD, workflow_id: 'child' }) },
    http: {
      fetch: (async (url: URL) => {
        throw new TypeError(`fetch failed for ${String(url)}`);
      }) as unknown as typeof globalThis.fetch,
    },
    steps: {
      leak: (ctx) => {
        const s = text(ctx);
        ctx.log('info', `the key is ${s}`, { s, pieces: [s.slice(0, 3), s] });
        ctx.usage.record({ id: 'u', total: 0, note: s });
        ctx.emit('model.delta', { delta: `${s.slice(0, 2)}` });
        ctx.emit('model.delta', { delta: `${s.slice(2)} end` });
        // A thrown non-Error is cut at 500 characters, right through the secret.
        throw { body: `${'x'.repeat(500 - Math.floor(s.length / 2))}${s}` };
      },
    },
  };
}

describe('property: no secret leaves the engine', () => {
  it('random secrets through every step type and failure path', async () => {
    const baseline = (
      await observe(leakyEngine([]), leakyDocument(), { variables: [{ key: 's', value: 'Z' }] })
    ).text;
    await fc.assert(
      fc.asyncProperty(secretValue, fc.array(fc.nat(), { maxLength: 6 }), async (value, cuts) => {
        const texts = secretTexts(value);
        // A secret that the run prints anyway (a word of a message, a digit run of a date) proves nothing.
        fc.pre(texts.every((t) => !baseline.toLowerCase().includes(jsonEscaped(t).toLowerCase())));
        const { run, text } = await observe(leakyEngine(cuts), leakyDocument(), {
          variables: [{ key: 's', value, secret: true }],
        });
        expect(run.output.echo!.status).toBe('COMPLETED');
        expect(run.output.leak!.status).toBe('FAILED');
        expect(run.output.sub!.status, JSON.stringify(run.output.sub!.error)).toBe('COMPLETED');
        for (const t of texts) expect(leaks(text, t), `${JSON.stringify(t)} leaked`).toEqual([]);
      }),
      {
        numRuns: fcRuns(60),
        examples: [
          ['d"aaaé', []],
          ['.aaaaa%a?', []],
        ],
      },
    );
  });
});

describe('errors', () => {
  it('describeValue still quotes 40 characters', () => {
    expect(describeValue('x'.repeat(50))).toBe(`a string "${'x'.repeat(40)}…"`);
    expect(new WeftError('X', 'y')).toBeInstanceOf(Error);
  });
});

describe('DeltaRedactor: overlapping and repeated secrets', () => {
  it('never lets a secret through across deltas, however the stream is split', () => {
    fc.assert(
      fc.property(
        fc.constantFrom('aa', 'abab', 'sk-live-SUPERSECRET', 'Tok"en', 'xyzxyzx'),
        fc.string({ unit: fc.constantFrom('a', 'b', 'x', 'y', 'z', 's', 'k', '-', ' '), maxLength: 30 }),
        fc.array(fc.nat(40), { maxLength: 8 }),
        (secret, noise, cuts) => {
          const stream = `${noise.slice(0, 10)}${secret}${noise.slice(10)}${secret.slice(0, 3)}${secret}`;
          const points = [...new Set(cuts.map((c) => c % (stream.length + 1)))].sort((a, b) => a - b);
          const out: string[] = [];
          const r = new DeltaRedactor([secret], (t) => out.push(t));
          let last = 0;
          for (const p of [...points, stream.length]) {
            r.push(stream.slice(last, p));
            last = p;
          }
          r.flush();
          const joined = out.join('');
          expect(joined.toLowerCase()).not.toContain(secret.toLowerCase());
          // Nothing but the secrets is lost: without them the stream reads the same.
          expect(joined.split(SECRET_PLACEHOLDER).join('').length).toBeLessThanOrEqual(stream.length);
        },
      ),
      { numRuns: fcRuns(300) },
    );
  });

  it('catches a long secret (a 1,000-character key) streamed one character at a time', () => {
    const secret = `-----BEGIN KEY-----${'Q'.repeat(1_000)}-----END KEY-----`;
    const out: string[] = [];
    const r = new DeltaRedactor([secret], (t) => out.push(t));
    for (const ch of `key: ${secret} done`) r.push(ch);
    r.flush();
    expect(out.join('')).toBe(`key: ${SECRET_PLACEHOLDER} done`);
  });
});
