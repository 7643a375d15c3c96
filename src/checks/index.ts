import { assertionMaxLifetime, raisedByPromise } from './client-assertion-policy.js';
import { authorizationCodeChecks } from './authorization-code.js';
import { refreshChecks } from './refresh.js';
import { clientAuthChecks } from './client-auth.js';
import { discoveryChecks } from './discovery.js';
import { dpopChecks } from './dpop.js';
import { errorChecks } from './errors.js';
import { expiryChecks } from './expiry.js';
import { grantChecks } from './grant.js';
import { introspectionChecks } from './introspection.js';
import { jwtChecks, tokenGuessability } from './jwt.js';
import { resourceChecks } from './resource.js';
import { resourceIndicatorChecks } from './resource-indicators.js';
import { responseChecks } from './response.js';
import { scopeChecks } from './scope.js';
import { tokenEntropyBound } from './token-entropy.js';
import type { CheckDef } from './types.js';

/** Every check, in report order: Grant handling, Response schema, Expiry, Scope echo, Error behaviour. */
export const CHECKS: CheckDef[] = [
  ...grantChecks,
  ...resourceIndicatorChecks,
  ...clientAuthChecks.map(raisedByPromise),
  assertionMaxLifetime,
  ...discoveryChecks,
  ...responseChecks,
  tokenGuessability,
  tokenEntropyBound,
  ...jwtChecks,
  ...introspectionChecks,
  ...resourceChecks,
  ...expiryChecks,
  ...scopeChecks,
  ...errorChecks,
  ...authorizationCodeChecks,
  ...refreshChecks,
  ...dpopChecks,
];
