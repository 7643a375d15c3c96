import { PROBES } from '../probes/ids.js';
import { describeResponse, jsonObject, show } from './helpers.js';
import { withSuccess } from './response.js';
import { broken, defineCheck, fail, pass, rfc, skip } from './types.js';
import { isJwtFormat } from '../descriptor/types.js';
import type { RecordedResponse } from '../evidence/types.js';

const needsToken = () => [PROBES.token(0)];

export const expiresInDeclared = defineCheck({
  id: 'expiry.expires-in-declared',
  title: 'expires_in is the declared lifetime',
  area: 'expiry',
  level: 'EXPECTATION',
  spec: rfc(6749, '5.1'),
  defect: 'the endpoint issues tokens with a lifetime other than the declared one',
  applies: (p) =>
    p.expect.expiresIn !== undefined
      ? true
      : 'the descriptor declares no lifetime (expect.expiresIn)',
  needs: needsToken,
  judge: withSuccess((res, { provider }) => {
    const declared = provider.expect.expiresIn ?? 0;
    const tol = provider.expect.expiresInTolerance;
    const v = jsonObject(res)?.['expires_in'];
    if (typeof v !== 'number')
      return fail(`expires_in is ${show(v)}; the descriptor declares ${declared}`);
    // One second below is always allowed: a server that reports the remaining lifetime rounds down.
    return v >= declared - tol - 1 && v <= declared + tol
      ? pass(`expires_in ${v} (declared ${declared}${tol ? ` ± ${tol}` : ''})`)
      : fail(`expires_in is ${v}; the descriptor declares ${declared}${tol ? ` ± ${tol}` : ''}`);
  }),
});

function jwtOf(res: RecordedResponse) {
  return res.accessToken?.jwt;
}

export const jwtLifetimeAgrees = defineCheck({
  id: 'expiry.jwt-lifetime',
  title: 'The JWT access token lifetime (exp − iat) agrees with expires_in',
  area: 'expiry',
  level: 'MUST',
  levelReason:
    'RFC 6749 §5.1 defines expires_in as the lifetime of the access token; a JWT whose exp − iat differs contradicts the response directly.',
  spec: rfc(9068, '2.2'),
  defect: 'the JWT says one lifetime and expires_in another',
  applies: (p) =>
    isJwtFormat(p.expect.tokenFormat) ? true : 'the descriptor declares opaque access tokens',
  needs: needsToken,
  judge: (input) =>
    withSuccess((res, { provider }) => {
      const jwt = jwtOf(res);
      if (!jwt) return broken('prerequisite failed: the access token is not a JWT');
      const { exp, iat } = jwt.payload;
      const expiresIn = jsonObject(res)?.['expires_in'];
      // A plain JWT (RFC 7519: iat is OPTIONAL) without iat: exp is compared with the response time.
      if (
        provider.expect.tokenFormat === 'jwt-plain' &&
        iat === undefined &&
        typeof exp === 'number'
      ) {
        if (typeof expiresIn !== 'number')
          return pass(`no iat and no numeric expires_in: exp ${exp} has nothing to agree with`);
        const ex = input.ex(PROBES.token(0));
        const received = (Date.parse(ex.startedAt) + ex.durationMs) / 1000;
        const left = Math.round(exp - received);
        const tol =
          Math.max(provider.expect.expiresInTolerance, 1) + provider.limits.clockSkewSeconds;
        return Math.abs(left - expiresIn) <= tol
          ? pass(`no iat; exp is ${left} s after the response, expires_in ${expiresIn}`)
          : fail(`no iat; exp is ${left} s after the response but expires_in is ${expiresIn} s`);
      }
      if (typeof exp !== 'number' || typeof iat !== 'number')
        return fail(`the JWT has exp ${show(exp)} and iat ${show(iat)}; both must be NumericDate`);
      if (expiresIn === undefined)
        return pass(
          `expires_in is absent (see response.expires-in-present): nothing to compare with exp − iat = ${exp - iat}`,
        );
      if (typeof expiresIn !== 'number')
        return fail(
          `expires_in is ${show(expiresIn)}; cannot compare with exp − iat = ${exp - iat}`,
        );
      const tol = Math.max(provider.expect.expiresInTolerance, 1);
      return Math.abs(exp - iat - expiresIn) <= tol
        ? pass(`exp − iat = ${exp - iat}, expires_in ${expiresIn}`)
        : fail(`exp − iat = ${exp - iat} s but expires_in is ${expiresIn} s`);
    })(input),
});

export const jwtIssuedNow = defineCheck({
  id: 'expiry.jwt-iat-current',
  title: "The JWT's iat is within the clock-skew tolerance of the response time",
  area: 'expiry',
  level: 'SHOULD',
  levelReason:
    'RFC 9068 §2.2 defines iat as the issue time but sets no accuracy; a skewed server clock is an operational fault, reported as a warning.',
  spec: rfc(9068, '2.2'),
  defect: "the JWT's iat is far from the time it was issued (a skewed clock)",
  applies: (p) =>
    isJwtFormat(p.expect.tokenFormat) ? true : 'the descriptor declares opaque access tokens',
  needs: needsToken,
  judge: (input) =>
    withSuccess((res, { provider }) => {
      const jwt = jwtOf(res);
      if (!jwt) return broken('prerequisite failed: the access token is not a JWT');
      const iat = jwt.payload['iat'];
      // iat is OPTIONAL in a plain JWT (RFC 7519 §4.1.6), REQUIRED only by RFC 9068 §2.2.
      if (iat === undefined && provider.expect.tokenFormat === 'jwt-plain')
        return skip('the plain JWT carries no iat (optional outside RFC 9068)');
      if (typeof iat !== 'number') return fail(`iat is ${show(iat)}, not a NumericDate`);
      const ex = input.ex(PROBES.token(0));
      const received = (Date.parse(ex.startedAt) + ex.durationMs) / 1000;
      const skew = Math.round(iat - received);
      return Math.abs(skew) <= provider.limits.clockSkewSeconds
        ? pass(`iat is ${skew} s from the response time`)
        : fail(
            `iat is ${skew} s from the response time; the tolerance is ${provider.limits.clockSkewSeconds} s (limits.clockSkewSeconds)`,
          );
    })(input),
});

export const refusedAfterExpiry = defineCheck({
  id: 'expiry.refused-after-expiry',
  title: 'The access token is refused at the resource after its lifetime',
  area: 'expiry',
  level: 'EXPECTATION',
  spec: rfc(6750, '3.1'),
  defect: 'the resource still accepts the token after expires_in has passed',
  applies: (p) =>
    p.resource ? true : 'the descriptor declares no protected resource (resource.url)',
  needs: () => [PROBES.resourceExpired],
  judge: ({ ex }) => {
    const res = ex(PROBES.resourceExpired).response;
    return res.status >= 200 && res.status < 300
      ? fail(`the resource answered ${res.status} to an expired token`)
      : pass(`refused with ${res.status}`);
  },
});

export interface Challenge {
  scheme: string;
  params: Record<string, string>;
  /** The token68 form of credentials (`Negotiate YII=`), when the challenge has one instead of parameters. */
  token68?: string;
}

/** Splits a header value at commas outside quoted strings. */
function splitOutsideQuotes(value: string): string[] {
  const parts: string[] = [];
  let cur = '';
  let quoted = false;
  for (let i = 0; i < value.length; i++) {
    const ch = value[i];
    if (ch === '\\' && quoted) {
      cur += ch + (value[i + 1] ?? '');
      i++;
    } else if (ch === '"') {
      quoted = !quoted;
      cur += ch;
    } else if (ch === ',' && !quoted) {
      parts.push(cur.trim());
      cur = '';
    } else cur += ch;
  }
  parts.push(cur.trim());
  return parts.filter(Boolean);
}

const TOKEN = "[!#$%&'*+.^_`|~\\w-]+";
/** `name=value` or `name="quoted \\"value\\""` (RFC 9110 auth-param). */
// The unquoted value is read leniently (servers send `realm=https://x`), but it is never empty nor
// starts with "=": `abc==` is token68, not a parameter named abc (RFC 9110 §11.2).
const AUTH_PARAM = new RegExp(
  `^(${TOKEN})\\s*=\\s*(?:"((?:[^"\\\\]|\\\\.)*)"|([^\\s,=][^\\s,]*))$`,
);
/** token68 = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"=" (RFC 9110 §11.2). */
const TOKEN68 = /^[A-Za-z0-9\-._~+/]+=*$/;

/**
 * All challenges of WWW-Authenticate field values (RFC 9110 §11.6.1: one field may carry several,
 * `Newauth realm="apps", type=1, Basic realm="x"`): an item that is not `name=value` starts a challenge.
 */
export function parseChallenges(values: string[]): Challenge[] {
  const out: Challenge[] = [];
  for (const item of values.flatMap(splitOutsideQuotes)) {
    const param = AUTH_PARAM.exec(item);
    const current = out[out.length - 1];
    if (param?.[1] && current) {
      current.params[param[1].toLowerCase()] = (param[2] ?? param[3] ?? '').replace(/\\(.)/g, '$1');
      continue;
    }
    const start = new RegExp(`^(${TOKEN})(?:\\s+(.*))?$`).exec(item);
    if (!start?.[1]) continue;
    const challenge: Challenge = { scheme: start[1].toLowerCase(), params: {} };
    out.push(challenge);
    const rest = start[2];
    const first = rest ? AUTH_PARAM.exec(rest) : null;
    if (first?.[1])
      challenge.params[first[1].toLowerCase()] = (first[2] ?? first[3] ?? '').replace(
        /\\(.)/g,
        '$1',
      );
    else if (rest && TOKEN68.test(rest)) challenge.token68 = rest;
  }
  return out;
}

export const expiredTokenChallenge = defineCheck({
  id: 'expiry.expired-token-challenge',
  title: 'An expired token is answered 401 with WWW-Authenticate: Bearer error="invalid_token"',
  area: 'expiry',
  level: 'SHOULD',
  levelReason:
    'RFC 6750 §3.1: for invalid_token the resource SHOULD respond 401; §3 requires WWW-Authenticate, which this check also reads.',
  spec: rfc(6750, '3.1'),
  defect:
    'the resource refuses an expired token without a 401 Bearer challenge naming invalid_token',
  applies: (p) =>
    p.resource ? true : 'the descriptor declares no protected resource (resource.url)',
  needs: () => [PROBES.resourceExpired],
  judge: ({ ex }) => {
    const res = ex(PROBES.resourceExpired).response;
    if (res.status >= 200 && res.status < 300)
      return broken(
        'prerequisite failed: the expired token was accepted (see expiry.refused-after-expiry)',
      );
    const values = res.headers['www-authenticate'] ?? [];
    const bearer = parseChallenges(values).find((c) => c.scheme === 'bearer');
    if (res.status !== 401)
      return fail(`the expired token was answered ${describeResponse(res)}, not 401`);
    if (!bearer)
      return fail(
        `no Bearer challenge in WWW-Authenticate (${show(values.join(', ') || undefined)})`,
      );
    return bearer.params['error'] === 'invalid_token'
      ? pass('401 with Bearer error="invalid_token"')
      : fail(`the Bearer challenge has error=${show(bearer.params['error'])}, not "invalid_token"`);
  },
});

export const expiryChecks = [
  expiresInDeclared,
  jwtLifetimeAgrees,
  jwtIssuedNow,
  refusedAfterExpiry,
  expiredTokenChallenge,
];
