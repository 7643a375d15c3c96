/**
 * What a difference means to a client: the rules that turn "aspect X went from a to b" into one of
 * the classes of types.ts, with the reason a reader is shown. Pure data in, data out.
 */
import { isDeepStrictEqual } from 'node:util';
import type { Outcome } from '../evaluate.js';
import { granted, showAspect, type Fingerprint } from './fingerprint.js';
import { ASPECTS, type Aspect, type CheckSide, type DifferenceClass } from './types.js';

/** One aspect that differs on one pair of exchanges. */
export interface AspectChange {
  aspect: Aspect;
  class: DifferenceClass;
  title: string;
  reason: string;
  baseline: string;
  candidate: string;
  /** Changes with equal keys are the same difference, wherever they are seen. */
  key: string;
}

/**
 * Requests no working client sends (a wrong secret, a spoilt assertion, a missing grant_type, no
 * token at the resource): a server that starts refusing one breaks nobody. Requests a real client
 * may well send (credentials in the query, a year-long assertion, a scope it may not have) are not here.
 */
const INVALID_REQUEST =
  /^(errors\.|grant\.(missing-grant-type|unknown-grant-type)$|client-auth\.(expired|wrong-aud|wrong-iss|wrong-sub|alg-none|unknown-key|no-jti|replay|mtls-without-certificate|over-max-lifetime)$|grant\.assertion\.(?!first-use)|resource\.(no-token|tampered|insufficient-scope|expired)$|introspection\.(no-client-auth|unknown-token|expired)$)/;

export function isInvalidRequestProbe(probe: string): boolean {
  return INVALID_REQUEST.test(probe);
}

/** No answer for a reason that says nothing about the server's behaviour: unreachable, cut off, refused to send. */
export function isOutage(answer: string): boolean {
  return /^(no answer|not sent)/.test(answer);
}

const ok = (fp: Fingerprint): boolean =>
  fp.status !== undefined && fp.status >= 200 && fp.status < 300;

/** Aspects compared only when both sides have them (JWT details when both tokens are JWTs, …). */
const BOTH_OR_NEITHER: Aspect[] = [
  'jwtHeader',
  'jwtClaims',
  'jwtValues',
  'certificateBound',
  'grantedScope',
  'lifetime',
  'scopeEcho',
  'refreshToken',
  'tokenType',
  'format',
  'members',
  'active',
  'cache',
];

function setDelta(b: string[], c: string[]): { removed: string[]; added: string[] } {
  return { removed: b.filter((x) => !c.includes(x)), added: c.filter((x) => !b.includes(x)) };
}

const showDelta = (d: { removed: string[]; added: string[] }): string =>
  [...d.removed.map((x) => `−${x}`), ...d.added.map((x) => `+${x}`)].join(' ');

/**
 * The aspect changes of one pair of exchanges. When one side succeeded and the other refused, that
 * is the one difference: everything else about the two answers follows from it. Likewise JWT
 * details are compared only when both tokens are JWTs (a format change says it all).
 */
export function compareFingerprints(probe: string, b: Fingerprint, c: Fingerprint): AspectChange[] {
  if (b.answer !== 'answered' || c.answer !== 'answered') {
    // Ruled out on both sides alike is no difference; unanswered on both is nothing verified.
    if (b.answer === c.answer && !isOutage(b.answer)) return [];
    if (b.answer === c.answer)
      return [
        change(
          'answer',
          'not-comparable',
          'Answered on neither side',
          'no answer to compare on either side (an outage, not the servers’ behaviour)',
          b.answer,
          c.answer,
        ),
      ];
    return [
      change(
        'answer',
        'not-comparable',
        'Answered on one side only',
        'one side has no answer to compare (not run, not sent or unreachable)',
        b.answer,
        c.answer,
      ),
    ];
  }
  if (ok(b) !== ok(c)) return [statusClassChange(probe, b, c)];
  const out: AspectChange[] = [];
  // Every aspect but 'answer', which the status class above has judged.
  for (const aspect of ASPECTS.filter((a): a is Exclude<Aspect, 'answer'> => a !== 'answer')) {
    const x = b[aspect];
    const y = c[aspect];
    if (BOTH_OR_NEITHER.includes(aspect) && (x === undefined || y === undefined)) continue;
    const found = aspectChange(aspect, b, c);
    if (found) out.push(found);
  }
  return out;
}

function change(
  aspect: Aspect,
  cls: DifferenceClass,
  title: string,
  reason: string,
  baseline: string,
  candidate: string,
  keyDetail?: string,
): AspectChange {
  return {
    aspect,
    class: cls,
    title,
    reason,
    baseline,
    candidate,
    key: `${aspect}|${keyDetail ?? `${baseline}→${candidate}`}`,
  };
}

function statusClassChange(probe: string, b: Fingerprint, c: Fingerprint): AspectChange {
  const shown = (fp: Fingerprint) =>
    ok(fp) ? `${fp.status} (accepted)` : showAspect('status', fp);
  const invalid = isInvalidRequestProbe(probe);
  if (ok(b)) {
    return invalid
      ? change(
          'status',
          'neutral',
          'A request no working client sends is now refused',
          'stricter: the baseline accepted a request it should refuse (see the checks)',
          shown(b),
          shown(c),
        )
      : change(
          'status',
          'breaks-clients',
          'A request that succeeded is refused',
          'a client making this request gets a refusal instead of its answer',
          shown(b),
          shown(c),
        );
  }
  return invalid
    ? change(
        'status',
        'neutral',
        'A request no working client sends is now accepted',
        'no client depends on it; whether it must be refused is the checks’ business',
        shown(b),
        shown(c),
      )
    : change(
        'status',
        'neutral',
        'A request that was refused now succeeds',
        'nothing a client relied on is taken away',
        shown(b),
        shown(c),
      );
}

function aspectChange(
  aspect: Exclude<Aspect, 'answer'>,
  b: Fingerprint,
  c: Fingerprint,
): AspectChange | undefined {
  const sb = showAspect(aspect, b);
  const sc = showAspect(aspect, c);
  switch (aspect) {
    case 'status':
      return b.status === c.status
        ? undefined
        : change(
            aspect,
            'breaks-clients',
            'Status changes',
            'clients branch on the status code',
            `${b.status}`,
            `${c.status}`,
          );
    case 'error':
      if (b.error === c.error) return undefined;
      if (b.error === null || b.error === undefined)
        return change(
          aspect,
          'neutral',
          'A refusal now names its error code',
          'a member added',
          sb,
          sc,
        );
      return change(
        aspect,
        'breaks-clients',
        c.error ? 'Error code changes' : 'Error code disappears',
        'clients branch on the error code',
        sb,
        sc,
      );
    case 'mediaType':
      if (b.mediaType === c.mediaType) return undefined;
      if (!b.mediaType)
        return change(aspect, 'neutral', 'Media type now declared', 'a header added', sb, sc);
      return change(
        aspect,
        'breaks-clients',
        'Media type changes',
        'clients parse the body by its media type',
        sb,
        sc,
      );
    case 'cache': {
      const d = setDelta(b.cache ?? [], c.cache ?? []);
      if (d.removed.length === 0 && d.added.length === 0) return undefined;
      return change(
        aspect,
        'neutral',
        'Caching headers change',
        'clients do not read them; the checks judge what caches may do',
        sb,
        sc,
        showDelta(d),
      );
    }
    case 'challenge':
      if (b.challenge === c.challenge) return undefined;
      if (!b.challenge)
        return change(
          aspect,
          'neutral',
          'A WWW-Authenticate challenge is added',
          'a header added',
          sb,
          sc,
        );
      return change(
        aspect,
        'breaks-clients',
        c.challenge
          ? 'WWW-Authenticate challenge changes'
          : 'WWW-Authenticate challenge disappears',
        'clients read the challenge (scheme, error) to decide what to do next',
        sb,
        sc,
      );
    case 'tokenType':
      return b.tokenType === c.tokenType
        ? undefined
        : change(
            aspect,
            'breaks-clients',
            'token_type changes',
            'clients use token_type to present the token',
            sb,
            sc,
          );
    case 'lifetime': {
      const x = b.lifetime!;
      const y = c.lifetime!;
      const jwtCompared = x.jwt !== null && y.jwt !== null;
      if (x.expiresIn === y.expiresIn && (!jwtCompared || x.jwt === y.jwt)) return undefined;
      const shorter = (p: number | null, q: number | null) => p !== null && (q === null || q < p);
      const longer = (p: number | null, q: number | null) => q !== null && (p === null || q > p);
      const shown = (l: typeof x) =>
        `${l.expiresIn === null ? 'no expires_in' : `expires_in ${l.expiresIn}`}${jwtCompared ? `, exp − iat ${l.jwt}` : ''}`;
      if (x.expiresIn !== null && y.expiresIn === null)
        return change(
          aspect,
          'breaks-clients',
          'expires_in disappears',
          'clients schedule renewal by expires_in',
          shown(x),
          shown(y),
        );
      if (shorter(x.expiresIn, y.expiresIn) || (jwtCompared && shorter(x.jwt, y.jwt)))
        return change(
          aspect,
          'breaks-clients',
          'Token lifetime shrinks',
          'a client caching the token for the old lifetime presents an expired one',
          shown(x),
          shown(y),
        );
      if (longer(x.expiresIn, y.expiresIn) || (jwtCompared && longer(x.jwt, y.jwt)))
        return change(
          aspect,
          'neutral',
          'Token lifetime grows',
          'a longer lifetime takes nothing away',
          shown(x),
          shown(y),
        );
      return change(
        aspect,
        'breaks-clients',
        'Token lifetime changes',
        'the lifetimes disagree',
        shown(x),
        shown(y),
      );
    }
    case 'scopeEcho':
      if (b.scopeEcho === c.scopeEcho) return undefined;
      return b.scopeEcho
        ? change(
            aspect,
            'breaks-clients',
            'Scope no longer echoed',
            'a member disappears: clients reading scope from the response find none',
            sb,
            sc,
          )
        : change(aspect, 'neutral', 'Scope now echoed', 'a member added', sb, sc);
    case 'grantedScope': {
      const x = granted(b.grantedScope);
      const y = granted(c.grantedScope);
      if (x === null || y === null) return undefined;
      // Two descriptors may ask for other scopes: then compare how each answered its own request.
      const rb = b.grantedScope?.requested;
      const rc = c.grantedScope?.requested;
      if (rb && rc && !isDeepStrictEqual(rb, rc)) {
        const relation = (g: string[], r: string[]) =>
          isDeepStrictEqual(g, r)
            ? 'as requested'
            : g.every((s) => r.includes(s))
              ? 'narrowed'
              : r.every((s) => g.includes(s))
                ? 'broadened'
                : 'other than requested';
        const [pb, pc] = [relation(x, rb), relation(y, rc)];
        if (pb === pc) return undefined;
        return change(
          aspect,
          pc === 'narrowed' || pc === 'other than requested' ? 'breaks-clients' : 'neutral',
          'Granted scope changes',
          'compared with each side’s own request',
          `${pb} (${sb})`,
          `${pc} (${sc})`,
          `${pb}→${pc}`,
        );
      }
      const d = setDelta(x, y);
      if (d.removed.length === 0 && d.added.length === 0) return undefined;
      if (d.removed.length === 0)
        return change(
          aspect,
          'neutral',
          'Granted scope grows',
          'nothing granted before is withheld (the checks judge a broader grant)',
          sb,
          sc,
        );
      return change(
        aspect,
        'breaks-clients',
        d.added.length === 0 ? 'Granted scope shrinks' : 'Granted scope changes',
        `the token no longer carries ${d.removed.join(' ')}`,
        sb,
        sc,
      );
    }
    case 'refreshToken':
      if (b.refreshToken === c.refreshToken) return undefined;
      return c.refreshToken
        ? change(aspect, 'neutral', 'Refresh token now issued', 'a member added', sb, sc)
        : change(
            aspect,
            'breaks-clients',
            'Refresh token no longer issued',
            'a member disappears: clients that refresh must ask again',
            sb,
            sc,
          );
    case 'format':
      return b.format === c.format
        ? undefined
        : change(
            aspect,
            'breaks-clients',
            'Token format changes',
            'resource servers and clients that inspect or store tokens see another format',
            sb,
            sc,
          );
    case 'jwtHeader':
      return isDeepStrictEqual(b.jwtHeader, c.jwtHeader)
        ? undefined
        : change(
            aspect,
            'breaks-clients',
            'JWT header changes (alg, typ)',
            'validators pin alg and typ',
            sb,
            sc,
          );
    case 'jwtClaims':
    case 'members': {
      const d = setDelta(b[aspect] ?? [], c[aspect] ?? []);
      if (d.removed.length === 0 && d.added.length === 0) return undefined;
      const what = aspect === 'members' ? 'Members' : 'JWT claims';
      return d.removed.length > 0
        ? change(
            aspect,
            'breaks-clients',
            `${what} disappear`,
            `${d.removed.join(', ')} no longer sent`,
            sb,
            sc,
            showDelta(d),
          )
        : change(
            aspect,
            'neutral',
            `${what} added`,
            `${d.added.join(', ')} added, nothing taken away`,
            sb,
            sc,
            showDelta(d),
          );
    }
    case 'jwtValues': {
      const x = b.jwtValues ?? {};
      const y = c.jwtValues ?? {};
      const names = [...new Set([...Object.keys(x), ...Object.keys(y)])];
      const changed = names.filter((n) => (x[n] ?? null) !== (y[n] ?? null));
      if (changed.length === 0) return undefined;
      const shown = (v: Record<string, string | null>) =>
        changed.map((n) => `${n}=${v[n] ?? '(absent)'}`).join(', ');
      const onlyAdded = changed.every((n) => (x[n] ?? null) === null);
      return onlyAdded
        ? change(
            aspect,
            'neutral',
            'JWT claim values added',
            'claims added, nothing taken away',
            shown(x),
            shown(y),
          )
        : change(
            aspect,
            'breaks-clients',
            `JWT claim ${changed.join(', ')} changes`,
            'validators compare iss, aud, scope and client_id',
            shown(x),
            shown(y),
          );
    }
    case 'certificateBound':
      return b.certificateBound === c.certificateBound
        ? undefined
        : change(
            aspect,
            'breaks-clients',
            'Certificate binding changes',
            'a bound token is good only with its certificate',
            sb,
            sc,
          );
    case 'active':
      return b.active === c.active
        ? undefined
        : change(
            aspect,
            'breaks-clients',
            'Introspection answer changes',
            'resource servers decide by active',
            sb,
            sc,
          );
  }
}

/** A verdict as met (pass), not met (fail, warn, known deviation) or not judged (skipped, broken, absent). */
function standing(o: Outcome | 'absent'): 'met' | 'not met' | 'not judged' {
  if (o === 'pass') return 'met';
  if (o === 'fail' || o === 'warn' || o === 'deviation') return 'not met';
  return 'not judged';
}

/** The class of a verdict change, or undefined when the two verdicts say the same thing. */
export function classifyCheck(b: CheckSide, c: CheckSide): DifferenceClass | undefined {
  const [x, y] = [standing(b.outcome), standing(c.outcome)];
  if (x === y) return undefined;
  if (x === 'not judged' || y === 'not judged') return 'not-comparable';
  return x === 'met' ? 'conformance-regression' : 'fixed';
}

/**
 * Which behaviours each check reads, most specific first: a verdict change is shown with the
 * behaviour difference it follows from (same probe, first listed aspect that differs there),
 * instead of as a second item. Every check id must match a rule (test/compare/classify.test.ts).
 */
export const CHECK_ASPECTS: [RegExp, Aspect[]][] = [
  [/^grant\.no-refresh-token$/, ['refreshToken']],
  [/^grant\.token-accepted-at-resource$/, ['format', 'status', 'challenge']],
  [/^client-auth\.certificate-bound-token$/, ['format', 'certificateBound']],
  [/^grant\.resource-audience$/, ['format', 'jwtClaims', 'jwtValues', 'active']],
  [/^(authorization-code\.exchanged|refresh\.works)$/, ['status', 'error', 'tokenType', 'members']],
  [/^refresh\.expires-in$/, ['lifetime']],
  [/^refresh\.(narrower|broader)-scope-/, ['status', 'error', 'scopeEcho', 'grantedScope']],
  [
    /^(authorization-code\.replay-revokes-tokens|refresh\.reuse-revokes-family)$/,
    ['status', 'error', 'active'],
  ],
  [/^(authorization-code|refresh)\./, ['status', 'error']],
  [/^dpop\.token-type$/, ['tokenType']],
  [/^dpop\.cnf-jkt$/, ['format', 'jwtClaims', 'jwtValues', 'active']],
  [/^dpop\./, ['status', 'error', 'challenge', 'tokenType', 'members']],
  [
    /^(grant|client-auth|errors)\./,
    ['status', 'error', 'challenge', 'mediaType', 'cache', 'members'],
  ],
  [/^discovery\./, ['answer', 'status', 'mediaType', 'members']],
  [/^response\.(status-200)$/, ['status']],
  [/^response\.content-type-json$/, ['mediaType']],
  [/^response\.(schema|unique-members)$/, ['members', 'tokenType', 'format']],
  [/^response\.(access-token-syntax|token-format|token-entropy|token-entropy-bound)$/, ['format']],
  [/^response\.token-type$/, ['tokenType']],
  [/^response\.expires-in-/, ['lifetime']],
  [/^response\.scope-syntax$/, ['scopeEcho', 'grantedScope']],
  [/^response\.(cache-control|pragma)$/, ['cache']],
  [/^jwt\./, ['format', 'jwtHeader', 'jwtClaims', 'jwtValues']],
  [
    /^introspection\.agrees-with-token-response$/,
    ['format', 'lifetime', 'grantedScope', 'jwtValues', 'active'],
  ],
  [/^introspection\./, ['format', 'active', 'status', 'error']],
  [/^resource\./, ['format', 'status', 'challenge', 'error']],
  [/^expiry\.expires-in-declared$/, ['lifetime']],
  [/^expiry\.jwt-/, ['format', 'lifetime']],
  [/^expiry\./, ['lifetime', 'status', 'challenge']],
  [/^scope\.jwt-claim-agrees$/, ['format', 'jwtValues', 'grantedScope', 'scopeEcho']],
  [/^scope\./, ['scopeEcho', 'grantedScope', 'status', 'error']],
];

export function aspectsOfCheck(checkId: string): Aspect[] | undefined {
  return CHECK_ASPECTS.find(([re]) => re.test(checkId))?.[1];
}

export const CLASS_RANK: Record<DifferenceClass, number> = {
  'breaks-clients': 0,
  'conformance-regression': 1,
  fixed: 2,
  neutral: 3,
  'not-comparable': 4,
  noise: 5,
};

/** The more serious of two classes; a verdict that became not comparable never raises one. */
export function worse(a: DifferenceClass, b: DifferenceClass): DifferenceClass {
  if (b === 'not-comparable' || b === 'noise') return a;
  return CLASS_RANK[b] < CLASS_RANK[a] ? b : a;
}
