import {
  appendFileSync,
  existsSync,
  mkdirSync,
  readFileSync,
  renameSync,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';
import type { Finding, Outcome } from '../evaluate.js';
import type { RunRecord } from '../run-record.js';

/**
 * The run history a nightly job carries from night to night (a CI cache or artifact): one JSON line
 * per run, each provider's outcome per check instance. Small on purpose: verdicts, not evidence.
 */
export interface HistoryLine {
  v: 1;
  finishedAt: string;
  providers: Record<string, Record<string, Outcome>>;
}

/** Changes of one provider since the previous run that had it. */
export interface ProviderChanges {
  provider: string;
  /** The previous run's time, or undefined for a provider seen for the first time. */
  since?: string;
  newFailures: string[];
  fixed: string[];
  stillFailing: string[];
  /** Checks that now could not judge, having judged before. */
  newlyUnverified: string[];
}

/** One key per check instance: the check id, and the client for per-client checks. */
export function instanceKey(f: Finding): string {
  const client = f.params['client'];
  return client ? `${f.checkId} [${client}]` : f.checkId;
}

export function historyLineOf(record: RunRecord): HistoryLine {
  return {
    v: 1,
    finishedAt: record.finishedAt,
    providers: Object.fromEntries(
      record.providers.map((r) => [
        r.provider.name,
        Object.fromEntries(r.findings.map((f) => [instanceKey(f), f.outcome])),
      ]),
    ),
  };
}

export function readHistory(file: string): HistoryLine[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .flatMap((l) => {
      try {
        const line = JSON.parse(l) as HistoryLine;
        return line.v === 1 ? [line] : [];
      } catch {
        return []; // a truncated last line (a killed job) must not end the history
      }
    });
}

/** What changed for each provider since the last run that had it. */
export function changesSince(history: HistoryLine[], current: HistoryLine): ProviderChanges[] {
  return Object.entries(current.providers).map(([provider, now]) => {
    const before = [...history].reverse().find((h) => h.providers[provider]);
    const prev = before?.providers[provider];
    const keys = Object.keys(now).sort();
    const failing = (o: Outcome | undefined) => o === 'fail';
    return {
      provider,
      ...(before ? { since: before.finishedAt } : {}),
      newFailures: prev
        ? keys.filter((k) => failing(now[k]) && !failing(prev[k]))
        : keys.filter((k) => failing(now[k])),
      fixed: prev
        ? Object.keys(prev)
            .filter((k) => failing(prev[k]) && !failing(now[k]) && now[k] !== undefined)
            .sort()
        : [],
      stillFailing: prev ? keys.filter((k) => failing(now[k]) && failing(prev[k])) : [],
      newlyUnverified: prev
        ? keys.filter((k) => now[k] === 'broken' && prev[k] !== undefined && prev[k] !== 'broken')
        : [],
    };
  });
}

/** Appends this run, keeping at most `limit` lines (the oldest go). */
export function appendHistory(file: string, line: HistoryLine, limit = 60): void {
  mkdirSync(path.dirname(file), { recursive: true });
  const lines = [...readHistory(file), line].slice(-limit);
  // Rewritten whole (then renamed over, atomically on POSIX) when trimmed; appended otherwise.
  if (lines.length === limit) {
    writeFileSync(`${file}.tmp`, `${lines.map((l) => JSON.stringify(l)).join('\n')}\n`);
    renameSync(`${file}.tmp`, file);
  } else appendFileSync(file, `${JSON.stringify(line)}\n`);
}
