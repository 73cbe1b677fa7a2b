import { weftProject } from '../../vitest.shared.js';

export default weftProject('cli', {
  include: ['test/**/*.test.ts'],
  // runCli (test/helpers.ts) changes the working directory while a command runs: that needs a process of
  // its own per worker (forks), never threads.
  pool: 'forks',
  // A throwaway PostgreSQL server for `weft worker` / `weft run --db postgres://…` (test/worker.test.ts).
  globalSetup: ['../store-postgres/src/test-support/global-setup.ts'],
  testTimeout: 30_000,
  hookTimeout: 30_000,
});
