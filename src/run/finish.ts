import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { generateReport, type OutputPaths } from '../report/generate.js';
import { junitXml } from '../report/junit.js';
import { formatSummary } from '../report/summary.js';
import { changeLines, summaryMarkdown } from '../report/summary-md.js';
import { writeRunRecord, type RunRecord } from '../run-record.js';
import { runVerdict, type ExitCode } from '../verdict.js';
import {
  appendHistory,
  changesSince,
  historyLineOf,
  readHistory,
  type ProviderChanges,
} from './history.js';

export interface FinishOptions {
  report: boolean;
  /** The run history file (--history), read before and appended after. */
  historyFile: string;
  write: (text: string) => void;
}

/**
 * What every run ends with, one run or merged shards alike: run.json, junit.xml, summary.md (and
 * $GITHUB_STEP_SUMMARY), the history, the report, the summary on the terminal, and the exit code.
 */
export async function finishRun(
  record: RunRecord,
  out: OutputPaths,
  options: FinishOptions,
): Promise<ExitCode> {
  const verdict = runVerdict(
    record.providers.map((r) => ({ name: r.provider.name, findings: r.findings })),
    { strict: record.strict, allowUnverified: record.allowUnverified ?? false },
  );
  const line = historyLineOf(record);
  const changes: ProviderChanges[] = changesSince(readHistory(options.historyFile), line);
  const withChanges: RunRecord = { ...record, sinceLastRun: changes };
  writeRunRecord(withChanges, out.runFile);
  const dir = path.dirname(out.junitFile);
  mkdirSync(dir, { recursive: true });
  writeFileSync(out.junitFile, junitXml(withChanges));
  const markdown = summaryMarkdown(withChanges, verdict, changes);
  writeFileSync(out.summaryFile, markdown);
  const step = process.env['GITHUB_STEP_SUMMARY'];
  if (step) appendFileSync(step, markdown);
  appendHistory(options.historyFile, line);
  if (options.report) {
    const report = await generateReport(out);
    options.write(`${report.message}\n`);
  }
  options.write(
    `junit: ${shown(out.junitFile)}, summary: ${shown(out.summaryFile)}, history: ${shown(options.historyFile)}\n`,
  );
  const changed = changeLines(changes);
  options.write(
    formatSummary(withChanges).replace(
      /\n(Result: [^\n]*)\n*$/,
      `\n${changed.length ? `${changed.join('\n')}\n\n` : ''}$1\n`,
    ),
  );
  return verdict.code;
}

function shown(file: string): string {
  const rel = path.relative(process.cwd(), file);
  return rel && !rel.startsWith('..') ? rel : file;
}
