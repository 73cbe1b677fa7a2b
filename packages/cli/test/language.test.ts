/** `--language`: running, testing and validating a draft exported from the platform (JavaScript, no `language`). */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir, weft } from './helpers.js';

const exported = {
  steps: [
    { type: 'input', key: 'start', destinations: ['MODEL'] },
    {
      type: 'code',
      key: 'MODEL',
      loop: 'return input.items[index];',
      code: 'return { message: item.toUpperCase() };',
      destinations: ['CHECK'],
    },
    {
      type: 'code',
      key: 'CHECK',
      conditional: "return input.document_type === 'pdf';",
      code: "console.log('items', MODEL.output.length); const r = MODEL.output.map(x => x.message); return { result: r };",
    },
  ],
  tests: [
    {
      name: 'uppercases every item',
      input: { items: ['a', 'b'], document_type: 'pdf' },
      expectations: [{ key: 'r', name: 'A, B', script: "return result.join(',') === 'A,B';" }],
    },
  ],
};

describe('--language javascript', () => {
  it('runs a draft written the platform way', async () => {
    const dir = tempDir({ 'draft.json': exported });
    const r = await weft([
      'run',
      join(dir, 'draft.json'),
      '--language',
      'javascript',
      '--input',
      '{"items": ["a", "b"], "document_type": "pdf"}',
      '-o',
      'json',
    ]);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual(['A', 'B']);
  });

  it('tests it with JavaScript expectations', async () => {
    const dir = tempDir({ 'draft.json': exported });
    const r = await weft(['test', join(dir, 'draft.json'), '--language', 'javascript']);
    expect(r.stdout).toMatch(/^1 passed, 0 failed$/m);
    expect(r.code).toBe(0);
  });

  it('validate: without the flag, each body is reported as looking like JavaScript; with it, valid', async () => {
    const dir = tempDir({ 'draft.json': exported });
    const plain = await weft(['validate', join(dir, 'draft.json')]);
    expect(plain.code).toBe(1);
    expect(plain.stdout).toContain('It looks like JavaScript');
    const js = await weft(['validate', join(dir, 'draft.json'), '--language', 'javascript']);
    expect(js.code).toBe(0);
    expect(js.stdout).toContain('✔ valid');
  });

  it('refuses another language (exit 2)', async () => {
    const dir = tempDir({ 'draft.json': exported });
    const r = await weft(['run', join(dir, 'draft.json'), '--language', 'python']);
    expect(r.code).toBe(2);
  });
});
