/** The built-in step handlers: input, code, http_request, model, workflow, service, browser. */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ModelRequest, Provider } from '../providers/provider.js';
import { createEngine } from '../run/engine.js';
import { code, draft } from '../test-support/workflows.js';

describe('input', () => {
  it('outputs the run input for its fields, defaults applied, missing optional fields null', async () => {
    const run = await createEngine().run(
      draft([
        {
          type: 'input',
          key: 'in',
          input: {
            name: { type: 'string' },
            count: { type: 'number', default: 3 },
            note: { type: 'string', optional: true },
          },
        },
      ]),
      { input: { name: 'Ada', extra: true } },
    );
    expect(run.output.in!.output).toEqual({ name: 'Ada', count: 3, note: null });
    expect(run.input).toEqual({ name: 'Ada', extra: true });
  });

  it('input_default is merged under the run input', async () => {
    const run = await createEngine().run(draft([code('c', 'input')], { input_default: { a: 1, b: 2 } }), {
      input: { b: 3 },
    });
    expect(run.result).toEqual({ a: 1, b: 3 });
  });
});

describe('http_request', () => {
  let server: Server;
  let base: string;
  const requests: Array<{ method: string; url: string; headers: IncomingMessage['headers']; body: string }> =
    [];
  beforeAll(async () => {
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (c) => {
        body += c;
      });
      req.on('end', () => {
        requests.push({ method: req.method!, url: req.url!, headers: req.headers, body });
        if (req.url === '/missing') {
          res.writeHead(404, { 'content-type': 'text/plain' }).end('nope');
        } else if (req.url === '/slow') {
          setTimeout(() => res.end('late'), 500);
        } else {
          res
            .writeHead(200, { 'content-type': 'application/json' })
            .end(JSON.stringify({ echoed: body || null }));
        }
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  it('sends templated url, headers and a JSON body; parses a JSON response', async () => {
    const run = await createEngine().run(
      draft([
        {
          type: 'http_request',
          key: 'call',
          url: '{{ input.base }}/items/{{ input.id }}',
          method: 'POST',
          headers: { 'x-id': '{{ input.id }}' },
          body: { id: '{{ input.id }}', tags: ['{{ input.tag }}'] },
        },
      ]),
      { input: { base, id: 7, tag: 'a' } },
    );
    expect(run.output.call!.output).toMatchObject({
      ok: true,
      status: 200,
      body: { echoed: '{"id":7,"tags":["a"]}' },
    });
    const last = requests.at(-1)!;
    expect(last).toMatchObject({ method: 'POST', url: '/items/7' });
    expect(last.headers['x-id']).toBe('7');
    expect(last.headers['content-type']).toBe('application/json');
  });

  it('a non-2xx answer completes with ok false and the status', async () => {
    const run = await createEngine().run(draft([{ type: 'http_request', key: 'c', url: `${base}/missing` }]));
    expect(run.output.c!.output).toMatchObject({
      ok: false,
      status: 404,
      body: 'nope',
      error: 'HTTP 404 Not Found',
    });
  });

  it('the http.allow hook can forbid addresses', async () => {
    const engine = createEngine({ http: { allow: (url) => url.hostname !== '127.0.0.1' } });
    const run = await engine.run(draft([{ type: 'http_request', key: 'c', url: `${base}/x` }]));
    expect(run.output.c!.error).toMatchObject({ code: 'HTTP_FORBIDDEN', step_key: 'c' });
  });

  it('times out with STEP_TIMEOUT', async () => {
    const engine = createEngine({ limits: { httpTimeoutMs: 50 } });
    const run = await engine.run(draft([{ type: 'http_request', key: 'c', url: `${base}/slow` }]));
    expect(run.output.c!.error).toMatchObject({ code: 'STEP_TIMEOUT' });
  });
});

describe('model', () => {
  function fakeProvider(reply: string | ((r: ModelRequest) => string)): Provider & { calls: ModelRequest[] } {
    const calls: ModelRequest[] = [];
    return {
      name: 'fake',
      calls,
      async complete(request) {
        calls.push(request);
        const text = typeof reply === 'function' ? reply(request) : reply;
        request.onDelta?.(text.slice(0, 2));
        request.onDelta?.(text.slice(2));
        return { message: text, raw: { text }, usage: { input_tokens: 3, output_tokens: 4 } };
      },
    };
  }

  it('resolves templates in messages, takes provider/model/temperature from auto, emits deltas', async () => {
    const provider = fakeProvider('hello');
    const engine = createEngine({ providers: [provider] });
    const handle = engine.start(
      draft([
        {
          type: 'model',
          key: 'm',
          auto: { provider: 'fake', model: 'small', temperature: 0.3 },
          provider: { messages: [{ role: 'user', content: 'Hi {{ input.name }}' }] },
        },
      ]),
      { input: { name: 'Ada' } },
    );
    const deltas: string[] = [];
    handle.on('model.delta', (e) => deltas.push(e.delta));
    const run = await handle.done;
    expect(provider.calls[0]).toMatchObject({
      provider: 'fake',
      model: 'small',
      temperature: 0.3,
      response_format: 'text',
      messages: [{ role: 'user', content: 'Hi Ada' }],
      step_key: 'm',
    });
    expect(run.output.m!.output).toEqual({
      provider: 'fake',
      model: 'small',
      message: 'hello',
      tool_calls: [],
      tool_results: [],
    });
    expect(deltas).toEqual(['he', 'llo']);
  });

  it('the step’s own provider fields win over auto', async () => {
    const provider = fakeProvider('x');
    await createEngine({ providers: { fake: provider } }).run(
      draft([
        {
          type: 'model',
          key: 'm',
          auto: { provider: 'fake', model: 'auto-model', temperature: 1 },
          provider: { model: 'own-model', temperature: 0, messages: [{ role: 'user', content: 'q' }] },
        },
      ]),
    );
    expect(provider.calls[0]).toMatchObject({ model: 'own-model', temperature: 0 });
  });

  it('response_format json parses the reply; invalid JSON fails with the raw text', async () => {
    const engine = createEngine({
      providers: [fakeProvider((r) => (r.model === 'good' ? '{"a":1}' : 'not json'))],
    });
    const doc = (model: string) =>
      draft([
        {
          type: 'model',
          key: 'm',
          provider: {
            provider: 'fake',
            model,
            response_format: 'json',
            messages: [{ role: 'user', content: 'q' }],
          },
        },
      ]);
    expect((await engine.run(doc('good'))).output.m!.output).toMatchObject({ message: { a: 1 } });
    const bad = await engine.run(doc('bad'));
    expect(bad.output.m!.error).toMatchObject({
      code: 'INVALID_MODEL_OUTPUT',
      details: { raw_text: 'not json' },
    });
  });

  it('an unknown provider fails with a message listing the registered ones', async () => {
    const engine = createEngine({ providers: [fakeProvider('x')] });
    const run = await engine.run(
      draft([{ type: 'model', key: 'm', provider: { provider: 'nope', model: 'x', messages: [] } }]),
    );
    expect(run.output.m!.error).toMatchObject({ code: 'PROVIDER_NOT_FOUND' });
    expect(run.output.m!.error!.message).toMatch(/Registered providers: fake/);
  });

  it('a per-provider cap bounds calls in flight across runs', async () => {
    let inFlight = 0;
    let peak = 0;
    const provider: Provider = {
      name: 'slow',
      async complete() {
        inFlight++;
        peak = Math.max(peak, inFlight);
        await new Promise((r) => setTimeout(r, 5));
        inFlight--;
        return { message: 'ok', raw: null, usage: { input_tokens: 0, output_tokens: 0 } };
      },
    };
    const engine = createEngine({ providers: [provider], concurrency: { providers: { slow: 2 } } });
    const doc = draft(
      [1, 2, 3].map((i) => ({
        type: 'model',
        key: `m${i}`,
        provider: { provider: 'slow', model: 'x', messages: [{ role: 'user', content: 'q' }] },
      })),
    );
    await Promise.all([engine.run(doc), engine.run(doc)]);
    expect(peak).toBe(2);
  });
});

describe('workflow (sub-workflow)', () => {
  const child = draft([code('double', 'input.n * 2', ['spend']), { type: 'spend', key: 'spend' }]);
  const engine = createEngine({
    steps: { spend: (ctx) => ctx.usage.record({ id: 'child-call', total: 2 }) },
    workflows: {
      resolve: ({ workflow_id }) => {
        if (workflow_id !== 'doubler') throw new Error(`unknown workflow ${workflow_id}`);
        return { document: child, workflow_id, version: 3 };
      },
    },
  });

  it('runs the child with templated input; output is the child run’s summary; usage nests', async () => {
    const run = await engine.run(
      draft([
        {
          type: 'workflow',
          key: 'sub',
          workflow_id: 'doubler',
          input: { n: '{{ input.n }}' },
          destinations: ['pick'],
        },
        { type: 'workflow', key: 'pick', workflow_id: 'doubler', input: { n: 1 } },
      ]),
      { input: { n: 21 } },
    );
    expect(run.status).toBe('COMPLETED');
    expect(run.output.sub!.output).toMatchObject({ status: 'COMPLETED', result: 42, workflow_id: 'doubler' });
    expect(run.output.pick!.output).toMatchObject({ result: 2 });
    expect(run.usage.total).toBe(4);
    expect(run.usage.steps.sub!.calls[0]).toMatchObject({
      total: 2,
      calls: [{ id: 'child-call', total: 2 }],
    });
  });

  it('a failing child fails the step with the child’s code', async () => {
    const failing = createEngine({
      workflows: { resolve: () => ({ document: draft([code('bad', '1 + "x"')]) }) },
    });
    const run = await failing.run(draft([{ type: 'workflow', key: 'sub', workflow_id: 'any' }]));
    expect(run.output.sub!.error).toMatchObject({ code: 'EXPRESSION_ERROR', step_key: 'sub' });
  });

  it('loops nested in sub-workflows share the parent run’s cap; cancelling the parent cancels the child', async () => {
    let inFlight = 0;
    let peak = 0;
    const looping = draft([{ type: 'w', key: 'l', loop: '[1..12]', max_concurrency: 12 }]);
    const nested = createEngine({
      concurrency: 3,
      steps: {
        w: async () => {
          inFlight++;
          peak = Math.max(peak, inFlight);
          await new Promise((r) => setImmediate(r));
          inFlight--;
        },
      },
      workflows: { resolve: () => ({ document: looping }) },
    });
    const parent = draft([
      { type: 'workflow', key: 'a', workflow_id: 'x' },
      { type: 'workflow', key: 'b', workflow_id: 'x' },
    ]);
    const run = await nested.run(parent);
    expect(run.status).toBe('COMPLETED');
    expect(peak).toBe(3);

    // Cancelled once the sub-workflow's step runs (an event, not a 5 ms sleep that a loaded machine can
    // end before the sub-workflow has even started).
    let entered!: () => void;
    const waiting = new Promise<void>((resolve) => {
      entered = resolve;
    });
    const blocking = createEngine({
      steps: {
        wait: (ctx) => {
          entered();
          return new Promise((_, reject) =>
            ctx.signal.addEventListener('abort', () => reject(new Error('x'))),
          );
        },
      },
      workflows: { resolve: () => ({ document: draft([{ type: 'wait', key: 'w' }]) }) },
    });
    const handle = blocking.start(draft([{ type: 'workflow', key: 'sub', workflow_id: 'x' }]));
    await waiting;
    await handle.cancel();
    const cancelled = await handle.done;
    expect(cancelled.status).toBe('CANCELLED');
    expect(cancelled.output.sub!.status).toBe('CANCELLED');
    expect(blocking.active.size).toBe(0);
  });

  it('without a resolver the step fails with HANDLER_NOT_FOUND', async () => {
    const run = await createEngine().run(draft([{ type: 'workflow', key: 'sub', workflow_id: 'x' }]));
    expect(run.output.sub!.error).toMatchObject({ code: 'HANDLER_NOT_FOUND' });
  });
});

describe('service and browser', () => {
  it('service steps call services[type][action] with the resolved config', async () => {
    const engine = createEngine({
      services: {
        slack: { post: (ctx) => ({ posted: (ctx.config.service.input as { text: string }).text }) },
      },
    });
    const run = await engine.run(
      draft([
        {
          type: 'service',
          key: 's',
          service: { type: 'slack', action: 'post', input: { text: 'hi {{ input.who }}' } },
        },
      ]),
      { input: { who: 'team' } },
    );
    expect(run.output.s!.output).toEqual({ posted: 'hi team' });
    const missing = await engine.run(
      draft([{ type: 'service', key: 's', service: { type: 'slack', action: 'nope' } }]),
    );
    expect(missing.output.s!.error).toMatchObject({ code: 'SERVICE_NOT_CONFIGURED' });
    expect(missing.output.s!.error!.message).toMatch(/Available: .*slack\.post/);
  });

  it('a host browser handler replaces the built-in one', async () => {
    const doc = draft([{ type: 'browser', key: 'b', url: 'https://example.com' }]);
    const withHandler = await createEngine({ steps: { browser: (ctx) => `visited ${ctx.config.url}` } }).run(
      doc,
    );
    expect(withHandler.output.b!.output).toBe('visited https://example.com');
  });
});

describe('model messages with disable_variables', () => {
  it('are sent as written: their {{ }} is not a template', async () => {
    const { collectTemplateStrings } = await import('../model/template-fields.js');
    const step = {
      type: 'model',
      key: 'm',
      provider: {
        messages: [
          { role: 'system', content: 'Literal {{ braces }}', disable_variables: true },
          {
            role: 'user',
            content: [
              { type: 'text', text: '{{ input.q }}' },
              { type: 'text', text: '{{ kept }}', disable_variables: true },
            ],
          },
        ],
      },
    };
    expect(collectTemplateStrings(step).map((t) => t.path.join('.'))).toEqual([
      'provider.messages.1.content.0.text',
    ]);
  });
});

describe('a code step returning the whole scope', () => {
  it('outputs a plain, acyclic snapshot: the run serialises', async () => {
    const run = await createEngine().run(
      draft([
        code('first', '1', ['all', 'nested']),
        code('all', '$'),
        code('nested', '{"scope": $, "list": [$$]}'),
      ]),
      { input: { n: 1 } },
    );
    expect(run.status).toBe('COMPLETED');
    const text = JSON.stringify(run);
    expect(JSON.parse(text).output.all.output).toMatchObject({
      input: { n: 1 },
      first: { status: 'COMPLETED', output: 1 },
    });
    expect((run.output.nested!.output as { scope: unknown }).scope).toMatchObject({ first: { output: 1 } });
  });
});
