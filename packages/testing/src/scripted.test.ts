import { ERROR_CODES, type ModelRequest, WeftError } from '@weft/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { scriptedProvider } from './index.js';
import { type ScriptedRequest, scriptedError, sequence } from './reply.js';
import { snapshot } from './scripted.js';

function request(extra: Partial<ModelRequest> = {}): ModelRequest {
  return {
    provider: 'scripted',
    model: 'gpt-4o-mini',
    messages: [
      { role: 'system', content: 'Be brief.' },
      { role: 'user', content: 'Summarise   the\nreport please' },
    ],
    response_format: 'text',
    signal: new AbortController().signal,
    step_key: 'summary',
    ...extra,
  };
}

describe('scriptedProvider: matching', () => {
  it('answers by step key first, then matcher, then model, then default', async () => {
    const p = scriptedProvider({
      replies: { summary: 'by step' },
      match: [{ when: (r) => r.step_key === 'classify', reply: 'by matcher' }],
      models: { 'gpt-4o-mini': 'by model' },
      default: 'by default',
    });
    expect((await p.complete(request())).message).toBe('by step');
    expect((await p.complete(request({ step_key: 'classify' }))).message).toBe('by matcher');
    expect((await p.complete(request({ step_key: 'other' }))).message).toBe('by model');
    expect((await p.complete(request({ step_key: 'other', model: 'x' }))).message).toBe('by default');
    const sources = [];
    for (const r of [
      request(),
      request({ step_key: 'classify' }),
      request({ step_key: 'o' }),
      request({ step_key: 'o', model: 'x' }),
    ]) {
      sources.push(((await p.complete(r)).raw as { source: string }).source);
    }
    expect(sources).toEqual(['replies', 'match', 'models', 'default']);
  });

  it('tries matchers in order and skips those that do not match', async () => {
    const p = scriptedProvider({
      match: [
        { when: (r) => r.response_format === 'json', reply: { kind: 'json' } },
        { when: (r) => (r.index ?? -1) >= 0, reply: (r) => `item ${r.index}` },
        { when: () => true, reply: 'catch-all' },
      ],
    });
    expect((await p.complete(request({ response_format: 'json', index: 1 }))).message).toBe(
      '{"kind":"json"}',
    );
    expect((await p.complete(request({ index: 2 }))).message).toBe('item 2');
    expect((await p.complete(request())).message).toBe('catch-all');
  });

  it('defaults to a deterministic echo of the last user message (JSON for json requests)', async () => {
    const p = scriptedProvider();
    expect(p.name).toBe('scripted');
    const text = await p.complete(request());
    expect(text.message).toBe('echo: Summarise the report please');
    expect((text.raw as { source: string }).source).toBe('echo');
    const json = await p.complete(request({ response_format: 'json' }));
    expect(JSON.parse(json.message)).toEqual({ echo: 'Summarise the report please' });
    const long = await p.complete(request({ messages: [{ role: 'user', content: 'x'.repeat(500) }] }));
    expect(long.message).toBe(`echo: ${'x'.repeat(60)}`);
    const none = await p.complete(request({ messages: [{ role: 'system', content: 'only system' }] }));
    expect(none.message).toBe('echo: ');
  });

  it('reads text parts of array content', async () => {
    const p = scriptedProvider();
    const r = await p.complete(
      request({
        messages: [{ role: 'user', content: [{ type: 'text', text: 'part one' } as { type: string }] }],
      }),
    );
    expect(r.message).toBe('echo: part one');
  });
});

describe('scriptedProvider: reply kinds', () => {
  it('JSON-stringifies object, array, number and null replies', async () => {
    const p = scriptedProvider({
      replies: { a: { score: 0.9, tags: ['x'] }, b: [1, 2], c: 42, d: null, e: true },
    });
    const ask = async (step_key: string) =>
      (await p.complete(request({ step_key, response_format: 'json' }))).message;
    expect(await ask('a')).toBe('{"score":0.9,"tags":["x"]}');
    expect(await ask('b')).toBe('[1,2]');
    expect(await ask('c')).toBe('42');
    expect(await ask('d')).toBe('null');
    expect(await ask('e')).toBe('true');
  });

  it('calls reply functions with the request (sync or async, nested)', async () => {
    const p = scriptedProvider({
      replies: {
        sync: (r) => `model=${r.model}`,
        async: async (r) => ({ step: r.step_key }),
        nested: () => () => 'deep',
      },
    });
    expect((await p.complete(request({ step_key: 'sync' }))).message).toBe('model=gpt-4o-mini');
    expect((await p.complete(request({ step_key: 'async' }))).message).toBe('{"step":"async"}');
    expect((await p.complete(request({ step_key: 'nested' }))).message).toBe('deep');
  });

  it('throws scripted errors as WeftErrors with the given code', async () => {
    const p = scriptedProvider({
      name: 'openai',
      replies: {
        limited: scriptedError(ERROR_CODES.PROVIDER_RATE_LIMIT, 'slow down', { status: 429 }),
        auth: { $error: 'PROVIDER_AUTH' },
        custom: new Error('raw error'),
      },
    });
    const limited = await p.complete(request({ step_key: 'limited' })).catch((e: unknown) => e);
    expect(limited).toBeInstanceOf(WeftError);
    expect(limited).toMatchObject({
      code: 'PROVIDER_RATE_LIMIT',
      message: 'slow down',
      retryable: true,
      details: { status: 429, provider: 'openai', scripted: true },
    });
    const auth = await p.complete(request({ step_key: 'auth' })).catch((e: unknown) => e);
    expect(auth).toMatchObject({
      code: 'PROVIDER_AUTH',
      message: 'openai: scripted PROVIDER_AUTH.',
      retryable: false,
    });
    await expect(p.complete(request({ step_key: 'custom' }))).rejects.toThrow('raw error');
  });

  it('plays sequences in order and repeats the last reply', async () => {
    const p = scriptedProvider({
      replies: { flaky: sequence(scriptedError('PROVIDER_UNAVAILABLE'), 'second', { third: true }) },
    });
    const results: string[] = [];
    for (let i = 0; i < 4; i++) {
      results.push(
        await p.complete(request({ step_key: 'flaky' })).then(
          (r) => r.message,
          (e: WeftError) => e.code,
        ),
      );
    }
    expect(results).toEqual(['PROVIDER_UNAVAILABLE', 'second', '{"third":true}', '{"third":true}']);
    p.reset();
    expect(p.calls).toHaveLength(0);
    await expect(p.complete(request({ step_key: 'flaky' }))).rejects.toMatchObject({
      code: 'PROVIDER_UNAVAILABLE',
    });
  });

  it('$response sets usage, tool calls, refusal and model', async () => {
    const toolCalls = [{ id: 'c1', type: 'function', function: { name: 'f', arguments: '{}' } }];
    const p = scriptedProvider({
      default: {
        $response: {
          message: { ok: true },
          usage: { input_tokens: 100, output_tokens: 7 },
          tool_calls: toolCalls,
          refusal: null,
          model: 'gpt-4o-2024-08-06',
        },
      },
    });
    const r = await p.complete(request());
    expect(r).toMatchObject({
      message: '{"ok":true}',
      usage: { input_tokens: 100, output_tokens: 7 },
      tool_calls: toolCalls,
      refusal: null,
      model: 'gpt-4o-2024-08-06',
    });
  });
});

describe('scriptedProvider: usage, latency, streaming, calls', () => {
  it('estimates tokens as ceil(chars / 4) by default, or uses the usage option', async () => {
    const p = scriptedProvider({ default: 'abcdefghi' });
    const r = await p.complete(request());
    // Prompt text: "Be brief.\nSummarise   the\nreport please" = 37 characters.
    expect(r.usage).toEqual({ input_tokens: Math.ceil(37 / 4), output_tokens: 3 });
    expect(r.model).toBe('gpt-4o-mini');
    const fixed = scriptedProvider({ usage: { input_tokens: 5, output_tokens: 6 } });
    expect((await fixed.complete(request())).usage).toEqual({ input_tokens: 5, output_tokens: 6 });
    const computed = scriptedProvider({
      default: 'xy',
      usage: (_r, m) => ({ input_tokens: 1, output_tokens: m.length }),
    });
    expect((await computed.complete(request())).usage).toEqual({ input_tokens: 1, output_tokens: 2 });
  });

  it('simulates latency and is cut short by the abort signal with CANCELLED', async () => {
    const p = scriptedProvider({ latencyMs: 60 });
    const start = Date.now();
    await p.complete(request());
    expect(Date.now() - start).toBeGreaterThanOrEqual(50);

    const slow = scriptedProvider({ latencyMs: 10_000 });
    const controller = new AbortController();
    const pending = slow.complete(request({ signal: controller.signal }));
    setTimeout(() => controller.abort(), 20);
    const t0 = Date.now();
    await expect(pending).rejects.toMatchObject({ code: ERROR_CODES.CANCELLED });
    // Cut short: settled before its 10 s latency could have ended (not a speed bound).
    expect(Date.now() - t0).toBeLessThan(10_000);
    await expect(slow.complete(request({ signal: AbortSignal.abort() }))).rejects.toMatchObject({
      code: ERROR_CODES.CANCELLED,
    });
    const perRequest = scriptedProvider({ latencyMs: (r) => (r.step_key === 'slow' ? 50 : 0) });
    const t1 = Date.now();
    await perRequest.complete(request({ step_key: 'slow' }));
    expect(Date.now() - t1).toBeGreaterThanOrEqual(40);
  });

  it('streams the reply word by word through onDelta', async () => {
    const p = scriptedProvider({ default: 'The quick  brown fox\njumps' });
    const deltas: string[] = [];
    const r = await p.complete(request({ onDelta: (d) => deltas.push(d) }));
    expect(deltas).toEqual(['The ', 'quick  ', 'brown ', 'fox\n', 'jumps']);
    expect(deltas.join('')).toBe(r.message);
    const quiet = scriptedProvider({ default: 'a b', stream: false });
    const none: string[] = [];
    await quiet.complete(request({ onDelta: (d) => none.push(d) }));
    expect(none).toEqual([]);
  });

  it('aborting mid-stream stops the deltas with CANCELLED', async () => {
    const p = scriptedProvider({ default: 'one two three four' });
    const controller = new AbortController();
    const deltas: string[] = [];
    await expect(
      p.complete(
        request({
          signal: controller.signal,
          onDelta: (d) => {
            deltas.push(d);
            if (deltas.length === 2) controller.abort();
          },
        }),
      ),
    ).rejects.toMatchObject({ code: ERROR_CODES.CANCELLED });
    expect(deltas).toEqual(['one ', 'two ']);
  });

  it('records every call without its signal or onDelta, as a snapshot', async () => {
    const p = scriptedProvider({ replies: { boom: scriptedError('PROVIDER_AUTH') } });
    const req = request({ index: 3, temperature: 0.5, onDelta: () => {} });
    await p.complete(req);
    await p.complete(request({ step_key: 'boom' })).catch(() => {});
    expect(p.calls).toHaveLength(2);
    expect(p.calls[0]).toEqual({
      provider: 'scripted',
      model: 'gpt-4o-mini',
      messages: req.messages,
      response_format: 'text',
      step_key: 'summary',
      index: 3,
      temperature: 0.5,
    });
    expect(p.calls[0]).not.toHaveProperty('signal');
    expect(p.calls[0]).not.toHaveProperty('onDelta');
    (req.messages[1] as { content: string }).content = 'mutated later';
    expect(p.calls[0]!.messages[1]!.content).toBe('Summarise   the\nreport please');
    expect(p.calls[1]!.step_key).toBe('boom');
  });

  it('isolation: one frozen snapshot per call — the engine’s later changes do not reach it, a script cannot change it', async () => {
    const seen: ScriptedRequest[] = [];
    const p = scriptedProvider({
      match: [
        {
          when: (r) => {
            seen.push(r);
            // A script that tries to change what it sees changes nothing (strict mode: it throws).
            expect(() => {
              (r.messages as unknown[]).push({ role: 'user', content: 'injected' });
            }).toThrow(TypeError);
            expect(() => {
              (r.messages[0] as { content: string }).content = 'changed';
            }).toThrow(TypeError);
            return true;
          },
          reply: (r: ScriptedRequest) => `saw ${r.messages.length}`,
        },
      ],
    });
    const req = request({
      tools: [
        {
          name: 'lookup',
          description: 'd',
          input_schema: { type: 'object', properties: { a: { type: 'string' } } },
        },
      ],
      onDelta: () => {},
    } as never);
    const plain = (r: ModelRequest) => ({ ...r, onDelta: undefined, signal: undefined });
    const original = structuredClone(plain(req));
    expect((await p.complete(req)).message).toBe(`saw ${req.messages.length}`);
    // The engine's request is untouched by the script …
    expect(plain(req)).toEqual(original);
    // … the record is the snapshot the script saw, and the engine changing its request later changes neither.
    expect(p.calls[0]).toBe(seen[0]);
    (req.messages[1] as { content: string }).content = 'mutated later';
    (req.messages as unknown[]).push({ role: 'assistant', content: 'later' });
    (req as unknown as { tools: Array<{ input_schema: { properties: Record<string, unknown> } }> })
      .tools[0]!.input_schema.properties.b = { type: 'number' };
    expect(p.calls[0]!.messages).toHaveLength(original.messages.length);
    expect(p.calls[0]!.messages[1]!.content).toBe(original.messages[1]!.content);
    expect(p.calls[0]).toEqual(JSON.parse(JSON.stringify(original)));
    expect(Object.isFrozen(p.calls[0]!.messages[1])).toBe(true);
  });

  it('snapshot copies what is not plain data with structuredClone, drops functions, and bounds its depth', () => {
    const date = new Date(0);
    const deep: Record<string, unknown> = {};
    let at = deep;
    for (let i = 0; i < 200; i++) at = at.next = {} as Record<string, unknown>;
    const copy = snapshot({
      date,
      fn: () => 1,
      bytes: new Uint8Array([1, 2]),
      deep,
      ...JSON.parse('{"__proto__": {"x": 1}}'),
    });
    expect(Object.getPrototypeOf(copy)).toBe(Object.prototype);
    expect(Object.hasOwn(copy, '__proto__')).toBe(true);
    expect(copy.date).not.toBe(date);
    expect(copy.date.getTime()).toBe(0);
    expect(copy).not.toHaveProperty('fn');
    expect([...copy.bytes]).toEqual([1, 2]);
    expect(JSON.stringify(copy.deep)).toBe(JSON.stringify(deep));
    expect(Object.isFrozen(copy.deep)).toBe(true);
  });

  it('withName shares the script, the calls and the sequence positions', async () => {
    const p = scriptedProvider({ replies: { s: sequence('a', 'b') } });
    const alias = p.withName('anthropic');
    expect(alias.name).toBe('anthropic');
    expect((await p.complete(request({ step_key: 's' }))).message).toBe('a');
    expect((await alias.complete(request({ step_key: 's' }))).message).toBe('b');
    expect(p.calls).toHaveLength(2);
    expect(alias.calls).toBe(p.calls);
  });

  it('is deterministic: the same requests give the same responses', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.record({
            step: fc.constantFrom('a', 'b', 'c'),
            model: fc.constantFrom('m1', 'm2'),
            text: fc.string({ maxLength: 80 }),
            json: fc.boolean(),
          }),
          { maxLength: 8 },
        ),
        async (calls) => {
          const make = () =>
            scriptedProvider({
              replies: { a: sequence('x', { y: 1 }) },
              models: { m2: (r) => `len ${r.messages.length}` },
            });
          const run = async () => {
            const p = make();
            const out = [];
            for (const c of calls) {
              const r = await p.complete(
                request({
                  step_key: c.step,
                  model: c.model,
                  messages: [{ role: 'user', content: c.text }],
                  response_format: c.json ? 'json' : 'text',
                }),
              );
              out.push([r.message, r.usage]);
            }
            return out;
          };
          expect(await run()).toEqual(await run());
        },
      ),
      { numRuns: 50 },
    );
  });

  it('validates its options', () => {
    expect(() => scriptedProvider({ latencyMs: -1 })).toThrow(/latencyMs/);
    expect(() => scriptedProvider({ name: '' })).toThrow(/name/);
    expect(() => scriptedProvider({ replies: [] as unknown as Record<string, string> })).toThrow(/replies/);
    expect(() => scriptedProvider({ match: [{ when: 'x' as never, reply: 'y' }] })).toThrow(/match\[0\]/);
  });
});

describe('scriptedProvider: tool scripts', () => {
  it('$turns answers model call N of a tool loop with its N-th reply; $tool_calls calls tools by wire name', async () => {
    const p = scriptedProvider.fromFixtures({
      replies: {
        summary: {
          $turns: [
            {
              $tool_calls: [
                { name: 'LOOKUP', input: { id: 1 } },
                { name: 'external:refund', id: 'r1' },
              ],
              message: 'Looking.',
            },
            'done',
          ],
        },
      },
    });
    const deltas: unknown[] = [];
    const first = await p.complete(request({ turn: 1, onToolCallDelta: (d) => deltas.push(d) }));
    expect(first.message).toBe('Looking.');
    expect(first.tool_calls).toEqual([
      { id: 'call_1_0', type: 'function', function: { name: 'LOOKUP', arguments: '{"id":1}' } },
      { id: 'r1', type: 'function', function: { name: 'refund', arguments: '{}' } },
    ]);
    expect(deltas).toEqual([
      { index: 0, id: 'call_1_0', name: 'LOOKUP', arguments: '{"id":1}' },
      { index: 1, id: 'r1', name: 'refund', arguments: '{}' },
    ]);
    // By turn, not by position: the same turn always gets the same reply (concurrent runs stay independent).
    expect((await p.complete(request({ turn: 2 }))).message).toBe('done');
    expect((await p.complete(request({ turn: 7 }))).message).toBe('done');
    expect((await p.complete(request({ turn: 1 }))).tool_calls).toHaveLength(2);
    expect((await p.complete(request())).tool_calls).toHaveLength(2);
  });

  it('rejects malformed tool scripts in fixtures', () => {
    expect(() => scriptedProvider.fromFixtures({ replies: { a: { $turns: [] } } })).toThrow(/\$turns/);
    expect(() => scriptedProvider.fromFixtures({ replies: { a: { $tool_calls: [{ input: {} }] } } })).toThrow(
      /\$tool_calls\[0\]/,
    );
  });
});
