import { isAcceptableUrl } from '../descriptor/insecure.js';
import type { Provider } from '../descriptor/types.js';
import { PROBES } from './ids.js';
import { grantForm, wellKnownUrl, withClientAuth } from './request.js';
import { policy, prerequisite, type NotRun, type ProbeContext, type ProbeUnits } from './types.js';

/** The metadata's token_endpoint, when it is an https URL other than the one the descriptor uses. */
function advertisedElsewhere(p: Provider, ctx: ProbeContext): string | NotRun {
  const meta = ctx.exchange(PROBES.metadata)?.response?.json as
    { token_endpoint?: unknown } | undefined;
  const te = meta?.token_endpoint;
  if (!p.discovery || !p.issuer)
    return policy('the descriptor asks for no discovery (discovery, issuer)');
  if (!isAcceptableUrl(p, te))
    return policy('the metadata names no https token_endpoint (see discovery.token-endpoint)');
  if (te === p.tokenEndpoint)
    return policy('the metadata names the token endpoint the descriptor uses');
  return te;
}

/** The server's metadata (RFC 8414 / OpenID Discovery) and its JWK Set, when the descriptor asks. */
export const discoveryProbes: ProbeUnits = (p) => [
  {
    id: PROBES.metadata,
    purpose: `server metadata (${p.discovery ?? 'none'})`,
    appliesTo: () =>
      p.discovery && p.issuer
        ? true
        : policy('the descriptor asks for no discovery (discovery, issuer)'),
    build: () => ({
      method: 'GET',
      url: wellKnownUrl(p.issuer ?? '', p.discovery ?? 'openid-configuration'),
    }),
  },
  {
    id: PROBES.jwks,
    purpose: 'the JWK Set of the signing keys',
    appliesTo: (ctx) => {
      if (ctx.jwksUri()) return true;
      return p.discovery
        ? prerequisite('the metadata names no https jwks_uri')
        : policy('no JWK Set is known (jwksUri or discovery)');
    },
    build: (ctx) => ({ method: 'GET', url: ctx.jwksUri() ?? '' }),
  },
];

/**
 * When the metadata advertises another token endpoint than the one configured (a path alias, another
 * host name), the ordinary token request is made there too: a client that discovers it must get the
 * same answer (RFC 8414 §2). Sent after the ordinary token requests, which it is compared with.
 */
export const advertisedTokenEndpointProbe: ProbeUnits = (p) => [
  {
    id: PROBES.advertisedToken,
    purpose: "the ordinary token request at the metadata's token_endpoint",
    asClient: 0,
    appliesTo: (ctx) => {
      const te = advertisedElsewhere(p, ctx);
      return typeof te === 'string' ? true : te;
    },
    build: async (ctx) => ({
      ...(await withClientAuth(p, p.clients[0]!, {
        method: 'POST',
        url: advertisedElsewhere(p, ctx) as string,
        form: await grantForm(p, p.scopes.request),
      })),
    }),
  },
];
