/**
 * The browser tests need Debian's chromium (/usr/bin/chromium). On a machine without it they are
 * skipped with a loud message naming the package, so `npm ci && npm test` works on a fresh
 * developer machine; under CI (CI set) a missing browser is a failure, never a silent skip.
 */
import { existsSync } from 'node:fs';
import { describe } from 'vitest';
import { CHROMIUM_ARGS, chromiumPath } from '../../src/login/chromium.js';

export const CHROMIUM = chromiumPath();
export { CHROMIUM_ARGS };

const missing = !existsSync(CHROMIUM);
if (missing && !process.env['CI']) {
  process.stderr.write(
    `\n*** SKIPPING the browser tests: ${CHROMIUM} is missing. Install Debian's package: apt-get install chromium ***\n\n`,
  );
}

/** `describe` for tests that open the report in chromium: skipped (loudly) without it, unless CI is set. */
export const describeInBrowser: typeof describe.skip =
  missing && !process.env['CI'] ? describe.skip : describe;
