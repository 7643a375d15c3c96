/**
 * What every suites/<area>.test.ts does: for each provider of the run, one test per judged finding of
 * the area (and one for all its not-applicable checks), with the report's labels, links, parameters
 * and evidence. The verdicts were computed by the checks (src/checks) on the recorded evidence; a
 * suite only turns them into test outcomes (src/report/presentation.ts says how each one looks).
 */
import * as allure from 'allure-js-commons';
import { describe, test } from 'vitest';
import { AREA_TITLES, type Area } from '../checks/types.js';
import { readRunRecord, type ProviderRun } from '../run-record.js';
import { reportCurl } from './ca-files.js';
import {
  FINDING_LABEL,
  OUTCOME_LABEL,
  providerLabel,
  reportEntries,
  type ReportEntry,
} from './presentation.js';
import { authMethodOf, renderExchange, requestedScopeOf } from './render.js';
import { inert } from '../text/inert.js';

/** A conformance failure: reported as failed (not broken) by our Allure reporter. */
export class ConformanceFailure extends Error {
  override name = 'AssertionError';
}

/** An outage or harness error: reported as broken. */
export class BrokenCheck extends Error {
  override name = 'BrokenCheck';
}

const SEVERITY = { MUST: 'critical', EXPECTATION: 'normal', SHOULD: 'minor' } as const;

async function annotate(run: ProviderRun, entry: ReportEntry): Promise<void> {
  const p = run.provider;
  // One stable key per provider, check and instance: Allure takes equal keys for retries of one test.
  await allure.historyId(entry.key);
  await allure.testCaseId(entry.key);
  await allure.label(FINDING_LABEL, entry.key);
  await allure.label('provider', p.name);
  await allure.description(entry.description);
  const [f] = entry.findings;
  if (entry.kind === 'not-applicable' || !f) {
    await allure.label(OUTCOME_LABEL, 'not-applicable');
    return;
  }
  await allure.label(OUTCOME_LABEL, f.outcome);
  await allure.severity(SEVERITY[f.level]);
  await allure.tag(f.level);
  await allure.label('check', f.checkId);
  if (f.outcome === 'warn') await allure.label('conformance', 'should-violation');
  if (f.outcome === 'deviation') await allure.label('conformance', 'known-deviation');
  await allure.link(f.spec.url, f.spec.label);
  await allure.parameter('check id', f.checkId);
  await allure.parameter('level', f.level);
  for (const [k, v] of Object.entries(f.params)) await allure.parameter(k, v);
  // For a check resting on one token request: how it authenticated and what scope it asked for.
  const only = f.probes.length === 1 ? run.evidence.exchanges[f.probes[0] ?? ''] : undefined;
  if (only && only.request.url.split('?')[0] === p.tokenEndpoint) {
    if (!f.params['auth method']) await allure.parameter('auth method', authMethodOf(only));
    const scope = requestedScopeOf(only);
    if (scope !== undefined) await allure.parameter('scope', scope);
  }
  if (p.insecure) {
    await allure.tag('INSECURE');
    await allure.parameter('TLS verification', 'OFF (tls.insecureSkipVerify)');
  }
  if (p.insecureHttp?.length) {
    if (!p.insecure) await allure.tag('INSECURE');
    await allure.label('insecure', 'plain-http-loopback');
    await allure.parameter('TLS', `none: plain HTTP on loopback (${p.insecureHttp.join(', ')})`);
  }
  for (const probe of f.probes) {
    const ex = run.evidence.exchanges[probe];
    if (!ex) continue;
    await allure.attachment(`exchange: ${ex.purpose}`, renderExchange(ex), 'text/plain');
    await allure.attachment(
      `curl: ${ex.purpose}`,
      `${inert(reportCurl(ex.curl, p.name, p.caCertificates !== undefined), { max: 64 * 1024, multiline: true })}\n`,
      'text/plain',
    );
  }
}

/**
 * Registers the tests of one area for every provider of the current run, in report order. The
 * Allure status, message and timing are set by the reporter from the same entries (reporter.ts);
 * the vitest outcome only mirrors them, for the suites' own log.
 */
export function registerArea(area: Area): void {
  const record = readRunRecord();
  const entries = reportEntries(record).filter((e) => e.area === area);
  for (const run of [...record.providers].sort((a, b) =>
    a.provider.name.localeCompare(b.provider.name),
  )) {
    describe(providerLabel(run.provider), () => {
      describe(AREA_TITLES[area], () => {
        for (const entry of entries.filter((e) => e.provider === run.provider.name)) {
          test(entry.name, async (ctx) => {
            // The message may quote the server: inert wherever it shows (status details, steps, annotations).
            if (entry.message !== undefined) entry.message = inert(entry.message);
            await annotate(run, entry);
            if (entry.status === 'failed')
              throw new ConformanceFailure(entry.message ?? entry.name);
            if (entry.status === 'broken') throw new BrokenCheck(entry.message ?? entry.name);
            if (entry.status === 'skipped') ctx.skip();
          });
        }
      });
    });
  }
}
