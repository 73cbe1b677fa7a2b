/**
 * docs/errors.md is exact: every problem code has a section, and each example document there is reported
 * exactly as the page says (every problem, with its severity, path, step_key, position and message). Every
 * runtime error code is in its table too. docs/document-model.md's and docs/steps.md's JSON examples are
 * valid documents (or steps).
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ERROR_CODES } from '../errors.js';
import { BUILTIN_STEP_TYPES } from '../model/schema.js';
import { PROBLEM_CODES, PROBLEM_SEVERITY } from './codes.js';
import { type ValidationResult, validateVersion } from './index.js';

const docs = fileURLToPath(new URL('../../../../docs/', import.meta.url));
const read = (name: string) => readFileSync(`${docs}${name}`, 'utf8');

/** The lines the page shows for a result: `severity CODE path [step="key"] [position=N]`, then the message. */
function render(result: ValidationResult): string {
  return result.problems
    .flatMap((p) => [
      `${p.severity} ${p.code} ${p.path === '' ? '""' : p.path}` +
        (p.step_key === undefined ? '' : ` step=${JSON.stringify(p.step_key)}`) +
        (p.position === undefined ? '' : ` position=${p.position}`),
      p.message,
    ])
    .join('\n');
}

/** `### \`CODE\`` sections of errors.md: their json examples and the text blocks after them. */
function sections(markdown: string): Map<string, { json: string[]; text: string[] }> {
  const out = new Map<string, { json: string[]; text: string[] }>();
  const parts = markdown.split(/^### `([A-Z_]+)`$/m);
  for (let i = 1; i < parts.length; i += 2) {
    const body = parts[i + 1]!;
    out.set(parts[i]!, {
      json: [...body.matchAll(/```json\n([\s\S]*?)```/g)].map((m) => m[1]!),
      text: [...body.matchAll(/```text\n([\s\S]*?)```/g)].map((m) => m[1]!.trimEnd()),
    });
  }
  return out;
}

describe('docs/errors.md', () => {
  const markdown = read('errors.md');
  const found = sections(markdown);

  it('has a section for every problem code, saying its severity', () => {
    expect([...found.keys()].sort()).toEqual(Object.keys(PROBLEM_CODES).sort());
    for (const [code, section] of found) {
      const severity = PROBLEM_SEVERITY[code as keyof typeof PROBLEM_CODES];
      const body = markdown.split(`### \`${code}\``)[1]!;
      expect(body.trimStart().startsWith(severity === 'error' ? 'Error' : 'Warning'), code).toBe(true);
      // INTERNAL (a bug in Weft) has no example.
      if (code !== 'INTERNAL') expect(section.json.length + section.text.length, code).toBeGreaterThan(0);
    }
  });

  it('each example is reported exactly as shown', () => {
    for (const [code, section] of found) {
      section.json.forEach((json, k) => {
        const result = validateVersion(JSON.parse(json));
        expect(render(result), `${code} example ${k + 1}`).toBe(section.text[k]);
        expect(
          result.problems.some((p) => p.code === code),
          code,
        ).toBe(true);
      });
    }
  });

  it('the examples that cannot be JSON', () => {
    const notJson = validateVersion({ steps: [{ type: 'code', key: 'a', code: () => 1 }] });
    expect(render(notJson)).toBe(found.get('NOT_JSON')!.text[0]);
    const long = validateVersion({
      steps: [
        { type: 'input', key: 'start', destinations: ['calc'] },
        { type: 'code', key: 'calc', code: '1'.repeat(150_000) },
      ],
    });
    expect(render(long)).toBe(found.get('LIMIT')!.text[0]);
  });

  it('lists every runtime error code', () => {
    for (const code of Object.keys(ERROR_CODES)) expect(markdown, code).toContain(`| \`${code}\` |`);
  });
});

describe('docs/document-model.md and docs/steps.md', () => {
  const blocks = (name: string) => [...read(name).matchAll(/```json\n([\s\S]*?)```/g)].map((m) => m[1]!);

  it('every JSON example is a valid document, or a valid step (in a document with an input step)', () => {
    for (const name of ['document-model.md', 'steps.md']) {
      for (const json of blocks(name)) {
        const value = JSON.parse(json) as Record<string, unknown>;
        const doc = Array.isArray(value.steps)
          ? value
          : value.type === 'note'
            ? { steps: [{ type: 'input', key: 'start' }, value] }
            : { steps: [{ type: 'input', key: 'start', destinations: [value.key] }, value] };
        const result = validateVersion(doc, { stepTypes: ['task', 'send_invoice'] });
        expect(result.problems, `${name}: ${json}`).toEqual([]);
      }
    }
  });

  it('steps.md has a section per built-in type', () => {
    const markdown = read('steps.md');
    for (const type of BUILTIN_STEP_TYPES) expect(markdown, type).toContain(`## \`${type}\``);
  });
});
