/**
 * Every package under packages/ is a publishable npm package set up the same way (CONTRIBUTING.md,
 * "Adding a package"): these checks say what is missing when a new one is added.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SLOW_FIRST } from './slow-first.js';
import { publicPackages, ROOT } from './workspace.js';

const root = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
const packages = publicPackages();
const version = packages.find((p) => p.name === '@weft/core')!.version;

/** Every string target of an `exports` map, `types` and `bin`. */
function targets(manifest: Record<string, any>): string[] {
  const out: string[] = [];
  const walk = (value: unknown) => {
    if (typeof value === 'string') out.push(value);
    else if (value !== null && typeof value === 'object') Object.values(value).forEach(walk);
  };
  walk(manifest.exports);
  walk(manifest.types);
  walk(manifest.bin);
  return out;
}

/** A tsconfig file, which may have comments. */
function readTsconfig(file: string): Record<string, any> {
  const text = readFileSync(file, 'utf8').replace(/^\s*\/\/.*$/gm, '');
  return JSON.parse(text);
}

describe.each(packages.map((p) => [p.name, p] as const))('%s', (_name, pkg) => {
  const { manifest } = pkg;

  it('is named after its folder and shares the version, licence, engines and repository of all', () => {
    expect(pkg.name).toBe(`@weft/${pkg.folder}`);
    expect(manifest.version).toBe(version);
    expect(manifest.license).toBe('MIT');
    expect(existsSync(join(pkg.dir, 'LICENSE'))).toBe(true);
    expect(manifest.engines).toEqual(root.engines);
    expect(manifest.type).toBe('module');
    expect(manifest.sideEffects).toBe(false);
    expect(manifest.repository).toEqual({
      type: 'git',
      url: packages[0]!.manifest.repository.url,
      directory: `packages/${pkg.folder}`,
    });
    expect(typeof manifest.description).toBe('string');
  });

  it('points exports, types and bin at built JavaScript and declarations, never at TypeScript sources', () => {
    expect(manifest.exports?.['.']).toEqual({ types: './dist/index.d.ts', default: './dist/index.js' });
    for (const target of targets(manifest)) {
      expect(target, target).toMatch(/^\.\/(dist\/.+\.(js|d\.ts)|bin\/[\w-]+\.js|package\.json)$/);
    }
    for (const [subpath, target] of Object.entries<any>(manifest.exports)) {
      if (typeof target !== 'object') continue;
      const source = target.default.replace(/^\.\/dist\//, 'src/').replace(/\.js$/, '.ts');
      expect(existsSync(join(pkg.dir, source)), `${subpath} → ${source}`).toBe(true);
    }
  });

  it('ships dist (and bin) only, and depends on other @weft packages through the workspace', () => {
    // dist/.tsbuildinfo is tsc -b's record of the build: kept beside what it describes (deleting dist
    // rebuilds everything), never shipped.
    const shipped = manifest.bin === undefined ? ['dist'] : ['bin', 'dist'];
    expect(manifest.files).toEqual([...shipped, '!dist/.tsbuildinfo']);
    for (const [name, range] of Object.entries<string>({
      ...manifest.dependencies,
      ...manifest.devDependencies,
    })) {
      if (name.startsWith('@weft/')) expect(range, name).toBe('workspace:*');
    }
  });

  it('builds with tsc -b, referencing exactly the @weft packages it depends on', () => {
    const build = readTsconfig(join(pkg.dir, 'tsconfig.build.json'));
    expect(build.extends).toBe('../../tsconfig.base.json');
    expect(build.compilerOptions).toMatchObject({
      composite: true,
      rootDir: 'src',
      outDir: 'dist',
      tsBuildInfoFile: 'dist/.tsbuildinfo',
    });
    const references = (build.references ?? []).map((r: { path: string }) => r.path).sort();
    const dependencies = Object.keys(manifest.dependencies ?? {})
      .filter((name) => name.startsWith('@weft/'))
      .map((name) => `../${name.slice('@weft/'.length)}/tsconfig.build.json`)
      .sort();
    expect(references).toEqual(dependencies);
    expect(manifest.scripts?.build).toBe('tsc -b tsconfig.build.json');
  });

  it('has a README with the install command and an example, and a row in the root README', () => {
    const readme = readFileSync(join(pkg.dir, 'README.md'), 'utf8');
    expect(readme.startsWith(`# ${pkg.name}\n`)).toBe(true);
    expect(readme).toMatch(new RegExp(`npm install [^\\n]*${pkg.name.replace('/', '\\/')}`));
    expect(readme).toMatch(/```(ts|js|sh)\n/);
    const rootReadme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    expect(rootReadme).toContain(`| [\`${pkg.name}\`](packages/${pkg.folder}) |`);
  });
});

describe('tests that need isolation', () => {
  it('are listed as isolated: every file using vi.mock, vi.doMock, vi.stubGlobal, vi.stubEnv or fake timers', async () => {
    const missing: string[] = [];
    for (const pkg of packages) {
      const config = join(pkg.dir, 'vitest.isolated.config.ts');
      const isolated: readonly string[] = existsSync(config) ? (await import(config)).ISOLATED : [];
      const files = execFileSync('git', ['ls-files', '*.test.ts'], { cwd: pkg.dir, encoding: 'utf8' })
        .split('\n')
        .filter((f) => f !== '');
      for (const file of files) {
        const text = readFileSync(join(pkg.dir, file), 'utf8');
        if (/\bvi\.(mock|doMock|stubGlobal|stubEnv|useFakeTimers)\(/.test(text) && !isolated.includes(file)) {
          missing.push(`${pkg.folder}/${file}`);
        }
      }
    }
    expect(missing, 'add these to ISOLATED in the package’s vitest.isolated.config.ts').toEqual([]);
  });
});

describe('the root test suite (vitest.config.ts)', () => {
  it('merges every folder that has a vitest.config.ts: none is left out of `pnpm test`', () => {
    const config = readFileSync(join(ROOT, 'vitest.config.ts'), 'utf8');
    const listed = [...config.matchAll(/\{ dir: '([^']+)', shared: /g)].map((m) => m[1]).sort();
    const folders = [
      ...readdirSync(join(ROOT, 'packages')).map((name) => `packages/${name}`),
      'bench',
      'test',
    ]
      .filter((dir) => existsSync(join(ROOT, dir, 'vitest.config.ts')))
      .sort();
    expect(listed).toEqual(folders);
    for (const dir of folders) {
      if (existsSync(join(ROOT, dir, 'vitest.isolated.config.ts'))) {
        expect(config, `${dir}: its isolated config`).toMatch(
          new RegExp(`\\{ dir: '${dir}', shared: \\w+, isolated: \\w+ \\}`),
        );
      }
    }
  });

  it("gives each file its own folder's timeouts (test/timeouts.ts), not the longest of the suite", async ({
    task,
  }) => {
    const own = (await import('./vitest.config.js')).default.test!;
    // bench's 180 s is the suite's longest: this file gets test/vitest.config.ts's.
    expect(own.testTimeout).toBeLessThan(180_000);
    expect(task.timeout).toBe(own.testTimeout);
  });

  it('starts existing files first (test/slow-first.ts)', () => {
    for (const file of SLOW_FIRST) expect(existsSync(join(ROOT, file)), file).toBe(true);
  });
});

describe('pnpm bump', () => {
  it('sets one version in every published package', () => {
    const copy = mkdtempSync(join(tmpdir(), 'weft-bump-'));
    try {
      cpSync(join(ROOT, 'scripts'), join(copy, 'scripts'), { recursive: true });
      for (const pkg of packages)
        cpSync(join(pkg.dir, 'package.json'), join(copy, 'packages', pkg.folder, 'package.json'));
      execFileSync(process.execPath, [join(copy, 'scripts/bump.mjs'), '3.1.4-rc.1'], { encoding: 'utf8' });
      for (const folder of readdirSync(join(copy, 'packages'))) {
        const bumped = JSON.parse(readFileSync(join(copy, 'packages', folder, 'package.json'), 'utf8'));
        expect(bumped.version).toBe('3.1.4-rc.1');
      }
      expect(() =>
        execFileSync(process.execPath, [join(copy, 'scripts/bump.mjs'), 'next'], { stdio: 'pipe' }),
      ).toThrow(/Usage: pnpm bump/);
    } finally {
      rmSync(copy, { recursive: true, force: true });
    }
  });
});
