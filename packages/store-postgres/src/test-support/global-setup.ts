/**
 * Starts one throwaway PostgreSQL server for this package's tests (scripts/test-postgres.mjs) and stops
 * it afterwards. Each test works in schemas of its own (`freshSchema`), so files and tests never meet.
 *
 * When the server cannot start, the tests that need it are skipped with a loud message — except in CI
 * (`CI` set) or with WEFT_REQUIRE_POSTGRES=1, where that fails the run: CI must run them.
 */
import type { TestProject } from 'vitest/node';
import { startTestPostgres } from '../../../../scripts/test-postgres.mjs';

declare module 'vitest' {
  export interface ProvidedContext {
    /** The server's URL, or null when it could not start (then `postgresUnavailable` says why). */
    postgresUrl: string | null;
    postgresUnavailable: string | null;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  try {
    const server = await startTestPostgres({ fast: true });
    project.provide('postgresUrl', server.url);
    project.provide('postgresUnavailable', null);
    return () => server.stop();
  } catch (error) {
    const why = error instanceof Error ? error.message : String(error);
    if (process.env.CI || process.env.WEFT_REQUIRE_POSTGRES === '1') {
      throw new Error(
        `PostgreSQL could not start for the @weft/store-postgres tests, which CI must run: ${why}`,
      );
    }
    const bar = '!'.repeat(100);
    process.stderr.write(
      `\n${bar}\n!! SKIPPING the @weft/store-postgres tests: PostgreSQL could not start.\n!! ${why.replace(/\n/g, '\n!! ')}\n!! Set WEFT_TEST_DATABASE_URL=postgres://… to use a server of yours.\n${bar}\n\n`,
    );
    project.provide('postgresUrl', null);
    project.provide('postgresUnavailable', why);
    return async () => {};
  }
}
