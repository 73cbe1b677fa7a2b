/**
 * The files that take longest (tens of seconds of wall time: child processes, a PostgreSQL kill test,
 * the bench smoke, npm installing the packed packages), measured with the JSON report on the 2-core
 * machine. Started first, so that none of them starts near the end and leaves one core idle while it
 * finishes (vitest orders a fresh clone's files by size, and a small file can be a long one).
 * test/packages.test.ts checks that each still exists.
 */
export const SLOW_FIRST: readonly string[] = [
  'bench/test/smoke.test.ts',
  'test/consumer.test.ts',
  'packages/core/src/validate/hostile.test.ts',
  'packages/store-postgres/src/kill.test.ts',
  'packages/cli/test/process.test.ts',
  'packages/cli/test/serve.test.ts',
  'packages/store-sqlite/src/kill.test.ts',
  'packages/store-postgres/src/workers.test.ts',
  'packages/cli/test/runs.test.ts',
  'packages/cli/test/run.test.ts',
];
