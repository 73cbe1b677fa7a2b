import { weftProject } from '../../vitest.shared.js';

export default weftProject('cli', {
  include: ['test/**/*.test.ts'],
  // runCli (test/helpers.ts) changes the working directory while a command runs: that needs a process of
  // its own per worker (forks), never threads.
  pool: 'forks',
  testTimeout: 30_000,
  hookTimeout: 30_000,
});
