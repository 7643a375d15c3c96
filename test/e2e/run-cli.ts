/**
 * Runs the harness CLI (`npm run conformance` = `tsx src/cli.ts`) as a real child process.
 *
 * Every run writes into its own fresh `--out` directory, so tests never share output. The child
 * gets its own process group: on the hard timeout the whole group (tsx, the CLI, and the vitest and
 * allure children the report step spawns) is killed, not just the top process.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { RunRecord } from '../../src/run-record.js';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/**
 * tsx's CLI entry, resolved through the package's `exports` ("tsx/cli" → dist/cli.mjs) rather than
 * through node_modules/.bin/tsx, which is a symlink (or a .cmd shim on Windows).
 */
const TSX_CLI = createRequire(import.meta.url).resolve('tsx/cli');

export const DEFAULT_TIMEOUT_MS = 240_000;

export interface CliResult {
  /** Exit code, or null when the process was killed by a signal (see `timedOut`). */
  code: number | null;
  signal: NodeJS.Signals | null;
  timedOut: boolean;
  stdout: string;
  stderr: string;
  /** The fresh directory passed as `--out`. */
  outDir: string;
  durationMs: number;
}

export interface RunOptions {
  /** Variables to set (a string) or remove (undefined) in the child's environment. */
  env?: Record<string, string | undefined>;
  timeoutMs?: number;
  /** Pass this as `--out` instead of a fresh directory (a path the run must refuse, say). */
  out?: string;
  /** Reuse this --out directory instead of a fresh one (runs that share a report history). */
  outDir?: string;
  /** The CLI module to run (default src/cli.ts, `npm run conformance`; src/compare/cli.ts is `npm run compare`). */
  entry?: string;
}

const outDirs: string[] = [];

/** A fresh temporary directory, removed by `removeTempDirs()`. */
export function freshDir(prefix = 'tc-e2e-'): string {
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  outDirs.push(dir);
  return dir;
}

/** Removes every directory made by this module (keep them with TC_E2E_KEEP=1, for debugging). */
export function removeTempDirs(): void {
  if (process.env['TC_E2E_KEEP'] === '1') return;
  for (const dir of outDirs.splice(0)) rmSync(dir, { recursive: true, force: true });
}

/**
 * The child's environment: this process's, minus what the test runner and the harness itself read
 * (VITEST*, NODE_ENV=test, TC_*), so a run behaves as from a plain shell; then `overrides`.
 */
export function childEnv(overrides: Record<string, string | undefined>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (/^(VITEST|TC_|E2E_)/.test(k) || k === 'NODE_ENV' || k === 'TEST') continue;
    env[k] = v;
  }
  env['FORCE_COLOR'] = '0';
  env['NO_COLOR'] = '1';
  for (const [k, v] of Object.entries(overrides)) {
    if (v === undefined) delete env[k];
    else env[k] = v;
  }
  return env;
}

/** Runs `tsx src/cli.ts <args> --out <fresh dir, or options.outDir>` from the repo root. Never rejects on exit codes. */
export function runCli(args: string[], options: RunOptions = {}): Promise<CliResult> {
  const outDir = options.out ?? options.outDir ?? freshDir('tc-e2e-out-');
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const started = Date.now();
  return new Promise<CliResult>((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [TSX_CLI, options.entry ?? 'src/cli.ts', ...args, '--out', outDir],
      {
        cwd: REPO_ROOT,
        env: childEnv(options.env ?? {}),
        stdio: ['ignore', 'pipe', 'pipe'],
        detached: true, // own process group, so the timeout can kill grandchildren too
      },
    );
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => stdout.push(b));
    child.stderr.on('data', (b: Buffer) => stderr.push(b));
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      try {
        if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
      } catch {
        child.kill('SIGKILL');
      }
    }, timeoutMs);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({
        code,
        signal,
        timedOut,
        stdout: Buffer.concat(stdout).toString('utf8'),
        stderr: Buffer.concat(stderr).toString('utf8'),
        outDir,
        durationMs: Date.now() - started,
      });
    });
  });
}

/** A run's diagnostics, for assertion messages. */
export function describeRun(r: CliResult): string {
  return `exit ${r.code}${r.signal ? ` (signal ${r.signal})` : ''}${r.timedOut ? ' TIMED OUT' : ''} after ${r.durationMs} ms\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`;
}

export function runFileOf(r: CliResult): string {
  return path.join(r.outDir, '.run/run.json');
}

export function readRun(r: CliResult): RunRecord {
  return JSON.parse(readFileSync(runFileOf(r), 'utf8')) as RunRecord;
}

/** One row of the summary table the CLI prints after a run. */
export interface SummaryRow {
  provider: string;
  passed: number;
  failed: number;
  warnings: number;
  skipped: number;
  broken: number;
  deviations: number;
  requests: number;
}

const SUMMARY_COLUMNS = [
  'provider',
  'passed',
  'failed',
  'warnings',
  'skipped',
  'broken',
  'deviations',
  'requests',
] as const;

/** Parses the summary table (`provider  passed  failed  warnings  skipped  broken  deviations  requests`) from stdout. */
export function parseSummary(stdout: string): SummaryRow[] {
  const lines = stdout.split('\n');
  const head = lines.findIndex(
    (l) => l.trim().split(/\s+/).join(' ') === SUMMARY_COLUMNS.join(' '),
  );
  if (head < 0) throw new Error(`no summary table in stdout:\n${stdout}`);
  const rows: SummaryRow[] = [];
  for (const line of lines.slice(head + 1)) {
    if (line.trim() === '') break;
    const cells = line.trim().split(/\s+/);
    if (cells.length !== SUMMARY_COLUMNS.length)
      throw new Error(`malformed summary row: ${JSON.stringify(line)}`);
    const [provider = '', ...counts] = cells;
    const n = counts.map((c) => {
      if (!/^\d+$/.test(c))
        throw new Error(
          `non-numeric cell ${JSON.stringify(c)} in summary row ${JSON.stringify(line)}`,
        );
      return Number(c);
    });
    rows.push({
      provider,
      passed: n[0] ?? 0,
      failed: n[1] ?? 0,
      warnings: n[2] ?? 0,
      skipped: n[3] ?? 0,
      broken: n[4] ?? 0,
      deviations: n[5] ?? 0,
      requests: n[6] ?? 0,
    });
  }
  return rows;
}

/** Every regular file under `dir`, recursively. */
export function listFiles(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir)) {
    const p = path.join(dir, entry);
    if (statSync(p).isDirectory()) out.push(...listFiles(p));
    else out.push(p);
  }
  return out;
}

/** The subset of an Allure result file (`<uuid>-result.json`) the tests read. */
export interface AllureResult {
  name: string;
  testCaseId?: string;
  historyId?: string;
  status: string;
  statusDetails?: { message?: string; trace?: string };
  labels: { name: string; value: string }[];
  parameters: { name: string; value: string }[];
  links: { url: string; name?: string }[];
  steps: { name: string; attachments: { name: string; source: string; type: string }[] }[];
}

export function readAllureResults(outDir: string): AllureResult[] {
  const dir = path.join(outDir, 'allure-results');
  return readdirSync(dir)
    .filter((f) => f.endsWith('-result.json'))
    .map((f) => JSON.parse(readFileSync(path.join(dir, f), 'utf8')) as AllureResult);
}

export function labelsOf(r: AllureResult, name: string): string[] {
  return r.labels.filter((l) => l.name === name).map((l) => l.value);
}
