/**
 * What every package's vitest.config.ts shares:
 * - `@weft/<name>` resolves to packages/<name>/src (tests run against the sources, no build needed) and
 *   `@weft/core/store` to the store entry point; a new package under packages/ needs no change here;
 * - test files of a project share one module graph per worker (`isolate: false`): each module is
 *   loaded once per worker instead of once per file, which is most of the suite's time. A test file
 *   that mocks modules or changes global state (vi.mock, vi.doMock, vi.stubGlobal, vi.stubEnv,
 *   vi.useFakeTimers) runs isolated instead: list it in the package's `isolated` (see
 *   packages/core/vitest.isolated.config.ts); test/packages.test.ts checks that none is missing.
 */
import { fileURLToPath } from 'node:url';
import { defineProject, type UserWorkspaceConfig } from 'vitest/config';
import { BaseSequencer, type TestSpecification } from 'vitest/node';
import { SLOW_FIRST } from './test/slow-first.js';

const root = new URL('./', import.meta.url);
const packages = fileURLToPath(new URL('./packages/', root));

export const weftAliases = [
  { find: /^@weft\/core\/store$/, replacement: `${packages}core/src/store/index.ts` },
  { find: /^@weft\/core\/expressions$/, replacement: `${packages}core/src/expressions/public.ts` },
  { find: /^@weft\/testing\/store-contract$/, replacement: `${packages}testing/src/store-contract.ts` },
  { find: /^@weft\/testing\/durable-contract$/, replacement: `${packages}testing/src/durable-contract.ts` },
  { find: /^@weft\/testing\/worker-contract$/, replacement: `${packages}testing/src/worker-contract.ts` },
  { find: /^@weft\/([a-z0-9-]+)$/, replacement: `${packages}$1/src/index.ts` },
];

type TestOptions = NonNullable<UserWorkspaceConfig['test']>;

/** A package's test project: shared module graph, minus the files listed in `isolated`. */
export function weftProject(
  name: string,
  test: TestOptions & { include: string[] },
  isolated: readonly string[] = [],
): UserWorkspaceConfig {
  return defineProject({
    resolve: { alias: weftAliases },
    test: { name, isolate: false, ...test, exclude: [...(test.exclude ?? []), ...isolated] },
  });
}

/** The isolated part of a package's tests (a fresh module graph per file): `<name>:isolated`. */
export function isolatedProject(
  name: string,
  isolated: readonly string[],
  test: TestOptions = {},
): UserWorkspaceConfig {
  return defineProject({
    resolve: { alias: weftAliases },
    test: { ...test, name: `${name}:isolated`, isolate: true, include: [...isolated] },
  });
}

/** A package's test configs, as its vitest.config.ts (and vitest.isolated.config.ts) export them. */
export interface PackageTests {
  /** The package's folder, relative to the repository root: `packages/core`, `bench`, `test`. */
  dir: string;
  shared: UserWorkspaceConfig;
  isolated?: UserWorkspaceConfig;
}

/** A folder's own timeouts, which the suite's setup file (test/timeouts.ts) applies to each of its files. */
export interface FolderTimeouts {
  /** `packages/core/`: a test file whose path (from the root) starts with it gets these. */
  dir: string;
  testTimeout: number;
  hookTimeout: number;
}

declare module 'vitest' {
  export interface ProvidedContext {
    weftTimeouts: FolderTimeouts[];
  }
}

/** The options a package's test config may set; anything else would be lost in the merge, so it throws. */
const MERGEABLE = new Set([
  'name',
  'isolate',
  'include',
  'exclude',
  'testTimeout',
  'hookTimeout',
  'globalSetup',
  'execArgv',
  'pool',
]);

/**
 * The root `vitest run`'s projects: every package's tests in ONE project (`weft`, shared module graph),
 * and every package's isolated files in one more (`weft:isolated`). One project per package instead
 * would give each its own Vite module graph (every source transformed again per project: core's by ten
 * of them) and its own worker processes (a worker only moves on to the next file of its own project, so
 * each project's first file pays the imports again in each worker): collecting the suite cost 59 s of
 * CPU that way against 24 s merged (`vitest list`, 2 cores). Each package's vitest.config.ts stays what
 * runs when vitest is started inside the package, and is the source of this merge: its include and
 * exclude patterns (made relative to the root), its global setups (run once: the PostgreSQL server is
 * shared by the CLI and store tests), its execArgv, and its timeouts, which test/timeouts.ts applies to
 * its files alone.
 */
export function suiteProjects(packages: readonly PackageTests[]): UserWorkspaceConfig[] {
  const include: string[] = [];
  const exclude: string[] = [];
  const isolatedInclude: string[] = [];
  const globalSetup = new Set<string>();
  const execArgv = new Set<string>();
  const timeouts: FolderTimeouts[] = [];
  const isolatedTimeouts: FolderTimeouts[] = [];
  const within = (dir: string, pattern: string) => `${dir}/${pattern.replace(/^\.\//, '')}`;
  for (const { dir, shared, isolated } of packages) {
    for (const [which, config] of [
      ['vitest.config.ts', shared],
      ['vitest.isolated.config.ts', isolated],
    ] as const) {
      const test = config?.test;
      if (test === undefined) continue;
      const unknown = Object.keys(test).filter((key) => !MERGEABLE.has(key));
      if (unknown.length > 0) {
        throw new Error(
          `${dir}/${which} sets ${unknown.join(', ')}, which the root suite does not merge (vitest.shared.ts, suiteProjects): add it there.`,
        );
      }
      if (test.pool !== undefined && test.pool !== 'forks') {
        throw new Error(`${dir}/${which}: the root suite runs every file in forks, not ${test.pool}.`);
      }
      const own: FolderTimeouts = {
        dir: `${dir}/`,
        testTimeout: test.testTimeout ?? 5_000,
        hookTimeout: test.hookTimeout ?? 10_000,
      };
      if (config === shared) {
        include.push(...(test.include ?? []).map((p) => within(dir, p)));
        exclude.push(...(test.exclude ?? []).map((p) => within(dir, p)));
        for (const file of test.globalSetup === undefined ? [] : [test.globalSetup].flat()) {
          globalSetup.add(fileURLToPath(new URL(file, new URL(`${dir}/`, root))));
        }
        for (const arg of test.execArgv ?? []) execArgv.add(arg);
        timeouts.push(own);
      } else {
        isolatedInclude.push(...(test.include ?? []).map((p) => within(dir, p)));
        isolatedTimeouts.push(own);
      }
    }
  }
  const longest = (list: FolderTimeouts[]) => ({
    // What a file outside every listed folder gets (none today); each file gets its folder's through
    // test/timeouts.ts.
    testTimeout: Math.max(...list.map((t) => t.testTimeout)),
    hookTimeout: Math.max(...list.map((t) => t.hookTimeout)),
  });
  const setupFiles = [fileURLToPath(new URL('./test/timeouts.ts', root))];
  return [
    defineProject({
      resolve: { alias: weftAliases },
      test: {
        name: 'weft',
        isolate: false,
        pool: 'forks',
        include,
        exclude: ['**/node_modules/**', '**/dist/**', ...exclude],
        globalSetup: [...globalSetup],
        execArgv: [...execArgv],
        setupFiles,
        provide: { weftTimeouts: timeouts },
        ...longest(timeouts),
      },
    }),
    defineProject({
      resolve: { alias: weftAliases },
      test: {
        name: 'weft:isolated',
        isolate: true,
        pool: 'forks',
        include: isolatedInclude,
        setupFiles,
        provide: { weftTimeouts: isolatedTimeouts },
        ...longest(isolatedTimeouts),
      },
    }),
  ];
}

/**
 * vitest's order (files that failed last time first, then the longest last time, else the largest),
 * with SLOW_FIRST (test/slow-first.ts) ahead of everything. `--sequence.shuffle` shuffles every file instead, by the seed
 * vitest prints (`--sequence.seed` repeats an order).
 */
export class SlowFirstSequencer extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const { shuffle, seed } = this.ctx.config.sequence;
    if (shuffle === true) return shuffled(files, seed ?? Date.now());
    const sorted = await super.sort(files);
    const rank = (spec: TestSpecification) => {
      const i = SLOW_FIRST.indexOf(spec.moduleId.slice(fileURLToPath(root).length));
      return i === -1 ? SLOW_FIRST.length : i;
    };
    // Array.prototype.sort is stable: the rest keeps vitest's order.
    return sorted.sort((a, b) => rank(a) - rank(b));
  }
}

/** A copy of `items` in an order drawn from `seed` (Fisher–Yates over mulberry32). */
function shuffled<T>(items: readonly T[], seed: number): T[] {
  let state = seed >>> 0;
  const random = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}
