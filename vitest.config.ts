/**
 * `vitest run` at the root runs every package's tests in one process, one worker pool and one report
 * (the JSON report is what .ci/summary.mjs reads), as one vitest project plus one for the files that need
 * isolation: vitest.shared.ts (suiteProjects) merges the packages' own configs, listed here.
 * test/packages.test.ts checks that every folder with a vitest.config.ts is listed.
 */
import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';
import bench from './bench/vitest.config.js';
import cli from './packages/cli/vitest.config.js';
import core from './packages/core/vitest.config.js';
import coreIsolated from './packages/core/vitest.isolated.config.js';
import providerAnthropic from './packages/provider-anthropic/vitest.config.js';
import providerHttp from './packages/provider-http/vitest.config.js';
import providerOpenai from './packages/provider-openai/vitest.config.js';
import server from './packages/server/vitest.config.js';
import storePostgres from './packages/store-postgres/vitest.config.js';
import storeSqlite from './packages/store-sqlite/vitest.config.js';
import testing from './packages/testing/vitest.config.js';
import packaging from './test/vitest.config.js';
import { SlowFirstSequencer, suiteProjects } from './vitest.shared.js';

export const SUITE = [
  { dir: 'packages/cli', shared: cli },
  { dir: 'packages/core', shared: core, isolated: coreIsolated },
  { dir: 'packages/provider-anthropic', shared: providerAnthropic },
  { dir: 'packages/provider-http', shared: providerHttp },
  { dir: 'packages/provider-openai', shared: providerOpenai },
  { dir: 'packages/server', shared: server },
  { dir: 'packages/store-postgres', shared: storePostgres },
  { dir: 'packages/store-sqlite', shared: storeSqlite },
  { dir: 'packages/testing', shared: testing },
  { dir: 'bench', shared: bench },
  { dir: 'test', shared: packaging },
];

export default defineConfig({
  test: {
    projects: suiteProjects(SUITE),
    // Builds dist/ once before every project (the CLI's process tests, the bench smoke and the packaging
    // tests run compiled code).
    globalSetup: ['test/build.ts'],
    sequence: { sequencer: SlowFirstSequencer },
    reporters: ['default', 'json'],
    outputFile: { json: '.vitest/report.json' },
    // Every core on this machine: the default leaves one idle for the main process, which mostly waits.
    maxWorkers: availableParallelism(),
  },
});
