/** Example tests: one or more per problem code and rule of the validator (docs/errors.md). */
import { describe, expect, it } from 'vitest';
import { ERROR_CODES, ValidationError } from '../errors.js';
import { parseExpression } from '../expressions/jsonata.js';
import { PROBLEM_CODES, PROBLEM_SEVERITY, type ProblemCode, VALIDATION_LIMITS } from './codes.js';
import { validateVersion } from './index.js';

type Doc = Record<string, unknown>;
const steps = (...list: unknown[]): Doc => ({ steps: list });
const input = (key = 'in', destinations: string[] = []) => ({ type: 'input', key, destinations });
const code = (key: string, expression = '1', destinations: string[] = []) => ({
  type: 'code',
  key,
  code: expression,
  destinations,
});

function problems(doc: unknown, options?: { stepTypes?: Iterable<string> }) {
  return validateVersion(doc, options).problems;
}

/** The single problem with `code` (fails when there are none or several). */
function only(doc: unknown, problemCode: ProblemCode, options?: { stepTypes?: Iterable<string> }) {
  const found = problems(doc, options).filter((p) => p.code === problemCode);
  expect(found, JSON.stringify(problems(doc, options), null, 2)).toHaveLength(1);
  return found[0]!;
}

describe('the result', () => {
  it('a valid document: ok, no problems', () => {
    const result = validateVersion(steps(input('in', ['double']), code('double', 'input.n * 2')));
    expect(result).toEqual({ ok: true, problems: [] });
  });

  it('ok is false exactly when some problem is an error; warnings alone keep it true', () => {
    const warned = validateVersion(steps(input('in', ['c']), code('c', ' ')));
    expect(warned.ok).toBe(true);
    expect(warned.problems.map((p) => [p.severity, p.code])).toEqual([['warning', 'EMPTY_CODE']]);
    expect(validateVersion(steps(input('in', ['nope']))).ok).toBe(false);
  });

  it('codes are a stable map (key = value) and each has a severity', () => {
    for (const [key, value] of Object.entries(PROBLEM_CODES)) expect(key).toBe(value);
    expect(Object.keys(PROBLEM_SEVERITY).sort()).toEqual(Object.keys(PROBLEM_CODES).sort());
  });

  it('returns every problem at once, each with severity, code, path, step_key and message', () => {
    const result = validateVersion(
      steps(
        { type: 'input', key: 'in', destinations: ['a', 'missing'] },
        { type: 'code', key: 'a', code: '(' },
        { type: 'code', key: 'a', code: '1' },
      ),
    );
    expect(result.problems.map((p) => [p.code, p.path, p.step_key])).toEqual([
      ['DANGLING_DESTINATION', '/steps/0/destinations/1', 'in'],
      ['EXPRESSION_SYNTAX', '/steps/1/code', 'a'],
      ['DUPLICATE_STEP_KEY', '/steps/2/key', 'a'],
    ]);
    for (const p of result.problems) expect(p.message.length).toBeGreaterThan(20);
  });

  it('unknown extra fields are allowed everywhere and kept', () => {
    const doc = {
      editor: { zoom: 2 },
      steps: [
        { ...input('in', ['m']), color: 'red' },
        { ...code('m'), meta: { x: [1, { y: '{{ not a template' }] } },
      ],
    };
    const before = structuredClone(doc);
    expect(validateVersion(doc)).toEqual({ ok: true, problems: [] });
    expect(doc).toEqual(before);
  });

  it('a ValidationError built from the problems carries them all', () => {
    const result = validateVersion(steps(code('a', '('), code('a')));
    const error = new ValidationError(result.problems);
    expect(error.code).toBe(ERROR_CODES.VALIDATION_FAILED);
    expect(error.problems).toBe(result.problems);
  });
});

describe('INVALID_DOCUMENT', () => {
  it.each([null, [], 'steps', 42, undefined, true])('%j is not a document', (doc) => {
    expect(problems(doc)).toEqual([
      expect.objectContaining({ severity: 'error', code: 'INVALID_DOCUMENT', path: '' }),
    ]);
  });
});

describe('NOT_JSON', () => {
  it('functions, BigInts and symbols are reported where they are', () => {
    const found = problems({ steps: [{ ...code('a'), f: () => 1, n: 1n, s: Symbol('s') }] });
    expect(found.map((p) => [p.code, p.path])).toEqual([
      ['NOT_JSON', '/steps/0/f'],
      ['NOT_JSON', '/steps/0/n'],
      ['NOT_JSON', '/steps/0/s'],
    ]);
    expect(found[0]!.message).toContain('a function');
  });

  it('a cyclic reference is reported once, where it closes', () => {
    const body: Doc = { a: 1 };
    body.self = body;
    const doc = steps(input('in', ['h']), { type: 'http_request', key: 'h', url: 'https://x', body });
    expect(problems(doc).map((p) => [p.code, p.path])).toEqual([['NOT_JSON', '/steps/1/body/self']]);
  });

  it('shared (not cyclic) references are fine', () => {
    const shared = { role: 'user', content: 'hi' };
    const provider = { messages: [shared, shared] };
    expect(problems(steps(input('in', ['m']), { type: 'model', key: 'm', provider }))).toEqual([]);
  });

  it('a getter that throws and a Proxy are reported, never thrown', () => {
    const step: Doc = { type: 'code', key: 'a' };
    Object.defineProperty(step, 'code', {
      enumerable: true,
      get() {
        throw new Error('boom');
      },
    });
    const found = problems({ steps: [step, new Proxy({}, {})] });
    expect(found.map((p) => [p.code, p.path])).toEqual([
      ['NOT_JSON', '/steps/0/code'],
      ['NOT_JSON', '/steps/1'],
    ]);
    expect(found[0]!.message).toContain('boom');
  });

  it('a document that is a Proxy is reported as not JSON (only)', () => {
    const found = problems(
      new Proxy(
        {},
        {
          ownKeys() {
            throw new Error('no');
          },
        },
      ),
    );
    expect(found.map((p) => [p.code, p.path])).toEqual([['NOT_JSON', '']]);
  });
});

describe('MISSING_FIELD', () => {
  it('the document without steps', () => {
    const p = only({ key: 'w' }, 'MISSING_FIELD');
    expect(p).toMatchObject({ severity: 'error', path: '/steps' });
    expect(p.message).toContain('Add "steps"');
  });

  it('a required field of a step type, nested or not; reported once per field', () => {
    const found = problems(
      steps(input('in', ['c', 'm']), { type: 'code', key: 'c' }, { type: 'model', key: 'm', provider: {} }),
    );
    expect(found.map((p) => [p.code, p.path, p.step_key])).toEqual([
      ['MISSING_FIELD', '/steps/1/code', 'c'],
      ['MISSING_FIELD', '/steps/2/provider/messages', 'm'],
    ]);
    expect(found[0]!.message).toBe(
      'Step "c" (code): the required field `code` is missing. Add it: a string (JSONata expression or ' +
        'JavaScript function body; its value is the step output).',
    );
  });

  it('a step without a key has no step_key and is named by its index', () => {
    const p = only(steps(input('in'), { type: 'code', code: '1' }), 'MISSING_FIELD');
    expect(p).toMatchObject({ path: '/steps/1/key' });
    expect(p.step_key).toBeUndefined();
    expect(p.message).toMatch(/^Step #1 \(code\): the required field `key` is missing/);
  });

  it('a message without its role', () => {
    const doc = steps(input('in', ['m']), {
      type: 'model',
      key: 'm',
      provider: { messages: [{ content: 'x' }] },
    });
    expect(problems(doc).map((p) => [p.code, p.path])).toEqual([
      ['MISSING_FIELD', '/steps/1/provider/messages/0/role'],
    ]);
  });
});

describe('INVALID_TYPE', () => {
  it('steps that is not an array', () => {
    const p = only({ steps: 'x' }, 'INVALID_TYPE');
    expect(p.path).toBe('/steps');
    expect(p.message).toContain('but it is the string "x"');
  });

  it('a step that is not an object', () => {
    const found = problems(steps(input('in'), 5));
    expect(found.map((p) => [p.code, p.path])).toEqual([['INVALID_TYPE', '/steps/1']]);
    expect(found[0]!.message).toMatch(/^Step #1 must be a step object/);
  });

  it('destinations that is a string; a nullable field collapses to one problem naming both types', () => {
    const found = problems(steps({ ...input('in'), destinations: 'b', conditional: 5 }));
    expect(found.map((p) => [p.code, p.path])).toEqual([
      ['INVALID_TYPE', '/steps/0/conditional'],
      ['INVALID_TYPE', '/steps/0/destinations'],
    ]);
    expect(found[0]!.message).toContain('must be a string or null, but it is the number 5');
    expect(found[1]!.message).toContain('must be an array of strings');
  });

  it('a union of a string and an array reports inside the member the value is (one problem)', () => {
    const doc = steps(input('in', ['m']), {
      type: 'model',
      key: 'm',
      provider: { messages: [{ role: 'user', content: [{ type: 7 }] }] },
    });
    expect(problems(doc).map((p) => [p.code, p.path])).toEqual([
      ['INVALID_TYPE', '/steps/1/provider/messages/0/content/0/type'],
    ]);
  });

  it('an integer field given a fraction', () => {
    const p = only(steps({ ...input('in'), max_concurrency: 1.5 }), 'INVALID_TYPE');
    expect(p).toMatchObject({ path: '/steps/0/max_concurrency', step_key: 'in' });
    expect(p.message).toContain('must be an integer');
  });

  it('document fields too', () => {
    const found = problems({ ...steps(input()), input_default: [], version: 'one' });
    expect(found.map((p) => [p.code, p.path])).toEqual([
      ['INVALID_TYPE', '/version'],
      ['INVALID_TYPE', '/input_default'],
    ]);
    expect(found[0]!.message).toMatch(/^The document: `version` must be an integer/);
  });
});

describe('INVALID_VALUE', () => {
  it('an enum lists the allowed values', () => {
    const p = only(
      steps(input('in', ['h']), { type: 'http_request', key: 'h', url: 'u', method: 'FETCH' }),
      'INVALID_VALUE',
    );
    expect(p).toMatchObject({ path: '/steps/1/method', step_key: 'h', severity: 'error' });
    expect(p.message).toBe(
      'Step "h" (http_request): `method` is the string "FETCH", which is not allowed. Use one of "GET", "POST", ' +
        '"PUT", "PATCH", "DELETE".',
    );
  });

  it('suggests the allowed value a wrong one is closest to', () => {
    const p = only(
      steps(input('in', ['h']), { type: 'http_request', key: 'h', url: 'u', method: 'get' }),
      'INVALID_VALUE',
    );
    expect(p.message).toContain('Did you mean "GET"?');
  });

  it('out of range, empty where a non-empty string is needed', () => {
    const found = problems(steps({ ...input(''), auto: { temperature: 3 }, timeout_ms: 0, display: 'huge' }));
    expect(found.map((p) => [p.code, p.path])).toEqual([
      ['INVALID_VALUE', '/steps/0/key'],
      ['INVALID_VALUE', '/steps/0/display'],
      ['INVALID_VALUE', '/steps/0/auto/temperature'],
      ['INVALID_VALUE', '/steps/0/timeout_ms'],
    ]);
    expect(found[0]!.message).toContain('`key` must not be empty');
    expect(found[2]!.message).toContain('must be at least 0 and at most 2');
    expect(found[3]!.message).toContain('must be greater than 0');
  });

  it('branch conditions are checked whatever their name (even with a line break in it)', () => {
    const doc = steps(input('in', ['b']), { type: 'branch', key: 'b', conditions: { 'a\nb': 5 } });
    expect(problems(doc).map((p) => [p.code, p.path])).toEqual([
      ['INVALID_TYPE', '/steps/1/conditions/a\nb'],
    ]);
    const nested = steps(input('in', ['b']), {
      type: 'branch',
      key: 'b',
      conditions: { 'x\ny': { conditions: { order: 1 } } },
    });
    expect(problems(nested).map((p) => [p.code, p.path])).toEqual([
      ['MISSING_FIELD', '/steps/1/conditions/x\ny/condition'],
      ['MISSING_FIELD', '/steps/1/conditions/x\ny/destinations'],
      ['MISSING_FIELD', '/steps/1/conditions/x\ny/order'],
    ]);
  });
});

describe('UNSUPPORTED_LANGUAGE', () => {
  it('a code step in another language', () => {
    const p = only(steps(input('in', ['c']), { ...code('c'), language: 'python' }), 'UNSUPPORTED_LANGUAGE');
    expect(p).toMatchObject({ path: '/steps/1/language', step_key: 'c', severity: 'error' });
    expect(p.message).toContain('Weft runs "jsonata" and "javascript" only');
    expect(problems(steps(input('in', ['c']), { ...code('c'), language: 'jsonata' }))).toEqual([]);
    expect(
      problems(steps(input('in', ['c']), { ...code('c'), language: 'javascript', code: 'return 1;' })),
    ).toEqual([]);
    // The document's own language: the same code.
    const top = only({ ...steps(input('in')), language: 'lua' }, 'UNSUPPORTED_LANGUAGE');
    expect(top).toMatchObject({ path: '/language', severity: 'error' });
  });
});

describe('UNKNOWN_STEP_TYPE', () => {
  it('suggests the closest type; only the common fields are checked', () => {
    const p = only(steps(input('in', ['m']), { type: 'modle', key: 'm', provider: 5 }), 'UNKNOWN_STEP_TYPE');
    expect(p).toMatchObject({ path: '/steps/1/type', step_key: 'm' });
    expect(p.message).toContain('Did you mean "model"?');
  });

  it('a type registered by the host is valid, with any fields of its own', () => {
    const doc = steps(input('in', ['t']), { type: 'task', key: 't', anything: { goes: [1] } });
    expect(problems(doc).map((p) => p.code)).toEqual(['UNKNOWN_STEP_TYPE']);
    expect(problems(doc, { stepTypes: ['task'] })).toEqual([]);
    expect(problems(doc, { stepTypes: new Set(['task']) })).toEqual([]);
  });

  it('a broken stepTypes option is ignored, not thrown', () => {
    const broken = {
      *[Symbol.iterator]() {
        yield 'task';
        throw new Error('nope');
      },
    };
    expect(problems(steps(input('in', ['t']), { type: 'task', key: 't' }), { stepTypes: broken })).toEqual(
      [],
    );
    expect(validateVersion(steps(input()), 5 as never).ok).toBe(true);
  });
});

describe('DUPLICATE_STEP_KEY', () => {
  it('every later step with a key already used; the first one owns it', () => {
    const found = problems(steps(input('in', ['a']), code('a'), code('a'), code('a')));
    expect(found.map((p) => [p.code, p.path, p.step_key])).toEqual([
      ['DUPLICATE_STEP_KEY', '/steps/2/key', 'a'],
      ['DUPLICATE_STEP_KEY', '/steps/3/key', 'a'],
    ]);
    expect(found[0]!.message).toContain('which step #1 already uses');
    expect(found[0]!.message).toContain('"a_2"');
  });
});

describe('DANGLING_DESTINATION', () => {
  it('suggests the closest existing key', () => {
    const p = only(steps(input('in', ['summarize']), code('summarise')), 'DANGLING_DESTINATION');
    expect(p).toMatchObject({ path: '/steps/0/destinations/0', step_key: 'in' });
    expect(p.message).toContain('did you mean "summarise"?'.replace('did', 'Did'));
  });

  it('no suggestion when nothing is close', () => {
    const p = only(steps(input('in', ['zebra'])), 'DANGLING_DESTINATION');
    expect(p.message).not.toContain('Did you mean');
  });

  it('in branch conditions and else', () => {
    const doc = steps(input('in', ['route']), code('low'), {
      type: 'branch',
      key: 'route',
      conditions: {
        low: { condition: 'input.n < 5', destinations: ['low'], order: 1 },
        high: { condition: 'input.n >= 5', destinations: ['hihg'], order: 2 },
      },
      else: ['other'],
    });
    expect(problems(doc).map((p) => [p.code, p.path, p.step_key])).toEqual([
      ['DANGLING_DESTINATION', '/steps/2/conditions/high/destinations/0', 'route'],
      ['DANGLING_DESTINATION', '/steps/2/else/0', 'route'],
    ]);
  });
});

describe('SELF_LOOP', () => {
  it('a step among its own destinations (not also a CYCLE)', () => {
    const found = problems(steps(input('in', ['a']), code('a', '1', ['a'])));
    expect(found.map((p) => [p.code, p.path, p.step_key])).toEqual([
      ['SELF_LOOP', '/steps/1/destinations/0', 'a'],
    ]);
    expect(found[0]!.message).toContain('use `loop`');
  });
});

describe('CYCLE', () => {
  it('shows the cycle as a path and points at the edge that starts it', () => {
    const p = only(
      steps(input('in', ['a']), code('a', '1', ['b']), code('b', '1', ['c']), code('c', '1', ['a'])),
      'CYCLE',
    );
    expect(p).toMatchObject({ path: '/steps/1/destinations/0', step_key: 'a', severity: 'error' });
    expect(p.message).toContain('a -> b -> c -> a');
  });

  it('each distinct cycle once, also when cycles share steps', () => {
    const doc = steps(
      input('in', ['a']),
      code('a', '1', ['b', 'c']),
      code('b', '1', ['a']),
      code('c', '1', ['a']),
    );
    const cycles = problems(doc).filter((p) => p.code === 'CYCLE');
    expect(cycles.map((p) => [p.path, p.message.match(/cycle: (.*?)\. /)![1]])).toEqual([
      ['/steps/1/destinations/0', 'a -> b -> a'],
      ['/steps/1/destinations/1', 'a -> c -> a'],
    ]);
  });

  it('through branch destinations', () => {
    const doc = steps(input('in', ['b']), code('x', '1', ['b']), {
      type: 'branch',
      key: 'b',
      conditions: { go: { condition: 'true', destinations: ['x'], order: 1 } },
    });
    const p = only(doc, 'CYCLE');
    expect(p.path).toBe('/steps/1/destinations/0');
    expect(p.message).toContain('x -> b -> x');
  });

  it('steps on a cycle (and after it) are not also reported unreachable', () => {
    const found = problems(steps(code('a', '1', ['b']), code('b', '1', ['a', 'c']), code('c')));
    expect(found.map((p) => p.code)).toEqual(['CYCLE']);
  });
});

describe('EXPRESSION_SYNTAX', () => {
  const position = (source: string) => {
    const parsed = parseExpression(source);
    if (parsed.ok) throw new Error('expected a syntax error');
    return parsed.error.position;
  };

  it.each([
    ['conditional', 'input.a +'],
    ['loop', '[1, 2'],
  ])('in %s, with the position', (field, source) => {
    const p = only(steps(input('in', ['a']), { ...code('a'), [field]: source }), 'EXPRESSION_SYNTAX');
    expect(p).toMatchObject({ path: `/steps/1/${field}`, step_key: 'a', position: position(source) });
    expect(p.message).toContain(`at position ${position(source)}`);
  });

  it('in code', () => {
    const p = only(steps(input('in', ['a']), code('a', '$sum(')), 'EXPRESSION_SYNTAX');
    expect(p).toMatchObject({ path: '/steps/1/code', position: position('$sum(') });
  });

  it('empty conditional and loop mean "none" (not a problem)', () => {
    expect(problems(steps(input('in', ['a']), { ...code('a'), conditional: '  ', loop: '' }))).toEqual([]);
  });

  it('in a branch condition, and an empty condition', () => {
    const doc = steps(input('in', ['b']), {
      type: 'branch',
      key: 'b',
      conditions: {
        high: { condition: 'input.n >', destinations: [], order: 1 },
        none: { condition: ' ', destinations: [], order: 2 },
      },
    });
    expect(problems(doc).map((p) => [p.code, p.path, p.position])).toEqual([
      ['EXPRESSION_SYNTAX', '/steps/1/conditions/high/condition', position('input.n >')],
      ['EXPRESSION_SYNTAX', '/steps/1/conditions/none/condition', 0],
    ]);
  });

  it('in a template: the position is in the template string', () => {
    const url = 'https://api.example.com/{{ input.( }}';
    const p = only(steps(input('in', ['h']), { type: 'http_request', key: 'h', url }), 'EXPRESSION_SYNTAX');
    const offset = url.indexOf('{{') + 2;
    expect(p).toMatchObject({ path: '/steps/1/url', position: offset + position(' input.( ') });
    expect(p.message).toContain(`at position ${p.position}`);
  });

  it('an unclosed template segment', () => {
    const doc = steps(input('in', ['m']), {
      type: 'model',
      key: 'm',
      provider: { messages: [{ role: 'user', content: 'Hello {{ input.name' }] },
    });
    const p = only(doc, 'EXPRESSION_SYNTAX');
    expect(p).toMatchObject({ path: '/steps/1/provider/messages/0/content', position: 6 });
    expect(p.message).toContain('never closed');
  });

  it('templates of host types: every field that is not a common one', () => {
    const doc = steps(input('in', ['t']), {
      type: 'task',
      key: 't',
      payload: { text: '{{ ) }}' },
      conditional: 'true',
    });
    expect(problems(doc, { stepTypes: ['task'] }).map((p) => [p.code, p.path])).toEqual([
      ['EXPRESSION_SYNTAX', '/steps/1/payload/text'],
    ]);
  });

  it('fields that are not templates are not parsed', () => {
    const doc = steps(
      { ...input('in', ['c']), note: '{{ (' },
      { ...code('c'), extra: '{{ (' },
      { type: 'note', key: 'n', note: '{{ (' },
    );
    expect(problems(doc)).toEqual([]);
  });
});

describe('NO_RUNNABLE_STEP', () => {
  it.each([[[]], [[{ type: 'note', key: 'n' }]]])('steps %j', (list) => {
    const p = only({ steps: list }, 'NO_RUNNABLE_STEP');
    expect(p).toMatchObject({ severity: 'error', path: '/steps' });
  });
});

describe('UNREACHABLE_STEP', () => {
  it('with declared entries, steps no entry leads to (docs/semantics.md rule 1)', () => {
    const doc = steps(
      { type: 'input', key: 'in', destinations: ['x'] },
      { type: 'task', key: 'x' },
      { type: 'task', key: 'orphan', destinations: ['y'] },
      { type: 'task', key: 'y' },
      { type: 'task', key: 'wired', input_connected: true },
    );
    const found = problems(doc, { stepTypes: ['task'] });
    expect(found.map((p) => [p.severity, p.code, p.path, p.step_key])).toEqual([
      ['warning', 'UNREACHABLE_STEP', '/steps/2', 'orphan'],
      ['warning', 'UNREACHABLE_STEP', '/steps/3', 'y'],
    ]);
  });

  it('without declared entries every step without incoming edges is an entry: nothing is unreachable', () => {
    expect(problems(steps(code('a', '1', ['b']), code('b'), code('lone')))).toEqual([]);
  });

  it('notes are exempt, and edges from notes do not make a step reachable', () => {
    const found = problems(steps(input('in'), { type: 'note', key: 'n' }, code('c')));
    expect(found.map((p) => [p.code, p.step_key])).toEqual([['UNREACHABLE_STEP', 'c']]);
  });
});

describe('warnings', () => {
  it('NOTE_DESTINATIONS: a note with destinations', () => {
    const p = only(
      steps(input('in', ['a']), code('a'), { type: 'note', key: 'n', destinations: ['a'] }),
      'NOTE_DESTINATIONS',
    );
    expect(p).toMatchObject({ severity: 'warning', path: '/steps/2/destinations', step_key: 'n' });
  });

  it('DESTINATION_IS_NOTE: an edge to a note', () => {
    const p = only(steps(input('in', ['n']), { type: 'note', key: 'n' }), 'DESTINATION_IS_NOTE');
    expect(p).toMatchObject({ severity: 'warning', path: '/steps/0/destinations/0', step_key: 'in' });
  });

  it('EMPTY_CODE: a code step whose expression is blank', () => {
    const p = only(steps(input('in', ['c']), code('c', ' \n')), 'EMPTY_CODE');
    expect(p).toMatchObject({ severity: 'warning', path: '/steps/1/code', step_key: 'c' });
  });

  it('DUPLICATE_CONDITION_ORDER: the later conditions with an order already used', () => {
    const doc = steps(input('in', ['b']), {
      type: 'branch',
      key: 'b',
      conditions: {
        a: { condition: 'true', destinations: [], order: 1 },
        b: { condition: 'false', destinations: [], order: 1 },
      },
    });
    const p = only(doc, 'DUPLICATE_CONDITION_ORDER');
    expect(p).toMatchObject({ severity: 'warning', path: '/steps/1/conditions/b/order', step_key: 'b' });
  });
});

describe('LIMIT', () => {
  it('an expression longer than the limit', () => {
    const long = '1'.repeat(VALIDATION_LIMITS.maxExpressionLength + 1);
    const p = only(steps(input('in', ['c']), code('c', long)), 'LIMIT');
    expect(p).toMatchObject({ path: '/steps/1/code', severity: 'error' });
  });

  it('a templated value nested deeper than the template depth', () => {
    let body: unknown = '{{ 1 }}';
    for (let i = 0; i < VALIDATION_LIMITS.maxTemplateDepth + 2; i++) body = { a: body };
    const p = only(steps(input('in', ['h']), { type: 'http_request', key: 'h', url: 'u', body }), 'LIMIT');
    expect(p.path).toMatch(/^\/steps\/1\/body(\/a)+$/);
  });

  it('past the cap per code, the rest are counted in one LIMIT problem of the same severity', () => {
    const n = VALIDATION_LIMITS.maxProblemsPerCode + 5;
    const many = Array.from({ length: n }, (_, i) => `missing${i}`);
    const result = validateVersion(steps(input('in', many)));
    expect(result.problems.filter((p) => p.code === 'DANGLING_DESTINATION')).toHaveLength(
      VALIDATION_LIMITS.maxProblemsPerCode,
    );
    expect(result.problems.at(-1)).toMatchObject({ code: 'LIMIT', severity: 'error', path: '' });
    expect(result.problems.at(-1)!.message).toMatch(/^5 more DANGLING_DESTINATION problems were not listed/);

    const unreachable = Array.from({ length: n }, (_, i) => code(`c${i}`));
    const warned = validateVersion(steps(input(), ...unreachable));
    expect(warned.ok).toBe(true);
    expect(warned.problems.at(-1)).toMatchObject({ code: 'LIMIT', severity: 'warning' });
  });
});
