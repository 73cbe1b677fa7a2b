/** Automatic model choice: the needs, the default policy, a custom policy, NO_MODEL_FITS, the event. */
import { describe, expect, it } from 'vitest';
import type { WeftEventMap } from '../events/events.js';
import { createEngine } from '../run/engine.js';
import { draft } from '../test-support/workflows.js';
import { defaultAutoModel, isAutoModel, type ModelNeeds, stepNeeds } from './auto-model.js';
import type { CatalogueEntry } from './catalogue.js';
import type { CatalogueModel, ModelRequest, Provider } from './provider.js';

function provider(
  name: string,
  catalogue: CatalogueModel[],
  pricing?: Provider['pricing'],
): Provider & { calls: ModelRequest[] } {
  const calls: ModelRequest[] = [];
  return {
    name,
    catalogue,
    ...(pricing === undefined ? {} : { pricing }),
    calls,
    async complete(request) {
      calls.push(request);
      return {
        message: request.response_format === 'json' ? '{"ok":true}' : `hi from ${request.model}`,
        raw: null,
        usage: { input_tokens: 1_000_000, output_tokens: 0 },
      };
    },
  };
}

const small = {
  model: 'small',
  json: true,
  context_window: 1_000,
  max_output: 500,
  price: { input_per_million: 1, output_per_million: 2 },
};
const vision = {
  model: 'vision',
  json: true,
  images: true,
  tools: true,
  context_window: 100_000,
  max_output: 4_000,
  price: { input_per_million: 5, output_per_million: 10 },
};
const text = {
  model: 'text',
  context_window: 8_000,
  max_output: 1_000,
  price: { input_per_million: 0.5, output_per_million: 1 },
};

const modelStep = (provider: Record<string, unknown>, extra: Record<string, unknown> = {}) =>
  draft([
    {
      type: 'model',
      key: 'm',
      provider: { messages: [{ role: 'user', content: 'Hello' }], ...provider },
      ...extra,
    },
  ]);

const needs = (over: Partial<ModelNeeds> = {}): ModelNeeds => ({
  step_key: 's',
  provider: null,
  json: false,
  tools: false,
  images: false,
  files: false,
  prompt_tokens: 10,
  max_tokens: null,
  ...over,
});

const entry = (over: Partial<CatalogueEntry>): CatalogueEntry => ({
  provider: 'p',
  model: 'm',
  json: false,
  tools: false,
  images: false,
  files: false,
  context_window: 10_000,
  max_output: 1_000,
  price: { input_per_million: 1, output_per_million: 1 },
  ...over,
});

describe('when the model is left to Weft', () => {
  it('provider "auto", model "auto", or an auto block naming no model', () => {
    expect(isAutoModel({ provider: 'auto' }, null)).toBe(true);
    expect(isAutoModel({ provider: 'x', model: 'auto' }, null)).toBe(true);
    expect(isAutoModel({}, { provider: 'x' })).toBe(true);
    expect(isAutoModel({}, {})).toBe(true);
    expect(isAutoModel({}, { provider: 'x', model: 'y' })).toBe(false);
    expect(isAutoModel({ provider: 'x', model: 'y' }, {})).toBe(false);
    expect(isAutoModel({ provider: 'x' }, null)).toBe(false);
  });

  it("a step's needs: JSON, tools, image and file parts, ⌈chars/4⌉ + 1,000 per attachment", () => {
    const n = stepNeeds(
      'k',
      {
        messages: [
          { content: 'x'.repeat(40) },
          {
            content: [
              { type: 'text', text: 'y'.repeat(8) },
              { type: 'image_url', image_url: { url: 'u' } },
              { type: 'file' },
            ],
          },
        ],
        response_format: 'json',
        max_tokens: 50,
        tools: [{ name: 't' }],
      },
      'p',
    );
    expect(n).toEqual({
      step_key: 'k',
      provider: 'p',
      json: true,
      tools: true,
      images: true,
      files: true,
      prompt_tokens: 12 + 2_000,
      max_tokens: 50,
    });
    expect(stepNeeds('k', { messages: [], tools: [] }, null).tools).toBe(false);
  });
});

describe('the default policy', () => {
  it('picks the cheapest model that fits; ties go to the provider name, then the model name', () => {
    const catalogue = [
      entry({ provider: 'b', model: 'x' }),
      entry({ provider: 'a', model: 'z' }),
      entry({ provider: 'a', model: 'y' }),
      entry({
        provider: 'a',
        model: 'cheap',
        price: { input_per_million: 0.1, output_per_million: 0.1 },
        json: false,
      }),
    ];
    expect(defaultAutoModel(needs(), catalogue)).toMatchObject({ provider: 'a', model: 'cheap' });
    // JSON rules out the cheap one; the three left cost the same.
    expect(
      defaultAutoModel(
        needs({ json: true }),
        catalogue.map((e) => ({ ...e, json: e.model !== 'cheap' })),
      ),
    ).toMatchObject({ provider: 'a', model: 'y' });
  });

  it('ranks unpriced models after priced ones, and returns null when nothing fits', () => {
    const catalogue = [entry({ model: 'free', price: null }), entry({ model: 'paid' })];
    expect(defaultAutoModel(needs(), catalogue)).toMatchObject({ model: 'paid' });
    expect(defaultAutoModel(needs(), [entry({ price: null })])?.reason).toContain(
      'no model that fits has a price',
    );
    expect(defaultAutoModel(needs({ images: true }), catalogue)).toBeNull();
    expect(defaultAutoModel(needs({ prompt_tokens: 9_500, max_tokens: 600 }), catalogue)).toBeNull();
    expect(defaultAutoModel(needs({ max_tokens: 2_000 }), catalogue)).toBeNull();
  });
});

describe('model steps with model "auto"', () => {
  it('run on the chosen model: step output, model.selected event with the reason, usage', async () => {
    const a = provider('a', [small, vision]);
    const b = provider('b', [text]);
    const engine = createEngine({ providers: [a, b] });
    const selected: Array<WeftEventMap['model.selected']> = [];
    engine.on('model.selected', (e) => selected.push(e));
    const run = await engine.run(modelStep({ provider: 'auto', response_format: 'json' }));
    expect(run.status).toBe('COMPLETED');
    expect(run.output.m!.output).toMatchObject({ provider: 'a', model: 'small', message: { ok: true } });
    expect(a.calls[0]!.model).toBe('small');
    expect(selected).toEqual([
      expect.objectContaining({
        step_key: 'm',
        provider: 'a',
        model: 'small',
        reason: expect.stringContaining('cheapest of 2 models'),
      }),
    ]);
    expect(selected[0]!.needs).toMatchObject({ json: true, provider: null });
    expect(run.usage.calls[0]).toMatchObject({ provider: 'a', model: 'small', auto: true, total: 1 });

    // Text only: b's text model is cheaper.
    const plain = await engine.run(modelStep({ model: 'auto' }));
    expect(plain.output.m!.output).toMatchObject({ provider: 'b', model: 'text' });
    // Named provider narrows the choice; an auto block without a model too.
    expect((await engine.run(modelStep({ provider: 'a', model: 'auto' }))).output.m!.output).toMatchObject({
      model: 'small',
    });
    expect((await engine.run(modelStep({}, { auto: { provider: 'a' } }))).output.m!.output).toMatchObject({
      model: 'small',
    });
  });

  it('images and a long prompt need a model that takes them', async () => {
    const engine = createEngine({ providers: [provider('a', [small, vision])] });
    const run = await engine.run(
      modelStep({
        model: 'auto',
        provider: 'a',
        messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'https://x/y.png' } }] }],
      }),
    );
    expect(run.output.m!.output).toMatchObject({ model: 'vision' });
    const long = await engine.run(
      modelStep({ model: 'auto', messages: [{ role: 'user', content: 'w'.repeat(8_000) }] }),
    );
    expect(long.output.m!.output).toMatchObject({ model: 'vision' });
  });

  it('fails with NO_MODEL_FITS listing what each candidate lacks', async () => {
    const engine = createEngine({ providers: [provider('a', [small]), provider('b', [text])] });
    const run = await engine.run(
      modelStep({
        model: 'auto',
        response_format: 'json',
        messages: [{ role: 'user', content: [{ type: 'image', url: 'u' }] }],
      }),
    );
    const error = run.output.m!.error!;
    expect(error.code).toBe('NO_MODEL_FITS');
    expect(error.message).toContain('images');
    expect(error.details).toMatchObject({
      needs: { json: true, images: true },
      unmet: [
        { provider: 'a', model: 'small', unmet: ['images'] },
        { provider: 'b', model: 'text', unmet: ['JSON output', 'images'] },
      ],
    });
    const none = await createEngine({ providers: [provider('c', [])] }).run(modelStep({ model: 'auto' }));
    expect(none.output.m!.error).toMatchObject({ code: 'NO_MODEL_FITS' });
    const unknown = await createEngine({ providers: [provider('a', [small])] }).run(
      modelStep({ provider: 'zz', model: 'auto' }),
    );
    expect(unknown.output.m!.error!.message).toContain('no registered provider named "zz"');
  });

  it('createEngine({ autoModel }) replaces the policy; it must answer from the catalogue', async () => {
    const seen: unknown[] = [];
    const engine = createEngine({
      providers: [provider('a', [small, vision])],
      autoModel: (needs, catalogue) => {
        seen.push({ needs, models: catalogue.map((e) => e.model) });
        return { provider: 'a', model: 'vision', reason: 'always the big one' };
      },
    });
    const run = await engine.run(modelStep({ model: 'auto' }));
    expect(run.output.m!.output).toMatchObject({ model: 'vision' });
    expect(seen).toEqual([
      { needs: expect.objectContaining({ step_key: 'm' }), models: ['small', 'vision'] },
    ]);

    const wrong = createEngine({
      providers: [provider('a', [small])],
      autoModel: () => ({ provider: 'a', model: 'nope' }),
    });
    expect((await wrong.run(modelStep({ model: 'auto' }))).output.m!.error).toMatchObject({
      code: 'INVALID_ARGUMENT',
      details: { parameter: 'autoModel' },
    });
    const none = createEngine({ providers: [provider('a', [small])], autoModel: () => null });
    expect((await none.run(modelStep({ model: 'auto' }))).output.m!.error!.message).toContain(
      'the autoModel policy found none',
    );
  });

  it('prices a chosen model with its catalogue price; the engine pricing option wins', async () => {
    const engine = createEngine({
      providers: [provider('a', [small])],
      pricing: { a: { small: { input_per_million: 3, output_per_million: 0 } } },
    });
    expect((await engine.run(modelStep({ model: 'auto' }))).usage.total).toBe(3);
  });

  it('refuses a malformed catalogue or policy, naming the field', () => {
    for (const [catalogue, parameter] of [
      ['models', 'providers.a.catalogue'],
      [[{ model: '', context_window: 1, max_output: 1 }], 'providers.a.catalogue[0].model'],
      [[{ model: 'auto', context_window: 1, max_output: 1 }], 'providers.a.catalogue[0].model'],
      [[{ model: 'x', context_window: 0, max_output: 1 }], 'providers.a.catalogue[0].context_window'],
      [[{ model: 'x', context_window: 1, max_output: 1, json: 'yes' }], 'providers.a.catalogue[0].json'],
      [
        [{ model: 'x', context_window: 1, max_output: 1, price: { input_per_million: -1 } }],
        'providers.a.catalogue[0].price.input_per_million',
      ],
      [
        [
          { model: 'x', context_window: 1, max_output: 1 },
          { model: 'x', context_window: 1, max_output: 1 },
        ],
        'providers.a.catalogue[1].model',
      ],
    ] as const) {
      expect(() => createEngine({ providers: [provider('a', catalogue as never)] })).toThrow(
        expect.objectContaining({ code: 'INVALID_ARGUMENT', details: { parameter } }),
      );
    }
    expect(() => createEngine({ autoModel: 'cheapest' as never })).toThrow(
      expect.objectContaining({ details: { parameter: 'autoModel' } }),
    );
  });
});
