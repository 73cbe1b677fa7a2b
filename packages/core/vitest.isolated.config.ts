import { isolatedProject } from '../../vitest.shared.js';

/** Test files that mock modules or change global state: each runs with a fresh module graph. */
export const ISOLATED = ['src/validate/internal.test.ts'];

export default isolatedProject('core', ISOLATED, { testTimeout: 30_000 });
