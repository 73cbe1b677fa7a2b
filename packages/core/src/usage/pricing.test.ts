/** Pricing: a provider's own prices, the engine's pricing option over them, and bad prices refused. */
import { describe, expect, it } from 'vitest';
import type { ModelPrice, Provider } from '../providers/provider.js';
import { createEngine } from '../run/engine.js';
import { draft } from '../test-support/workflows.js';

function provider(pricing?: unknown): Provider {
  return {
    name: 'fake',
    ...(pricing === undefined ? {} : { pricing: pricing as Record<string, ModelPrice> }),
    async complete() {
      return { message: 'ok', raw: null, usage: { input_tokens: 1_000_000, output_tokens: 500_000 } };
    },
  };
}

const oneCall = (model: string) =>
  draft([
    {
      type: 'model',
      key: 'm',
      provider: { provider: 'fake', model, messages: [{ role: 'user', content: 'Hi' }] },
    },
  ]);

describe('pricing', () => {
  it("prices a call with the provider's own prices (by model, then '*')", async () => {
    const engine = createEngine({
      providers: [
        provider({
          small: { input_per_million: 1, output_per_million: 2 },
          '*': { input_per_million: 10, output_per_million: 10 },
        }),
      ],
    });
    expect((await engine.run(oneCall('small'))).usage.total).toBe(2);
    expect((await engine.run(oneCall('other'))).usage.total).toBe(15);
  });

  it('the engine pricing option wins model by model; without any price a call costs 0 and logs why', async () => {
    const engine = createEngine({
      providers: [provider({ small: { input_per_million: 1, output_per_million: 2 } })],
      pricing: { fake: { small: { input_per_million: 4, output_per_million: 0 } } },
    });
    expect((await engine.run(oneCall('small'))).usage.total).toBe(4);

    const unpriced = await createEngine({ providers: [provider()] }).run(oneCall('small'));
    expect(unpriced.usage.total).toBe(0);
    expect(unpriced.output.m!.logs.some((l) => l.message.includes('No price is known for fake/small'))).toBe(
      true,
    );
  });

  it('refuses prices that are not an object of finite numbers ≥ 0, naming the field', () => {
    for (const [pricing, parameter] of [
      ['cheap', 'providers.fake.pricing'],
      [
        { small: { input_per_million: -1, output_per_million: 0 } },
        'providers.fake.pricing.small.input_per_million',
      ],
      [{ small: { input_per_million: 1 } }, 'providers.fake.pricing.small.output_per_million'],
      [{ small: null }, 'providers.fake.pricing.small.input_per_million'],
    ] as const) {
      expect(() => createEngine({ providers: [provider(pricing)] })).toThrow(
        expect.objectContaining({ code: 'INVALID_ARGUMENT', details: { parameter } }),
      );
    }
  });
});
