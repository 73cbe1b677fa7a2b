/**
 * Type-checks the ```ts examples of a doc as modules of a folder of a package (so that top-level await
 * and the `@weft/*` imports resolve), against the built declarations given in `paths` (what users
 * import). Used by the docs tests of core, server, store-sqlite and store-postgres.
 */
import ts from 'typescript';
import { cachedCompilerHost, strictNodeOptions } from './ts-cache.js';

export interface ExampleCheck {
  /** The folder the examples are checked as modules of (its package's node_modules resolve). */
  dir: string;
  /** The repository root (`baseUrl`). */
  root: string;
  /** Module name → declaration file, e.g. `{ '@weft/core': [<root>packages/core/dist/index.d.ts] }`. */
  paths: Record<string, string[]>;
  /** File name prefix of the examples in the messages. Default `__doc_example_`. */
  prefix?: string;
}

/** Every type error of the examples, as `file:line: message`: an empty list when all check. */
export function exampleTypeErrors(sources: readonly string[], check: ExampleCheck): string[] {
  const prefix = check.prefix ?? '__doc_example_';
  const files = new Map(sources.map((source, i) => [`${check.dir}${prefix}${i + 1}.ts`, source]));
  const options: ts.CompilerOptions = {
    ...strictNodeOptions,
    lib: ['lib.es2023.d.ts'],
    baseUrl: check.root,
    paths: check.paths,
  };
  const host = cachedCompilerHost(options);
  const getSourceFile = host.getSourceFile.bind(host);
  host.getSourceFile = (name, version, onError, create) => {
    const source = files.get(name);
    return source === undefined
      ? getSourceFile(name, version, onError, create)
      : ts.createSourceFile(name, source, version);
  };
  const fileExists = host.fileExists.bind(host);
  host.fileExists = (name) => files.has(name) || fileExists(name);
  const readFile = host.readFile.bind(host);
  host.readFile = (name) => files.get(name) ?? readFile(name);
  const program = ts.createProgram([...files.keys()], options, host);
  // The examples' diagnostics only: the checker still reads the declarations they import, but does not
  // check every file of the program (pnpm typecheck does), which was most of these tests' time.
  return [...files.keys()]
    .flatMap((name) => ts.getPreEmitDiagnostics(program, program.getSourceFile(name)))
    .filter((d) => d.file !== undefined && files.has(d.file.fileName))
    .map((d) => {
      const { line } = d.file!.getLineAndCharacterOfPosition(d.start ?? 0);
      return `${d.file!.fileName.split('/').pop()}:${line + 1}: ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`;
    });
}
