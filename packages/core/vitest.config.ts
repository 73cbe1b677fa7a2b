import { weftProject } from '../../vitest.shared.js';
import { ISOLATED } from './vitest.isolated.config.js';

// testTimeout catches hangs: generous, because a shared machine can be several times slower than an idle one.
export default weftProject(
  'core',
  { include: ['src/**/*.test.ts'], testTimeout: 120_000, hookTimeout: 120_000 },
  ISOLATED,
);
