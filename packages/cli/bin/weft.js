#!/usr/bin/env node
// The `weft` binary: runs the CLI's TypeScript sources through tsx, so it works from a fresh clone
// with no build step. tsx reads packages/cli/tsconfig.json, whose `paths` map every `@weft/*` package
// to its `src` (see tsconfig.base.json).
import { fileURLToPath } from 'node:url';
import { register } from 'tsx/esm/api';

register({ tsconfig: fileURLToPath(new URL('../tsconfig.json', import.meta.url)) });
const { main } = await import('../src/main.ts');
process.exitCode = await main(process.argv.slice(2));
