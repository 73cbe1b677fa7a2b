/**
 * The ```ts examples of docs/durability.md are real: each is type-checked against the public APIs
 * (`@weft/core`, `@weft/store-sqlite`) and run. Imports are bound to this process's modules.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { readFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as core from '@weft/core';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { exampleTypeErrors } from '../../../test/doc-examples.js';
import * as sqlite from './index.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const MODULES: Record<string, unknown> = {
  '@weft/core': core,
  '@weft/store-sqlite': sqlite,
  'node:fs': fs,
  'node:os': os,
  'node:path': path,
};

const examples = [...readFileSync(`${root}docs/durability.md`, 'utf8').matchAll(/```ts\n([\s\S]*?)```/g)].map(
  (m) => m[1]!,
);

function typeErrors(sources: readonly string[]): string[] {
  const dir = fileURLToPath(new URL('./', import.meta.url));
  return exampleTypeErrors(sources, {
    dir,
    root,
    paths: {
      '@weft/core': [`${root}packages/core/dist/index.d.ts`],
      '@weft/store-sqlite': [`${root}packages/store-sqlite/dist/index.d.ts`],
    },
  });
}

const AsyncFunction = Object.getPrototypeOf(async () => {}).constructor as new (
  ...args: string[]
) => (...args: unknown[]) => Promise<void>;

/** Runs an example: TypeScript stripped, each import bound to the module loaded here. */
async function execute(source: string): Promise<void> {
  const js = ts.transpileModule(source, {
    compilerOptions: { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.ESNext },
  }).outputText;
  const body = js
    .replace(/^import assert from ['"]node:assert\/strict['"];?$/m, 'const assert = __assert;')
    .replace(/^import \{([^}]*)\} from ['"]([^'"]+)['"];?$/gm, (_, names: string, from: string) => {
      if (!(from in MODULES))
        throw new Error(`An example imports ${from}, which the docs test does not bind.`);
      return `const {${names.replace(/\s+as\s+/g, ': ')}} = __modules[${JSON.stringify(from)}];`;
    })
    .replace(/^export \{\};?$/m, '');
  if (/^import /m.test(body)) throw new Error(`An example has an import the docs test cannot bind:\n${body}`);
  await new AsyncFunction('__modules', '__assert', body)(MODULES, assert);
}

describe('docs/durability.md examples', () => {
  it('exist and type-check against the public API', () => {
    expect(examples.length).toBeGreaterThan(0);
    expect(typeErrors(examples)).toEqual([]);
    // The TypeScript compiler: 18–39 s measured on the shared 2-core machine under load; this catches a hang.
  }, 180_000);

  it.each(examples.map((source, i) => [i + 1, source]))('example %i runs', async (_i, source) => {
    // The first example opens .weft/weft.db relative to the working directory: run it in a temp folder.
    const cwd = process.cwd();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'weft-doc-cwd-'));
    process.chdir(dir);
    try {
      await execute(source as string);
    } finally {
      process.chdir(cwd);
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
