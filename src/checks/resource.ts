/**
 * The protected resource (RFC 6750, RFC 6749 §7): what it must refuse besides an expired token, and
 * how it says so. The fresh token's acceptance (grant.token-accepted-at-resource) and the expiry
 * checks (expiry.refused-after-expiry, expiry.expired-token-challenge) keep their own areas and ids.
 */
import type { Provider } from '../descriptor/types.js';
import { PROBES } from '../probes/ids.js';
import { parseChallenges, type Challenge } from './expiry.js';
import {
  describeResponse,
  grantedScope,
  header,
  isSubset,
  jsonObject,
  list,
  scopeSet,
  show,
} from './helpers.js';
import {
  broken,
  defineCheck,
  fail,
  pass,
  rfc,
  type Answered,
  type JudgeInput,
  type Verdict,
} from './types.js';
import type { RecordedResponse } from '../evidence/types.js';

const applies = (p: Provider) =>
  p.resource ? true : 'the descriptor declares no protected resource (resource.url)';
const appliesScope = (p: Provider) =>
  !p.resource
    ? 'the descriptor declares no protected resource (resource.url)'
    : p.resource.insufficientScope
      ? true
      : 'the descriptor declares no scope the resource requires (resource.requiredScope, resource.insufficientScope)';

const accepted = (res: RecordedResponse) => res.status >= 200 && res.status < 300;

function bearerOf(res: RecordedResponse): Challenge | undefined {
  return parseChallenges(res.headers['www-authenticate'] ?? []).find((c) => c.scheme === 'bearer');
}

/** The status and Bearer challenge RFC 6750 §3.1 names for an error code: one finding, every problem listed. */
function challengeVerdict(
  res: RecordedResponse,
  what: string,
  status: number,
  error: string,
): Verdict {
  const bearer = bearerOf(res);
  const problems: string[] = [];
  if (res.status !== status)
    problems.push(`${what} was answered ${describeResponse(res)}, not ${status}`);
  if (!bearer)
    problems.push(
      `no Bearer challenge in WWW-Authenticate (${show(header(res, 'www-authenticate'))})`,
    );
  else if (bearer.params['error'] !== error)
    problems.push(`the Bearer challenge has error=${show(bearer.params['error'])}, not "${error}"`);
  return problems.length === 0
    ? pass(`${status} with Bearer error="${error}"`)
    : fail(problems.join('; '));
}

export const noTokenRefused = defineCheck({
  id: 'resource.no-token-refused',
  title: 'A request without an access token is refused by the protected resource',
  area: 'resource',
  level: 'EXPECTATION',
  levelReason:
    "RFC 6749 §7: the resource server MUST validate the access token; that this URL needs one is the descriptor's declaration (resource.url names a protected resource), so serving it to a request without any token breaks that declaration.",
  spec: rfc(6750, '3'),
  defect: 'the resource serves a request that carries no access token',
  applies,
  needs: () => [PROBES.resourceNoToken],
  judge: ({ ex }) => {
    const res = ex(PROBES.resourceNoToken).response;
    return accepted(res)
      ? fail(
          `the resource answered ${res.status} to a request without any access token: it is not protected`,
        )
      : pass(`refused with ${describeResponse(res)}`);
  },
});

export const noTokenChallenge = defineCheck({
  id: 'resource.no-token-challenge',
  title:
    'A request without an access token is answered 401 with a WWW-Authenticate: Bearer challenge',
  area: 'resource',
  level: 'MUST',
  levelReason:
    'RFC 6750 §3: when the request does not include authentication credentials "the resource server MUST include the HTTP WWW-Authenticate response header field", with the Bearer scheme; RFC 9110 §15.5.2 makes 401 the status of a request that lacks credentials, and a 401 MUST carry a challenge.',
  spec: rfc(6750, '3'),
  defect:
    'the resource refuses a request without a token without a 401 Bearer challenge (another status, or no WWW-Authenticate)',
  applies,
  needs: () => [PROBES.resourceNoToken],
  judge: ({ ex }) => {
    const res = ex(PROBES.resourceNoToken).response;
    if (accepted(res))
      return broken(
        'prerequisite failed: the request without a token was accepted (see resource.no-token-refused)',
      );
    const problems: string[] = [];
    if (res.status !== 401)
      problems.push(`the request without a token was answered ${describeResponse(res)}, not 401`);
    if (!bearerOf(res))
      problems.push(
        `no Bearer challenge in WWW-Authenticate (${show(header(res, 'www-authenticate'))})`,
      );
    return problems.length === 0 ? pass('401 with a Bearer challenge') : fail(problems.join('; '));
  },
});

export const noTokenNoErrorCode = defineCheck({
  id: 'resource.no-token-no-error-code',
  title: 'The Bearer challenge to a request without an access token carries no error code',
  area: 'resource',
  level: 'SHOULD',
  levelReason:
    'RFC 6750 §3.1: "If the request lacks any authentication information ..., the resource server SHOULD NOT include an error code or other error information."',
  spec: rfc(6750, '3.1'),
  defect: 'the challenge to a request without a token names an error (e.g. error="invalid_token")',
  applies,
  needs: () => [PROBES.resourceNoToken],
  judge: ({ ex }) => {
    const res = ex(PROBES.resourceNoToken).response;
    if (accepted(res))
      return broken(
        'prerequisite failed: the request without a token was accepted (see resource.no-token-refused)',
      );
    const bearer = bearerOf(res);
    if (!bearer)
      return broken(
        'prerequisite failed: there is no Bearer challenge to read (see resource.no-token-challenge)',
      );
    const extra = ['error', 'error_description', 'error_uri'].filter(
      (k) => bearer.params[k] !== undefined,
    );
    return extra.length === 0
      ? pass('the Bearer challenge carries no error information')
      : fail(
          `the Bearer challenge carries ${extra.map((k) => `${k}=${show(bearer.params[k])}`).join(', ')} although the request had no credentials`,
        );
  },
});

/**
 * The tampered token's answer, once it can show something: the unaltered token was accepted, and the
 * altered copy was sent before the token's lifetime ended (else expiry alone would explain a refusal).
 */
function withTampered(judge: (res: RecordedResponse) => Verdict) {
  return ({ ex }: JudgeInput): Verdict => {
    const fresh = ex(PROBES.resourceFresh).response;
    if (!accepted(fresh))
      return broken(
        `prerequisite failed: the unaltered token was refused too (${describeResponse(fresh)}; see grant.token-accepted-at-resource), so a refusal of the altered one shows nothing`,
      );
    const token = ex(PROBES.token(0));
    const expiresIn = jsonObject(token.response)?.['expires_in'];
    const tampered = ex(PROBES.resourceTampered);
    const sentAfter =
      (Date.parse(tampered.startedAt) - (Date.parse(token.startedAt) + token.durationMs)) / 1000;
    if (typeof expiresIn === 'number' && sentAfter >= expiresIn)
      return broken(
        `prerequisite failed: the altered token was sent ${sentAfter.toFixed(1)} s after the token was issued, past its lifetime (${expiresIn} s)`,
      );
    return judge(tampered.response);
  };
}

export const tamperedTokenRefused = defineCheck({
  id: 'resource.tampered-token-refused',
  title:
    'A copy of the fresh access token with one character changed (in its signature, for a JWT) is refused',
  area: 'resource',
  level: 'MUST',
  levelReason:
    'RFC 6749 §7: "The resource server MUST validate the access token"; RFC 9068 §4: it MUST validate the signature of a JWT access token. A resource that accepts an altered token accepts forged ones (RFC 6750 §5.1, token manufacture/modification).',
  spec: rfc(6749, '7'),
  defect:
    'the resource accepts a token whose signature (or, for an opaque token, whose value) was altered',
  applies,
  needs: () => [PROBES.token(0), PROBES.resourceFresh, PROBES.resourceTampered],
  judge: withTampered((res) =>
    accepted(res)
      ? fail(
          `the resource answered ${res.status} to the fresh token with one character changed: it does not validate the token`,
        )
      : pass(`refused with ${describeResponse(res)}`),
  ),
});

export const tamperedTokenChallenge = defineCheck({
  id: 'resource.tampered-token-challenge',
  title:
    'A tampered access token is answered 401 with WWW-Authenticate: Bearer error="invalid_token"',
  area: 'resource',
  level: 'SHOULD',
  levelReason:
    'RFC 6750 §3.1: for invalid_token ("malformed, or invalid") the resource SHOULD respond 401; §3 requires WWW-Authenticate, which this check also reads.',
  spec: rfc(6750, '3.1'),
  defect:
    'the resource refuses a tampered token without a 401 Bearer challenge naming invalid_token',
  applies,
  needs: () => [PROBES.token(0), PROBES.resourceFresh, PROBES.resourceTampered],
  judge: withTampered((res) =>
    accepted(res)
      ? broken(
          'prerequisite failed: the tampered token was accepted (see resource.tampered-token-refused)',
        )
      : challengeVerdict(res, 'the tampered token', 401, 'invalid_token'),
  ),
});

/**
 * The narrow token's answer, once it can show something: the resource accepts the ordinary token (a
 * resource that refuses every token refuses this one for no reason of scope), and the narrow token
 * really lacks the required scope.
 */
function withNarrowToken(
  judge: (res: Answered, granted: Set<string>, required: string) => Verdict,
) {
  return ({ ex, provider }: JudgeInput): Verdict => {
    const fresh = ex(PROBES.resourceFresh).response;
    if (!accepted(fresh))
      return broken(
        `prerequisite failed: the resource refused the ordinary token too (${describeResponse(fresh)}; see grant.token-accepted-at-resource), so a refusal of the narrow one shows nothing about scope`,
      );
    const token = ex(PROBES.insufficientScopeToken);
    const requested = provider.resource?.insufficientScope?.scope ?? '';
    const required = provider.resource?.requiredScope ?? '';
    const { scope } = grantedScope(token, requested);
    if (isSubset(scopeSet(required), scope)) {
      return broken(
        `prerequisite failed: the token requested with scope ${requested ? `"${requested}"` : '(none)'} was granted ${list(scope)}, which includes the required "${required}"`,
      );
    }
    return judge(ex(PROBES.resourceInsufficientScope), scope, required);
  };
}

export const insufficientScopeRefused = defineCheck({
  id: 'resource.insufficient-scope-refused',
  title: 'A token without the scope the resource requires is refused',
  area: 'resource',
  level: 'EXPECTATION',
  levelReason:
    'RFC 6749 §7: the resource server MUST "ensure that ... its scope covers the requested resource"; which scope that is comes from the descriptor (resource.requiredScope), so a failure means the resource or the declaration is wrong.',
  spec: rfc(6749, '7'),
  defect: 'the resource accepts a valid token that lacks the scope it requires',
  applies: appliesScope,
  needs: () => [
    PROBES.resourceFresh,
    PROBES.insufficientScopeToken,
    PROBES.resourceInsufficientScope,
  ],
  judge: withNarrowToken(({ response: res }, granted, required) =>
    accepted(res)
      ? fail(
          `the resource answered ${res.status} to a token granted ${list(granted)}, without the required "${required}"`,
        )
      : pass(`refused with ${describeResponse(res)}`),
  ),
});

export const insufficientScopeChallenge = defineCheck({
  id: 'resource.insufficient-scope-challenge',
  title:
    'A token without the required scope is answered 403 with WWW-Authenticate: Bearer error="insufficient_scope"',
  area: 'resource',
  level: 'SHOULD',
  levelReason:
    'RFC 6750 §3.1: for insufficient_scope the resource SHOULD respond 403; §3 requires WWW-Authenticate, which this check also reads.',
  spec: rfc(6750, '3.1'),
  defect:
    'the resource refuses a token lacking the required scope with 401 invalid_token, or without a Bearer challenge naming insufficient_scope',
  applies: appliesScope,
  needs: () => [
    PROBES.resourceFresh,
    PROBES.insufficientScopeToken,
    PROBES.resourceInsufficientScope,
  ],
  judge: withNarrowToken(({ response: res }) =>
    accepted(res)
      ? broken(
          'prerequisite failed: the token without the required scope was accepted (see resource.insufficient-scope-refused)',
        )
      : challengeVerdict(res, 'the token without the required scope', 403, 'insufficient_scope'),
  ),
});

export const resourceChecks = [
  noTokenRefused,
  noTokenChallenge,
  noTokenNoErrorCode,
  tamperedTokenRefused,
  tamperedTokenChallenge,
  insufficientScopeRefused,
  insufficientScopeChallenge,
];
