/**
 * `npm run conformance -- --since <previous run.json>`: the run goes as usual, and adds what changed
 * since the previous run for every provider present in both, by the same judge as `npm run compare`
 * (compare.json, compare.md, the report's migration suite, a table after the summary).
 * The previous run's evidence is judged again with today's checks when it carries its descriptor,
 * so a new or changed check is not mistaken for a change of the server. The exit code stays the
 * conformance run's: the comparison informs, the run's own verdict decides.
 */
import path from 'node:path';
import { DescriptorError } from '../descriptor/load.js';
import type { OutputPaths } from '../report/generate.js';
import type { ProviderRun, RunRecord } from '../run-record.js';
import { rejudge } from '../replay.js';
import { compareRuns, sideLabel, type SideRun } from './compare.js';
import { buildCompareFile, writeCompareFile } from './output.js';
import { readRecordFile, shownPath } from './record-file.js';
import { formatCompareFile } from './render.js';
import { DEFAULT_FAIL_ON, type Side } from './types.js';

export interface PreviousRun {
  file: string;
  record: RunRecord;
}

/** Reads and checks the previous run record before any request is sent (a DescriptorError: exit 2). */
export function readPreviousRun(file: string): PreviousRun {
  const resolved = path.resolve(file);
  return { file: resolved, record: readRecordFile(resolved, '--since') };
}

/** For the CLI: the previous run, or one line and exit 2. */
export function sinceFlag(file: string | undefined): PreviousRun | undefined {
  if (file === undefined) return undefined;
  try {
    return readPreviousRun(file);
  } catch (e) {
    if (!(e instanceof DescriptorError)) throw e;
    process.stderr.write(`error: ${e.message}\n`);
    process.exit(2);
  }
}

export function sideOf(
  run: ProviderRun,
  source: Side['source'],
  record: { startedAt: string; harnessVersion?: string },
  file?: string,
  rejudged = false,
): Side {
  const side = { provider: run.provider.name, source, startedAt: record.startedAt };
  return {
    ...side,
    label: sideLabel(side),
    title: run.provider.title,
    tokenEndpoint: run.provider.tokenEndpoint,
    ...(file ? { file: shownPath(file) } : {}),
    ...(record.harnessVersion ? { harnessVersion: record.harnessVersion } : {}),
    ...(rejudged ? { rejudged: true } : {}),
  };
}

/** A recorded provider as a side, judged with today's checks when its descriptor was recorded. */
export function recordedSide(
  run: ProviderRun,
  record: RunRecord,
  file: string,
  strict: boolean,
): SideRun {
  const rejudged = run.descriptor !== undefined;
  const findings = run.descriptor ? rejudge(run.descriptor, run.evidence, strict) : run.findings;
  return { side: sideOf(run, 'recorded', record, file, rejudged), run: { ...run, findings } };
}

/** Compares, writes compare.json and compare.md beside the run record, and returns the text for the terminal. */
export function compareSince(previous: PreviousRun, record: RunRecord, out: OutputPaths): string {
  const names = new Set(record.providers.map((r) => r.provider.name));
  const before = new Set(previous.record.providers.map((r) => r.provider.name));
  const comparisons = record.providers
    .filter((r) => before.has(r.provider.name))
    .map((now) => {
      const then = previous.record.providers.find((r) => r.provider.name === now.provider.name)!;
      const baseline = recordedSide(then, previous.record, previous.file, record.strict);
      const candidate: SideRun = {
        side: { ...sideOf(now, 'observed', record), label: `${now.provider.name} (this run)` },
        run: now,
      };
      const c = compareRuns(baseline, candidate);
      return {
        ...c,
        title: `Since ${previous.record.startedAt.replace(/\.\d+Z$/, 'Z')}: ${now.provider.name}`,
      };
    });
  const unmatched = {
    baseline: [...before].filter((n) => !names.has(n)),
    candidate: [...names].filter((n) => !before.has(n)),
  };
  const file = buildCompareFile(comparisons, {
    failOn: DEFAULT_FAIL_ON,
    runStartedAt: record.startedAt,
    unmatched,
  });
  const written = writeCompareFile(file, out.runFile);
  return `\nWhat changed since ${shownPath(previous.file)} (${previous.record.startedAt}):${formatCompareFile(file)}compare: ${shownPath(written.md)}, ${shownPath(written.json)}\n`;
}
