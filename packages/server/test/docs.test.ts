/**
 * The examples of docs/server.md are real: every ```ts block is type-checked against the public APIs
 * (`@weft/core`, `@weft/server`) and then executed.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as core from '@weft/core';
import * as parser from 'eventsource-parser';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { exampleTypeErrors } from '../../../test/doc-examples.js';
import * as server from '../src/index.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const markdown = readFileSync(`${root}docs/server.md`, 'utf8');
const sources = [...markdown.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]!);

const MODULES: Record<string, string> = {
  '@weft/core': '__core',
  '@weft/server': '__server',
  'eventsource-parser': '__parser',
};

function typeErrors(list: readonly string[]): string[] {
  const dir = fileURLToPath(new URL('./', import.meta.url));
  return exampleTypeErrors(list, {
    dir,
    root,
    paths: {
      '@weft/core': [`${root}packages/core/dist/index.d.ts`],
      '@weft/server': [`${root}packages/server/dist/index.d.ts`],
    },
  });
}

const AsyncFunction = Object.getPrototypeOf(async () => {}).constructor as new (
  ...args: string[]
) => (...args: unknown[]) => Promise<void>;

async function execute(source: string): Promise<void> {
  const js = ts.transpileModule(source, {
    compilerOptions: { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.ESNext },
  }).outputText;
  let body = js
    .replace(/^import assert from ['"]node:assert\/strict['"];?$/m, 'const assert = __assert;')
    .replace(/^export \{\};?$/m, '');
  body = body.replace(
    /^import \{([^}]*)\} from ['"]([^'"]+)['"];?$/gm,
    (line, names: string, from: string) => {
      const binding = MODULES[from];
      if (binding === undefined) return line;
      return `const {${names.replace(/\s+as\s+/g, ': ')}} = ${binding};`;
    },
  );
  if (/^import /m.test(body))
    throw new Error(`An example imports something the docs test does not bind:\n${body}`);
  await new AsyncFunction('__core', '__server', '__parser', '__assert', body)(core, server, parser, assert);
}

describe('docs/server.md examples', () => {
  it('exist, and type-check against the public APIs', () => {
    expect(sources.length).toBeGreaterThan(0);
    expect(typeErrors(sources)).toEqual([]);
    // The TypeScript compiler: 18–39 s measured on the shared 2-core machine under load; this catches a hang.
  }, 180_000);

  it.each(sources.map((source, i) => [i + 1, source]))('example %i runs', async (_i, source) => {
    await execute(source as string);
  });
});
