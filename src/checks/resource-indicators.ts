/**
 * Resource indicators at the token endpoint (RFC 8707 §2): a token requested for a resource is
 * restricted to it (JWT aud, else introspection's aud), and an unknown resource is refused with
 * invalid_target (acceptance and code as separate findings).
 */
import type { Provider } from '../descriptor/types.js';
import { PROBES, type ProbeId } from '../probes/ids.js';
import { describeResponse, jsonObject, show } from './helpers.js';
import { refusalChecks } from './refusal.js';
import { broken, defineCheck, fail, pass, rfc, skip, type CheckDef } from './types.js';

const declared = (p: Provider) =>
  p.resourceIndicators
    ? true
    : 'the descriptor declares no resource indicator support (resourceIndicators)';

export const resourceIndicatedIssued = defineCheck({
  id: 'grant.resource-indicated-issued',
  title: 'A token request for the declared resource (RFC 8707 resource) gets an access token',
  area: 'grant',
  level: 'EXPECTATION',
  levelReason:
    'The descriptor declares resource indicator support and the resource the client may have a token for (resourceIndicators.resource).',
  spec: rfc(8707, '2'),
  defect: 'a token request for the declared resource is refused',
  applies: declared,
  needs: () => [PROBES.resourceIndicated],
  judge: ({ ex }) => {
    const res = ex(PROBES.resourceIndicated).response;
    return res.status === 200 && res.accessToken
      ? pass('200 with an access token')
      : fail(`the token request for the resource was answered ${describeResponse(res)}`);
  },
});

export const resourceAudience = defineCheck({
  id: 'grant.resource-audience',
  title:
    "A token requested for a resource is restricted to it (its aud is that resource's audience)",
  area: 'grant',
  level: 'EXPECTATION',
  levelReason:
    'RFC 8707 §2: the resource parameter tells the server where the token will be used, so that it can audience-restrict it; the descriptor declares resource indicator support and the audience expected (resourceIndicators.audience, default the resource URL). A token whose aud also names other audiences is usable elsewhere.',
  spec: rfc(8707, '2'),
  defect:
    'the resource parameter is ignored: the token has no aud, or one that also names other audiences',
  applies: declared,
  needs: () => [PROBES.resourceIndicated],
  alsoReads: () => [PROBES.resourceIndicatedIntrospection],
  judge: ({ ex, evidence, provider }) => {
    const res = ex(PROBES.resourceIndicated).response;
    if (!(res.status === 200 && res.accessToken))
      return broken(
        'prerequisite failed: the token request for the resource got no access token (see grant.resource-indicated-issued)',
      );
    const expected = provider.resourceIndicators!.audience;
    let aud: unknown;
    let where: string;
    const probes: ProbeId[] = [PROBES.resourceIndicated];
    if (res.accessToken.jwt) {
      aud = res.accessToken.jwt.payload['aud'];
      where = 'the JWT access token';
    } else {
      const intro = evidence.exchanges[PROBES.resourceIndicatedIntrospection]?.response;
      if (!intro)
        return skip(
          'not applicable: the token is opaque and no introspection of it was answered (declare introspection to see its aud)',
        );
      const body = jsonObject(intro);
      probes.push(PROBES.resourceIndicatedIntrospection);
      if (intro.status !== 200 || body?.['active'] !== true)
        return fail(
          `introspection of the token was answered ${describeResponse(intro)}, so its audience is unknown`,
          probes,
        );
      aud = body['aud'];
      where = 'introspection';
    }
    const list = typeof aud === 'string' ? [aud] : Array.isArray(aud) ? aud : undefined;
    if (!list || list.length === 0) return fail(`${where} has no aud (${show(aud)})`, probes);
    if (list.length === 1 && list[0] === expected)
      return pass(`aud in ${where} is ${show(aud)}`, probes);
    return fail(`aud in ${where} is ${show(aud)}, not restricted to ${show(expected)}`, probes);
  },
});

export const unknownResourceChecks: CheckDef[] = refusalChecks({
  probe: PROBES.unknownResource,
  area: 'grant',
  applies: declared,
  what: 'a token request for a resource the client may not have',
  acceptance: {
    id: 'grant.unknown-resource-refused',
    title: 'A token request for an unknown resource (RFC 8707 resource) is refused',
    level: 'MUST',
    spec: rfc(8707, '2'),
    defect:
      'a token is issued for a resource the server does not know (the resource parameter is ignored)',
  },
  code: {
    id: 'grant.unknown-resource-code',
    title: 'A token request for an unknown resource is refused with invalid_target',
    level: 'MUST',
    spec: rfc(8707, '2'),
    defect: 'an unknown resource is refused with another error code',
    codes: ['invalid_target'],
    rule: 'RFC 8707 §2: the requested resource is invalid, unknown or not allowed',
  },
});

export const resourceIndicatorChecks: CheckDef[] = [
  resourceIndicatedIssued,
  resourceAudience,
  ...unknownResourceChecks,
];
