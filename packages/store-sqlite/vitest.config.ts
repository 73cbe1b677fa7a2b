import { weftProject } from '../../vitest.shared.js';

// Some tests start child processes that race for claims on one database file: give them time on a loaded machine.
export default weftProject('store-sqlite', {
  include: ['src/**/*.test.ts'],
  testTimeout: 60_000,
  hookTimeout: 60_000,
});
