import type { Provider } from '../descriptor/types.js';
import { clientAuthProbes } from './client-auth.js';
import { advertisedTokenEndpointProbe, discoveryProbes } from './discovery.js';
import { clientErrorProbes } from './errors.js';
import {
  credentialPlacementProbes,
  formBodyProbe,
  grantAssertionProbes,
  malformedRequestProbes,
  tokenProbes,
} from './grant.js';
import {
  afterExpiryProbes,
  introspectFreshProbe,
  introspectionRefusalProbes,
  resourceFreshProbe,
  resourceRefusalProbes,
  resourceTamperedProbe,
} from './resource.js';
import { scopeProbes } from './scope.js';
import { authorizationCodeProbes } from './authorization-code.js';
import { refreshProbes } from './refresh.js';
import { dpopProbes } from './dpop.js';
import { resourceIndicatorProbes } from './resource-indicators.js';
import type { ProbeDef, ProbeUnits } from './types.js';

/** The first client's token is the one the resource and introspection probes present: they follow it at once. */
const firstTokenProbe: ProbeUnits = (p) => tokenProbes(p).slice(0, 1);
const otherTokenProbes: ProbeUnits = (p) => tokenProbes(p).slice(1);

/**
 * The probe plan, in the order the requests are made: discovery first (it may name the mTLS alias
 * and the JWK Set), the first client's token request and at once the probes that present that token
 * while it is surely valid (at the resource, at introspection: with a lifetime of seconds and a
 * request rate limit, waiting for every client's token first could outlast it), the other clients'
 * token requests, then the requests the endpoints must refuse, and last the probes that wait out
 * the token's lifetime.
 */
const PLAN: ProbeUnits[] = [
  discoveryProbes,
  firstTokenProbe,
  resourceFreshProbe,
  resourceTamperedProbe,
  introspectFreshProbe,
  introspectionRefusalProbes,
  otherTokenProbes,
  advertisedTokenEndpointProbe,
  resourceRefusalProbes,
  formBodyProbe,
  malformedRequestProbes,
  credentialPlacementProbes,
  clientErrorProbes,
  clientAuthProbes,
  grantAssertionProbes,
  scopeProbes,
  resourceIndicatorProbes,
  dpopProbes,
  afterExpiryProbes,
  // Last: reusing a rotated refresh token or a code may revoke the grant, and every token of it.
  refreshProbes,
  authorizationCodeProbes,
];

export function probePlan(p: Provider): ProbeDef[] {
  return PLAN.flatMap((units) => units(p));
}
