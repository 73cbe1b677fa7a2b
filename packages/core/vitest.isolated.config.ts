import { isolatedProject } from '../../vitest.shared.js';

/** Test files that mock modules or change global state: each runs with a fresh module graph. */
export const ISOLATED = [
  'src/validate/internal.test.ts',
  // Asserts that a finished run is garbage-collected: no other file's module state in its worker.
  'src/run/lifetime.test.ts',
];

export default isolatedProject('core', ISOLATED, { testTimeout: 30_000, hookTimeout: 30_000 });
