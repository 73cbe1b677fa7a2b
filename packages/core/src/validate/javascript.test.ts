/** The validator and JavaScript documents: parse (never evaluate), line and column, the JSONata hint. */
import { describe, expect, it } from 'vitest';
import { validateVersion } from './validate.js';

const doc = (steps: unknown[], language?: string) => ({
  ...(language === undefined ? {} : { language }),
  steps: [
    { type: 'input', key: 'start', destinations: steps.map((s) => (s as { key: string }).key) },
    ...steps,
  ],
});

describe('validateVersion: JavaScript', () => {
  it('accepts function bodies in every expression field of a JavaScript document', () => {
    const result = validateVersion(
      doc(
        [
          {
            type: 'code',
            key: 'a',
            code: 'return { n: input.n * 2 };',
            conditional: 'return input.n > 0;',
            loop: 'return input.xs[index];',
          },
          {
            type: 'branch',
            key: 'b',
            conditions: { big: { condition: 'return input.n > 10;', destinations: [], order: 1 } },
          },
        ],
        'javascript',
      ),
    );
    expect(result.problems).toEqual([]);
  });

  it('a syntax error has its line and column, and the position', () => {
    const result = validateVersion(
      doc([{ type: 'code', key: 'a', code: 'const x = 1;\nreturn x +;' }], 'javascript'),
    );
    expect(result.ok).toBe(false);
    expect(result.problems).toEqual([
      expect.objectContaining({
        code: 'EXPRESSION_SYNTAX',
        path: '/steps/1/code',
        step_key: 'a',
        position: 23,
      }),
    ]);
    expect(result.problems[0]!.message).toMatch(
      /JavaScript in `code` has a syntax error at line 2, column 11/,
    );
  });

  it('never evaluates: an infinite loop validates at once', () => {
    expect(validateVersion(doc([{ type: 'code', key: 'a', code: 'while (true) {}' }], 'javascript')).ok).toBe(
      true,
    );
  });

  it('a body cannot close the function it runs in', () => {
    const result = validateVersion(
      doc([{ type: 'code', key: 'a', code: '}); while (true) {} (function () {' }], 'javascript'),
    );
    expect(result.problems.map((p) => p.code)).toEqual(['EXPRESSION_SYNTAX']);
  });

  it('the engine default applies to a document that does not say; the document wins', () => {
    const body = [{ type: 'code', key: 'a', code: 'return 1;' }];
    expect(validateVersion(doc(body), { language: 'javascript' }).ok).toBe(true);
    expect(validateVersion(doc(body, 'jsonata'), { language: 'javascript' }).ok).toBe(false);
  });

  it('a JSONata field that reads as JavaScript says so and names the fix', () => {
    const result = validateVersion(
      doc([{ type: 'code', key: 'a', code: "return input.document_type === 'pdf';" }]),
    );
    expect(result.problems).toHaveLength(1);
    expect(result.problems[0]!.message).toContain('It looks like JavaScript');
    expect(result.problems[0]!.message).toContain('"language": "javascript"');
    // Broken JSONata that is not JavaScript either gets the plain message.
    const plain = validateVersion(doc([{ type: 'code', key: 'a', code: 'a + ' }]));
    expect(plain.problems[0]!.message).not.toContain('JavaScript');
  });

  it("a code step's language overrides the document's for its code only", () => {
    const result = validateVersion(
      doc([{ type: 'code', key: 'a', language: 'javascript', code: 'return 1;', conditional: 'true' }]),
    );
    expect(result.problems).toEqual([]);
  });

  it('templates stay JSONata in a JavaScript document', () => {
    const ok = validateVersion(
      doc([{ type: 'http_request', key: 'h', url: 'https://example.com/{{ input.id }}' }], 'javascript'),
    );
    expect(ok.problems).toEqual([]);
  });

  it('an empty JavaScript code step is the same warning, with a JavaScript example', () => {
    const result = validateVersion(doc([{ type: 'code', key: 'a', code: ' ' }], 'javascript'));
    expect(result.problems[0]).toMatchObject({ code: 'EMPTY_CODE', severity: 'warning' });
    expect(result.problems[0]!.message).toContain('function body that returns');
  });
});
