import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const src = (pkg: string) => fileURLToPath(new URL(`../${pkg}/src/index.ts`, import.meta.url));

export default defineConfig({
  resolve: {
    alias: {
      '@weft/core': src('core'),
      '@weft/testing': src('testing'),
      '@weft/provider-http': src('provider-http'),
      '@weft/provider-openai': src('provider-openai'),
      '@weft/provider-anthropic': src('provider-anthropic'),
      '@weft/store-sqlite': src('store-sqlite'),
    },
  },
  test: {
    include: ['test/**/*.test.ts'],
    reporters: ['default', 'json'],
    outputFile: { json: '.turbo/vitest-report.json' },
    testTimeout: 90_000, // most tests spawn the binary, some several times
    hookTimeout: 30_000,
  },
});
