import { GRANT_ASSERTION_DEFECTS, PROBES } from './ids.js';
import { bodySecretClient, secretClient } from './clients.js';
import { grantForm, withClientAuth, withQuery } from './request.js';
import { policy, type ProbeDef, type ProbeUnits } from './types.js';

/** The ordinary token request, once per client (the first one's token is reused by every check). */
export const tokenProbes: ProbeUnits = (p) =>
  p.clients.map((client, i) => ({
    id: PROBES.token(i),
    asClient: i,
    purpose: `${p.grant.type === 'client_credentials' ? 'client_credentials' : 'jwt-bearer grant'} with ${client.label}`,
    build: async (ctx) =>
      withClientAuth(p, client, {
        method: 'POST',
        url: ctx.tokenUrlOf(client),
        form: await grantForm(p, p.scopes.request),
      }),
  }));

/** A service declared to take JSON is also asked the RFC 6749 way, form-encoded. */
export const formBodyProbe: ProbeUnits = (p) => [
  {
    id: PROBES.formBody,
    asClient: 0,
    purpose: 'the token request form-encoded, as RFC 6749 has it',
    appliesTo: () =>
      p.grant.bodyEncoding === 'json'
        ? true
        : policy('the descriptor sends form-encoded token requests already'),
    build: async () => ({
      ...(await withClientAuth(p, p.clients[0]!, {
        method: 'POST',
        url: p.tokenEndpoint,
        form: await grantForm(p, p.scopes.request),
      })),
      bodyEncoding: 'form',
    }),
  },
];

/** Malformed token requests the endpoint must refuse (RFC 6749 §3.1, §3.2, §5.2). */
export const malformedRequestProbes: ProbeUnits = (p) => {
  const primary = p.clients[0]!;
  const url = p.tokenEndpoint;
  const requested = p.scopes.request;
  const probes: ProbeDef[] = [
    {
      id: PROBES.get,
      purpose: 'token request with GET',
      build: async () =>
        withClientAuth(p, primary, {
          method: 'GET',
          url: withQuery(url, await grantForm(p, requested)),
        }),
    },
    {
      id: PROBES.missingGrantType,
      purpose: 'token request without grant_type',
      build: () =>
        withClientAuth(p, primary, {
          method: 'POST',
          url,
          form: requested ? [['scope', requested]] : [],
        }),
    },
    {
      id: PROBES.unknownGrantType,
      purpose: 'token request with an unknown grant_type',
      build: () =>
        withClientAuth(p, primary, {
          method: 'POST',
          url,
          form: [['grant_type', 'urn:example:token-conformance:unknown-grant']],
        }),
    },
    {
      id: PROBES.repeatedParameter,
      purpose: 'token request with grant_type sent twice',
      build: () =>
        withClientAuth(p, primary, {
          method: 'POST',
          url,
          form: [
            ['grant_type', p.grant.type],
            ['grant_type', p.grant.type],
          ],
        }),
    },
  ];
  return probes.map((probe) => ({ ...probe, asClient: 0 }));
};

/** Client credentials sent where they must not be: in the query string, or by two methods at once. */
export const credentialPlacementProbes: ProbeUnits = (p) => {
  const sc = secretClient(p);
  const qc = bodySecretClient(p);
  const noSecret = () => policy('no client with a shared secret is declared');
  return [
    {
      id: PROBES.queryCredentials,
      ...(qc ? { asClient: p.clients.indexOf(qc) } : {}),
      purpose: `client credentials in the query string (${qc?.label})`,
      appliesTo: () => (qc ? true : noSecret()),
      build: async () => ({
        method: 'POST',
        url: withQuery(p.tokenEndpoint, [
          ['client_id', qc!.id],
          ['client_secret', qc!.auth.secret ?? ''],
        ]),
        form: await grantForm(p, p.scopes.request),
      }),
    },
    {
      id: PROBES.twoMethods,
      ...(sc ? { asClient: p.clients.indexOf(sc) } : {}),
      purpose: 'two client authentication methods at once (Basic and client_secret in the body)',
      appliesTo: () => (sc ? true : noSecret()),
      build: async () => ({
        method: 'POST',
        url: p.tokenEndpoint,
        form: [
          ...(await grantForm(p, p.scopes.request)),
          ['client_id', sc!.id],
          ['client_secret', sc!.auth.secret ?? ''],
        ],
        basic: { id: sc!.id, secret: sc!.auth.secret ?? '' },
      }),
    },
  ];
};

/** The jwt-bearer grant's own assertion, spoilt one way at a time (RFC 7523 §3, §3.1: invalid_grant), and replayed. */
export const grantAssertionProbes: ProbeUnits = (p) => {
  const primary = p.clients[0]!;
  const notJwtBearer = () => (p.grant.assertion ? true : policy('the grant is not jwt-bearer'));
  const spoilt: ProbeDef[] = GRANT_ASSERTION_DEFECTS.map((defect) => ({
    id: PROBES.grantAssertion(defect),
    purpose: `a grant assertion with a defect: ${defect}`,
    appliesTo: notJwtBearer,
    build: async () =>
      withClientAuth(p, primary, {
        method: 'POST',
        url: p.tokenEndpoint,
        form: await grantForm(p, p.scopes.request, defect),
      }),
  }));
  const probes: ProbeDef[] = [
    ...spoilt,
    {
      id: PROBES.grantAssertionFirstUse,
      purpose: 'a fresh grant assertion, first use',
      appliesTo: notJwtBearer,
      build: async () =>
        withClientAuth(p, primary, {
          method: 'POST',
          url: p.tokenEndpoint,
          form: await grantForm(p, p.scopes.request),
        }),
    },
    {
      id: PROBES.grantAssertionReplay,
      purpose: 'the same grant assertion again',
      appliesTo: notJwtBearer,
      build: (ctx) => ctx.requestOf(PROBES.grantAssertionFirstUse)!,
    },
  ];
  return probes.map((probe) => ({ ...probe, asClient: 0 }));
};
