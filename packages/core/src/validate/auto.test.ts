/** AUTO_UNSERVED: `auto` that the given providers cannot serve. */
import { describe, expect, it } from 'vitest';
import type { Provider } from '../providers/provider.js';
import { draft } from '../test-support/workflows.js';
import { autoProblems } from './auto.js';

const provider = (name: string, catalogue?: Provider['catalogue']): Provider => ({
  name,
  ...(catalogue === undefined ? {} : { catalogue }),
  complete: async () => ({ message: '', raw: null, usage: { input_tokens: 0, output_tokens: 0 } }),
});
const text = provider('a', [{ model: 'text', context_window: 1_000, max_output: 100 }]);
const json = provider('b', [{ model: 'json', json: true, context_window: 1_000, max_output: 100 }]);

const model = (config: Record<string, unknown>, extra: Record<string, unknown> = {}) =>
  draft([
    {
      type: 'model',
      key: 'm',
      provider: { messages: [{ role: 'user', content: 'Hi' }], ...config },
      ...extra,
    },
  ]);

describe('autoProblems', () => {
  it('warns when no catalogue model serves a model step left to Weft', () => {
    const doc = model({ model: 'auto', response_format: 'json' });
    expect(autoProblems(doc, [text, json])).toEqual([]);
    expect(autoProblems(doc, [text])).toEqual([
      {
        severity: 'warning',
        code: 'AUTO_UNSERVED',
        path: '/steps/0/provider',
        step_key: 'm',
        message:
          'Step "m" leaves its model to Weft, but no provider checked can serve it (JSON output, ~1 prompt tokens): the closest, a/text, lacks JSON output. It will fail with NO_MODEL_FITS unless the engine gets such a provider.',
      },
    ]);
    expect(autoProblems(model({ provider: 'z', model: 'auto' }), [text])[0]!.message).toContain(
      '"z" is not among them',
    );
    expect(autoProblems(model({}, { auto: {} }), [provider('c')])[0]!.message).toContain(
      'none publishes a catalogue',
    );
    // A named model is not `auto`.
    expect(autoProblems(model({ provider: 'a', model: 'x' }), [])).toEqual([]);
  });

  it('warns when no provider can fill input fields left to a model', () => {
    const doc = draft(
      [
        {
          type: 'input',
          key: 'form',
          auto: { provider: 'z', model: 'm' },
          input: { x: { type: 'string', allowed_modes: ['auto'] } },
        },
      ],
      {
        input: {
          y: { type: 'string', allowed_modes: ['all'] },
          z: { type: 'string', allowed_modes: ['manual'] },
        },
      },
    );
    expect(autoProblems(doc, [json]).map((p) => [p.path, p.step_key])).toEqual([
      ['/steps/0/input/x/allowed_modes', 'form'],
    ]);
    expect(autoProblems(doc, [text]).map((p) => p.path)).toEqual([
      '/input/y/allowed_modes',
      '/steps/0/input/x/allowed_modes',
    ]);
    expect(autoProblems(doc, [text, json, provider('z')])).toEqual([]);
  });

  it('the example of docs/errors.md', () => {
    const doc = model({
      model: 'auto',
      response_format: 'json',
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'Hi' },
            { type: 'image_url', image_url: { url: 'https://example.com/a.png' } },
          ],
        },
      ],
    });
    const small = provider('a', [{ model: 'text', context_window: 8_000, max_output: 1_000 }]);
    expect(autoProblems(doc, [small])[0]!.message).toBe(
      'Step "m" leaves its model to Weft, but no provider checked can serve it (JSON output, images, ~1001 prompt tokens): the closest, a/text, lacks JSON output, images. It will fail with NO_MODEL_FITS unless the engine gets such a provider.',
    );
  });
});
