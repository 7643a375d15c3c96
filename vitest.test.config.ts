import { defineConfig } from 'vitest/config';

// The harness's own tests (npm test). The conformance suites have their own config (vitest.config.ts).
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 300_000,
    hookTimeout: 300_000,
  },
});
