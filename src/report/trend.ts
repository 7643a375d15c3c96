/**
 * Each provider's trend, read from the report history Allure keeps (one JSON line per generated
 * report, historyPath in reports/allurerc.mjs, the file the CLI passes as TC_HISTORY_FILE). Every
 * result carries the labels `finding` (its stable key) and `outcome` (src/report/suite.ts), so a past
 * run's findings are read back without recomputing Allure's own history ids. Read before
 * `allure generate` appends the current run.
 */
import { existsSync, readFileSync } from 'node:fs';
import type { Outcome } from '../evaluate.js';
import { FINDING_LABEL, OUTCOME_LABEL, type ReportEntry } from './presentation.js';
import type { ProviderVerdict } from './verdict.js';

export interface PastRun {
  timestamp: number;
  /** By finding key: the provider and the outcome it had then. */
  findings: Map<string, { provider: string; outcome: string }>;
}

export interface Change {
  key: string;
  /** The entry's title now. */
  name: string;
  from: Outcome;
  to: Outcome;
}

export interface ProviderTrend {
  /** The provider's verdict in each earlier run that had it, oldest first (at most MAX_RUNS). */
  previous: { timestamp: number; verdict: ProviderVerdict }[];
  /** Checks judged in the last run and now, worse now (pass → warn or fail, warn → fail). */
  regressed: Change[];
  /** Better now (fail → warn or pass, warn → pass). */
  fixed: Change[];
}

export const MAX_RUNS = 9;

interface HistoryLine {
  timestamp?: number;
  testResults?: Record<string, { labels?: { name?: string; value?: string }[] }>;
}

/** The runs recorded in the history file, oldest first; lines without our labels (older harness versions) are left out. */
export function readPastRuns(historyFile: string | undefined): PastRun[] {
  if (!historyFile || !existsSync(historyFile)) return [];
  const runs: PastRun[] = [];
  for (const line of readFileSync(historyFile, 'utf8').split('\n')) {
    if (!line.trim()) continue;
    let parsed: HistoryLine;
    try {
      parsed = JSON.parse(line) as HistoryLine;
    } catch {
      continue; // a torn line (an interrupted write) is not a run
    }
    const findings = new Map<string, { provider: string; outcome: string }>();
    for (const tr of Object.values(parsed.testResults ?? {})) {
      const label = (name: string) => tr.labels?.find((l) => l.name === name)?.value;
      const key = label(FINDING_LABEL);
      const outcome = label(OUTCOME_LABEL);
      const provider = label('provider');
      if (key && outcome && provider) findings.set(key, { provider, outcome });
    }
    if (findings.size > 0) runs.push({ timestamp: parsed.timestamp ?? 0, findings });
  }
  return runs.sort((a, b) => a.timestamp - b.timestamp);
}

function verdictOf(outcomes: string[]): ProviderVerdict {
  if (outcomes.includes('fail')) return 'non-conformant';
  if (outcomes.includes('broken') || !outcomes.some((o) => o === 'pass' || o === 'warn'))
    return 'not verified';
  return 'conformant';
}

/** Only judged outcomes compare: an outage, a skip or a deviation says nothing about better or worse. */
const SEVERITY: Partial<Record<string, number>> = { pass: 0, warn: 1, fail: 2 };

/** The provider's trend, or undefined when no earlier run in the history had it. */
export function trendOf(
  provider: string,
  past: PastRun[],
  entries: ReportEntry[],
): ProviderTrend | undefined {
  const runs = past
    .map((r) => ({
      timestamp: r.timestamp,
      outcomes: [...r.findings.entries()].filter(([, v]) => v.provider === provider),
    }))
    .filter((r) => r.outcomes.length > 0);
  const last = runs.at(-1);
  if (!last) return undefined;
  const before = new Map(last.outcomes.map(([k, v]) => [k, v.outcome]));
  const regressed: Change[] = [];
  const fixed: Change[] = [];
  for (const e of entries) {
    const f = e.findings[0];
    if (e.provider !== provider || e.kind !== 'check' || !f) continue;
    const from = before.get(e.key);
    const was = from === undefined ? undefined : SEVERITY[from];
    const now = SEVERITY[f.outcome];
    if (was === undefined || now === undefined || was === now) continue;
    (now > was ? regressed : fixed).push({
      key: e.key,
      name: e.name,
      from: from as Outcome,
      to: f.outcome,
    });
  }
  return {
    previous: runs.slice(-MAX_RUNS).map((r) => ({
      timestamp: r.timestamp,
      verdict: verdictOf(r.outcomes.map(([, v]) => v.outcome)),
    })),
    regressed,
    fixed,
  };
}
