import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { callerDir } from '../caller-dir.js';
import { ROOT } from '../descriptor/load.js';
import { CODE_ROOT, COMPILED } from '../package-root.js';
import { writeCaFiles } from './ca-files.js';
import { landingData, patchReport } from './landing.js';

const DATA_GUARD = '<script>window.allureReportData = window.allureReportData || {};</script>';

export const REPORTS_DIR = path.join(ROOT, 'reports');

// Found from this package, wherever it is installed (npm may hoist vitest and allure beside it):
// the compiled package runs its compiled suites (dist/vitest.config.js), the repository its sources.
const requireHere = createRequire(import.meta.url);
const VITEST_CLI = path.join(
  path.dirname(requireHere.resolve('vitest/package.json')),
  'vitest.mjs',
);
// allure exports no package.json: its main entry is <package>/dist/index.js.
const ALLURE_CLI = path.resolve(path.dirname(requireHere.resolve('allure')), '../cli.js');
const VITEST_CONFIG = path.join(CODE_ROOT, COMPILED ? 'vitest.config.js' : 'vitest.config.ts');

/** Where one run writes: the run record, Allure results and the HTML report. */
export interface OutputPaths {
  runFile: string;
  resultsDir: string;
  htmlDir: string;
  log: string;
  /** Allure's own history (the report's History tab), next to the run history. */
  historyFile: string;
  junitFile: string;
  summaryFile: string;
  /** The run history (--history): one line of verdicts per run. */
  runHistoryFile: string;
}

export function outputPaths(dir = REPORTS_DIR, runHistoryFile?: string): OutputPaths {
  const runHistory = runHistoryFile ?? path.join(dir, 'history/runs.jsonl');
  return {
    runFile: path.join(dir, '.run/run.json'),
    resultsDir: path.join(dir, 'allure-results'),
    htmlDir: path.join(dir, 'html'),
    log: path.join(dir, '.run/vitest.log'),
    // Beside the run history, so carrying one file's folder from night to night carries both.
    historyFile: runHistoryFile
      ? path.join(path.dirname(runHistory), `${path.basename(runHistory, '.jsonl')}.allure.jsonl`)
      : path.join(dir, 'history/history.jsonl'),
    junitFile: path.join(dir, 'junit.xml'),
    summaryFile: path.join(dir, 'summary.md'),
    runHistoryFile: runHistory,
  };
}

/**
 * Runs the conformance suites (they write reports/allure-results), then Allure 3 turns the results
 * into one self-contained reports/html/index.html. Tools run as child processes from node_modules:
 * no network, no global install.
 */
export async function generateReport(out: OutputPaths): Promise<{ message: string }> {
  rmSync(out.resultsDir, { recursive: true, force: true }); // allure-vitest never cleans it
  rmSync(out.htmlDir, { recursive: true, force: true });
  mkdirSync(path.dirname(out.log), { recursive: true });
  const env = {
    ...process.env,
    TC_RUN_FILE: out.runFile,
    TC_RESULTS_DIR: out.resultsDir,
    NO_COLOR: '1',
    TC_HISTORY_FILE: out.historyFile,
    // Vite's cache goes under --out: nothing is written into the (installed) package.
    TC_VITE_CACHE_DIR: path.join(path.dirname(out.runFile), 'vite-cache'),
  };
  const vitest = spawnSync(
    process.execPath,
    // The compiled config is plain JavaScript: Node loads it as is (no bundling, no temporary file
    // beside it); the repository's TypeScript config is bundled as before.
    [
      VITEST_CLI,
      'run',
      '--config',
      VITEST_CONFIG,
      ...(COMPILED ? ['--configLoader', 'native'] : []),
    ],
    { cwd: CODE_ROOT, env, encoding: 'utf8' },
  );
  writeFileSync(out.log, `${vitest.stdout}\n${vitest.stderr}`);
  if (!existsSync(out.resultsDir)) {
    throw new Error(`the conformance suites wrote no Allure results; see ${shown(out.log)}`);
  }
  // The trend reads the history before allure appends this run to it (src/report/trend.ts).
  const landing = landingData(out.runFile, out.resultsDir, env['TC_HISTORY_FILE']);
  const allure = spawnSync(
    process.execPath,
    [
      ALLURE_CLI,
      'generate',
      out.resultsDir,
      '-o',
      out.htmlDir,
      '--config',
      path.join(REPORTS_DIR, 'allurerc.mjs'),
    ],
    { cwd: path.dirname(out.resultsDir), env, encoding: 'utf8' },
  );
  const html = path.join(out.htmlDir, 'index.html');
  if (allure.status !== 0 || !existsSync(html)) {
    throw new Error(
      `allure generate failed (exit ${allure.status}): ${(allure.stderr || allure.stdout).trim().split('\n')[0]}`,
    );
  }
  // Allure 3.18's single-file page can run its app before the inline data script; the app then
  // fetches widgets/*.json, which file:// forbids, and the page stays blank (about 1 run in 5).
  // Declaring the data object first makes the app wait for it.
  const page = readFileSync(html, 'utf8');
  writeFileSync(
    html,
    patchReport(
      page.includes(DATA_GUARD) ? page : page.replace(/<head>/i, `<head>${DATA_GUARD}`),
      landing,
    ),
  );
  writeCaFiles(landing.record, out.htmlDir); // the CA the curl lines name, beside index.html
  return { message: `report: ${shown(html)} (Allure results in ${shown(out.resultsDir)})` };
}

function shown(file: string): string {
  const rel = path.relative(callerDir(), file);
  return rel && !rel.startsWith('..') ? rel : file;
}
