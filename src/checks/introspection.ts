import type { Provider } from '../descriptor/types.js';
import { PROBES, type ProbeId } from '../probes/ids.js';
import type { RecordedResponse } from '../evidence/types.js';
import {
  describeResponse,
  grantedScope,
  jsonObject,
  list,
  oauthError,
  sameSet,
  scopeSet,
  show,
} from './helpers.js';
import { broken, defineCheck, fail, pass, rfc, type JudgeInput, type Verdict } from './types.js';

const applies = (p: Provider) =>
  p.introspection ? true : 'the descriptor declares no introspection endpoint';

/**
 * An answer that refuses the caller instead of judging the token: our credentials were not accepted
 * (invalid_client, unauthorized_client, access_denied, or a bare 401/403). RFC 7662 §2.3 keeps these
 * apart from the token's state, which §2.2 always reports as 200 with active.
 */
function callerRefused(res: RecordedResponse): boolean {
  const code = oauthError(res);
  if (code === 'invalid_client' || code === 'unauthorized_client' || code === 'access_denied')
    return true;
  return (
    (res.status === 401 || res.status === 403) &&
    code !== 'invalid_token' &&
    code !== 'invalid_request'
  );
}

/**
 * Judges a 200 introspection answer. Without one: broken when the caller was refused (a prerequisite,
 * not a verdict on the token), or when `judgedBy` names the check that judges this answer; otherwise
 * the server answered the token itself with something other than §2.2's response: a failure.
 */
function withIntrospection(
  probe: ProbeId,
  judge: (body: Record<string, unknown>, input: JudgeInput) => Verdict,
  judgedBy?: string,
) {
  return (input: JudgeInput): Verdict => {
    const res = input.ex(probe).response;
    const body = jsonObject(res);
    if (res.status === 200 && body) return judge(body, input);
    const answer = `introspection was answered ${describeResponse(res)}, not 200 with a JSON object`;
    if (callerRefused(res))
      return broken(
        `prerequisite failed: ${answer}: the endpoint refused the harness's client (${input.provider.introspection?.client.label ?? '?'}; see introspection.client in the descriptor)`,
      );
    if (judgedBy) return broken(`prerequisite failed: ${answer} (see ${judgedBy})`);
    return fail(answer);
  };
}

export const freshActive = defineCheck({
  id: 'introspection.fresh-active',
  title: 'A fresh access token introspects as active: true',
  area: 'introspection',
  level: 'MUST',
  spec: rfc(7662, '2.2'),
  defect: 'a valid token introspects as inactive, or active is not a boolean',
  applies,
  needs: () => [PROBES.introspectFresh],
  judge: withIntrospection(PROBES.introspectFresh, (body) =>
    body['active'] === true
      ? pass('active: true')
      : fail(`active is ${show(body['active'])} for a token issued seconds ago`),
  ),
});

export const freshAgrees = defineCheck({
  id: 'introspection.agrees-with-token-response',
  title: "Introspection's client_id, scope and exp agree with the token response",
  area: 'introspection',
  level: 'EXPECTATION',
  levelReason:
    'RFC 7662 §2.2 makes these members optional; when present they describe the same grant as the token response, and a client relying on either must get the same answer.',
  spec: rfc(7662, '2.2'),
  defect:
    'introspection names another client, another scope, or another expiry than the token response',
  applies,
  needs: () => [PROBES.introspectFresh, PROBES.token(0)],
  judge: withIntrospection(
    PROBES.introspectFresh,
    (body, { ex, provider }) => {
      if (body['active'] !== true)
        return broken('prerequisite failed: the token does not introspect as active');
      const token = ex(PROBES.token(0));
      const problems: string[] = [];
      const clientId = provider.clients[0]?.id;
      if (body['client_id'] !== undefined && body['client_id'] !== clientId)
        problems.push(`client_id is ${show(body['client_id'])}, not ${show(clientId)}`);
      if (body['scope'] !== undefined) {
        const { scope } = grantedScope(token, provider.scopes.request);
        if (typeof body['scope'] !== 'string' || !sameSet(scopeSet(body['scope']), scope))
          problems.push(
            `scope is ${show(body['scope'])}, the token response granted ${list(scope)}`,
          );
      }
      const expiresIn = jsonObject(token.response)?.['expires_in'];
      if (body['exp'] !== undefined && typeof expiresIn === 'number') {
        // The server issued the token somewhere between the request's start and the answer's arrival:
        // on a slow exchange either end is right, so exp may lie anywhere in that window (± tolerance).
        const sent = Date.parse(token.startedAt);
        const expected = Math.round((sent + token.durationMs) / 1000) + expiresIn;
        const tolerance = Math.max(2, provider.expect.expiresInTolerance);
        const earliest = Math.floor(sent / 1000) + expiresIn - tolerance;
        const latest = Math.ceil((sent + token.durationMs) / 1000) + expiresIn + tolerance;
        if (typeof body['exp'] !== 'number' || body['exp'] < earliest || body['exp'] > latest)
          problems.push(
            `exp is ${show(body['exp'])}, the token response implies about ${expected}`,
          );
      }
      return problems.length === 0
        ? pass('client_id, scope and exp agree (where present)')
        : fail(problems.join('; '));
    },
    'introspection.fresh-active',
  ),
});

export const expiredInactive = defineCheck({
  id: 'introspection.expired-inactive',
  title: 'An expired access token introspects as active: false',
  area: 'introspection',
  level: 'MUST',
  spec: rfc(7662, '2.2'),
  defect: 'an expired token still introspects as active',
  applies,
  needs: () => [PROBES.introspectExpired],
  judge: withIntrospection(PROBES.introspectExpired, (body) =>
    body['active'] === false
      ? pass('active: false')
      : fail(`active is ${show(body['active'])} after the token's lifetime`),
  ),
});

export const requiresAuthentication = defineCheck({
  id: 'introspection.requires-authentication',
  title: 'Introspection without client authentication is refused',
  area: 'introspection',
  level: 'MUST',
  levelReason:
    'RFC 7662 §2.1: "the endpoint MUST also require some form of authorization to access this endpoint" (against token scanning); any introspection response to a caller that sent none, even active: false, shows that it does not.',
  spec: rfc(7662, '2.1'),
  defect: 'introspection answers a caller that sent no client authentication',
  applies,
  needs: () => [PROBES.introspectNoClientAuth],
  judge: ({ ex }) => {
    const res = ex(PROBES.introspectNoClientAuth).response;
    if (res.status < 200 || res.status >= 300) return pass(`refused with ${describeResponse(res)}`);
    const active = jsonObject(res)?.['active'];
    return fail(
      `introspection of the fresh token without client authentication was answered ${res.status}${active !== undefined ? ` with active: ${show(active)}` : ''}: the endpoint answers anyone`,
    );
  },
});

export const unauthenticatedError = defineCheck({
  id: 'introspection.unauthenticated-error',
  title:
    'Introspection without client authentication is answered 401 invalid_client (or 400 invalid_client / invalid_request)',
  area: 'introspection',
  level: 'MUST',
  levelReason:
    'RFC 7662 §2.3 answers a caller whose credentials are not accepted "with an HTTP 401 (Unauthorized) as described in Section 5.2 of OAuth 2.0", i.e. invalid_client; RFC 6749 §5.2 lets a request that carried no credentials at all be answered 400, with invalid_client or (a required parameter missing) invalid_request, as errors.no-client-auth accepts at the token endpoint.',
  spec: rfc(7662, '2.3'),
  defect:
    'unauthenticated introspection is refused with another status or error code (403 access_denied, 400 invalid_token, an HTML page)',
  applies,
  needs: () => [PROBES.introspectNoClientAuth],
  judge: ({ ex }) => {
    const res = ex(PROBES.introspectNoClientAuth).response;
    if (res.status >= 200 && res.status < 300)
      return broken(
        'prerequisite failed: the unauthenticated introspection was not refused (see introspection.requires-authentication)',
      );
    const code = oauthError(res);
    const ok =
      (res.status === 401 && code === 'invalid_client') ||
      (res.status === 400 && (code === 'invalid_client' || code === 'invalid_request'));
    return ok
      ? pass(`refused with ${describeResponse(res)}`)
      : fail(
          `introspection without client authentication was answered ${describeResponse(res)}; expected 401 invalid_client (or 400 invalid_client / invalid_request)`,
        );
  },
});

export const unknownTokenInactive = defineCheck({
  id: 'introspection.unknown-token-inactive',
  title: 'A token the server never issued introspects as 200 active: false',
  area: 'introspection',
  level: 'MUST',
  spec: rfc(7662, '2.2'),
  defect: 'introspection of an unknown token is an error (400 invalid_token, 404) or active: true',
  applies,
  needs: () => [PROBES.introspectUnknown],
  judge: withIntrospection(PROBES.introspectUnknown, (body) =>
    body['active'] === false
      ? pass('active: false')
      : fail(`active is ${show(body['active'])} for a random string the server never issued`),
  ),
});

export const inactiveOnlyActive = defineCheck({
  id: 'introspection.inactive-only-active',
  title: "An inactive token's introspection response carries nothing but active: false",
  area: 'introspection',
  level: 'SHOULD',
  levelReason:
    'RFC 7662 §2.2: the server "SHOULD NOT include any additional information about an inactive token, including why the token is inactive". Judged on the unknown token and, when it was waited for, the expired one.',
  spec: rfc(7662, '2.2'),
  defect:
    'inactive answers say more than active: false (why the token is inactive, its client or expiry)',
  applies,
  needs: () => [PROBES.introspectUnknown],
  judge: ({ answered }) => {
    const inactive = answered([PROBES.introspectUnknown, PROBES.introspectExpired]).filter(
      (e) => e.response.status === 200 && jsonObject(e.response)?.['active'] === false,
    );
    if (inactive.length === 0)
      return broken(
        'prerequisite failed: no introspection answered 200 with active: false (see introspection.unknown-token-inactive)',
      );
    const problems = inactive
      .map(
        (e) =>
          [e, Object.keys(jsonObject(e.response) ?? {}).filter((k) => k !== 'active')] as const,
      )
      .filter(([, extra]) => extra.length > 0);
    const probes = inactive.map((e) => e.probe);
    return problems.length === 0
      ? pass(
          `only active: false (${inactive.length} inactive ${inactive.length === 1 ? 'answer' : 'answers'})`,
          probes,
        )
      : fail(
          problems.map(([e, extra]) => `${e.purpose}: also ${extra.join(', ')}`).join('; '),
          problems.map(([e]) => e.probe),
        );
  },
});

export const introspectionChecks = [
  freshActive,
  freshAgrees,
  expiredInactive,
  requiresAuthentication,
  unauthenticatedError,
  unknownTokenInactive,
  inactiveOnlyActive,
];
