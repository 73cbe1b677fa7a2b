/** The scripted provider's `auto`: catalogue, auto-fill answers per field, pinned choices, fixtures. */
import { createEngine } from '@weft/core';
import { describe, expect, it } from 'vitest';
import { placeholder, SCRIPTED_CATALOGUE } from './auto.js';
import { fixturesToOptions, fromFixtures } from './fixtures.js';
import { scriptedProvider } from './scripted.js';

const version = {
  key: 'v',
  input: {
    text: { type: 'string' },
    priority: { type: 'select', options: ['low', 'high'], allowed_modes: ['auto'] },
    due: { type: 'date', allowed_modes: ['auto'] },
    tags: { type: 'string', array: true, allowed_modes: ['all'] },
    manual: { type: 'string', allowed_modes: ['manual'], optional: true },
  },
  steps: [
    { type: 'code', key: 'echo', code: '$input', destinations: ['answer'] },
    {
      type: 'model',
      key: 'answer',
      provider: { provider: 'scripted', model: 'auto', messages: [{ role: 'user', content: 'Hi' }] },
    },
  ],
};

describe('scripted provider: auto', () => {
  it('fills fields from autoFill, and the others with a placeholder that fits; no key, deterministic', async () => {
    const scripted = scriptedProvider({ autoFill: { priority: 'high', tags: ['a', 'b'] } });
    const engine = createEngine({ providers: [scripted], auto: { provider: 'scripted' } });
    const run = await engine.run(version, { input: { text: 't' } });
    expect(run.status).toBe('COMPLETED');
    expect(run.input).toEqual({ text: 't', priority: 'high', due: '2025-01-01', tags: ['a', 'b'] });
    expect(run.auto_filled).toEqual(['priority', 'due', 'tags']);
    // The auto-fill call chose the cheapest JSON model of the scripted catalogue; so did the model step.
    expect(scripted.calls.map((c) => [c.step_key, c.model])).toEqual([
      ['$auto', 'scripted-mini'],
      ['answer', 'scripted-mini'],
    ]);
    expect(run.output.answer!.output).toMatchObject({
      provider: 'scripted',
      model: 'scripted-mini',
      message: 'echo: Hi',
    });
  });

  it('replies[step_key] answers the whole auto-fill call (e.g. an answer that does not fit, to test the retry)', async () => {
    const scripted = scriptedProvider({
      replies: {
        $auto: { $sequence: [{ priority: 'urgent' }, { priority: 'low', due: '2025-02-03', tags: [] }] },
      },
    });
    const run = await createEngine({
      providers: [scripted],
      auto: { provider: 'scripted', model: 'scripted-mini' },
    }).run(version, { input: { text: 't' } });
    expect(run.input).toMatchObject({ priority: 'low', due: '2025-02-03', tags: [] });
    expect(scripted.calls).toHaveLength(3);
  });

  it('choose pins the model automatic choice gives a step; a model it lacks is NO_MODEL_FITS', async () => {
    const pinned = scriptedProvider({ choose: { answer: 'scripted-max' } });
    const engine = createEngine({ providers: [pinned], autoModel: pinned.autoModel });
    const run = await engine.run(version, {
      input: { text: 't', priority: 'low', due: '2025-01-01', tags: [] },
    });
    expect(run.output.answer!.output).toMatchObject({ model: 'scripted-max' });
    const missing = scriptedProvider({ choose: { answer: 'nope' } });
    const failed = await createEngine({ providers: [missing], autoModel: missing.autoModel }).run(version, {
      input: { text: 't', priority: 'low', due: '2025-01-01', tags: [] },
    });
    expect(failed.output.answer!.error).toMatchObject({ code: 'NO_MODEL_FITS' });
  });

  it('placeholders fit the schema node', () => {
    expect(placeholder({ enum: [3, 4] }, 'x')).toBe(3);
    expect(placeholder({ type: 'string', format: 'date-time' }, 'x')).toBe('2025-01-01T09:00:00Z');
    expect(placeholder({ type: 'string', format: 'time' }, 'x')).toBe('09:00');
    expect(placeholder({ type: 'string', format: 'uri' }, 'x')).toBe('https://example.com/');
    expect(placeholder({ type: 'string' }, 'city')).toBe('scripted city');
    expect(
      placeholder(
        { type: 'object', properties: { a: { type: 'number' }, b: { type: 'boolean' } }, required: ['a'] },
        'o',
      ),
    ).toEqual({ a: 0 });
    expect(placeholder({ type: 'array', items: { type: 'boolean' } }, 'x')).toEqual([false]);
  });

  it('fixtures: auto_fill, choose and catalogue, checked', () => {
    const provider = fromFixtures({
      auto_fill: { priority: 'high' },
      choose: { answer: { provider: 'scripted', model: 'm' } },
      catalogue: [{ model: 'm', json: true, context_window: 1_000, max_output: 100 }],
    });
    expect(provider.catalogue).toEqual([{ model: 'm', json: true, context_window: 1_000, max_output: 100 }]);
    expect(scriptedProvider().catalogue).toBe(SCRIPTED_CATALOGUE);
    for (const [fixtures, parameter] of [
      [{ auto_fill: [] }, 'fixtures.auto_fill'],
      [{ auto_fill: { a: { $error: 1 } } }, 'fixtures.auto_fill.a.$error'],
      [{ choose: { answer: 3 } }, 'fixtures.choose.answer'],
      [{ catalogue: {} }, 'fixtures.catalogue'],
    ] as const) {
      expect(() => fixturesToOptions(fixtures)).toThrow(expect.objectContaining({ details: { parameter } }));
    }
  });
});
