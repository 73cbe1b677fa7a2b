/**
 * The root `vitest run`'s global setup: builds every package (`tsc -b`, incremental: about a second when
 * dist/ is up to date) before any test, because some tests run what users run — the compiled `weft`
 * binary, the benchmark runner, the packed tarballs.
 */
import { execFile } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../', import.meta.url));

export default async function build(): Promise<void> {
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  const projects = [
    ...readdirSync(`${root}packages`).map((name) => `packages/${name}/tsconfig.build.json`),
    'bench/tsconfig.build.json',
  ].filter((project) => existsSync(`${root}${project}`));
  await new Promise<void>((resolve, reject) => {
    execFile(process.execPath, [tsc, '-b', ...projects], { cwd: root }, (error, stdout, stderr) =>
      error ? reject(new Error(`The build failed (pnpm build):\n${stdout}${stderr}`)) : resolve(),
    );
  });
}
