import { describe, expect, it } from 'vitest';
import { isWeftError } from '../errors.js';
import { assertValidInput, INPUT_PROBLEM_CODES, inputProblems } from './input.js';

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
    ['content', 'hello', 42],
    ['content', [{ type: 'text', text: 'hi' }], [{ text: 'hi' }]],
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
