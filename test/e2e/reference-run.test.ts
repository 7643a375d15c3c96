/**
 * One real `npm run conformance` against the embedded reference (oidc-provider, started by the CLI),
 * then its outputs: the summary, the run record, the Allure results and the single-file HTML report,
 * which is opened in Chromium from file:// and checked as a QA reader would.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describeInBrowser } from './chromium.js';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Outcome } from '../../src/evaluate.js';
import type { ProviderRun, RunRecord } from '../../src/run-record.js';
import { isNotApplicable, reportEntries, type ReportEntry } from '../../src/report/presentation.js';
import { summarize } from '../../src/report/verdict.js';
import {
  describeRun,
  labelsOf,
  parseSummary,
  readAllureResults,
  readRun,
  removeTempDirs,
  runCli,
  type AllureResult,
  type CliResult,
} from './run-cli.js';
import { launchChromium, ReportPage, resultIdOf } from './report-page.js';
import { AREA_TITLES } from '../../src/checks/types.js';

const PROVIDER_TITLE = 'reference · Embedded reference (oidc-provider)';
// Every area of the harness: the reference exercises all of them.
const AREAS = Object.values(AREA_TITLES);
const CACHE_CONTROL_CHECK = 'The token response forbids caching (Cache-Control: no-store)';
const PRAGMA_CHECK = 'SHOULD not met: The token response carries Pragma: no-cache';

/** How the suites' reporter writes each finding outcome as an Allure status. */
const ALLURE_STATUS: Record<Outcome, string> = {
  pass: 'passed',
  fail: 'failed',
  warn: 'unknown',
  skipped: 'skipped',
  broken: 'broken',
  deviation: 'skipped',
};

let run: CliResult;

beforeAll(async () => {
  run = await runCli([]);
}, 120_000);

afterAll(() => {
  removeTempDirs();
});

describe('a run against the embedded reference', () => {
  let record: RunRecord;
  let reference: ProviderRun;

  beforeAll(() => {
    expect(run.code, describeRun(run)).toBe(0);
    record = readRun(run);
    const r = record.providers.find((p) => p.provider.name === 'reference');
    if (!r) throw new Error('no reference provider in run.json');
    reference = r;
  });

  it('exits 0 with a clean summary line for each embedded descriptor', () => {
    expect(run.timedOut).toBe(false);
    expect(run.code).toBe(0);
    const rows = parseSummary(run.stdout);
    // The default run: every embedded descriptor (one per grant) against one reference server.
    expect(rows.map((r) => r.provider)).toEqual([
      'reference',
      'reference-authorization-code',
      'reference-jwt-bearer',
    ]);
    for (const row of rows) {
      expect(row.failed, row.provider).toBe(0);
      expect(row.broken, row.provider).toBe(0);
      expect(row.requests, row.provider).toBeGreaterThan(0);
      expect(row.passed, row.provider).toBeGreaterThan(0);
    }
    expect(run.stdout).toContain('Result: CONFORMANT');
  });

  it('agrees with the run record (counts and requests)', () => {
    const row = parseSummary(run.stdout).find((r) => r.provider === 'reference');
    const count = (o: Outcome) => reference.findings.filter((f) => f.outcome === o).length;
    expect(row).toEqual({
      provider: 'reference',
      passed: count('pass'),
      failed: count('fail'),
      warnings: count('warn'),
      skipped: count('skipped'),
      broken: count('broken'),
      deviations: count('deviation'),
      requests: reference.evidence.requestsSent,
    });
  });

  it('passes (or skips) every MUST and EXPECTATION check', () => {
    const binding = reference.findings.filter(
      (f) => f.level === 'MUST' || f.level === 'EXPECTATION',
    );
    expect(binding.length).toBeGreaterThan(0);
    // providers/reference.yaml declares one deviation of oidc-provider's: the code of a replayed DPoP proof.
    const declared = ['dpop.replay-code'];
    for (const f of binding)
      expect(
        declared.includes(f.checkId) ? ['deviation'] : ['pass', 'skipped'],
        `${f.checkId}: ${f.outcome}: ${f.message}`,
      ).toContain(f.outcome);
  });

  it('covers every area', () => {
    expect(new Set(reference.findings.map((f) => f.areaTitle))).toEqual(new Set(AREAS));
  });

  it('writes one Allure result per judged finding, and one per provider and area for the checks that do not apply', () => {
    const all = readAllureResults(run.outDir);
    const entries = reportEntries(record);
    expect(all).toHaveLength(entries.length);
    expect(entries.length).toBeLessThan(
      record.providers.reduce((n, p) => n + p.findings.length, 0),
    );
    // Equal ids would make Allure fold different providers' checks into "retries" of one test.
    expect(new Set(all.map((r) => r.testCaseId)).size).toBe(all.length);
    expect(new Set(all.map((r) => r.historyId)).size).toBe(all.length);
    const results = all.filter((r) => labelsOf(r, 'parentSuite')[0] === PROVIDER_TITLE);
    const mine = entries.filter((e) => e.provider === 'reference');
    expect(results).toHaveLength(mine.length);
    for (const r of results) {
      expect(labelsOf(r, 'parentSuite'), r.name).toEqual([PROVIDER_TITLE]);
      expect(labelsOf(r, 'provider'), r.name).toEqual(['reference']);
      expect(labelsOf(r, 'suite'), r.name).toHaveLength(1);
      expect(AREAS).toContain(labelsOf(r, 'suite')[0]);
    }
    // Each judged finding has its result, in its area and with its status…
    const key = (check: string, area: string, status: string) => `${check} | ${area} | ${status}`;
    const fromResults = results
      .filter((r) => labelsOf(r, 'check').length > 0)
      .map((r: AllureResult) =>
        key(labelsOf(r, 'check')[0] ?? '?', labelsOf(r, 'suite')[0] ?? '?', r.status),
      )
      .sort();
    const fromFindings = reference.findings
      .filter((f) => !isNotApplicable(f))
      .map((f) => key(f.checkId, f.areaTitle, ALLURE_STATUS[f.outcome]))
      .sort();
    expect(fromResults).toEqual(fromFindings);
    // …and the ones that do not apply are counted in one skipped result per area, which run.json still lists one by one.
    const folded = results.filter((r) => labelsOf(r, 'check').length === 0);
    expect(
      folded.every((r) => r.status === 'skipped' && /^\d+ checks? not applicable/.test(r.name)),
    ).toBe(true);
    expect(folded.reduce((n, r) => n + Number(/^\d+/.exec(r.name)?.[0]), 0)).toBe(
      reference.findings.filter(isNotApplicable).length,
    );
  });

  it('writes no stack trace and no error box around a reason: only failed and broken results carry a message', () => {
    for (const r of readAllureResults(run.outDir)) {
      expect(r.statusDetails?.trace, r.name).toBeUndefined();
      if (r.status !== 'failed' && r.status !== 'broken')
        expect(r.statusDetails?.message, r.name).toBeUndefined();
    }
  });

  it('writes the single-file HTML report', () => {
    expect(existsSync(path.join(run.outDir, 'html/index.html'))).toBe(true);
  });
});

describeInBrowser('the HTML report in a browser (file://, no network)', () => {
  let browser: Browser;
  let report: ReportPage;
  let record: RunRecord;
  let entries: ReportEntry[];

  beforeAll(async () => {
    expect(run.code, describeRun(run)).toBe(0);
    record = readRun(run);
    entries = reportEntries(record);
    browser = await launchChromium();
    report = new ReportPage(browser, path.join(run.outDir, 'html/index.html'));
  }, 240_000);

  afterAll(async () => {
    await report?.close();
    await browser?.close();
  });

  it('opens on the verdict of each provider: verdict, MUST and EXPECTATION failures, warnings, requests, endpoint', async () => {
    await report.open();
    const lines = await report.verdictLines();
    expect([...lines.keys()]).toEqual([
      'reference',
      'reference-authorization-code',
      'reference-jwt-bearer',
    ]);
    for (const r of record.providers) {
      const v = summarize(r);
      const line = lines.get(r.provider.name);
      expect(line?.verdict).toBe('conformant');
      expect(line?.text).toContain(
        `${r.provider.name}: 0 MUST and 0 EXPECTATION failures · ${v.warnings} warning`,
      );
      expect(line?.text).toContain(`${v.passed} of ${v.judged} judged checks passed`);
      expect(line?.text).toContain(`${r.evidence.requestsSent} requests`);
      expect(line?.text).toContain(r.provider.tokenEndpoint);
      expect(line?.text).toContain('Trend: no earlier run in this history');
    }
    await report.page.screenshot({ path: path.join(run.outDir, 'report-landing.png') });
  });

  it('states the real run duration in the header, and a pass rate over judged checks only', async () => {
    await report.open();
    // Allure writes "<date> (8s 168ms)": the run record's span, not the few milliseconds the suites took.
    const took = Date.parse(record.finishedAt) - Date.parse(record.startedAt);
    expect(took).toBeGreaterThan(1000);
    expect(await report.page.getByTestId('report-data').innerText()).toContain(
      `(${Math.floor(took / 1000)}s`,
    );
    expect(await report.page.getByTestId('tc-run').innerText()).toContain(
      `took ${(took / 1000).toFixed(1)} s`,
    );
    const passed = entries.filter((e) => e.status === 'passed').length;
    const judged =
      passed + entries.filter((e) => e.status === 'failed' || e.status === 'unknown').length;
    await report.page
      .getByText(`${Math.floor((passed / judged) * 10000) / 100}%`, { exact: true })
      .waitFor();
  });

  it("shows the providers by name and each area's checks in catalogue order, the ones that do not apply as one entry", async () => {
    await report.open();
    const top = report.page.locator(
      '[data-testid=tree-content] > div > [data-testid=tree-section] [data-testid=tree-section-title]',
    );
    await top.first().waitFor();
    expect((await top.allInnerTexts()).slice(0, 3)).toEqual([
      PROVIDER_TITLE,
      'reference-authorization-code · Embedded reference (oidc-provider), authorization code + PKCE + refresh',
      'reference-jwt-bearer · Embedded reference, jwt-bearer grant (oidc-provider)',
    ]);
    for (const area of ['Client authentication', 'Response schema'] as const) {
      await report.open();
      const leaves = await report.leaves(PROVIDER_TITLE, area);
      const expected = entries
        .filter((e) => e.provider === 'reference' && AREA_TITLES[e.area] === area)
        .map((e) => e.name);
      expect(leaves).toEqual(expected);
      expect(leaves.filter((l) => /not applicable/.test(l)).length).toBeLessThanOrEqual(1);
    }
  });

  it('shows a check with its spec link, parameters and redacted evidence', async () => {
    await report.open(`#${resultIdOf(run.outDir, 'reference:response.cache-control')}`);
    const page = report.page;
    await page
      .getByTestId('test-result-info-title')
      .filter({ hasText: CACHE_CONTROL_CHECK })
      .waitFor();
    await page.getByTestId('test-result-status-passed').waitFor();

    const link = page.getByTestId('test-result-meta-link').locator('a');
    expect(await link.getAttribute('href')).toBe(
      'https://www.rfc-editor.org/rfc/rfc6749#section-5.1',
    );

    const param = page
      .getByTestId('metadata-item')
      .filter({ has: page.getByTestId('metadata-item-key').filter({ hasText: /^check id$/ }) });
    expect(await param.getByTestId('metadata-item-value').innerText()).toBe(
      'response.cache-control',
    );

    const names = await page.getByTestId('test-result-attachment-header').allInnerTexts();
    expect(names.some((n) => n.includes('exchange: '))).toBe(true);
    expect(names.some((n) => n.includes('curl: '))).toBe(true);

    const text = await report.attachmentText('exchange: ');
    expect(text).toContain('Authorization: Basic [redacted: base64 of "');
    expect(text).toMatch(/^HTTP 200\b/m);
    // The body as it came (oidc-provider writes compact JSON), the token a preview.
    expect(text).toMatch(/"access_token":\s*"[^"]{8}\.\.\.\(redacted, \d+ chars\)"/);
    // No raw credentials: neither a Basic credential blob nor a client_secret value.
    expect(text).not.toMatch(/Authorization: Basic [A-Za-z0-9+/]{8,}={0,2}\s*$/m);
    expect(text).not.toMatch(/client_secret=(?!\$)[^&\s]/);

    await page.screenshot({ path: path.join(run.outDir, 'report-check.png'), fullPage: true });
  });

  it('names the CA of a curl line relatively, and the report carries it', async () => {
    await report.open(`#${resultIdOf(run.outDir, 'reference:response.cache-control')}`);
    const curl = await report.attachmentText('curl: ');
    const ca = /--cacert '([^']+)'/.exec(curl)?.[1];
    expect(ca).toBe('ca/reference.pem');
    const file = path.join(run.outDir, 'html', ca ?? '');
    expect(existsSync(file)).toBe(true);
    expect(readFileSync(file, 'utf8')).toBe(
      record.providers.find((r) => r.provider.name === 'reference')?.provider.caCertificates,
    );
    expect(readFileSync(file, 'utf8')).toMatch(/^-----BEGIN CERTIFICATE-----/);
  });

  it('shows a SHOULD warning as what it is: its own status, "SHOULD not met" and the Warning (SHOULD) category', async () => {
    await report.open();
    await report.expand(PROVIDER_TITLE, report.sectionTitle('Response schema'));
    await report.expand('Response schema', report.leafTitle(PRAGMA_CHECK));
    expect(await report.leaf(PRAGMA_CHECK).getByTestId('tree-leaf-status-unknown').count()).toBe(1);
    expect(
      await report.leaf(CACHE_CONTROL_CHECK).getByTestId('tree-leaf-status-passed').count(),
    ).toBe(1);
    await report.leaf(PRAGMA_CHECK).click();
    const page = report.page;
    await page.getByTestId('test-result-info-title').filter({ hasText: PRAGMA_CHECK }).waitFor();
    await page.getByTestId('test-result-status-unknown').waitFor();
    await page.getByText('Category: Warning (SHOULD)', { exact: true }).waitFor();
    expect(await report.descriptionText()).toMatch(/^SHOULD not met \(a warning/);
    // The reason is no error: no error box, no stack.
    expect(await page.getByTestId('test-result-error').count()).toBe(0);
    await page.screenshot({ path: path.join(run.outDir, 'report-warning.png'), fullPage: true });
  });

  // Allure 3.18's single-file template puts the app script before the inline data; the app then
  // fetched widgets/*.json (refused from file://) and the report stayed blank about 1 load in 5.
  // generate.ts declares the data store in <head>, so the app waits for the data.
  it('defines the inline data store before the report app starts', () => {
    const html = readFileSync(path.join(run.outDir, 'html/index.html'), 'utf8');
    const app = html.indexOf('<script   src="data:text/javascript;base64,');
    const store = html.indexOf('window.allureReportData');
    expect(app).toBeGreaterThan(0);
    expect(store).toBeGreaterThan(0);
    expect(store).toBeLessThan(app);
  });

  it('worked offline: only non-file requests were blocked, and the page raised no error', () => {
    expect(report.blocked.every((u) => !u.startsWith('file:'))).toBe(true);
    expect(report.pageErrors).toEqual([]);
  });
});
