#!/usr/bin/env node
// `pnpm bump <version>`: sets the one version every published @weft package shares (the CLI reads its
// own from package.json, and `pnpm pack`/`pnpm publish` turn `workspace:*` into it). Then commit, tag
// v<version>, and publish with `pnpm -r publish --access public`.
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const version = process.argv[2];
// semver 2.0.0: MAJOR.MINOR.PATCH with an optional pre-release (no build metadata: npm drops it).
if (
  version === undefined ||
  !/^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(-[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?$/.test(version)
) {
  console.error('Usage: pnpm bump <version>   e.g. pnpm bump 0.2.0 or pnpm bump 1.0.0-rc.1');
  process.exit(2);
}
const packages = fileURLToPath(new URL('../packages/', import.meta.url));
for (const folder of readdirSync(packages)) {
  const file = join(packages, folder, 'package.json');
  if (!existsSync(file)) continue;
  const text = readFileSync(file, 'utf8');
  const manifest = JSON.parse(text);
  if (manifest.private === true) continue;
  // Only the version line changes: the rest of the file keeps its formatting.
  const updated = text.replace(/^(\s*"version":\s*)"[^"]*"/m, `$1"${version}"`);
  writeFileSync(file, updated);
  console.log(`${manifest.name}: ${manifest.version} → ${version}`);
}
