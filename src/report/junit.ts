import { AREA_TITLES, type Area } from '../checks/types.js';
import type { Finding } from '../evaluate.js';
import { insecureReasons, type RunRecord } from '../run-record.js';
import { xmlEscape } from './xml.js';

/** "Provider › Area › Check (client)": the report's path to a finding, as a JUnit test name. */
export function findingPath(providerTitle: string, f: Finding): string {
  const client = f.params['client'];
  return `${providerTitle} › ${f.areaTitle} › ${f.title}${client ? ` (${client})` : ''}`;
}

const AREA_ORDER = Object.keys(AREA_TITLES) as Area[];

/**
 * junit.xml from the run record (not from the vitest run, so shards merge without re-running
 * anything): one testsuite per provider and area, one testcase per finding. Failed checks carry the
 * verdict, level and spec link; broken ones are errors (not verified); not applicable is skipped;
 * warnings and known deviations pass with a system-out line and an `outcome` property saying so.
 * No harness stack trace appears anywhere.
 */
export function junitXml(record: RunRecord): string {
  const suites: string[] = [];
  const totals = { tests: 0, failures: 0, errors: 0, skipped: 0 };
  for (const run of [...record.providers].sort((a, b) =>
    a.provider.name.localeCompare(b.provider.name),
  )) {
    const p = run.provider;
    for (const area of AREA_ORDER) {
      const findings = run.findings.filter((f) => f.area === area);
      if (findings.length === 0) continue;
      const count = { tests: findings.length, failures: 0, errors: 0, skipped: 0 };
      const cases = findings.map((f) => {
        const name = xmlEscape(findingPath(p.title, f));
        const classname = xmlEscape(`${p.name}.${area}`);
        const props = `<properties><property name="check" value="${xmlEscape(f.checkId)}"/><property name="level" value="${f.level}"/><property name="outcome" value="${f.outcome}"/><property name="spec" value="${xmlEscape(f.spec.url)}"/></properties>`;
        const detail = xmlEscape(
          `${f.message}\nlevel: ${f.level}\nspec: ${f.spec.label} ${f.spec.url}\ncheck: ${f.checkId}\nprovider: ${p.name} (${p.tokenEndpoint})`,
        );
        let body = '';
        if (f.outcome === 'fail') {
          count.failures++;
          body = `<failure message="${xmlEscape(`${f.level} ${f.checkId}: ${f.message}`)}" type="${f.level}">${detail}</failure>`;
        } else if (f.outcome === 'broken') {
          count.errors++;
          body = `<error message="${xmlEscape(`not verified: ${f.message}`)}" type="broken">${detail}</error>`;
        } else if (f.outcome === 'skipped') {
          count.skipped++;
          body = `<skipped message="${xmlEscape(f.message)}"/>`;
        } else if (f.outcome === 'warn') {
          body = `<system-out>${xmlEscape(`WARNING (SHOULD) ${f.checkId}: ${f.message} (${f.spec.label} ${f.spec.url})`)}</system-out>`;
        } else if (f.outcome === 'deviation') {
          body = `<system-out>${xmlEscape(`KNOWN DEVIATION ${f.checkId}: ${f.message}`)}</system-out>`;
        }
        return `    <testcase classname="${classname}" name="${name}" time="0">${props}${body}</testcase>`;
      });
      totals.tests += count.tests;
      totals.failures += count.failures;
      totals.errors += count.errors;
      totals.skipped += count.skipped;
      const suiteName = xmlEscape(`${p.title} › ${AREA_TITLES[area]}`);
      // INSECURE (TLS verification off, or plain HTTP on loopback): a suite property CI can read.
      const insecure = insecureReasons(p);
      const suiteProps = insecure.length
        ? `    <properties><property name="insecure" value="${xmlEscape(`INSECURE: ${insecure.join('; ')}`)}"/></properties>\n`
        : '';
      suites.push(
        `  <testsuite name="${suiteName}" tests="${count.tests}" failures="${count.failures}" errors="${count.errors}" skipped="${count.skipped}" timestamp="${xmlEscape(run.evidence.startedAt)}" hostname="${xmlEscape(p.name)}">\n${suiteProps}${cases.join('\n')}\n  </testsuite>`,
      );
    }
  }
  return `<?xml version="1.0" encoding="UTF-8"?>\n<testsuites name="token-conformance" tests="${totals.tests}" failures="${totals.failures}" errors="${totals.errors}" skipped="${totals.skipped}">\n${suites.join('\n')}\n</testsuites>\n`;
}
