// Allure 3 (npm package `allure` 3.18) config for token-conformance.
//
// Run from the repo root:   npx allure generate --config reports/allurerc.mjs
//   (equivalent:            npx allure generate --cwd reports)
// `allure generate` only auto-discovers allurerc.* in the cwd (or --cwd), so from the repo root
// --config is required. Relative paths in a config resolve against the process cwd, not this
// file, so every path below is made absolute from this file's location: the command works from
// any directory. Exit code is 0 even when tests failed; 1 if reports/allure-results is missing.
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'allure';

const here = (p) => fileURLToPath(new URL(p, import.meta.url));

// Failure messages start with a fixed prefix: "MUST: ", "EXPECTATION: ", "SHOULD: ".
// SHOULD violations are passing vitest tests that our reporter subclass writes with status
// "unknown" + label conformance=should-violation (see docs/allure-notes.md).
const isShould = (d) =>
  /^SHOULD:/.test(d.message ?? '') ||
  d.labels.some((l) => l.name === 'conformance' && l.value === 'should-violation');

export default defineConfig({
  name: 'Token endpoint conformance',
  resultsDir: here('./allure-results'),
  output: here('./html'),
  // One JSON line per `allure generate`, trimmed to historyLimit lines; feeds each test's History tab.
  historyPath: process.env.TC_HISTORY_FILE ?? here('./history/history.jsonl'), // the CLI sets it per --out
  historyLimit: 20,
  hideLabels: ['host', 'thread', 'language', 'framework', 'package', '_fallbackTestCaseId'],
  plugins: {
    awesome: {
      options: {
        singleFile: true, // -> reports/html/index.html (+ summary.json, test-results.json); works from file://
        reportName: 'Token endpoint conformance',
        groupBy: ['parentSuite', 'suite'], // Provider -> Area -> leaf = test name (Check)
      },
    },
  },
  // Awesome-report categories. The categories.json that allure-vitest can write into the results
  // dir is NOT read by the awesome plugin. First matching rule wins; display order = array order.
  // Built-in "Product errors" (failed) / "Test errors" (broken) are appended after these.
  categories: [
    // A check whose prerequisite failed (no token could be had) is broken, but it is no outage.
    { name: 'Prerequisite failed (another failure prevents this check)', matchers: { statuses: ['broken'], message: /^prerequisite failed/ } },
    // The egress proxy refused or failed the tunnel (src/http/runner.ts, kind 'proxy'): no outage of the endpoint.
    { name: 'Proxy refused or failed (the endpoint was not reached)', matchers: { statuses: ['broken'], message: /proxy failure, the endpoint was not reached|\(the proxy \S+ / }, expand: true },
    { name: 'Endpoint unreachable or harness error', matchers: { statuses: ['broken'] }, expand: true },
    // npm run compare / --since (src/compare/suite.ts): the classes that fail a comparison.
    { name: 'Migration: breaks clients', matchers: (d) => d.status === 'failed' && d.labels.some((l) => l.name === 'migration' && l.value === 'breaks-clients'), expand: true },
    { name: 'Migration: conformance regression', matchers: (d) => d.status === 'failed' && d.labels.some((l) => l.name === 'migration' && l.value === 'conformance-regression'), expand: true },
    { name: 'Non-conformant (MUST)', matchers: { statuses: ['failed'], message: /^MUST:/ }, expand: true },
    {
      name: 'Expectation not met', // "EXPECTATION: ..." and any other failed assertion (e.g. plain expect())
      matchers: (d) => d.status === 'failed' && !/^MUST:/.test(d.message ?? '') && !isShould(d),
    },
    {
      name: 'Known deviation (declared in the descriptor)',
      matchers: (d) => d.labels.some((l) => l.name === 'conformance' && l.value === 'known-deviation'),
    },
    { name: 'Warning (SHOULD)', matchers: (d) => isShould(d) && d.status !== 'broken' },
  ],
});
