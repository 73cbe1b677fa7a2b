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

const packages = fileURLToPath(new URL('./packages/', import.meta.url));

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
