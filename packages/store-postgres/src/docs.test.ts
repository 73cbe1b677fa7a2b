/**
 * The ```ts postgres examples of docs/durability.md are real: type-checked against the public APIs
 * (`@weft/core`, `@weft/store-postgres`) and run against the test server (DATABASE_URL is set to it
 * while they run). The plain ```ts examples are the SQLite store's (packages/store-sqlite/src/docs.test.ts).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as core from '@weft/core';
import ts from 'typescript';
import { afterAll, expect, it } from 'vitest';
import { exampleTypeErrors } from '../../../test/doc-examples.js';
import * as postgres from './index.js';
import { describeWithPostgres, dropSchema, postgresUrl } from './test-support/db.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const MODULES: Record<string, unknown> = { '@weft/core': core, '@weft/store-postgres': postgres };

const examples = [
  ...readFileSync(`${root}docs/durability.md`, 'utf8').matchAll(/```ts postgres\n([\s\S]*?)```/g),
].map((m) => m[1]!);

function typeErrors(sources: readonly string[]): string[] {
  const dir = fileURLToPath(new URL('./', import.meta.url));
  return exampleTypeErrors(sources, {
    dir,
    root,
    paths: {
      '@weft/core': [`${root}packages/core/dist/index.d.ts`],
      '@weft/store-postgres': [`${root}packages/store-postgres/dist/index.d.ts`],
    },
    prefix: '__doc_pg_example_',
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

it('docs/durability.md has PostgreSQL examples, and they type-check against the public API', () => {
  expect(examples.length).toBeGreaterThan(1);
  expect(typeErrors(examples)).toEqual([]);
  // The TypeScript compiler: 18–39 s measured on the shared 2-core machine under load; this catches a hang.
}, 180_000);

describeWithPostgres('docs/durability.md PostgreSQL examples', () => {
  afterAll(async () => {
    // The schemas the examples create.
    await dropSchema('weft');
    await dropSchema(`doc_${process.pid}`);
  });

  it.each(examples.map((source, i) => [i + 1, source]))('example %i runs', async (_i, source) => {
    const previous = process.env.DATABASE_URL;
    process.env.DATABASE_URL = postgresUrl!;
    try {
      await execute(source as string);
    } finally {
      if (previous === undefined) delete process.env.DATABASE_URL;
      else process.env.DATABASE_URL = previous;
    }
  });
});
