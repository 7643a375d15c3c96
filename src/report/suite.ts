/**
 * What every suites/<area>.test.ts does: for each provider of the run, one test per finding of the
 * area, with the report's labels, links, parameters and evidence. The verdicts were computed by the
 * checks (src/checks) on the recorded evidence; a suite only turns them into test outcomes.
 */
import * as allure from 'allure-js-commons';
import { describe, test } from 'vitest';
import { AREA_TITLES, type Area } from '../checks/types.js';
import type { Finding } from '../evaluate.js';
import { readRunRecord, type ProviderRun } from '../run-record.js';
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

function testName(f: Finding): string {
  const client = f.params['client'];
  return client ? `${f.title} (${client})` : f.title;
}

async function annotate(run: ProviderRun, f: Finding): Promise<void> {
  const p = run.provider;
  const paramKey = Object.values(f.params).join(',');
  // One stable key per provider, check and instance: Allure takes equal keys for retries of one test.
  const key = `${p.name}:${f.checkId}${paramKey ? `:${paramKey}` : ''}`;
  await allure.historyId(key);
  await allure.testCaseId(key);
  await allure.severity(SEVERITY[f.level]);
  await allure.tag(f.level);
  await allure.label('check', f.checkId);
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
  const description = [
    `**${f.checkId}** — ${f.level}, ${f.spec.label}: [${f.spec.url}](${f.spec.url})`,
    f.levelReason ? `\nWhy this level: ${f.levelReason}` : '',
    `\nProvider: ${p.title} (\`${p.name}\`, ${p.file}), token endpoint ${p.tokenEndpoint}`,
    p.insecure ? '\n**INSECURE: TLS certificate verification was off for this provider.**' : '',
    `\nVerdict: ${f.message}`,
  ];
  await allure.description(description.join('\n'));
  for (const probe of f.probes) {
    const ex = run.evidence.exchanges[probe];
    if (!ex) continue;
    await allure.attachment(`exchange: ${ex.purpose}`, renderExchange(ex), 'text/plain');
    await allure.attachment(`curl: ${ex.purpose}`, `${inert(ex.curl, { max: 64 * 1024 })}\n`, 'text/plain');
  }
}

/** Registers the tests of one area for every provider of the current run. */
export function registerArea(area: Area): void {
  const record = readRunRecord();
  for (const run of record.providers) {
    describe(run.provider.title, () => {
      describe(AREA_TITLES[area], () => {
        for (const found of run.findings.filter((x) => x.area === area)) {
          // The message may quote the server: inert wherever it shows (status details, steps, annotations).
          const f = { ...found, message: inert(found.message) };
          test(testName(f), async (ctx) => {
            await annotate(run, f);
            switch (f.outcome) {
              case 'pass':
                return;
              case 'warn':
                await ctx.annotate(`SHOULD: ${f.message}`, 'warning');
                return;
              case 'deviation':
                await ctx.annotate(`DEVIATION: ${f.message}`, 'deviation');
                return;
              case 'skipped':
                ctx.skip(f.message);
                return;
              case 'broken':
                throw new BrokenCheck(f.message);
              case 'fail':
                throw new ConformanceFailure(`${f.level}: ${f.message}`);
            }
          });
        }
      });
    });
  }
}
