import { tally } from '../evaluate.js';
import { inert } from '../text/inert.js';
import type { RunRecord } from '../run-record.js';
import type { ProviderChanges } from '../run/history.js';
import { instanceKey } from '../run/history.js';
import { providerVerdict, type RunVerdict } from '../verdict.js';

const MAX_LISTED = 40;

/** Markdown table cells: no pipes or newlines from server-controlled text, and no control characters. */
function cell(raw: string, max = 300): string {
  const text = inert(raw, { max: 4096 });
  const clean = text
    // eslint-disable-next-line no-control-regex -- control characters are exactly what must not pass
    .replace(/[\u0000-\u001F\u007F]/g, (c) =>
      c === '\n' ? ' ' : `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`,
    )
    .replace(/\|/g, '\\|');
  return clean.length > max ? `${clean.slice(0, max)}… (${clean.length} characters)` : clean;
}

/**
 * summary.md: short enough for a pull-request comment or $GITHUB_STEP_SUMMARY. The verdict per
 * provider first, then the failures with their spec links, then what could not judge, then what
 * changed since the last run.
 */
export function summaryMarkdown(
  record: RunRecord,
  verdict: RunVerdict,
  changes: ProviderChanges[] = [],
): string {
  const out: string[] = [
    `## Token endpoint conformance: ${verdict.line.replace(/^Result: /, '')}`,
    '',
  ];
  out.push(
    '| provider | verdict | passed | failed | warnings | not verified | skipped | requests |',
    '| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |',
  );
  for (const r of [...record.providers].sort((a, b) =>
    a.provider.name.localeCompare(b.provider.name),
  )) {
    const t = tally(r.findings);
    out.push(
      `| ${cell(r.provider.name)} | ${providerVerdict(r.findings)} | ${t.passed} | ${t.failed} | ${t.warnings} | ${t.broken} | ${t.skipped} | ${r.evidence.requestsSent} |`,
    );
  }
  const failures = record.providers.flatMap((r) =>
    r.findings.filter((f) => f.outcome === 'fail').map((f) => ({ p: r.provider.name, f })),
  );
  if (failures.length > 0) {
    out.push('', `### Failures (${failures.length})`, '');
    for (const { p, f } of failures.slice(0, MAX_LISTED))
      out.push(
        `- **${cell(p)}** \`${instanceKey(f)}\` (${f.level}, [${f.spec.label}](${f.spec.url})): ${cell(f.message)}`,
      );
    if (failures.length > MAX_LISTED)
      out.push(`- … and ${failures.length - MAX_LISTED} more (see junit.xml or the report)`);
  }
  const broken = record.providers.flatMap((r) => {
    const reasons = new Map<string, number>();
    for (const f of r.findings.filter((x) => x.outcome === 'broken'))
      reasons.set(f.message, (reasons.get(f.message) ?? 0) + 1);
    return [...reasons].map(([reason, n]) => ({ p: r.provider.name, reason, n }));
  });
  if (broken.length > 0) {
    out.push('', '### Not verified', '');
    for (const b of broken.slice(0, MAX_LISTED))
      out.push(`- **${cell(b.p)}** (${b.n} check${b.n === 1 ? '' : 's'}): ${cell(b.reason)}`);
    if (broken.length > MAX_LISTED) out.push(`- … and ${broken.length - MAX_LISTED} more reasons`);
  }
  const changed = changes.filter(
    (c) => c.since && (c.newFailures.length || c.fixed.length || c.newlyUnverified.length),
  );
  if (changed.length > 0) {
    out.push('', '### Since the last run', '');
    for (const c of changed) {
      const parts = [
        c.newFailures.length
          ? `new failures: ${c.newFailures.map((k) => `\`${k}\``).join(', ')}`
          : '',
        c.fixed.length ? `fixed: ${c.fixed.map((k) => `\`${k}\``).join(', ')}` : '',
        c.stillFailing.length ? `still failing: ${c.stillFailing.length}` : '',
        c.newlyUnverified.length ? `newly not verified: ${c.newlyUnverified.length}` : '',
      ].filter(Boolean);
      out.push(`- **${cell(c.provider)}** (since ${c.since}): ${parts.join('; ')}`);
    }
  }
  return `${out.join('\n')}\n`;
}

/** Summary lines for the terminal: what changed since the last run, per provider. */
export function changeLines(changes: ProviderChanges[]): string[] {
  return changes.flatMap((c) => {
    if (!c.since) return [`${c.provider}: first run in this history`];
    if (!c.newFailures.length && !c.fixed.length && !c.newlyUnverified.length)
      return [
        `${c.provider}: no change since ${c.since}${c.stillFailing.length ? ` (still failing: ${c.stillFailing.length})` : ''}`,
      ];
    return [
      `${c.provider}: since ${c.since}: ${[
        c.newFailures.length ? `NEW FAILURES ${c.newFailures.join(', ')}` : '',
        c.fixed.length ? `fixed ${c.fixed.join(', ')}` : '',
        c.stillFailing.length ? `still failing ${c.stillFailing.length}` : '',
        c.newlyUnverified.length ? `newly not verified ${c.newlyUnverified.join(', ')}` : '',
      ]
        .filter(Boolean)
        .join('; ')}`,
    ];
  });
}
