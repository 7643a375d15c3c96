import { defineConfig } from 'vitest/config';

// The harness's own tests (npm test). The conformance suites have their own config (vitest.config.ts).
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Two files at a time: most of a file's time is waiting (token expiry, servers, the browser).
    maxWorkers: 2,
    testTimeout: 300_000,
    hookTimeout: 300_000,
  },
});
