import { weftProject } from '../../vitest.shared.js';

// One PostgreSQL server for the package (src/test-support/global-setup.ts). Some tests start child
// processes that race for claims: give them time on a loaded machine.
export default weftProject('store-postgres', {
  include: ['src/**/*.test.ts'],
  globalSetup: ['src/test-support/global-setup.ts'],
  testTimeout: 60_000,
  hookTimeout: 60_000,
});
