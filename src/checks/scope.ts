import type { Provider, ScopePolicy } from '../descriptor/types.js';
import { PROBES, type ProbeId } from '../probes/ids.js';
import type { Answered } from './types.js';
import {
  describeResponse,
  grantedScope,
  isSubset,
  jsonObject,
  list,
  oauthError,
  refused,
  sameSet,
  scopeSet,
  show,
} from './helpers.js';
import { withSuccess } from './response.js';
import { broken, defineCheck, fail, pass, rfc, type JudgeInput, type Verdict } from './types.js';

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
      ? pass(
          `granted ${list(scope)}${echoed ? '' : ' (scope omitted, which RFC 6749 §5.1 reads as the request granted in full)'}`,
        )
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
  applies: (p) =>
    p.expect.scopeEcho === 'always'
      ? true
      : 'the descriptor does not promise scope in every response (expect.scopeEcho)',
  needs: needsToken,
  judge: withSuccess((res) => {
    const s = jsonObject(res)?.['scope'];
    return typeof s === 'string'
      ? pass(`scope ${show(s)}`)
      : fail(`the response has no scope member (scope is ${show(s)})`);
  }),
});

/** What a token request asked for: the ordinary one, the forbidden scope mixed in, or alone. */
function requestedBy(p: Provider, probe: ProbeId): string | undefined {
  if (probe === PROBES.scopeForbidden)
    return [p.scopes.request, p.scopes.forbidden].filter(Boolean).join(' ');
  if (probe === PROBES.scopeUngrantable) return p.scopes.forbidden;
  return p.scopes.request;
}

/** A token was handed out (whatever the status: the response checks judge the status of token.0). */
const issued = (e: Answered) => e.response.accessToken !== undefined;

export const returnedWhenDifferent = defineCheck({
  id: 'scope.returned-when-different',
  title: 'scope is returned whenever the granted scope differs from the request',
  area: 'scope',
  level: 'MUST',
  spec: rfc(6749, '5.1'),
  defect:
    'the response omits scope while the token (its JWT scope claim) carries a different scope',
  // The forbidden-scope probes are read when they were sent and answered with a token (a narrowed
  // grant is exactly where scope must be returned); they are not needs, so a descriptor without a
  // forbidden scope still has token.0 judged.
  needs: needsToken,
  judge: ({ ex, answered, provider }): Verdict => {
    const candidates = [
      ex(PROBES.token(0)),
      ...answered([PROBES.scopeForbidden, PROBES.scopeUngrantable]),
    ].filter(issued);
    if (candidates.length === 0)
      return broken(
        `prerequisite failed: the token request was answered ${describeResponse(ex(PROBES.token(0)).response)}, so no granted scope can be compared`,
      );
    const problems: string[] = [];
    const unknown: string[] = [];
    let returned = 0;
    for (const e of candidates) {
      if (jsonObject(e.response)?.['scope'] !== undefined) {
        returned += 1;
        continue;
      }
      const requested = scopeSet(requestedBy(provider, e.probe));
      const claim = jwtScope(e);
      // No claim: the response is all there is, and it says "as requested"; whether that is true
      // cannot be known here (scope.forbidden and scope.ungrantable-alone judge what it claims).
      if (claim === undefined) unknown.push(e.probe);
      else if (!sameSet(claim, requested))
        problems.push(
          `${e.purpose}: scope is omitted but the token grants ${list(claim)} while ${list(requested)} was requested`,
        );
    }
    const probes = candidates.map((e) => e.probe);
    if (problems.length > 0) return fail(problems.join('; '), probes);
    const parts = [`scope is returned in ${returned} of ${candidates.length} token responses`];
    if (unknown.length > 0)
      parts.push(
        `omitted in ${unknown.join(', ')} with no scope claim in the token: what was granted cannot be known from the response, which RFC 6749 §5.1 has the client read as the request`,
      );
    if (returned + unknown.length < candidates.length)
      parts.push("where omitted otherwise, the token's scope claim equals the request");
    return pass(parts.join('; '), probes);
  },
});

export const notBroader = defineCheck({
  id: 'scope.not-broader',
  title: 'The granted scope is not broader than requested',
  area: 'scope',
  level: 'EXPECTATION',
  spec: rfc(6749, '3.3'),
  defect: 'the endpoint grants scopes that were not requested',
  applies: (p) =>
    p.expect.broaderScopeAllowed
      ? 'the descriptor allows a broader grant (expect.broaderScopeAllowed)'
      : p.scopes.request
        ? true
        : 'the descriptor requests no scope (scopes.request)',
  needs: needsToken,
  judge: withSuccess((_res, { ex, provider }) => {
    const requested = scopeSet(provider.scopes.request);
    const t = ex(PROBES.token(0));
    const { scope } = grantedScope(t, provider.scopes.request);
    const claim = jwtScope(t) ?? scope;
    const extra = [...new Set([...scope, ...claim])].filter((s) => !requested.has(s));
    return extra.length === 0
      ? pass(`granted ${list(scope)} within ${list(requested)}`)
      : fail(`granted ${list(new Set(extra))} beyond the requested ${list(requested)}`);
  }),
});

export const defaultScope = defineCheck({
  id: 'scope.default',
  title: 'A request without scope is granted the declared default',
  area: 'scope',
  level: 'EXPECTATION',
  spec: rfc(6749, '3.3'),
  defect: 'a request without scope gets something other than the documented default, or an error',
  applies: (p) =>
    p.scopes.default !== undefined
      ? true
      : 'the descriptor declares no default scope (scopes.default)',
  needs: () => [PROBES.scopeNone],
  judge: ({ ex, provider }): Verdict => {
    const e = ex(PROBES.scopeNone);
    const res = e.response;
    const declared = scopeSet(provider.scopes.default);
    if (res.status !== 200 || !res.accessToken)
      return fail(
        `a request without scope was answered ${describeResponse(res)}; the declared default is ${list(declared)}`,
      );
    const s = jsonObject(res)?.['scope'];
    const granted = typeof s === 'string' ? scopeSet(s) : jwtScope(e);
    if (granted === undefined) {
      // RFC 6749 §5.1: an omitted scope is the request's, and the request asked for none.
      return declared.size === 0
        ? pass(
            'the response omits scope and the token has no scope claim: by RFC 6749 §5.1 the grant is the request (no scope), which is the declared default',
          )
        : fail(
            `the response omits scope and the token has no scope claim, so what was granted cannot be known; RFC 6749 §5.1 reads that as the request (none), not the declared default ${list(declared)}`,
          );
    }
    return sameSet(granted, declared)
      ? pass(`granted ${list(granted)}, the declared default`)
      : fail(`granted ${list(granted)}; the declared default is ${list(declared)}`);
  },
});

export const noScopeHandled = defineCheck({
  id: 'scope.none-default-or-invalid-scope',
  title: 'A request without scope is granted (a default) or refused with invalid_scope',
  area: 'scope',
  level: 'MUST',
  levelReason:
    'RFC 6749 §3.3: if the client omits the scope parameter, the server MUST either process the request using a pre-defined default value or fail the request indicating an invalid scope. Any other answer (another error code, an empty 403) is neither.',
  spec: rfc(6749, '3.3'),
  defect:
    'a request without scope is refused with another error than invalid_scope (or without an OAuth error)',
  needs: () => [PROBES.scopeNone],
  judge: ({ ex }): Verdict => {
    const res = ex(PROBES.scopeNone).response;
    if (res.accessToken && res.status >= 200 && res.status < 300)
      return pass('processed with a default: a token was issued');
    if (refused(res) && oauthError(res) === 'invalid_scope')
      return pass(`refused with ${describeResponse(res)}`);
    return fail(
      `a request without scope was answered ${describeResponse(res)}; RFC 6749 §3.3 allows a token (a default scope) or error invalid_scope`,
    );
  },
});

export const scopeRequired = defineCheck({
  id: 'scope.required',
  title: 'A request without scope is refused, as declared (scopes.required)',
  area: 'scope',
  level: 'EXPECTATION',
  levelReason:
    'RFC 6749 §3.3 lets the server refuse a request without scope instead of granting a default; scopes.required declares that it does. The error code is judged by scope.none-default-or-invalid-scope.',
  spec: rfc(6749, '3.3'),
  defect:
    'a token is issued to a request without scope although the descriptor declares scope required',
  applies: (p) =>
    p.scopes.required === true
      ? true
      : 'the descriptor does not declare scope required (scopes.required)',
  needs: () => [PROBES.scopeNone],
  judge: ({ ex }): Verdict => {
    const res = ex(PROBES.scopeNone).response;
    return refused(res)
      ? pass(`refused with ${describeResponse(res)}`)
      : fail(
          `a request without scope was answered ${describeResponse(res)}; the descriptor declares scope required (scopes.required)`,
        );
  },
});

/** What a token response says was granted: its scope member, else the JWT's scope claim, else nothing readable. */
function grantOf(e: Answered): { scope: Set<string>; source: string } | undefined {
  const s = jsonObject(e.response)?.['scope'];
  if (typeof s === 'string') return { scope: scopeSet(s), source: 'the response grants' };
  const claim = jwtScope(e);
  return claim === undefined
    ? undefined
    : { scope: claim, source: "the response omits scope; the token's scope claim grants" };
}

const POLICY_FIELD = {
  [PROBES.scopeForbidden]: 'expect.forbiddenScope',
  [PROBES.scopeUngrantable]: 'expect.ungrantableScope',
} as const;

/**
 * A request including a scope the client may not have: refused or narrowed, as the descriptor's policy
 * says (either, when it promises nothing); a token that carries the scope fails whatever the policy.
 * Only whether a token was issued and what it grants is judged here: a refusal's error code is
 * scope.refused-with-invalid-scope's, a narrowed grant's missing scope member scope.returned-when-different's.
 */
function judgeForbidden(
  probe: typeof PROBES.scopeForbidden | typeof PROBES.scopeUngrantable,
  policyOf: (p: Provider) => ScopePolicy,
) {
  return ({ ex, provider }: JudgeInput): Verdict => {
    const e = ex(probe);
    const res = e.response;
    const policy = policyOf(provider);
    const field = `${POLICY_FIELD[probe]}: ${policy}`;
    const forbidden = scopeSet(provider.scopes.forbidden);
    const asked = `a request for ${list(scopeSet(requestedBy(provider, probe)))}`;
    if (refused(res)) {
      return policy === 'narrowed'
        ? fail(
            `${asked} was refused (${describeResponse(res)}); the descriptor declares a narrowed grant (${field})`,
          )
        : pass(
            `refused (${describeResponse(res)})${policy === 'either' ? ': one of the two answers RFC 6749 allows' : ', as declared'}`,
          );
    }
    if (!res.accessToken)
      return fail(`${asked} was answered ${describeResponse(res)}: neither a refusal nor a token`);
    const grant = grantOf(e);
    if (grant === undefined) {
      return fail(
        `${asked} was answered with a token and the response omits scope, which RFC 6749 §5.1 reads as the whole request granted, ${list(forbidden)} included; ` +
          `what the token really grants cannot be known (${res.accessToken.jwt ? 'the JWT has no scope claim' : 'the token is opaque'}), and a server that removed ${list(forbidden)} must say so by returning scope`,
      );
    }
    const claim = jwtScope(e);
    const leaked = [...forbidden].filter((s) => grant.scope.has(s) || claim?.has(s));
    if (leaked.length > 0)
      return fail(
        `${asked} was answered with a token that grants ${list(new Set(leaked))}, which the client may not have (${grant.source} ${list(grant.scope)})`,
      );
    if (policy === 'invalid_scope')
      return fail(
        `${asked} was answered with a token (${grant.source} ${list(grant.scope)}); the descriptor declares a refusal with invalid_scope (${field})`,
      );
    return pass(`narrowed: ${grant.source} ${list(grant.scope)}, without ${list(forbidden)}`);
  };
}

const FORBIDDEN_LEVEL_REASON =
  'RFC 6749 sets no MUST on which scopes a client may have: §3.3 leaves the granted scope to the server\'s policy, which may "fully or partially ignore the scope requested", and §5.2 offers invalid_scope for a scope that "exceeds the scope granted". scopes.forbidden declares that policy, so a token carrying the scope breaks a declared promise; the answer (refused, narrowed, either) is the descriptor\'s too.';

export const forbiddenScope = defineCheck({
  id: 'scope.forbidden',
  title:
    'A scope the client may not have, requested with one it may have, is not granted (refused or removed, as declared)',
  area: 'scope',
  level: 'EXPECTATION',
  levelReason: FORBIDDEN_LEVEL_REASON,
  spec: rfc(6749, '3.3'),
  defect:
    'the endpoint grants a scope the client may not have (or answers otherwise than declared)',
  applies: (p) =>
    p.scopes.forbidden ? true : 'the descriptor declares no forbidden scope (scopes.forbidden)',
  needs: () => [PROBES.scopeForbidden],
  judge: judgeForbidden(PROBES.scopeForbidden, (p) => p.expect.forbiddenScope),
});

export const ungrantableAlone = defineCheck({
  id: 'scope.ungrantable-alone',
  title:
    'A scope the client may not have, requested alone, is not granted (refused or removed, as declared)',
  area: 'scope',
  level: 'EXPECTATION',
  levelReason: FORBIDDEN_LEVEL_REASON,
  spec: rfc(6749, '3.3'),
  defect: 'the endpoint grants a scope the client may not have when it is the only one requested',
  applies: (p) =>
    p.scopes.forbidden ? true : 'the descriptor declares no forbidden scope (scopes.forbidden)',
  needs: () => [PROBES.scopeUngrantable],
  judge: judgeForbidden(PROBES.scopeUngrantable, (p) => p.expect.ungrantableScope),
});

export const refusedWithInvalidScope = defineCheck({
  id: 'scope.refused-with-invalid-scope',
  title: 'A request refused for a scope the client may not have is refused with invalid_scope',
  area: 'scope',
  level: 'MUST',
  levelReason:
    'RFC 6749 §5.2: the error MUST be one of the listed codes, and the one for a requested scope that is "invalid, unknown, malformed, or exceeds the scope granted" is invalid_scope. Whether to refuse at all is the server\'s choice (scope.forbidden, scope.ungrantable-alone).',
  spec: rfc(6749, '5.2'),
  defect:
    'a request for a scope the client may not have is refused with another error code (or without an OAuth error)',
  applies: (p) =>
    p.scopes.forbidden ? true : 'the descriptor declares no forbidden scope (scopes.forbidden)',
  needs: () => [PROBES.scopeForbidden, PROBES.scopeUngrantable],
  judge: ({ answered }): Verdict => {
    const refusals = answered([PROBES.scopeForbidden, PROBES.scopeUngrantable]).filter((e) =>
      refused(e.response),
    );
    if (refusals.length === 0)
      return pass(
        'neither request was refused (both were answered with a token): no error code to judge',
      );
    const wrong = refusals.filter((e) => oauthError(e.response) !== 'invalid_scope');
    const probes = refusals.map((e) => e.probe);
    return wrong.length === 0
      ? pass(`refused with invalid_scope (${refusals.map((e) => e.probe).join(', ')})`, probes)
      : fail(
          wrong
            .map(
              (e) =>
                `${e.purpose}: answered ${describeResponse(e.response)}, not error invalid_scope`,
            )
            .join('; '),
          wrong.map((e) => e.probe),
        );
  },
});

export const jwtScopeAgrees = defineCheck({
  id: 'scope.jwt-claim-agrees',
  title: "The JWT access token's scope claim agrees with the response",
  area: 'scope',
  level: 'SHOULD',
  levelReason:
    'RFC 9068 §2.2.3 says the JWT SHOULD carry the granted scope; agreement with the response is implied by both describing the same grant.',
  spec: rfc(9068, '2.2.3'),
  defect: "the JWT's scope claim differs from the scope in the token response",
  applies: (p) =>
    p.expect.tokenFormat === 'jwt'
      ? p.scopes.request
        ? true
        : 'the descriptor requests no scope (scopes.request)'
      : p.expect.tokenFormat === 'jwt-plain'
        ? 'the descriptor declares JWT access tokens not profiled by RFC 9068 (expect.tokenFormat: jwt-plain): no scope claim is promised'
        : 'the descriptor declares opaque access tokens',
  needs: needsToken,
  judge: withSuccess((res, { ex, provider }) => {
    const t = ex(PROBES.token(0));
    if (!res.accessToken?.jwt) return broken('prerequisite failed: the access token is not a JWT');
    const claim = jwtScope(t);
    const { scope } = grantedScope(t, provider.scopes.request);
    if (claim === undefined)
      return fail(`the JWT has no scope claim; the response grants ${list(scope)}`);
    return sameSet(claim, scope)
      ? pass(`both say ${list(scope)}`)
      : fail(`the JWT says ${list(claim)}, the response ${list(scope)}`);
  }),
});

export const scopeChecks = [
  requestedGranted,
  scopeEchoed,
  returnedWhenDifferent,
  notBroader,
  defaultScope,
  noScopeHandled,
  scopeRequired,
  forbiddenScope,
  ungrantableAlone,
  refusedWithInvalidScope,
  jwtScopeAgrees,
];
