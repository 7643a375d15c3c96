/**
 * One real `npm run conformance` against the embedded reference (oidc-provider, started by the CLI),
 * then its outputs: the summary, the run record, the Allure results and the single-file HTML report,
 * which is opened in Chromium from file:// and checked as a QA reader would.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { describeInBrowser } from './chromium.js';
import { chromium, type Browser, type BrowserContext, type Locator, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Outcome } from '../../src/evaluate.js';
import type { ProviderRun, RunRecord } from '../../src/run-record.js';
import { describeRun, labelsOf, parseSummary, readAllureResults, readRun, removeTempDirs, runCli, type AllureResult, type CliResult } from './run-cli.js';
import { AREA_TITLES } from '../../src/checks/types.js';

const PROVIDER_TITLE = 'Embedded reference (oidc-provider)';
// Every area of the harness: the reference exercises all of them.
const AREAS = Object.values(AREA_TITLES);
const CACHE_CONTROL_CHECK = 'The token response forbids caching (Cache-Control: no-store)';
const PRAGMA_CHECK = 'The token response carries Pragma: no-cache';

/** How the suites' reporter writes each finding outcome as an Allure status. */
const ALLURE_STATUS: Record<Outcome, string> = { pass: 'passed', fail: 'failed', warn: 'unknown', skipped: 'skipped', broken: 'broken', deviation: 'unknown' };

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
    expect(rows.map((r) => r.provider)).toEqual(['reference', 'reference-jwt-bearer']);
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
    const binding = reference.findings.filter((f) => f.level === 'MUST' || f.level === 'EXPECTATION');
    expect(binding.length).toBeGreaterThan(0);
    for (const f of binding) expect(['pass', 'skipped'], `${f.checkId}: ${f.outcome}: ${f.message}`).toContain(f.outcome);
  });

  it('covers every area', () => {
    expect(new Set(reference.findings.map((f) => f.areaTitle))).toEqual(new Set(AREAS));
  });

  it('writes one Allure result per finding, labelled provider › area', () => {
    const all = readAllureResults(run.outDir);
    expect(all).toHaveLength(record.providers.reduce((n, p) => n + p.findings.length, 0));
    // Equal ids would make Allure fold different providers' checks into "retries" of one test.
    expect(new Set(all.map((r) => r.testCaseId)).size).toBe(all.length);
    expect(new Set(all.map((r) => r.historyId)).size).toBe(all.length);
    const results = all.filter((r) => labelsOf(r, 'parentSuite')[0] === PROVIDER_TITLE);
    expect(results).toHaveLength(reference.findings.length);
    for (const r of results) {
      expect(labelsOf(r, 'parentSuite'), r.name).toEqual([PROVIDER_TITLE]);
      expect(labelsOf(r, 'suite'), r.name).toHaveLength(1);
      expect(AREAS).toContain(labelsOf(r, 'suite')[0]);
    }
    // Each finding has its result, in its area and with its status.
    const key = (check: string, area: string, status: string) => `${check} | ${area} | ${status}`;
    const fromResults = results.map((r: AllureResult) => key(labelsOf(r, 'check')[0] ?? '?', labelsOf(r, 'suite')[0] ?? '?', r.status)).sort();
    const fromFindings = reference.findings.map((f) => key(f.checkId, f.areaTitle, ALLURE_STATUS[f.outcome])).sort();
    expect(fromResults).toEqual(fromFindings);
  });

  it('writes the single-file HTML report', () => {
    expect(existsSync(path.join(run.outDir, 'html/index.html'))).toBe(true);
  });
});

describeInBrowser('the HTML report in a browser (file://, no network)', () => {
  let browser: Browser;
  let context: BrowserContext | undefined;
  let page: Page;
  const blocked: string[] = [];
  const pageErrors: string[] = [];

  beforeAll(async () => {
    expect(run.code, describeRun(run)).toBe(0);
    browser = await chromium.launch({
      executablePath: '/usr/bin/chromium',
      args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
  }, 240_000);

  afterAll(async () => {
    await browser?.close();
  });

  /**
   * Each test starts from the overview in a new browser context: no state carried over from the
   * previous test (the report keeps expanded tree groups in localStorage).
   */
  async function openOverview(): Promise<void> {
    await context?.close();
    context = await browser.newContext({ viewport: { width: 1400, height: 1100 } });
    page = await context.newPage();
    page.setDefaultTimeout(15_000);
    page.on('pageerror', (e) => pageErrors.push(e.message));
    page.on('crash', () => pageErrors.push('the page crashed'));
    await page.route('**/*', async (route) => {
      const url = route.request().url();
      if (/^(file|data|blob):/.test(url)) await route.continue();
      else {
        blocked.push(url);
        await route.abort();
      }
    });
    await page.goto(reportUrl());
    await page.getByTestId('report-title').waitFor();
  }

  const reportUrl = (): string => pathToFileURL(path.join(run.outDir, 'html/index.html')).href;
  const escape = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const sectionTitle = (name: string): Locator => page.getByTestId('tree-section-title').filter({ hasText: new RegExp(`^${escape(name)}$`) });
  const leafTitle = (name: string): Locator => page.getByTestId('tree-leaf-title').filter({ hasText: new RegExp(`^${escape(name)}$`) });
  const leaf = (name: string): Locator => page.getByTestId('tree-leaf').filter({ has: leafTitle(name) });

  /** Expands a tree group (groups may start collapsed) until `child` shows. */
  async function expand(name: string, child: Locator): Promise<void> {
    await sectionTitle(name).waitFor();
    if ((await child.count()) === 0) await sectionTitle(name).click();
    await child.first().waitFor();
  }

  /** Opens the overview and expands the tree down to `check`'s leaf. */
  async function showLeaf(area: string, check: string): Promise<Locator> {
    await openOverview();
    await expand(PROVIDER_TITLE, sectionTitle(area));
    await expand(area, leafTitle(check));
    return leaf(check);
  }

  async function openCheck(area: string, check: string): Promise<void> {
    await (await showLeaf(area, check)).click();
    await page.getByTestId('test-result-info-title').filter({ hasText: check }).waitFor();
  }

  it('shows the report title and the provider with its areas', async () => {
    await openOverview();
    expect(await page.getByTestId('report-title').innerText()).toBe('Token endpoint conformance');
    await expand(PROVIDER_TITLE, sectionTitle(AREAS[0] ?? ''));
    for (const area of AREAS) expect(await sectionTitle(area).count(), area).toBe(1);
  });

  it('shows a check with its spec link, parameters and redacted evidence', async () => {
    await openCheck('Response schema', CACHE_CONTROL_CHECK);
    await page.getByTestId('test-result-status-passed').waitFor();

    const link = page.getByTestId('test-result-meta-link').locator('a');
    expect(await link.getAttribute('href')).toBe('https://www.rfc-editor.org/rfc/rfc6749#section-5.1');

    const param = page.getByTestId('metadata-item').filter({ has: page.getByTestId('metadata-item-key').filter({ hasText: /^check id$/ }) });
    expect(await param.getByTestId('metadata-item-value').innerText()).toBe('response.cache-control');

    const headers = page.getByTestId('test-result-attachment-header');
    const names = await headers.allInnerTexts();
    expect(names.some((n) => n.includes('exchange: '))).toBe(true);
    expect(names.some((n) => n.includes('curl: '))).toBe(true);

    await headers.filter({ hasText: 'exchange: ' }).first().click();
    const exchange = page.getByTestId('test-result-attachment').filter({ hasText: 'exchange: ' }).first();
    await exchange.getByText('Authorization: Basic [redacted', { exact: false }).waitFor();
    const text = await exchange.innerText();
    expect(text).toContain('Authorization: Basic [redacted: base64 of "');
    expect(text).toMatch(/^HTTP 200\b/m);
    // The body as it came (oidc-provider writes compact JSON), the token a preview.
    expect(text).toMatch(/"access_token":\s*"[^"]{8}\.\.\.\(redacted, \d+ chars\)"/);
    // No raw credentials: neither a Basic credential blob nor a client_secret value.
    expect(text).not.toMatch(/Authorization: Basic [A-Za-z0-9+/]{8,}={0,2}\s*$/m);
    expect(text).not.toMatch(/client_secret=(?!\$)[^&\s]/);

    await page.screenshot({ path: path.join(run.outDir, 'report-check.png'), fullPage: true });
  });

  it('shows a SHOULD warning as unknown, in the Warning (SHOULD) category', async () => {
    const pragma = await showLeaf('Response schema', PRAGMA_CHECK);
    expect(await pragma.getByTestId('tree-leaf-status-unknown').count()).toBe(1);
    expect(await leaf(CACHE_CONTROL_CHECK).getByTestId('tree-leaf-status-passed').count()).toBe(1);
    await pragma.click();
    await page.getByTestId('test-result-info-title').filter({ hasText: PRAGMA_CHECK }).waitFor();
    await page.getByTestId('test-result-status-unknown').waitFor();
    await page.getByText('Category: Warning (SHOULD)', { exact: true }).waitFor();
    expect(await page.getByTestId('test-result-error-message').first().innerText()).toMatch(/^SHOULD: /);
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
    expect(blocked.every((u) => !u.startsWith('file:'))).toBe(true);
    expect(pageErrors).toEqual([]);
  });
});
