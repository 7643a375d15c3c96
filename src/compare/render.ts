/**
 * A comparison for people: the terminal table, and compare.md for a pull request or a change
 * ticket. Both read compare.json's shapes only.
 */
import {
  CLASS_TITLES,
  type CompareFile,
  type Comparison,
  type Difference,
  type DifferenceClass,
  type Location,
} from './types.js';

const SERIOUS: DifferenceClass[] = ['breaks-clients', 'conformance-regression', 'fixed', 'neutral'];

/** `token.1 (primary)`, or `token.1 → token.3 (primary)` when the sides' client orders differ. */
export function showLocation(w: Location): string {
  const probe =
    w.probe === w.candidateProbe || w.candidateProbe === '—'
      ? w.probe
      : w.probe === '—'
        ? w.candidateProbe
        : `${w.probe} → ${w.candidateProbe}`;
  return `${probe}${w.role ? ` (${w.role})` : ''}`;
}

export function showWhere(d: Difference, max = 3): string {
  if (d.where.length === 0) return d.kind === 'check' ? 'verdict only' : '';
  const shown = d.where.slice(0, max).map(showLocation).join(', ');
  const n = d.where.length;
  return `${n} request${n === 1 ? '' : 's'}: ${shown}${n > max ? ', …' : ''}`;
}

/** The one-line name of a difference, as the report's test and the tables show it. */
export function differenceName(d: Difference): string {
  if (d.kind === 'check') return d.title;
  // Whether a request was answered says nothing without naming the request.
  if (d.aspect === 'answer')
    return `${d.title}: ${d.where.map(showLocation).join(', ')} (${d.baseline} → ${d.candidate})`;
  // A difference seen on one request says which: "Status changes: 401 → 400 — a wrong client secret (…)".
  return `${d.title}: ${d.baseline} → ${d.candidate}${d.where.length === 1 ? ` — ${d.where[0]!.purpose}` : ''}`;
}

function cut(s: string, n: number): string {
  return s.length <= n ? s : `${s.slice(0, n - 1)}…`;
}

function table(rows: string[][]): string[] {
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => r[i]?.length ?? 0))) ?? [];
  return rows.map((r) =>
    `  ${r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i] ?? 0))).join('  ')}`.trimEnd(),
  );
}

function countLine(c: Comparison): string {
  const n = c.differences.length;
  const parts = SERIOUS.map((k) => `${c.counts[k]} ${CLASS_TITLES[k].toLowerCase()}`);
  return `${n} difference${n === 1 ? '' : 's'} (${parts.join(', ')}); ${c.notComparable.length} not comparable; ${c.noise.length} noise${c.secondary ? '' : ' (no --secondary)'}; ${c.counts.unchanged} requests unchanged`;
}

export function formatComparisonTable(c: Comparison): string {
  const lines = ['', c.title];
  if (c.differences.length > 0) {
    const rows = [
      ['class', 'difference', 'baseline', 'candidate', 'where'],
      ...c.differences.map((d) => [
        CLASS_TITLES[d.class].toUpperCase(),
        cut(d.title, 44),
        cut(d.baseline, 34),
        cut(d.candidate, 34),
        showWhere(d, 2),
      ]),
    ];
    lines.push(...table(rows));
  } else lines.push('  no difference');
  for (const d of c.differences) {
    for (const k of d.checks.filter((x) => x.class !== 'not-comparable'))
      lines.push(
        `  ${d.title}: ${k.checkId}${k.role ? ` [${k.role}]` : ''} ${k.baseline.outcome} → ${k.candidate.outcome}`,
      );
  }
  const apart = (name: string, list: Difference[]) => {
    if (list.length === 0) return;
    lines.push(`  ${name}:`);
    for (const d of list)
      lines.push(
        `    ${cut(differenceName(d), 110)}${d.suppressed ? ` (took out ${d.suppressed})` : ''}`,
      );
  };
  apart('Not comparable (kept apart)', c.notComparable);
  apart(
    `Noise (differs between ${c.baseline.label} and ${c.secondary?.label ?? 'the secondary'} too)`,
    c.noise,
  );
  lines.push(`  ${countLine(c)}`);
  return lines.join('\n');
}

export function formatCompareFile(file: CompareFile): string {
  const lines = file.comparisons.map(formatComparisonTable);
  if (
    file.unmatched &&
    (file.unmatched.baseline.length > 0 || file.unmatched.candidate.length > 0)
  ) {
    lines.push(
      `  not compared (on one side only): ${[...file.unmatched.baseline.map((n) => `${n} (baseline)`), ...file.unmatched.candidate.map((n) => `${n} (candidate)`)].join(', ')}`,
    );
  }
  const failing = file.comparisons
    .flatMap((c) => [...c.differences, ...c.notComparable])
    .filter((d) => file.failOn.includes(d.class)).length;
  lines.push(
    '',
    `Comparison: ${failing === 0 ? 'no' : failing} difference${failing === 1 ? '' : 's'} of the classes --fail-on names (${file.failOn.join(', ') || 'none'})`,
    '',
  );
  return lines.join('\n');
}

const md = (s: string): string => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');
const code = (s: string): string => `\`${s.replace(/`/g, "'")}\``;

function mdDifference(d: Difference): string[] {
  const out = [`### ${md(d.title)}`, ''];
  out.push(`- **baseline:** ${code(d.baseline)} → **candidate:** ${code(d.candidate)}`);
  out.push(`- **why ${CLASS_TITLES[d.class].toLowerCase()}:** ${md(d.reason)}`);
  if (d.where.length > 0)
    out.push(
      `- **seen on ${d.where.length} request${d.where.length === 1 ? '' : 's'}:** ${d.where.map((w) => `${code(showLocation(w))} ${md(w.purpose)}`).join('; ')}`,
    );
  for (const k of d.checks) {
    out.push(
      `- **check ${code(k.checkId)}${k.role ? ` (${md(k.role)})` : ''}:** ${k.baseline.outcome} → ${k.candidate.outcome} (${CLASS_TITLES[k.class].toLowerCase()}) — ${md(k.candidate.message)}`,
    );
  }
  if (d.suppressed !== undefined)
    out.push(
      `- **took out:** ${d.suppressed} baseline–candidate difference${d.suppressed === 1 ? '' : 's'}`,
    );
  out.push('');
  return out;
}

export function comparisonMarkdown(c: Comparison): string {
  const side = (s: Comparison['baseline']) =>
    `${md(s.title)} (${code(s.provider)}), ${s.source === 'observed' ? 'observed' : `recorded in ${code(s.file ?? '?')}`} ${s.startedAt}`;
  const out = [
    `## ${md(c.title)}`,
    '',
    '| | |',
    '| --- | --- |',
    `| baseline | ${side(c.baseline)} |`,
    `| candidate | ${side(c.candidate)} |`,
  ];
  if (c.secondary) out.push(`| secondary | ${side(c.secondary)} |`);
  out.push(
    `| token endpoints | ${code(c.baseline.tokenEndpoint)} → ${code(c.candidate.tokenEndpoint)} |`,
    '',
    `**${countLine(c)}**`,
    '',
  );
  for (const cls of SERIOUS) {
    const list = c.differences.filter((d) => d.class === cls);
    if (list.length === 0) continue;
    out.push(`### ${CLASS_TITLES[cls]} (${list.length})`, '');
    for (const d of list) out.push(...mdDifference(d).map((l) => l.replace(/^### /, '#### ')));
  }
  out.push(`### Not comparable, kept apart (${c.notComparable.length})`, '');
  if (c.notComparable.length === 0)
    out.push('None: every behaviour was answered and judged on both sides.', '');
  for (const d of c.notComparable)
    out.push(...mdDifference(d).map((l) => l.replace(/^### /, '#### ')));
  out.push(`### Noise, shown apart (${c.noise.length})`, '');
  if (!c.secondary)
    out.push(
      'No secondary was given (`--secondary`): nothing is known to be noise beyond what fingerprints leave out (token values, jti, iat/exp, dates).',
      '',
    );
  else if (c.noise.length === 0)
    out.push(`None: ${md(c.baseline.label)} and ${md(c.secondary.label)} behaved alike.`, '');
  for (const d of c.noise) out.push(...mdDifference(d).map((l) => l.replace(/^### /, '#### ')));
  out.push(
    `### Unchanged (${c.unchanged.length} requests)`,
    '',
    ...c.unchanged.map(
      (u) =>
        `- ${code(u.probe)}${u.role ? ` (${md(u.role)})` : ''} ${md(u.purpose)}: ${md(u.behaviour)}`,
    ),
    '',
  );
  return out.join('\n');
}

export function compareFileMarkdown(file: CompareFile): string {
  const failing = file.comparisons
    .flatMap((c) => [...c.differences, ...c.notComparable])
    .filter((d) => file.failOn.includes(d.class)).length;
  const out = [
    '# Behaviour comparison',
    '',
    `token-conformance ${file.harnessVersion}, ${file.generatedAt}. Result: **${failing === 0 ? 'no' : failing} difference${failing === 1 ? '' : 's'}** of the classes that fail (${file.failOn.map(code).join(', ') || 'none'}).`,
    '',
    'Classes: *breaks clients* (a behaviour a client may rely on changes), *conformance regression* (a check met on the baseline is not met on the candidate), *fixed* (the other way), *neutral* (nothing is taken away), *not comparable* (not run or not judged on one side; kept apart), *noise* (differs between the baseline and its secondary too; shown apart). Token values, jti, absolute iat/exp and dates are never compared.',
    '',
  ];
  for (const c of file.comparisons) out.push(comparisonMarkdown(c));
  if (
    file.unmatched &&
    (file.unmatched.baseline.length > 0 || file.unmatched.candidate.length > 0)
  ) {
    out.push(
      '## Not compared',
      '',
      ...file.unmatched.baseline.map((n) => `- ${code(n)}: in the baseline only`),
      ...file.unmatched.candidate.map((n) => `- ${code(n)}: in the candidate only`),
      '',
    );
  }
  return out.join('\n');
}
