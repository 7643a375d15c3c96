import type { Evidence } from '../../src/checks/types.js';
import type { Provider } from '../../src/descriptor/types.js';
import type { Outcome } from '../../src/evaluate.js';
import { CHECKS } from '../../src/checks/index.js';
import { levelOf } from '../../src/checks/types.js';
import {
  conformant,
  errorResponse,
  exchange,
  grantsToken,
  json,
  jwtPayload,
  res,
  type FixtureName,
} from './fixture.js';

/** One defect per row: applied to the conformant recording, it must make exactly `check` fail (or warn). */
export interface DefectCase {
  check: string;
  defect: string;
  /** Outcome expected for the targeted check (fail for MUST/EXPECTATION, warn for SHOULD). */
  expect: Outcome;
  message: RegExp;
  /** When the check runs once per client, which instance carries the defect. */
  client?: string;
  apply: (e: Evidence, p: Provider) => void;
  /** The recording the defect is applied to (default: the client_credentials reference). */
  fixture?: FixtureName;
}

/**
 * Every request the endpoint must refuse is judged twice: acceptance (no token) and the error code (a
 * 4xx with the right `error`). Each pair gets the same four defects: a token, a wrong code, a 200
 * carrying an error member (not a refusal), and a 5xx (a server error, not a refusal).
 */
const REFUSALS: { acceptance: string; code: string; probe: string; fixture?: FixtureName }[] = [
  {
    acceptance: 'grant.unknown-resource-refused',
    code: 'grant.unknown-resource-code',
    probe: 'grant.unknown-resource',
  },
  // The spoilt DPoP proofs: the recording holds no nonce retry for them (the server asked for none).
  ...(
    [
      ['missing-proof', 'no-proof'],
      ['bad-signature', 'bad-signature'],
      ['wrong-htm', 'wrong-htm'],
      ['wrong-htu', 'wrong-htu'],
      ['stale-iat', 'stale-iat'],
      ['alg-none', 'alg-none'],
      ['private-key', 'private-key'],
      ['replay', 'replay'],
    ] as const
  ).map(([slug, probe]) => ({
    acceptance: `dpop.${slug}-refused`,
    code: `dpop.${slug}-code`,
    probe: `dpop.${probe}`,
  })),
  {
    acceptance: 'grant.missing-grant-type-not-accepted',
    code: 'grant.missing-grant-type',
    probe: 'grant.missing-grant-type',
  },
  {
    acceptance: 'grant.unknown-grant-type-not-accepted',
    code: 'grant.unknown-grant-type',
    probe: 'grant.unknown-grant-type',
  },
  {
    acceptance: 'grant.repeated-parameter-not-accepted',
    code: 'grant.repeated-parameter',
    probe: 'grant.repeated-parameter',
  },
  {
    acceptance: 'grant.query-credentials-refused',
    code: 'grant.query-credentials-error-code',
    probe: 'grant.query-credentials',
  },
  {
    acceptance: 'grant.two-auth-methods-refused',
    code: 'grant.two-auth-methods-error-code',
    probe: 'grant.two-methods',
  },
  {
    acceptance: 'errors.wrong-secret',
    code: 'errors.wrong-secret-error-code',
    probe: 'errors.wrong-secret',
  },
  {
    acceptance: 'errors.unknown-client',
    code: 'errors.unknown-client-error-code',
    probe: 'errors.unknown-client',
  },
  {
    acceptance: 'errors.no-client-auth',
    code: 'errors.no-client-auth-error-code',
    probe: 'errors.no-client-auth',
  },
  {
    acceptance: 'client-auth.mtls-without-certificate',
    code: 'client-auth.mtls-without-certificate-error-code',
    probe: 'client-auth.mtls-without-certificate',
  },
  ...(
    [
      'expired-assertion:expired',
      'wrong-audience:wrong-aud',
      'wrong-issuer:wrong-iss',
      'wrong-subject:wrong-sub',
      'alg-none:alg-none',
      'unknown-key:unknown-key',
      'missing-jti:no-jti',
      'far-future-exp:far-future-exp',
    ] as const
  ).map((row) => {
    const [id, probe] = row.split(':') as [string, string];
    return {
      acceptance: `client-auth.${id}`,
      code: `client-auth.${id}-error-code`,
      probe: `client-auth.${probe}`,
    };
  }),
  ...(
    [
      'expired:expired',
      'wrong-audience:wrong-aud',
      'wrong-issuer:wrong-iss',
      'alg-none:alg-none',
      'unknown-key:unknown-key',
      'far-future-exp:far-future-exp',
    ] as const
  ).map((row) => {
    const [id, probe] = row.split(':') as [string, string];
    return {
      acceptance: `grant.assertion-${id}`,
      code: `grant.assertion-${id}-error-code`,
      probe: `grant.assertion.${probe}`,
      fixture: 'jwt-bearer' as const,
    };
  }),
  // The authorization_code grant and refresh tokens (issue 12), on the authorization-code recording.
  ...(
    [
      'replay:replay',
      'wrong-verifier:wrong-verifier',
      'missing-verifier:no-verifier',
      'redirect-mismatch:redirect-mismatch',
      'other-client:other-client',
    ] as const
  ).map((row) => {
    const [id, probe] = row.split(':') as [string, string];
    return {
      acceptance: `authorization-code.${id}-refused`,
      code: `authorization-code.${id}-invalid-grant`,
      probe: `authorization-code.${probe}`,
      fixture: 'authorization-code' as const,
    };
  }),
  {
    acceptance: 'refresh.broader-scope-refused',
    code: 'refresh.broader-scope-invalid-scope',
    probe: 'refresh.broader-scope',
    fixture: 'authorization-code',
  },
  {
    acceptance: 'refresh.other-client-refused',
    code: 'refresh.other-client-invalid-grant',
    probe: 'refresh.other-client',
    fixture: 'authorization-code',
  },
];

/** The authorization endpoint's answer to the plain-PKCE authorization request, redirected to `location`. */
function plainAnswer(e: Evidence, location: string): void {
  const r = res(e, 'authorization-code.plain-challenge');
  r.status = 303;
  r.headers['location'] = [location];
}

const AUTH_CODE_CASES: DefectCase[] = [
  {
    fixture: 'authorization-code',
    check: 'authorization-code.exchanged',
    client: 'client_secret_post (another client)',
    defect: 'a valid code of the second client refused',
    expect: 'fail',
    message: /another client\) was answered 400 invalid_grant, not 200 with an access token/,
    apply: (e) => errorResponse(e, 'token.1', 400, 'invalid_grant'),
  },
  {
    fixture: 'authorization-code',
    check: 'authorization-code.first-use',
    defect: 'the first exchange of a fresh code refused',
    expect: 'fail',
    message: /first exchange of a fresh code was answered 400 invalid_grant/,
    apply: (e) => errorResponse(e, 'authorization-code.first-use', 400, 'invalid_grant'),
  },
  {
    fixture: 'authorization-code',
    check: 'authorization-code.replay-revokes-tokens',
    defect: 'the token of a replayed code still active at introspection',
    expect: 'warn',
    message: /still answers "active": true for the token issued from the replayed code/,
    apply: (e) => {
      json(e, 'authorization-code.after-replay')['active'] = true;
    },
  },
  {
    fixture: 'authorization-code',
    check: 'authorization-code.plain-pkce-refused',
    defect: 'plain PKCE accepted: the authorization request goes on to the login',
    expect: 'warn',
    message:
      /code_challenge_method=plain was answered 303, redirect to https:\/\/127\.0\.0\.1:8443\/interaction\/x \(the login went on\)/,
    apply: (e) => plainAnswer(e, 'https://127.0.0.1:8443/interaction/x'),
  },
  {
    fixture: 'authorization-code',
    check: 'authorization-code.plain-pkce-invalid-request',
    defect: 'plain PKCE refused with another error than invalid_request',
    expect: 'fail',
    message:
      /refused with error=unsupported_response_type .*RFC 7636 §4\.4\.1 says invalid_request/,
    apply: (e) =>
      plainAnswer(e, 'https://client.example.org/cb?error=unsupported_response_type&state=s'),
  },
  {
    fixture: 'authorization-code',
    check: 'refresh.works',
    defect: 'a refresh token it issued refused',
    expect: 'fail',
    message: /the refresh token was answered 400 invalid_grant, not 200 with an access token/,
    apply: (e) => errorResponse(e, 'refresh.first', 400, 'invalid_grant'),
  },
  {
    fixture: 'authorization-code',
    check: 'refresh.expires-in',
    defect: 'the refreshed token without expires_in',
    expect: 'fail',
    message: /expires_in is absent, not a positive integer/,
    apply: (e) => {
      delete json(e, 'refresh.first')['expires_in'];
    },
  },
  {
    fixture: 'authorization-code',
    check: 'refresh.narrower-scope-granted',
    defect: 'a narrower refresh granted more than asked',
    expect: 'fail',
    message: /asked for "api:read", granted "api:read api:write": more than asked/,
    apply: (e) => {
      json(e, 'refresh.narrower-scope')['scope'] = 'api:read api:write';
    },
  },
  {
    fixture: 'authorization-code',
    check: 'refresh.rotated-token-refused',
    defect: 'a rotated refresh token redeemed again',
    expect: 'fail',
    message:
      /a refresh token already redeemed was answered 200 with an access token: the request was accepted/,
    apply: (e) => grantsToken(e, 'refresh.reuse-old'),
  },
  {
    fixture: 'authorization-code',
    check: 'refresh.reuse-revokes-family',
    defect: 'the newest refresh token still good after a rotated one was reused',
    expect: 'fail',
    message:
      /after the reuse of a rotated one was answered 200 with an access token: the request was accepted/,
    apply: (e) => grantsToken(e, 'refresh.after-reuse'),
  },
];

const outcomeFor = (id: string, fixture: FixtureName = 'reference'): Outcome => {
  const check = CHECKS.find((c) => c.id === id);
  return check && levelOf(check, conformant(fixture).provider) === 'SHOULD' ? 'warn' : 'fail';
};

const REFUSAL_CASES: DefectCase[] = REFUSALS.flatMap(
  ({ acceptance, code, probe, fixture }): DefectCase[] => [
    {
      ...(fixture ? { fixture } : {}),
      check: acceptance,
      defect: 'a token is issued',
      expect: outcomeFor(acceptance, fixture),
      message: /was answered 200 with an access token: the request was accepted/,
      apply: (e) => grantsToken(e, probe),
    },
    {
      ...(fixture ? { fixture } : {}),
      check: code,
      defect: 'refused with a wrong error code',
      expect: outcomeFor(code, fixture),
      message: /was answered 400 unsupported_response_type; expected a 4xx with error/,
      apply: (e) => errorResponse(e, probe, 400, 'unsupported_response_type'),
    },
    {
      ...(fixture ? { fixture } : {}),
      check: code,
      defect: 'a 200 carrying an error member',
      expect: outcomeFor(code, fixture),
      message: /answered 200 \w+: an error response must use a 4xx status/,
      apply: (e) => {
        const r = res(e, probe);
        r.status = 200;
      },
    },
    {
      ...(fixture ? { fixture } : {}),
      check: code,
      defect: 'a 500 HTML page',
      expect: outcomeFor(code, fixture),
      message: /answered 500 \(text\/html\): a server error, not a refusal/,
      apply: (e) => {
        const r = res(e, probe);
        r.status = 500;
        delete r.json;
        r.headers['content-type'] = ['text/html'];
      },
    },
  ],
);

/** The DPoP token's final answer in the recording: the server asked for a nonce first. */
const DPOP_TOKEN = 'dpop.token.nonce-retry';

const DPOP_CASES: DefectCase[] = [
  {
    check: 'grant.resource-indicated-issued',
    defect: 'a token request for the declared resource refused',
    expect: 'fail',
    message: /the token request for the resource was answered 400 invalid_target/,
    apply: (e) => errorResponse(e, 'grant.resource-indicated', 400, 'invalid_target'),
  },
  {
    check: 'grant.resource-audience',
    defect: 'the resource parameter ignored: aud names another API too',
    expect: 'fail',
    message:
      /aud in the JWT access token is \[.*\], not restricted to "https:\/\/127\.0\.0\.1:8443\/api\/resource"/,
    apply: (e) => {
      const p = jwtPayload(e, 'grant.resource-indicated');
      p['aud'] = [p['aud'], 'https://127.0.0.1:8443/other-api'];
    },
  },
  {
    check: 'grant.resource-audience',
    defect: 'an opaque token whose introspection names no aud',
    expect: 'fail',
    message: /introspection has no aud/,
    apply: (e) => {
      delete res(e, 'grant.resource-indicated').accessToken!.jwt;
      delete json(e, 'grant.resource-indicated-introspection')['aud'];
    },
  },
  {
    check: 'dpop.token-issued',
    defect: 'a valid proof (with the nonce) refused',
    expect: 'fail',
    message:
      /the token request with a valid DPoP proof \(after the nonce the server asked for\) was answered 400 invalid_dpop_proof/,
    apply: (e) => errorResponse(e, DPOP_TOKEN, 400, 'invalid_dpop_proof'),
  },
  {
    check: 'dpop.token-type',
    defect: 'token_type Bearer for a DPoP-bound token',
    expect: 'fail',
    message: /token_type is "Bearer", not "DPoP"/,
    apply: (e) => {
      json(e, DPOP_TOKEN)['token_type'] = 'Bearer';
    },
  },
  {
    check: 'dpop.cnf-jkt',
    defect: 'cnf.jkt of another key',
    expect: 'fail',
    message: /cnf\.jkt in the JWT access token is "another-key", not the proof key's thumbprint/,
    apply: (e) => {
      jwtPayload(e, DPOP_TOKEN)['cnf'] = { jkt: 'another-key' };
    },
  },
  {
    check: 'dpop.cnf-jkt',
    defect: 'no cnf at all',
    expect: 'fail',
    message: /the JWT access token has no cnf\.jkt \(cnf is absent\)/,
    apply: (e) => {
      delete jwtPayload(e, DPOP_TOKEN)['cnf'];
    },
  },
  {
    check: 'dpop.cnf-jkt',
    defect: 'an opaque token whose introspection names another key',
    expect: 'fail',
    message: /cnf\.jkt in introspection of the opaque token is "another-key"/,
    apply: (e) => {
      delete res(e, DPOP_TOKEN).accessToken!.jwt;
      json(e, 'dpop.introspect')['cnf'] = { jkt: 'another-key' };
    },
  },
  {
    check: 'dpop.nonce-challenge',
    defect: 'use_dpop_nonce without a DPoP-Nonce header',
    expect: 'fail',
    message: /dpop\.token was answered 400 use_dpop_nonce with no DPoP-Nonce header/,
    apply: (e) => {
      delete res(e, 'dpop.token').headers['dpop-nonce'];
    },
  },
  {
    check: 'dpop.nonce-policy',
    defect: 'a token without the nonce declared required',
    expect: 'fail',
    message:
      /the first proof, without a nonce, was answered 200 with an access token, not use_dpop_nonce/,
    apply: (e) => grantsToken(e, 'dpop.token'),
  },
  {
    check: 'dpop.resource-accepts',
    defect: 'the resource refuses the DPoP scheme',
    expect: 'fail',
    message: /the DPoP-bound token with a valid proof was answered 401 invalid_token/,
    apply: (e) => errorResponse(e, 'dpop.resource', 401, 'invalid_token'),
  },
  {
    check: 'dpop.resource-bearer-refused',
    defect: 'the resource serves the DPoP-bound token as Bearer',
    expect: 'fail',
    message: /the DPoP-bound token as Bearer was answered 200 .*the request was accepted/,
    apply: (e) => {
      const r = res(e, 'dpop.resource-bearer');
      r.status = 200;
      r.json = { ok: true };
    },
  },
];

export const CASES: DefectCase[] = [
  ...REFUSAL_CASES,
  ...AUTH_CODE_CASES,
  ...DPOP_CASES,
  // Grant handling
  {
    check: 'grant.client-credentials',
    client: 'client_secret_post',
    defect: 'post client not authorized for the grant',
    expect: 'fail',
    message: /client_secret_post was answered 400 unauthorized_client/,
    apply: (e) => errorResponse(e, 'token.1', 400, 'unauthorized_client'),
  },
  {
    check: 'grant.token-accepted-at-resource',
    defect: 'resource refuses a fresh token',
    expect: 'fail',
    message: /answered 401 to a fresh token/,
    apply: (e) => {
      res(e, 'resource.fresh').status = 401;
    },
  },
  {
    check: 'grant.get-refused',
    defect: 'GET issues a token',
    expect: 'warn',
    message: /GET token request was answered 200 with an access token/,
    apply: (e) => grantsToken(e, 'grant.get'),
  },
  {
    check: 'grant.no-refresh-token',
    defect: 'refresh token issued (declared absent)',
    expect: 'fail',
    message: /carries a refresh_token/,
    apply: (e) => {
      res(e, 'token.0').refreshToken = {
        jsonType: 'string',
        length: 40,
        vschar: true,
        preview: 'rt-12345...(redacted, 40 chars)',
      };
    },
  },
  {
    check: 'grant.no-refresh-token',
    defect: 'refresh token issued (allowed by descriptor: SHOULD NOT)',
    expect: 'warn',
    message: /carries a refresh_token/,
    apply: (e, p) => {
      p.expect.refreshToken = 'allowed';
      res(e, 'token.0').refreshToken = {
        jsonType: 'string',
        length: 40,
        vschar: true,
        preview: 'rt',
      };
    },
  },
  // Response schema
  {
    check: 'response.status-200',
    defect: '201 Created',
    expect: 'fail',
    message: /answered 201 with an access token/,
    apply: (e) => {
      res(e, 'token.0').status = 201;
    },
  },
  {
    check: 'response.content-type-json',
    defect: 'text/plain',
    expect: 'fail',
    message: /Content-Type is "text\/plain", not application\/json/,
    apply: (e) => {
      res(e, 'token.0').headers['content-type'] = ['text/plain'];
    },
  },
  {
    check: 'response.content-type-json',
    defect: 'application/jsonx (a substring match would pass it)',
    expect: 'fail',
    message: /not application\/json/,
    apply: (e) => {
      res(e, 'token.0').headers['content-type'] = ['application/jsonx'];
    },
  },
  {
    check: 'response.schema',
    defect: 'token_type missing',
    expect: 'fail',
    message: /required member "token_type" is missing/,
    apply: (e) => {
      delete json(e, 'token.0')['token_type'];
    },
  },
  {
    check: 'response.schema',
    defect: 'body not JSON',
    expect: 'fail',
    message: /not JSON/,
    apply: (e) => {
      const r = res(e, 'token.0');
      delete r.json;
      r.jsonError = 'Unexpected token <';
    },
  },
  {
    check: 'response.access-token-syntax',
    defect: 'non-VSCHAR token',
    expect: 'fail',
    message: /outside VSCHAR/,
    apply: (e) => {
      res(e, 'token.0').accessToken!.vschar = false;
    },
  },
  {
    check: 'response.token-type',
    defect: 'token_type mac',
    expect: 'fail',
    message: /token_type is "mac", expected "Bearer"/,
    apply: (e) => {
      json(e, 'token.0')['token_type'] = 'mac';
    },
  },
  {
    check: 'response.expires-in-integer',
    defect: 'expires_in as a string',
    expect: 'fail',
    message: /expires_in is "5", a JSON string, not a number/,
    apply: (e) => {
      json(e, 'token.0')['expires_in'] = '5';
    },
  },
  {
    check: 'response.expires-in-integer',
    defect: 'fractional expires_in',
    expect: 'fail',
    message: /not an integer/,
    apply: (e) => {
      json(e, 'token.0')['expires_in'] = 5.5;
    },
  },
  {
    check: 'response.expires-in-integer',
    defect: 'negative expires_in',
    expect: 'fail',
    message: /expires_in is -5: a negative number is not 1\*DIGIT/,
    apply: (e) => {
      json(e, 'token.0')['expires_in'] = -5;
    },
  },
  {
    check: 'response.expires-in-positive',
    defect: 'zero expires_in (parses as 1*DIGIT: a warning)',
    expect: 'warn',
    message: /expires_in is 0: the token expires as it is issued/,
    apply: (e) => {
      json(e, 'token.0')['expires_in'] = 0;
    },
  },
  {
    check: 'response.expires-in-integer',
    defect: 'expires_in written 5.0 (parses to an integer)',
    expect: 'fail',
    message:
      /expires_in was sent as the literal 5\.0, a JSON number but not an integer literal \(1\*DIGIT/,
    apply: (e) => {
      res(e, 'token.0').numberLiterals = { expires_in: '5.0' };
    },
  },
  {
    check: 'response.unique-members',
    defect: 'expires_in twice',
    expect: 'fail',
    message: /the token response repeats "expires_in"; each response parameter may occur once/,
    apply: (e) => {
      res(e, 'token.0').duplicateMembers = ['expires_in'];
    },
  },
  {
    check: 'response.expires-in-present',
    defect: 'expires_in omitted',
    expect: 'warn',
    message: /expires_in is absent/,
    apply: (e) => {
      delete json(e, 'token.0')['expires_in'];
    },
  },
  {
    check: 'response.scope-syntax',
    defect: 'scope as an array',
    expect: 'fail',
    message: /scope is a JSON array/,
    apply: (e) => {
      json(e, 'token.0')['scope'] = ['api:read'];
    },
  },
  {
    check: 'response.scope-syntax',
    defect: 'double space',
    expect: 'fail',
    message: /is not scope-token/,
    apply: (e) => {
      json(e, 'token.0')['scope'] = 'api:read  api:write';
    },
  },
  {
    check: 'response.cache-control',
    defect: 'no-cache instead of no-store',
    expect: 'fail',
    message: /Cache-Control is "no-cache", without no-store/,
    apply: (e) => {
      res(e, 'token.0').headers['cache-control'] = ['no-cache'];
    },
  },
  {
    check: 'response.cache-control',
    defect: 'no-store-ish (a substring match would pass it)',
    expect: 'fail',
    message: /without no-store/,
    apply: (e) => {
      res(e, 'token.0').headers['cache-control'] = ['max-age=0, no-store-ish'];
    },
  },
  {
    check: 'response.pragma',
    defect: 'Pragma missing',
    expect: 'warn',
    message: /Pragma is absent, not no-cache/,
    apply: (e) => {
      delete res(e, 'token.0').headers['pragma'];
    },
  },
  {
    check: 'response.token-format',
    defect: 'opaque token where JWT declared',
    expect: 'fail',
    message: /not a JWT; the descriptor declares tokenFormat: jwt/,
    apply: (e) => {
      delete res(e, 'token.0').accessToken!.jwt;
    },
  },
  // Expiry
  {
    check: 'expiry.expires-in-declared',
    defect: 'lifetime 3600 instead of 5',
    expect: 'fail',
    message: /expires_in is 3600; the descriptor declares 5/,
    apply: (e) => {
      json(e, 'token.0')['expires_in'] = 3600;
    },
  },
  {
    check: 'expiry.jwt-lifetime',
    defect: 'exp − iat disagrees',
    expect: 'fail',
    message: /exp − iat = 60 s but expires_in is 5 s/,
    apply: (e) => {
      const p = jwtPayload(e);
      p['exp'] = (p['iat'] as number) + 60;
    },
  },
  {
    check: 'expiry.jwt-iat-current',
    defect: 'iat an hour early',
    expect: 'warn',
    message: /iat is -36\d\d s from the response time/,
    apply: (e) => {
      const p = jwtPayload(e);
      p['iat'] = (p['iat'] as number) - 3600;
      p['exp'] = (p['exp'] as number) - 3600;
    },
  },
  {
    check: 'expiry.refused-after-expiry',
    defect: 'expired token accepted',
    expect: 'fail',
    message: /answered 200 to an expired token/,
    apply: (e) => {
      res(e, 'resource.expired').status = 200;
    },
  },
  {
    check: 'expiry.expired-token-challenge',
    defect: 'no WWW-Authenticate',
    expect: 'warn',
    message: /no Bearer challenge in WWW-Authenticate/,
    apply: (e) => {
      delete res(e, 'resource.expired').headers['www-authenticate'];
    },
  },
  {
    check: 'expiry.expired-token-challenge',
    defect: '403 instead of 401',
    expect: 'warn',
    message: /answered 403 invalid_token, not 401/,
    apply: (e) => {
      res(e, 'resource.expired').status = 403;
    },
  },
  {
    check: 'expiry.expired-token-challenge',
    defect: 'wrong error code',
    expect: 'warn',
    message: /error="invalid_request", not "invalid_token"/,
    apply: (e) => {
      res(e, 'resource.expired').headers['www-authenticate'] = [
        'Bearer realm="x", error="invalid_request"',
      ];
    },
  },
  // Scope echo
  {
    check: 'scope.requested-granted',
    defect: 'requested scope narrowed away',
    expect: 'fail',
    message: /requested "api:read" but granted "api:write"/,
    apply: (e) => {
      json(e, 'token.0')['scope'] = 'api:write';
      jwtPayload(e)['scope'] = 'api:write';
    },
  },
  {
    check: 'scope.echoed',
    defect: 'scope omitted although promised',
    expect: 'fail',
    message: /no scope member/,
    apply: (e, p) => {
      p.expect.scopeEcho = 'always';
      delete json(e, 'token.0')['scope'];
    },
  },
  {
    check: 'scope.returned-when-different',
    defect: 'scope omitted while the token differs',
    expect: 'fail',
    message: /scope is omitted but the token grants "api:read api:write"/,
    apply: (e) => {
      delete json(e, 'token.0')['scope'];
      jwtPayload(e)['scope'] = 'api:read api:write';
    },
  },
  {
    check: 'scope.not-broader',
    defect: 'broader grant',
    expect: 'fail',
    message: /granted "api:write" beyond the requested "api:read"/,
    apply: (e) => {
      json(e, 'token.0')['scope'] = 'api:read api:write';
      jwtPayload(e)['scope'] = 'api:read api:write';
    },
  },
  {
    check: 'scope.default',
    defect: 'no-scope request gets a scope',
    expect: 'fail',
    message: /granted "api:read"; the declared default is \(none\)/,
    apply: (e) => grantsToken(e, 'scope.none', 'api:read'),
  },
  {
    check: 'scope.default',
    defect: 'no-scope request refused',
    expect: 'fail',
    message: /without scope was answered 400 invalid_scope/,
    apply: (e) => errorResponse(e, 'scope.none', 400, 'invalid_scope'),
  },
  {
    check: 'scope.default',
    defect: 'default declared, scope omitted and no claim: the grant cannot be read',
    expect: 'fail',
    message:
      /omits scope and the token has no scope claim, so what was granted cannot be known; RFC 6749 §5.1 reads that as the request \(none\), not the declared default "api:read"/,
    apply: (e, p) => {
      p.scopes.default = 'api:read';
    },
  },
  {
    check: 'scope.none-default-or-invalid-scope',
    defect: 'no scope: an empty 403',
    expect: 'fail',
    message:
      /without scope was answered 403 \(text\/html\); RFC 6749 §3.3 allows a token \(a default scope\) or error invalid_scope/,
    apply: (e, p) => {
      delete p.scopes.default;
      errorResponse(e, 'scope.none', 403, 'x');
      const r = res(e, 'scope.none');
      delete r.json;
      r.headers['content-type'] = ['text/html'];
    },
  },
  {
    check: 'scope.none-default-or-invalid-scope',
    defect: 'no scope: invalid_request',
    expect: 'fail',
    message: /answered 400 invalid_request; RFC 6749 §3.3 allows/,
    apply: (e, p) => {
      delete p.scopes.default;
      errorResponse(e, 'scope.none', 400, 'invalid_request');
    },
  },
  {
    check: 'scope.required',
    defect: 'scope declared required, a token without it',
    expect: 'fail',
    message:
      /without scope was answered 200 with an access token; the descriptor declares scope required/,
    apply: (_e, p) => {
      delete p.scopes.default;
      p.scopes.required = true;
    },
  },
  {
    check: 'scope.forbidden',
    defect: 'forbidden scope granted',
    expect: 'fail',
    message:
      /a request for "api:read admin" was answered with a token that grants "admin", which the client may not have \(the response grants "api:read admin"\)/,
    apply: (e) => grantsToken(e, 'scope.forbidden', 'api:read admin'),
  },
  {
    check: 'scope.forbidden',
    defect: 'declared narrowed, endpoint grants it',
    expect: 'fail',
    message: /grants "admin", which the client may not have/,
    apply: (e, p) => {
      p.expect.forbiddenScope = 'narrowed';
      grantsToken(e, 'scope.forbidden', 'api:read admin');
    },
  },
  {
    check: 'scope.forbidden',
    defect: 'policy either, endpoint grants it in the JWT only (the response echoes "api:read")',
    expect: 'fail',
    message: /grants "admin", which the client may not have/,
    apply: (e, p) => {
      p.expect.forbiddenScope = 'either';
      grantsToken(e, 'scope.forbidden', 'api:read');
      jwtPayload(e, 'scope.forbidden')['scope'] = 'api:read admin';
    },
  },
  {
    check: 'scope.forbidden',
    defect: 'declared invalid_scope, endpoint narrows',
    expect: 'fail',
    message:
      /answered with a token \(the response grants "api:read"\); the descriptor declares a refusal with invalid_scope \(expect.forbiddenScope: invalid_scope\)/,
    apply: (e) => grantsToken(e, 'scope.forbidden', 'api:read'),
  },
  {
    check: 'scope.forbidden',
    defect: 'declared narrowed, endpoint refuses',
    expect: 'fail',
    message:
      /was refused \(400 invalid_scope\); the descriptor declares a narrowed grant \(expect.forbiddenScope: narrowed\)/,
    apply: (_e, p) => {
      p.expect.forbiddenScope = 'narrowed';
    },
  },
  {
    check: 'scope.forbidden',
    defect: 'policy either, a token whose grant cannot be read (scope omitted, no claim)',
    expect: 'fail',
    message:
      /the response omits scope, which RFC 6749 §5.1 reads as the whole request granted, "admin" included; what the token really grants cannot be known \(the JWT has no scope claim\)/,
    apply: (e, p) => {
      p.expect.forbiddenScope = 'either';
      grantsToken(e, 'scope.forbidden', 'api:read');
      delete json(e, 'scope.forbidden')['scope'];
      delete jwtPayload(e, 'scope.forbidden')['scope'];
    },
  },
  {
    check: 'scope.ungrantable-alone',
    defect: 'ungrantable scope granted when asked alone',
    expect: 'fail',
    message:
      /a request for "admin" was answered with a token that grants "admin", which the client may not have/,
    apply: (e) => grantsToken(e, 'scope.ungrantable', 'admin'),
  },
  {
    check: 'scope.ungrantable-alone',
    defect: 'declared invalid_scope, endpoint grants another scope instead',
    expect: 'fail',
    message:
      /a request for "admin" was answered with a token \(the response grants "api:read"\); the descriptor declares a refusal with invalid_scope \(expect.ungrantableScope: invalid_scope\)/,
    apply: (e) => grantsToken(e, 'scope.ungrantable', 'api:read'),
  },
  {
    check: 'scope.ungrantable-alone',
    defect: 'declared narrowed, endpoint refuses',
    expect: 'fail',
    message:
      /was refused \(400 invalid_scope\); the descriptor declares a narrowed grant \(expect.ungrantableScope: narrowed\)/,
    apply: (_e, p) => {
      p.expect.ungrantableScope = 'narrowed';
    },
  },
  {
    check: 'scope.refused-with-invalid-scope',
    defect: 'forbidden scope refused with invalid_request',
    expect: 'fail',
    message: /next to one it may have: answered 400 invalid_request, not error invalid_scope/,
    apply: (e) => errorResponse(e, 'scope.forbidden', 400, 'invalid_request'),
  },
  {
    check: 'scope.refused-with-invalid-scope',
    defect: 'ungrantable scope refused with an empty 403',
    expect: 'fail',
    message:
      /only a scope the client may not have: answered 403 \(text\/plain\), not error invalid_scope/,
    apply: (e) => {
      errorResponse(e, 'scope.ungrantable', 403, 'x');
      const r = res(e, 'scope.ungrantable');
      delete r.json;
      r.headers['content-type'] = ['text/plain'];
    },
  },
  {
    check: 'scope.returned-when-different',
    defect: 'the forbidden scope narrowed away, scope omitted (the JWT says what was granted)',
    expect: 'fail',
    message:
      /next to one it may have: scope is omitted but the token grants "api:read" while "api:read admin" was requested/,
    apply: (e, p) => {
      p.expect.forbiddenScope = 'either';
      grantsToken(e, 'scope.forbidden', 'api:read');
      delete json(e, 'scope.forbidden')['scope'];
    },
  },
  {
    check: 'scope.jwt-claim-agrees',
    defect: 'JWT scope differs from response',
    expect: 'warn',
    message: /the JWT says "api:write", the response "api:read"/,
    apply: (e) => {
      jwtPayload(e)['scope'] = 'api:write';
    },
  },
  // Error behaviour
  {
    check: 'errors.invalid-client-401-challenge',
    defect: '400 after Basic',
    expect: 'fail',
    message: /a wrong client secret \(client_secret_basic\): status 400, not 401/,
    apply: (e) => {
      res(e, 'errors.wrong-secret').status = 400;
    },
  },
  {
    check: 'errors.invalid-client-401-challenge',
    defect: '401 without challenge',
    expect: 'fail',
    message: /no Basic challenge in WWW-Authenticate/,
    apply: (e) => {
      delete res(e, 'errors.unknown-client').headers['www-authenticate'];
    },
  },
  {
    check: 'errors.status',
    defect: '500 for a missing grant_type',
    expect: 'fail',
    message: /without grant_type: 500 invalid_request: expected 400/,
    apply: (e) => {
      res(e, 'grant.missing-grant-type').status = 500;
    },
  },
  {
    check: 'errors.status',
    defect: '401 for invalid_request',
    expect: 'fail',
    message: /401 is only for invalid_client/,
    apply: (e) => {
      res(e, 'errors.no-client-auth').status = 401;
    },
  },
  {
    check: 'errors.content-type-json',
    defect: 'HTML error page',
    expect: 'fail',
    message: /unknown grant_type: Content-Type "text\/html"/,
    apply: (e) => {
      res(e, 'grant.unknown-grant-type').headers['content-type'] = ['text/html'];
    },
  },
  {
    check: 'errors.schema',
    defect: 'unregistered error code',
    expect: 'fail',
    message: /error: "bad_thing" is not one of the registered values/,
    apply: (e) => {
      json(e, 'grant.unknown-grant-type')['error'] = 'bad_thing';
    },
  },
  {
    check: 'errors.schema',
    defect: 'quote in error_description',
    expect: 'fail',
    message: /error_description: must match pattern/,
    apply: (e) => {
      json(e, 'grant.unknown-grant-type')['error_description'] = 'say "hi"';
    },
  },
  {
    check: 'errors.cache-control',
    defect: 'error without no-store',
    expect: 'warn',
    message: /without grant_type: Cache-Control absent/,
    apply: (e) => {
      delete res(e, 'grant.missing-grant-type').headers['cache-control'];
    },
  },
  // Discovery
  {
    check: 'discovery.metadata',
    defect: 'well-known URL answers 404',
    expect: 'fail',
    message: /answered 404/,
    apply: (e) => errorResponse(e, 'discovery.metadata', 404, 'invalid_request'),
  },
  {
    check: 'discovery.metadata',
    defect: 'metadata served as HTML',
    expect: 'fail',
    message: /not application\/json/,
    apply: (e) => {
      res(e, 'discovery.metadata').headers['content-type'] = ['text/html'];
    },
  },
  {
    check: 'discovery.issuer',
    defect: 'issuer with a trailing slash',
    expect: 'fail',
    message:
      /the metadata says issuer "https:\/\/127.0.0.1:8443\/"; configured is "https:\/\/127.0.0.1:8443"/,
    apply: (e) => {
      json(e, 'discovery.metadata')['issuer'] = 'https://127.0.0.1:8443/';
    },
  },
  {
    check: 'discovery.token-endpoint',
    defect: 'http: token endpoint',
    expect: 'fail',
    message: /is not https/,
    apply: (e) => {
      json(e, 'discovery.metadata')['token_endpoint'] = 'http://127.0.0.1:8443/token';
    },
  },
  {
    check: 'discovery.token-endpoint',
    defect: 'another token endpoint, which refuses the same request',
    expect: 'fail',
    message:
      /token_endpoint "https:\/\/127.0.0.1:8443\/oauth2\/token" answered 404 invalid_request; the descriptor's "https:\/\/127.0.0.1:8443\/token" answered 200 with an access token/,
    apply: (e) => {
      json(e, 'discovery.metadata')['token_endpoint'] = 'https://127.0.0.1:8443/oauth2/token';
      e.exchanges['discovery.advertised-token-endpoint'] = {
        ...structuredClone(exchange(e, 'token.0')),
        probe: 'discovery.advertised-token-endpoint',
      };
      errorResponse(e, 'discovery.advertised-token-endpoint', 404, 'invalid_request');
    },
  },
  {
    check: 'discovery.token-endpoint',
    defect: 'another token endpoint, unreachable',
    expect: 'fail',
    message:
      /token_endpoint "https:\/\/127.0.0.1:8443\/oauth2\/token" \(the descriptor uses .*\) could not be reached: connection refused/,
    apply: (e) => {
      json(e, 'discovery.metadata')['token_endpoint'] = 'https://127.0.0.1:8443/oauth2/token';
      const ex = {
        ...structuredClone(exchange(e, 'token.0')),
        probe: 'discovery.advertised-token-endpoint' as const,
      };
      delete ex.response;
      ex.transportError = {
        kind: 'refused',
        code: 'ECONNREFUSED',
        message: 'connection refused by 127.0.0.1:8443: the endpoint is unreachable',
      };
      e.exchanges['discovery.advertised-token-endpoint'] = ex;
    },
  },
  {
    check: 'discovery.mtls-endpoint-aliases',
    defect: 'http: mTLS alias',
    expect: 'fail',
    message: /mtls_endpoint_aliases.token_endpoint is "http:/,
    apply: (e, p) => {
      p.clients.push({
        id: 'm',
        label: 'tls_client_auth',
        auth: {
          method: 'tls_client_auth',
          tls: {
            cert: '',
            key: '',
            certFile: 'c',
            keyFile: 'k',
            boundTokens: false,
            thumbprint: '',
          },
        },
      });
      json(e, 'discovery.metadata')['mtls_endpoint_aliases'] = {
        token_endpoint: 'http://127.0.0.1:8443/token',
      };
    },
  },
  {
    check: 'discovery.grant-types-supported',
    defect: 'grant not advertised',
    expect: 'fail',
    message: /lacks client_credentials/,
    apply: (e) => {
      json(e, 'discovery.metadata')['grant_types_supported'] = ['authorization_code'];
    },
  },
  {
    check: 'discovery.auth-methods-supported',
    defect: 'auth method not advertised',
    expect: 'fail',
    message: /lacks client_secret_basic/,
    apply: (e) => {
      json(e, 'discovery.metadata')['token_endpoint_auth_methods_supported'] = [
        'client_secret_post',
        'private_key_jwt',
      ];
    },
  },
  {
    check: 'discovery.jwks',
    defect: 'the jwks_uri the metadata names refuses connections (a verdict, not an outage)',
    expect: 'fail',
    message: /the jwks_uri the metadata names \(.*\) could not be fetched: connection refused/,
    apply: (e) => {
      const ex = exchange(e, 'discovery.jwks');
      delete ex.response;
      ex.transportError = {
        kind: 'refused',
        code: 'ECONNREFUSED',
        message: 'connection refused by 127.0.0.1:8443: the endpoint is unreachable',
      };
    },
  },
  {
    check: 'discovery.jwks',
    defect: 'empty key set',
    expect: 'fail',
    message: /no non-empty "keys" list/,
    apply: (e) => {
      json(e, 'discovery.jwks')['keys'] = [];
    },
  },
  {
    check: 'discovery.jwks',
    defect: 'private key material published',
    expect: 'fail',
    message: /carry private or symmetric key material/,
    apply: (e) => {
      const keys = json(e, 'discovery.jwks')['keys'] as Record<string, unknown>[];
      keys[0]!['d'] = 'AAAA';
    },
  },
  // Response schema: opaque token guessability
  {
    check: 'response.token-entropy',
    defect: 'short hex tokens',
    expect: 'warn',
    message: /about 32 bits per token/,
    apply: (e, p) => {
      p.expect.tokenFormat = 'opaque';
      e.facts = {
        tokenSample: { count: 3, distinct: 3, minLength: 8, alphabet: 16, estimatedBits: 32 },
      };
    },
  },
  {
    check: 'response.token-entropy',
    defect: 'the same token twice',
    expect: 'warn',
    message: /3 tokens but only 2 distinct/,
    apply: (e, p) => {
      p.expect.tokenFormat = 'opaque';
      e.facts = {
        tokenSample: { count: 3, distinct: 2, minLength: 40, alphabet: 64, estimatedBits: 240 },
      };
    },
  },
  {
    check: 'response.token-entropy-bound',
    defect: '16-character tokens (at most 105 bits at any alphabet)',
    expect: 'fail',
    message:
      /the shortest token has 16 characters: even uniformly random over all 95 VSCHAR characters that is at most 105.1 bits, under the 128/,
    apply: (e, p) =>
      opaqueFacts(e, p, { count: 3, minLength: 16, alphabet: 'VSCHAR', maxBits: 105.1 }),
  },
  {
    check: 'response.token-entropy-bound',
    defect: 'long tokens counting up',
    expect: 'fail',
    message:
      /the 3 distinct tokens differ only in a trailing decimal counter that rises by 1, 1: each token gives away the next/,
    apply: (e, p) =>
      opaqueFacts(e, p, {
        count: 3,
        minLength: 40,
        alphabet: 'VSCHAR',
        maxBits: 262.7,
        counterSteps: [1, 1],
      }),
  },
  // JWT access token
  {
    check: 'jwt.typ',
    defect: 'typ JWT',
    expect: 'fail',
    message: /typ is "JWT", not "at\+jwt"/,
    apply: (e) => {
      res(e, 'token.0').accessToken!.jwt!.header['typ'] = 'JWT';
    },
  },
  {
    check: 'jwt.alg-not-none',
    defect: 'alg none',
    expect: 'fail',
    message: /alg is "none"/,
    apply: (e) => {
      res(e, 'token.0').accessToken!.jwt!.header['alg'] = 'none';
    },
  },
  {
    check: 'jwt.alg-allowed',
    defect: 'HS256 on a public-key server',
    expect: 'fail',
    message: /alg is "HS256"; allowed/,
    apply: (e) => {
      res(e, 'token.0').accessToken!.jwt!.header['alg'] = 'HS256';
    },
  },
  {
    check: 'jwt.signature',
    defect: 'signed by an unpublished key',
    expect: 'fail',
    message: /the signature does not verify: ERR_JWS_SIGNATURE_VERIFICATION_FAILED/,
    apply: (e) => {
      e.facts = {
        ...e.facts,
        tokenSignature: {
          verified: false,
          detail: 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED: signature verification failed',
        },
      };
    },
  },
  {
    check: 'jwt.claims-well-formed',
    defect: 'sub is a number',
    expect: 'fail',
    message: /sub is 42, not a string/,
    apply: (e) => {
      jwtPayload(e)['sub'] = 42;
    },
  },
  {
    check: 'jwt.claims-well-formed',
    defect: 'nbf after exp',
    expect: 'fail',
    message: /exp \d+ is not after nbf \d+/,
    apply: (e) => {
      const p = jwtPayload(e);
      p['nbf'] = (p['exp'] as number) + 10;
    },
  },
  {
    check: 'jwt.required-claims',
    defect: 'no jti',
    expect: 'fail',
    message: /missing claims: jti/,
    apply: (e) => {
      delete jwtPayload(e)['jti'];
    },
  },
  {
    check: 'jwt.iss',
    defect: 'another issuer',
    expect: 'fail',
    message: /iss is "https:\/\/evil.example"/,
    apply: (e) => {
      jwtPayload(e)['iss'] = 'https://evil.example';
    },
  },
  {
    check: 'jwt.aud',
    defect: 'another audience',
    expect: 'fail',
    message: /aud is "https:\/\/other.example\/api"; expected it to include/,
    apply: (e) => {
      jwtPayload(e)['aud'] = 'https://other.example/api';
    },
  },
  {
    check: 'jwt.client-id',
    defect: 'another client',
    expect: 'fail',
    message: /client_id is "someone-else"/,
    apply: (e) => {
      jwtPayload(e)['client_id'] = 'someone-else';
    },
  },
  {
    check: 'jwt.jti-unique',
    defect: 'a repeated jti',
    expect: 'fail',
    message: /tokens but only \d+ distinct jti values/,
    apply: (e) => {
      jwtPayload(e, 'token.1')['jti'] = jwtPayload(e)['jti'];
    },
  },
  // Client authentication (the first JWT client is client_secret_jwt HS256; mTLS clients are bound)
  // providers/reference.yaml promises jtiRequired and singleUse (expect.clientAssertion): EXPECTATIONs there, SHOULDs without the promise.
  {
    check: 'client-auth.missing-jti',
    defect: 'assertion without jti accepted (jtiRequired declared)',
    expect: 'fail',
    message: /without jti was answered 200/,
    apply: (e) => grantsToken(e, 'client-auth.no-jti'),
  },
  {
    check: 'client-auth.missing-jti',
    defect: 'assertion without jti accepted (no promise: SHOULD)',
    expect: 'warn',
    message: /without jti was answered 200/,
    apply: (e, p) => {
      p.expect.clientAssertion.jtiRequired = false;
      grantsToken(e, 'client-auth.no-jti');
    },
  },
  {
    check: 'client-auth.far-future-exp',
    defect: 'year-long assertion accepted (oidc-provider does this)',
    expect: 'warn',
    message: /exp a year ahead was answered 200/,
    apply: (e) => grantsToken(e, 'client-auth.far-future-exp'),
  },
  {
    check: 'client-auth.far-future-exp',
    defect: 'year-long assertion accepted (maxLifetimeSeconds declared)',
    expect: 'fail',
    message: /exp a year ahead was answered 200/,
    apply: (e, p) => {
      overMaxProbe(e, p, false);
      grantsToken(e, 'client-auth.far-future-exp');
    },
  },
  {
    check: 'client-auth.replayed-jti',
    defect: 'replay accepted (singleUse declared)',
    expect: 'fail',
    message: /the replayed assertion was answered 200/,
    apply: (e) => grantsToken(e, 'client-auth.replay'),
  },
  {
    check: 'client-auth.replayed-jti',
    defect: 'replay accepted (no promise: SHOULD)',
    expect: 'warn',
    message: /the replayed assertion was answered 200/,
    apply: (e, p) => {
      p.expect.clientAssertion.singleUse = false;
      grantsToken(e, 'client-auth.replay');
    },
  },
  {
    check: 'client-auth.assertion-max-lifetime',
    defect: 'an assertion over the declared maximum accepted',
    expect: 'fail',
    message:
      /an assertion living 370 s \(declared maximum 300 s\) was answered 200 with an access token: the server accepted it/,
    apply: (e, p) => overMaxProbe(e, p, true),
  },
  {
    check: 'client-auth.certificate-bound-token',
    defect: 'unbound token',
    expect: 'fail',
    message: /tls_client_auth: the token has no cnf x5t#S256/,
    apply: (e) => {
      delete res(e, 'token.7').accessToken!.jwt!.payload['cnf'];
    },
  },
  {
    check: 'client-auth.certificate-bound-token',
    defect: 'bound to another certificate',
    expect: 'fail',
    message: /cnf x5t#S256 is AAAA, the certificate's thumbprint is/,
    apply: (e) => {
      res(e, 'token.8').accessToken!.jwt!.payload['cnf'] = { 'x5t#S256': 'AAAA' };
    },
  },
  // Introspection
  {
    check: 'introspection.fresh-active',
    defect: 'valid token inactive',
    expect: 'fail',
    message: /active is false for a token issued seconds ago/,
    apply: (e) => {
      json(e, 'introspection.fresh')['active'] = false;
    },
  },
  {
    check: 'introspection.fresh-active',
    defect: 'active as a string',
    expect: 'fail',
    message: /active is "true"/,
    apply: (e) => {
      json(e, 'introspection.fresh')['active'] = 'true';
    },
  },
  {
    check: 'introspection.agrees-with-token-response',
    defect: 'another client and scope',
    expect: 'fail',
    message: /client_id is "other".*scope is "api:write"/,
    apply: (e) => {
      json(e, 'introspection.fresh')['client_id'] = 'other';
      json(e, 'introspection.fresh')['scope'] = 'api:write';
    },
  },
  {
    check: 'introspection.agrees-with-token-response',
    defect: 'exp an hour later',
    expect: 'fail',
    message: /exp is \d+, the token response implies about/,
    apply: (e) => {
      const b = json(e, 'introspection.fresh');
      b['exp'] = (b['exp'] as number) + 3600;
    },
  },
  {
    check: 'introspection.expired-inactive',
    defect: 'expired token active',
    expect: 'fail',
    message: /active is true after the token's lifetime/,
    apply: (e) => {
      json(e, 'introspection.expired')['active'] = true;
    },
  },
  // An error about the token (not about the caller) is the server's verdict: a failure, not a prerequisite.
  {
    check: 'introspection.expired-inactive',
    defect: 'expired token answered invalid_token',
    expect: 'fail',
    message: /introspection was answered 400 invalid_token, not 200/,
    apply: (e) => errorResponse(e, 'introspection.expired', 400, 'invalid_token'),
  },
  {
    check: 'introspection.requires-authentication',
    defect: 'unauthenticated caller answered',
    expect: 'fail',
    message:
      /without client authentication was answered 200 with active: true: the endpoint answers anyone/,
    apply: (e) => {
      const r = res(e, 'introspection.no-client-auth');
      r.status = 200;
      r.json = structuredClone(res(e, 'introspection.fresh').json);
    },
  },
  {
    check: 'introspection.requires-authentication',
    defect: 'unauthenticated caller told active: false',
    expect: 'fail',
    message: /answered 200 with active: false: the endpoint answers anyone/,
    apply: (e) => {
      const r = res(e, 'introspection.no-client-auth');
      r.status = 200;
      r.json = { active: false };
    },
  },
  {
    check: 'introspection.unauthenticated-error',
    defect: '403 access_denied',
    expect: 'fail',
    message:
      /without client authentication was answered 403 access_denied; expected 401 invalid_client/,
    apply: (e) => errorResponse(e, 'introspection.no-client-auth', 403, 'access_denied'),
  },
  {
    check: 'introspection.unauthenticated-error',
    defect: '401 invalid_request',
    expect: 'fail',
    message: /answered 401 invalid_request; expected/,
    apply: (e) => errorResponse(e, 'introspection.no-client-auth', 401, 'invalid_request'),
  },
  {
    check: 'introspection.unknown-token-inactive',
    defect: 'unknown token answered 400 invalid_token',
    expect: 'fail',
    message: /introspection was answered 400 invalid_token, not 200 with a JSON object/,
    apply: (e) => errorResponse(e, 'introspection.unknown-token', 400, 'invalid_token'),
  },
  {
    check: 'introspection.unknown-token-inactive',
    defect: 'unknown token active',
    expect: 'fail',
    message: /active is true for a random string the server never issued/,
    apply: (e) => {
      json(e, 'introspection.unknown-token')['active'] = true;
    },
  },
  {
    check: 'introspection.inactive-only-active',
    defect: 'why the token is inactive',
    expect: 'warn',
    message: /random string the server never issued: also reason$/,
    apply: (e) => {
      json(e, 'introspection.unknown-token')['reason'] = 'unknown token';
    },
  },
  {
    check: 'introspection.inactive-only-active',
    defect: 'the expired token still described',
    expect: 'warn',
    message: /after its lifetime \(5 s\): also client_id, exp/,
    apply: (e) => {
      Object.assign(json(e, 'introspection.expired'), { client_id: 'ref-basic', exp: 1 });
    },
  },
  // Protected resource
  {
    check: 'resource.no-token-refused',
    defect: 'served without a token',
    expect: 'fail',
    message: /answered 200 to a request without any access token: it is not protected/,
    apply: (e) => {
      res(e, 'resource.no-token').status = 200;
    },
  },
  {
    check: 'resource.no-token-challenge',
    defect: 'no WWW-Authenticate',
    expect: 'fail',
    message: /no Bearer challenge in WWW-Authenticate \(absent\)/,
    apply: (e) => {
      delete res(e, 'resource.no-token').headers['www-authenticate'];
    },
  },
  {
    check: 'resource.no-token-challenge',
    defect: '400 instead of 401',
    expect: 'fail',
    message: /without a token was answered 400 \(application\/json\), not 401/,
    apply: (e) => {
      const r = res(e, 'resource.no-token');
      r.status = 400;
      r.json = {};
    },
  },
  {
    check: 'resource.no-token-challenge',
    defect: 'a Basic challenge only',
    expect: 'fail',
    message: /no Bearer challenge in WWW-Authenticate \("Basic realm=\\"api\\""\)/,
    apply: (e) => {
      res(e, 'resource.no-token').headers['www-authenticate'] = ['Basic realm="api"'];
    },
  },
  {
    check: 'resource.no-token-no-error-code',
    defect: 'error="invalid_token" without a token',
    expect: 'warn',
    message:
      /carries error="invalid_token", error_description="no token" although the request had no credentials/,
    apply: (e) => {
      res(e, 'resource.no-token').headers['www-authenticate'] = [
        'Bearer realm="reference", error="invalid_token", error_description="no token"',
      ];
    },
  },
  {
    check: 'resource.tampered-token-refused',
    defect: 'tampered token accepted',
    expect: 'fail',
    message:
      /answered 200 to the fresh token with one character changed: it does not validate the token/,
    apply: (e) => {
      res(e, 'resource.tampered').status = 200;
    },
  },
  {
    check: 'resource.tampered-token-challenge',
    defect: '400 invalid_request',
    expect: 'warn',
    message:
      /the tampered token was answered 400 invalid_request, not 401; the Bearer challenge has error="invalid_request", not "invalid_token"/,
    apply: (e) => {
      const r = res(e, 'resource.tampered');
      r.status = 400;
      r.json = { error: 'invalid_request' };
      r.headers['www-authenticate'] = ['Bearer realm="reference", error="invalid_request"'];
    },
  },
  {
    check: 'resource.tampered-token-challenge',
    defect: 'no challenge',
    expect: 'warn',
    message: /no Bearer challenge in WWW-Authenticate \(absent\)/,
    apply: (e) => {
      delete res(e, 'resource.tampered').headers['www-authenticate'];
    },
  },
  {
    check: 'resource.insufficient-scope-refused',
    defect: 'scope not checked',
    expect: 'fail',
    message: /answered 200 to a token granted "api:write", without the required "api:read"/,
    apply: (e) => {
      res(e, 'resource.insufficient-scope').status = 200;
    },
  },
  {
    check: 'resource.insufficient-scope-challenge',
    defect: '401 invalid_token',
    expect: 'warn',
    message:
      /was answered 401 invalid_token, not 403; the Bearer challenge has error="invalid_token", not "insufficient_scope"/,
    apply: (e) => {
      const r = res(e, 'resource.insufficient-scope');
      r.status = 401;
      r.json = { error: 'invalid_token' };
      r.headers['www-authenticate'] = ['Bearer realm="reference", error="invalid_token"'];
    },
  },
  // The jwt-bearer grant (recorded from providers/reference-jwt-bearer.yaml)
  {
    fixture: 'jwt-bearer',
    check: 'grant.jwt-bearer',
    client: 'none (public client)',
    defect: 'grant type not supported',
    expect: 'fail',
    message: /a valid jwt-bearer grant .* was answered 400 unsupported_grant_type/,
    apply: (e) => errorResponse(e, 'token.0', 400, 'unsupported_grant_type'),
  },
  {
    fixture: 'jwt-bearer',
    check: 'grant.assertion-replay',
    defect: 'replayed grant assertion accepted',
    expect: 'warn',
    message: /the replayed assertion was answered 200/,
    apply: (e) => grantsToken(e, 'grant.assertion.replay'),
  },
  // A JSON-only endpoint (the jwt-bearer recording, switched to JSON bodies, with the form request refused)
  {
    fixture: 'jwt-bearer',
    check: 'grant.form-encoded-body',
    defect: 'form-encoded request refused',
    expect: 'fail',
    message: /the form-encoded token request was answered 400 invalid_request/,
    apply: (e, p) => {
      p.grant.bodyEncoding = 'json';
      e.exchanges['grant.form-body'] = {
        ...structuredClone(e.exchanges['token.0']!),
        probe: 'grant.form-body',
      };
      errorResponse(e, 'grant.form-body', 400, 'invalid_request');
      delete e.notRun['grant.form-body'];
    },
  },
];

/**
 * The probe of a declared maximum assertion lifetime (not sent against the reference, which declares
 * none), made from the recorded first use: maximum 300 s, so the probe lives 300 + 60 + 10 s.
 */
function overMaxProbe(e: Evidence, p: Provider, accepted: boolean): void {
  p.expect.clientAssertion.maxLifetimeSeconds = 300;
  const first = e.exchanges['client-auth.first-use']!;
  const probe = structuredClone(first);
  probe.probe = 'client-auth.over-max-lifetime';
  const claims = probe.request.assertion!.payload;
  claims['exp'] = (claims['iat'] as number) + 370;
  e.exchanges['client-auth.over-max-lifetime'] = probe;
  delete e.notRun['client-auth.over-max-lifetime'];
  if (!accepted) errorResponse(e, 'client-auth.over-max-lifetime', 401, 'invalid_client');
}

/** Opaque tokens declared, with the observer's facts about them (the recording's tokens are JWTs). */
function opaqueFacts(
  e: Evidence,
  p: Provider,
  tokenBound: NonNullable<NonNullable<Evidence['facts']>['tokenBound']>,
): void {
  p.expect.tokenFormat = 'opaque';
  e.facts = {
    tokenSample: {
      count: tokenBound.count,
      distinct: tokenBound.count,
      minLength: tokenBound.minLength,
      alphabet: 64,
      estimatedBits: 256,
    },
    tokenBound,
  };
}
