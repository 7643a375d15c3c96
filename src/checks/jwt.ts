import { isJwtFormat, type Provider } from '../descriptor/types.js';
import { PROBES } from '../probes/ids.js';
import { show } from './helpers.js';
import { withSuccess } from './response.js';
import {
  broken,
  defineCheck,
  fail,
  pass,
  rfc,
  skip,
  type JudgeInput,
  type Verdict,
} from './types.js';

/** RFC 9068 checks: for JWT access tokens that follow that profile (tokenFormat: jwt). */
const applies = (p: Provider) =>
  p.expect.tokenFormat === 'jwt'
    ? true
    : p.expect.tokenFormat === 'jwt-plain'
      ? PLAIN_JWT
      : 'the descriptor declares opaque access tokens';
/** Checks of any JWT access token (tokenFormat jwt or jwt-plain): signature, alg none, jti, shape. */
const appliesToAnyJwt = (p: Provider) =>
  isJwtFormat(p.expect.tokenFormat) ? true : 'the descriptor declares opaque access tokens';
/** Why the RFC 9068 header and claim checks do not apply to a plain JWT. */
export const PLAIN_JWT =
  'the descriptor declares JWT access tokens not profiled by RFC 9068 (expect.tokenFormat: jwt-plain): its header and claim rules do not apply';
const needsToken = () => [PROBES.token(0)];

/** Checks of the first access token as a JWT: broken (not failed) when it is no JWT at all. */
function withJwt(
  judge: (
    jwt: { header: Record<string, unknown>; payload: Record<string, unknown> },
    input: JudgeInput,
  ) => Verdict,
) {
  return withSuccess((res, input) => {
    const jwt = res.accessToken?.jwt;
    if (!jwt)
      return broken(
        'prerequisite failed: the access token is not a JWT (see response.token-format)',
      );
    return judge(jwt, input);
  });
}

export const typHeader = defineCheck({
  id: 'jwt.typ',
  title: 'The JWT access token header has typ at+jwt',
  area: 'jwt',
  level: 'MUST',
  spec: rfc(9068, '2.1'),
  defect: 'the JWT header omits typ or says JWT',
  applies,
  needs: needsToken,
  judge: withJwt(({ header }) => {
    const typ = header['typ'];
    return typeof typ === 'string' && /^(application\/)?at\+jwt$/i.test(typ)
      ? pass(`typ ${show(typ)}`)
      : fail(`typ is ${show(typ)}, not "at+jwt"`);
  }),
});

export const algNotNone = defineCheck({
  id: 'jwt.alg-not-none',
  title: 'The JWT access token is signed (alg is not none)',
  area: 'jwt',
  level: 'MUST',
  spec: rfc(9068, '2.1'),
  defect: 'the access token is an unsecured JWT (alg none)',
  applies: appliesToAnyJwt,
  needs: needsToken,
  judge: withJwt(({ header }) =>
    header['alg'] === 'none' || header['alg'] === undefined
      ? fail(`alg is ${show(header['alg'])}`)
      : pass(`alg ${show(header['alg'])}`),
  ),
});

export const algAllowed = defineCheck({
  id: 'jwt.alg-allowed',
  title: 'The JWT access token is signed with an allowed asymmetric algorithm',
  area: 'jwt',
  level: 'EXPECTATION',
  levelReason:
    "RFC 9068 §2.1 recommends RS256 and forbids none; the allow-list (expect.jwtAlgs) is the owners' promise. An HMAC would let every resource server forge tokens.",
  spec: rfc(9068, '2.1'),
  defect: 'the access token is signed with HS256 or another algorithm outside expect.jwtAlgs',
  applies,
  needs: needsToken,
  judge: withJwt(({ header }, { provider }) => {
    const alg = header['alg'];
    return typeof alg === 'string' && provider.expect.jwtAlgs.includes(alg)
      ? pass(`alg ${alg}`)
      : fail(`alg is ${show(alg)}; allowed: ${provider.expect.jwtAlgs.join(', ')}`);
  }),
});

export const signatureVerifies = defineCheck({
  id: 'jwt.signature',
  title: "The JWT access token's signature verifies against the published keys",
  area: 'jwt',
  level: 'MUST',
  spec: rfc(9068, '4'),
  defect: 'the token is signed by a key that is not in the JWK Set (or the signature is corrupt)',
  applies: (p) =>
    appliesToAnyJwt(p) === true
      ? p.discovery || p.jwksUri
        ? true
        : 'no JWK Set is declared (discovery or jwksUri)'
      : appliesToAnyJwt(p),
  needs: () => [PROBES.token(0), PROBES.jwks],
  judge: withJwt((_jwt, { evidence }) => {
    const sig = evidence.facts?.tokenSignature;
    if (!sig) return broken('harness error: the signature was not checked');
    return sig.verified ? pass(sig.detail) : fail(`the signature does not verify: ${sig.detail}`);
  }),
});

const REQUIRED_CLAIMS = ['iss', 'exp', 'aud', 'sub', 'client_id', 'iat', 'jti'];

export const requiredClaims = defineCheck({
  id: 'jwt.required-claims',
  title: 'The JWT access token carries iss, exp, aud, sub, client_id, iat and jti',
  area: 'jwt',
  level: 'MUST',
  spec: rfc(9068, '2.2'),
  defect: 'a REQUIRED claim is missing (e.g. no jti or no client_id)',
  applies,
  needs: needsToken,
  judge: withJwt(({ payload }) => {
    const missing = REQUIRED_CLAIMS.filter((c) => payload[c] === undefined);
    return missing.length === 0
      ? pass('all REQUIRED claims present')
      : fail(`missing claims: ${missing.join(', ')}`);
  }),
});

export const issuerClaim = defineCheck({
  id: 'jwt.iss',
  title: "The JWT access token's iss is the issuer",
  area: 'jwt',
  level: 'MUST',
  spec: rfc(9068, '2.2'),
  defect: 'iss is another issuer',
  applies: (p) =>
    applies(p) === true ? (p.issuer ? true : 'the descriptor declares no issuer') : applies(p),
  needs: needsToken,
  judge: withJwt(({ payload }, { provider }) =>
    payload['iss'] === provider.issuer
      ? pass(`iss ${show(payload['iss'])}`)
      : fail(`iss is ${show(payload['iss'])}; the issuer is ${show(provider.issuer)}`),
  ),
});

export const audienceClaim = defineCheck({
  id: 'jwt.aud',
  title: "The JWT access token's aud names the declared resource",
  area: 'jwt',
  level: 'EXPECTATION',
  spec: rfc(9068, '2.2'),
  defect: 'aud names another resource',
  applies: (p) =>
    applies(p) === true
      ? p.expect.audience
        ? true
        : 'the descriptor declares no audience (expect.audience or resource.url)'
      : applies(p),
  needs: needsToken,
  judge: withJwt(({ payload }, { provider }) => {
    const aud = payload['aud'];
    const list = Array.isArray(aud) ? aud : [aud];
    return list.includes(provider.expect.audience)
      ? pass(`aud ${show(aud)}`)
      : fail(`aud is ${show(aud)}; expected it to include ${show(provider.expect.audience)}`);
  }),
});

export const clientIdClaim = defineCheck({
  id: 'jwt.client-id',
  title: "The JWT access token's client_id is the requesting client",
  area: 'jwt',
  level: 'MUST',
  spec: rfc(9068, '2.2'),
  defect: 'client_id names another client',
  applies,
  needs: needsToken,
  judge: withJwt(({ payload }, { provider }) => {
    const id = provider.clients[0]?.id;
    return payload['client_id'] === id
      ? pass(`client_id ${show(id)}`)
      : fail(`client_id is ${show(payload['client_id'])}; the token was requested by ${show(id)}`);
  }),
});

export const jtiUnique = defineCheck({
  id: 'jwt.jti-unique',
  title: 'Every distinct JWT access token of the run has its own jti',
  area: 'jwt',
  level: 'MUST',
  spec: rfc(7519, '4.1.7'),
  defect: 'two tokens share a jti (a constant or counter-based jti)',
  applies: appliesToAnyJwt,
  needs: needsToken,
  judge: (input) =>
    withJwt((): Verdict => {
      // A token is its header and claims: a server that hands out the same still-valid token twice
      // (a token cache) issued one token, not two sharing a jti.
      const tokens = new Map<string, string>();
      for (const e of Object.values(input.evidence.exchanges)) {
        const jwt = e.response?.accessToken?.jwt;
        const jti = jwt?.payload['jti'];
        if (jwt && typeof jti === 'string')
          tokens.set(JSON.stringify([jwt.header, jwt.payload]), jti);
      }
      const jtis = [...tokens.values()];
      const distinct = new Set(jtis).size;
      if (jtis.length < 2)
        return pass(`only ${jtis.length} distinct JWT with a jti was issued; nothing to compare`);
      return distinct === jtis.length
        ? pass(`${jtis.length} distinct tokens, ${distinct} distinct jti values`)
        : fail(`${jtis.length} distinct tokens but only ${distinct} distinct jti values`);
    })(input),
});

const NUMERIC = ['exp', 'iat', 'nbf'];
const STRINGS = ['iss', 'sub', 'jti'];

/** RFC 7519 §4.1: the registered claims a JWT carries have their registered types, and exp is after iat and nbf. */
export const claimsWellFormed = defineCheck({
  id: 'jwt.claims-well-formed',
  title: "The JWT access token's registered claims are well formed (RFC 7519 §4.1)",
  area: 'jwt',
  level: 'MUST',
  levelReason:
    'RFC 7519 §4.1 defines the types of the registered claims (NumericDate, StringOrURI, aud a string or array of strings); a token whose exp is not a number cannot be checked for expiry by anyone. Checked for any JWT access token, RFC 9068-profiled or plain.',
  spec: rfc(7519, '4.1'),
  defect:
    'a registered claim has the wrong type (exp as a string, aud as a number) or exp is not after iat',
  applies: appliesToAnyJwt,
  needs: needsToken,
  judge: withJwt(({ payload }) => {
    const problems: string[] = [];
    for (const c of NUMERIC)
      if (
        payload[c] !== undefined &&
        (typeof payload[c] !== 'number' || !Number.isFinite(payload[c]))
      )
        problems.push(`${c} is ${show(payload[c])}, not a NumericDate`);
    for (const c of STRINGS)
      if (payload[c] !== undefined && typeof payload[c] !== 'string')
        problems.push(`${c} is ${show(payload[c])}, not a string`);
    const aud = payload['aud'];
    if (
      aud !== undefined &&
      typeof aud !== 'string' &&
      !(Array.isArray(aud) && aud.every((a) => typeof a === 'string'))
    )
      problems.push(`aud is ${show(aud)}, not a string or an array of strings`);
    const { exp, iat, nbf } = payload;
    if (exp === undefined) problems.push('exp is missing: the token never says when it expires');
    if (typeof exp === 'number' && typeof iat === 'number' && exp <= iat)
      problems.push(`exp ${exp} is not after iat ${iat}`);
    if (typeof exp === 'number' && typeof nbf === 'number' && exp <= nbf)
      problems.push(`exp ${exp} is not after nbf ${nbf}`);
    return problems.length === 0
      ? pass(
          `registered claims well formed (${Object.keys(payload)
            .filter((c) => [...NUMERIC, ...STRINGS, 'aud'].includes(c))
            .join(', ')})`,
        )
      : fail(problems.join('; '));
  }),
});

export const jwtChecks = [
  typHeader,
  algNotNone,
  algAllowed,
  signatureVerifies,
  requiredClaims,
  issuerClaim,
  audienceClaim,
  clientIdClaim,
  jtiUnique,
  claimsWellFormed,
];

/** RFC 6749 §10.10, for opaque tokens: an estimate, so a warning rather than a failure. */
export const tokenGuessability = defineCheck({
  id: 'response.token-entropy',
  title: 'Opaque access tokens are unique and long enough not to be guessed (≥ 128 bits estimated)',
  area: 'response',
  level: 'SHOULD',
  levelReason:
    'RFC 6749 §10.10 requires a guessing probability ≤ 2^-128 (MUST), but randomness cannot be measured from a few tokens: the estimate (length × log2 of the alphabet, positions that never vary excluded) is a heuristic, reported as a warning.',
  spec: rfc(6749, '10.10'),
  defect: 'short, repeated or counter-like opaque tokens',
  applies: (p) =>
    !isJwtFormat(p.expect.tokenFormat) ? true : 'JWT access tokens: see jwt.jti-unique',
  needs: needsToken,
  judge: (input) =>
    withSuccess((): Verdict => {
      const s = input.evidence.facts?.tokenSample;
      if (!s && input.provider.expect.tokenFormat === 'any')
        return skip(
          'not applicable: the access tokens are JWTs (see jwt.jti-unique), and the descriptor promises no format',
        );
      if (!s)
        return broken(
          'prerequisite failed: the access tokens are JWTs, not opaque (see response.token-format)',
        );
      if (s.distinct < s.count) return fail(`${s.count} tokens but only ${s.distinct} distinct`);
      return s.estimatedBits >= 128
        ? pass(
            `${s.count} tokens, about ${s.estimatedBits} bits each (length ${s.minLength}, alphabet of ${s.alphabet})`,
          )
        : fail(
            `about ${s.estimatedBits} bits per token (varying length ${s.minLength}, alphabet of ${s.alphabet}); RFC 6749 §10.10 asks for ≥ 128`,
          );
    })(input),
});
