/**
 * The authorization_code grant at the token endpoint (RFC 6749 §4.1.3, RFC 7636 §4.5–4.6): each
 * probe obtains a fresh code in its `build` (one login in the browser, src/login/authorizer.ts) and
 * presents it once, rightly or wrongly.
 */
import type { Provider } from '../descriptor/types.js';
import { PROBES, type ProbeId } from './ids.js';
import { pkcePair } from '../login/pkce.js';
import { withClientAuth, withQuery } from './request.js';
import { policy, type ProbeContext, type ProbeDef, type ProbeUnits } from './types.js';

/** The second client of the descriptor (authorization.otherClient), if one is declared. */
export function otherClientIndex(p: Provider): number | undefined {
  return p.authorization?.otherClient;
}

/**
 * Generic probes that make no sense for an authorization_code descriptor, and why: the scope is
 * chosen at the authorization request, and the token request carries none (RFC 6749 §4.1.3).
 */
export const NOT_FOR_AUTHORIZATION_CODE: Partial<Record<ProbeId, string>> = {
  [PROBES.scopeNone]:
    'with authorization_code the scope is chosen at the authorization request, not at the token endpoint (RFC 6749 §4.1.3)',
  [PROBES.scopeForbidden]:
    'with authorization_code the scope is chosen at the authorization request, not at the token endpoint (RFC 6749 §4.1.3)',
  [PROBES.scopeUngrantable]:
    'with authorization_code the scope is chosen at the authorization request, not at the token endpoint (RFC 6749 §4.1.3)',
  [PROBES.insufficientScopeToken]:
    'with authorization_code the scope is chosen at the authorization request: no token without the required scope is requested',
};

/** The authorization endpoint: the descriptor's, else the discovered authorization_endpoint. */
export function authorizationEndpoint(p: Provider, ctx: Pick<ProbeContext, 'exchange'>) {
  if (p.authorization?.endpoint) return p.authorization.endpoint;
  const doc = ctx.exchange(PROBES.metadata)?.response?.json as
    { authorization_endpoint?: unknown } | undefined;
  const v = doc?.authorization_endpoint;
  return typeof v === 'string' && /^https:\/\//.test(v) ? v : undefined;
}

/** A token request for a fresh code of clients[0], as `spoil` changes it. */
async function exchange(
  p: Provider,
  ctx: ProbeContext,
  spoil: (form: [string, string][], redirectUri: string) => [string, string][] = (f) => f,
  options: { pkce?: 'S256' | 'none'; presentedBy?: number } = {},
) {
  const grant = await ctx.authorize({ client: 0, ...(options.pkce ? { pkce: options.pkce } : {}) });
  const form: [string, string][] = [
    ['grant_type', 'authorization_code'],
    ['code', grant.code],
    ['redirect_uri', grant.redirectUri],
    ...(grant.verifier ? ([['code_verifier', grant.verifier]] as [string, string][]) : []),
  ];
  const client = p.clients[options.presentedBy ?? 0]!;
  return withClientAuth(p, client, {
    method: 'POST',
    url: ctx.tokenUrlOf(client),
    form: spoil(form, grant.redirectUri),
  });
}

/** A redirect URI that differs from the registered one in its path only. */
function otherRedirectUri(uri: string): string {
  const u = new URL(uri);
  u.pathname = `${u.pathname.replace(/\/$/, '')}/other`;
  return u.toString();
}

export const authorizationCodeProbes: ProbeUnits = (p) => {
  if (p.grant.type !== 'authorization_code')
    return [
      PROBES.codeFirstUse,
      PROBES.codeReplay,
      PROBES.codeAfterReplay,
      PROBES.codeWrongVerifier,
      PROBES.codeNoVerifier,
      PROBES.codeRedirectMismatch,
      PROBES.codeOtherClient,
      PROBES.codePlainChallenge,
    ].map((id): ProbeDef => ({
      id,
      purpose: 'authorization_code only',
      appliesTo: () => policy('the grant is not authorization_code'),
      build: () => {
        throw new Error(`${id} is planned for authorization_code descriptors only`);
      },
    }));
  const other = otherClientIndex(p);
  const a = p.authorization!;
  const probes: ProbeDef[] = [
    {
      id: PROBES.codeFirstUse,
      asClient: 0,
      purpose: 'a fresh authorization code, exchanged once (with its code_verifier)',
      build: (ctx) => exchange(p, ctx),
    },
    {
      id: PROBES.codeReplay,
      asClient: 0,
      purpose: 'the same authorization code again',
      appliesTo: (ctx) =>
        ctx.requestOf(PROBES.codeFirstUse) ? true : policy('no first use of a code was sent'),
      build: (ctx) => ctx.requestOf(PROBES.codeFirstUse)!,
    },
    {
      id: PROBES.codeAfterReplay,
      asClient: 0,
      purpose: () =>
        p.introspection
          ? 'the token of the replayed code at introspection (revoked?)'
          : 'the token of the replayed code at the protected resource (revoked?)',
      appliesTo: (ctx) => {
        if (!ctx.tokenOf(PROBES.codeFirstUse))
          return policy('the first use of the code gave no access token');
        if (!p.introspection && !p.resource)
          return policy('neither introspection nor a protected resource is declared');
        return true;
      },
      build: async (ctx) => {
        const token = ctx.tokenOf(PROBES.codeFirstUse)!;
        if (p.introspection)
          return withClientAuth(p, p.introspection.client, {
            method: 'POST',
            url: p.introspection.url,
            form: [['token', token]],
          });
        return { method: p.resource!.method, url: p.resource!.url, bearer: token };
      },
    },
    {
      id: PROBES.codeWrongVerifier,
      asClient: 0,
      purpose: 'a fresh code with another code_verifier than its challenge was made from',
      build: (ctx) =>
        exchange(p, ctx, (form) =>
          form.map(([k, v]): [string, string] =>
            k === 'code_verifier' ? [k, pkcePair().verifier] : [k, v],
          ),
        ),
    },
    {
      id: PROBES.codeNoVerifier,
      asClient: 0,
      purpose:
        'a fresh code whose authorization sent a code_challenge, exchanged without code_verifier',
      build: (ctx) => exchange(p, ctx, (form) => form.filter(([k]) => k !== 'code_verifier')),
    },
    {
      id: PROBES.codeRedirectMismatch,
      asClient: 0,
      purpose: 'a fresh code with another redirect_uri than its authorization request',
      build: (ctx) =>
        exchange(p, ctx, (form) =>
          form.map(([k, v]): [string, string] =>
            k === 'redirect_uri' ? [k, otherRedirectUri(v)] : [k, v],
          ),
        ),
    },
    {
      id: PROBES.codeOtherClient,
      ...(other !== undefined ? { asClient: other } : {}),
      purpose: `a fresh code of ${p.clients[0]!.label}, presented by another client${other !== undefined ? ` (${p.clients[other]!.label})` : ''}`,
      appliesTo: () =>
        other !== undefined
          ? true
          : policy('no second client is declared (authorization.otherClient)'),
      build: (ctx) => exchange(p, ctx, undefined, { presentedBy: other! }),
    },
    {
      // RFC 7636 §4.4.1: a server that does not support a method refuses at the authorization endpoint.
      id: PROBES.codePlainChallenge,
      purpose: 'an authorization request with code_challenge_method plain (no browser, no login)',
      appliesTo: (ctx) =>
        authorizationEndpoint(p, ctx)
          ? true
          : policy('no authorization endpoint is declared or discovered'),
      build: (ctx) => {
        const { verifier } = pkcePair();
        return {
          method: 'GET',
          url: withQuery(authorizationEndpoint(p, ctx)!, [
            ['response_type', 'code'],
            ['client_id', p.clients[0]!.id],
            ['redirect_uri', a.redirectUri],
            ...((a.scope ?? p.scopes.request)
              ? [['scope', a.scope ?? p.scopes.request!] as [string, string]]
              : []),
            ['state', ctx.random(16)],
            ['code_challenge', verifier],
            ['code_challenge_method', 'plain'],
          ]),
        };
      },
    },
  ];
  return probes;
};
