import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ClientDescriptor, Provider } from './descriptor/types.js';
import type { Evidence } from './checks/types.js';
import { ProviderSession, type ProbeRequest } from './http/runner.js';
import type { Exchange } from './http/types.js';

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
} as const;

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

/** The first client that authenticates with a shared secret: probes about secrets need one. */
export function secretClient(p: Provider): ClientDescriptor | undefined {
  return p.clients.find((c) => c.auth.method !== 'none' && c.auth.secret !== undefined);
}

/** Adds the client's authentication to a token request, as its method prescribes. */
export function withClientAuth(client: ClientDescriptor, req: ProbeRequest): ProbeRequest {
  const form = [...(req.form ?? [])];
  switch (client.auth.method) {
    case 'client_secret_basic':
      return { ...req, form, basic: { id: client.id, secret: client.auth.secret ?? '' } };
    case 'client_secret_post':
      form.push(['client_id', client.id], ['client_secret', client.auth.secret ?? '']);
      return { ...req, form };
    case 'none':
      form.push(['client_id', client.id]);
      return { ...req, form };
  }
}

function grantForm(p: Provider, scope: string | undefined): [string, string][] {
  const form: [string, string][] = [['grant_type', p.grant.type]];
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
  const startedAt = new Date().toISOString();
  const send = async (probe: string, purpose: string, req: ProbeRequest) => {
    exchanges[probe] = await session.send(probe, purpose, req);
    return exchanges[probe];
  };
  const primary = p.clients[0]!;
  const tokenUrl = p.tokenEndpoint;
  const requested = p.scopes.request;

  try {
    // 1. The ordinary token request, once per client (the first one's token is reused by every check).
    for (const [i, client] of p.clients.entries()) {
      await send(PROBES.token(i), `client_credentials with ${client.label}`, withClientAuth(client, { method: 'POST', url: tokenUrl, form: grantForm(p, requested) }));
    }
    const firstToken = exchanges[PROBES.token(0)];
    const token = accessTokenOf(firstToken, session);
    const issuedAt = Date.now();
    if (p.resource) {
      if (token) {
        await send(PROBES.resourceFresh, 'the fresh access token at the protected resource', { method: p.resource.method, url: p.resource.url, bearer: token });
      } else {
        notRun[PROBES.resourceFresh] = { kind: 'prerequisite', reason: 'no access token was obtained' };
      }
    }

    // 2. Requests the endpoint must refuse.
    await send(PROBES.get, 'token request with GET', withClientAuth(primary, { method: 'GET', url: withQuery(tokenUrl, grantForm(p, requested)) }));
    await send(PROBES.missingGrantType, 'token request without grant_type', withClientAuth(primary, { method: 'POST', url: tokenUrl, form: requested ? [['scope', requested]] : [] }));
    await send(PROBES.unknownGrantType, 'token request with an unknown grant_type', withClientAuth(primary, { method: 'POST', url: tokenUrl, form: [['grant_type', 'urn:example:token-conformance:unknown-grant']] }));
    await send(PROBES.repeatedParameter, 'token request with grant_type sent twice', withClientAuth(primary, { method: 'POST', url: tokenUrl, form: [['grant_type', p.grant.type], ['grant_type', p.grant.type]] }));
    const sc = secretClient(p);
    if (sc) {
      await send(PROBES.queryCredentials, 'client credentials in the query string', {
        method: 'POST',
        url: withQuery(tokenUrl, [['client_id', sc.id], ['client_secret', sc.auth.secret ?? '']]),
        form: grantForm(p, requested),
      });
      await send(PROBES.twoMethods, 'two client authentication methods at once (Basic and client_secret in the body)', {
        method: 'POST',
        url: tokenUrl,
        form: [...grantForm(p, requested), ['client_id', sc.id], ['client_secret', sc.auth.secret ?? '']],
        basic: { id: sc.id, secret: sc.auth.secret ?? '' },
      });
      const wrong = { ...sc, auth: { ...sc.auth, secret: `wrong-${randomBytes(12).toString('base64url')}` } };
      await send(PROBES.wrongSecret, `a wrong client secret (${sc.label})`, withClientAuth(wrong, { method: 'POST', url: tokenUrl, form: grantForm(p, requested) }));
    } else {
      for (const probe of [PROBES.queryCredentials, PROBES.twoMethods, PROBES.wrongSecret]) notRun[probe] = { kind: 'policy', reason: 'no client with a shared secret is declared' };
    }
    const unknown: ClientDescriptor = { ...primary, id: `tc-unknown-${randomBytes(6).toString('hex')}`, auth: { ...primary.auth, ...(primary.auth.secret ? { secret: randomBytes(24).toString('base64url') } : {}) } };
    await send(PROBES.unknownClient, 'an unknown client id', withClientAuth(unknown, { method: 'POST', url: tokenUrl, form: grantForm(p, requested) }));
    await send(PROBES.noClientAuth, 'no client authentication at all', { method: 'POST', url: tokenUrl, form: grantForm(p, requested) });

    // 3. Scope behaviour.
    await send(PROBES.scopeNone, 'token request without scope', withClientAuth(primary, { method: 'POST', url: tokenUrl, form: grantForm(p, undefined) }));
    if (p.scopes.forbidden) {
      const scope = [requested, p.scopes.forbidden].filter(Boolean).join(' ');
      await send(PROBES.scopeForbidden, 'token request with a scope the client may not have', withClientAuth(primary, { method: 'POST', url: tokenUrl, form: grantForm(p, scope) }));
    } else {
      notRun[PROBES.scopeForbidden] = { kind: 'policy', reason: 'the descriptor declares no forbidden scope (scopes.forbidden)' };
    }

    // 4. Expiry: wait out the lifetime, then try the token again.
    if (p.resource && token) {
      const body = firstToken?.response?.json as { expires_in?: unknown } | undefined;
      const lifetime = typeof body?.expires_in === 'number' ? body.expires_in : p.expect.expiresIn;
      if (lifetime === undefined) {
        notRun[PROBES.resourceExpired] = { kind: 'policy', reason: 'the lifetime is unknown: no expires_in and none declared (expect.expiresIn)' };
      } else if (lifetime > p.limits.maxExpiryWaitSeconds) {
        notRun[PROBES.resourceExpired] = { kind: 'policy', reason: `the lifetime (${lifetime} s) is longer than the maximum wait (limits.maxExpiryWaitSeconds = ${p.limits.maxExpiryWaitSeconds} s)` };
      } else {
        const waitMs = Math.max(0, issuedAt + (lifetime + 1) * 1000 - Date.now());
        options.onWait?.(p, Math.ceil(waitMs / 1000), 'for the access token to expire');
        await sleep(waitMs);
        await send(PROBES.resourceExpired, `the access token at the protected resource after its lifetime (${lifetime} s)`, { method: p.resource.method, url: p.resource.url, bearer: token });
      }
    } else if (p.resource) {
      notRun[PROBES.resourceExpired] = { kind: 'prerequisite', reason: 'no access token was obtained' };
    }
  } finally {
    await session.close();
  }
  return { provider: p.name, exchanges, notRun, requestsSent: session.requestsSent, startedAt, finishedAt: new Date().toISOString() };
}

function withQuery(url: string, params: [string, string][]): string {
  const u = new URL(url);
  for (const [k, v] of params) u.searchParams.append(k, v);
  return u.toString();
}
