/**
 * The suite's setup file (vitest.shared.ts, suiteProjects): every package's tests run in one vitest
 * project, so each test file gets the timeouts of its own package's vitest.config.ts here — a 30 s
 * bound stays 30 s for the provider tests, while the packaging tests keep their 240 s hooks.
 */
import { expect, inject, vi } from 'vitest';

const file = expect.getState().testPath;
if (file !== undefined) {
  const root = new URL('../', import.meta.url).pathname;
  const path = file.startsWith(root) ? file.slice(root.length) : file;
  // The deepest folder that holds the file (none is nested in another today).
  const own = inject('weftTimeouts')
    .filter((t) => path.startsWith(t.dir))
    .sort((a, b) => b.dir.length - a.dir.length)[0];
  // Reset by vitest after each file (vi.resetConfig), so a file never inherits another's.
  if (own !== undefined) vi.setConfig({ testTimeout: own.testTimeout, hookTimeout: own.hookTimeout });
}
