import { PROBES } from '../probes/ids.js';
import type { Answered } from './types.js';
import { describeResponse, grantedScope, isSubset, jsonObject, list, oauthError, sameSet, scopeSet, show } from './helpers.js';
import { withSuccess } from './response.js';
import { broken, defineCheck, fail, pass, rfc, type Verdict } from './types.js';

const needsToken = () => [PROBES.token(0)];

/** The scope claim of a JWT access token as a set, or undefined when there is no JWT or no claim. */
function jwtScope(ex: Answered): Set<string> | undefined {
  const claim = ex.response.accessToken?.jwt?.payload['scope'];
  if (typeof claim === 'string') return scopeSet(claim);
  if (Array.isArray(claim)) return new Set(claim.filter((c): c is string => typeof c === 'string'));
  return undefined;
}

export const requestedGranted = defineCheck({
  id: 'scope.requested-granted',
  title: 'A requested scope the client may have is granted',
  area: 'scope',
  level: 'EXPECTATION',
  spec: rfc(6749, '3.3'),
  defect: 'the endpoint narrows a scope the descriptor says the client may have',
  applies: (p) => (p.scopes.request ? true : 'the descriptor requests no scope (scopes.request)'),
  needs: needsToken,
  judge: withSuccess((_res, { ex, provider }) => {
    const requested = scopeSet(provider.scopes.request);
    const { scope, echoed } = grantedScope(ex(PROBES.token(0)), provider.scopes.request);
    return isSubset(requested, scope)
      ? pass(`granted ${list(scope)}${echoed ? '' : ' (scope omitted: identical to the request)'}`)
      : fail(`requested ${list(requested)} but granted ${list(scope)}`);
  }),
});

export const scopeEchoed = defineCheck({
  id: 'scope.echoed',
  title: 'The response echoes the granted scope',
  area: 'scope',
  level: 'EXPECTATION',
  spec: rfc(6749, '5.1'),
  defect: 'the response omits scope although the descriptor promises it is always returned',
  applies: (p) => (p.expect.scopeEcho === 'always' ? true : 'the descriptor does not promise scope in every response (expect.scopeEcho)'),
  needs: needsToken,
  judge: withSuccess((res) => {
    const s = jsonObject(res)?.['scope'];
    return typeof s === 'string' ? pass(`scope ${show(s)}`) : fail(`the response has no scope member (scope is ${show(s)})`);
  }),
});

export const returnedWhenDifferent = defineCheck({
  id: 'scope.returned-when-different',
  title: 'scope is returned whenever the granted scope differs from the request',
  area: 'scope',
  level: 'MUST',
  spec: rfc(6749, '5.1'),
  defect: 'the response omits scope while the token (its JWT scope claim) carries a different scope',
  needs: needsToken,
  judge: withSuccess((res, { ex, provider }) => {
    if (typeof jsonObject(res)?.['scope'] === 'string') return pass('scope is returned');
    const claim = jwtScope(ex(PROBES.token(0)));
    if (claim === undefined) return pass('scope is omitted, so the client takes the requested scope; the token carries no scope claim that says otherwise');
    const requested = scopeSet(provider.scopes.request);
    return sameSet(claim, requested)
      ? pass(`scope is omitted and the token's scope claim equals the request ${list(requested)}`)
      : fail(`scope is omitted but the token grants ${list(claim)} while ${list(requested)} was requested`);
  }),
});

export const notBroader = defineCheck({
  id: 'scope.not-broader',
  title: 'The granted scope is not broader than requested',
  area: 'scope',
  level: 'EXPECTATION',
  spec: rfc(6749, '3.3'),
  defect: 'the endpoint grants scopes that were not requested',
  applies: (p) =>
    p.expect.broaderScopeAllowed ? 'the descriptor allows a broader grant (expect.broaderScopeAllowed)' : p.scopes.request ? true : 'the descriptor requests no scope (scopes.request)',
  needs: needsToken,
  judge: withSuccess((_res, { ex, provider }) => {
    const requested = scopeSet(provider.scopes.request);
    const t = ex(PROBES.token(0));
    const { scope } = grantedScope(t, provider.scopes.request);
    const claim = jwtScope(t) ?? scope;
    const extra = [...new Set([...scope, ...claim])].filter((s) => !requested.has(s));
    return extra.length === 0 ? pass(`granted ${list(scope)} within ${list(requested)}`) : fail(`granted ${list(new Set(extra))} beyond the requested ${list(requested)}`);
  }),
});

export const defaultScope = defineCheck({
  id: 'scope.default',
  title: 'A request without scope is granted the declared default',
  area: 'scope',
  level: 'EXPECTATION',
  spec: rfc(6749, '3.3'),
  defect: 'a request without scope gets something other than the documented default, or an error',
  applies: (p) => (p.scopes.default !== undefined ? true : 'the descriptor declares no default scope (scopes.default)'),
  needs: () => [PROBES.scopeNone],
  judge: ({ ex, provider }): Verdict => {
    const e = ex(PROBES.scopeNone);
    const res = e.response;
    const declared = scopeSet(provider.scopes.default);
    if (res.status !== 200 || !res.accessToken) return fail(`a request without scope was answered ${describeResponse(res)}; the declared default is ${list(declared)}`);
    const s = jsonObject(res)?.['scope'];
    const granted = typeof s === 'string' ? scopeSet(s) : (jwtScope(e) ?? new Set<string>());
    return sameSet(granted, declared) ? pass(`granted ${list(granted)}, the declared default`) : fail(`granted ${list(granted)}; the declared default is ${list(declared)}`);
  },
});

export const forbiddenScope = defineCheck({
  id: 'scope.forbidden',
  title: 'A scope the client may not have is refused or removed, as declared',
  area: 'scope',
  level: 'EXPECTATION',
  spec: rfc(6749, '5.2'),
  defect: 'the endpoint grants a scope the client may not have (or answers otherwise than declared)',
  applies: (p) => (p.scopes.forbidden ? true : 'the descriptor declares no forbidden scope (scopes.forbidden)'),
  needs: () => [PROBES.scopeForbidden],
  judge: ({ ex, provider }): Verdict => {
    const e = ex(PROBES.scopeForbidden);
    const res = e.response;
    const forbidden = scopeSet(provider.scopes.forbidden);
    if (provider.expect.forbiddenScope === 'invalid_scope') {
      return oauthError(res) === 'invalid_scope' && !res.accessToken
        ? pass(`refused with ${describeResponse(res)}`)
        : fail(`a request including ${list(forbidden)} was answered ${describeResponse(res)}; expected invalid_scope`);
    }
    if (res.status !== 200 || !res.accessToken) return fail(`a request including ${list(forbidden)} was answered ${describeResponse(res)}; expected a narrowed grant`);
    const requested = [provider.scopes.request, provider.scopes.forbidden].filter(Boolean).join(' ');
    const { scope } = grantedScope(e, requested);
    const claim = jwtScope(e) ?? scope;
    const leaked = [...forbidden].filter((s) => scope.has(s) || claim.has(s));
    return leaked.length === 0 ? pass(`narrowed to ${list(scope)}`) : fail(`granted ${list(new Set(leaked))}, which the client may not have`);
  },
});

export const jwtScopeAgrees = defineCheck({
  id: 'scope.jwt-claim-agrees',
  title: "The JWT access token's scope claim agrees with the response",
  area: 'scope',
  level: 'SHOULD',
  levelReason: 'RFC 9068 §2.2.3 says the JWT SHOULD carry the granted scope; agreement with the response is implied by both describing the same grant.',
  spec: rfc(9068, '2.2.3'),
  defect: "the JWT's scope claim differs from the scope in the token response",
  applies: (p) => (p.expect.tokenFormat === 'jwt' ? (p.scopes.request ? true : 'the descriptor requests no scope (scopes.request)') : 'the descriptor declares opaque access tokens'),
  needs: needsToken,
  judge: withSuccess((res, { ex, provider }) => {
    const t = ex(PROBES.token(0));
    if (!res.accessToken?.jwt) return broken('prerequisite failed: the access token is not a JWT');
    const claim = jwtScope(t);
    const { scope } = grantedScope(t, provider.scopes.request);
    if (claim === undefined) return fail(`the JWT has no scope claim; the response grants ${list(scope)}`);
    return sameSet(claim, scope) ? pass(`both say ${list(scope)}`) : fail(`the JWT says ${list(claim)}, the response ${list(scope)}`);
  }),
});

export const scopeChecks = [requestedGranted, scopeEchoed, returnedWhenDifferent, notBroader, defaultScope, forbiddenScope, jwtScopeAgrees];
