import { weftProject } from '../../vitest.shared.js';

export default weftProject('server', {
  include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
  // Real HTTP on a loaded machine, the load test and the docs type-check take their time.
  testTimeout: 120_000,
  hookTimeout: 60_000,
  // The load test measures the heap after a full GC.
  execArgv: ['--expose-gc'],
});
