import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['packages/*/src/**/*.test.ts', 'packages/*/test/**/*.test.ts'],
    exclude: ['**/node_modules/**', '**/.git/**'],
    // Facade suites run once per store backend; PostgreSQL schemas are per-file, so files may run in parallel.
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});
