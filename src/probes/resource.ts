import type { Provider } from '../descriptor/types.js';
import { PROBES, type ProbeId } from './ids.js';
import { grantForm, withClientAuth } from './request.js';
import { policy, prerequisite, type NotRun, type ProbeContext, type ProbeUnits } from './types.js';

const firstToken = PROBES.token(0);

function needsToken(ctx: ProbeContext): true | NotRun {
  return ctx.tokenOf(firstToken) ? true : prerequisite('no access token was obtained');
}

/** The fresh access token at the protected resource (RFC 6750 §2.1). */
export const resourceFreshProbe: ProbeUnits = (p) => [
  {
    id: PROBES.resourceFresh,
    purpose: 'the fresh access token at the protected resource',
    appliesTo: (ctx) =>
      p.resource
        ? needsToken(ctx)
        : policy('the descriptor declares no protected resource (resource.url)'),
    build: (ctx) => ({
      method: p.resource!.method,
      url: p.resource!.url,
      bearer: ctx.tokenOf(firstToken)!,
    }),
  },
];

/**
 * The token with one character changed. In a JWS, a middle character of the signature: all six bits
 * of a middle base64url character count, while the last one may carry only padding bits that decode
 * to the same signature. In an opaque token, its middle character. Either way the result keeps the
 * b64token syntax of RFC 6750 §2.1, so the resource must judge the token, not the header's syntax.
 */
export function tamper(token: string): string {
  const start = /^[\w-]+\.[\w-]+\.[\w-]*$/.test(token) ? token.lastIndexOf('.') + 1 : 0;
  // An unsigned JWS (alg none) has no signature character to change: it gets one it cannot have.
  if (start > 0 && start === token.length) return `${token}A`;
  const at = start + Math.floor((token.length - start) / 2);
  return `${token.slice(0, at)}${token[at] === 'A' ? 'B' : 'A'}${token.slice(at + 1)}`;
}

const noResource = () => policy('the descriptor declares no protected resource (resource.url)');

/**
 * The fresh token with one character changed (RFC 6750 §3.1 invalid_token), sent right after the
 * unaltered one was accepted, while it is still valid: a refusal is then about the change, not expiry.
 */
export const resourceTamperedProbe: ProbeUnits = (p) => [
  {
    id: PROBES.resourceTampered,
    purpose: (ctx) =>
      `the fresh access token with one character${ctx.exchange(firstToken)?.response?.accessToken?.jwt ? ' of its signature' : ''} changed, at the protected resource`,
    appliesTo: (ctx) => (p.resource ? needsToken(ctx) : noResource()),
    build: (ctx) => ({
      method: p.resource!.method,
      url: p.resource!.url,
      bearer: tamper(ctx.tokenOf(firstToken)!),
    }),
  },
];

/** Other requests the protected resource must refuse (RFC 6750 §3, §3.1): no token, a token without the required scope. */
export const resourceRefusalProbes: ProbeUnits = (p) => {
  const primary = p.clients[0]!;
  const narrow = p.resource?.insufficientScope;
  const noNarrow = () =>
    p.resource
      ? policy(
          'the descriptor declares no scope the resource requires (resource.requiredScope, resource.insufficientScope)',
        )
      : noResource();
  return [
    {
      id: PROBES.resourceNoToken,
      purpose: 'the protected resource without any access token',
      appliesTo: () => (p.resource ? true : noResource()),
      build: () => ({ method: p.resource!.method, url: p.resource!.url }),
    },
    {
      id: PROBES.insufficientScopeToken,
      asClient: 0,
      purpose: `token request for a token without the scope the resource requires (scope ${narrow?.scope ? `"${narrow.scope}"` : 'not sent'})`,
      appliesTo: () => (narrow ? true : noNarrow()),
      build: async (ctx) =>
        withClientAuth(p, primary, {
          method: 'POST',
          url: ctx.tokenUrlOf(primary),
          form: await grantForm(p, narrow?.scope || undefined),
        }),
    },
    {
      id: PROBES.resourceInsufficientScope,
      purpose: `a token without the required scope (${p.resource?.requiredScope ?? '?'}) at the protected resource`,
      appliesTo: (ctx) =>
        !narrow
          ? noNarrow()
          : ctx.tokenOf(PROBES.insufficientScopeToken)
            ? true
            : prerequisite(
                'the token request for a token without the required scope got no access token',
              ),
      build: (ctx) => ({
        method: p.resource!.method,
        url: p.resource!.url,
        bearer: ctx.tokenOf(PROBES.insufficientScopeToken)!,
      }),
    },
  ];
};

/** Introspection of the fresh access token (RFC 7662 §2.1), by the client introspection.client names. */
export const introspectFreshProbe: ProbeUnits = (p) => [
  {
    id: PROBES.introspectFresh,
    purpose: 'introspection of the fresh access token',
    appliesTo: (ctx) =>
      p.introspection
        ? needsToken(ctx)
        : policy('the descriptor declares no introspection endpoint'),
    build: (ctx) => introspect(p, ctx.tokenOf(firstToken)!),
  },
];

const noIntrospection = () => policy('the descriptor declares no introspection endpoint');

/**
 * What introspection must answer besides a valid token (RFC 7662 §2.1, §2.2): a caller without any
 * client authentication (it presents the real fresh token, so a server that answers shows what it
 * would leak), and a token the server never issued.
 */
export const introspectionRefusalProbes: ProbeUnits = (p) => [
  {
    id: PROBES.introspectNoClientAuth,
    purpose: 'introspection of the fresh access token without any client authentication',
    appliesTo: (ctx) => (p.introspection ? needsToken(ctx) : noIntrospection()),
    build: (ctx) => ({
      method: 'POST',
      url: p.introspection!.url,
      form: introspectionForm(ctx.tokenOf(firstToken)!),
    }),
  },
  {
    id: PROBES.introspectUnknown,
    purpose: 'introspection of a random string the server never issued',
    appliesTo: () => (p.introspection ? true : noIntrospection()),
    build: (ctx) => introspect(p, `tc-unknown-${ctx.random(24)}`),
  },
];

function introspectionForm(token: string): [string, string][] {
  return [
    ['token', token],
    ['token_type_hint', 'access_token'],
  ];
}

function introspect(p: Provider, token: string) {
  return withClientAuth(p, p.introspection!.client, {
    method: 'POST',
    url: p.introspection!.url,
    form: introspectionForm(token),
  });
}

/** The token's lifetime as the response stated it, else as declared. */
function lifetimeOf(p: Provider, ctx: ProbeContext): number | undefined {
  const body = ctx.exchange(firstToken)?.response?.json as { expires_in?: unknown } | undefined;
  return typeof body?.expires_in === 'number' ? body.expires_in : p.expect.expiresIn;
}

/** Whether the expiry probes can wait the lifetime out: known, and within limits.maxExpiryWaitSeconds. */
function afterLifetime(p: Provider, ctx: ProbeContext): true | NotRun {
  const has = needsToken(ctx);
  if (has !== true) return has;
  const lifetime = lifetimeOf(p, ctx);
  if (lifetime === undefined)
    return policy('the lifetime is unknown: no expires_in and none declared (expect.expiresIn)');
  if (lifetime > p.limits.maxExpiryWaitSeconds)
    return policy(
      `the lifetime (${lifetime} s) is longer than the maximum wait (limits.maxExpiryWaitSeconds = ${p.limits.maxExpiryWaitSeconds} s)`,
    );
  return true;
}

function expiredAt(p: Provider, ctx: ProbeContext) {
  const lifetime = lifetimeOf(p, ctx) ?? 0;
  // One second past the lifetime, counted from when the token arrived (the server issued it no later).
  return {
    at: (ctx.answeredAt(firstToken) ?? Date.now()) + (lifetime + 1) * 1000,
    why: 'for the access token to expire',
  };
}

/** After the lifetime: the token at the resource, then at introspection (RFC 6750 §3.1, RFC 7662 §2.2). */
export const afterExpiryProbes: ProbeUnits = (p) => {
  const probes: { id: ProbeId; declared: boolean; why: string }[] = [
    {
      id: PROBES.resourceExpired,
      declared: p.resource !== undefined,
      why: 'the descriptor declares no protected resource (resource.url)',
    },
    {
      id: PROBES.introspectExpired,
      declared: p.introspection !== undefined,
      why: 'the descriptor declares no introspection endpoint',
    },
  ];
  return probes.map(({ id, declared, why }) => ({
    id,
    purpose: (ctx: ProbeContext) =>
      `${id === PROBES.resourceExpired ? 'the access token at the protected resource' : 'introspection of the access token'} after its lifetime (${lifetimeOf(p, ctx) ?? '?'} s)`,
    appliesTo: (ctx) => (declared ? afterLifetime(p, ctx) : policy(why)),
    notBefore: (ctx) => expiredAt(p, ctx),
    build: (ctx) => {
      const token = ctx.tokenOf(firstToken)!;
      return id === PROBES.resourceExpired
        ? { method: p.resource!.method, url: p.resource!.url, bearer: token }
        : introspect(p, token);
    },
  }));
};
