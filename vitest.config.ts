import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { configDefaults, defineConfig } from 'vitest/config';
import { comparisonForRun } from './src/compare/output.js';
import { DEFAULT_RUN_FILE, describeProxyUse, readRunRecord } from './src/run-record.js';

// The conformance suites. `npm run conformance` observes the providers, writes the run record
// (reports/.run/run.json) and then runs these suites, which turn each finding into an Allure result.
const runFile = process.env['TC_RUN_FILE'] ?? DEFAULT_RUN_FILE;
const record = existsSync(runFile) ? readRunRecord(runFile) : undefined;

// Short keys: the report's Metadata cuts keys and values at a fixed width. The token endpoint and the
// requests made per provider are on the landing page's verdict lines (src/report/landing.ts), the
// resource in each check's description.
const environmentInfo: Record<string, string> = {
  harness: `token-conformance ${record?.harnessVersion ?? 'unknown'}`,
  'Node.js': record?.nodeVersion ?? process.version,
  'strict mode': String(record?.strict ?? false),
};
for (const run of record?.providers ?? []) {
  if (run.provider.insecure)
    environmentInfo[`${run.provider.name} TLS`] = 'INSECURE: verification off';
  // host:port and the variable only: the proxy URL's credentials never reach the report.
  const proxy = describeProxyUse(run.provider.proxy);
  if (proxy) environmentInfo[`${run.provider.name} proxy`] = proxy;
}

// The suites and the reporter sit beside this file: the sources (.ts) in the repository, the
// compiled files (.js) in the installed package's dist/. Nothing here depends on the caller's cwd.
const here = path.dirname(fileURLToPath(import.meta.url));
const ext = import.meta.url.endsWith('.js') ? 'js' : 'ts';

export default defineConfig({
  root: here,
  // The CLI points Vite's cache under --out (TC_VITE_CACHE_DIR): nothing is written into the package.
  ...(process.env['TC_VITE_CACHE_DIR'] ? { cacheDir: process.env['TC_VITE_CACHE_DIR'] } : {}),
  test: {
    include: [`suites/**/*.test.${ext}`],
    // The migration suite has tests only when this run was compared (a file without tests fails).
    exclude: [
      ...configDefaults.exclude,
      ...(comparisonForRun(runFile) ? [] : [`suites/migration.test.${ext}`]),
    ],
    reporters: [
      'dot',
      [
        path.join(here, `src/report/reporter.${ext}`),
        {
          resultsDir: process.env['TC_RESULTS_DIR'] ?? 'reports/allure-results',
          environmentInfo,
          reportMatchers: false,
        },
      ],
    ],
  },
});
