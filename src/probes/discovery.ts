import { PROBES } from './ids.js';
import { wellKnownUrl } from './request.js';
import { policy, prerequisite, type ProbeUnits } from './types.js';

/** The server's metadata (RFC 8414 / OpenID Discovery) and its JWK Set, when the descriptor asks. */
export const discoveryProbes: ProbeUnits = (p) => [
  {
    id: PROBES.metadata,
    purpose: `server metadata (${p.discovery ?? 'none'})`,
    appliesTo: () => (p.discovery && p.issuer ? true : policy('the descriptor asks for no discovery (discovery, issuer)')),
    build: () => ({ method: 'GET', url: wellKnownUrl(p.issuer ?? '', p.discovery ?? 'openid-configuration') }),
  },
  {
    id: PROBES.jwks,
    purpose: 'the JWK Set of the signing keys',
    appliesTo: (ctx) => {
      if (ctx.jwksUri()) return true;
      return p.discovery ? prerequisite('the metadata names no https jwks_uri') : policy('no JWK Set is known (jwksUri or discovery)');
    },
    build: (ctx) => ({ method: 'GET', url: ctx.jwksUri() ?? '' }),
  },
];
