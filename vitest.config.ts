/**
 * `vitest run` at the root runs every package's tests in one process (one worker pool, one report):
 * each folder with a vitest.config.ts below is a project. The JSON report is what .ci/summary.mjs reads.
 */
import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    projects: ['packages/*', 'packages/*/vitest.isolated.config.ts', 'bench', 'test'],
    // Builds dist/ once before every project (the CLI's process tests, the bench smoke and the packaging
    // tests run compiled code).
    globalSetup: ['test/build.ts'],
    reporters: ['default', 'json'],
    outputFile: { json: '.vitest/report.json' },
    // Every core on this machine: the default leaves one idle for the main process, which mostly waits.
    maxWorkers: availableParallelism(),
  },
});
