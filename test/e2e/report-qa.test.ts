/**
 * The report as QA reads it, for a run that has something to say (issue 11): a non-conformant
 * endpoint, an unreachable one and one with a declared deviation, run twice into the same report
 * history with the server changed in between, so the landing page has a trend. Each point is checked
 * in Debian's Chromium from file://: the verdict lines, the trend, a warning and a known deviation
 * rendered apart from each other and from failures, a failure without a stack trace, the categories
 * grouped by provider, and a curl line that works from a copy of the report folder. Plus a relative
 * --out given to `npm run conformance` from another directory.
 */
import { spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { execFile } from 'node:child_process';
import type { ServerResponse } from 'node:http';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AREA_TITLES } from '../../src/checks/types.js';
import { reportEntries } from '../../src/report/presentation.js';
import { summarize } from '../../src/report/verdict.js';
import type { RunRecord } from '../../src/run-record.js';
import {
  closedPort,
  startHttpsServer,
  type RecordedRequest,
  type TestServer,
} from './https-fixture.js';
import { launchChromium, ReportPage, resultIdOf } from './report-page.js';
import {
  childEnv,
  describeRun,
  freshDir,
  readRun,
  removeTempDirs,
  REPO_ROOT,
  runCli,
  type CliResult,
} from './run-cli.js';

const SECRET = { E2E_SECRET: 'e2e-secret-value' };

/** client_secret_basic with $E2E_SECRET, client_credentials, Bearer expected; `extra` YAML appended. */
function descriptor(name: string, tokenEndpoint: string, extra = ''): string {
  return [
    `name: ${name}`,
    `title: E2E ${name}`,
    `tokenEndpoint: ${tokenEndpoint}`,
    'clients:',
    '  - id: e2e-client',
    '    auth: { method: client_secret_basic, secret: "${env:E2E_SECRET}" }',
    'grant: { type: client_credentials }',
    'expect: { tokenType: Bearer }',
    extra,
  ].join('\n');
}

/** Accepts every request with a token; its caching headers are what the test sets between runs. */
let cachingHeaders: Record<string, string> = {};
function tokenForAnything(_req: RecordedRequest, res: ServerResponse): void {
  res.writeHead(200, { 'content-type': 'application/json', ...cachingHeaders });
  res.end(
    JSON.stringify({
      access_token: 'abcdefghijklmnopqrstuvwxyz0123456789',
      token_type: 'Bearer',
      expires_in: 60,
    }),
  );
}

let server: TestServer;
let browser: Browser;
let first: CliResult;
let second: CliResult;
let record: RunRecord;
let report: ReportPage;

beforeAll(async () => {
  server = await startHttpsServer(tokenForAnything);
  const port = await closedPort();
  const dir = freshDir('tc-e2e-qa-');
  writeFileSync(path.join(dir, 'ca.pem'), server.caPem);
  const files = [
    [
      'accepts-anything.yaml',
      descriptor('accepts-anything', `${server.origin}/token`, 'tls: { caFile: ca.pem }'),
    ],
    ['unreachable.yaml', descriptor('unreachable', `https://127.0.0.1:${port}/token`)],
    // The same server, its acceptance of a wrong secret declared as a deviation.
    [
      'declared.yaml',
      descriptor(
        'declared',
        `${server.origin}/token`,
        'tls: { caFile: ca.pem }\ndeviations:\n  - { check: errors.wrong-secret, reason: "takes any secret in the sandbox", link: "https://example.test/sandbox" }',
      ),
    ],
  ].map(([file, text]) => {
    const p = path.join(dir, file ?? '');
    writeFileSync(p, text ?? '');
    return p;
  });
  const args = files.flatMap((f) => ['--provider', f]);
  const outDir = freshDir('tc-e2e-qa-out-');
  // The first run: Pragma but no Cache-Control. The second, into the same history: the other way round.
  cachingHeaders = { pragma: 'no-cache' };
  first = await runCli(args, { env: SECRET, outDir, timeoutMs: 150_000 });
  cachingHeaders = { 'cache-control': 'no-store' };
  second = await runCli(args, { env: SECRET, outDir, timeoutMs: 150_000 });
  expect(first.code, describeRun(first)).toBe(1);
  expect(second.code, describeRun(second)).toBe(1);
  record = readRun(second);
  browser = await launchChromium();
  report = new ReportPage(browser, path.join(outDir, 'html/index.html'));
}, 400_000);

afterAll(async () => {
  await report?.close();
  await browser?.close();
  await server?.close();
  removeTempDirs();
});

const run = (name: string) => {
  const r = record.providers.find((p) => p.provider.name === name);
  if (!r) throw new Error(`no ${name} in run.json`);
  return r;
};

describe('the landing page', () => {
  it('says per provider, by name: non-conformant with its counts, not verified with the reason, the endpoint and the requests', async () => {
    await report.open();
    const lines = await report.verdictLines();
    expect([...lines.keys()]).toEqual(['accepts-anything', 'declared', 'unreachable']);
    for (const name of ['accepts-anything', 'declared']) {
      const v = summarize(run(name));
      expect(v.mustFailed).toBeGreaterThan(0);
      expect(lines.get(name)?.verdict).toBe('non-conformant');
      expect(lines.get(name)?.text).toContain(
        `${name}: ${v.mustFailed} MUST and ${v.expectationFailed} EXPECTATION failure`,
      );
      expect(lines.get(name)?.text).toContain(`${v.warnings} warning`);
      expect(lines.get(name)?.text).toContain(`${v.requests} requests`);
      expect(lines.get(name)?.text).toContain(`${server.origin}/token`);
    }
    expect(lines.get('declared')?.text).toContain('1 known deviation');
    expect(lines.get('unreachable')?.verdict).toBe('not verified');
    expect(lines.get('unreachable')?.text).toMatch(/no check judged the endpoint · \d+ not judged/);
    expect(lines.get('unreachable')?.text).toContain('connection refused');
    await report.page.screenshot({ path: path.join(second.outDir, 'qa-landing.png') });
  });

  it("shows each provider's trend and the checks that regressed or were fixed since the last run, linked", async () => {
    await report.open();
    const line = report.page.locator('[data-testid=tc-verdict][data-provider="accepts-anything"]');
    expect(await line.getByTestId('tc-trend').innerText()).toMatch(
      /Trend, oldest to now: ✗ ✗ · since the last run: 1 check regressed, 1 fixed/,
    );
    expect(await line.getByTestId('tc-regressed').innerText()).toMatch(
      /^Regressed: SHOULD not met: The token response carries Pragma: no-cache \(pass → warn\)$/,
    );
    expect(await line.getByTestId('tc-fixed').innerText()).toMatch(
      /^Fixed: The token response forbids caching \(Cache-Control: no-store\) \(fail → pass\)$/,
    );
    await line.getByTestId('tc-fixed').locator('a').click();
    await report.page
      .getByTestId('test-result-info-title')
      .filter({ hasText: 'The token response forbids caching (Cache-Control: no-store)' })
      .waitFor();
    await report.page.getByTestId('test-result-status-passed').waitFor();
    expect(
      await report.page.locator('[data-testid=tc-verdict][data-provider="unreachable"]').count(),
    ).toBe(0); // the check page has no landing block
  });
});

describe('the tree', () => {
  it('keeps not-applicable checks out: one entry per provider and area, their reasons as reasons', async () => {
    const entries = reportEntries(record).filter((e) => e.provider === 'accepts-anything');
    const folded = entries.filter((e) => e.kind === 'not-applicable');
    expect(folded.length).toBeGreaterThan(0);
    const area = AREA_TITLES[folded[0]?.area ?? 'grant'];
    await report.open();
    const leaves = await report.leaves('accepts-anything · E2E accepts-anything', area);
    expect(leaves).toEqual(entries.filter((e) => AREA_TITLES[e.area] === area).map((e) => e.name));
    expect(leaves.filter((l) => /not applicable/.test(l))).toEqual([folded[0]?.name]);
    await report.open(`#${resultIdOf(second.outDir, folded[0]?.key ?? '')}`);
    await report.page.getByTestId('test-result-status-skipped').waitFor();
    expect(await report.page.getByTestId('test-result-error').count()).toBe(0);
    expect(await report.descriptionText()).toMatch(/^Not applicable — /);
  });

  it('tells a warning, a known deviation and a failure apart at a glance, without a legend', async () => {
    await report.open();
    const provider = 'declared · E2E declared';
    const errors = await report.leaves(provider, 'Error behaviour');
    const deviation = 'Known deviation: A wrong client secret does not obtain a token';
    expect(errors).toContain(deviation);
    expect(
      await report
        .leaf(deviation, report.group(provider))
        .getByTestId('tree-leaf-status-skipped')
        .count(),
    ).toBe(1);
    const grants = await report.leaves(provider, 'Grant handling');
    const warning = grants.find((l) => l.startsWith('SHOULD not met: '));
    const failure = 'A token request without grant_type does not obtain a token';
    expect(warning).toBeDefined();
    expect(grants).toContain(failure);
    expect(
      await report
        .leaf(warning ?? '', report.group(provider))
        .getByTestId('tree-leaf-status-unknown')
        .count(),
    ).toBe(1);
    expect(
      await report
        .leaf(failure, report.group(provider))
        .getByTestId('tree-leaf-status-failed')
        .count(),
    ).toBe(1);
    await report.page.screenshot({ path: path.join(second.outDir, 'qa-tree.png') });

    await report.open(`#${resultIdOf(second.outDir, 'declared:errors.wrong-secret')}`);
    await report.page.getByTestId('test-result-status-skipped').waitFor();
    await report.page
      .getByText('Category: Known deviation (declared in the descriptor)', { exact: true })
      .waitFor();
    expect(await report.descriptionText()).toMatch(
      /^Known deviation, declared in .*declared\.yaml: takes any secret in the sandbox/,
    );
    expect(await report.page.getByTestId('test-result-error').count()).toBe(0);
  });
});

describe('a failed check', () => {
  it('states the verdict, the level, what was expected and the spec link; no stack trace of the harness', async () => {
    await report.open(`#${resultIdOf(second.outDir, 'accepts-anything:errors.wrong-secret')}`);
    const page = report.page;
    await page.getByTestId('test-result-status-failed').waitFor();
    await page.getByText('Category: Non-conformant (MUST)', { exact: true }).waitFor();
    const error = await page.getByTestId('test-result-error').first().innerText();
    expect(error).toContain('MUST: a wrong client secret was answered 200 with an access token');
    expect(error).toContain('expected: A wrong client secret does not obtain a token');
    expect(error).toMatch(
      /spec: RFC 6749 §\S+ https:\/\/www\.rfc-editor\.org\/rfc\/rfc6749#section-/,
    );
    expect(await page.getByTestId('test-result-error-trace').count()).toBe(0);
    const body = await page.locator('body').innerText();
    expect(body).not.toMatch(
      /\bat .*\.(ts|js|mjs):\d+|node_modules|AssertionError|ConformanceFailure/,
    );
    await page.screenshot({ path: path.join(second.outDir, 'qa-failed.png') });
  });

  it('has a curl line that works from a copy of the report folder, with the CA the report carries', async () => {
    await report.open(`#${resultIdOf(second.outDir, 'accepts-anything:response.pragma')}`);
    const curl = (await report.attachmentText('curl: '))
      .split('\n')
      .filter((l) => !l.startsWith('#'))
      .join('\n');
    expect(curl).toContain("--cacert 'ca/accepts-anything.pem'");
    // QA's machine: the report folder copied elsewhere, the run's own files out of reach.
    const elsewhere = mkdtempSync(path.join(freshDir('tc-e2e-qa-copy-'), 'report-'));
    cpSync(path.join(second.outDir, 'html'), elsewhere, { recursive: true });
    const before = server.requests.length;
    const { stdout } = await promisify(execFile)('bash', ['-c', curl], {
      cwd: elsewhere,
      env: { PATH: process.env['PATH'], ...SECRET },
      encoding: 'utf8',
      timeout: 20_000,
    });
    expect(stdout).toMatch(/^HTTP\/[\d.]+ 200/);
    expect(server.requests.length).toBe(before + 1);
    expect(server.requests.at(-1)?.headers.authorization).toBe(
      `Basic ${Buffer.from('e2e-client:e2e-secret-value').toString('base64')}`,
    );
  });
});

describe('the Categories tab', () => {
  it('groups every category by provider, so two providers never look alike in a grouped row', async () => {
    await report.open('#categories');
    const page = report.page;
    await page.getByText('Non-conformant (MUST)', { exact: true }).first().waitFor();
    const text = await page.locator('body').innerText();
    expect(text).toMatch(/provider\s+accepts-anything/);
    expect(text).toMatch(/provider\s+declared/);
    await page.screenshot({ path: path.join(second.outDir, 'qa-categories.png') });
  });

  it('worked offline: only non-file requests were blocked, and the page raised no error', () => {
    expect(report.blocked.every((u) => !u.startsWith('file:'))).toBe(true);
    expect(report.pageErrors).toEqual([]);
  });
});

describe('a relative --out', () => {
  it('lands in the directory npm was run from, not under the repository', async () => {
    // A directory of the caller's inside the checkout (tmp/ is git-ignored), so `npm run` finds the package.
    const scratch = path.join(REPO_ROOT, 'tmp');
    mkdirSync(scratch, { recursive: true });
    const caller = mkdtempSync(path.join(scratch, 'caller-'));
    const rel = `qa-out-${path.basename(caller)}`;
    try {
      const port = await closedPort();
      const file = path.join(caller, 'unreachable.yaml');
      writeFileSync(file, descriptor('unreachable', `https://127.0.0.1:${port}/token`));
      const code = await new Promise<number | null>((resolve, reject) => {
        const child = spawn(
          'npm',
          ['run', '--silent', 'conformance', '--', '--provider', file, '--no-report', '--out', rel],
          { cwd: caller, env: childEnv(SECRET), stdio: 'ignore' },
        );
        child.on('error', reject);
        child.on('close', resolve);
      });
      expect([0, 4]).toContain(code); // an outage: nothing failed (exit 4, "not verified", once the CI issue lands)
      expect(existsSync(path.join(caller, rel, '.run/run.json'))).toBe(true);
      expect(existsSync(path.join(REPO_ROOT, rel))).toBe(false);
    } finally {
      rmSync(caller, { recursive: true, force: true });
      rmSync(path.join(REPO_ROOT, rel), { recursive: true, force: true });
    }
  }, 90_000);
});
