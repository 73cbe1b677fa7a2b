/**
 * A compiler host whose parsed files outlive one program: the built declarations, `@types/node` and the
 * other declarations under node_modules (about 500 files) are parsed once per test worker and reused by
 * every later program of the same worker (the four docs tests' example checks and the API report; the
 * test files of a worker share this module). It is what TypeScript's language service does with its
 * document registry; a second check of docs/server.md's examples costs ~0.8 s of CPU instead of ~3 s.
 * Only files read from disk are kept: dist/ is built before the tests and does not change during a run.
 */
import ts from 'typescript';

/**
 * The options both of its users check with: strict, as our packages' users compile, against Node's types.
 * The same target keeps the cache's parses shared between them (a parse depends on the language version).
 */
export const strictNodeOptions: Readonly<ts.CompilerOptions> = {
  target: ts.ScriptTarget.ES2022,
  module: ts.ModuleKind.NodeNext,
  moduleResolution: ts.ModuleResolutionKind.NodeNext,
  strict: true,
  noEmit: true,
  skipLibCheck: true,
  types: ['node'],
};

const parsed = new Map<string, ts.SourceFile | undefined>();

/** ts.createCompilerHost(options), its files parsed once per worker. */
export function cachedCompilerHost(options: ts.CompilerOptions): ts.CompilerHost {
  const host = ts.createCompilerHost(options);
  const getSourceFile = host.getSourceFile.bind(host);
  host.getSourceFile = (name, languageVersionOrOptions, onError, shouldCreate) => {
    // What a parse depends on: the file, the language version and the module format it is parsed as.
    const settings =
      typeof languageVersionOrOptions === 'object'
        ? [languageVersionOrOptions.languageVersion, languageVersionOrOptions.impliedNodeFormat]
        : [languageVersionOrOptions];
    const key = `${name}\0${settings.join(',')}`;
    if (!parsed.has(key))
      parsed.set(key, getSourceFile(name, languageVersionOrOptions, onError, shouldCreate));
    return parsed.get(key);
  };
  return host;
}
