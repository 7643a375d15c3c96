/**
 * Resource indicators at the token endpoint (RFC 8707 §2): a token requested for the declared
 * resource (its audience must be restricted to it: JWT aud, else introspection), and one for a
 * resource the client may not have (refused with invalid_target).
 */
import type { Provider } from '../descriptor/types.js';
import { PROBES } from './ids.js';
import { grantForm, withClientAuth } from './request.js';
import { policy, prerequisite, type NotRun, type ProbeDef } from './types.js';

const undeclared = (): NotRun =>
  policy('the descriptor declares no resource indicator support (resourceIndicators)');

export function resourceIndicatorProbes(p: Provider): ProbeDef[] {
  const ri = p.resourceIndicators;
  const primary = p.clients[0]!;
  const request = (resource: string) => async (ctx: Parameters<ProbeDef['build']>[0]) =>
    withClientAuth(p, primary, {
      method: 'POST',
      url: ctx.tokenUrlOf(primary),
      form: [...(await grantForm(p, p.scopes.request)), ['resource', resource]],
    });
  return [
    {
      id: PROBES.resourceIndicated,
      asClient: 0,
      purpose: `token request for the resource ${ri?.resource ?? '(none declared)'} (RFC 8707 resource)`,
      appliesTo: () => (ri ? true : undeclared()),
      build: request(ri?.resource ?? ''),
    },
    {
      id: PROBES.resourceIndicatedIntrospection,
      purpose: 'introspection of the token requested for the resource (its aud)',
      appliesTo: (ctx) => {
        if (!ri) return undeclared();
        if (!p.introspection) return policy('the descriptor declares no introspection endpoint');
        // Sent for JWTs too (their aud claim is judged): the answer is comparable across token formats.
        return ctx.tokenOf(PROBES.resourceIndicated)
          ? true
          : prerequisite('the token request for the resource got no access token');
      },
      build: (ctx) =>
        withClientAuth(p, p.introspection!.client, {
          method: 'POST',
          url: p.introspection!.url,
          form: [
            ['token', ctx.tokenOf(PROBES.resourceIndicated)!],
            ['token_type_hint', 'access_token'],
          ],
        }),
    },
    {
      id: PROBES.unknownResource,
      asClient: 0,
      purpose: `token request for a resource the client may not have (${ri?.unknown ?? '?'})`,
      appliesTo: () => (ri ? true : undeclared()),
      build: request(ri?.unknown ?? ''),
    },
  ];
}
