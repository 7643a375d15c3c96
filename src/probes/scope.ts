import { PROBES } from './ids.js';
import { grantForm, withClientAuth } from './request.js';
import { policy, type ProbeDef, type ProbeUnits } from './types.js';

/**
 * Scope behaviour (RFC 6749 §3.3): no scope at all, a scope the client may not have mixed with one it
 * may have, and the same scope alone. Mixed and alone are separate requests because a server may
 * narrow the first (drop what it cannot grant) yet refuse the second (nothing grantable is left).
 */
export const scopeProbes: ProbeUnits = (p) => {
  const primary = p.clients[0]!;
  const noForbidden = () =>
    p.scopes.forbidden
      ? true
      : policy('the descriptor declares no forbidden scope (scopes.forbidden)');
  const request = async (scope: string | undefined) =>
    withClientAuth(p, primary, {
      method: 'POST',
      url: p.tokenEndpoint,
      form: await grantForm(p, scope),
    });
  const probes: ProbeDef[] = [
    {
      id: PROBES.scopeNone,
      purpose: 'token request without scope',
      build: () => request(undefined),
    },
    {
      id: PROBES.scopeForbidden,
      purpose: 'token request with a scope the client may not have, next to one it may have',
      appliesTo: noForbidden,
      build: () => request([p.scopes.request, p.scopes.forbidden].filter(Boolean).join(' ')),
    },
    {
      id: PROBES.scopeUngrantable,
      purpose: 'token request with only a scope the client may not have',
      appliesTo: noForbidden,
      build: () => request(p.scopes.forbidden),
    },
  ];
  return probes.map((probe) => ({ ...probe, asClient: 0 }));
};
