import { clientAuthChecks } from './client-auth.js';
import { discoveryChecks } from './discovery.js';
import { errorChecks } from './errors.js';
import { expiryChecks } from './expiry.js';
import { grantChecks } from './grant.js';
import { introspectionChecks } from './introspection.js';
import { jwtChecks, tokenGuessability } from './jwt.js';
import { resourceChecks } from './resource.js';
import { responseChecks } from './response.js';
import { scopeChecks } from './scope.js';
import type { CheckDef } from './types.js';

/** Every check, in report order: Grant handling, Response schema, Expiry, Scope echo, Error behaviour. */
export const CHECKS: CheckDef[] = [...grantChecks, ...clientAuthChecks, ...discoveryChecks, ...responseChecks, tokenGuessability, ...jwtChecks, ...introspectionChecks, ...resourceChecks, ...expiryChecks, ...scopeChecks, ...errorChecks];
