/**
 * The examples of docs/api.md and docs/retention.md are real: every ```ts block is type-checked against
 * the public API (`@weft/core` → dist/index.d.ts, what users import) and then executed.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { exampleTypeErrors } from '../../../../test/doc-examples.js';
import * as weft from '../index.js';

const DOCS = ['api.md', 'retention.md'] as const;
const root = fileURLToPath(new URL('../../../../', import.meta.url));
const coreIndex = fileURLToPath(new URL('../../dist/index.d.ts', import.meta.url));

function examples(file: string): string[] {
  const markdown = readFileSync(`${root}docs/${file}`, 'utf8');
  return [...markdown.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]!);
}

function typeErrors(sources: readonly string[]): string[] {
  const dir = fileURLToPath(new URL('./', import.meta.url));
  return exampleTypeErrors(sources, { dir, root, paths: { '@weft/core': [coreIndex] } });
}

const AsyncFunction = Object.getPrototypeOf(async () => {}).constructor as new (
  ...args: string[]
) => (...args: unknown[]) => Promise<void>;

/** Runs an example: TypeScript stripped, `@weft/core` bound to this package, `node:assert/strict` to assert. */
async function execute(source: string): Promise<void> {
  const js = ts.transpileModule(source, {
    compilerOptions: { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.ESNext },
  }).outputText;
  const body = js
    .replace(/^import assert from ['"]node:assert\/strict['"];?$/m, 'const assert = __assert;')
    .replace(/^import \{([^}]*)\} from ['"]@weft\/core['"];?$/m, (_, names: string) => {
      return `const {${names.replace(/\s+as\s+/g, ': ')}} = __weft;`;
    })
    .replace(/^export \{\};?$/m, '');
  if (/^import /m.test(body))
    throw new Error(`An example imports something other than @weft/core and node:assert/strict:\n${body}`);
  await new AsyncFunction('__weft', '__assert', body)(weft, assert);
}

const sources = new Map(DOCS.map((file) => [file, examples(file)]));

describe('docs examples', () => {
  it('exist, and type-check against the public API', () => {
    for (const [file, list] of sources) expect(list.length, file).toBeGreaterThan(0);
    expect(typeErrors([...sources.values()].flat())).toEqual([]);
    // The TypeScript compiler: 18–39 s measured on the shared 2-core machine under load; this catches a hang.
  }, 180_000);

  describe.each(DOCS)('docs/%s', (file) => {
    it.each(
      sources
        .get(file)!
        .map((source, i) => [i + 1, source.split('\n').find((l) => l.startsWith('const ')) ?? '', source]),
    )('example %i runs (%s)', async (_i, _title, source) => {
      await execute(source as string);
    });
  });
});
