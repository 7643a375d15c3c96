/**
 * The browser the harness drives: Debian's chromium (`apt-get install chromium`), or the one
 * TC_CHROMIUM names. The report's browser test and the authorization-code login use the same one.
 */
import { existsSync } from 'node:fs';

export const DEFAULT_CHROMIUM = '/usr/bin/chromium';

/** The chromium executable: TC_CHROMIUM when set, else Debian's. */
export function chromiumPath(env: NodeJS.ProcessEnv = process.env): string {
  return env['TC_CHROMIUM'] || DEFAULT_CHROMIUM;
}

export function chromiumInstalled(env: NodeJS.ProcessEnv = process.env): boolean {
  return existsSync(chromiumPath(env));
}

/** Headless flags: no sandbox (containers), no GPU, and nothing that phones home. */
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
