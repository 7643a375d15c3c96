/**
 * One provider's verdict, as the report's landing page states it: non-conformant when a MUST or
 * EXPECTATION check failed (any failure, SHOULD included, under --strict), else not verified when a
 * check could not judge the endpoint (outage, rate limit, a client that cannot get a token), else
 * conformant. The same precedence as the exit codes: fail beats not verified beats conformant.
 */
import type { Finding } from '../evaluate.js';
import type { ProviderRun } from '../run-record.js';
import { isNotApplicable } from './presentation.js';

export type ProviderVerdict = 'conformant' | 'non-conformant' | 'not verified';

export interface VerdictSummary {
  provider: string;
  verdict: ProviderVerdict;
  mustFailed: number;
  expectationFailed: number;
  /** SHOULD checks failed under --strict. */
  shouldFailed: number;
  warnings: number;
  deviations: number;
  /** Checks that could not judge (broken). */
  notJudged: number;
  notApplicable: number;
  /** Skipped for a stated limit (request budget, maximum wait) or because nothing could be evaluated. */
  notRun: number;
  passed: number;
  /** pass + fail + warn: the checks that judged the endpoint (deviations are excused, not judged). */
  judged: number;
  requests: number;
  tokenEndpoint: string;
  /** Why checks could not judge, the most frequent reason first. */
  brokenReason?: string;
}

export function summarize(run: ProviderRun): VerdictSummary {
  const count = (pred: (f: Finding) => boolean): number => run.findings.filter(pred).length;
  const failed = (level: Finding['level']) =>
    count((f) => f.outcome === 'fail' && f.level === level);
  const s = {
    mustFailed: failed('MUST'),
    expectationFailed: failed('EXPECTATION'),
    shouldFailed: failed('SHOULD'),
    warnings: count((f) => f.outcome === 'warn'),
    deviations: count((f) => f.outcome === 'deviation'),
    notJudged: count((f) => f.outcome === 'broken'),
    notApplicable: count(isNotApplicable),
    notRun: count((f) => f.outcome === 'skipped' && !isNotApplicable(f)),
    passed: count((f) => f.outcome === 'pass'),
  };
  const judged = s.passed + s.mustFailed + s.expectationFailed + s.shouldFailed + s.warnings;
  const anyFailed = s.mustFailed + s.expectationFailed + s.shouldFailed > 0;
  const reasons = new Map<string, number>();
  for (const f of run.findings)
    if (f.outcome === 'broken') reasons.set(f.message, (reasons.get(f.message) ?? 0) + 1);
  const brokenReason = [...reasons].sort((a, b) => b[1] - a[1])[0]?.[0];
  return {
    provider: run.provider.name,
    verdict: anyFailed
      ? 'non-conformant'
      : s.notJudged > 0 || judged === 0
        ? 'not verified'
        : 'conformant',
    ...s,
    judged,
    requests: run.evidence.requestsSent,
    tokenEndpoint: run.provider.tokenEndpoint,
    ...(brokenReason ? { brokenReason } : {}),
  };
}
