/**
 * Every path a run will write, checked before the first request: a directory that can be created
 * (and is created now), is a directory, and takes a new file; a file whose directory is such, and
 * that is a regular file when it exists. Without this, `--out` under a regular file probes every
 * endpoint and then dies writing the record, and `--out /proc/x` never ends: Node's recursive mkdir
 * retries the ENOENT that /proc answers forever. So directories are made one level at a time here.
 *
 * Each path names the flag it comes from: a new flag that writes somewhere is one more entry.
 */
import { randomBytes } from 'node:crypto';
import { closeSync, mkdirSync, openSync, statSync, unlinkSync, type Stats } from 'node:fs';
import path from 'node:path';
import type { OutputPaths } from '../report/generate.js';
import { inert } from '../text/inert.js';

export interface PathEntry {
  /** The flag the path comes from, as the user typed it: `--out`. */
  flag: string;
  path: string;
  kind: 'dir' | 'file';
}

/** The paths a run writes under --out (run record, Allure results, HTML report, vitest log, history). */
export function outputEntries(out: OutputPaths, flag = '--out', historyFlag?: string): PathEntry[] {
  return [
    { flag, path: out.runFile, kind: 'file' },
    { flag, path: out.log, kind: 'file' },
    { flag, path: out.resultsDir, kind: 'dir' },
    { flag, path: out.htmlDir, kind: 'dir' },
    { flag, path: out.junitFile, kind: 'file' },
    { flag, path: out.summaryFile, kind: 'file' },
    // With --history, the run history and Allure's beside it are that flag's; else they sit under --out.
    { flag: historyFlag ?? flag, path: out.historyFile, kind: 'file' },
    { flag: historyFlag ?? flag, path: out.runHistoryFile, kind: 'file' },
  ];
}

/**
 * The first problem, as one line naming the flag (`--out /proc/x: cannot create the directory
 * /proc/x (ENOENT)`), or undefined when every entry can be written. Creates missing directories.
 */
export function checkPaths(entries: PathEntry[]): string | undefined {
  const checkedDirs = new Map<string, string | undefined>();
  const dirProblem = (dir: string): string | undefined => {
    if (!checkedDirs.has(dir)) checkedDirs.set(dir, ensureWritableDir(dir));
    return checkedDirs.get(dir);
  };
  for (const entry of entries) {
    const target = path.resolve(entry.path);
    const problem =
      entry.kind === 'dir'
        ? dirProblem(target)
        : (dirProblem(path.dirname(target)) ?? fileProblem(target));
    if (problem) return inert(`${entry.flag}: ${problem}`, { max: 500 });
  }
  return undefined;
}

function codeOf(e: unknown): string {
  return (e as NodeJS.ErrnoException).code ?? (e as Error).message;
}

function kindOf(st: Stats): string {
  if (st.isFile()) return 'a file';
  if (st.isFIFO()) return 'a FIFO';
  if (st.isSocket()) return 'a socket';
  if (st.isCharacterDevice() || st.isBlockDevice()) return 'a device';
  return 'not a regular file or directory';
}

/** Creates `dir` one level at a time (never recursive mkdir, see above) and proves a file can be made in it. */
function ensureWritableDir(dir: string): string | undefined {
  const missing: string[] = [];
  let cur = dir;
  for (;;) {
    let st: Stats;
    try {
      st = statSync(cur);
    } catch (e) {
      const code = codeOf(e);
      // ENOTDIR: a file sits higher up; walking on finds it and says so.
      if (code !== 'ENOENT' && code !== 'ENOTDIR') return `cannot use ${cur} (${code})`;
      const parent = path.dirname(cur);
      if (parent === cur) return `cannot use ${cur} (${code})`;
      missing.unshift(cur);
      cur = parent;
      continue;
    }
    if (!st.isDirectory()) return `${cur} is ${kindOf(st)}, not a directory`;
    break;
  }
  for (const d of missing) {
    try {
      mkdirSync(d);
    } catch (e) {
      const code = codeOf(e);
      if (code === 'EEXIST' && isDir(d)) continue;
      return `cannot create the directory ${d} (${code})`;
    }
  }
  const probe = path.join(dir, `.tc-write-check-${process.pid}-${randomBytes(4).toString('hex')}`);
  try {
    closeSync(openSync(probe, 'wx'));
    unlinkSync(probe);
  } catch (e) {
    return `the directory ${dir} is not writable (${codeOf(e)})`;
  }
  return undefined;
}

function isDir(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}

/** A file that exists must be a regular file we may write: never opened if it is not (a FIFO would block). */
function fileProblem(file: string): string | undefined {
  let st: Stats;
  try {
    st = statSync(file);
  } catch (e) {
    return codeOf(e) === 'ENOENT' ? undefined : `cannot use ${file} (${codeOf(e)})`;
  }
  if (st.isDirectory()) return `${file} is a directory, not a file`;
  if (!st.isFile()) return `${file} is ${kindOf(st)}, not a regular file`;
  try {
    // Append mode: neither truncates nor changes the file.
    closeSync(openSync(file, 'a'));
  } catch (e) {
    return `${file} is not writable (${codeOf(e)})`;
  }
  return undefined;
}
