/**
 * How findings become the report QA reads (src/report): the entries (status, title, message, order,
 * the not-applicable checks folded), the verdict per provider, the trend read from Allure's history,
 * the landing block and the two corrections of the generated page, and the CA beside the report.
 * On recorded reference runs; the browser tests (test/e2e/reference-run.test.ts, report-qa.test.ts)
 * show the same in a real report.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { AREA_TITLES, type Area } from '../../src/checks/types.js';
import { callerDir } from '../../src/caller-dir.js';
import { evaluate, type Finding } from '../../src/evaluate.js';
import type { ProviderRun, RunRecord } from '../../src/run-record.js';
import { certificatesOf, reportCurl } from '../../src/report/ca-files.js';
import {
  formatSeconds,
  landingBlock,
  patchReport,
  type LandingData,
} from '../../src/report/landing.js';
import {
  entryTiming,
  isNotApplicable,
  providerLabel,
  reportEntries,
  type ReportEntry,
} from '../../src/report/presentation.js';
import { readPastRuns, trendOf } from '../../src/report/trend.js';
import { summarize } from '../../src/report/verdict.js';
import { conformant, res, type FixtureName } from '../checks/fixture.js';

function providerRun(
  name: string,
  fixture: FixtureName,
  change: (r: ReturnType<typeof conformant>) => void = () => undefined,
  strict = false,
): ProviderRun {
  const rec = conformant(fixture);
  change(rec);
  const p = { ...rec.provider, name };
  return {
    provider: {
      name,
      title: `Title of ${name}`,
      file: `providers/${name}.yaml`,
      tokenEndpoint: p.tokenEndpoint,
      clients: [],
      insecure: false,
      proxy: { proxies: [], tunnels: [], refusedTunnels: 0 },
    },
    evidence: rec.evidence,
    findings: evaluate(p, rec.evidence, { strict }),
  };
}

const record = (providers: ProviderRun[]): RunRecord => ({
  version: 1,
  harnessVersion: '0.0.0-test',
  nodeVersion: 'v20',
  strict: false,
  startedAt: '2026-01-02T03:04:05.000Z',
  finishedAt: '2026-01-02T03:04:25.500Z',
  providers,
});

/** zeta (jwt-bearer: many checks not applicable) listed before alpha (client credentials, no Cache-Control). */
const zeta = providerRun('zeta', 'jwt-bearer');
const alpha = providerRun('alpha', 'reference', (r) => {
  delete res(r.evidence, 'token.0').headers['cache-control'];
  delete res(r.evidence, 'token.0').headers['pragma'];
});
const run = record([zeta, alpha]);
const entries = reportEntries(run);
const of = (provider: string, checkId: string): ReportEntry[] =>
  entries.filter((e) => e.provider === provider && e.findings.some((f) => f.checkId === checkId));

describe('report entries', () => {
  it('fold the not-applicable checks into one entry per provider and area, counting them and naming their reasons', () => {
    for (const r of [zeta, alpha]) {
      const na = r.findings.filter(isNotApplicable);
      const folded = entries.filter(
        (e) => e.provider === r.provider.name && e.kind === 'not-applicable',
      );
      expect(folded.flatMap((e) => e.findings)).toHaveLength(na.length);
      expect(new Set(folded.map((e) => e.area)).size).toBe(folded.length);
      for (const e of folded) {
        expect(e.status).toBe('skipped');
        expect(e.message).toBeUndefined(); // a reason is no error: it is in the description
        expect(e.name).toMatch(new RegExp(`^${e.findings.length} checks? not applicable`));
        for (const f of e.findings) {
          expect(e.description).toContain(f.checkId);
          expect(e.description.replace(/\\(.)/g, '$1')).toContain(
            f.message.replace(/^not applicable:\s*/, ''),
          ); // markdown-escaped
        }
      }
    }
    // zeta's jwt-bearer client authenticates with no secret: the client-auth area is mostly not applicable.
    expect(
      entries.some(
        (e) => e.provider === 'zeta' && e.kind === 'not-applicable' && e.area === 'client-auth',
      ),
    ).toBe(true);
    // One entry per judged finding, plus the folded ones.
    const judged = run.providers.reduce(
      (n, r) => n + r.findings.filter((f) => !isNotApplicable(f)).length,
      0,
    );
    expect(entries.filter((e) => e.kind === 'check')).toHaveLength(judged);
  });

  it('come in report order: providers by name, areas in catalogue order, checks in catalogue order', () => {
    expect(entries.map((e) => e.rank)).toEqual(entries.map((_, i) => i));
    const providers = entries.map((e) => e.provider);
    expect(providers.indexOf('zeta')).toBeGreaterThan(providers.lastIndexOf('alpha'));
    const areas = Object.keys(AREA_TITLES) as Area[];
    for (const name of ['alpha', 'zeta']) {
      const mine = entries.filter((e) => e.provider === name);
      const areaOrder = mine.map((e) => areas.indexOf(e.area));
      expect(areaOrder).toEqual([...areaOrder].sort((a, b) => a - b));
      const findings = run.providers.find((r) => r.provider.name === name)?.findings ?? [];
      const checks = mine.filter((e) => e.kind === 'check').map((e) => e.findings[0]);
      for (const area of areas) {
        const inArea = checks.filter((f) => f?.area === area);
        expect(inArea).toEqual(findings.filter((f) => f.area === area && !isNotApplicable(f)));
      }
    }
    // Allure orders the tree by start time: start follows the rank, whatever the exchanges took.
    const starts = entries.map((e) => entryTiming(e, run).start);
    expect(starts).toEqual([...starts].sort((a, b) => a - b));
    expect(new Set(starts).size).toBe(starts.length);
  });

  it('keep one stable key per provider, check and instance', () => {
    expect(new Set(entries.map((e) => e.key)).size).toBe(entries.length);
    expect(reportEntries(record([alpha, zeta])).map((e) => e.key)).toEqual(
      entries.map((e) => e.key),
    );
    expect(of('alpha', 'response.cache-control')[0]?.key).toBe('alpha:response.cache-control');
  });

  it('show a failure as failed, with the level, what was expected and the spec, and no stack trace', () => {
    const [e] = of('alpha', 'response.cache-control');
    expect(e?.status).toBe('failed');
    expect(e?.message?.split('\n')).toEqual([
      'MUST: Cache-Control is absent, without no-store',
      `expected: ${e?.findings[0]?.title}`,
      'spec: RFC 6749 §5.1 https://www.rfc-editor.org/rfc/rfc6749#section-5.1',
    ]);
    expect(e?.message).not.toMatch(/\bat .*\.(ts|js):\d+/);
  });

  it('tell a warning, a known deviation and a failure apart by status and by title', () => {
    const [warning] = of('alpha', 'response.pragma');
    expect(warning?.status).toBe('unknown');
    expect(warning?.name).toMatch(/^SHOULD not met: /);
    expect(warning?.message).toBeUndefined();
    expect(warning?.description).toMatch(/^\*\*SHOULD not met\*\*/);

    const declared = providerRun('declared', 'reference', (r) => {
      delete res(r.evidence, 'token.0').headers['cache-control'];
      r.provider.deviations = [
        {
          checks: ['response.cache-control'],
          reason: 'a CDN strips it',
          link: 'https://example.test/why',
        },
      ];
    });
    const [deviation] = reportEntries(record([declared])).filter(
      (e) => e.findings[0]?.checkId === 'response.cache-control',
    );
    expect(deviation?.findings[0]?.outcome).toBe('deviation');
    expect(deviation?.status).toBe('skipped');
    expect(deviation?.name).toMatch(/^Known deviation: /);
    expect(deviation?.description).toContain('a CDN strips it');
    expect(deviation?.description).toContain('Cache-Control is absent'); // what the check found
    expect(
      new Set([
        warning?.status,
        deviation?.status,
        of('alpha', 'response.cache-control')[0]?.status,
      ]).size,
    ).toBe(3);
  });

  it('name the provider first in its tree row', () => {
    expect(providerLabel({ name: 'ref', title: 'Reference' })).toBe('ref · Reference');
    expect(providerLabel({ name: 'ref', title: 'ref' })).toBe('ref');
  });
});

describe('the verdict per provider', () => {
  it('is non-conformant on a MUST failure, not verified when a check could not judge, conformant otherwise', () => {
    expect(summarize(alpha)).toMatchObject({
      verdict: 'non-conformant',
      mustFailed: 1,
      expectationFailed: 0,
      warnings: 1,
    });
    const z = summarize(zeta);
    expect(z.verdict).toBe('conformant');
    expect(z.judged).toBe(z.passed + z.warnings);
    expect(z.requests).toBe(zeta.evidence.requestsSent);
    const outage: ProviderRun = {
      ...zeta,
      findings: zeta.findings.map((f): Finding =>
        f.checkId === 'response.cache-control'
          ? {
              ...f,
              outcome: 'broken',
              message: 'endpoint unreachable or misbehaving: connection refused',
            }
          : f,
      ),
    };
    expect(summarize(outage)).toMatchObject({
      verdict: 'not verified',
      notJudged: 1,
      brokenReason: 'endpoint unreachable or misbehaving: connection refused',
    });
  });
});

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** A history line as Allure writes it, with the labels the suites add. */
function historyLine(timestamp: number, outcomes: Record<string, string>): string {
  const testResults = Object.fromEntries(
    Object.entries(outcomes).map(([key, outcome], i) => [
      `h${i}`,
      {
        status: 'passed',
        labels: [
          { name: 'finding', value: key },
          { name: 'outcome', value: outcome },
          { name: 'provider', value: key.split(':')[0] },
        ],
      },
    ]),
  );
  return JSON.stringify({ uuid: `u${timestamp}`, timestamp, testResults });
}

describe('the trend', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'tc-trend-'));
  dirs.push(dir);
  const file = path.join(dir, 'history.jsonl');
  // Two earlier runs: alpha failed then passed Cache-Control; Pragma passed in the last one.
  writeFileSync(
    file,
    [
      historyLine(1000, {
        'alpha:response.cache-control': 'fail',
        'alpha:response.pragma': 'pass',
      }),
      'not json: a torn line',
      JSON.stringify({ uuid: 'old', timestamp: 1500, testResults: { x: { labels: [] } } }), // an older harness: no labels
      historyLine(2000, {
        'alpha:response.cache-control': 'pass',
        'alpha:response.pragma': 'pass',
        'alpha:grant.get-refused': 'broken',
      }),
    ].join('\n'),
  );

  it('reads the runs of the history, oldest first, leaving out lines it cannot read', () => {
    const past = readPastRuns(file);
    expect(past.map((r) => r.timestamp)).toEqual([1000, 2000]);
    expect(readPastRuns(path.join(dir, 'none.jsonl'))).toEqual([]);
    expect(readPastRuns(undefined)).toEqual([]);
  });

  it('names the checks that regressed or were fixed since the last run, and the verdicts before', () => {
    const t = trendOf('alpha', readPastRuns(file), entries);
    expect(t?.previous.map((r) => r.verdict)).toEqual(['non-conformant', 'not verified']);
    expect(t?.regressed.map((c) => [c.key, c.from, c.to])).toEqual([
      ['alpha:response.cache-control', 'pass', 'fail'],
      ['alpha:response.pragma', 'pass', 'warn'],
    ]);
    expect(t?.fixed).toEqual([]);
    expect(trendOf('zeta', readPastRuns(file), entries)).toBeUndefined();
  });
});

describe('the landing page and the generated report', () => {
  const data: LandingData = {
    record: run,
    entries,
    trends: new Map([['alpha', trendOf('alpha', [], entries)]]),
    resultIds: new Map([['alpha:response.cache-control', 'abc123']]),
  };

  it('has one line per provider, by name, with its verdict and counts', () => {
    const html = landingBlock(data);
    const lines = [
      ...html.matchAll(/data-testid="tc-verdict" data-provider="([^"]+)" data-verdict="([^"]+)"/g),
    ].map((m) => `${m[1]} ${m[2]}`);
    expect(lines).toEqual(['alpha non-conformant', 'zeta conformant']);
    expect(html).toContain('1 MUST and 0 EXPECTATION failures · 1 warning');
    expect(html).toContain(`${alpha.evidence.requestsSent} requests`);
    expect(html).toContain('took 20.5 s');
  });

  it('escapes what descriptors and servers control', () => {
    const hostile = providerRun('hostile', 'reference');
    hostile.provider.tokenEndpoint = 'https://x.test/<script>alert(1)</script>';
    const html = landingBlock({ ...data, record: record([hostile]), trends: new Map() });
    expect(html).not.toContain('<script>alert(1)');
    expect(html).toContain('&#60;script&#62;alert(1)');
  });

  it("writes the run's real duration into the header and the judged pass rate into the donut", () => {
    const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64');
    const pie = {
      slices: [
        { status: 'passed', count: 90 },
        { status: 'failed', count: 5 },
        { status: 'unknown', count: 5 },
        { status: 'broken', count: 400 },
        { status: 'skipped', count: 500 },
      ],
      percentage: 18,
    };
    const page = [
      '<html><head></head><body><div id="app"></div>',
      '<script>',
      `      window.allureReportOptions = ${JSON.stringify({ reportName: 'r', runSummary: { start: 1, stop: 2, duration: 1 }, runSummaryByEnv: { default: { start: 1, stop: 2, duration: 1 } } })}`,
      '</script>',
      `<script defer>Promise.allSettled([d("widgets/pie_chart.json","${b64(pie)}"),d("widgets/default/pie_chart.json","${b64(pie)}")])</script>`,
      '</body></html>',
    ].join('\n');
    const out = patchReport(page, data);
    const options = JSON.parse(/window\.allureReportOptions = (\{.*\})/.exec(out)?.[1] ?? '{}') as {
      runSummary: { start: number; duration: number };
      runSummaryByEnv: { default: { duration: number } };
    };
    expect(options.runSummary).toEqual({
      start: Date.parse(run.startedAt),
      stop: Date.parse(run.finishedAt),
      duration: 20_500,
    });
    expect(options.runSummaryByEnv.default.duration).toBe(20_500);
    const rates = [...out.matchAll(/d\("widgets\/(?:default\/)?pie_chart\.json","([^"]+)"\)/g)].map(
      (m) =>
        (JSON.parse(Buffer.from(m[1] ?? '', 'base64').toString()) as { percentage: number })
          .percentage,
    );
    expect(rates).toEqual([90, 90]); // 90 passed of 100 judged; the outage and the skips judge nothing
    expect(out.indexOf('tc-landing-template')).toBeLessThan(out.indexOf('</body>'));
    expect(formatSeconds(75_000)).toBe('1 min 15 s');
  });
});

describe('curl lines and their CA', () => {
  const line =
    "curl -sS -i -X POST 'https://127.0.0.1:8443/token' \\\n  --cacert '/tmp/tc-ref-x/ca.pem' \\\n  -H 'Accept: application/json'";

  it('name the CA beside the report, relatively, and say where to run them from', () => {
    const shown = reportCurl(line, 'reference', true);
    expect(shown).toContain("--cacert 'ca/reference.pem'");
    expect(shown).not.toContain('/tmp/tc-ref-x');
    expect(shown.split('\n')[0]).toMatch(
      /^# run from the folder that holds this report's index\.html/,
    );
    expect(reportCurl("curl -sS 'https://example.test/token'", 'x', true)).toBe(
      "curl -sS 'https://example.test/token'",
    );
  });

  it('carry certificates only, never a private key that shares the CA file', () => {
    const cert = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----';
    const key = '-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----';
    expect(certificatesOf(`${key}\n${cert}\n${cert}`)).toBe(`${cert}\n${cert}\n`);
    expect(certificatesOf(key)).toBeUndefined();
  });
});

describe('paths from the command line', () => {
  it('resolve from the directory npm was run from (INIT_CWD), else the working directory', () => {
    const saved = process.env['INIT_CWD'];
    try {
      process.env['INIT_CWD'] = '/somewhere/else';
      expect(callerDir()).toBe('/somewhere/else');
      delete process.env['INIT_CWD'];
      expect(callerDir()).toBe(process.cwd());
    } finally {
      if (saved === undefined) delete process.env['INIT_CWD'];
      else process.env['INIT_CWD'] = saved;
    }
  });
});
