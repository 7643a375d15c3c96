import { tally } from '../evaluate.js';
import { runVerdict } from '../verdict.js';
import { describeProxyUse, type RunRecord } from '../run-record.js';
import { inert } from '../text/inert.js';

/** The short summary printed after a run: one line per provider, then what failed and why. */
export function formatSummary(record: RunRecord): string {
  const lines: string[] = [''];
  const rows = record.providers.map((r) => {
    const t = tally(r.findings);
    return [
      r.provider.name,
      String(t.passed),
      String(t.failed),
      String(t.warnings),
      String(t.skipped),
      String(t.broken),
      String(t.deviations),
      String(r.evidence.requestsSent),
    ];
  });
  const head = [
    'provider',
    'passed',
    'failed',
    'warnings',
    'skipped',
    'broken',
    'deviations',
    'requests',
  ];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]?.length ?? 0)));
  const fmt = (cells: string[]) =>
    cells
      .map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0)))
      .join('  ');
  lines.push(fmt(head), ...rows.map(fmt), '');
  // A descriptor whose own client cannot get a token is named first: nothing else is verified for it.
  for (const r of record.providers) {
    for (const f of r.findings) {
      if (
        f.outcome === 'broken' &&
        /^the configured client .* could not obtain a token/.test(f.message)
      )
        lines.push(`${r.provider.name}: NOT VERIFIED — ${inert(f.message)}`);
    }
  }
  for (const r of record.providers) {
    if (r.provider.insecure)
      lines.push(`${r.provider.name}: INSECURE — TLS verification was off for this provider`);
    if (r.provider.insecureHttp?.length)
      lines.push(
        `${r.provider.name}: INSECURE — plain HTTP on loopback (allowInsecureHttp: loopback) for ${r.provider.insecureHttp.join(', ')}; the checks that need TLS were not applicable`,
      );
    // Which proxy, if any, carried this provider's requests: a result through a proxy is that path's result.
    const proxy = describeProxyUse(r.provider.proxy);
    if (proxy) lines.push(`${r.provider.name}: ${proxy}`);
    const logins = r.evidence.logins;
    if (logins !== undefined)
      lines.push(
        `${r.provider.name}: ${logins} login${logins === 1 ? '' : 's'} in the browser for fresh authorization codes (counted in its ${r.evidence.requestsSent} requests)`,
      );
    const broken = r.findings.filter((f) => f.outcome === 'broken');
    const reasons = [...new Set(broken.map((f) => f.message))];
    if (
      broken.length > 0 &&
      broken.length === r.findings.filter((f) => f.outcome !== 'skipped').length
    ) {
      lines.push(`${r.provider.name}: BROKEN — no check could run: ${inert(reasons[0] ?? '')}`);
      continue;
    }
    // Checks the request budget left unjudged are listed, so a budget cut never passes for a green run.
    const notRun = r.findings.filter(
      (f) => f.outcome === 'skipped' && /request budget/.test(f.message),
    );
    if (notRun.length > 0)
      lines.push(
        `${r.provider.name}: NOT RUN (limits.maxRequests used up): ${[...new Set(notRun.map((f) => f.checkId))].join(', ')}`,
      );
    for (const f of r.findings) {
      if (
        f.outcome === 'fail' ||
        f.outcome === 'warn' ||
        f.outcome === 'broken' ||
        f.outcome === 'deviation'
      ) {
        const tag =
          f.outcome === 'fail'
            ? `FAIL ${f.level}`
            : f.outcome === 'warn'
              ? 'WARN SHOULD'
              : f.outcome === 'deviation'
                ? 'DEVIATION'
                : 'BROKEN';
        const params = Object.keys(f.params).length
          ? ` [${f.params['client'] ?? Object.values(f.params).join(', ')}]`
          : '';
        lines.push(`${r.provider.name}: ${tag} ${f.checkId}${params}: ${inert(f.message)}`);
      }
    }
  }
  const result = runVerdict(
    record.providers.map((r) => ({ name: r.provider.name, findings: r.findings })),
    { strict: record.strict, allowUnverified: record.allowUnverified ?? false },
  ).line;
  lines.push('', result, '');
  return lines.join('\n');
}
