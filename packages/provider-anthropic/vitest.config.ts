import { weftProject } from '../../vitest.shared.js';

export default weftProject('provider-anthropic', {
  include: ['src/**/*.test.ts'],
  testTimeout: 30_000,
  hookTimeout: 30_000,
});
