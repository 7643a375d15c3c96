import type { Provider } from '../descriptor/types.js';
import { PROBES, type ProbeId } from '../probes/ids.js';
import { describeResponse, grantedScope, jsonObject, list, sameSet, scopeSet, show } from './helpers.js';
import { broken, defineCheck, fail, pass, rfc, type JudgeInput, type Verdict } from './types.js';

const applies = (p: Provider) => (p.introspection ? true : 'the descriptor declares no introspection endpoint');

function withIntrospection(probe: ProbeId, judge: (body: Record<string, unknown>, input: JudgeInput) => Verdict) {
  return (input: JudgeInput): Verdict => {
    const res = input.ex(probe).response;
    const body = jsonObject(res);
    if (res.status !== 200 || !body) return fail(`introspection was answered ${describeResponse(res)}, not 200 with a JSON object`);
    return judge(body, input);
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
  judge: withIntrospection(PROBES.introspectFresh, (body) => (body['active'] === true ? pass('active: true') : fail(`active is ${show(body['active'])} for a token issued seconds ago`))),
});

export const freshAgrees = defineCheck({
  id: 'introspection.agrees-with-token-response',
  title: "Introspection's client_id, scope and exp agree with the token response",
  area: 'introspection',
  level: 'EXPECTATION',
  levelReason: 'RFC 7662 §2.2 makes these members optional; when present they describe the same grant as the token response, and a client relying on either must get the same answer.',
  spec: rfc(7662, '2.2'),
  defect: 'introspection names another client, another scope, or another expiry than the token response',
  applies,
  needs: () => [PROBES.introspectFresh, PROBES.token(0)],
  judge: withIntrospection(PROBES.introspectFresh, (body, { ex, provider }) => {
    if (body['active'] !== true) return broken('prerequisite failed: the token does not introspect as active');
    const token = ex(PROBES.token(0));
    const problems: string[] = [];
    const clientId = provider.clients[0]?.id;
    if (body['client_id'] !== undefined && body['client_id'] !== clientId) problems.push(`client_id is ${show(body['client_id'])}, not ${show(clientId)}`);
    if (body['scope'] !== undefined) {
      const { scope } = grantedScope(token, provider.scopes.request);
      if (typeof body['scope'] !== 'string' || !sameSet(scopeSet(body['scope']), scope)) problems.push(`scope is ${show(body['scope'])}, the token response granted ${list(scope)}`);
    }
    const expiresIn = jsonObject(token.response)?.['expires_in'];
    if (body['exp'] !== undefined && typeof expiresIn === 'number') {
      const expected = Math.round((Date.parse(token.startedAt) + token.durationMs) / 1000) + expiresIn;
      if (typeof body['exp'] !== 'number' || Math.abs(body['exp'] - expected) > Math.max(2, provider.expect.expiresInTolerance)) problems.push(`exp is ${show(body['exp'])}, the token response implies about ${expected}`);
    }
    return problems.length === 0 ? pass('client_id, scope and exp agree (where present)') : fail(problems.join('; '));
  }),
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
  judge: withIntrospection(PROBES.introspectExpired, (body) => (body['active'] === false ? pass('active: false') : fail(`active is ${show(body['active'])} after the token's lifetime`))),
});

export const introspectionChecks = [freshActive, freshAgrees, expiredInactive];
