/**
 * Refresh tokens (RFC 6749 §6, RFC 9700 §4.14), whenever the ordinary token response carried one or
 * the descriptor supplies one (refresh.token). The order matters: the refusals that must not consume
 * the token come before the narrower refresh, and the rotation probes (reuse of a used token, then
 * the newest one) come last, because reuse may revoke the whole family.
 */
import type { Provider } from '../descriptor/types.js';
import { PROBES, type ProbeId } from './ids.js';
import { withClientAuth } from './request.js';
import { policy, type NotRun, type ProbeContext, type ProbeDef, type ProbeUnits } from './types.js';

const first: ProbeId = PROBES.token(0);

/** The refresh token the probes start from: the ordinary token response's, else the descriptor's. */
function original(p: Provider, ctx: ProbeContext): string | undefined {
  return ctx.refreshTokenOf(first) ?? p.refresh?.token;
}

/** After refresh.first (and the narrower refresh): the newest refresh token of the family. */
function newest(p: Provider, ctx: ProbeContext, after: ProbeId[]): string | undefined {
  for (const id of [...after].reverse()) {
    const t = ctx.refreshTokenOf(id);
    if (t) return t;
  }
  return original(p, ctx);
}

/**
 * The original grant's scope: the authorization request's (authorization_code), else what token.0
 * was granted (its scope member, else what was asked).
 */
function originalScope(p: Provider, ctx: ProbeContext): string[] {
  const granted = (ctx.exchange(first)?.response?.json as { scope?: unknown } | undefined)?.scope;
  const s =
    p.authorization?.scope ??
    (typeof granted === 'string' ? granted : (p.scopes.request ?? p.scopes.default ?? ''));
  return s.split(' ').filter(Boolean);
}

/** A scope within the original one: the declared one, else its first scope that is not an OpenID one. */
export function narrowerScope(p: Provider, ctx: ProbeContext): string | undefined {
  if (p.refresh?.narrowerScope) return p.refresh.narrowerScope;
  const all = originalScope(p, ctx);
  if (all.length < 2) return undefined;
  return all.find((s) => s !== 'openid' && s !== 'offline_access') ?? all[0];
}

/** The original scope plus one it does not hold: the declared one, else scopes.forbidden. */
export function broaderScope(p: Provider, ctx: ProbeContext): string | undefined {
  const extra = p.refresh?.broaderScope ?? p.scopes.forbidden;
  if (!extra) return undefined;
  return [...new Set([...originalScope(p, ctx), ...extra.split(' ')])].join(' ');
}

function refreshRequest(p: Provider, ctx: ProbeContext, token: string, scope?: string, client = 0) {
  const c = p.clients[client]!;
  return withClientAuth(p, c, {
    method: 'POST',
    url: ctx.tokenUrlOf(c),
    form: [
      ['grant_type', 'refresh_token'],
      ['refresh_token', token],
      ...(scope ? ([['scope', scope]] as [string, string][]) : []),
    ],
  });
}

export const refreshProbes: ProbeUnits = (p) => {
  const have = (ctx: ProbeContext): true | NotRun =>
    p.expect.refreshToken === 'absent' && !p.refresh
      ? policy(
          'the descriptor declares that no refresh token is issued (expect.refreshToken: absent)',
        )
      : original(p, ctx)
        ? true
        : policy(
            'no refresh token: the ordinary token response carried none, and the descriptor supplies none (refresh.token)',
          );
  const afterFirst = (ctx: ProbeContext): true | NotRun => {
    const h = have(ctx);
    if (h !== true) return h;
    return ctx.tokenOf(PROBES.refreshFirst)
      ? true
      : policy('the first refresh gave no access token, so the refresh token is not usable');
  };
  const other = p.authorization?.otherClient ?? (p.clients.length > 1 ? 1 : undefined);
  const rotation = p.refresh?.rotation === true;
  const probes: ProbeDef[] = [
    {
      id: PROBES.refreshFirst,
      asClient: 0,
      purpose: 'the refresh token, redeemed (grant_type refresh_token, no scope)',
      appliesTo: have,
      build: (ctx) => refreshRequest(p, ctx, original(p, ctx)!),
    },
    {
      id: PROBES.refreshBroader,
      asClient: 0,
      purpose: (ctx) =>
        `the newest refresh token with a scope broader than the original grant (${broaderScope(p, ctx) ?? ''})`,
      appliesTo: (ctx) => {
        const h = afterFirst(ctx);
        if (h !== true) return h;
        return broaderScope(p, ctx)
          ? true
          : policy(
              'no scope beyond the original is declared (refresh.broaderScope, scopes.forbidden)',
            );
      },
      build: (ctx) =>
        refreshRequest(p, ctx, newest(p, ctx, [PROBES.refreshFirst])!, broaderScope(p, ctx)),
    },
    {
      id: PROBES.refreshOtherClient,
      ...(other !== undefined ? { asClient: other } : {}),
      purpose: 'the newest refresh token, presented by another client',
      appliesTo: (ctx) => {
        const h = afterFirst(ctx);
        if (h !== true) return h;
        return other !== undefined ? true : policy('no second client is declared');
      },
      build: (ctx) =>
        refreshRequest(p, ctx, newest(p, ctx, [PROBES.refreshFirst])!, undefined, other),
    },
    {
      id: PROBES.refreshNarrower,
      asClient: 0,
      purpose: (ctx) =>
        `the newest refresh token with a narrower scope (${narrowerScope(p, ctx) ?? ''})`,
      appliesTo: (ctx) => {
        const h = afterFirst(ctx);
        if (h !== true) return h;
        return narrowerScope(p, ctx)
          ? true
          : policy('the original grant holds a single scope: nothing narrower to ask for');
      },
      build: (ctx) =>
        refreshRequest(p, ctx, newest(p, ctx, [PROBES.refreshFirst])!, narrowerScope(p, ctx)),
    },
    {
      id: PROBES.refreshReuseOld,
      asClient: 0,
      purpose: 'the refresh token already redeemed by the first refresh, again (rotation declared)',
      appliesTo: (ctx) => {
        if (!rotation) return policy('the descriptor does not declare rotation (refresh.rotation)');
        const h = afterFirst(ctx);
        if (h !== true) return h;
        return ctx.refreshTokenOf(PROBES.refreshFirst)
          ? true
          : policy('the first refresh returned no new refresh token, so nothing was rotated');
      },
      build: (ctx) => refreshRequest(p, ctx, original(p, ctx)!),
    },
    {
      id: PROBES.refreshAfterReuse,
      asClient: 0,
      purpose: 'the newest refresh token, after the reuse of a rotated one (family revoked?)',
      appliesTo: (ctx) =>
        ctx.exchange(PROBES.refreshReuseOld)?.response
          ? true
          : policy('the rotated refresh token was not presented again'),
      build: (ctx) =>
        refreshRequest(p, ctx, newest(p, ctx, [PROBES.refreshFirst, PROBES.refreshNarrower])!),
    },
  ];
  return probes;
};
