import { weftProject } from '../vitest.shared.js';

// The packaging tests: package metadata, the public API report, and the consumer test (pack, install
// outside the repository, run). They read dist/, built by the root global setup (test/build.ts).
export default weftProject('packaging', {
  include: ['**/*.test.ts'],
  testTimeout: 120_000,
  hookTimeout: 240_000,
});
