import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const src = (pkg: string, file = 'index.ts') =>
  fileURLToPath(new URL(`../${pkg}/src/${file}`, import.meta.url));

export default defineConfig({
  resolve: {
    alias: [
      { find: '@weft/testing/store-contract', replacement: src('testing', 'store-contract.ts') },
      { find: '@weft/core', replacement: src('core') },
      { find: '@weft/testing', replacement: src('testing') },
    ],
  },
  test: {
    include: ['src/**/*.test.ts'],
    reporters: ['default', 'json'],
    outputFile: { json: '.turbo/vitest-report.json' },
    testTimeout: 60_000,
  },
});
