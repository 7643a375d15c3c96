/**
 * allure-vitest's reporter with three decisions made explicit instead of guessed from error text
 * (the stock reporter calls any error whose message contains "assert" a failure — and OAuth
 * messages say "client_assertion"):
 * - failed only for errors named AssertionError (our ConformanceFailure); anything else is broken;
 * - a skip keeps its reason (ctx.skip(note)), which the stock reporter drops;
 * - a passing test with a "warning" annotation (a SHOULD not met) is written with status unknown
 *   and the label conformance=should-violation, so the report shows it apart from passes and failures.
 * See docs/allure-notes.md for how each was verified.
 */
import AllureVitestReporter, { type AllureVitestReporterConfig } from 'allure-vitest/reporter';
import type { Stage, Status, TestResult } from 'allure-js-commons';
import type { RunnerTask } from 'vitest';

let current: RunnerTask | undefined;

export default class ConformanceAllureReporter extends AllureVitestReporter {
  constructor(config: AllureVitestReporterConfig = {}) {
    super({
      ...config,
      listeners: [...(config.listeners ?? []), { beforeTestResultWrite: (result: TestResult) => adjust(result, current) }],
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

function adjust(result: TestResult, task: RunnerTask | undefined): void {
  if (!task || task.type !== 'test') return;
  const state = task.result?.state;
  // Provider › Area › Check, instead of "<package>:suites/<file>.test.ts#…": no file paths for QA.
  const names: string[] = [task.name];
  for (let s = task.suite; s && s.type === 'suite' && s.name && s !== s.file; s = s.suite) names.unshift(s.name);
  result.fullName = names.join(' › ');
  result.titlePath = names.slice(0, -1);
  // vitest 4 keeps the ctx.skip(note) reason as result.note; it is not in the TaskResult type.
  const note = (task.result as { note?: string } | undefined)?.note;
  if (state === 'skip' && note) result.statusDetails = { ...result.statusDetails, message: note };
  if (state === 'fail') {
    const name = task.result?.errors?.[0]?.name ?? '';
    result.status = (/AssertionError$/.test(name) ? 'failed' : 'broken') as Status;
  }
  const warnings = (task.annotations ?? []).filter((a) => a.type === 'warning' || a.type === 'deviation');
  if (state === 'pass' && warnings.length > 0) {
    const kind = warnings.some((w) => w.type === 'deviation') ? 'known-deviation' : 'should-violation';
    const message = warnings.map((w) => w.message).join('\n');
    const now = Date.now();
    result.status = 'unknown' as Status;
    result.statusDetails = { ...result.statusDetails, message };
    result.labels.push({ name: 'conformance', value: kind });
    for (const w of warnings) {
      result.steps.push({ name: w.message, status: 'broken' as Status, statusDetails: { message: w.message }, stage: 'finished' as Stage, steps: [], attachments: [], parameters: [], start: now, stop: now });
    }
  }
}
