import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { ROOT } from '../descriptor/load.js';
import { DEFAULT_RUN_FILE, RUN_DIR, type RunRecord } from '../run-record.js';

export const RESULTS_DIR = path.join(ROOT, 'reports/allure-results');
export const HTML_FILE = path.join(ROOT, 'reports/html/index.html');

/**
 * Runs the conformance suites (they write reports/allure-results), then Allure 3 turns the results
 * into one self-contained reports/html/index.html. Tools run as child processes from node_modules:
 * no network, no global install.
 */
export async function generateReport(_record: RunRecord): Promise<{ message: string }> {
  rmSync(RESULTS_DIR, { recursive: true, force: true }); // allure-vitest never cleans it
  mkdirSync(RUN_DIR, { recursive: true });
  const env = { ...process.env, TC_RUN_FILE: DEFAULT_RUN_FILE, FORCE_COLOR: '0' };
  const vitest = spawnSync(process.execPath, [path.join(ROOT, 'node_modules/vitest/vitest.mjs'), 'run', '--config', path.join(ROOT, 'vitest.config.ts')], { cwd: ROOT, env, encoding: 'utf8' });
  writeFileSync(path.join(RUN_DIR, 'vitest.log'), `${vitest.stdout}\n${vitest.stderr}`);
  if (!existsSync(RESULTS_DIR)) {
    throw new Error(`the conformance suites wrote no Allure results; see ${path.relative(process.cwd(), path.join(RUN_DIR, 'vitest.log'))}`);
  }
  const allure = spawnSync(process.execPath, [path.join(ROOT, 'node_modules/allure/cli.js'), 'generate', '--config', path.join(ROOT, 'reports/allurerc.mjs')], { cwd: ROOT, env, encoding: 'utf8' });
  if (allure.status !== 0 || !existsSync(HTML_FILE)) {
    throw new Error(`allure generate failed (exit ${allure.status}): ${(allure.stderr || allure.stdout).trim().split('\n')[0]}`);
  }
  return { message: `report: ${path.relative(process.cwd(), HTML_FILE) || HTML_FILE} (Allure results in ${path.relative(process.cwd(), RESULTS_DIR)})` };
}
