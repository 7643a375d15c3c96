import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ClientDescriptor, Provider } from './descriptor/types.js';
import type { Evidence } from './checks/types.js';
import { buildAssertion, CLIENT_ASSERTION_TYPE, type AssertionDefect, type AssertionKey } from './auth/assertion.js';
import { ProviderSession, type ProbeRequest } from './http/runner.js';
import type { Exchange } from './http/types.js';
import { compactVerify, createLocalJWKSet, type JWK } from 'jose';

/** Probe ids, shared by the observer and the checks that read them. */
export const PROBES = {
  token: (i: number) => `token.${i}`,
  resourceFresh: 'resource.fresh',
  resourceExpired: 'resource.expired',
  get: 'grant.get',
  missingGrantType: 'grant.missing-grant-type',
  unknownGrantType: 'grant.unknown-grant-type',
  repeatedParameter: 'grant.repeated-parameter',
  queryCredentials: 'grant.query-credentials',
  twoMethods: 'grant.two-methods',
  wrongSecret: 'errors.wrong-secret',
  unknownClient: 'errors.unknown-client',
  noClientAuth: 'errors.no-client-auth',
  scopeNone: 'scope.none',
  scopeForbidden: 'scope.forbidden',
  assertion: (defect: AssertionDefect) => `client-auth.${defect}`,
  assertionFirstUse: 'client-auth.first-use',
  assertionReplay: 'client-auth.replay',
  mtlsWithoutCertificate: 'client-auth.mtls-without-certificate',
  formBody: 'grant.form-body',
  grantAssertion: (defect: AssertionDefect) => `grant.assertion.${defect}`,
  grantAssertionFirstUse: 'grant.assertion.first-use',
  grantAssertionReplay: 'grant.assertion.replay',
  introspectFresh: 'introspection.fresh',
  introspectExpired: 'introspection.expired',
  metadata: 'discovery.metadata',
  jwks: 'discovery.jwks',
} as const;

/** The spoilt assertions sent by the client-auth probes, one request each. */
export const ASSERTION_DEFECTS: AssertionDefect[] = ['expired', 'wrong-aud', 'wrong-iss', 'wrong-sub', 'alg-none', 'unknown-key', 'no-jti', 'far-future-exp'];

/** Probes whose answers are expected to be OAuth error responses (checked for their shape). */
export const ERROR_PROBES: string[] = [
  PROBES.missingGrantType,
  PROBES.unknownGrantType,
  PROBES.repeatedParameter,
  PROBES.queryCredentials,
  PROBES.twoMethods,
  PROBES.wrongSecret,
  PROBES.unknownClient,
  PROBES.noClientAuth,
];

/** The first client that sends a shared secret (Basic or in the body): probes about secrets need one. */
export function secretClient(p: Provider): ClientDescriptor | undefined {
  return p.clients.find((c) => (c.auth.method === 'client_secret_basic' || c.auth.method === 'client_secret_post') && c.auth.secret !== undefined);
}

/** The first client that authenticates with a JWT (client_secret_jwt or private_key_jwt). */
export function assertionClient(p: Provider): ClientDescriptor | undefined {
  return p.clients.find((c) => c.auth.assertion !== undefined);
}

/** The first client that authenticates with a TLS client certificate. */
export function mtlsClient(p: Provider): ClientDescriptor | undefined {
  return p.clients.find((c) => c.auth.tls !== undefined);
}

/** The key a client signs its assertions with, in the form buildAssertion takes. */
function assertionKey(client: ClientDescriptor): AssertionKey {
  const a = client.auth.assertion;
  if (!a) throw new Error(`client ${client.id} does not use JWT authentication`);
  if (a.key) return { alg: a.alg, material: a.key.material, kind: a.key.kind, ...(a.kid ? { kid: a.kid } : {}) };
  return { alg: a.alg, material: client.auth.secret ?? '', kind: 'secret', ...(a.kid ? { kid: a.kid } : {}) };
}

export interface AuthOptions {
  /** Spoil the client assertion in exactly this way. */
  defect?: AssertionDefect;
  /** Send this assertion instead of a fresh one (replay). */
  assertion?: string;
  /** Leave out the TLS client certificate. */
  withoutCertificate?: boolean;
}

/** Adds the client's authentication to a token request, as its method prescribes. */
export async function withClientAuth(p: Provider, client: ClientDescriptor, req: ProbeRequest, options: AuthOptions = {}): Promise<ProbeRequest> {
  const form = [...(req.form ?? [])];
  switch (client.auth.method) {
    case 'client_secret_basic':
      return { ...req, form, basic: { id: client.id, secret: client.auth.secret ?? '' } };
    case 'client_secret_post':
      form.push(['client_id', client.id], ['client_secret', client.auth.secret ?? '']);
      return { ...req, form };
    case 'client_secret_jwt':
    case 'private_key_jwt': {
      const audience = client.auth.assertion?.audience === 'issuer' && p.issuer ? p.issuer : p.tokenEndpoint;
      const assertion = options.assertion ?? (await buildAssertion(assertionKey(client), { iss: client.id, sub: client.id, aud: audience }, options.defect));
      form.push(['client_id', client.id], ['client_assertion_type', CLIENT_ASSERTION_TYPE], ['client_assertion', assertion]);
      return { ...req, form, assertion };
    }
    case 'tls_client_auth':
    case 'self_signed_tls_client_auth':
      form.push(['client_id', client.id]);
      return { ...req, form, ...(client.auth.tls && !options.withoutCertificate ? { tlsClient: client.auth.tls } : {}) };
    case 'none':
      form.push(['client_id', client.id]);
      return { ...req, form };
  }
}

/** The grant's parameters: client_credentials, or jwt-bearer with a fresh (or deliberately spoilt) assertion. */
async function grantForm(p: Provider, scope: string | undefined, defect?: AssertionDefect): Promise<[string, string][]> {
  const form: [string, string][] = [['grant_type', p.grant.type]];
  const a = p.grant.assertion;
  if (a) {
    const key: AssertionKey = { alg: a.alg, material: a.key.material, kind: a.key.kind, ...(a.kid ? { kid: a.kid } : {}) };
    form.push(['assertion', await buildAssertion(key, { iss: a.issuer, sub: a.subject, aud: a.audience ?? p.tokenEndpoint, extra: a.claims }, defect)]);
  }
  if (scope) form.push(['scope', scope]);
  return form;
}

function accessTokenOf(ex: Exchange | undefined, session: ProviderSession): string | undefined {
  // The token itself is never recorded; the session keeps the last one it saw for this probe.
  return ex ? session.tokenOf(ex.probe) : undefined;
}

export interface ObserveOptions {
  /** Called before a long wait, so the CLI can tell the user why nothing happens. */
  onWait?: (provider: Provider, seconds: number, why: string) => void;
}

/** Makes every request the checks need, in a fixed order, and returns the redacted evidence. */
export async function observe(p: Provider, options: ObserveOptions = {}): Promise<Evidence> {
  const session = new ProviderSession(p);
  const exchanges: Record<string, Exchange> = {};
  const notRun: Evidence['notRun'] = {};
  const facts: NonNullable<Evidence['facts']> = {};
  const startedAt = new Date().toISOString();
  const send = async (probe: string, purpose: string, req: ProbeRequest) => {
    // A service that takes JSON gets JSON on its token endpoint (a deviation its descriptor declares).
    const json = p.grant.bodyEncoding === 'json' && req.bodyEncoding === undefined && req.form && req.method === 'POST' && req.url.split('?')[0] === p.tokenEndpoint;
    exchanges[probe] = await session.send(probe, purpose, json ? { ...req, bodyEncoding: 'json' } : req);
    return exchanges[probe];
  };
  const primary = p.clients[0]!;
  const tokenUrl = p.tokenEndpoint;
  // RFC 8705 §5: mTLS clients use the alias of the token endpoint when the metadata names one.
  let mtlsTokenUrl: string | undefined;
  const tokenUrlOf = (client: ClientDescriptor) => (client.auth.tls && mtlsTokenUrl ? mtlsTokenUrl : tokenUrl);
  const requested = p.scopes.request;

  try {
    // 0. Discovery: the server's metadata and signing keys, when the descriptor asks for them.
    let jwksUri = p.jwksUri;
    if (p.discovery && p.issuer) {
      const meta = await send(PROBES.metadata, `server metadata (${p.discovery})`, { method: 'GET', url: wellKnownUrl(p.issuer, p.discovery) });
      const doc = meta.response?.json as { jwks_uri?: unknown; mtls_endpoint_aliases?: { token_endpoint?: unknown } } | undefined;
      if (typeof doc?.jwks_uri === 'string' && /^https:\/\//.test(doc.jwks_uri)) jwksUri = doc.jwks_uri;
      const alias = doc?.mtls_endpoint_aliases?.token_endpoint;
      if (typeof alias === 'string' && /^https:\/\//.test(alias)) mtlsTokenUrl = alias;
    } else {
      notRun[PROBES.metadata] = { kind: 'policy', reason: 'the descriptor asks for no discovery (discovery, issuer)' };
    }
    if (jwksUri) await send(PROBES.jwks, 'the JWK Set of the signing keys', { method: 'GET', url: jwksUri });
    else notRun[PROBES.jwks] = { kind: p.discovery ? 'prerequisite' : 'policy', reason: p.discovery ? 'the metadata names no https jwks_uri' : 'no JWK Set is known (jwksUri or discovery)' };

    // 1. The ordinary token request, once per client (the first one's token is reused by every check).
    for (const [i, client] of p.clients.entries()) {
      await send(PROBES.token(i), `${p.grant.type === 'client_credentials' ? 'client_credentials' : 'jwt-bearer grant'} with ${client.label}`, await withClientAuth(p, client, { method: 'POST', url: tokenUrlOf(client), form: await grantForm(p, requested) }));
    }
    const firstToken = exchanges[PROBES.token(0)];
    const token = accessTokenOf(firstToken, session);
    if (token && firstToken?.response?.accessToken?.jwt) {
      facts.tokenSignature = await verifySignature(token, exchanges[PROBES.jwks]?.response?.json);
    }
    const issuedAt = Date.now();
    if (p.resource) {
      if (token) {
        await send(PROBES.resourceFresh, 'the fresh access token at the protected resource', { method: p.resource.method, url: p.resource.url, bearer: token });
      } else {
        notRun[PROBES.resourceFresh] = { kind: 'prerequisite', reason: 'no access token was obtained' };
      }
    }

    if (p.introspection) {
      if (token) await send(PROBES.introspectFresh, 'introspection of the fresh access token', await withClientAuth(p, primary, { method: 'POST', url: p.introspection.url, form: [['token', token], ['token_type_hint', 'access_token']] }));
      else notRun[PROBES.introspectFresh] = { kind: 'prerequisite', reason: 'no access token was obtained' };
    } else {
      for (const probe of [PROBES.introspectFresh, PROBES.introspectExpired]) notRun[probe] = { kind: 'policy', reason: 'the descriptor declares no introspection endpoint' };
    }

    // A service declared to take JSON is also asked the RFC 6749 way, form-encoded.
    if (p.grant.bodyEncoding === 'json') {
      await send(PROBES.formBody, 'the token request form-encoded, as RFC 6749 has it', { ...(await withClientAuth(p, primary, { method: 'POST', url: tokenUrl, form: await grantForm(p, requested) })), bodyEncoding: 'form' });
    } else {
      notRun[PROBES.formBody] = { kind: 'policy', reason: 'the descriptor sends form-encoded token requests already' };
    }

    // 2. Requests the endpoint must refuse.
    await send(PROBES.get, 'token request with GET', await withClientAuth(p, primary, { method: 'GET', url: withQuery(tokenUrl, await grantForm(p, requested)) }));
    await send(PROBES.missingGrantType, 'token request without grant_type', await withClientAuth(p, primary, { method: 'POST', url: tokenUrl, form: requested ? [['scope', requested]] : [] }));
    await send(PROBES.unknownGrantType, 'token request with an unknown grant_type', await withClientAuth(p, primary, { method: 'POST', url: tokenUrl, form: [['grant_type', 'urn:example:token-conformance:unknown-grant']] }));
    await send(PROBES.repeatedParameter, 'token request with grant_type sent twice', await withClientAuth(p, primary, { method: 'POST', url: tokenUrl, form: [['grant_type', p.grant.type], ['grant_type', p.grant.type]] }));
    const sc = secretClient(p);
    if (sc) {
      await send(PROBES.queryCredentials, 'client credentials in the query string', {
        method: 'POST',
        url: withQuery(tokenUrl, [['client_id', sc.id], ['client_secret', sc.auth.secret ?? '']]),
        form: await grantForm(p, requested),
      });
      await send(PROBES.twoMethods, 'two client authentication methods at once (Basic and client_secret in the body)', {
        method: 'POST',
        url: tokenUrl,
        form: [...await grantForm(p, requested), ['client_id', sc.id], ['client_secret', sc.auth.secret ?? '']],
        basic: { id: sc.id, secret: sc.auth.secret ?? '' },
      });
      const wrong = { ...sc, auth: { ...sc.auth, secret: `wrong-${randomBytes(12).toString('base64url')}` } };
      await send(PROBES.wrongSecret, `a wrong client secret (${sc.label})`, await withClientAuth(p, wrong, { method: 'POST', url: tokenUrl, form: await grantForm(p, requested) }));
    } else {
      for (const probe of [PROBES.queryCredentials, PROBES.twoMethods, PROBES.wrongSecret]) notRun[probe] = { kind: 'policy', reason: 'no client with a shared secret is declared' };
    }
    const unknown: ClientDescriptor = { ...primary, id: `tc-unknown-${randomBytes(6).toString('hex')}`, auth: { ...primary.auth, ...(primary.auth.secret ? { secret: randomBytes(24).toString('base64url') } : {}) } };
    await send(PROBES.unknownClient, 'an unknown client id', await withClientAuth(p, unknown, { method: 'POST', url: tokenUrl, form: await grantForm(p, requested) }));
    await send(PROBES.noClientAuth, 'no client authentication at all', { method: 'POST', url: tokenUrl, form: await grantForm(p, requested) });

    // Client authentication: spoilt assertions (RFC 7523 §3), replay, mTLS without a certificate.
    const ac = assertionClient(p);
    if (ac) {
      for (const defect of ASSERTION_DEFECTS) {
        await send(PROBES.assertion(defect), `a client assertion with a defect: ${defect} (${ac.label})`, await withClientAuth(p, ac, { method: 'POST', url: tokenUrl, form: await grantForm(p, requested) }, { defect }));
      }
      const once = await withClientAuth(p, ac, { method: 'POST', url: tokenUrl, form: await grantForm(p, requested) });
      await send(PROBES.assertionFirstUse, `a fresh client assertion, first use (${ac.label})`, once);
      await send(PROBES.assertionReplay, `the same client assertion again (${ac.label})`, once);
    } else {
      for (const probe of [...ASSERTION_DEFECTS.map(PROBES.assertion), PROBES.assertionFirstUse, PROBES.assertionReplay]) {
        notRun[probe] = { kind: 'policy', reason: 'no client authenticates with a JWT' };
      }
    }
    const mc = mtlsClient(p);
    if (mc) {
      await send(PROBES.mtlsWithoutCertificate, `${mc.label} without its client certificate`, await withClientAuth(p, mc, { method: 'POST', url: tokenUrlOf(mc), form: await grantForm(p, requested) }, { withoutCertificate: true }));
    } else {
      notRun[PROBES.mtlsWithoutCertificate] = { kind: 'policy', reason: 'no client uses TLS client authentication' };
    }

    // The jwt-bearer grant's own assertion, spoilt one way at a time (RFC 7523 §3, §3.1: invalid_grant).
    if (p.grant.assertion) {
      // sub names whom the grant acts for: another subject is not a defect, so it is not probed.
      for (const defect of ASSERTION_DEFECTS.filter((d) => d !== 'wrong-sub' && d !== 'no-jti')) {
        await send(PROBES.grantAssertion(defect), `a grant assertion with a defect: ${defect}`, await withClientAuth(p, primary, { method: 'POST', url: tokenUrl, form: await grantForm(p, requested, defect) }));
      }
      const form = await grantForm(p, requested);
      await send(PROBES.grantAssertionFirstUse, 'a fresh grant assertion, first use', await withClientAuth(p, primary, { method: 'POST', url: tokenUrl, form }));
      await send(PROBES.grantAssertionReplay, 'the same grant assertion again', await withClientAuth(p, primary, { method: 'POST', url: tokenUrl, form }));
    } else {
      for (const probe of [...ASSERTION_DEFECTS.filter((d) => d !== 'wrong-sub' && d !== 'no-jti').map(PROBES.grantAssertion), PROBES.grantAssertionFirstUse, PROBES.grantAssertionReplay]) {
        notRun[probe] = { kind: 'policy', reason: 'the grant is not jwt-bearer' };
      }
    }

    // 3. Scope behaviour.
    await send(PROBES.scopeNone, 'token request without scope', await withClientAuth(p, primary, { method: 'POST', url: tokenUrl, form: await grantForm(p, undefined) }));
    if (p.scopes.forbidden) {
      const scope = [requested, p.scopes.forbidden].filter(Boolean).join(' ');
      await send(PROBES.scopeForbidden, 'token request with a scope the client may not have', await withClientAuth(p, primary, { method: 'POST', url: tokenUrl, form: await grantForm(p, scope) }));
    } else {
      notRun[PROBES.scopeForbidden] = { kind: 'policy', reason: 'the descriptor declares no forbidden scope (scopes.forbidden)' };
    }

    // 4. Expiry: wait out the lifetime, then try the token again (at the resource, at introspection).
    const afterExpiry = [...(p.resource ? [PROBES.resourceExpired] : []), ...(p.introspection ? [PROBES.introspectExpired] : [])];
    if (afterExpiry.length > 0 && token) {
      const body = firstToken?.response?.json as { expires_in?: unknown } | undefined;
      const lifetime = typeof body?.expires_in === 'number' ? body.expires_in : p.expect.expiresIn;
      let skipReason: string | undefined;
      if (lifetime === undefined) skipReason = 'the lifetime is unknown: no expires_in and none declared (expect.expiresIn)';
      else if (lifetime > p.limits.maxExpiryWaitSeconds) skipReason = `the lifetime (${lifetime} s) is longer than the maximum wait (limits.maxExpiryWaitSeconds = ${p.limits.maxExpiryWaitSeconds} s)`;
      if (skipReason || lifetime === undefined) {
        for (const probe of afterExpiry) notRun[probe] = { kind: 'policy', reason: skipReason ?? 'unknown lifetime' };
      } else {
        const waitMs = Math.max(0, issuedAt + (lifetime + 1) * 1000 - Date.now());
        options.onWait?.(p, Math.ceil(waitMs / 1000), 'for the access token to expire');
        await sleep(waitMs);
        if (p.resource) await send(PROBES.resourceExpired, `the access token at the protected resource after its lifetime (${lifetime} s)`, { method: p.resource.method, url: p.resource.url, bearer: token });
        if (p.introspection) await send(PROBES.introspectExpired, `introspection of the access token after its lifetime (${lifetime} s)`, await withClientAuth(p, primary, { method: 'POST', url: p.introspection.url, form: [['token', token], ['token_type_hint', 'access_token']] }));
      }
    } else {
      for (const probe of afterExpiry) notRun[probe] = { kind: 'prerequisite', reason: 'no access token was obtained' };
    }
    const sample = session.allTokens().filter((t) => !/^[\w-]+\.[\w-]+\.[\w-]*$/.test(t));
    if (sample.length > 0) facts.tokenSample = estimateGuessability(sample);
  } finally {
    await session.close();
  }
  return { provider: p.name, exchanges, notRun, requestsSent: session.requestsSent, facts, startedAt, finishedAt: new Date().toISOString() };
}

function withQuery(url: string, params: [string, string][]): string {
  const u = new URL(url);
  for (const [k, v] of params) u.searchParams.append(k, v);
  return u.toString();
}

/** RFC 8414 §3.1 inserts the well-known segment before the issuer's path; OpenID Connect appends it. */
export function wellKnownUrl(issuer: string, kind: 'openid-configuration' | 'oauth-authorization-server'): string {
  const u = new URL(issuer);
  const path = u.pathname.replace(/\/$/, '');
  if (kind === 'openid-configuration') return `${u.origin}${path}/.well-known/openid-configuration`;
  return `${u.origin}/.well-known/oauth-authorization-server${path}`;
}

/** Checks only the JWS signature (claims are the checks' business) against the recorded JWK Set. */
async function verifySignature(token: string, jwks: unknown): Promise<{ verified: boolean; detail: string }> {
  const keys = (jwks as { keys?: unknown } | undefined)?.keys;
  if (!Array.isArray(keys)) return { verified: false, detail: 'no JWK Set was obtained to verify it with' };
  try {
    const set = createLocalJWKSet({ keys: keys as JWK[] });
    const { protectedHeader } = await compactVerify(token, set);
    return { verified: true, detail: `verified with the key ${protectedHeader.kid ? `kid ${protectedHeader.kid}` : 'without kid'} (${protectedHeader.alg})` };
  } catch (e) {
    return { verified: false, detail: `${(e as { code?: string }).code ?? 'error'}: ${(e as Error).message}` };
  }
}

/**
 * A rough upper bound on how guessable the tokens are: distinctness, and length × log2(alphabet
 * seen across the sample). It cannot prove randomness; it catches short, counter-like or tiny-alphabet tokens.
 */
export function estimateGuessability(tokens: string[]): { count: number; distinct: number; minLength: number; alphabet: number; estimatedBits: number } {
  const alphabet = new Set(tokens.join('')).size;
  const minLength = Math.min(...tokens.map((t) => t.length));
  // Characters shared by every token at the same position carry no entropy: leave them out.
  const varying = [...Array(minLength).keys()].filter((i) => new Set(tokens.map((t) => t[i])).size > 1 || tokens.length === 1).length;
  return { count: tokens.length, distinct: new Set(tokens).size, minLength, alphabet, estimatedBits: Math.floor(varying * Math.log2(Math.max(alphabet, 1))) };
}
