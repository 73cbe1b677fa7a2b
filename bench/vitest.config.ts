import { weftProject } from '../vitest.shared.js';

// The smoke test runs the compiled runner (dist/main.js, built by `pnpm build`) in a child process.
export default weftProject('bench', {
  include: ['test/**/*.test.ts'],
  testTimeout: 180_000,
  hookTimeout: 180_000,
});
