import { CHECKS } from './checks/index.js';
import {
  AREA_TITLES,
  levelOf,
  type Answered,
  type Area,
  type CheckDef,
  type Evidence,
  type Level,
  type SpecRef,
  type Verdict,
} from './checks/types.js';
import type { Provider } from './descriptor/types.js';
import type { ProbeId } from './probes/ids.js';
import { probePlan } from './probes/plan.js';
import { setupProblems } from './setup.js';
import type { TransportError } from './evidence/types.js';

/** The final outcome of one check on one provider. `warn`: a SHOULD not met (a `fail` with --strict). */
export type Outcome = 'pass' | 'fail' | 'warn' | 'skipped' | 'broken' | 'deviation';

export interface Finding {
  checkId: string;
  title: string;
  area: Area;
  areaTitle: string;
  level: Level;
  levelReason?: string;
  spec: SpecRef;
  /** Parameters that distinguish instances of the same check (e.g. the client's auth method). */
  params: Record<string, string>;
  outcome: Outcome;
  message: string;
  /** Probe ids of the exchanges the verdict rests on. */
  probes: string[];
  /** The descriptor's declaration, when this check is a declared deviation. */
  deviation?: { reason: string; link: string };
}

export interface EvaluateOptions {
  strict: boolean;
}

/** Why an exchange got no answer; a proxy's refusal is said as such, never as the endpoint's outage. */
function noAnswer(e: TransportError): string {
  return e.kind === 'proxy'
    ? `proxy failure, the endpoint was not reached: ${e.message}`
    : `endpoint unreachable or misbehaving: ${e.message}`;
}

/** The checks that judge the ordinary token request itself: they name a set-up problem. */
const SETUP_CHECKS = [
  'grant.client-credentials',
  'grant.jwt-bearer',
  'authorization-code.exchanged',
];

/** Probes whose answers rest on a client whose own token request failed as a set-up problem. */
function unverifiable(p: Provider, evidence: Evidence): Map<ProbeId, string> {
  const problems = new Map(setupProblems(p, evidence).map((s) => [s.clientIndex, s.message]));
  const out = new Map<ProbeId, string>();
  if (problems.size === 0) return out;
  for (const probe of probePlan(p)) {
    const message = probe.asClient === undefined ? undefined : problems.get(probe.asClient);
    if (message) out.set(probe.id, message);
  }
  return out;
}

function prerequisites(
  check: CheckDef,
  p: Provider,
  evidence: Evidence,
  clientIndex: number,
  setup: Map<ProbeId, string>,
): Verdict | undefined {
  for (const probe of check.needs(p, clientIndex)) {
    const notVerified = setup.get(probe);
    // The grant's own check carries the loud set-up message; every other check says it is not verified.
    if (notVerified && evidence.exchanges[probe]?.response)
      return {
        outcome: 'broken',
        message: SETUP_CHECKS.includes(check.id) ? notVerified : `not verified: ${notVerified}`,
      };
    const notRun = evidence.notRun[probe];
    if (notRun)
      return notRun.kind === 'policy'
        ? { outcome: 'skip', message: `not run: ${notRun.reason}` }
        : { outcome: 'broken', message: `prerequisite failed: ${notRun.reason}` };
    const ex = evidence.exchanges[probe];
    if (!ex)
      return {
        outcome: 'broken',
        message: `harness error: no exchange was recorded for probe ${probe}`,
      };
    if (ex.notSent)
      return ex.notSent.kind === 'budget'
        ? { outcome: 'skip', message: ex.notSent.reason }
        : { outcome: 'broken', message: ex.notSent.reason };
    if (ex.transportError && !check.judgesTransport?.includes(probe))
      return { outcome: 'broken', message: noAnswer(ex.transportError) };
  }
  return undefined;
}

function finalOutcome(verdict: Verdict, level: Level, strict: boolean): Outcome {
  switch (verdict.outcome) {
    case 'pass':
      return 'pass';
    case 'skip':
      return 'skipped';
    case 'broken':
      return 'broken';
    case 'fail':
      return level === 'SHOULD' && !strict ? 'warn' : 'fail';
  }
}

/** Judges a provider's evidence with every check: pure, so suites, summary and comparisons agree. */
export function evaluate(
  p: Provider,
  evidence: Evidence,
  options: EvaluateOptions,
  checks: CheckDef[] = CHECKS,
): Finding[] {
  const findings: Finding[] = [];
  const answered = (probes: string[]): Answered[] =>
    probes
      .map((id) => evidence.exchanges[id])
      .filter((e): e is Answered => e?.response !== undefined);
  const unanswered = (probes: string[]): string | undefined => {
    for (const id of probes) {
      const e = evidence.exchanges[id];
      if (e?.transportError) return noAnswer(e.transportError);
      if (e?.notSent?.kind === 'circuit') return e.notSent.reason;
    }
    return undefined;
  };
  const budgetCut = (probes: string[]): string | undefined =>
    probes.map((id) => evidence.exchanges[id]?.notSent).find((n) => n?.kind === 'budget')?.reason;
  const ex = (probe: string): Answered => {
    const e = evidence.exchanges[probe];
    if (!e?.response)
      throw new Error(`harness error: probe ${probe} was read but not declared in needs`);
    return e as Answered;
  };
  const setup = unverifiable(p, evidence);
  for (const check of checks) {
    // A per-client check that does not apply is one skipped finding, not one per client.
    const instances =
      check.perClient && (check.applies?.(p) ?? true) === true ? p.clients.map((_, i) => i) : [0];
    for (const clientIndex of instances) {
      const client = p.clients[clientIndex];
      const level = levelOf(check, p);
      const applies = check.applies?.(p) ?? true;
      const judge = (): Verdict => {
        try {
          return check.judge({
            provider: p,
            evidence,
            ex,
            answered,
            unanswered,
            budgetCut,
            ...(check.perClient && client ? { client, clientIndex } : {}),
          });
        } catch (e) {
          return {
            outcome: 'broken',
            message: `harness error in ${check.id}: ${(e as Error).message}`,
          };
        }
      };
      const verdict: Verdict =
        applies !== true
          ? { outcome: 'skip', message: `not applicable: ${applies}` }
          : (prerequisites(check, p, evidence, clientIndex, setup) ?? judge());
      findings.push({
        checkId: check.id,
        title: check.title,
        area: check.area,
        areaTitle: AREA_TITLES[check.area],
        level,
        ...(check.levelReason ? { levelReason: check.levelReason } : {}),
        spec: check.spec,
        params:
          check.perClient && client && applies === true
            ? { client: client.label, 'auth method': client.auth.method }
            : {},
        ...declared(p, check.id, finalOutcome(verdict, level, options.strict), verdict.message),
        probes: verdict.probes ?? check.needs(p, clientIndex),
      });
    }
  }
  return findings;
}

export interface Tally {
  deviations: number;
  passed: number;
  failed: number;
  warnings: number;
  skipped: number;
  broken: number;
}

export function tally(findings: Finding[]): Tally {
  const t: Tally = { passed: 0, failed: 0, warnings: 0, skipped: 0, broken: 0, deviations: 0 };
  for (const f of findings) {
    if (f.outcome === 'pass') t.passed++;
    else if (f.outcome === 'fail') t.failed++;
    else if (f.outcome === 'warn') t.warnings++;
    else if (f.outcome === 'skipped') t.skipped++;
    else if (f.outcome === 'deviation') t.deviations++;
    else t.broken++;
  }
  return t;
}

/**
 * A declared deviation turns its check's failure into a known deviation; if the check passes, the
 * declaration is stale and that is a failure (the list must not outlive the behaviour). It never
 * touches broken or skipped outcomes, nor any other check.
 */
function declared(
  p: Provider,
  checkId: string,
  outcome: Outcome,
  message: string,
): Pick<Finding, 'outcome' | 'message' | 'deviation'> {
  const d = p.deviations.find((x) => x.checks.includes(checkId));
  if (!d) return { outcome, message };
  const deviation = { reason: d.reason, link: d.link };
  if (outcome === 'fail' || outcome === 'warn')
    return {
      outcome: 'deviation',
      message: `known deviation (${d.reason}; ${d.link}): ${message}`,
      deviation,
    };
  if (outcome === 'pass')
    return {
      outcome: 'fail',
      message: `stale deviation: the descriptor declares that ${checkId} fails (${d.reason}), but it passed: ${message}. Remove the declaration.`,
      deviation,
    };
  return { outcome, message, deviation };
}
