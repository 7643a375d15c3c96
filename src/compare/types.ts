/**
 * The shapes of a comparison: what `npm run compare` and `--since` write to compare.json
 * (documented by schemas/compare.schema.json) and what the report's migration suite reads.
 */
import type { Exchange } from '../evidence/types.js';
import type { Outcome } from '../evaluate.js';

/**
 * How a difference matters to the person deciding a migration, most serious first. `noise` is
 * never a verdict on the candidate: it differs between the baseline and its secondary too.
 */
export const CLASSES = [
  'breaks-clients',
  'conformance-regression',
  'fixed',
  'neutral',
  'not-comparable',
  'noise',
] as const;
export type DifferenceClass = (typeof CLASSES)[number];

/** The classes `--fail-on` may name (noise never fails a comparison). */
export const FAIL_ON_CLASSES: DifferenceClass[] = [
  'breaks-clients',
  'conformance-regression',
  'fixed',
  'neutral',
  'not-comparable',
];
export const DEFAULT_FAIL_ON: DifferenceClass[] = ['breaks-clients', 'conformance-regression'];

export const CLASS_TITLES: Record<DifferenceClass, string> = {
  'breaks-clients': 'Breaks clients',
  'conformance-regression': 'Conformance regression',
  fixed: 'Fixed',
  neutral: 'Neutral',
  'not-comparable': 'Not comparable',
  noise: 'Noise',
};

/**
 * One behaviour a client's code can depend on, read from one recorded exchange. Never a token,
 * a jti, an absolute time or a date: those differ on every request and mean nothing.
 */
export const ASPECTS = [
  'answer',
  'status',
  'error',
  'mediaType',
  'cache',
  'challenge',
  'tokenType',
  'lifetime',
  'scopeEcho',
  'grantedScope',
  'refreshToken',
  'format',
  'jwtHeader',
  'jwtClaims',
  'jwtValues',
  'certificateBound',
  'members',
  'active',
] as const;
export type Aspect = (typeof ASPECTS)[number];

/** Where a difference was seen: the probe on each side (they differ when clients are paired by role). */
export interface Location {
  /** The pairing key: the probe id, or `token[<role>]` for the per-client token requests. */
  key: string;
  probe: string;
  candidateProbe: string;
  /** The client role the per-client probes were paired by. */
  role?: string;
  purpose: string;
}

export interface CheckSide {
  outcome: Outcome | 'absent';
  level?: string;
  message: string;
}

/** A check whose verdict differs between the two sides. */
export interface CheckChange {
  checkId: string;
  title: string;
  /** For per-client checks: the client role the instances were paired by. */
  role?: string;
  class: DifferenceClass;
  baseline: CheckSide;
  candidate: CheckSide;
}

export interface Difference {
  /** Stable within a comparison and across runs of the same pair: the Allure history key. */
  id: string;
  class: DifferenceClass;
  /** `behaviour`: fingerprints differ; `check`: only a verdict does. */
  kind: 'behaviour' | 'check';
  aspect?: Aspect;
  title: string;
  /** The behaviour on each side, as shown (for noise: the secondary's under `candidate`). */
  baseline: string;
  candidate: string;
  /** Why this class. */
  reason: string;
  where: Location[];
  /** Verdicts that changed with this behaviour (they may raise its class). */
  checks: CheckChange[];
  /** Noise only: how many baseline–candidate differences it took out. */
  suppressed?: number;
  /** The two redacted exchanges of the first location (noise: the secondary's as `candidate`). */
  example?: { baseline?: Exchange; candidate?: Exchange };
}

export interface Unchanged {
  key: string;
  probe: string;
  role?: string;
  purpose: string;
  /** The shared fingerprint, as shown. */
  behaviour: string;
}

export interface Side {
  /** How the report and the tables name this side. */
  label: string;
  provider: string;
  title: string;
  tokenEndpoint: string;
  /** `observed`: by this command; `recorded`: read from a run record. */
  source: 'observed' | 'recorded';
  file?: string;
  startedAt: string;
  harnessVersion?: string;
  /** A recorded side judged again with this harness's checks (src/replay.ts). */
  rejudged?: boolean;
}

export type Counts = Record<DifferenceClass | 'unchanged', number>;

export interface Comparison {
  title: string;
  baseline: Side;
  candidate: Side;
  secondary?: Side;
  counts: Counts;
  /** Breaks clients, conformance regression, fixed, neutral: most serious first. */
  differences: Difference[];
  /** Not applicable or not verified on one side: kept apart. */
  notComparable: Difference[];
  /** What differs between the baseline and the secondary too: shown apart, never counted. */
  noise: Difference[];
  unchanged: Unchanged[];
}

export interface CompareFile {
  version: 1;
  harnessVersion: string;
  generatedAt: string;
  /** The run record written beside it (`<out>/.run/run.json`): the report uses a comparison only with its run. */
  run: { startedAt: string };
  failOn: DifferenceClass[];
  /** A difference of a `failOn` class exists. */
  failed: boolean;
  comparisons: Comparison[];
  /** Providers found on one side only (--since, or two run records). */
  unmatched?: { baseline: string[]; candidate: string[] };
}
