import type { Provider } from '../descriptor/types.js';
import { ERROR_PROBES, PROBES, type ProbeId } from '../probes/ids.js';
import { accepted, refusalChecks } from './refusal.js';
import { secretClient } from '../probes/clients.js';
import type { Answered } from './types.js';
import {
  describeResponse,
  directives,
  header,
  jsonObject,
  mediaTypeOf,
  oauthError,
  show,
} from './helpers.js';
import { compileSchema } from '../schemas.js';
import { schemaProblems } from './response.js';
import { broken, defineCheck, fail, pass, rfc, skip, type Verdict } from './types.js';
import { parseChallenges } from './expiry.js';

const validateError = compileSchema('token-error.schema.json');

const clientAuthFailed = 'RFC 6749 §5.2 (invalid_client: client authentication failed)';

export const wrongSecret = refusalChecks({
  probe: PROBES.wrongSecret,
  area: 'errors',
  applies: (p) => (secretClient(p) ? true : 'no client with a shared secret is declared'),
  what: 'a wrong client secret',
  acceptance: {
    id: 'errors.wrong-secret',
    title: 'A wrong client secret does not obtain a token',
    level: 'MUST',
    spec: rfc(6749, '3.2.1'),
    defect: 'the endpoint accepts a wrong secret',
  },
  code: {
    id: 'errors.wrong-secret-error-code',
    title: 'A wrong client secret is refused with invalid_client',
    level: 'MUST',
    spec: rfc(6749, '5.2'),
    defect: 'the endpoint refuses a wrong secret with another error code, a 5xx or a 2xx',
    codes: ['invalid_client'],
    rule: clientAuthFailed,
  },
});

/** A public primary client (jwt-bearer, RFC 7523 §2.1) authenticates nothing: an unknown id proves nothing. */
const authenticatingPrimary = (p: Provider) =>
  p.clients[0]?.auth.method !== 'none'
    ? true
    : 'the primary client is public (auth none): client authentication is optional for its grant (RFC 7523 §2.1), so an unknown client id is not a failed authentication';

export const unknownClient = refusalChecks({
  probe: PROBES.unknownClient,
  area: 'errors',
  applies: authenticatingPrimary,
  what: 'an unknown client id',
  acceptance: {
    id: 'errors.unknown-client',
    title: 'An unknown client id does not obtain a token',
    level: 'MUST',
    spec: rfc(6749, '3.2.1'),
    defect: 'the endpoint issues a token to an unknown client id',
  },
  code: {
    id: 'errors.unknown-client-error-code',
    title: 'An unknown client id is refused with invalid_client',
    level: 'MUST',
    spec: rfc(6749, '5.2'),
    defect: 'the endpoint refuses an unknown client with another error code, a 5xx or a 2xx',
    codes: ['invalid_client'],
    rule: 'RFC 6749 §5.2 (invalid_client: unknown client)',
  },
});

const noAuthApplies = (p: Provider) =>
  p.grant.type === 'client_credentials' || p.clients.some((c) => c.auth.method !== 'none')
    ? true
    : 'every client is public (auth none) and the grant does not require client authentication (RFC 7521 §4.1)';

export const noClientAuth = refusalChecks({
  probe: PROBES.noClientAuth,
  area: 'errors',
  applies: noAuthApplies,
  what: 'a request without client authentication',
  acceptance: {
    id: 'errors.no-client-auth',
    title: 'A request without client authentication does not obtain a token',
    level: 'MUST',
    levelReason: 'RFC 6749 §3.2.1 and §4.4.2 require the client to authenticate.',
    spec: rfc(6749, '3.2.1'),
    defect: 'the endpoint issues a token without client authentication',
  },
  code: {
    id: 'errors.no-client-auth-error-code',
    title:
      'A request without client authentication is refused with invalid_client or invalid_request',
    level: 'MUST',
    levelReason:
      'RFC 6749 §5.2 names both invalid_client ("no client authentication included") and invalid_request (missing parameter), so either is accepted.',
    spec: rfc(6749, '5.2'),
    defect:
      'the endpoint refuses a request without client authentication with another code, a 5xx or a 2xx',
    codes: ['invalid_client', 'invalid_request'],
    rule: 'RFC 6749 §5.2',
  },
});

/**
 * The error responses among the answers to error probes: every 4xx/5xx, and any answer carrying an
 * `error` member whatever its status (a 200 with an error is an error response with the wrong status).
 */
function errorResponses(answered: Answered[]): Answered[] {
  return answered.filter((e) => e.response.status >= 400 || oauthError(e.response) !== undefined);
}

/** When no error response can be examined: an outage says so; otherwise nothing was refused. */
function nothingToExamine(
  unanswered: (p: ProbeId[]) => string | undefined,
  budgetCut: (p: ProbeId[]) => string | undefined,
): Verdict {
  const outage = unanswered(ERROR_PROBES);
  if (outage) return broken(outage);
  const cut = budgetCut(ERROR_PROBES);
  if (cut) return skip(cut);
  return skip(
    'not evaluable: no request the endpoint should refuse was answered with an error (see the checks that expect refusals)',
  );
}

function overErrors(judgeOne: (e: Answered) => string | undefined, passMessage: string) {
  return ({
    answered,
    unanswered,
    budgetCut,
  }: {
    answered: (p: ProbeId[]) => Answered[];
    unanswered: (p: ProbeId[]) => string | undefined;
    budgetCut: (p: ProbeId[]) => string | undefined;
  }): Verdict => {
    const errors = errorResponses(answered(ERROR_PROBES));
    if (errors.length === 0) return nothingToExamine(unanswered, budgetCut);
    const problems = errors
      .map((e) => [e, judgeOne(e)] as const)
      .filter(([, p]) => p !== undefined);
    const probes = errors.map((e) => e.probe);
    if (problems.length === 0)
      return pass(`${passMessage} (${errors.length} error responses examined)`, probes);
    return fail(
      problems.map(([e, p]) => `${e.purpose}: ${p}`).join('; '),
      problems.map(([e]) => e.probe),
    );
  };
}

export const invalidClientChallenge = defineCheck({
  id: 'errors.invalid-client-401-challenge',
  title:
    'A failed HTTP Basic client authentication is answered 401 with a Basic WWW-Authenticate challenge',
  area: 'errors',
  level: 'MUST',
  spec: rfc(6749, '5.2'),
  defect:
    'the endpoint answers a failed Basic authentication with 400 or 403, or with 401 without WWW-Authenticate: Basic',
  // Only the primary client and the first secret client make the requests this check reads.
  applies: (p) =>
    p.clients[0]?.auth.method === 'client_secret_basic' ||
    secretClient(p)?.auth.method === 'client_secret_basic'
      ? true
      : 'no probed client uses client_secret_basic',
  needs: () => [],
  judge: ({ answered, unanswered, budgetCut }): Verdict => {
    const outage = answered(ERROR_PROBES).length === 0 ? unanswered(ERROR_PROBES) : undefined;
    if (outage) return broken(outage);
    const basic = answered(ERROR_PROBES).filter((e) =>
      e.request.headers.some(([n, v]) => /^authorization$/i.test(n) && /^basic\s/i.test(v)),
    );
    // Failed Basic authentication: answered invalid_client, or a wrong secret / unknown client refused
    // in any form (a bare 403 is a failed authentication answered the wrong way, not "nothing to judge").
    const authFailures: ProbeId[] = [PROBES.wrongSecret, PROBES.unknownClient];
    const invalidClient = basic.filter(
      (e) =>
        oauthError(e.response) === 'invalid_client' ||
        (authFailures.includes(e.probe) && !accepted(e.response)),
    );
    if (invalidClient.length === 0) {
      const cut = budgetCut(ERROR_PROBES);
      return cut
        ? skip(cut)
        : broken(
            'prerequisite failed: no request made with HTTP Basic was answered invalid_client',
          );
    }
    const problems: string[] = [];
    for (const e of invalidClient) {
      const res = e.response;
      const challenge = parseChallenges(res.headers['www-authenticate'] ?? []).find(
        (c) => c.scheme === 'basic',
      );
      if (res.status !== 401) problems.push(`${e.purpose}: status ${res.status}, not 401`);
      else if (!challenge)
        problems.push(
          `${e.purpose}: no Basic challenge in WWW-Authenticate (${show(header(res, 'www-authenticate'))})`,
        );
    }
    const probes = invalidClient.map((e) => e.probe);
    return problems.length === 0
      ? pass(`401 with a Basic challenge (${invalidClient.length} responses)`, probes)
      : fail(problems.join('; '), probes);
  },
});

export const errorStatus = defineCheck({
  id: 'errors.status',
  title: 'Error responses use status 400 (or 401 for invalid_client)',
  area: 'errors',
  level: 'MUST',
  spec: rfc(6749, '5.2'),
  defect:
    'an error response has a status other than 400, or 401 for an error other than invalid_client',
  needs: () => [],
  judge: overErrors((e) => {
    const { status } = e.response;
    const code = oauthError(e.response);
    if (status === 400) return undefined;
    if (status === 401 && code === 'invalid_client') return undefined;
    return `${describeResponse(e.response)}: ${status === 401 ? '401 is only for invalid_client' : 'expected 400'}`;
  }, 'every error response is 400, or 401 with invalid_client'),
});

export const errorContentType = defineCheck({
  id: 'errors.content-type-json',
  title: 'Error responses are application/json',
  area: 'errors',
  level: 'MUST',
  spec: rfc(6749, '5.2'),
  defect: 'an error response is HTML, plain text or has no Content-Type',
  needs: () => [],
  judge: overErrors((e) => {
    const type = mediaTypeOf(e.response);
    return type === 'application/json'
      ? undefined
      : `Content-Type ${show(header(e.response, 'content-type'))}`;
  }, 'every error response is application/json'),
});

export const errorSchema = defineCheck({
  id: 'errors.schema',
  title: 'Error responses carry a registered error code and well-formed description/uri',
  area: 'errors',
  level: 'MUST',
  spec: rfc(6749, '5.2'),
  defect:
    'an error response has no error member, an unregistered code, or disallowed characters in error_description',
  needs: () => [],
  judge: overErrors((e) => {
    const body = jsonObject(e.response);
    if (!body)
      return e.response.jsonError ? `the body is not JSON` : 'the body is not a JSON object';
    const problems = schemaProblems(validateError, body);
    return problems.length === 0 ? undefined : problems.join(', ');
  }, 'every error response is valid against schemas/token-error.schema.json'),
});

export const errorCacheControl = defineCheck({
  id: 'errors.cache-control',
  title: 'Error responses forbid caching (Cache-Control: no-store)',
  area: 'errors',
  level: 'SHOULD',
  levelReason:
    'RFC 6749 §5.1 requires no-store on responses with tokens, credentials or other sensitive information; that it covers error responses is an inference.',
  spec: rfc(6749, '5.1'),
  defect: 'an error response lacks Cache-Control: no-store',
  needs: () => [],
  judge: overErrors(
    (e) =>
      directives(e.response, 'cache-control').includes('no-store')
        ? undefined
        : `Cache-Control ${show(header(e.response, 'cache-control'))}`,
    'every error response has Cache-Control: no-store',
  ),
});

export const errorChecks = [
  ...wrongSecret,
  ...unknownClient,
  ...noClientAuth,
  invalidClientChallenge,
  errorStatus,
  errorContentType,
  errorSchema,
  errorCacheControl,
];
