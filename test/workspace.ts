/** The repository as the packaging tests see it: its packages and the README's embedding snippet. */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../', import.meta.url));

export interface WorkspacePackage {
  /** `@weft/<folder>` */
  name: string;
  /** The folder under packages/. */
  folder: string;
  dir: string;
  version: string;
  manifest: Record<string, any>;
}

/** Every package under packages/ (`private` ones excluded). */
export function publicPackages(): WorkspacePackage[] {
  const dir = join(ROOT, 'packages');
  return readdirSync(dir)
    .filter((folder) => existsSync(join(dir, folder, 'package.json')))
    .map((folder) => {
      const manifest = JSON.parse(readFileSync(join(dir, folder, 'package.json'), 'utf8'));
      return { name: manifest.name, folder, dir: join(dir, folder), version: manifest.version, manifest };
    })
    .filter((pkg) => pkg.manifest.private !== true);
}

/** The first ```js block under "## Embedding" in README.md. */
export function embeddingSnippet(): string {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const section = readme.split(/^## /m).find((s) => s.startsWith('Embedding\n'));
  const code = section === undefined ? undefined : /```js\n([\s\S]*?)```/.exec(section)?.[1];
  if (code === undefined) throw new Error('README.md has no ```js block under "## Embedding".');
  return code;
}
