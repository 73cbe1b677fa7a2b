// Reads the JSON report of the root `vitest run` (every package is a project of it) and prints the
// closing line CI reads: "N passed, N failed".
import { existsSync, readFileSync } from 'node:fs';

const REPORT = '.vitest/report.json';
const status = Number(process.argv[2] ?? 0);
let passed = 0;
let failed = 0;
let skipped = 0;
if (existsSync(REPORT)) {
  const json = JSON.parse(readFileSync(REPORT, 'utf8'));
  passed = json.numPassedTests ?? 0;
  failed = json.numFailedTests ?? 0;
  skipped = (json.numPendingTests ?? 0) + (json.numTodoTests ?? 0);
  // A file that fails before its tests run (an import error) has no failed test: count it.
  if (failed === 0) failed = json.numFailedTestSuites ?? 0;
}
// No report (the build, typecheck or lint failed first) while the command failed: one failure.
if (status !== 0 && failed === 0) failed = 1;
console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
