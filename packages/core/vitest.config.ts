import { weftProject } from '../../vitest.shared.js';
import { ISOLATED } from './vitest.isolated.config.js';

export default weftProject('core', { include: ['src/**/*.test.ts'], testTimeout: 30_000 }, ISOLATED);
