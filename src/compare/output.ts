/**
 * Where a comparison goes: `<out>/compare.json` (schemas/compare.schema.json) and `<out>/compare.md`
 * beside the run record `<out>/.run/run.json`. The report's migration suite uses compare.json only
 * when it was written with that very run record (same startedAt): a stale comparison from an earlier
 * command in the same directory never shows up in a later report.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { harnessVersion } from '../run-record.js';
import { compareFileMarkdown } from './render.js';
import type { CompareFile, Comparison, DifferenceClass } from './types.js';

/** `<out>` of a run file `<out>/.run/run.json`. */
export function outDirOf(runFile: string): string {
  return path.dirname(path.dirname(runFile));
}

export function compareFileFor(runFile: string): string {
  return path.join(outDirOf(runFile), 'compare.json');
}

export function failing(file: Pick<CompareFile, 'comparisons' | 'failOn'>): number {
  return file.comparisons
    .flatMap((c) => [...c.differences, ...c.notComparable])
    .filter((d) => file.failOn.includes(d.class)).length;
}

export function buildCompareFile(
  comparisons: Comparison[],
  options: {
    failOn: DifferenceClass[];
    runStartedAt: string;
    unmatched?: CompareFile['unmatched'];
  },
): CompareFile {
  const file: CompareFile = {
    version: 1,
    harnessVersion: harnessVersion(),
    generatedAt: new Date().toISOString(),
    run: { startedAt: options.runStartedAt },
    failOn: options.failOn,
    failed: false,
    comparisons,
    ...(options.unmatched ? { unmatched: options.unmatched } : {}),
  };
  file.failed = failing(file) > 0;
  return file;
}

export function writeCompareFile(file: CompareFile, runFile: string): { json: string; md: string } {
  const dir = outDirOf(runFile);
  mkdirSync(dir, { recursive: true });
  const json = path.join(dir, 'compare.json');
  const md = path.join(dir, 'compare.md');
  writeFileSync(json, `${JSON.stringify(file, null, 2)}\n`);
  writeFileSync(md, compareFileMarkdown(file));
  return { json, md };
}

/** The comparison written with this run record, if there is one. */
export function comparisonForRun(runFile: string): CompareFile | undefined {
  const file = compareFileFor(runFile);
  if (!existsSync(file) || !existsSync(runFile)) return undefined;
  try {
    const compare = JSON.parse(readFileSync(file, 'utf8')) as CompareFile;
    const run = JSON.parse(readFileSync(runFile, 'utf8')) as { startedAt?: string };
    return compare.version === 1 && compare.run?.startedAt === run.startedAt ? compare : undefined;
  } catch {
    return undefined;
  }
}
