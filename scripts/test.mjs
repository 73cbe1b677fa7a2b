#!/usr/bin/env node
// `pnpm test`: the type check and lint (turbo, cached) and every test (`vitest run`) at the same time.
// The type check is one single-threaded tsc of ~30 s of CPU; run before the tests, it left the second
// core idle for that long, while the tests alone leave cores idle too (waiting on child processes, on
// loopback servers). Exit 1 when either fails. Vitest's output streams as usual; the checks' output is
// printed once they end — at once when they fail (and the tests are stopped: nothing more to learn from
// them until the code type-checks), else after the tests. Arguments go to vitest. Run it as `pnpm test`:
// turbo looks for pnpm on the PATH that pnpm sets.
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const require = createRequire(import.meta.url);
const root = join(dirname(new URL(import.meta.url).pathname), '..');
const turbo = require.resolve('turbo/bin/turbo');
const vitest = join(dirname(require.resolve('vitest/package.json')), 'vitest.mjs');
const env = { ...process.env, TURBO_TELEMETRY_DISABLED: '1' };

/** Resolves with the exit code (a signal counts as 1). */
function exited(child) {
  return new Promise((resolve) => {
    child.on('error', (error) => {
      process.stderr.write(`${error.message}\n`);
      resolve(1);
    });
    child.on('close', (code) => resolve(code ?? 1));
  });
}

const checks = spawn(process.execPath, [turbo, 'run', '//#check:types', '//#check:lint'], {
  cwd: root,
  env,
  stdio: ['ignore', 'pipe', 'pipe'],
});
let checksOutput = '';
checks.stdout.on('data', (chunk) => (checksOutput += chunk));
checks.stderr.on('data', (chunk) => (checksOutput += chunk));
const tests = spawn(process.execPath, [vitest, 'run', ...process.argv.slice(2)], {
  cwd: root,
  env,
  stdio: 'inherit',
});
// Ctrl-C reaches both children (same process group); SIGTERM to this script is passed on.
process.on('SIGTERM', () => {
  checks.kill('SIGTERM');
  tests.kill('SIGTERM');
});

const testsDone = exited(tests);
const checksCode = await exited(checks);
if (checksCode !== 0) {
  tests.kill('SIGTERM');
  await testsDone;
  process.stderr.write(`\n${checksOutput}\nThe type check or lint failed (above): tests stopped.\n`);
  process.exit(1);
}
const testsCode = await testsDone;
process.stdout.write(`\n${checksOutput.trimEnd()}\n`);
process.exit(testsCode === 0 ? 0 : 1);
