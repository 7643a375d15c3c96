import type { ClientDescriptor, Provider } from '../descriptor/types.js';
import type { Exchange } from '../evidence/types.js';
import type { ProbeId } from '../probes/ids.js';
import type { GuessabilityBound } from '../evidence/guessability.js';

export type Level = 'MUST' | 'SHOULD' | 'EXPECTATION';
export type Area =
  | 'grant'
  | 'client-auth'
  | 'discovery'
  | 'response'
  | 'jwt'
  | 'introspection'
  | 'resource'
  | 'expiry'
  | 'scope'
  | 'errors'
  | 'authorization-code'
  | 'refresh'
  | 'dpop';

export const AREA_TITLES: Record<Area, string> = {
  grant: 'Grant handling',
  'client-auth': 'Client authentication',
  discovery: 'Discovery',
  response: 'Response schema',
  jwt: 'JWT access token',
  introspection: 'Introspection',
  resource: 'Protected resource',
  expiry: 'Expiry',
  scope: 'Scope echo',
  errors: 'Error behaviour',
  'authorization-code': 'Authorization code',
  refresh: 'Refresh token',
  dpop: 'DPoP',
};

export interface SpecRef {
  label: string;
  url: string;
}

/** What a check concluded from the evidence. `skip` only for declared scope or a stated policy. */
export interface Verdict {
  outcome: 'pass' | 'fail' | 'skip' | 'broken';
  message: string;
  /** The probes this verdict rests on, when not just the ones the check `needs`. */
  probes?: ProbeId[];
}

export const pass = (message: string, probes?: ProbeId[]): Verdict => ({
  outcome: 'pass',
  message,
  ...(probes ? { probes } : {}),
});
export const fail = (message: string, probes?: ProbeId[]): Verdict => ({
  outcome: 'fail',
  message,
  ...(probes ? { probes } : {}),
});
export const skip = (message: string): Verdict => ({ outcome: 'skip', message });
export const broken = (message: string): Verdict => ({ outcome: 'broken', message });

/** Evidence of one provider: the recorded exchanges by probe id, plus what the observer noted. */
export interface Evidence {
  provider: string;
  exchanges: Record<string, Exchange>;
  /**
   * Probes deliberately not run: `policy` (the descriptor or a limit rules it out: reported skipped)
   * or `prerequisite` (something it needs failed: reported broken).
   */
  notRun: Record<string, { kind: 'policy' | 'prerequisite'; reason: string }>;
  requestsSent: number;
  /** authorization_code: the logins made for fresh codes (each counted in requestsSent too). */
  logins?: number;
  /** Facts the observer established from material it does not record (the tokens themselves). */
  facts?: {
    /** The first access token's JWS signature checked against the provider's JWK Set. */
    tokenSignature?: { verified: boolean; detail: string };
    /** The opaque access tokens of the run, as a sample for a guessability estimate (RFC 6749 §10.10). */
    tokenSample?: {
      count: number;
      distinct: number;
      minLength: number;
      alphabet: number;
      estimatedBits: number;
    };
    /** The same tokens' certain bound: length × log2(95), and whether they count up (src/evidence/guessability.ts). */
    tokenBound?: GuessabilityBound;
  };
  startedAt: string;
  finishedAt: string;
}

export type Answered = Exchange & { response: NonNullable<Exchange['response']> };

export interface JudgeInput {
  provider: Provider;
  /** All of the provider's evidence, for checks over the whole run (jti uniqueness, token sample). */
  evidence: Evidence;
  /** Exchanges this check declared in `needs`, all present and answered. */
  ex: (probe: ProbeId) => Answered;
  /** Those of `probes` that were sent and answered (for checks over many exchanges). */
  answered: (probes: ProbeId[]) => Answered[];
  /** Why none of `probes` could be judged (transport error, circuit breaker), if that is the case. */
  unanswered: (probes: ProbeId[]) => string | undefined;
  /** Why some of `probes` were not sent for the request budget, if that is the case. */
  budgetCut: (probes: ProbeId[]) => string | undefined;
  /** For per-client checks. */
  client?: ClientDescriptor;
  clientIndex?: number;
}

export interface CheckDef {
  /** Stable id, also the Allure history key. Never reworded. */
  id: string;
  title: string;
  area: Area;
  /** A function when the descriptor raises a SHOULD to an EXPECTATION (e.g. "no refresh token"). */
  level: Level | ((p: Provider) => Level);
  /** How the catalogue states a level that depends on the descriptor. */
  levelLabel?: string;
  /** Why this level, when the text only implies the server's duty. Shown in the report. */
  levelReason?: string;
  spec: SpecRef;
  /** The defect an endpoint must have for this check to fail (the catalogue lists it). */
  defect: string;
  /** One instance per client instead of one per provider. */
  perClient?: boolean;
  /** `true`, or why the check does not apply to this descriptor (reported as skipped). */
  applies?: (p: Provider) => true | string;
  /** The probes whose exchanges this check reads. */
  needs: (p: Provider, clientIndex: number) => ProbeId[];
  /**
   * Needed probes whose transport failure this check judges itself instead of reporting an outage:
   * an endpoint the server's own metadata advertises that cannot be reached is a verdict.
   */
  judgesTransport?: ProbeId[];
  /** Probes read when they were sent (through `evidence`), whose absence is no prerequisite. */
  alsoReads?: (p: Provider) => ProbeId[];
  judge: (input: JudgeInput) => Verdict;
}

export function defineCheck(def: CheckDef): CheckDef {
  return def;
}

export function rfc(n: number, section: string): SpecRef {
  const anchor = /^[A-Z]/.test(section) ? `appendix-${section}` : `section-${section}`;
  return {
    label: `RFC ${n} ${/^[A-Z]/.test(section) ? 'Appendix ' : '§'}${section}`,
    url: `https://www.rfc-editor.org/rfc/rfc${n}#${anchor}`,
  };
}

export function levelOf(check: CheckDef, p: Provider): Level {
  return typeof check.level === 'function' ? check.level(p) : check.level;
}
