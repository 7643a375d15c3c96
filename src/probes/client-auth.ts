import type { Provider } from '../descriptor/types.js';
import { ASSERTION_DEFECTS, PROBES } from './ids.js';
import { assertionClient, mtlsClient } from './clients.js';
import { grantForm, withClientAuth } from './request.js';
import { policy, type ProbeDef, type ProbeUnits } from './types.js';

/**
 * exp − iat of the probe of a declared maximum assertion lifetime: just over it, by the clock skew the
 * descriptor allows (a server whose clock runs ahead by that much still sees more than the maximum)
 * plus 10 s for the request's travel.
 */
export function overMaxLifetime(p: Provider): number {
  return (p.expect.clientAssertion.maxLifetimeSeconds ?? 0) + p.limits.clockSkewSeconds + 10;
}

/** Client authentication: spoilt assertions (RFC 7523 §3), replay, mTLS without a certificate (RFC 8705). */
export const clientAuthProbes: ProbeUnits = (p) => {
  const ac = assertionClient(p);
  const noJwtClient = () => (ac ? true : policy('no client authenticates with a JWT'));
  const token = async () => ({
    method: 'POST' as const,
    url: p.tokenEndpoint,
    form: await grantForm(p, p.scopes.request),
  });
  const spoilt: ProbeDef[] = ASSERTION_DEFECTS.map((defect) => ({
    id: PROBES.assertion(defect),
    purpose: `a client assertion with a defect: ${defect} (${ac?.label})`,
    appliesTo: noJwtClient,
    build: async () => withClientAuth(p, ac!, await token(), { defect }),
  }));
  const mc = mtlsClient(p);
  const maxLifetime = p.expect.clientAssertion.maxLifetimeSeconds;
  const asClient = ac ? p.clients.indexOf(ac) : undefined;
  const assertionProbes: ProbeDef[] = [
    ...spoilt,
    {
      id: PROBES.assertionFirstUse,
      purpose: `a fresh client assertion, first use (${ac?.label})`,
      appliesTo: noJwtClient,
      build: async () => withClientAuth(p, ac!, await token()),
    },
    {
      id: PROBES.assertionReplay,
      purpose: `the same client assertion again (${ac?.label})`,
      appliesTo: noJwtClient,
      build: (ctx) => ctx.requestOf(PROBES.assertionFirstUse)!,
    },
  ];
  return [
    ...(asClient === undefined
      ? assertionProbes
      : assertionProbes.map((probe) => ({ ...probe, asClient }))),
    {
      id: PROBES.assertionOverMaxLifetime,
      purpose: `a client assertion living just longer than the declared maximum (${ac?.label})`,
      appliesTo: () =>
        !ac
          ? noJwtClient()
          : maxLifetime === undefined
            ? policy(
                'the descriptor declares no maximum client-assertion lifetime (expect.clientAssertion.maxLifetimeSeconds)',
              )
            : true,
      build: async () =>
        withClientAuth(p, ac!, await token(), { assertionLifetimeSeconds: overMaxLifetime(p) }),
    },
    {
      id: PROBES.mtlsWithoutCertificate,
      ...(mc ? { asClient: p.clients.indexOf(mc) } : {}),
      purpose: `${mc?.label} without its client certificate`,
      appliesTo: () => (mc ? true : policy('no client uses TLS client authentication')),
      build: async (ctx) =>
        withClientAuth(
          p,
          mc!,
          { method: 'POST', url: ctx.tokenUrlOf(mc!), form: await grantForm(p, p.scopes.request) },
          { withoutCertificate: true },
        ),
    },
  ];
};
