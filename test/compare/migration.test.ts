/**
 * Pre-migration validation, end to end: two embedded references on loopback, the candidate with
 * exactly five behaviour changes (lifetime 300 → 60 s, scope no longer echoed, opaque → JWT access
 * tokens, a refresh token now issued, 400 instead of 401 for a wrong secret sent in the body).
 * `npm run compare` must list exactly those five, each in its class, and nothing else; exit 1; write
 * compare.json (valid), compare.md and a report whose "Migration" suite opens in Chromium; and let
 * no secret of either side through.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Browser, Locator, Page } from 'playwright-core';
import { launchChromium } from '../e2e/report-page.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CompareFile } from '../../src/compare/types.js';
import {
  describeRun,
  labelsOf,
  listFiles,
  readAllureResults,
  readRun,
  removeTempDirs,
  runCli,
  type CliResult,
} from '../e2e/run-cli.js';
import { validateCompare } from './schema.js';
import { BASELINE, CANDIDATE, startSides } from './two-references.js';

let sides: Awaited<ReturnType<typeof startSides>> | undefined;
let run: CliResult;
let compare: CompareFile;
const MIGRATION = 'Migration: current → candidate';

beforeAll(async () => {
  sides = await startSides([BASELINE, CANDIDATE]);
  run = await runCli(['--baseline', sides.sides[0]!.file, '--candidate', sides.sides[1]!.file], {
    entry: 'src/compare/cli.ts',
    env: sides.env,
    timeoutMs: 280_000,
  });
  compare = JSON.parse(readFileSync(path.join(run.outDir, 'compare.json'), 'utf8')) as CompareFile;
}, 300_000);

afterAll(async () => {
  await sides?.close();
  removeTempDirs();
});

describe('compare: five behaviour changes', () => {
  it('exits 1 (differences that break clients and a conformance regression)', () => {
    expect(run.code, describeRun(run)).toBe(1);
  });

  it('lists exactly the five, each in its class, and nothing else', () => {
    expect(validateCompare(compare), JSON.stringify(validateCompare.errors?.slice(0, 3))).toBe(
      true,
    );
    expect(compare.comparisons).toHaveLength(1);
    const c = compare.comparisons[0]!;
    expect(c.title).toBe(MIGRATION);
    const listed = c.differences.map((d) => [d.class, d.aspect, d.baseline, d.candidate]);
    expect(listed.sort()).toEqual(
      [
        ['breaks-clients', 'lifetime', 'expires_in 300', 'expires_in 60'],
        ['breaks-clients', 'scopeEcho', 'scope echoed', 'scope not echoed'],
        ['breaks-clients', 'format', 'opaque', 'JWT'],
        ['breaks-clients', 'status', '401', '400'],
        // oidc-provider issues none for client_credentials: RFC 6749 §4.4.3 says SHOULD NOT.
        ['conformance-regression', 'refreshToken', 'no refresh token', 'refresh token issued'],
      ].sort(),
    );
    // The candidate's refresh token (the fifth change) is redeemed on its side only: not comparable.
    expect(
      c.notComparable.map((d) => [d.aspect, d.baseline, d.candidate, d.where.map((w) => w.probe)]),
    ).toEqual([['answer', 'not run (ruled out)', 'answered', ['refresh.first']]]);
    expect(c.noise).toEqual([]);
    expect(c.differences.find((d) => d.aspect === 'status')!.where.map((w) => w.probe)).toEqual([
      'errors.wrong-secret',
    ]);
    expect(
      c.differences
        .find((d) => d.aspect === 'refreshToken')!
        .checks.map((k) => `${k.checkId} ${k.baseline.outcome}→${k.candidate.outcome}`),
    ).toEqual(['grant.no-refresh-token pass→warn']);
    // The checks that only JWTs allow (or only opaque tokens) go with the format change, not apart.
    expect(c.differences.find((d) => d.aspect === 'format')!.checks.map((k) => k.checkId)).toEqual(
      expect.arrayContaining(['jwt.typ', 'jwt.signature', 'response.token-entropy']),
    );
  });

  it('prints the table and writes compare.md', () => {
    expect(run.stdout).toMatch(
      /BREAKS CLIENTS\s+Token lifetime shrinks\s+expires_in 300\s+expires_in 60/,
    );
    expect(run.stdout).toMatch(/CONFORMANCE REGRESSION\s+Refresh token now issued/);
    expect(run.stdout).toContain(
      'Comparison: 5 differences of the classes --fail-on names (breaks-clients, conformance-regression)',
    );
    const md = readFileSync(path.join(run.outDir, 'compare.md'), 'utf8');
    for (const title of [
      'Token lifetime shrinks',
      'Scope no longer echoed',
      'Token format changes',
      'Status changes',
      'Refresh token now issued',
    ])
      expect(md).toContain(`#### ${title}`);
    expect(md).toContain('### Breaks clients (4)');
    expect(md).toContain('### Conformance regression (1)');
  });

  it('records both sides, named as such, in the run record', () => {
    expect(readRun(run).providers.map((p) => p.provider.title)).toEqual([
      'Baseline: current (oidc-provider)',
      'Candidate: candidate (oidc-provider)',
    ]);
  });

  it('writes a "Migration" suite: a failed test per difference, a passed one per unchanged request', () => {
    const results = readAllureResults(run.outDir).filter(
      (r) => labelsOf(r, 'parentSuite')[0] === MIGRATION,
    );
    const byClass = (cls: string) => results.filter((r) => labelsOf(r, 'migration')[0] === cls);
    expect(byClass('breaks-clients').map((r) => r.status)).toEqual([
      'failed',
      'failed',
      'failed',
      'failed',
    ]);
    expect(byClass('conformance-regression').map((r) => r.status)).toEqual(['failed']);
    expect(byClass('unchanged').length).toBe(compare.comparisons[0]!.counts.unchanged);
    expect(byClass('unchanged').every((r) => r.status === 'passed')).toBe(true);
    expect(new Set(results.map((r) => r.historyId)).size).toBe(results.length);
    const lifetime = byClass('breaks-clients').find((r) =>
      r.name.startsWith('Token lifetime shrinks'),
    )!;
    expect(lifetime.steps.flatMap((s) => s.attachments.map((a) => `${a.name} ${a.type}`))).toEqual([
      'exchanges: current | candidate text/html',
      'curl: current text/plain',
      'curl: candidate text/plain',
    ]);
  });

  it('lets no secret of either side through (stdout, stderr, every file written)', () => {
    const env = sides!.env;
    const read = (suffix: RegExp) =>
      Object.entries(env)
        .filter(([k]) => suffix.test(k))
        .map(([, f]) => readFileSync(f, 'utf8'));
    // A PKCS#8 EC key holds its public point too, which the (public) certificate repeats: only
    // the lines found in no certificate are private; of a JWK, the private member d.
    const certificates = read(/_CERT_FILE$/).join('');
    const keyLines = read(/_KEY_FILE$/).flatMap((text) =>
      text.trim().startsWith('{')
        ? [String((JSON.parse(text) as { d: string }).d)]
        : text
            .split('\n')
            .filter((l) => l.length > 40 && !l.startsWith('-----') && !certificates.includes(l)),
    );
    const needles = [
      ...sides!.secrets.flatMap((s) => [
        s,
        encodeURIComponent(s),
        new URLSearchParams({ v: s }).toString().slice(2),
      ]),
      ...keyLines,
    ];
    expect(needles.length).toBeGreaterThan(6);
    const texts = [
      run.stdout,
      run.stderr,
      ...listFiles(run.outDir)
        .filter((f) => !/\.png$/.test(f))
        .map((f) => readFileSync(f, 'utf8')),
    ];
    // The single-file report inlines its data as base64: read that too.
    const decoded = texts.flatMap((t) =>
      [...t.matchAll(/[A-Za-z0-9+/]{200,}={0,2}/g)].map((m) =>
        Buffer.from(m[0], 'base64').toString('utf8'),
      ),
    );
    for (const text of [...texts, ...decoded])
      for (const n of needles)
        expect(text.includes(n), `a secret (${n.slice(0, 4)}…) leaked`).toBe(false);
  });
});

describe('the comparison view of the report, in Chromium', () => {
  let browser: Browser;
  let page: Page;
  const errors: string[] = [];
  const shots = process.env['TC_COMPARE_SHOTS'] ?? run?.outDir;

  beforeAll(async () => {
    browser = await launchChromium();
    page = await (await browser.newContext({ viewport: { width: 1400, height: 1100 } })).newPage();
    page.setDefaultTimeout(20_000);
    page.on('pageerror', (e) => errors.push(e.message));
    await page.route('**/*', async (route) =>
      /^(file|data|blob|about):/.test(route.request().url()) ? route.continue() : route.abort(),
    );
    await page.goto(pathToFileURL(path.join(run.outDir, 'html/index.html')).href);
    await page.getByTestId('report-title').waitFor();
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
  });

  const escape = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const section = (name: string): Locator =>
    page.getByTestId('tree-section-title').filter({ hasText: new RegExp(`^${escape(name)}$`) });
  const leafTitle = (start: string): Locator =>
    page.getByTestId('tree-leaf-title').filter({ hasText: new RegExp(`^${escape(start)}`) });
  async function expand(name: string, child: Locator): Promise<void> {
    await section(name).waitFor();
    if ((await child.count()) === 0) await section(name).click();
    await child.first().waitFor();
  }

  it('shows the migration suite with its classes, the failures marked failed', async () => {
    await expand(MIGRATION, section('Breaks clients'));
    await expand('Breaks clients', leafTitle('Token lifetime shrinks'));
    await expand('Conformance regression', leafTitle('Refresh token now issued'));
    expect(await section('Unchanged').count()).toBe(1);
    const leaf = page.getByTestId('tree-leaf').filter({ has: leafTitle('Token lifetime shrinks') });
    expect(await leaf.getByTestId('tree-leaf-status-failed').count()).toBe(1);
    await leafTitle('Token lifetime shrinks').scrollIntoViewIfNeeded();
    await page.screenshot({
      path: path.join(shots ?? run.outDir, 'compare-tree.png'),
      fullPage: true,
    });
  });

  it('opens a difference: why, where, and both exchanges side by side', async () => {
    await leafTitle('Status changes: 401 → 400').click();
    await page
      .getByTestId('test-result-info-title')
      .filter({ hasText: 'Status changes' })
      .waitFor();
    await page.getByTestId('test-result-status-failed').waitFor();
    // Allure renders the description and an HTML attachment each in its own sandboxed frame.
    await page
      .frameLocator('[data-testid="test-result-description-frame"]')
      .getByText('errors.wrong-secret', { exact: false })
      .first()
      .waitFor();
    await page
      .getByTestId('test-result-attachment-header')
      .filter({ hasText: 'exchanges: current | candidate' })
      .click();
    const frame = page
      .frameLocator('iframe:not([data-testid="test-result-description-frame"])')
      .first();
    await frame.getByText('HTTP 401', { exact: false }).first().waitFor();
    await frame.getByText('HTTP 400', { exact: false }).first().waitFor();
    await page.screenshot({
      path: path.join(shots ?? run.outDir, 'compare-difference.png'),
      fullPage: true,
    });
    expect(errors).toEqual([]);
  });
});
