/**
 * Every check, both ways, on recorded exchanges: it passes on the conformant recording and fails
 * (or warns, for SHOULD) with its own id and a clear message on a copy that has exactly its defect.
 */
import { describe, expect, it } from 'vitest';
import { CHECKS } from '../../src/checks/index.js';
import type { Evidence } from '../../src/checks/types.js';
import type { Provider } from '../../src/descriptor/types.js';
import { evaluate, type Finding, type Outcome } from '../../src/evaluate.js';
import { conformant, errorResponse, exchange, grantsToken, json, jwtPayload, res } from './fixture.js';

interface DefectCase {
  check: string;
  defect: string;
  /** Outcome expected for the targeted check (fail for MUST/EXPECTATION, warn for SHOULD). */
  expect: Outcome;
  message: RegExp;
  /** When the check runs once per client, which instance carries the defect. */
  client?: string;
  apply: (e: Evidence, p: Provider) => void;
}

const CASES: DefectCase[] = [
  // Grant handling
  { check: 'grant.client-credentials', client: 'client_secret_post', defect: 'post client refused', expect: 'fail', message: /client_secret_post was answered 401 invalid_client/, apply: (e) => errorResponse(e, 'token.1', 401, 'invalid_client') },
  { check: 'grant.token-accepted-at-resource', defect: 'resource refuses a fresh token', expect: 'fail', message: /answered 401 to a fresh token/, apply: (e) => { res(e, 'resource.fresh').status = 401; } },
  { check: 'grant.get-refused', defect: 'GET issues a token', expect: 'warn', message: /GET token request was answered 200 with an access token/, apply: (e) => grantsToken(e, 'grant.get') },
  { check: 'grant.missing-grant-type', defect: 'wrong error code', expect: 'fail', message: /without grant_type was answered 400 unsupported_grant_type; expected error invalid_request/, apply: (e) => errorResponse(e, 'grant.missing-grant-type', 400, 'unsupported_grant_type') },
  { check: 'grant.unknown-grant-type', defect: 'wrong error code', expect: 'fail', message: /expected error unsupported_grant_type/, apply: (e) => errorResponse(e, 'grant.unknown-grant-type', 400, 'invalid_request') },
  { check: 'grant.repeated-parameter', defect: 'repeated grant_type accepted', expect: 'warn', message: /grant_type twice was answered 200/, apply: (e) => grantsToken(e, 'grant.repeated-parameter') },
  { check: 'grant.query-credentials-refused', defect: 'query credentials accepted', expect: 'warn', message: /query string was answered 200/, apply: (e) => grantsToken(e, 'grant.query-credentials') },
  { check: 'grant.two-auth-methods-refused', defect: 'two methods accepted', expect: 'warn', message: /Basic and client_secret in the body was answered 200/, apply: (e) => grantsToken(e, 'grant.two-methods') },
  { check: 'grant.no-refresh-token', defect: 'refresh token issued (declared absent)', expect: 'fail', message: /carries a refresh_token/, apply: (e) => { res(e, 'token.0').refreshToken = { jsonType: 'string', length: 40, vschar: true, preview: 'rt-12345...(redacted, 40 chars)' }; } },
  { check: 'grant.no-refresh-token', defect: 'refresh token issued (allowed by descriptor: SHOULD NOT)', expect: 'warn', message: /carries a refresh_token/, apply: (e, p) => { p.expect.refreshToken = 'allowed'; res(e, 'token.0').refreshToken = { jsonType: 'string', length: 40, vschar: true, preview: 'rt' }; } },
  // Response schema
  { check: 'response.status-200', defect: '201 Created', expect: 'fail', message: /answered 201 with an access token/, apply: (e) => { res(e, 'token.0').status = 201; } },
  { check: 'response.content-type-json', defect: 'text/plain', expect: 'fail', message: /Content-Type is "text\/plain", not application\/json/, apply: (e) => { res(e, 'token.0').headers['content-type'] = ['text/plain']; } },
  { check: 'response.content-type-json', defect: 'application/jsonx (a substring match would pass it)', expect: 'fail', message: /not application\/json/, apply: (e) => { res(e, 'token.0').headers['content-type'] = ['application/jsonx']; } },
  { check: 'response.schema', defect: 'token_type missing', expect: 'fail', message: /required member "token_type" is missing/, apply: (e) => { delete json(e, 'token.0')['token_type']; } },
  { check: 'response.schema', defect: 'body not JSON', expect: 'fail', message: /not JSON/, apply: (e) => { const r = res(e, 'token.0'); delete r.json; r.jsonError = 'Unexpected token <'; } },
  { check: 'response.access-token-syntax', defect: 'non-VSCHAR token', expect: 'fail', message: /outside VSCHAR/, apply: (e) => { res(e, 'token.0').accessToken!.vschar = false; } },
  { check: 'response.token-type', defect: 'token_type mac', expect: 'fail', message: /token_type is "mac", expected "Bearer"/, apply: (e) => { json(e, 'token.0')['token_type'] = 'mac'; } },
  { check: 'response.expires-in-integer', defect: 'expires_in as a string', expect: 'fail', message: /expires_in is "5", a JSON string, not a number/, apply: (e) => { json(e, 'token.0')['expires_in'] = '5'; } },
  { check: 'response.expires-in-integer', defect: 'fractional expires_in', expect: 'fail', message: /not an integer/, apply: (e) => { json(e, 'token.0')['expires_in'] = 5.5; } },
  { check: 'response.expires-in-integer', defect: 'zero expires_in', expect: 'fail', message: /must be positive/, apply: (e) => { json(e, 'token.0')['expires_in'] = 0; } },
  { check: 'response.expires-in-present', defect: 'expires_in omitted', expect: 'warn', message: /expires_in is absent/, apply: (e) => { delete json(e, 'token.0')['expires_in']; } },
  { check: 'response.scope-syntax', defect: 'scope as an array', expect: 'fail', message: /scope is a JSON array/, apply: (e) => { json(e, 'token.0')['scope'] = ['api:read']; } },
  { check: 'response.scope-syntax', defect: 'double space', expect: 'fail', message: /is not scope-token/, apply: (e) => { json(e, 'token.0')['scope'] = 'api:read  api:write'; } },
  { check: 'response.cache-control', defect: 'no-cache instead of no-store', expect: 'fail', message: /Cache-Control is "no-cache", without no-store/, apply: (e) => { res(e, 'token.0').headers['cache-control'] = ['no-cache']; } },
  { check: 'response.cache-control', defect: 'no-store-ish (a substring match would pass it)', expect: 'fail', message: /without no-store/, apply: (e) => { res(e, 'token.0').headers['cache-control'] = ['max-age=0, no-store-ish']; } },
  { check: 'response.pragma', defect: 'Pragma missing', expect: 'warn', message: /Pragma is absent, not no-cache/, apply: (e) => { delete res(e, 'token.0').headers['pragma']; } },
  { check: 'response.token-format', defect: 'opaque token where JWT declared', expect: 'fail', message: /not a JWT; the descriptor declares tokenFormat: jwt/, apply: (e) => { delete res(e, 'token.0').accessToken!.jwt; } },
  // Expiry
  { check: 'expiry.expires-in-declared', defect: 'lifetime 3600 instead of 5', expect: 'fail', message: /expires_in is 3600; the descriptor declares 5/, apply: (e) => { json(e, 'token.0')['expires_in'] = 3600; } },
  { check: 'expiry.jwt-lifetime', defect: 'exp − iat disagrees', expect: 'fail', message: /exp − iat = 60 s but expires_in is 5 s/, apply: (e) => { const p = jwtPayload(e); p['exp'] = (p['iat'] as number) + 60; } },
  { check: 'expiry.jwt-iat-current', defect: 'iat an hour early', expect: 'warn', message: /iat is -36\d\d s from the response time/, apply: (e) => { const p = jwtPayload(e); p['iat'] = (p['iat'] as number) - 3600; p['exp'] = (p['exp'] as number) - 3600; } },
  { check: 'expiry.refused-after-expiry', defect: 'expired token accepted', expect: 'fail', message: /answered 200 to an expired token/, apply: (e) => { res(e, 'resource.expired').status = 200; } },
  { check: 'expiry.expired-token-challenge', defect: 'no WWW-Authenticate', expect: 'warn', message: /no Bearer challenge in WWW-Authenticate/, apply: (e) => { delete res(e, 'resource.expired').headers['www-authenticate']; } },
  { check: 'expiry.expired-token-challenge', defect: '403 instead of 401', expect: 'warn', message: /answered 403 invalid_token, not 401/, apply: (e) => { res(e, 'resource.expired').status = 403; } },
  { check: 'expiry.expired-token-challenge', defect: 'wrong error code', expect: 'warn', message: /error="invalid_request", not "invalid_token"/, apply: (e) => { res(e, 'resource.expired').headers['www-authenticate'] = ['Bearer realm="x", error="invalid_request"']; } },
  // Scope echo
  { check: 'scope.requested-granted', defect: 'requested scope narrowed away', expect: 'fail', message: /requested "api:read" but granted "api:write"/, apply: (e) => { json(e, 'token.0')['scope'] = 'api:write'; jwtPayload(e)['scope'] = 'api:write'; } },
  { check: 'scope.echoed', defect: 'scope omitted although promised', expect: 'fail', message: /no scope member/, apply: (e, p) => { p.expect.scopeEcho = 'always'; delete json(e, 'token.0')['scope']; } },
  { check: 'scope.returned-when-different', defect: 'scope omitted while the token differs', expect: 'fail', message: /scope is omitted but the token grants "api:read api:write"/, apply: (e) => { delete json(e, 'token.0')['scope']; jwtPayload(e)['scope'] = 'api:read api:write'; } },
  { check: 'scope.not-broader', defect: 'broader grant', expect: 'fail', message: /granted "api:write" beyond the requested "api:read"/, apply: (e) => { json(e, 'token.0')['scope'] = 'api:read api:write'; jwtPayload(e)['scope'] = 'api:read api:write'; } },
  { check: 'scope.default', defect: 'no-scope request gets a scope', expect: 'fail', message: /granted "api:read"; the declared default is \(none\)/, apply: (e) => grantsToken(e, 'scope.none', 'api:read') },
  { check: 'scope.default', defect: 'no-scope request refused', expect: 'fail', message: /without scope was answered 400 invalid_scope/, apply: (e) => errorResponse(e, 'scope.none', 400, 'invalid_scope') },
  { check: 'scope.forbidden', defect: 'forbidden scope granted', expect: 'fail', message: /answered 200 with an access token; expected invalid_scope/, apply: (e) => grantsToken(e, 'scope.forbidden', 'api:read admin') },
  { check: 'scope.forbidden', defect: 'declared narrowed, endpoint grants it', expect: 'fail', message: /granted "admin", which the client may not have/, apply: (e, p) => { p.expect.forbiddenScope = 'narrowed'; grantsToken(e, 'scope.forbidden', 'api:read admin'); } },
  { check: 'scope.jwt-claim-agrees', defect: 'JWT scope differs from response', expect: 'warn', message: /the JWT says "api:write", the response "api:read"/, apply: (e) => { jwtPayload(e)['scope'] = 'api:write'; } },
  // Error behaviour
  { check: 'errors.wrong-secret', defect: 'wrong secret accepted', expect: 'fail', message: /not authenticated but got a token/, apply: (e) => grantsToken(e, 'errors.wrong-secret') },
  { check: 'errors.wrong-secret', defect: 'wrong code', expect: 'fail', message: /answered 400 invalid_request; expected error invalid_client/, apply: (e) => errorResponse(e, 'errors.wrong-secret', 400, 'invalid_request') },
  { check: 'errors.unknown-client', defect: 'unknown client gets a token', expect: 'fail', message: /an unknown client id was answered 200/, apply: (e) => grantsToken(e, 'errors.unknown-client') },
  { check: 'errors.no-client-auth', defect: 'no authentication gets a token', expect: 'fail', message: /without client authentication was answered 200/, apply: (e) => grantsToken(e, 'errors.no-client-auth') },
  { check: 'errors.no-client-auth', defect: 'unauthorized_client', expect: 'fail', message: /expected error invalid_client or invalid_request/, apply: (e) => errorResponse(e, 'errors.no-client-auth', 400, 'unauthorized_client') },
  { check: 'errors.invalid-client-401-challenge', defect: '400 after Basic', expect: 'fail', message: /a wrong client secret \(client_secret_basic\): status 400, not 401/, apply: (e) => { res(e, 'errors.wrong-secret').status = 400; } },
  { check: 'errors.invalid-client-401-challenge', defect: '401 without challenge', expect: 'fail', message: /no Basic challenge in WWW-Authenticate/, apply: (e) => { delete res(e, 'errors.unknown-client').headers['www-authenticate']; } },
  { check: 'errors.status', defect: '500 for a missing grant_type', expect: 'fail', message: /without grant_type: 500 invalid_request: expected 400/, apply: (e) => { res(e, 'grant.missing-grant-type').status = 500; } },
  { check: 'errors.status', defect: '401 for invalid_request', expect: 'fail', message: /401 is only for invalid_client/, apply: (e) => { res(e, 'errors.no-client-auth').status = 401; } },
  { check: 'errors.content-type-json', defect: 'HTML error page', expect: 'fail', message: /unknown grant_type: Content-Type "text\/html"/, apply: (e) => { res(e, 'grant.unknown-grant-type').headers['content-type'] = ['text/html']; } },
  { check: 'errors.schema', defect: 'unregistered error code', expect: 'fail', message: /error: "bad_thing" is not one of the registered values/, apply: (e) => { json(e, 'grant.unknown-grant-type')['error'] = 'bad_thing'; } },
  { check: 'errors.schema', defect: 'quote in error_description', expect: 'fail', message: /error_description: must match pattern/, apply: (e) => { json(e, 'grant.unknown-grant-type')['error_description'] = 'say "hi"'; } },
  { check: 'errors.cache-control', defect: 'error without no-store', expect: 'warn', message: /without grant_type: Cache-Control absent/, apply: (e) => { delete res(e, 'grant.missing-grant-type').headers['cache-control']; } },
];

function findingsFor(mutate?: (e: Evidence, p: Provider) => void, strict = false): Finding[] {
  const { provider, evidence } = conformant();
  mutate?.(evidence, provider);
  return evaluate(provider, evidence, { strict });
}

describe('the conformant recording', () => {
  const findings = findingsFor();
  it('passes every applicable check', () => {
    const notPassed = findings.filter((f) => f.outcome !== 'pass' && f.outcome !== 'skipped');
    expect(notPassed.map((f) => `${f.checkId}: ${f.outcome} ${f.message}`)).toEqual([]);
  });
  it('skips only what the descriptor rules out, with the reason', () => {
    const skipped = findings.filter((f) => f.outcome === 'skipped');
    expect(skipped.map((f) => [f.checkId, f.message])).toEqual([['scope.echoed', expect.stringMatching(/^not applicable: the descriptor does not promise scope/)]]);
  });
  it('reports one finding per check and client', () => {
    expect(findings).toHaveLength(CHECKS.length + 1); // grant.client-credentials runs for two clients
  });
});

describe('each check catches its defect', () => {
  it.each(CASES.map((c) => [`${c.check}: ${c.defect}`, c] as const))('%s', (_name, c) => {
    const findings = findingsFor(c.apply);
    const target = findings.filter((f) => f.checkId === c.check && (c.client === undefined || f.params['client'] === c.client));
    expect(target).toHaveLength(1);
    expect(target[0]?.outcome).toBe(c.expect);
    expect(target[0]?.message).toMatch(c.message);
  });

  it('has a defect case for every check (a check that cannot fail is a defect)', () => {
    const covered = new Set(CASES.map((c) => c.check));
    expect(CHECKS.map((c) => c.id).filter((id) => !covered.has(id))).toEqual([]);
  });

  it('turns SHOULD warnings into failures with --strict', () => {
    const f = findingsFor((e) => delete res(e, 'token.0').headers['pragma'], true).find((x) => x.checkId === 'response.pragma');
    expect(f?.outcome).toBe('fail');
  });
});

describe('valid but unusual behaviour is not flagged', () => {
  const unusual: [string, (e: Evidence, p: Provider) => void][] = [
    ['lowercase token_type "bearer"', (e) => { json(e, 'token.0')['token_type'] = 'bearer'; }],
    ['application/json without charset', (e) => { res(e, 'token.0').headers['content-type'] = ['application/json']; }],
    ['Cache-Control: no-store, no-cache in two header lines', (e) => { res(e, 'token.0').headers['cache-control'] = ['no-cache', 'No-Store']; }],
    ['unknown extra members', (e) => { json(e, 'token.0')['x_vendor'] = { nested: true }; }],
    ['scope tokens in another order', (e, p) => { p.scopes.request = 'api:write api:read'; json(e, 'token.0')['scope'] = 'api:read api:write'; jwtPayload(e)['scope'] = 'api:read api:write'; }],
    ['scope omitted when identical to the request', (e) => { delete json(e, 'token.0')['scope']; }],
    ['error_uri present', (e) => { json(e, 'grant.unknown-grant-type')['error_uri'] = 'https://example.com/errors#unsupported_grant_type'; }],
    ['400 invalid_client when the client used client_secret_post', (e) => { errorResponse(e, 'errors.no-client-auth', 400, 'invalid_client'); }],
    ['405 for GET', (e) => { res(e, 'grant.get').status = 405; }],
    ['scope claim as an array in the JWT', (e) => { jwtPayload(e)['scope'] = ['api:read']; }],
  ];
  it.each(unusual)('%s', (_name, mutate) => {
    const bad = findingsFor(mutate).filter((f) => f.outcome === 'fail' || f.outcome === 'warn' || f.outcome === 'broken');
    expect(bad.map((f) => `${f.checkId}: ${f.message}`)).toEqual([]);
  });
});

describe('outages and policies are never failures', () => {
  it('a transport error on the token request makes its checks broken with the reason', () => {
    const findings = findingsFor((e) => {
      const ex = exchange(e, 'token.0');
      delete ex.response;
      ex.transportError = { kind: 'refused', code: 'ECONNREFUSED', message: 'connection refused by 127.0.0.1:8443: the endpoint is unreachable' };
    });
    const f = findings.find((x) => x.checkId === 'response.cache-control');
    expect(f?.outcome).toBe('broken');
    expect(f?.message).toMatch(/endpoint unreachable or misbehaving: connection refused/);
    expect(findings.some((x) => x.outcome === 'fail')).toBe(false);
  });
  it('a request not sent for the budget is skipped; one cut by the circuit breaker is broken', () => {
    const findings = findingsFor((e) => {
      const get = exchange(e, 'grant.get');
      delete get.response;
      get.notSent = { kind: 'budget', reason: 'not sent: the request budget of 3 (limits.maxRequests) is used up' };
      const ex = exchange(e, 'resource.expired');
      delete ex.response;
      ex.notSent = { kind: 'circuit', reason: 'not sent: 2 requests in a row failed' };
    });
    expect(findings.find((x) => x.checkId === 'grant.get-refused')).toMatchObject({ outcome: 'skipped', message: expect.stringMatching(/budget/) });
    expect(findings.find((x) => x.checkId === 'expiry.refused-after-expiry')).toMatchObject({ outcome: 'broken', message: expect.stringMatching(/2 requests in a row failed/) });
  });
  it('a lifetime longer than the maximum wait skips the expiry-at-resource checks with the reason', () => {
    const findings = findingsFor((e) => {
      delete e.exchanges['resource.expired'];
      e.notRun['resource.expired'] = { kind: 'policy', reason: 'the lifetime (3600 s) is longer than the maximum wait (limits.maxExpiryWaitSeconds = 30 s)' };
    });
    expect(findings.find((x) => x.checkId === 'expiry.refused-after-expiry')).toMatchObject({ outcome: 'skipped', message: expect.stringMatching(/3600 s\) is longer than the maximum wait/) });
  });
  it('checks that need a token are broken, not skipped, when no token could be had', () => {
    const findings = findingsFor((e) => errorResponse(e, 'token.0', 401, 'invalid_client'));
    expect(findings.find((x) => x.checkId === 'scope.requested-granted')).toMatchObject({ outcome: 'broken', message: expect.stringMatching(/prerequisite failed: the token request was answered 401 invalid_client/) });
    expect(findings.find((x) => x.checkId === 'grant.client-credentials')).toMatchObject({ outcome: 'fail' });
  });
});
