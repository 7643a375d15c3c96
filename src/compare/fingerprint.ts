/**
 * Behaviour fingerprints: what a client's code can depend on in one recorded exchange, with the
 * noise a server makes on every request (token values, jti, absolute iat/exp, dates, kid) left out
 * by construction. Values a descriptor names (the issuer, the resource, the client's own id) are
 * replaced by what they are, so two servers at other URLs with other client ids line up.
 */
import { directives, jsonObject, mediaTypeOf, scopeSet } from '../checks/helpers.js';
import { parseChallenges } from '../checks/expiry.js';
import type { Exchange } from '../evidence/types.js';
import type { Aspect } from './types.js';

/** What a side's own names are, for the placeholders. */
export interface SideNames {
  issuer?: string;
  tokenEndpoint: string;
  resourceUrl?: string;
  /** The id of the client that made this request, when it is one of the descriptor's. */
  clientId?: string;
}

export type Lifetime = { expiresIn: number | null; jwt: number | null };
export type Scope = { echoed: string[] | null; requested: string[] | null };

/** Aspect values: plain data, compared by the rules in classify.ts. */
export interface Fingerprint {
  answer: string;
  status?: number;
  error?: string | null;
  mediaType?: string | null;
  cache?: string[];
  challenge?: string | null;
  tokenType?: string | null;
  lifetime?: Lifetime;
  scopeEcho?: boolean;
  grantedScope?: Scope;
  refreshToken?: boolean;
  format?: 'JWT' | 'opaque';
  jwtHeader?: { alg: string | null; typ: string | null };
  jwtClaims?: string[];
  jwtValues?: Record<string, string | null>;
  certificateBound?: boolean;
  members?: string[];
  active?: boolean | null;
}

/** Members a token response has its own aspect for: their presence is judged there, not as "a member". */
const TOKEN_MEMBERS = new Set([
  'access_token',
  'token_type',
  'expires_in',
  'scope',
  'refresh_token',
]);
/** The claims whose values are stable across requests and servers (once placeholders are in). */
const STABLE_CLAIMS = ['iss', 'aud', 'scope', 'client_id'];

/** Probes whose answer comes from the token endpoint (everything but discovery, resource, introspection). */
export function isTokenEndpointProbe(probe: string): boolean {
  return !/^(discovery\.(metadata|jwks)|introspection\.|resource\.(?!insufficient-scope-token)|dpop\.(introspect|resource)|grant\.resource-indicated-introspection)/.test(
    probe,
  );
}

/** The issuer a side's metadata names, else the token endpoint's origin: what `iss` is compared to. */
export function issuerOf(
  exchanges: Record<string, Exchange>,
  tokenEndpoint: string,
): string | undefined {
  const doc = exchanges['discovery.metadata']?.response;
  const iss = doc ? jsonObject(doc)?.['issuer'] : undefined;
  if (typeof iss === 'string') return iss;
  try {
    return new URL(tokenEndpoint).origin;
  } catch {
    return undefined;
  }
}

/** The scope a recorded request asked for (form or JSON body), or null when it asked for none it says. */
export function requestedScope(ex: Exchange): string[] | null {
  const body = ex.request.body ?? '';
  const query = ex.request.url.includes('?')
    ? new URLSearchParams(ex.request.url.split('?')[1])
    : undefined;
  let scope: unknown;
  if (/^\s*\{/.test(body)) {
    try {
      scope = (JSON.parse(body) as Record<string, unknown>)['scope'];
    } catch {
      scope = undefined;
    }
  } else scope = new URLSearchParams(body).get('scope') ?? query?.get('scope') ?? undefined;
  return typeof scope === 'string' ? [...scopeSet(scope)].sort() : null;
}

/** A value as its placeholder when the side's descriptor names it; URLs under the issuer keep their path. */
export function placeholder(value: string, names: SideNames): string {
  if (names.clientId !== undefined && value === names.clientId) return '{client id}';
  if (names.resourceUrl !== undefined && value === names.resourceUrl) return '{resource}';
  if (value === names.tokenEndpoint) return '{token endpoint}';
  if (
    names.issuer !== undefined &&
    (value === names.issuer || value.startsWith(`${names.issuer.replace(/\/$/, '')}/`))
  )
    return `{issuer}${value.slice(names.issuer.replace(/\/$/, '').length)}`;
  return value;
}

function claimValue(v: unknown, names: SideNames): string | null {
  if (v === undefined || v === null) return null;
  if (typeof v === 'string') return placeholder(v, names);
  if (Array.isArray(v))
    return JSON.stringify(v.map((x) => (typeof x === 'string' ? placeholder(x, names) : x)));
  return JSON.stringify(v);
}

function challengeOf(values: string[] | undefined): string | null {
  if (!values || values.length === 0) return null;
  const challenges = parseChallenges(values);
  if (challenges.length === 0) return '(unparsable)';
  return challenges
    .map(
      (c) =>
        `${c.scheme[0]?.toUpperCase() ?? ''}${c.scheme.slice(1)}${c.params['error'] ? ` error=${c.params['error']}` : ''}`,
    )
    .join(', ');
}

/** Why an exchange has no answer to fingerprint, or `answered`. */
export function answerOf(
  ex: Exchange | undefined,
  notRun: { kind: string; reason: string } | undefined,
): string {
  if (!ex)
    return notRun
      ? `not run (${notRun.kind === 'policy' ? 'ruled out' : 'prerequisite failed'})`
      : 'not recorded';
  if (ex.notSent)
    return `not sent (${ex.notSent.kind === 'budget' ? 'request budget' : 'circuit open'})`;
  if (ex.transportError) return `no answer (${ex.transportError.kind})`;
  return ex.response ? 'answered' : 'not recorded';
}

export function fingerprint(
  ex: Exchange | undefined,
  notRun: { kind: string; reason: string } | undefined,
  names: SideNames,
): Fingerprint {
  const answer = answerOf(ex, notRun);
  const res = ex?.response;
  if (!ex || !res || answer !== 'answered') return { answer };
  const probe = ex.probe;
  const body = jsonObject(res);
  const fp: Fingerprint = {
    answer,
    status: res.status,
    mediaType: mediaTypeOf(res) ?? null,
    challenge: challengeOf(res.headers['www-authenticate']),
  };
  const ok = res.status >= 200 && res.status < 300;
  // The DPoP and resource-indicator probes that present a token (RFC 9449, RFC 8707) are read as their kind is.
  const introspection =
    probe.startsWith('introspection.') ||
    probe === 'dpop.introspect' ||
    probe === 'grant.resource-indicated-introspection';
  if (isTokenEndpointProbe(probe) || introspection) {
    const pragma = directives(res, 'pragma').map((d) => `pragma: ${d}`);
    fp.cache = [...directives(res, 'cache-control'), ...pragma].sort();
  }
  if (body && typeof body['error'] === 'string') fp.error = body['error'];
  else if (!ok) fp.error = null;

  if (introspection) {
    fp.active = body && typeof body['active'] === 'boolean' ? body['active'] : null;
    return fp;
  }
  if (
    (probe.startsWith('resource.') && probe !== 'resource.insufficient-scope-token') ||
    probe.startsWith('dpop.resource')
  )
    return fp;

  const token = res.accessToken;
  if (ok && body && token) {
    const expiresIn = body['expires_in'];
    const jwt = token.jwt;
    const exp = jwt?.payload['exp'];
    const iat = jwt?.payload['iat'];
    fp.tokenType = typeof body['token_type'] === 'string' ? body['token_type'] : null;
    fp.lifetime = {
      expiresIn: typeof expiresIn === 'number' ? expiresIn : null,
      jwt: typeof exp === 'number' && typeof iat === 'number' ? exp - iat : null,
    };
    fp.scopeEcho = typeof body['scope'] === 'string';
    fp.grantedScope = {
      echoed: typeof body['scope'] === 'string' ? [...scopeSet(body['scope'])].sort() : null,
      requested: requestedScope(ex),
    };
    fp.refreshToken = body['refresh_token'] !== undefined;
    fp.format = jwt ? 'JWT' : 'opaque';
    if (jwt) {
      const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);
      fp.jwtHeader = { alg: str(jwt.header['alg']), typ: str(jwt.header['typ']) };
      fp.jwtClaims = Object.keys(jwt.payload).sort();
      fp.jwtValues = Object.fromEntries(
        STABLE_CLAIMS.map((c) => [c, claimValue(jwt.payload[c], names)]),
      );
      const cnf = jwt.payload['cnf'];
      fp.certificateBound = typeof cnf === 'object' && cnf !== null && 'x5t#S256' in cnf;
    }
    fp.members = Object.keys(body)
      .filter((k) => !TOKEN_MEMBERS.has(k))
      .sort();
    return fp;
  }
  if (body)
    fp.members = Object.keys(body)
      .filter((k) => k !== 'error')
      .sort();
  return fp;
}

/** One aspect's value as a reader sees it. */
export function showAspect(aspect: Aspect, fp: Fingerprint): string {
  const v = fp[aspect];
  switch (aspect) {
    case 'answer':
      return fp.answer;
    case 'status':
      return fp.status === undefined ? '—' : `${fp.status}${fp.error ? ` ${fp.error}` : ''}`;
    case 'error':
      return fp.error ?? 'no error code';
    case 'mediaType':
      return fp.mediaType ?? 'no Content-Type';
    case 'cache':
      return fp.cache && fp.cache.length > 0 ? fp.cache.join(', ') : 'no Cache-Control or Pragma';
    case 'challenge':
      return fp.challenge ?? 'no WWW-Authenticate';
    case 'tokenType':
      return fp.tokenType ?? 'no token_type';
    case 'lifetime': {
      const l = fp.lifetime;
      if (!l) return '—';
      return `${l.expiresIn === null ? 'no expires_in' : `expires_in ${l.expiresIn}`}${l.jwt !== null ? `, exp − iat ${l.jwt}` : ''}`;
    }
    case 'scopeEcho':
      return fp.scopeEcho ? 'scope echoed' : 'scope not echoed';
    case 'grantedScope': {
      const s = granted(fp.grantedScope);
      return s === null
        ? 'unknown (not echoed, request unknown)'
        : s.length === 0
          ? '(none)'
          : s.join(' ');
    }
    case 'refreshToken':
      return fp.refreshToken ? 'refresh token issued' : 'no refresh token';
    case 'format':
      return fp.format ?? '—';
    case 'jwtHeader':
      return fp.jwtHeader
        ? `alg ${fp.jwtHeader.alg ?? '(none)'}, typ ${fp.jwtHeader.typ ?? '(none)'}`
        : '—';
    case 'jwtClaims':
    case 'members':
      return Array.isArray(v) ? (v.length === 0 ? '(none)' : v.join(', ')) : '—';
    case 'jwtValues':
      return fp.jwtValues
        ? Object.entries(fp.jwtValues)
            .map(([k, x]) => `${k}=${x ?? '(absent)'}`)
            .join(', ')
        : '—';
    case 'certificateBound':
      return fp.certificateBound
        ? 'bound to the client certificate (cnf x5t#S256)'
        : 'not certificate-bound';
    case 'active':
      return fp.active === null || fp.active === undefined
        ? 'no boolean active'
        : `active: ${fp.active}`;
  }
}

/** The granted scope: as echoed, or (RFC 6749 §5.1) as requested when not echoed; null when unknowable. */
export function granted(s: Scope | undefined): string[] | null {
  if (!s) return null;
  return s.echoed ?? s.requested;
}

/** The whole fingerprint in one line, for unchanged behaviours. */
export function showFingerprint(fp: Fingerprint): string {
  if (fp.answer !== 'answered') return fp.answer;
  const parts = [showAspect('status', fp), fp.mediaType ?? 'no Content-Type'];
  if (fp.challenge) parts.push(`WWW-Authenticate ${fp.challenge}`);
  if (fp.lifetime)
    parts.push(
      `${fp.tokenType ?? 'no token_type'}`,
      showAspect('lifetime', fp),
      showAspect('scopeEcho', fp),
      showAspect('refreshToken', fp),
      fp.format ?? '',
    );
  if (fp.jwtHeader) parts.push(showAspect('jwtHeader', fp));
  if (fp.active !== undefined) parts.push(showAspect('active', fp));
  return parts.filter(Boolean).join('; ');
}
