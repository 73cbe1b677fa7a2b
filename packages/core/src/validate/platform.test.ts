/** UNSUPPORTED_FIELD warnings and the input definition checks beyond the flat schema. */
import { describe, expect, it } from 'vitest';
import { draft } from '../test-support/workflows.js';
import { validateVersion } from './validate.js';

const problems = (doc: unknown, stepTypes: string[] = []) =>
  validateVersion(doc, { stepTypes }).problems.map((p) => [p.severity, p.code, p.path]);

describe('platform fields', () => {
  it('model tools, tools_mode, tools_parallel and max_iterations are implemented; features is an UNSUPPORTED_FIELD warning', () => {
    const provider = {
      provider: 'openai',
      model: 'm',
      messages: [{ role: 'user', content: 'hi' }],
      tools: ['x'],
      tools_mode: 'required',
      tools_parallel: true,
      max_iterations: 3,
      features: { web_search: {} },
    };
    const result = validateVersion(
      draft([
        { type: 'model', key: 'm', input_connected: true, provider },
        { type: 'code', key: 'x', code: '1' },
      ]),
    );
    expect(result.ok).toBe(true);
    expect(result.problems.map((p) => [p.code, p.path])).toEqual([
      ['UNSUPPORTED_FIELD', '/steps/0/provider/features'],
    ]);
  });

  it('the document language is not an unsupported field: both languages run', () => {
    expect(problems(draft([{ type: 'input', key: 'i' }], { language: 'javascript' }))).toEqual([]);
    expect(problems(draft([{ type: 'input', key: 'i' }], { language: 'jsonata' }))).toEqual([]);
  });

  it('wait_for_selector is reported unless the host registered a browser handler', () => {
    const doc = draft([
      { type: 'browser', key: 'b', input_connected: true, url: 'https://x.y', wait_for_selector: '#a' },
    ]);
    expect(problems(doc)).toEqual([['warning', 'UNSUPPORTED_FIELD', '/steps/0/wait_for_selector']]);
    expect(problems(doc, ['browser'])).toEqual([]);
  });

  it('input fields: auto modes, allowed types, list additional_fields (file extraction flags are honoured: no warning); the workflow-level input too', () => {
    const doc = draft(
      [
        {
          type: 'input',
          key: 'i',
          input: {
            doc: { type: 'file', extract_contents: true, allowed_types: ['application/pdf'] },
            conn: { type: 'connection', allowed_types: 'SLACK' },
            obj: {
              type: 'object',
              fields: { pick: { type: 'select', options: ['a'], allowed_modes: ['all'] } },
              additional_fields: { path: 'x' },
            },
          },
        },
      ],
      { input: { q: { type: 'string', allowed_modes: ['auto'] } } },
    );
    expect(problems(doc)).toEqual([
      ['warning', 'UNSUPPORTED_FIELD', '/steps/0/input/doc/allowed_types'],
      ['warning', 'UNSUPPORTED_FIELD', '/steps/0/input/conn/allowed_types'],
      ['warning', 'UNSUPPORTED_FIELD', '/steps/0/input/obj/additional_fields'],
      ['warning', 'UNSUPPORTED_FIELD', '/steps/0/input/obj/fields/pick/allowed_modes'],
    ]);
  });

  it('nested field definitions need a known type; a default must fit its field', () => {
    const doc = draft([
      {
        type: 'input',
        key: 'i',
        input: {
          n: { type: 'number', default: 'ten' },
          tags: { type: 'string', array: true, default: 'a' },
          ok: { type: 'string', array: true, default: ['a'] },
          person: {
            type: 'object',
            fields: { name: 5, age: { type: 'integer' }, email: { type: 'string', default: 1 } },
          },
        },
      },
    ]);
    const result = validateVersion(doc);
    expect(result.ok).toBe(false);
    expect(result.problems.map((p) => [p.code, p.path])).toEqual([
      ['INVALID_VALUE', '/steps/0/input/n/default'],
      ['INVALID_VALUE', '/steps/0/input/tags/default'],
      ['INVALID_TYPE', '/steps/0/input/person/fields/name'],
      ['INVALID_VALUE', '/steps/0/input/person/fields/age/type'],
      ['INVALID_VALUE', '/steps/0/input/person/fields/email/default'],
    ]);
    expect(result.problems[0]!.message).toMatch(
      /default of field "n" is the string "ten", but it must be a finite number/,
    );
    expect(result.problems[3]!.message).toMatch(/nested field "person.age" has the type "integer"/);
  });

  it('deeply nested field definitions stop at the bound (no stack growth)', () => {
    let field: Record<string, unknown> = { type: 'string' };
    for (let i = 0; i < 10_000; i++) field = { type: 'object', fields: { n: field } };
    const result = validateVersion(draft([{ type: 'input', key: 'i', input: { deep: field } }]));
    expect(result.problems.some((p) => p.code === 'LIMIT')).toBe(true);
  });
});
