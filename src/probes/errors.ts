import type { ClientDescriptor } from '../descriptor/types.js';
import { PROBES } from './ids.js';
import { secretClient } from './clients.js';
import { grantForm, withClientAuth } from './request.js';
import { policy, type ProbeUnits } from './types.js';

/** Requests whose client authentication is wrong or missing: the endpoint must refuse them (RFC 6749 §5.2). */
export const clientErrorProbes: ProbeUnits = (p) => {
  const sc = secretClient(p);
  const primary = p.clients[0]!;
  const url = p.tokenEndpoint;
  return [
    {
      id: PROBES.wrongSecret,
      purpose: `a wrong client secret (${sc?.label ?? 'no secret client'})`,
      appliesTo: () => (sc ? true : policy('no client with a shared secret is declared')),
      build: async (ctx) =>
        withClientAuth(
          p,
          { ...sc!, auth: { ...sc!.auth, secret: `wrong-${ctx.random(12)}` } },
          { method: 'POST', url, form: await grantForm(p, p.scopes.request) },
        ),
    },
    {
      id: PROBES.unknownClient,
      purpose: 'an unknown client id',
      build: async (ctx) => {
        const unknown: ClientDescriptor = {
          ...primary,
          id: `tc-unknown-${ctx.random(6)}`,
          auth: { ...primary.auth, ...(primary.auth.secret ? { secret: ctx.random(24) } : {}) },
        };
        return withClientAuth(p, unknown, {
          method: 'POST',
          url,
          form: await grantForm(p, p.scopes.request),
        });
      },
    },
    {
      id: PROBES.noClientAuth,
      purpose: 'no client authentication at all',
      build: async () => ({ method: 'POST', url, form: await grantForm(p, p.scopes.request) }),
    },
  ];
};
