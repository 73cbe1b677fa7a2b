import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    reporters: ['default', 'json'],
    outputFile: { json: '.turbo/vitest-report.json' },
    testTimeout: 180_000,
    hookTimeout: 180_000,
  },
});
