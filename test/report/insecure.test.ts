/**
 * allowInsecureHttp: loopback marks every result INSECURE: the summary, the landing page, each
 * report entry's description, and a JUnit suite property say so (run.json carries insecureHttp).
 */
import { describe, expect, it } from 'vitest';
import { evaluate } from '../../src/evaluate.js';
import type { ProviderRun, RunRecord } from '../../src/run-record.js';
import { junitXml } from '../../src/report/junit.js';
import { landingBlock } from '../../src/report/landing.js';
import { reportEntries } from '../../src/report/presentation.js';
import { formatSummary } from '../../src/report/summary.js';
import { trendOf } from '../../src/report/trend.js';
import { conformant } from '../checks/fixture.js';

function providerRun(name: string, insecureHttp?: string[]): ProviderRun {
  const rec = conformant();
  const p = { ...rec.provider, name, ...(insecureHttp ? { insecureHttp } : {}) };
  return {
    provider: {
      name,
      title: `Title of ${name}`,
      file: `providers/${name}.yaml`,
      tokenEndpoint: p.tokenEndpoint,
      clients: [],
      insecure: false,
      ...(insecureHttp ? { insecureHttp } : {}),
      proxy: { proxies: [], tunnels: [], refusedTunnels: 0 },
    },
    evidence: rec.evidence,
    findings: evaluate(p, rec.evidence, { strict: false }),
  };
}

const record: RunRecord = {
  version: 1,
  harnessVersion: '0.0.0-test',
  nodeVersion: 'v20',
  strict: false,
  startedAt: '2026-01-02T03:04:05.000Z',
  finishedAt: '2026-01-02T03:04:25.500Z',
  providers: [providerRun('plain', ['tokenEndpoint', 'issuer']), providerRun('secure')],
};

describe('INSECURE: plain HTTP on loopback', () => {
  it('the summary says it for that provider only', () => {
    const text = formatSummary(record);
    expect(text).toMatch(
      /plain: INSECURE — plain HTTP on loopback \(allowInsecureHttp: loopback\) for tokenEndpoint, issuer/,
    );
    expect(text).not.toMatch(/secure: INSECURE/);
  });

  it('JUnit carries an insecure property on that provider’s suites only', () => {
    const xml = junitXml(record);
    const suites = xml.split('<testsuite ').slice(1);
    const plain = suites.filter((s) => s.includes('hostname="plain"'));
    const secure = suites.filter((s) => s.includes('hostname="secure"'));
    expect(plain.length).toBeGreaterThan(0);
    for (const s of plain)
      expect(s).toContain(
        '<property name="insecure" value="INSECURE: plain HTTP without TLS on loopback (allowInsecureHttp: loopback): tokenEndpoint, issuer"/>',
      );
    for (const s of secure) expect(s).not.toContain('name="insecure"');
  });

  it('the landing page and every report entry of that provider say it', () => {
    const entries = reportEntries(record);
    const html = landingBlock({
      record,
      entries,
      trends: new Map(
        record.providers.map((r) => [r.provider.name, trendOf(r.provider.name, [], entries)]),
      ),
      resultIds: new Map(),
    });
    expect(html).toContain(
      'INSECURE: plain HTTP on loopback (allowInsecureHttp) for tokenEndpoint, issuer',
    );
    const plain = entries.filter((e) => e.provider === 'plain' && e.kind !== 'not-applicable');
    expect(plain.length).toBeGreaterThan(0);
    for (const e of plain) expect(e.description).toMatch(/\*\*INSECURE: plain HTTP on loopback/);
    for (const e of entries.filter((x) => x.provider === 'secure'))
      expect(e.description).not.toMatch(/INSECURE/);
  });
});
