import { describe, expect, it } from 'vitest';
import { isWeftError } from '../errors.js';
import { assertValidInput, INPUT_PROBLEM_CODES, inputProblems } from './check.js';
import { MAX_FIELD_DEPTH, MAX_INPUT_PROBLEMS } from './fields.js';

const doc = (fields: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({
  steps: [{ type: 'input', key: 'in', input: fields }],
  ...extra,
});

const problemsOf = (fields: Record<string, unknown>, input: unknown, extra: Record<string, unknown> = {}) =>
  inputProblems(doc(fields, extra), input).map((p) => [p.path, p.code]);

describe('input checking', () => {
  it('accepts a fitting input and ignores extra fields', () => {
    expect(
      problemsOf({ name: { type: 'string' }, n: { type: 'number' } }, { name: 'x', n: 2, extra: true }),
    ).toEqual([]);
  });

  it('reports every missing required field; optional, defaulted and input_default fields are not missing', () => {
    const fields = {
      a: { type: 'string' },
      b: { type: 'string' },
      opt: { type: 'string', optional: true },
      def: { type: 'string', default: 'd' },
      fromDefaults: { type: 'number' },
    };
    expect(problemsOf(fields, { b: null }, { input_default: { fromDefaults: 1 } })).toEqual([
      ['/a', INPUT_PROBLEM_CODES.MISSING],
      ['/b', INPUT_PROBLEM_CODES.MISSING],
    ]);
  });

  it.each([
    ['string', 'x', 1],
    ['number', 1.5, 'x'],
    ['number', 0, Number.NaN],
    ['boolean', false, 'false'],
    ['object', { a: 1 }, [1]],
    ['date', '2024-02-29', '2023-02-29'],
    ['date', '2024-12-31', '2024-12-31T00:00:00Z'],
    ['datetime', '2024-05-01T09:30:00Z', '2024-05-01'],
    ['datetime', '2024-05-01T09:30:00.123+02:00', '2024-13-01T09:30:00Z'],
    ['time', '09:30', '24:00'],
    ['time', '23:59:59.5', '9:30'],
    ['file', 'https://example.com/a.pdf', ''],
    ['file', { url: 'https://example.com/a.pdf' }, { name: 'a.pdf' }],
    ['connection', 'conn_1', ''],
    ['connection', { id: 'conn_1' }, { name: 'x' }],
  ])('type %s: accepts %j, refuses %j', (type, good, bad) => {
    expect(problemsOf({ f: { type } }, { f: good })).toEqual([]);
    expect(problemsOf({ f: { type } }, { f: bad })).toEqual([['/f', INPUT_PROBLEM_CODES.TYPE]]);
  });

  it('select: the value must be one of the options (values or { value })', () => {
    const fields = { s: { type: 'select', options: ['a', { value: 'b', label: 'B' }] } };
    expect(problemsOf(fields, { s: 'b' })).toEqual([]);
    expect(problemsOf(fields, { s: 'c' })).toEqual([['/s', INPUT_PROBLEM_CODES.OPTION]]);
  });

  it('array: true expects an array and checks every element', () => {
    const fields = { tags: { type: 'string', array: true } };
    expect(problemsOf(fields, { tags: ['a', 'b'] })).toEqual([]);
    expect(problemsOf(fields, { tags: 'a' })).toEqual([['/tags', INPUT_PROBLEM_CODES.TYPE]]);
    expect(problemsOf(fields, { tags: ['a', 1, 'c', false] })).toEqual([
      ['/tags/1', INPUT_PROBLEM_CODES.TYPE],
      ['/tags/3', INPUT_PROBLEM_CODES.TYPE],
    ]);
  });

  it('content fields are display-only: never required, their value never checked', () => {
    expect(problemsOf({ intro: { type: 'content', content: '# Hi' } }, {})).toEqual([]);
    expect(problemsOf({ intro: { type: 'content' } }, { intro: 42 })).toEqual([]);
  });

  it('fields a model may fill (allowed_modes auto or all) are not required from the caller', () => {
    const fields = {
      a: { type: 'string', allowed_modes: ['auto'] },
      b: { type: 'string', allowed_modes: ['all'] },
      c: { type: 'string', allowed_modes: ['manual'] },
    };
    expect(problemsOf(fields, {})).toEqual([['/c', INPUT_PROBLEM_CODES.MISSING]]);
    // Given, the value is still checked.
    expect(problemsOf(fields, { a: 1, c: 'x' })).toEqual([['/a', INPUT_PROBLEM_CODES.TYPE]]);
  });

  it('object fields: nested fields are checked like top-level ones, at any depth', () => {
    const fields = {
      contact: {
        type: 'object',
        fields: {
          email: { type: 'string' },
          phone: { type: 'string', optional: true },
          address: { type: 'object', fields: { city: { type: 'string' }, zip: { type: 'number' } } },
        },
      },
    };
    expect(
      problemsOf(fields, { contact: { email: 'a@b.c', address: { city: 'Paris', zip: 75001 }, extra: 1 } }),
    ).toEqual([]);
    expect(problemsOf(fields, { contact: { email: 5, address: { zip: 'x' } } })).toEqual([
      ['/contact/email', INPUT_PROBLEM_CODES.TYPE],
      ['/contact/address/city', INPUT_PROBLEM_CODES.MISSING],
      ['/contact/address/zip', INPUT_PROBLEM_CODES.TYPE],
    ]);
    const message = inputProblems(doc(fields), { contact: { email: 5, address: { city: 'P', zip: 1 } } })[0]!;
    expect(message.message).toMatch(/Field "contact.email" .*must be a string; got number 5/);
  });

  it('object fields with additional_fields: false refuse keys they do not define; arrays of objects are checked per element', () => {
    const fields = {
      people: { type: 'object', array: true, additional_fields: false, fields: { name: { type: 'string' } } },
    };
    expect(problemsOf(fields, { people: [{ name: 'a' }, { name: 2, age: 3 }] })).toEqual([
      ['/people/1/name', INPUT_PROBLEM_CODES.TYPE],
      ['/people/1/age', INPUT_PROBLEM_CODES.UNKNOWN_FIELD],
    ]);
  });

  it('nesting past MAX_FIELD_DEPTH is reported, not followed; problems are capped', () => {
    let field: Record<string, unknown> = { type: 'string' };
    let value: unknown = 'x';
    for (let i = 0; i < MAX_FIELD_DEPTH + 5; i++) {
      field = { type: 'object', fields: { n: field } };
      value = { n: value };
    }
    expect(problemsOf({ deep: field }, { deep: value }).map(([, code]) => code)).toEqual([
      INPUT_PROBLEM_CODES.LIMIT,
    ]);
    const many = problemsOf({ xs: { type: 'number', array: true } }, { xs: new Array(5000).fill('no') });
    expect(many).toHaveLength(MAX_INPUT_PROBLEMS + 1);
    expect(many.at(-1)).toEqual(['', INPUT_PROBLEM_CODES.LIMIT]);
  });

  it('select with additional_options takes any string; string with validation "url" must be a URL', () => {
    expect(
      problemsOf(
        { s: { type: 'select', options: [{ value: 'a', label: 'A' }], additional_options: true } },
        {
          s: 'zzz',
        },
      ),
    ).toEqual([]);
    const url = { u: { type: 'string', validation: 'url' } };
    expect(problemsOf(url, { u: 'https://example.com/x' })).toEqual([]);
    expect(problemsOf(url, { u: 'not a url' })).toEqual([['/u', INPUT_PROBLEM_CODES.TYPE]]);
  });

  it('with from_step_key only the input steps at or downstream of it are checked', () => {
    const document = {
      steps: [
        { type: 'input', key: 'manual', input: { a: { type: 'string' } }, destinations: ['work'] },
        { type: 'input', key: 'api', input: { b: { type: 'string' } }, destinations: ['work'] },
        { type: 'code', key: 'work', code: '1' },
      ],
    };
    expect(inputProblems(document, {}).map((p) => p.path)).toEqual(['/a', '/b']);
    expect(inputProblems(document, {}, { from_step_key: 'api' }).map((p) => p.path)).toEqual(['/b']);
    expect(inputProblems(document, {}, { from_step_key: 'work' })).toEqual([]);
  });

  it('checks the workflow-level input definition too', () => {
    const document = { input: { q: { type: 'string' } }, steps: [{ type: 'code', key: 'c', code: '1' }] };
    expect(inputProblems(document, {}).map((p) => p.path)).toEqual(['/q']);
  });

  it('a non-object input is one problem', () => {
    expect(problemsOf({}, [1])).toEqual([['', INPUT_PROBLEM_CODES.NOT_OBJECT]]);
  });

  it('assertValidInput throws INVALID_INPUT carrying every problem', () => {
    let error: unknown;
    try {
      assertValidInput(doc({ a: { type: 'string' }, b: { type: 'number' } }), { b: 'x' });
    } catch (e) {
      error = e;
    }
    expect(isWeftError(error) && error.code).toBe('INVALID_INPUT');
    const problems = (error as { details: { problems: Array<{ path: string }> } }).details.problems;
    expect(problems.map((p) => p.path)).toEqual(['/a', '/b']);
    expect((error as Error).message).toMatch(/Field "a".*required/);
  });
});
