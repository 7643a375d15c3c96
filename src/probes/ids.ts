/**
 * The probe vocabulary: every request the harness can make, by id. Pure (no I/O, no undici), so
 * checks name the exchanges they read from here and never from the observer or the runner.
 */

/** A way to spoil an assertion: each is one negative probe (RFC 7523 §3, the OpenID conformance suite's list). */
export type AssertionDefect =
  | 'expired'
  | 'wrong-aud'
  | 'wrong-iss'
  | 'wrong-sub'
  | 'alg-none'
  | 'unknown-key'
  | 'no-jti'
  | 'far-future-exp';

/** The DPoP requests (RFC 9449): a valid proof, spoilt proofs, and the bound token presented. */
export type DpopProbe =
  | 'token'
  | 'introspect'
  | 'resource'
  | 'resource-bearer'
  | 'no-proof'
  | 'bad-signature'
  | 'wrong-htm'
  | 'wrong-htu'
  | 'stale-iat'
  | 'alg-none'
  | 'private-key'
  | 'replay';

/** The DPoP requests that carry a proof the server may answer with use_dpop_nonce: each has a retry with the nonce. */
export const DPOP_RETRIED: DpopProbe[] = [
  'token',
  'resource',
  'bad-signature',
  'wrong-htm',
  'wrong-htu',
  'alg-none',
  'private-key',
];

/** The spoilt assertions sent by the client-auth probes, one request each. */
export const ASSERTION_DEFECTS: AssertionDefect[] = [
  'expired',
  'wrong-aud',
  'wrong-iss',
  'wrong-sub',
  'alg-none',
  'unknown-key',
  'no-jti',
  'far-future-exp',
];

/** The grant assertion's defects: sub names whom the grant acts for and jti is optional there, so neither is probed. */
export const GRANT_ASSERTION_DEFECTS: AssertionDefect[] = ASSERTION_DEFECTS.filter(
  (d) => d !== 'wrong-sub' && d !== 'no-jti',
);

export const PROBES = {
  token: (i: number) => `token.${i}` as const,
  resourceFresh: 'resource.fresh',
  resourceExpired: 'resource.expired',
  resourceNoToken: 'resource.no-token',
  resourceTampered: 'resource.tampered',
  insufficientScopeToken: 'resource.insufficient-scope-token',
  resourceInsufficientScope: 'resource.insufficient-scope',
  get: 'grant.get',
  missingGrantType: 'grant.missing-grant-type',
  unknownGrantType: 'grant.unknown-grant-type',
  repeatedParameter: 'grant.repeated-parameter',
  queryCredentials: 'grant.query-credentials',
  twoMethods: 'grant.two-methods',
  wrongSecret: 'errors.wrong-secret',
  unknownClient: 'errors.unknown-client',
  noClientAuth: 'errors.no-client-auth',
  scopeNone: 'scope.none',
  scopeForbidden: 'scope.forbidden',
  scopeUngrantable: 'scope.ungrantable',
  assertion: (defect: AssertionDefect) => `client-auth.${defect}` as const,
  assertionFirstUse: 'client-auth.first-use',
  assertionReplay: 'client-auth.replay',
  assertionOverMaxLifetime: 'client-auth.over-max-lifetime',
  mtlsWithoutCertificate: 'client-auth.mtls-without-certificate',
  formBody: 'grant.form-body',
  grantAssertion: (defect: AssertionDefect) => `grant.assertion.${defect}` as const,
  grantAssertionFirstUse: 'grant.assertion.first-use',
  grantAssertionReplay: 'grant.assertion.replay',
  introspectFresh: 'introspection.fresh',
  introspectExpired: 'introspection.expired',
  introspectNoClientAuth: 'introspection.no-client-auth',
  introspectUnknown: 'introspection.unknown-token',
  metadata: 'discovery.metadata',
  jwks: 'discovery.jwks',
  advertisedToken: 'discovery.advertised-token-endpoint',
  codeFirstUse: 'authorization-code.first-use',
  codeReplay: 'authorization-code.replay',
  codeAfterReplay: 'authorization-code.after-replay',
  codeWrongVerifier: 'authorization-code.wrong-verifier',
  codeNoVerifier: 'authorization-code.no-verifier',
  codeRedirectMismatch: 'authorization-code.redirect-mismatch',
  codeOtherClient: 'authorization-code.other-client',
  codePlainChallenge: 'authorization-code.plain-challenge',
  refreshFirst: 'refresh.first',
  refreshBroader: 'refresh.broader-scope',
  refreshOtherClient: 'refresh.other-client',
  refreshNarrower: 'refresh.narrower-scope',
  refreshReuseOld: 'refresh.reuse-old',
  refreshAfterReuse: 'refresh.after-reuse',
  dpop: (kind: DpopProbe) => `dpop.${kind}` as const,
  /** The same request again with the nonce the server supplied in its use_dpop_nonce answer (RFC 9449 §8, §9). */
  dpopRetry: (kind: DpopProbe) => `dpop.${kind}.nonce-retry` as const,
  resourceIndicated: 'grant.resource-indicated',
  resourceIndicatedIntrospection: 'grant.resource-indicated-introspection',
  unknownResource: 'grant.unknown-resource',
} as const;

type Values<T> = T[keyof T];
/** Every probe id: the fixed ones, one token request per client, one per spoilt assertion. */
export type ProbeId =
  | Exclude<Values<typeof PROBES>, (...args: never[]) => unknown>
  | ReturnType<Extract<Values<typeof PROBES>, (...args: never[]) => unknown>>;

/** Probes whose answers are expected to be OAuth error responses (checked for their shape). */
export const ERROR_PROBES: ProbeId[] = [
  PROBES.missingGrantType,
  PROBES.unknownGrantType,
  PROBES.repeatedParameter,
  PROBES.queryCredentials,
  PROBES.twoMethods,
  PROBES.wrongSecret,
  PROBES.unknownClient,
  PROBES.noClientAuth,
];
