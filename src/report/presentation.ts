/**
 * How the findings of a run look in the Allure report: one entry per judged check, and one entry per
 * provider and area for the checks that do not apply. Pure: the suites (labels, description,
 * attachments), the reporter (status, message, timing) and the landing page read the same entries,
 * so they cannot disagree. run.json keeps every finding; only the report folds the not-applicable ones.
 */
import { AREA_TITLES, type Area } from '../checks/types.js';
import type { Finding, Outcome } from '../evaluate.js';
import type { ProviderRun, RunRecord } from '../run-record.js';

/** The five statuses Allure 3 has; there is no custom status. */
export type AllureStatus = 'passed' | 'failed' | 'broken' | 'skipped' | 'unknown';

export interface ReportEntry {
  /** Stable across runs: Allure's testCaseId/historyId and the trend's key. */
  key: string;
  provider: string;
  area: Area;
  kind: 'check' | 'not-applicable';
  /** The leaf title in the tree. */
  name: string;
  status: AllureStatus;
  /** The text of the error box, for failed and broken only: every other status shows its reason in the description. */
  message?: string;
  /** Markdown, the verdict first. */
  description: string;
  /** Position in the report: providers by name, areas in the catalogue's order, checks in catalogue order. */
  rank: number;
  findings: Finding[];
}

/** Labels the report needs but QA does not: hidden by reports/allurerc.mjs (hideLabels), kept in the history for the trend. */
export const FINDING_LABEL = 'finding';
export const OUTCOME_LABEL = 'outcome';

const NOT_APPLICABLE = /^not applicable:\s*/;

export const isNotApplicable = (f: Finding): boolean =>
  f.outcome === 'skipped' && NOT_APPLICABLE.test(f.message);

/** Allure shows no warning or "accepted" status without counting it as failed, so each outcome gets the nearest honest one. */
const STATUS: Record<Outcome, AllureStatus> = {
  pass: 'passed',
  fail: 'failed',
  broken: 'broken',
  skipped: 'skipped',
  // A SHOULD not met: Allure's only status that is neither a pass, a failure, an outage nor "not run".
  warn: 'unknown',
  // Declared by design and not counted against the provider: grey, like any check not held against it.
  deviation: 'skipped',
};

export const allureStatusOf = (o: Outcome): AllureStatus => STATUS[o];

/** The tree's top-level row: the provider's name first (it is what --provider, run.json and the summary use). */
export function providerLabel(p: { name: string; title: string }): string {
  return p.title === p.name ? p.name : `${p.name} · ${p.title}`;
}

/** A check's leaf title: the requirement, the client when the check runs once per client, and what kind of verdict it is when the colour alone cannot say. */
export function checkTitle(f: Finding): string {
  const client = f.params['client'];
  const base = client ? `${f.title} (${client})` : f.title;
  if (f.outcome === 'warn') return `SHOULD not met: ${base}`;
  if (f.outcome === 'deviation') return `Known deviation: ${base}`;
  return base;
}

export function findingKey(provider: string, f: Finding): string {
  const params = Object.values(f.params).join(',');
  return `${provider}:${f.checkId}${params ? `:${params}` : ''}`;
}

/** What the check found, without the declaration evaluate() puts in front of a deviation's message. */
function found(f: Finding): string {
  const prefix = f.deviation
    ? `known deviation (${f.deviation.reason}; ${f.deviation.link}): `
    : '';
  return prefix && f.message.startsWith(prefix) ? f.message.slice(prefix.length) : f.message;
}

/** The error box of a failed check: the verdict with its level, what was expected and the spec it comes from. No stack trace. */
export function failureMessage(f: Finding): string {
  const client = f.params['client'];
  return [
    `${f.level}: ${f.message}`,
    `expected: ${f.title}${client ? ` (${client})` : ''}`,
    `spec: ${f.spec.label} ${f.spec.url}`,
  ].join('\n');
}

const md = (s: string): string => s.replace(/([\\`*_[\]<>])/g, '\\$1');

function verdictLine(f: Finding, file: string): string {
  switch (f.outcome) {
    case 'pass':
      return `**Passed** — ${md(f.message)}`;
    case 'fail':
      return `**Not met (${f.level})** — ${md(f.message)}`;
    case 'warn':
      return `**SHOULD not met** (a warning: it fails the run only with --strict) — ${md(f.message)}`;
    case 'deviation':
      return `**Known deviation**, declared in ${md(file)}: ${md(f.deviation?.reason ?? '')} (${md(f.deviation?.link ?? '')}). Not counted against the provider. What the check found: ${md(found(f))}`;
    case 'broken':
      return `**Not judged** (the check could not run: no verdict on the endpoint) — ${md(f.message)}`;
    case 'skipped':
      return `**Not run** — ${md(f.message)}`;
  }
}

function checkDescription(run: ProviderRun, f: Finding): string {
  const p = run.provider;
  const client = f.params['client'];
  return [
    verdictLine(f, p.file),
    `Requirement (${f.level}): ${md(f.title)}${client ? ` — for ${md(client)}` : ''}`,
    `Spec: [${md(f.spec.label)}](${f.spec.url}) · check \`${f.checkId}\``,
    f.levelReason ? `Why this level: ${md(f.levelReason)}` : '',
    `Provider: \`${p.name}\` — ${md(p.title)} (${md(p.file)}), token endpoint ${md(p.tokenEndpoint)}${p.resourceUrl ? `, resource ${md(p.resourceUrl)}` : ''}`,
    p.insecure ? '**INSECURE: TLS certificate verification was off for this provider.**' : '',
    p.insecureHttp?.length
      ? `**INSECURE: plain HTTP on loopback (allowInsecureHttp: loopback) for ${md(p.insecureHttp.join(', '))}.**`
      : '',
  ]
    .filter(Boolean)
    .join('\n\n');
}

function notApplicableEntry(
  run: ProviderRun,
  area: Area,
  findings: Finding[],
): Omit<ReportEntry, 'rank'> {
  const p = run.provider;
  const byReason = new Map<string, Finding[]>();
  for (const f of findings) {
    const reason = f.message.replace(NOT_APPLICABLE, '');
    byReason.set(reason, [...(byReason.get(reason) ?? []), f]);
  }
  const n = findings.length;
  const counted = `${n} check${n === 1 ? '' : 's'} not applicable`;
  const [only] = byReason.keys();
  const name =
    byReason.size === 1 && only !== undefined
      ? `${counted}: ${only}`
      : `${counted} (${byReason.size} reasons)`;
  const lines = [
    `**Not applicable** — what ${md(p.file)} declares rules these ${AREA_TITLES[area]} checks out; they are not judged and not counted (run.json lists each one).`,
  ];
  for (const [reason, fs] of byReason) {
    lines.push(
      `**${md(reason)}**`,
      fs.map((f) => `- ${md(f.title)} — \`${f.checkId}\`, ${f.level}`).join('\n'),
    );
  }
  return {
    key: `${p.name}:not-applicable:${area}`,
    provider: p.name,
    area,
    kind: 'not-applicable',
    name,
    status: 'skipped',
    description: lines.join('\n\n'),
    findings,
  };
}

/** Every entry of the report, in report order. */
export function reportEntries(record: RunRecord): ReportEntry[] {
  const entries: ReportEntry[] = [];
  const areas = Object.keys(AREA_TITLES) as Area[];
  for (const run of [...record.providers].sort((a, b) =>
    a.provider.name.localeCompare(b.provider.name),
  )) {
    for (const area of areas) {
      // evaluate() lists findings in catalogue order; the not-applicable entry closes its area.
      const inArea = run.findings.filter((f) => f.area === area);
      for (const f of inArea.filter((x) => !isNotApplicable(x))) {
        const status = allureStatusOf(f.outcome);
        entries.push({
          key: findingKey(run.provider.name, f),
          provider: run.provider.name,
          area,
          kind: 'check',
          name: checkTitle(f),
          status,
          ...(status === 'failed'
            ? { message: failureMessage(f) }
            : status === 'broken'
              ? { message: f.message }
              : {}),
          description: checkDescription(run, f),
          rank: entries.length,
          findings: [f],
        });
      }
      const na = inArea.filter(isNotApplicable);
      if (na.length > 0)
        entries.push({ ...notApplicableEntry(run, area, na), rank: entries.length });
    }
  }
  return entries;
}

/**
 * When an entry "ran", for Allure. Allure orders the tree by start time, so start follows the
 * report order (1 ms apart from the run's start); the duration is the time its exchanges took.
 * The run's real duration is written into the report's header separately (see landing.ts).
 */
export function entryTiming(
  entry: ReportEntry,
  record: RunRecord,
): { start: number; stop: number } {
  const run = record.providers.find((r) => r.provider.name === entry.provider);
  const start = Date.parse(record.startedAt) + entry.rank;
  const probes = new Set(entry.findings.flatMap((f) => f.probes));
  let took = 0;
  for (const probe of probes) took += run?.evidence.exchanges[probe]?.durationMs ?? 0;
  return { start, stop: start + took };
}
