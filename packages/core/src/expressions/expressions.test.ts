import { describe, expect, it } from 'vitest';
import { compileExpression, parseExpression } from './jsonata.js';
import { compileTemplate, renderTemplate, scanTemplate } from './template.js';

const bindings = { input: {}, steps: {}, vars: {}, run: {} };

describe('parseExpression', () => {
  it('reports syntax errors with a 0-based position and never throws', () => {
    const result = parseExpression('a + ');
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.error.position).toBeGreaterThanOrEqual(0);
    expect(parseExpression('x'.repeat(200_000)).ok).toBe(false);
  });

  it('detects $index for the item form of loops', () => {
    expect(compileExpression('input.items[$index]', { field: 'loop' }).usesIndex).toBe(true);
    expect(compileExpression('input.items', { field: 'loop' }).usesIndex).toBe(false);
    expect(compileExpression('"$index"', { field: 'loop' }).usesIndex).toBe(false);
  });
});

describe('templates', () => {
  it('a lone {{ }} yields the raw value; mixed text stringifies', async () => {
    const doc = { a: { output: { n: 1, list: [1, 2] } } };
    expect(await renderTemplate(compileTemplate('{{ a.output }}', { field: 'f' }), doc, bindings)).toEqual({
      n: 1,
      list: [1, 2],
    });
    expect(
      await renderTemplate(
        compileTemplate('n={{ a.output.n }}, l={{ a.output.list }}', { field: 'f' }),
        doc,
        bindings,
      ),
    ).toBe('n=1, l=[1,2]');
    expect(await renderTemplate(compileTemplate('[{{ a.missing }}]', { field: 'f' }), doc, bindings)).toBe(
      '[]',
    );
    expect(await renderTemplate(compileTemplate('plain', { field: 'f' }), doc, bindings)).toBe('plain');
  });

  it('an expression may contain }} (object constructors)', async () => {
    const t = compileTemplate('{{ {"a": {"b": 1}} }}', { field: 'f' });
    expect(await renderTemplate(t, {}, bindings)).toEqual({ a: { b: 1 } });
  });

  it('reports an unclosed segment and a broken expression with positions', () => {
    const unclosed = scanTemplate('hello {{ name');
    expect(unclosed).toMatchObject({ ok: false, error: { position: 6 } });
    const broken = scanTemplate('ok {{ 1 + }} end');
    expect(broken.ok).toBe(false);
    if (!broken.ok) expect(broken.error.position).toBeGreaterThanOrEqual(5);
  });
});
