/**
 * Child process of bench/scale.ts: one harness run over N providers, as src/cli.ts does it, in a
 * process of its own so that its peak RSS (ru_maxrss) is this run's and nobody else's.
 *
 * The run: `pooled(concurrency, …)` (src/run/shard.ts, the CLI's --concurrency) over the providers of
 * `observe(p)` then `evaluate(p, evidence)` and `publicProvider(p)` — the CLI's closure, minus its
 * "waiting n s" lines — then the run record as the CLI builds it and `finishRun(…, { report: false })`
 * (run.json, junit.xml, summary.md, history). With `report`, then `generateReport()` on that record
 * (the vitest suites, then `allure generate`), timed, in this process as in the CLI (child processes of
 * its own: their memory is sampled by the parent).
 *
 * IPC: receives one ScaleJob; sends { type: 'report' } when the report starts (the parent samples the
 * memory of this process's children from then on) and { type: 'done', answer } at the end; exits.
 */
import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { evaluate, tally } from '../src/evaluate.js';
import { observe } from '../src/observe.js';
import { generateReport, outputPaths } from '../src/report/generate.js';
import { finishRun } from '../src/run/finish.js';
import { pooled } from '../src/run/shard.js';
import {
  harnessVersion,
  publicProvider,
  RUN_RECORD_VERSION,
  type ProviderRun,
  type RunRecord,
} from '../src/run-record.js';
import { referenceProviders } from './providers.js';

export interface ScaleJob {
  env: Record<string, string>;
  providers: number;
  concurrency: number;
  /** The --out directory of this run. */
  out: string;
  report: boolean;
}

export type WorkerMessage = { type: 'report' } | { type: 'done'; answer: ScaleAnswer };

export interface ScaleAnswer {
  wallMs: number;
  /** CPU time (user + system) of this process during the observe + evaluate phase. */
  cpuMs: number;
  requests: number;
  /** ru_maxrss in bytes: right after observe + evaluate, and after finishRun (run.json, junit, summary). */
  peakRssObserveBytes: number;
  peakRssFinishBytes: number;
  /** Before the run started (after the imports): the baseline. */
  rssBeforeBytes: number;
  finishMs: number;
  runFileBytes: number;
  runFile: string;
  verdicts: string[];
  /** Distinct "outcome check: message" of failed and broken findings (e.g. a timeout under load), at most 5. */
  broken: string[];
  report?: { ms: number; htmlBytes: number; error?: string; breakdown?: ReportBreakdown };
}

const maxRss = (): number => process.resourceUsage().maxRSS * 1024;

process.once('message', (job: ScaleJob) => {
  void run(job).then(
    (answer) =>
      process.send?.({ type: 'done', answer } satisfies WorkerMessage, () => process.exit(0)),
    (e: unknown) => {
      process.stderr.write(`scale worker failed: ${(e as Error).stack ?? String(e)}\n`);
      process.exit(1);
    },
  );
});

async function run(job: ScaleJob): Promise<ScaleAnswer> {
  const providers = referenceProviders(job.env, job.providers);
  const rssBeforeBytes = maxRss();
  const startedAt = new Date().toISOString();
  const started = performance.now();
  const cpu = process.cpuUsage();
  // What src/cli.ts runs for "2. Observe", with its default --strict off.
  const runs: ProviderRun[] = await pooled(
    job.concurrency,
    providers.map((p) => async () => {
      const evidence = await observe(p);
      return {
        provider: publicProvider(p),
        evidence,
        findings: evaluate(p, evidence, { strict: false }),
      };
    }),
  );
  const wallMs = performance.now() - started;
  const used = process.cpuUsage(cpu);
  const peakRssObserveBytes = maxRss();
  const record: RunRecord = {
    version: RUN_RECORD_VERSION,
    harnessVersion: harnessVersion(),
    nodeVersion: process.version,
    strict: false,
    startedAt,
    finishedAt: new Date().toISOString(),
    providers: runs,
  };
  const out = outputPaths(job.out);
  const finishStarted = performance.now();
  await finishRun(record, out, { report: false, historyFile: out.runHistoryFile, write: () => {} });
  const finishMs = performance.now() - finishStarted;
  const peakRssFinishBytes = maxRss();
  const verdicts = [...new Set(runs.map((r) => tallyLine(r.findings)))];
  const answer: ScaleAnswer = {
    wallMs,
    cpuMs: (used.user + used.system) / 1000,
    requests: runs.reduce((n, r) => n + r.evidence.requestsSent, 0),
    peakRssObserveBytes,
    peakRssFinishBytes,
    rssBeforeBytes,
    finishMs,
    runFileBytes: statSync(out.runFile).size,
    runFile: out.runFile,
    verdicts,
    broken: [
      ...new Set(
        runs.flatMap((r) =>
          r.findings
            .filter((f) => f.outcome === 'broken' || f.outcome === 'fail')
            .map((f) => `${f.outcome} ${f.checkId}: ${f.message}`),
        ),
      ),
    ].slice(0, 5),
  };
  if (job.report) {
    await new Promise<void>((resolve) =>
      process.send?.({ type: 'report' } satisfies WorkerMessage, () => resolve()),
    );
    const t = performance.now();
    try {
      await generateReport(out);
      const html = path.join(out.htmlDir, 'index.html');
      answer.report = { ms: performance.now() - t, htmlBytes: statSync(html).size };
      const breakdown = reportBreakdown(readFileSync(html, 'utf8'));
      if (breakdown) answer.report.breakdown = breakdown;
    } catch (e) {
      answer.report = { ms: performance.now() - t, htmlBytes: 0, error: (e as Error).message };
    }
  }
  return answer;
}

function tallyLine(findings: ProviderRun['findings']): string {
  const t = tally(findings);
  return `${t.passed} passed, ${t.failed} failed, ${t.warnings} warning(s), ${t.skipped} skipped, ${t.broken} broken`;
}

/** Where the bytes of the single-file report go (base64 as embedded), and what passing tests' evidence costs. */
export interface ReportBreakdown {
  /** Bytes by part: test results, attachments, search index, tree, env groups, other widgets, the app (the rest). */
  parts: Record<string, number>;
  tests: number;
  passed: number;
  /** Attachments of passing tests, and their attachment entries in the test results (steps + attachments). */
  passingAttachmentBytes: number;
  passingAttachmentRefBytes: number;
}

/**
 * Allure 3's single-file page embeds every file of the report as `d("<path>","<base64>")` in one script
 * (an Allure internal, read here only to measure; undefined when the page no longer looks like that).
 */
function reportBreakdown(page: string): ReportBreakdown | undefined {
  const parts: Record<string, number> = {};
  const attachments = new Map<string, number>();
  const results: string[] = [];
  let embedded = 0;
  for (const m of page.matchAll(/d\("([^"]+)","([^"]*)"\)/g)) {
    const [, file = '', data = ''] = m;
    embedded += m[0].length;
    const part = file.startsWith('data/test-results/')
      ? 'test results'
      : file.startsWith('data/attachments/')
        ? 'attachments'
        : file.startsWith('data/test-env-groups/')
          ? 'test env groups'
          : /search-index\.json$/.test(file)
            ? 'search index'
            : /(^|\/)tree\.json$/.test(file)
              ? 'tree'
              : 'other data';
    parts[part] = (parts[part] ?? 0) + data.length;
    if (part === 'attachments')
      attachments.set(path.basename(file).replace(/\.[^.]*$/, ''), data.length);
    if (part === 'test results') results.push(data);
  }
  if (results.length === 0) return undefined;
  parts['app and page'] = page.length - embedded;
  let passed = 0;
  let passingAttachmentBytes = 0;
  let passingAttachmentRefBytes = 0;
  for (const data of results) {
    const t = JSON.parse(Buffer.from(data, 'base64').toString('utf8')) as {
      status?: string;
      steps?: { type?: string; link?: { id?: string } }[];
      attachments?: unknown[];
    };
    if (t.status !== 'passed') continue;
    passed += 1;
    const steps = (t.steps ?? []).filter((s) => s.type === 'attachment');
    for (const s of steps) passingAttachmentBytes += attachments.get(s.link?.id ?? '') ?? 0;
    // base64 of the JSON: 4/3 of its bytes.
    passingAttachmentRefBytes += Math.round(
      ((JSON.stringify(steps).length + JSON.stringify(t.attachments ?? []).length) * 4) / 3,
    );
  }
  return {
    parts,
    tests: results.length,
    passed,
    passingAttachmentBytes,
    passingAttachmentRefBytes,
  };
}
