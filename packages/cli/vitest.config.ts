import { weftProject } from '../../vitest.shared.js';

export default weftProject('cli', {
  include: ['test/**/*.test.ts'],
  // runCli (test/helpers.ts) changes the working directory while a command runs: that needs a process of
  // its own per worker (forks), never threads.
  pool: 'forks',
  // A throwaway PostgreSQL server for `weft worker` / `weft run --db postgres://…` (test/worker.test.ts).
  globalSetup: ['../store-postgres/src/test-support/global-setup.ts'],
  // Catches hangs, not slowness: a test that starts `weft serve` twice spends most of 30 s starting Node
  // processes when the machine is busy.
  testTimeout: 120_000,
  hookTimeout: 120_000,
});
