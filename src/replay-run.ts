/**
 * The --replay run of `npm run conformance` (src/cli.ts calls it before anything else): read the
 * run record, judge its evidence with today's checks (src/replay.ts), then write the run record,
 * the report and the summary as a run would. No descriptor is read for a request, no server started.
 */
import path from 'node:path';
import { DescriptorError } from './descriptor/load.js';
import { generateReport, outputPaths } from './report/generate.js';
import { formatSummary } from './report/summary.js';
import {
  harnessVersion,
  writeRunRecord,
  type ProviderRun,
  type RunRecord,
  RUN_RECORD_VERSION,
} from './run-record.js';
import { runVerdict } from './verdict.js';
import { readRecordFile, shownPath } from './compare/record-file.js';
import { compareSince, readPreviousRun, type PreviousRun } from './compare/since.js';
import { descriptorOf, rejudge } from './replay.js';

export interface ReplayOptions {
  strict: boolean;
  out?: string;
  report: boolean;
  since?: string;
}

/** The --replay run: read, judge, write the run record, report and summary, as a run would. Returns the exit code. */
export async function replayRun(file: string, options: ReplayOptions): Promise<number> {
  let record: RunRecord;
  let providers: ProviderRun[];
  let previous: PreviousRun | undefined;
  try {
    record = readRecordFile(path.resolve(file), '--replay');
    const shown = shownPath(path.resolve(file));
    providers = record.providers.map((r, i) => {
      const descriptor = descriptorOf(r, shown, i);
      return { ...r, findings: rejudge(descriptor, r.evidence, options.strict), descriptor };
    });
    previous = options.since === undefined ? undefined : readPreviousRun(options.since);
  } catch (e) {
    if (e instanceof DescriptorError) {
      process.stderr.write(`error: ${e.message}\n`);
      return 2;
    }
    throw e;
  }
  process.stdout.write(
    `token-conformance ${harnessVersion()}: replay of ${shownPath(path.resolve(file))} (recorded ${record.startedAt}${record.harnessVersion ? ` by ${record.harnessVersion}` : ''}): ${providers.map((p) => p.provider.name).join(', ')}; no request sent\n`,
  );
  const replayed: RunRecord = {
    ...record,
    version: RUN_RECORD_VERSION,
    harnessVersion: harnessVersion(),
    nodeVersion: process.version,
    strict: options.strict,
    providers,
  };
  const out = outputPaths(options.out ? path.resolve(options.out) : undefined);
  writeRunRecord(replayed, out.runFile);
  const since = previous ? compareSince(previous, replayed, out) : undefined;
  if (options.report) process.stdout.write(`${(await generateReport(out)).message}\n`);
  process.stdout.write(formatSummary(replayed));
  if (since) process.stdout.write(since);
  // The same rule as a live run: fail (1) beats not verified (4) beats conformant (0).
  return runVerdict(
    providers.map((r) => ({ name: r.provider.name, findings: r.findings })),
    { strict: options.strict, allowUnverified: false },
  ).code;
}
