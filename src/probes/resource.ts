import type { Provider } from '../descriptor/types.js';
import { PROBES, type ProbeId } from './ids.js';
import { withClientAuth } from './request.js';
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
    appliesTo: (ctx) => (p.resource ? needsToken(ctx) : policy('the descriptor declares no protected resource (resource.url)')),
    build: (ctx) => ({ method: p.resource!.method, url: p.resource!.url, bearer: ctx.tokenOf(firstToken)! }),
  },
];

/** Introspection of the fresh access token (RFC 7662 §2.1); the primary client authenticates. */
export const introspectFreshProbe: ProbeUnits = (p) => [
  {
    id: PROBES.introspectFresh,
    purpose: 'introspection of the fresh access token',
    appliesTo: (ctx) => (p.introspection ? needsToken(ctx) : policy('the descriptor declares no introspection endpoint')),
    build: (ctx) => introspect(p, ctx.tokenOf(firstToken)!),
  },
];

function introspect(p: Provider, token: string) {
  return withClientAuth(p, p.clients[0]!, { method: 'POST', url: p.introspection!.url, form: [['token', token], ['token_type_hint', 'access_token']] });
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
  if (lifetime === undefined) return policy('the lifetime is unknown: no expires_in and none declared (expect.expiresIn)');
  if (lifetime > p.limits.maxExpiryWaitSeconds) return policy(`the lifetime (${lifetime} s) is longer than the maximum wait (limits.maxExpiryWaitSeconds = ${p.limits.maxExpiryWaitSeconds} s)`);
  return true;
}

function expiredAt(p: Provider, ctx: ProbeContext) {
  const lifetime = lifetimeOf(p, ctx) ?? 0;
  // One second past the lifetime, counted from when the token arrived (the server issued it no later).
  return { at: (ctx.answeredAt(firstToken) ?? Date.now()) + (lifetime + 1) * 1000, why: 'for the access token to expire' };
}

/** After the lifetime: the token at the resource, then at introspection (RFC 6750 §3.1, RFC 7662 §2.2). */
export const afterExpiryProbes: ProbeUnits = (p) => {
  const probes: { id: ProbeId; declared: boolean; why: string }[] = [
    { id: PROBES.resourceExpired, declared: p.resource !== undefined, why: 'the descriptor declares no protected resource (resource.url)' },
    { id: PROBES.introspectExpired, declared: p.introspection !== undefined, why: 'the descriptor declares no introspection endpoint' },
  ];
  return probes.map(({ id, declared, why }) => ({
    id,
    purpose: (ctx: ProbeContext) => `${id === PROBES.resourceExpired ? 'the access token at the protected resource' : 'introspection of the access token'} after its lifetime (${lifetimeOf(p, ctx) ?? '?'} s)`,
    appliesTo: (ctx) => (declared ? afterLifetime(p, ctx) : policy(why)),
    notBefore: (ctx) => expiredAt(p, ctx),
    build: (ctx) => {
      const token = ctx.tokenOf(firstToken)!;
      return id === PROBES.resourceExpired ? { method: p.resource!.method, url: p.resource!.url, bearer: token } : introspect(p, token);
    },
  }));
};
