import { PROBES } from './ids.js';
import { grantForm, withClientAuth } from './request.js';
import { policy, type ProbeDef, type ProbeUnits } from './types.js';

/** Scope behaviour (RFC 6749 §3.3): no scope at all, and a scope the client may not have. */
export const scopeProbes: ProbeUnits = (p) => {
  const primary = p.clients[0]!;
  const probes: ProbeDef[] = [
    { id: PROBES.scopeNone, purpose: 'token request without scope', build: async () => withClientAuth(p, primary, { method: 'POST', url: p.tokenEndpoint, form: await grantForm(p, undefined) }) },
    {
      id: PROBES.scopeForbidden,
      purpose: 'token request with a scope the client may not have',
      appliesTo: () => (p.scopes.forbidden ? true : policy('the descriptor declares no forbidden scope (scopes.forbidden)')),
      build: async () => withClientAuth(p, primary, { method: 'POST', url: p.tokenEndpoint, form: await grantForm(p, [p.scopes.request, p.scopes.forbidden].filter(Boolean).join(' ')) }),
    },
  ];
  return probes.map((probe) => ({ ...probe, asClient: 0 }));
};
