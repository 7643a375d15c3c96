import { isAcceptableUrl, withoutTls } from '../descriptor/insecure.js';
import type { Provider } from '../descriptor/types.js';
import { PROBES } from '../probes/ids.js';
import { mtlsClient } from '../probes/clients.js';
import { describeResponse, jsonObject, mediaTypeOf, show } from './helpers.js';
import { broken, defineCheck, fail, pass, rfc, type JudgeInput, type Verdict } from './types.js';

const applies = (p: Provider) =>
  p.discovery && p.issuer ? true : 'the descriptor asks for no discovery (discovery and issuer)';

/** Checks that read the metadata need a 200 JSON object; without it they are broken with the reason. */
function withMetadata(judge: (meta: Record<string, unknown>, input: JudgeInput) => Verdict) {
  return (input: JudgeInput): Verdict => {
    const res = input.ex(PROBES.metadata).response;
    const body = jsonObject(res);
    if (res.status !== 200 || !body)
      return broken(
        `prerequisite failed: the metadata request was answered ${describeResponse(res)}`,
      );
    return judge(body, input);
  };
}

export const metadataDocument = defineCheck({
  id: 'discovery.metadata',
  title: 'The metadata is served at the well-known URL as a JSON object',
  area: 'discovery',
  level: 'MUST',
  spec: rfc(8414, '3.2'),
  defect: 'the well-known URL answers 404, HTML or a non-object',
  applies,
  needs: () => [PROBES.metadata],
  judge: ({ ex }) => {
    const res = ex(PROBES.metadata).response;
    if (res.status !== 200)
      return fail(`the metadata request was answered ${describeResponse(res)}, not 200`);
    if (mediaTypeOf(res) !== 'application/json')
      return fail(
        `Content-Type is ${show(res.headers['content-type']?.join(', '))}, not application/json`,
      );
    return jsonObject(res) ? pass('200, a JSON object') : fail('the body is not a JSON object');
  },
});

export const issuerMatches = defineCheck({
  id: 'discovery.issuer',
  title: 'The metadata issuer is exactly the configured issuer',
  area: 'discovery',
  level: 'MUST',
  spec: rfc(8414, '3.3'),
  defect: 'the metadata names another issuer (or the same with a trailing slash)',
  applies,
  needs: () => [PROBES.metadata],
  judge: withMetadata((meta, { provider }) =>
    meta['issuer'] === provider.issuer
      ? pass(`issuer ${show(meta['issuer'])}`)
      : fail(
          `the metadata says issuer ${show(meta['issuer'])}; configured is ${show(provider.issuer)}`,
        ),
  ),
});

export const tokenEndpointMatches = defineCheck({
  id: 'discovery.token-endpoint',
  title: 'The metadata token_endpoint is https and answers like the endpoint the descriptor uses',
  area: 'discovery',
  level: 'MUST',
  levelReason:
    'RFC 8414 §2 makes token_endpoint REQUIRED and RFC 6749 §3.2 requires TLS. It may be another URL than the configured one (an alias, another host name); then the same token request is made there and must be answered alike, since a client that discovers it will use it.',
  spec: rfc(8414, '2'),
  defect:
    'token_endpoint is missing, http:, or an endpoint that does not answer like the one in use',
  applies,
  needs: () => [PROBES.metadata],
  alsoReads: () => [PROBES.advertisedToken, PROBES.token(0)],
  judge: withMetadata((meta, { provider, evidence }) => {
    const te = meta['token_endpoint'];
    if (typeof te !== 'string') return fail(`token_endpoint is ${show(te)}`);
    if (!isAcceptableUrl(provider, te)) return fail(`token_endpoint ${show(te)} is not https`);
    if (te === provider.tokenEndpoint) return pass(`token_endpoint ${show(te)}`);
    const there = evidence.exchanges[PROBES.advertisedToken];
    const here = evidence.exchanges[PROBES.token(0)]?.response;
    if (!there || !here)
      return broken(
        `prerequisite failed: token_endpoint ${show(te)} differs from the descriptor's ${show(provider.tokenEndpoint)}, and the two could not be compared`,
      );
    if (there.transportError)
      return fail(
        `token_endpoint ${show(te)} (the descriptor uses ${show(provider.tokenEndpoint)}) could not be reached: ${there.transportError.message}`,
        [PROBES.metadata, PROBES.advertisedToken],
      );
    const alike = (r: NonNullable<typeof here>) =>
      `${r.status}${r.accessToken ? ' with an access token' : ''}`;
    if (!there.response)
      return broken(
        `prerequisite failed: ${there.notSent?.reason ?? 'the advertised token endpoint was not asked'}`,
      );
    return alike(there.response) === alike(here)
      ? pass(
          `token_endpoint ${show(te)} differs from the descriptor's ${show(provider.tokenEndpoint)} but answers alike (${describeResponse(there.response)})`,
          [PROBES.metadata, PROBES.advertisedToken, PROBES.token(0)],
        )
      : fail(
          `token_endpoint ${show(te)} answered ${describeResponse(there.response)}; the descriptor's ${show(provider.tokenEndpoint)} answered ${describeResponse(here)}`,
          [PROBES.metadata, PROBES.advertisedToken, PROBES.token(0)],
        );
  }),
});

export const mtlsAliases = defineCheck({
  id: 'discovery.mtls-endpoint-aliases',
  title: 'mtls_endpoint_aliases names an https token endpoint for mTLS clients',
  area: 'discovery',
  level: 'MUST',
  spec: rfc(8705, '5'),
  defect:
    'the metadata of a server with mTLS clients has no https mtls_endpoint_aliases.token_endpoint',
  applies: (p) =>
    withoutTls(p) ??
    (applies(p) === true
      ? mtlsClient(p)
        ? true
        : 'no client uses TLS client authentication'
      : applies(p)),
  needs: () => [PROBES.metadata],
  judge: withMetadata((meta, { provider }) => {
    const aliases = meta['mtls_endpoint_aliases'];
    const te =
      aliases && typeof aliases === 'object'
        ? (aliases as Record<string, unknown>)['token_endpoint']
        : undefined;
    if (te === undefined)
      return pass('no aliases: mTLS clients use the token_endpoint itself (RFC 8705 §5)');
    return isAcceptableUrl(provider, te)
      ? pass(`mtls_endpoint_aliases.token_endpoint ${show(te)}`)
      : fail(`mtls_endpoint_aliases.token_endpoint is ${show(te)}`);
  }),
});

function listIncludes(member: string, wanted: (p: Provider) => string[]) {
  return withMetadata((meta, { provider }) => {
    const list = meta[member];
    if (list === undefined) return pass(`${member} is absent (optional)`);
    if (!Array.isArray(list)) return fail(`${member} is ${show(list)}, not a list`);
    const missing = wanted(provider).filter((w) => !list.includes(w));
    return missing.length === 0
      ? pass(`${member} includes ${wanted(provider).join(', ')}`)
      : fail(`${member} ${show(list)} lacks ${missing.join(', ')}, which the descriptor uses`);
  });
}

export const grantTypesSupported = defineCheck({
  id: 'discovery.grant-types-supported',
  title: 'grant_types_supported, when present, lists the grant the descriptor uses',
  area: 'discovery',
  level: 'EXPECTATION',
  spec: rfc(8414, '2'),
  defect: 'grant_types_supported omits the grant that works',
  applies,
  needs: () => [PROBES.metadata],
  judge: listIncludes('grant_types_supported', (p) => [p.grant.type]),
});

export const authMethodsSupported = defineCheck({
  id: 'discovery.auth-methods-supported',
  title:
    'token_endpoint_auth_methods_supported, when present, lists the methods the descriptor uses',
  area: 'discovery',
  level: 'EXPECTATION',
  spec: rfc(8414, '2'),
  defect: 'token_endpoint_auth_methods_supported omits a method that works',
  applies,
  needs: () => [PROBES.metadata],
  // A public client ("none", the jwt-bearer grant without client authentication) is not a method the
  // server must advertise: RFC 7523 §2.1 makes client authentication optional for that grant.
  judge: listIncludes('token_endpoint_auth_methods_supported', (p) => [
    ...new Set(p.clients.map((c) => c.auth.method).filter((m) => m !== 'none')),
  ]),
});

export const jwksValid = defineCheck({
  id: 'discovery.jwks',
  title: 'The JWK Set answers with valid public keys',
  area: 'discovery',
  level: 'MUST',
  spec: rfc(7517, '5'),
  defect: 'jwks_uri answers an error, a non-JSON body, no keys, or private key material',
  applies: (p) =>
    p.discovery || p.jwksUri ? true : 'no JWK Set is declared (discovery or jwksUri)',
  needs: () => [PROBES.jwks],
  judgesTransport: [PROBES.jwks],
  judge: ({ evidence }) => {
    const e = evidence.exchanges[PROBES.jwks]!;
    const meta = evidence.exchanges[PROBES.metadata]?.response;
    if (e.transportError) {
      // The metadata was served and names this jwks_uri: that it cannot be fetched is the server's defect.
      // A proxy's failure says nothing about the server: never a verdict.
      const advertised =
        e.transportError.kind !== 'proxy' &&
        meta?.status === 200 &&
        (meta.json as { jwks_uri?: unknown } | undefined)?.jwks_uri === e.request.url;
      if (advertised)
        return fail(
          `the jwks_uri the metadata names (${e.request.url}) could not be fetched: ${e.transportError.message}`,
        );
      return broken(
        `${e.transportError.kind === 'proxy' ? 'proxy failure, the endpoint was not reached' : 'endpoint unreachable or misbehaving'}: ${e.transportError.message}`,
      );
    }
    const res = e.response!;
    if (res.status !== 200)
      return fail(`the JWK Set request was answered ${describeResponse(res)}`);
    const keys = jsonObject(res)?.['keys'];
    if (!Array.isArray(keys) || keys.length === 0)
      return fail('the body has no non-empty "keys" list');
    const bad = keys.filter(
      (k) => !k || typeof k !== 'object' || typeof (k as { kty?: unknown }).kty !== 'string',
    );
    if (bad.length > 0) return fail(`${bad.length} entries are not JWKs (no kty)`);
    const priv = keys.filter((k) =>
      ['d', 'p', 'q', 'dp', 'dq', 'qi', 'k'].some((m) => m in (k as object)),
    );
    return priv.length === 0
      ? pass(`${keys.length} public keys`)
      : fail(`${priv.length} keys carry private or symmetric key material`);
  },
});

export const discoveryChecks = [
  metadataDocument,
  issuerMatches,
  tokenEndpointMatches,
  mtlsAliases,
  grantTypesSupported,
  authMethodsSupported,
  jwksValid,
];
