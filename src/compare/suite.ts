/**
 * The report's view of a comparison (suites/migration.test.ts): a parent suite "Migration:
 * <baseline> → <candidate>" per comparison, a suite per class, one test per compared behaviour —
 * failed for breaks clients and conformance regression, passed for fixed, neutral and unchanged,
 * skipped (with the reason) for not comparable and noise, which are kept apart. Each difference
 * carries the two redacted exchanges side by side and a curl line for each.
 */
import * as allure from 'allure-js-commons';
import { describe, test } from 'vitest';
import type { Exchange } from '../evidence/types.js';
import { renderExchange } from '../report/render.js';
import { ConformanceFailure } from '../report/suite.js';
import { DEFAULT_RUN_FILE } from '../run-record.js';
import { comparisonForRun } from './output.js';
import { differenceName, showLocation } from './render.js';
import { CLASS_TITLES, type Comparison, type Difference } from './types.js';

const escapeHtml = (s: string): string =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** Both exchanges in two columns, as already redacted by the runner; nothing executable in it. */
export function sideBySide(
  baselineLabel: string,
  candidateLabel: string,
  example: Difference['example'],
): string {
  const cell = (ex: Exchange | undefined) =>
    `<pre>${escapeHtml(ex ? renderExchange(ex) : '(no exchange on this side)')}</pre>`;
  return [
    '<!doctype html><meta charset="utf-8"><style>',
    'body{font:12px ui-monospace,monospace;margin:0}table{border-collapse:collapse;width:100%;table-layout:fixed}',
    'th{text-align:left;background:#eee;padding:4px}td{vertical-align:top;border:1px solid #ccc;padding:4px}pre{white-space:pre-wrap;word-break:break-all;margin:0}',
    '</style>',
    `<table><tr><th>${escapeHtml(baselineLabel)}</th><th>${escapeHtml(candidateLabel)}</th></tr>`,
    `<tr><td>${cell(example?.baseline)}</td><td>${cell(example?.candidate)}</td></tr></table>`,
  ].join('\n');
}

function describeDifference(c: Comparison, d: Difference, otherLabel: string): string {
  const lines = [
    `**${CLASS_TITLES[d.class]}** — ${d.reason}`,
    '',
    `- ${c.baseline.label}: \`${d.baseline}\``,
    `- ${otherLabel}: \`${d.candidate}\``,
  ];
  if (d.where.length > 0)
    lines.push(
      '',
      `Seen on ${d.where.length} request${d.where.length === 1 ? '' : 's'}:`,
      ...d.where.map((w) => `- \`${showLocation(w)}\` ${w.purpose}`),
    );
  if (d.checks.length > 0)
    lines.push(
      '',
      'Checks:',
      ...d.checks.map(
        (k) =>
          `- \`${k.checkId}\`${k.role ? ` (${k.role})` : ''}: ${k.baseline.outcome} → ${k.candidate.outcome} (${CLASS_TITLES[k.class].toLowerCase()}): ${k.candidate.message}`,
      ),
    );
  if (d.suppressed !== undefined)
    lines.push(
      '',
      `Took out ${d.suppressed} difference${d.suppressed === 1 ? '' : 's'} between ${c.baseline.label} and ${c.candidate.label}.`,
    );
  return lines.join('\n');
}

async function annotate(c: Comparison, d: Difference): Promise<void> {
  const other = d.class === 'noise' ? (c.secondary?.label ?? 'secondary') : c.candidate.label;
  const key = `migration:${c.baseline.provider}→${c.candidate.provider}:${d.id}`;
  await allure.historyId(key);
  await allure.testCaseId(key);
  await allure.label('migration', d.class);
  await allure.severity(
    d.class === 'breaks-clients'
      ? 'critical'
      : d.class === 'conformance-regression'
        ? 'normal'
        : 'minor',
  );
  await allure.parameter('baseline', d.baseline);
  await allure.parameter(d.class === 'noise' ? 'secondary' : 'candidate', d.candidate);
  if (d.aspect) await allure.parameter('behaviour', d.aspect);
  await allure.parameter('requests', String(d.where.length));
  await allure.description(describeDifference(c, d, other));
  if (d.example && (d.example.baseline || d.example.candidate)) {
    await allure.attachment(
      `exchanges: ${c.baseline.label} | ${other}`,
      sideBySide(c.baseline.label, other, d.example),
      'text/html',
    );
    if (d.example.baseline)
      await allure.attachment(
        `curl: ${c.baseline.label}`,
        `${d.example.baseline.curl}\n`,
        'text/plain',
      );
    if (d.example.candidate)
      await allure.attachment(`curl: ${other}`, `${d.example.candidate.curl}\n`, 'text/plain');
  }
}

/** Test names must differ within a suite: Allure folds equal ones into retries. */
function uniqueNames(list: Difference[]): string[] {
  const seen = new Map<string, number>();
  return list.map((d) => {
    const name = differenceName(d);
    const n = (seen.get(name) ?? 0) + 1;
    seen.set(name, n);
    return n === 1 ? name : `${name} (${n})`;
  });
}

function registerComparison(c: Comparison): void {
  describe(c.title, () => {
    const classes = [
      ...new Set([...c.differences, ...c.notComparable, ...c.noise].map((d) => d.class)),
    ];
    for (const cls of classes) {
      const list = [...c.differences, ...c.notComparable, ...c.noise].filter(
        (d) => d.class === cls,
      );
      const names = uniqueNames(list);
      describe(
        cls === 'noise'
          ? `Noise (differs between ${c.baseline.label} and ${c.secondary?.label ?? 'the secondary'})`
          : CLASS_TITLES[cls],
        () => {
          list.forEach((d, i) => {
            test(names[i]!, async (ctx) => {
              await annotate(c, d);
              if (d.class === 'breaks-clients' || d.class === 'conformance-regression')
                throw new ConformanceFailure(
                  `${CLASS_TITLES[d.class].toUpperCase()}: ${differenceName(d)} (${d.reason})`,
                );
              if (d.class === 'not-comparable') ctx.skip(`not comparable: ${d.reason}`);
              if (d.class === 'noise') ctx.skip(`noise: ${d.reason}`);
            });
          });
        },
      );
    }
    if (c.unchanged.length > 0) {
      describe('Unchanged', () => {
        for (const u of c.unchanged) {
          test(`${u.purpose} (${u.probe}${u.role ? `, ${u.role}` : ''})`, async () => {
            const key = `migration:${c.baseline.provider}→${c.candidate.provider}:unchanged:${u.key}`;
            await allure.historyId(key);
            await allure.testCaseId(key);
            await allure.label('migration', 'unchanged');
            await allure.description(`Behaves alike on both sides: ${u.behaviour}`);
          });
        }
      });
    }
  });
}

/** Registers the migration suites of the comparison written with the current run, if any. */
export function registerMigration(): void {
  const compare = comparisonForRun(process.env['TC_RUN_FILE'] ?? DEFAULT_RUN_FILE);
  for (const c of compare?.comparisons ?? []) registerComparison(c);
}
