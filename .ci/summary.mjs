// Sums the vitest JSON reports of every package into the closing line CI reads: "N passed, N failed".
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const status = Number(process.argv[2] ?? 0);
let passed = 0;
let failed = 0;
let skipped = 0;
let missing = 0;
for (const dir of ['packages', 'bench']) {
  if (!existsSync(dir)) continue;
  const pkgs = dir === 'bench' ? ['.'] : readdirSync(dir);
  for (const pkg of pkgs) {
    const root = join(dir, pkg);
    if (!existsSync(join(root, 'package.json'))) continue;
    const report = join(root, '.turbo', 'vitest-report.json');
    if (!existsSync(report)) {
      missing++;
      continue;
    }
    const json = JSON.parse(readFileSync(report, 'utf8'));
    passed += json.numPassedTests ?? 0;
    failed += json.numFailedTests ?? 0;
    skipped += (json.numPendingTests ?? 0) + (json.numTodoTests ?? 0);
  }
}
// A package whose tests never reported (typecheck or lint failed first) counts as one failure when the run failed.
if (status !== 0 && failed === 0) failed += Math.max(1, missing);
console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
