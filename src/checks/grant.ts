import { JWT_BEARER, type Provider } from '../descriptor/types.js';
import { PROBES } from '../probes/ids.js';
import { bodySecretClient, secretClient } from '../probes/clients.js';
import { assertionChecks, replayCheck, SPECS } from './client-auth.js';
import { judgeNotAccepted, refusalChecks } from './refusal.js';
import { describeResponse } from './helpers.js';
import { defineCheck, fail, pass, rfc } from './types.js';

const tokenProbe = () => [PROBES.token(0)];

export const clientCredentialsSucceeds = defineCheck({
  id: 'grant.client-credentials',
  title: 'client_credentials grant succeeds with the declared client authentication',
  area: 'grant',
  level: 'EXPECTATION',
  spec: rfc(6749, '4.4.2'),
  defect: 'the endpoint refuses a correctly authenticated client_credentials request',
  perClient: true,
  applies: (p) =>
    p.grant.type === 'client_credentials' ? true : 'the grant is not client_credentials',
  needs: (_p, i) => [PROBES.token(i)],
  judge: ({ ex, client, clientIndex }) => {
    const res = ex(PROBES.token(clientIndex ?? 0)).response;
    if (res.status === 200 && res.accessToken)
      return pass(`200 with an access token for ${client?.label}`);
    return fail(
      `client_credentials with ${client?.label} was answered ${describeResponse(res)}, not 200 with an access token`,
    );
  },
});

export const jwtBearerSucceeds = defineCheck({
  id: 'grant.jwt-bearer',
  title: 'The jwt-bearer grant succeeds with a valid assertion',
  area: 'grant',
  level: 'EXPECTATION',
  spec: rfc(7523, '2.1'),
  defect: 'the endpoint refuses a valid jwt-bearer grant',
  perClient: true,
  applies: (p) => (p.grant.type === JWT_BEARER ? true : 'the grant is not jwt-bearer'),
  needs: (_p, i) => [PROBES.token(i)],
  judge: ({ ex, client, clientIndex }) => {
    const res = ex(PROBES.token(clientIndex ?? 0)).response;
    if (res.status === 200 && res.accessToken)
      return pass(`200 with an access token (${client?.label})`);
    return fail(
      `a valid jwt-bearer grant (${client?.label}) was answered ${describeResponse(res)}, not 200 with an access token`,
    );
  },
});

const grantAssertion = {
  area: 'grant' as const,
  probe: PROBES.grantAssertion,
  code: 'invalid_grant' as const,
  section: '3.1',
  applies: (p: Provider) => (p.grant.assertion ? true : 'the grant is not jwt-bearer'),
};
const forGrant = (id: string, title: string) => {
  const spec = SPECS.find((x) => x.id === id);
  if (!spec) throw new Error(`no assertion spec ${id}`);
  return assertionChecks(
    {
      ...spec,
      id: id
        .replace('client-auth.', 'grant.assertion-')
        .replace('assertion-expired-assertion', 'assertion-expired'),
      title,
      subject: title.replace(/ is refused( with invalid_grant)?$/, ''),
      what: spec.what.replace(
        /^an (unsigned )?assertion/,
        (_m, u: string | undefined) => `a${u ? 'n unsigned' : ''} grant assertion`,
      ),
      alsoAccepted: [],
    },
    grantAssertion,
  );
};
export const grantAssertionChecks = [
  ...forGrant(
    'client-auth.expired-assertion',
    'An expired grant assertion is refused with invalid_grant',
  ),
  ...forGrant(
    'client-auth.wrong-audience',
    'A grant assertion for another audience is refused with invalid_grant',
  ),
  ...forGrant(
    'client-auth.wrong-issuer',
    'A grant assertion from an unknown issuer is refused with invalid_grant',
  ),
  ...forGrant(
    'client-auth.alg-none',
    'An unsigned grant assertion (alg none) is refused with invalid_grant',
  ),
  ...forGrant(
    'client-auth.unknown-key',
    'A grant assertion signed by an unknown key is refused with invalid_grant',
  ),
  ...forGrant('client-auth.far-future-exp', 'A grant assertion valid for a year is refused'),
  replayCheck(
    {
      id: 'grant.assertion-replay',
      title: 'A grant assertion used twice is refused the second time',
      area: 'grant',
      level: 'SHOULD',
      levelReason:
        'RFC 7523 §3 lets the server keep used jti values to stop replay (MAY): a warning.',
      spec: rfc(7523, '3'),
      defect: 'the endpoint accepts the same grant assertion twice',
      applies: grantAssertion.applies,
    },
    PROBES.grantAssertionFirstUse,
    PROBES.grantAssertionReplay,
  ),
];

export const formEncodedBody = defineCheck({
  id: 'grant.form-encoded-body',
  title: 'The token endpoint accepts the form-encoded token request of RFC 6749',
  area: 'grant',
  level: 'MUST',
  levelReason:
    'RFC 6749 §4.4.2 (and RFC 7521 §4.1 for assertion grants) has clients send application/x-www-form-urlencoded: an endpoint that refuses it cannot be used by a conformant client. Services that take JSON by design declare it as a deviation.',
  spec: rfc(6749, '4.4.2'),
  defect: 'the endpoint refuses a form-encoded token request (it takes JSON only)',
  applies: (p) =>
    p.grant.bodyEncoding === 'json'
      ? true
      : 'the descriptor sends form-encoded token requests (checked by every other token request)',
  needs: () => [PROBES.formBody],
  judge: ({ ex }) => {
    const res = ex(PROBES.formBody).response;
    return res.status === 200 && res.accessToken
      ? pass('200 with an access token for the form-encoded request')
      : fail(`the form-encoded token request was answered ${describeResponse(res)}`);
  },
});

export const tokenAcceptedAtResource = defineCheck({
  id: 'grant.token-accepted-at-resource',
  title: 'The issued access token is accepted at the declared protected resource',
  area: 'grant',
  level: 'EXPECTATION',
  spec: rfc(6750, '2.1'),
  defect: 'the protected resource refuses a fresh access token',
  applies: (p) =>
    p.resource ? true : 'the descriptor declares no protected resource (resource.url)',
  needs: () => [PROBES.resourceFresh],
  judge: ({ ex }) => {
    const res = ex(PROBES.resourceFresh).response;
    return res.status >= 200 && res.status < 300
      ? pass(`the resource answered ${res.status}`)
      : fail(
          `the resource answered ${res.status} to a fresh token${res.headers['www-authenticate'] ? ` (WWW-Authenticate: ${res.headers['www-authenticate'].join(', ')})` : ''}`,
        );
  },
});

export const getRefused = defineCheck({
  id: 'grant.get-refused',
  title: 'A token request made with GET does not obtain a token',
  area: 'grant',
  level: 'SHOULD',
  levelReason:
    'RFC 6749 §3.2 obliges the client to use POST; that the server refuses GET is implied (§5.2 "otherwise malformed"), not commanded, so this is not failed at MUST level. Any refusal (400, 405, …) passes.',
  spec: rfc(6749, '3.2'),
  defect: 'the endpoint issues a token to a GET request',
  needs: () => [PROBES.get],
  judge: ({ ex }) => judgeNotAccepted(ex(PROBES.get).response, 'a GET token request'),
});

const malformed = 'RFC 6749 §5.2 (invalid_request: a missing, repeated or malformed parameter)';

export const missingGrantType = refusalChecks({
  probe: PROBES.missingGrantType,
  area: 'grant',
  what: 'a request without grant_type',
  acceptance: {
    id: 'grant.missing-grant-type-not-accepted',
    title: 'A token request without grant_type does not obtain a token',
    level: 'MUST',
    levelReason:
      'RFC 6749 §4.4.2 makes grant_type REQUIRED and §5.2 has the server answer a request missing a required parameter with an error: issuing a token for it processes a malformed request.',
    spec: rfc(6749, '4.4.2'),
    defect: 'the endpoint issues a token to a request without grant_type',
  },
  code: {
    id: 'grant.missing-grant-type',
    title: 'A token request without grant_type is refused with invalid_request',
    level: 'MUST',
    spec: rfc(6749, '5.2'),
    defect: 'the endpoint answers a request without grant_type with anything but invalid_request',
    codes: ['invalid_request'],
    rule: malformed,
  },
});

export const unknownGrantType = refusalChecks({
  probe: PROBES.unknownGrantType,
  area: 'grant',
  what: 'an unknown grant_type',
  acceptance: {
    id: 'grant.unknown-grant-type-not-accepted',
    title: 'An unknown grant_type does not obtain a token',
    level: 'MUST',
    levelReason:
      'RFC 6749 §5.2: a grant type the server does not support is answered unsupported_grant_type; a token for it means the grant_type is not looked at.',
    spec: rfc(6749, '5.2'),
    defect: 'the endpoint issues a token for an unknown grant_type',
  },
  code: {
    id: 'grant.unknown-grant-type',
    title: 'An unknown grant_type is refused with unsupported_grant_type',
    level: 'MUST',
    spec: rfc(6749, '5.2'),
    defect: 'the endpoint answers an unknown grant_type with anything but unsupported_grant_type',
    codes: ['unsupported_grant_type'],
    rule: 'RFC 6749 §5.2 (unsupported_grant_type)',
  },
});

export const repeatedParameter = refusalChecks({
  probe: PROBES.repeatedParameter,
  area: 'grant',
  what: 'a request with grant_type twice',
  acceptance: {
    id: 'grant.repeated-parameter-not-accepted',
    title: 'A token request that repeats grant_type does not obtain a token',
    level: 'SHOULD',
    levelReason:
      'RFC 6749 §3.1 forbids the client to repeat a parameter; §5.2 lists "repeats a parameter" under invalid_request, so the refusal is implied rather than commanded.',
    spec: rfc(6749, '3.1'),
    defect: 'the endpoint issues a token when grant_type is sent twice',
  },
  code: {
    id: 'grant.repeated-parameter',
    title: 'A token request that repeats grant_type is refused with invalid_request',
    level: 'SHOULD',
    levelReason:
      'RFC 6749 §5.2 names invalid_request for a repeated parameter; since the refusal itself is only implied (§3.1), a different code is a warning.',
    spec: rfc(6749, '3.1'),
    defect: 'the endpoint refuses a repeated grant_type with another error code',
    codes: ['invalid_request'],
    rule: malformed,
  },
});

const noSecretClient = (p: Provider) =>
  secretClient(p) ? true : 'no client with a shared secret is declared';

export const queryCredentials = refusalChecks({
  probe: PROBES.queryCredentials,
  area: 'grant',
  applies: (p) => (bodySecretClient(p) ? true : 'no client with a shared secret is declared'),
  // The probe uses the client_secret_post client when there is one (a Basic-only client is refused
  // for its method whatever the URL holds); the message names the client so the reader can tell.
  what: (p) =>
    `a request with the client credentials of ${bodySecretClient(p)?.label} in the query string`,
  acceptance: {
    id: 'grant.query-credentials-refused',
    title: 'Client credentials in the query string do not obtain a token',
    level: 'SHOULD',
    levelReason:
      'RFC 6749 §2.3.1 says the credentials MUST NOT be included in the request URI, a rule on the client; a server that accepts them is implied to be wrong, not commanded to refuse.',
    spec: rfc(6749, '2.3.1'),
    defect: 'the endpoint authenticates a client from client_id/client_secret in the URL',
  },
  code: {
    id: 'grant.query-credentials-error-code',
    title:
      'Client credentials in the query string are refused with invalid_request or invalid_client',
    level: 'SHOULD',
    levelReason:
      'RFC 6749 §5.2: credentials where they must not be are a malformed request (invalid_request) or a failed client authentication (invalid_client); the refusal is implied, so another code is a warning.',
    spec: rfc(6749, '5.2'),
    defect: 'the endpoint refuses query-string credentials with a 5xx, a 2xx or another error code',
    codes: ['invalid_request', 'invalid_client'],
    rule: 'RFC 6749 §5.2',
  },
});

export const twoMethods = refusalChecks({
  probe: PROBES.twoMethods,
  area: 'grant',
  applies: noSecretClient,
  what: 'a request with Basic and client_secret in the body',
  acceptance: {
    id: 'grant.two-auth-methods-refused',
    title: 'A request using two client authentication methods at once does not obtain a token',
    level: 'SHOULD',
    levelReason:
      'RFC 6749 §2.3 says the client MUST NOT use more than one method; §5.2 lists it under invalid_request, so the refusal is implied.',
    spec: rfc(6749, '2.3'),
    defect:
      'the endpoint issues a token to a request with both Basic and client_secret in the body',
  },
  code: {
    id: 'grant.two-auth-methods-error-code',
    title:
      'A request using two client authentication methods is refused with invalid_request or invalid_client',
    level: 'SHOULD',
    levelReason:
      'RFC 6749 §5.2 names invalid_request ("utilizes more than one mechanism for authenticating the client"); invalid_client is accepted too. The refusal is implied, so another code is a warning.',
    spec: rfc(6749, '5.2'),
    defect:
      'the endpoint refuses two authentication methods with a 5xx, a 2xx or another error code',
    codes: ['invalid_request', 'invalid_client'],
    rule: 'RFC 6749 §5.2',
  },
});

export const noRefreshToken = defineCheck({
  id: 'grant.no-refresh-token',
  title: 'No refresh token is issued for client_credentials',
  area: 'grant',
  level: (p) => (p.expect.refreshToken === 'absent' ? 'EXPECTATION' : 'SHOULD'),
  applies: (p) =>
    p.grant.type === 'client_credentials' || p.expect.refreshToken === 'absent'
      ? true
      : 'RFC 6749 §4.4.3 speaks of client_credentials only, and the descriptor allows refresh tokens',
  levelLabel: 'SHOULD (EXPECTATION when refreshToken: absent is declared)',
  levelReason:
    'RFC 6749 §4.4.3: a refresh token SHOULD NOT be included. An EXPECTATION when the descriptor declares refreshToken: absent.',
  spec: rfc(6749, '4.4.3'),
  defect: 'the endpoint returns a refresh_token to a client_credentials request',
  needs: tokenProbe,
  judge: ({ ex }) => {
    const res = ex(PROBES.token(0)).response;
    return res.refreshToken
      ? fail(`the response carries a refresh_token (${res.refreshToken.preview})`)
      : pass('no refresh_token in the response');
  },
});

export const grantChecks = [
  clientCredentialsSucceeds,
  jwtBearerSucceeds,
  formEncodedBody,
  ...grantAssertionChecks,
  tokenAcceptedAtResource,
  getRefused,
  ...missingGrantType,
  ...unknownGrantType,
  ...repeatedParameter,
  ...queryCredentials,
  ...twoMethods,
  noRefreshToken,
];
