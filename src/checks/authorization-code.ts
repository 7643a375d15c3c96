/**
 * The authorization_code grant at the token endpoint (RFC 6749 §4.1.2–4.1.3, RFC 7636 §4.4–4.6,
 * RFC 9700 §2.1.1): a code is good once, for the client it was issued to, with the redirect URI and
 * the verifier of its authorization request — and a plain PKCE challenge is refused unless declared.
 */
import type { Provider } from '../descriptor/types.js';
import type { RecordedResponse } from '../evidence/types.js';
import { PROBES, type ProbeId } from '../probes/ids.js';
import { describeResponse, jsonObject, oauthError } from './helpers.js';
import { refusalChecks } from './refusal.js';
import { defineCheck, fail, pass, rfc, skip, type CheckDef, type SpecRef } from './types.js';

const AREA = 'authorization-code' as const;
const isAuthCode = (p: Provider): true | string =>
  p.grant.type === 'authorization_code' ? true : 'the grant is not authorization_code';

const RFC9700_PKCE: SpecRef = {
  label: 'RFC 9700 §2.1.1',
  url: 'https://www.rfc-editor.org/rfc/rfc9700#section-2.1.1',
};

/** A fresh code exchanged by each declared client gives an access token (the ordinary token request). */
export const authorizationCodeSucceeds = defineCheck({
  id: 'authorization-code.exchanged',
  title: 'A fresh authorization code is exchanged for an access token',
  area: AREA,
  level: 'EXPECTATION',
  spec: rfc(6749, '4.1.3'),
  defect: 'the endpoint refuses a valid authorization code with its code_verifier and redirect_uri',
  perClient: true,
  applies: isAuthCode,
  needs: (_p, i) => [PROBES.token(i)],
  judge: ({ ex, client, clientIndex }) => {
    const res = ex(PROBES.token(clientIndex ?? 0)).response;
    if (res.status === 200 && res.accessToken)
      return pass(`200 with an access token for ${client?.label}`);
    return fail(
      `a fresh authorization code of ${client?.label} was answered ${describeResponse(res)}, not 200 with an access token`,
    );
  },
});

/** The first use of the code the replay probes present: a token, and no ID token is demanded. */
const firstUse = defineCheck({
  id: 'authorization-code.first-use',
  title: 'A code exchanged once gives an access token (an ID token is not required)',
  area: AREA,
  level: 'MUST',
  spec: rfc(6749, '4.1.4'),
  defect: 'the first exchange of a valid code is refused',
  applies: isAuthCode,
  needs: () => [PROBES.codeFirstUse],
  judge: ({ ex }) => {
    const res = ex(PROBES.codeFirstUse).response;
    if (res.status === 200 && res.accessToken)
      return pass(
        `200 with an access token${jsonObject(res)?.['id_token'] !== undefined ? ' (and an ID token)' : ''}`,
      );
    return fail(
      `the first exchange of a fresh code was answered ${describeResponse(res)}, not 200 with an access token`,
    );
  },
});

const invalidGrant = (
  probe: ProbeId,
  key: string,
  what: string,
  spec: SpecRef,
  defect: string,
  applies: (p: Provider) => true | string = isAuthCode,
): [CheckDef, CheckDef] =>
  refusalChecks({
    probe,
    area: AREA,
    applies,
    what,
    acceptance: {
      id: `authorization-code.${key}-refused`,
      title: `${what[0]!.toUpperCase()}${what.slice(1)} is refused`,
      level: 'MUST',
      spec,
      defect,
    },
    code: {
      id: `authorization-code.${key}-invalid-grant`,
      title: `${what[0]!.toUpperCase()}${what.slice(1)} is refused with invalid_grant`,
      level: 'MUST',
      spec: rfc(6749, '5.2'),
      defect: `${what} is refused with another error code than invalid_grant`,
      codes: ['invalid_grant'],
      rule: 'RFC 6749 §5.2: the authorization grant is invalid, expired, revoked or was issued to another client',
    },
  });

/** After a replayed code: the token issued from it SHOULD be revoked (RFC 6749 §4.1.2). */
const replayRevokes = defineCheck({
  id: 'authorization-code.replay-revokes-tokens',
  title: 'After a code is replayed, the token issued from it is revoked',
  area: AREA,
  level: 'SHOULD',
  levelReason:
    'RFC 6749 §4.1.2: if a code is used more than once the server MUST deny the request and SHOULD revoke (when possible) all tokens previously issued based on it.',
  spec: rfc(6749, '4.1.2'),
  defect: 'the access token from a code stays valid after the code was presented again',
  applies: isAuthCode,
  needs: () => [PROBES.codeAfterReplay],
  judge: ({ ex, provider }) => {
    const res = ex(PROBES.codeAfterReplay).response;
    if (provider.introspection) {
      const body = jsonObject(res);
      if (res.status === 200 && body?.['active'] === false)
        return pass('introspection answers {"active": false} for the token after the replay');
      if (res.status === 200 && body?.['active'] === true)
        return fail(
          'introspection still answers "active": true for the token issued from the replayed code',
        );
      return fail(
        `introspection of the token after the replay was answered ${describeResponse(res)}, not 200 with "active"`,
      );
    }
    if (res.status === 401) return pass('the resource refuses the token after the replay (401)');
    if (res.status >= 200 && res.status < 300)
      return fail(
        `the resource still accepts the token issued from the replayed code (${res.status})`,
      );
    return fail(
      `the resource answered the token after the replay ${describeResponse(res)}, not 401`,
    );
  },
});

/** Was the plain challenge refused at the authorization endpoint (RFC 7636 §4.4.1)? */
function plainOutcome(
  res: RecordedResponse,
  redirectUri: string,
): { refused: boolean; error?: string; shown: string } {
  const location = res.headers['location']?.[0];
  if (res.status >= 300 && res.status < 400 && location) {
    let u: URL | undefined;
    try {
      u = new URL(location, 'https://invalid.invalid/');
    } catch {
      u = undefined;
    }
    const toClient = u !== undefined && `${u.origin}${u.pathname}` === redirectUri.split('?')[0];
    const error = u?.searchParams.get('error') ?? undefined;
    if (toClient && error)
      return { refused: true, error, shown: `${res.status}, redirect with error=${error}` };
    if (toClient && u?.searchParams.get('code'))
      return { refused: false, shown: `${res.status}, redirect with a code` };
    return {
      refused: false,
      shown: `${res.status}, redirect to ${u ? `${u.origin}${u.pathname}` : 'elsewhere'} (the login went on)`,
    };
  }
  if (res.status >= 400 && res.status < 500)
    return {
      refused: true,
      ...(oauthError(res) ? { error: oauthError(res)! } : {}),
      shown: describeResponse(res),
    };
  return { refused: false, shown: `${describeResponse(res)} (the login went on)` };
}

const plainApplies = (p: Provider): true | string => {
  const a = isAuthCode(p);
  if (a !== true) return a;
  return p.authorization?.pkce.plainAllowed
    ? 'the descriptor allows the plain method (authorization.pkce.plainAllowed)'
    : true;
};

const plainRefused = defineCheck({
  id: 'authorization-code.plain-pkce-refused',
  title: 'An authorization request with the plain PKCE method is refused',
  area: AREA,
  level: 'SHOULD',
  levelReason:
    'RFC 9700 §2.1.1: clients SHOULD use S256; a server that accepts plain lets a challenge that leaked be used as the verifier. Not refusing it is a SHOULD finding unless the descriptor allows plain.',
  spec: RFC9700_PKCE,
  defect:
    'the authorization endpoint goes on (to the login, or a code) with code_challenge_method=plain',
  applies: plainApplies,
  needs: () => [PROBES.codePlainChallenge],
  judge: ({ ex, provider }) => {
    const o = plainOutcome(
      ex(PROBES.codePlainChallenge).response,
      provider.authorization!.redirectUri,
    );
    return o.refused
      ? pass(`refused: ${o.shown}`)
      : fail(`the authorization request with code_challenge_method=plain was answered ${o.shown}`);
  },
});

const plainErrorCode = defineCheck({
  id: 'authorization-code.plain-pkce-invalid-request',
  title: 'The plain PKCE method, when refused, is refused with invalid_request',
  area: AREA,
  level: 'MUST',
  spec: rfc(7636, '4.4.1'),
  defect: 'an unsupported code_challenge_method is refused with another error than invalid_request',
  applies: plainApplies,
  needs: () => [PROBES.codePlainChallenge],
  judge: ({ ex, provider }) => {
    const o = plainOutcome(
      ex(PROBES.codePlainChallenge).response,
      provider.authorization!.redirectUri,
    );
    if (!o.refused)
      return skip(
        'not applicable: the plain method was not refused, so there is no error code to judge (see authorization-code.plain-pkce-refused)',
      );
    return o.error === 'invalid_request'
      ? pass(`refused with error=invalid_request (${o.shown})`)
      : fail(
          `the plain method was refused with ${o.error ? `error=${o.error}` : 'no error code'} (${o.shown}); RFC 7636 §4.4.1 says invalid_request`,
        );
  },
});

const hasOtherClient = (p: Provider): true | string => {
  const a = isAuthCode(p);
  if (a !== true) return a;
  return p.authorization?.otherClient !== undefined
    ? true
    : 'no second client is declared (authorization.otherClient)';
};

export const authorizationCodeChecks: CheckDef[] = [
  authorizationCodeSucceeds,
  firstUse,
  ...invalidGrant(
    PROBES.codeReplay,
    'replay',
    'an authorization code presented a second time',
    rfc(6749, '4.1.2'),
    'the endpoint exchanges the same authorization code twice',
  ),
  replayRevokes,
  ...invalidGrant(
    PROBES.codeWrongVerifier,
    'wrong-verifier',
    'a code with a code_verifier that does not match its challenge',
    rfc(7636, '4.6'),
    'the endpoint ignores the code_verifier (a wrong one is accepted)',
  ),
  ...invalidGrant(
    PROBES.codeNoVerifier,
    'missing-verifier',
    'a code whose authorization sent a challenge, without code_verifier',
    RFC9700_PKCE,
    'the endpoint exchanges a PKCE-protected code without any code_verifier',
  ),
  ...invalidGrant(
    PROBES.codeRedirectMismatch,
    'redirect-mismatch',
    'a code with another redirect_uri than its authorization request',
    rfc(6749, '4.1.3'),
    'the endpoint does not compare redirect_uri with the authorization request',
  ),
  ...invalidGrant(
    PROBES.codeOtherClient,
    'other-client',
    'a code presented by another client than it was issued to',
    rfc(6749, '4.1.3'),
    'the endpoint exchanges a code for a client it was not issued to',
    hasOtherClient,
  ),
  plainRefused,
  plainErrorCode,
];
