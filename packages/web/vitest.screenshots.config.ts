import { defineConfig } from 'vitest/config';

// `npm run screenshots`: the screenshots of docs/ui.md and the README, taken from seeded data in
// real Chromium. Not part of `npm test` (it writes into docs/).
export default defineConfig({
  test: {
    include: ['packages/web/test/browser/*.shots.ts'],
    testTimeout: 300_000,
    hookTimeout: 300_000,
  },
});
