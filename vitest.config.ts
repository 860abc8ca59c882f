import { defineConfig } from 'vitest/config';

/**
 * The schemathesis run of every OpenAPI document (`npm run fuzz`) is not yet at zero findings
 * (docs/reliability.md lists what remains, by cause); it joins the default run once it is, so a
 * red fuzz run never hides another failure meanwhile.
 */
const FUZZ = 'packages/server/test/openapi-fuzz.test.ts';

export default defineConfig({
  test: {
    include: ['packages/*/src/**/*.test.ts', 'packages/*/test/**/*.test.ts'],
    exclude: ['**/node_modules/**', '**/.git/**', ...(process.env.CAIRN_FUZZ === '1' ? [] : [FUZZ])],
    // Facade suites run once per store backend; PostgreSQL schemas are per-file, so files may run in parallel.
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});
