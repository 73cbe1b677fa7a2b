/**
 * The API report: every name each public entry point exports (package.json `exports`), with its
 * declaration as the built .d.ts states it, written to api/<package>.api.md. A change to the public API
 * changes that file, so it shows in review; `pnpm api` rewrites the reports after an intended change.
 * Also checked: no declaration reachable from an entry point imports xstate (an implementation detail).
 */
import { join, relative } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { cachedCompilerHost, strictNodeOptions } from './ts-cache.js';
import { publicPackages, ROOT, type WorkspacePackage } from './workspace.js';

interface Entry {
  /** `@weft/core`, `@weft/core/store`, … */
  specifier: string;
  /** The built declaration file. */
  file: string;
}

function entries(pkg: WorkspacePackage): Entry[] {
  const out: Entry[] = [];
  for (const [subpath, target] of Object.entries<any>(pkg.manifest.exports ?? {})) {
    if (typeof target !== 'object' || typeof target.types !== 'string') continue;
    out.push({ specifier: join(pkg.name, subpath), file: join(pkg.dir, target.types) });
  }
  return out;
}

const packages = publicPackages();
const allEntries = packages.flatMap(entries);
const options: ts.CompilerOptions = { ...strictNodeOptions };
const program = ts.createProgram(
  allEntries.map((e) => e.file),
  options,
  cachedCompilerHost(options),
);
const checker = program.getTypeChecker();
const printer = ts.createPrinter({ removeComments: true, newLine: ts.NewLineKind.LineFeed });

/** The package a declaration file belongs to (`@weft/x` for our dist, the npm name otherwise). */
function owner(fileName: string): string {
  const own = packages.find((p) => fileName.startsWith(`${p.dir}/`));
  if (own !== undefined) return own.name;
  const match = /node_modules\/((?:@[^/]+\/)?[^/]+)\/(?!.*node_modules)/.exec(fileName);
  return match?.[1] ?? relative(ROOT, fileName);
}

/** Type aliases built from a TypeBox schema (`Static<typeof XSchema>`) are printed resolved: that is the type. */
function resolvedAlias(declaration: ts.TypeAliasDeclaration): string {
  const type = checker.getTypeAtLocation(declaration.name);
  const node = checker.typeToTypeNode(
    type,
    undefined,
    ts.NodeBuilderFlags.NoTruncation |
      ts.NodeBuilderFlags.MultilineObjectLiterals |
      ts.NodeBuilderFlags.InTypeAlias,
  );
  const printed =
    node === undefined
      ? '?'
      : printer.printNode(ts.EmitHint.Unspecified, sortLiteralUnions(node), declaration.getSourceFile());
  return `type ${declaration.name.text} = ${printed};`;
}

/**
 * A resolved union of literals is printed in the checker's type-id order, which depends on the order the
 * program met them (it differed between a fresh clone and an incremental build): sort such unions by their
 * text so that the report is the same everywhere.
 */
function sortLiteralUnions<T extends ts.Node>(root: T): T {
  const visit = (node: ts.Node): ts.Node => {
    const visited = ts.visitEachChild(node, visit, undefined);
    if (ts.isUnionTypeNode(visited) && visited.types.every((t) => ts.isLiteralTypeNode(t))) {
      const text = (t: ts.TypeNode) => printer.printNode(ts.EmitHint.Unspecified, t, undefined as never);
      const sorted = [...visited.types].sort((a, b) => (text(a) < text(b) ? -1 : text(a) > text(b) ? 1 : 0));
      return ts.factory.updateUnionTypeNode(visited, ts.factory.createNodeArray(sorted));
    }
    return visited;
  };
  return visit(root) as T;
}

/** One exported name: its declaration(s) as the .d.ts prints them, without comments. */
function describeExport(entry: Entry, name: string, symbol: ts.Symbol): string {
  const typeOnly = symbol.declarations?.some((d) => ts.isTypeOnlyExportDeclaration(d)) ?? false;
  const target = symbol.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(symbol) : symbol;
  const declarations = target.declarations ?? [];
  const from = declarations.length > 0 ? owner(declarations[0]!.getSourceFile().fileName) : '?';
  const entryPackage = owner(entry.file);
  if (from !== entryPackage) return `export ${typeOnly ? 'type ' : ''}{ ${name} } from '${from}';`;
  const text = declarations
    .map((declaration) => {
      if (ts.isTypeAliasDeclaration(declaration) && /\bStatic</.test(declaration.type.getText())) {
        return resolvedAlias(declaration);
      }
      // A variable's declaration is `name: type` inside `declare const name: type;`: print the statement.
      const node = ts.isVariableDeclaration(declaration) ? declaration.parent.parent : declaration;
      return printer.printNode(ts.EmitHint.Unspecified, node, node.getSourceFile());
    })
    .join('\n')
    .replace(/^export (declare )?|^declare /gm, '');
  const renamed = target.name !== name && target.name !== 'default' ? ` // exported as ${name}` : '';
  // A class exported with `export type` can be named in types but not constructed: say so.
  const typeOnlyValue = typeOnly && (target.flags & ts.SymbolFlags.Value) !== 0;
  return `${typeOnlyValue ? '/* type-only export */ ' : ''}${text}${renamed}`;
}

function report(pkg: WorkspacePackage): string {
  const sections = entries(pkg).map((entry) => {
    const source = program.getSourceFile(entry.file);
    if (source === undefined) throw new Error(`${entry.file} was not built: run pnpm build.`);
    const module = checker.getSymbolAtLocation(source);
    const exported = module === undefined ? [] : checker.getExportsOfModule(module);
    const body = exported
      .map((symbol) => [symbol.name, symbol] as const)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([name, symbol]) => describeExport(entry, name, symbol))
      .join('\n\n');
    const from = dependencies(entry).map((name) => `\`${name}\``);
    const uses = from.length === 0 ? 'none' : from.join(', ');
    return `## \`${entry.specifier}\`\n\n${exported.length} names. Types from other packages: ${uses}.\n\n\`\`\`ts\n${body}\n\`\`\`\n`;
  });
  return [
    `# API report: ${pkg.name}`,
    '',
    '<!-- Generated by test/api.test.ts from the built declarations. Do not edit: run `pnpm api`. -->',
    '',
    ...sections,
  ].join('\n');
}

const resolutions = new Map<string, string | undefined>();
function resolve(specifier: string, fromFile: string): string | undefined {
  const key = `${fromFile}\0${specifier}`;
  if (!resolutions.has(key)) {
    const resolved = ts.resolveModuleName(specifier, fromFile, program.getCompilerOptions(), ts.sys);
    resolutions.set(key, resolved.resolvedModule?.resolvedFileName);
  }
  return resolutions.get(key);
}

/**
 * The packages whose types the declarations reachable from `entry` import: the import closure of the
 * entry within our own packages, and every other package it reaches.
 */
function dependencies(entry: Entry): string[] {
  const seen = new Set<string>();
  const external = new Set<string>();
  const visit = (fileName: string) => {
    if (seen.has(fileName)) return;
    seen.add(fileName);
    const source = program.getSourceFile(fileName);
    if (source === undefined) return;
    const follow = (specifier: string) => {
      const resolved = resolve(specifier, fileName);
      if (resolved === undefined) return;
      if (packages.some((p) => resolved.startsWith(`${p.dir}/`))) visit(resolved);
      else external.add(owner(resolved));
    };
    source.forEachChild(function walk(node): void {
      if (
        (ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) &&
        node.moduleSpecifier !== undefined &&
        ts.isStringLiteral(node.moduleSpecifier)
      ) {
        follow(node.moduleSpecifier.text);
      } else if (
        ts.isImportTypeNode(node) &&
        ts.isLiteralTypeNode(node.argument) &&
        ts.isStringLiteral(node.argument.literal)
      ) {
        follow(node.argument.literal.text);
      }
      node.forEachChild(walk);
    });
  };
  visit(entry.file);
  return [...external].sort();
}

describe('the public API', () => {
  it.each(packages.map((p) => [p.name, p] as const))(
    'of %s matches its report in api/',
    async (_name, pkg) => {
      await expect(report(pkg)).toMatchFileSnapshot(join(ROOT, 'api', `${pkg.folder}.api.md`));
    },
  );

  it.each(allEntries.map((e) => [e.specifier, e] as const))('%s exposes no xstate type', (_name, entry) => {
    expect(dependencies(entry)).not.toContain('xstate');
  });
});
