/**
 * Refresh tokens (RFC 6749 §6, RFC 9700 §4.14): a refresh works, never grants more than the original
 * grant, grants a narrower scope as asked, is bound to its client, and — when rotation is declared —
 * a used refresh token is refused and its reuse revokes the family.
 */
import type { Provider } from '../descriptor/types.js';
import { PROBES, type ProbeId } from '../probes/ids.js';
import { describeResponse, jsonObject, list, scopeSet, show } from './helpers.js';
import { judgeNotAccepted, refusalChecks } from './refusal.js';
import { defineCheck, fail, pass, rfc, type CheckDef, type SpecRef } from './types.js';

const AREA = 'refresh' as const;
/** Refresh tokens are probed unless the descriptor rules them out and supplies none. */
export const refreshApplies = (p: Provider): true | string =>
  p.expect.refreshToken === 'absent' && !p.refresh
    ? 'the descriptor declares that no refresh token is issued (expect.refreshToken: absent) and supplies none (refresh.token)'
    : true;
const RFC9700_REFRESH: SpecRef = {
  label: 'RFC 9700 §4.14.2',
  url: 'https://www.rfc-editor.org/rfc/rfc9700#section-4.14.2',
};

/** The scope a refresh request asked for, from its recorded body. */
function requestedScope(body: string | undefined): string | undefined {
  return new URLSearchParams(body ?? '').get('scope') ?? undefined;
}

const works = defineCheck({
  id: 'refresh.works',
  title: 'A refresh token is redeemed for a new access token',
  area: AREA,
  level: 'MUST',
  spec: rfc(6749, '6'),
  defect: 'the endpoint refuses a refresh token it issued (or the descriptor supplied)',
  applies: refreshApplies,
  needs: () => [PROBES.refreshFirst],
  judge: ({ ex }) => {
    const res = ex(PROBES.refreshFirst).response;
    if (res.status === 200 && res.accessToken)
      return pass(`200 with an access token${res.refreshToken ? ' and a new refresh token' : ''}`);
    return fail(
      `the refresh token was answered ${describeResponse(res)}, not 200 with an access token`,
    );
  },
});

const lifetime = defineCheck({
  id: 'refresh.expires-in',
  title: 'The refreshed access token states its lifetime (expires_in)',
  area: AREA,
  level: (p: Provider) => (p.expect.expiresIn !== undefined ? 'EXPECTATION' : 'SHOULD'),
  levelLabel: 'SHOULD (EXPECTATION with expect.expiresIn)',
  levelReason:
    'RFC 6749 §5.1 makes expires_in RECOMMENDED; with expect.expiresIn declared the refreshed token must carry that lifetime too.',
  spec: rfc(6749, '5.1'),
  defect:
    'the refresh response has no expires_in, or one that is not a positive integer or not the declared one',
  applies: refreshApplies,
  needs: () => [PROBES.refreshFirst],
  judge: ({ ex, provider }) => {
    const res = ex(PROBES.refreshFirst).response;
    if (!res.accessToken) return fail(`no access token to judge: ${describeResponse(res)}`);
    const v = jsonObject(res)?.['expires_in'];
    if (typeof v !== 'number' || !Number.isInteger(v) || v <= 0)
      return fail(`expires_in is ${show(v)}, not a positive integer`);
    const want = provider.expect.expiresIn;
    if (want !== undefined) {
      const slack = provider.expect.expiresInTolerance + 1;
      if (v > want || v < want - slack)
        return fail(`expires_in is ${v}, the descriptor declares ${want} (expect.expiresIn)`);
    }
    return pass(`expires_in is ${v}`);
  },
});

const broader = refusalChecks({
  probe: PROBES.refreshBroader,
  area: AREA,
  applies: refreshApplies,
  what: 'a refresh with a scope broader than the original grant',
  acceptance: {
    id: 'refresh.broader-scope-refused',
    title: 'A refresh asking for more scope than originally granted is refused',
    level: 'MUST',
    spec: rfc(6749, '6'),
    defect: 'the endpoint grants a refresh a scope beyond the original grant',
  },
  code: {
    id: 'refresh.broader-scope-invalid-scope',
    title: 'A refresh asking for more scope is refused with invalid_scope',
    level: 'MUST',
    spec: rfc(6749, '5.2'),
    defect: 'a broader refresh is refused with another error code than invalid_scope',
    codes: ['invalid_scope'],
    rule: 'RFC 6749 §5.2: the requested scope exceeds the scope granted by the resource owner',
  },
});

const narrower = defineCheck({
  id: 'refresh.narrower-scope-granted',
  title: 'A refresh asking for a narrower scope is granted that scope',
  area: AREA,
  level: 'MUST',
  levelReason:
    'RFC 6749 §6 lets the client ask for a scope within the original; §5.1 requires the scope member when the grant differs from the request.',
  spec: rfc(6749, '6'),
  defect: 'a narrower refresh is refused, or granted another scope than asked without saying so',
  applies: refreshApplies,
  needs: () => [PROBES.refreshNarrower],
  judge: ({ ex }) => {
    const e = ex(PROBES.refreshNarrower);
    const res = e.response;
    const asked = scopeSet(requestedScope(e.request.body));
    if (!(res.status === 200 && res.accessToken))
      return fail(`a refresh for ${list(asked)} was answered ${describeResponse(res)}`);
    const s = jsonObject(res)?.['scope'];
    if (s === undefined) return pass(`granted; scope omitted, so identical to ${list(asked)}`);
    if (typeof s !== 'string') return fail(`scope is ${show(s)}, not a string`);
    const got = scopeSet(s);
    const extra = [...got].filter((x) => !asked.has(x));
    if (extra.length > 0)
      return fail(`asked for ${list(asked)}, granted ${list(got)}: more than asked`);
    return pass(`granted ${list(got)} for ${list(asked)}`);
  },
});

const otherClient = refusalChecks({
  probe: PROBES.refreshOtherClient,
  area: AREA,
  applies: refreshApplies,
  what: 'a refresh token presented by another client',
  acceptance: {
    id: 'refresh.other-client-refused',
    title: 'A refresh token presented by another client is refused',
    level: 'MUST',
    spec: rfc(6749, '6'),
    defect: 'the endpoint redeems a refresh token for a client it was not issued to',
  },
  code: {
    id: 'refresh.other-client-invalid-grant',
    title: 'A refresh token of another client is refused with invalid_grant',
    level: 'MUST',
    spec: rfc(6749, '5.2'),
    defect: "another client's refresh token is refused with another error code than invalid_grant",
    codes: ['invalid_grant'],
    rule: 'RFC 6749 §5.2: the refresh token was issued to another client',
  },
});

const rotationDeclared = (p: Provider): true | string =>
  refreshApplies(p) !== true
    ? refreshApplies(p)
    : p.refresh?.rotation === true
      ? true
      : 'the descriptor does not declare refresh-token rotation (refresh.rotation)';

const rotatedRefused = (id: string, probe: ProbeId, title: string, what: string, defect: string) =>
  defineCheck({
    id,
    title,
    area: AREA,
    level: 'EXPECTATION',
    levelReason:
      'RFC 9700 §4.14.2 names rotation as one way to detect refresh-token replay; the descriptor declares that this server rotates.',
    spec: RFC9700_REFRESH,
    defect,
    applies: rotationDeclared,
    needs: () => [probe],
    judge: ({ ex }) => judgeNotAccepted(ex(probe).response, what),
  });

export const refreshChecks: CheckDef[] = [
  works,
  lifetime,
  ...broader,
  narrower,
  ...otherClient,
  rotatedRefused(
    'refresh.rotated-token-refused',
    PROBES.refreshReuseOld,
    'A rotated (used) refresh token is refused',
    'a refresh token already redeemed',
    'the endpoint redeems a rotated refresh token a second time',
  ),
  rotatedRefused(
    'refresh.reuse-revokes-family',
    PROBES.refreshAfterReuse,
    'After a rotated refresh token is reused, the newest one is refused too',
    'the newest refresh token, after the reuse of a rotated one',
    'reusing a rotated refresh token leaves the rest of its family valid',
  ),
];
