/**
 * allure-vitest's reporter, with the Allure status of every result taken from the report entries
 * (src/report/presentation.ts) instead of guessed from error text (the stock reporter calls any error
 * whose message contains "assert" a failure — and OAuth messages say "client_assertion"):
 * - status and message come from the entry: failed and broken carry the verdict, every other status
 *   shows its reason in the description (no box titled "Error" around a reason);
 * - no stack trace of the harness: it means nothing to QA (the suites' own log keeps it);
 * - no labels that say nothing to QA (framework, host, thread, …);
 * - start and stop follow the report order (Allure sorts the tree by start), the duration being the
 *   time the entry's exchanges took.
 * See docs/allure-notes.md for how each was verified.
 */
import AllureVitestReporter, { type AllureVitestReporterConfig } from 'allure-vitest/reporter';
import type { Status, TestResult } from 'allure-js-commons';
import type { RunnerTask } from 'vitest';
import { readRunRecord, type RunRecord } from '../run-record.js';
import { FINDING_LABEL, entryTiming, reportEntries, type ReportEntry } from './presentation.js';

let current: RunnerTask | undefined;

/**
 * Labels allure-vitest adds that say nothing to QA. Dropped at the source rather than hidden: Allure
 * copies every label of every result into each later report's history, so they would cost size run
 * after run.
 */
const NOISE_LABELS = new Set([
  'framework',
  'language',
  'host',
  'thread',
  'package',
  '_fallbackTestCaseId',
]);

export default class ConformanceAllureReporter extends AllureVitestReporter {
  constructor(config: AllureVitestReporterConfig = {}) {
    let report: { record: RunRecord; entries: Map<string, ReportEntry> } | undefined;
    // Read once, when the first result is written: the run record is in place by then.
    const entries = () => {
      if (!report) {
        const record = readRunRecord();
        report = { record, entries: new Map(reportEntries(record).map((e) => [e.key, e])) };
      }
      return report;
    };
    super({
      ...config,
      listeners: [
        ...(config.listeners ?? []),
        { beforeTestResultWrite: (result: TestResult) => adjust(result, current, entries) },
      ],
    });
  }

  // handleTask() calls writeTest() synchronously, so the listener sees the task being written.
  override handleTask(task: RunnerTask): void {
    const previous = current;
    current = task;
    try {
      super.handleTask(task);
    } finally {
      current = previous;
    }
  }
}

function adjust(
  result: TestResult,
  task: RunnerTask | undefined,
  report: () => { record: RunRecord; entries: Map<string, ReportEntry> },
): void {
  if (!task || task.type !== 'test') return;
  // Provider › Area › Check, instead of "<package>:suites/<file>.test.ts#…": no file paths for QA.
  const names: string[] = [task.name];
  for (let s = task.suite; s && s.type === 'suite' && s.name && s !== s.file; s = s.suite)
    names.unshift(s.name);
  result.fullName = names.join(' › ');
  result.titlePath = names.slice(0, -1);
  result.labels = result.labels.filter((l) => !NOISE_LABELS.has(l.name));
  const key = result.labels.find((l) => l.name === FINDING_LABEL)?.value;
  const { record, entries } = report();
  const entry = key === undefined ? undefined : entries.get(key);
  if (!entry) {
    // Not a finding: a verdict of another suite (the Migration suite's ConformanceFailure, an
    // AssertionError) is failed; anything else (a harness bug) broken. Never with the stack.
    if (task.result?.state === 'fail')
      result.status = (
        task.result.errors?.some((e) => e.name === 'AssertionError') ? 'failed' : 'broken'
      ) as Status;
    result.statusDetails = result.statusDetails?.message
      ? { message: result.statusDetails.message }
      : {};
    return;
  }
  result.status = entry.status as Status;
  result.statusDetails = entry.message ? { message: entry.message } : {};
  const { start, stop } = entryTiming(entry, record);
  result.start = start;
  result.stop = stop;
}
