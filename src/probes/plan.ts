import type { Provider } from '../descriptor/types.js';
import { clientAuthProbes } from './client-auth.js';
import { advertisedTokenEndpointProbe, discoveryProbes } from './discovery.js';
import { clientErrorProbes } from './errors.js';
import { credentialPlacementProbes, formBodyProbe, grantAssertionProbes, malformedRequestProbes, tokenProbes } from './grant.js';
import { afterExpiryProbes, introspectFreshProbe, resourceFreshProbe } from './resource.js';
import { scopeProbes } from './scope.js';
import type { ProbeDef, ProbeUnits } from './types.js';

/**
 * The probe plan, in the order the requests are made: discovery first (it may name the mTLS alias
 * and the JWK Set), the ordinary token requests (their token is reused), then the requests the
 * endpoint must refuse, and last the probes that wait out the token's lifetime.
 */
const PLAN: ProbeUnits[] = [
  discoveryProbes,
  tokenProbes,
  advertisedTokenEndpointProbe,
  resourceFreshProbe,
  introspectFreshProbe,
  formBodyProbe,
  malformedRequestProbes,
  credentialPlacementProbes,
  clientErrorProbes,
  clientAuthProbes,
  grantAssertionProbes,
  scopeProbes,
  afterExpiryProbes,
];

export function probePlan(p: Provider): ProbeDef[] {
  return PLAN.flatMap((units) => units(p));
}
