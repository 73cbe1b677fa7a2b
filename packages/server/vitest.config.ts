import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const src = (pkg: string) => fileURLToPath(new URL(`../${pkg}/src/index.ts`, import.meta.url));

export default defineConfig({
  resolve: {
    alias: {
      '@weft/core': src('core'),
      '@weft/testing': src('testing'),
    },
  },
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    reporters: ['default', 'json'],
    outputFile: { json: '.turbo/vitest-report.json' },
    testTimeout: 60_000,
    // The load test measures the heap after a full GC.
    execArgv: ['--expose-gc'],
  },
});
