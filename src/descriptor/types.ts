/** A provider descriptor after validation and ${env:…} resolution, with defaults applied. */
export type AuthMethod =
  | 'client_secret_basic'
  | 'client_secret_post'
  | 'client_secret_jwt'
  | 'private_key_jwt'
  | 'tls_client_auth'
  | 'self_signed_tls_client_auth'
  | 'none';

export const JWT_BEARER = 'urn:ietf:params:oauth:grant-type:jwt-bearer';
export type GrantType = 'client_credentials' | typeof JWT_BEARER;

export type AssertionAlg = 'HS256' | 'HS384' | 'HS512' | 'RS256' | 'PS256' | 'ES256' | 'EdDSA';

export interface ClientAuth {
  method: AuthMethod;
  /** client_secret_basic, client_secret_post, client_secret_jwt. */
  secret?: string;
  /** client_secret_jwt and private_key_jwt: how assertions are signed. */
  assertion?: {
    alg: AssertionAlg;
    /** The private key (PKCS8 PEM or private JWK JSON) for private_key_jwt; absent for client_secret_jwt. */
    key?: { material: string; kind: 'pem' | 'jwk' };
    kid?: string;
    audience: 'token-endpoint' | 'issuer';
  };
  /** tls_client_auth, self_signed_tls_client_auth: the client certificate and its key (PEM). */
  tls?: {
    cert: string;
    key: string;
    certFile: string;
    keyFile: string;
    boundTokens: boolean;
    thumbprint: string;
  };
}

export interface ClientDescriptor {
  id: string;
  label: string;
  auth: ClientAuth;
}

export interface Provider {
  name: string;
  title: string;
  /** The descriptor file this provider came from. */
  file: string;
  embedded?: 'reference';
  tokenEndpoint: string;
  /** RFC 8414 issuer identifier, when declared. */
  issuer?: string;
  /** Fetch and check the server metadata at the issuer's well-known URL. */
  discovery?: 'openid-configuration' | 'oauth-authorization-server';
  jwksUri?: string;
  clients: ClientDescriptor[];
  grant: {
    type: GrantType;
    /** jwt-bearer: the authorization grant assertion (RFC 7523 §2.1). */
    assertion?: {
      issuer: string;
      subject: string;
      /** Default: the token endpoint URL. */
      audience?: string;
      alg: AssertionAlg;
      key: { material: string; kind: 'pem' | 'jwk' };
      kid?: string;
      claims: Record<string, unknown>;
    };
    bodyEncoding: 'form' | 'json';
  };
  scopes: {
    request?: string;
    default?: string;
    forbidden?: string;
    /** A request without scope is refused with invalid_scope (RFC 6749 §3.3's second choice); excludes `default`. */
    required?: boolean;
  };
  expect: {
    tokenType: string;
    expiresIn?: number;
    expiresInTolerance: number;
    refreshToken: 'absent' | 'allowed';
    scopeEcho: 'always' | 'when-different';
    broaderScopeAllowed: boolean;
    /** What a request of `scopes.request` plus `scopes.forbidden` gets. */
    forbiddenScope: ScopePolicy;
    /** What a request of `scopes.forbidden` alone gets. */
    ungrantableScope: ScopePolicy;
    /** Promises about client assertions beyond RFC 7523's MAYs: each raises a SHOULD check to an EXPECTATION. */
    clientAssertion: ClientAssertionPolicy;
    tokenFormat: 'opaque' | 'jwt' | 'any';
    /** Algorithms JWT access tokens may be signed with. */
    jwtAlgs: string[];
    /** The aud JWT access tokens must carry, when known (expect.audience, else resource.url). */
    audience?: string;
  };
  resource?: {
    url: string;
    method: 'GET' | 'POST';
    /** The scope the resource needs: a token without it must be refused (RFC 6749 §7, RFC 6750 §3.1 insufficient_scope). */
    requiredScope?: string;
    /** How to get a token that lacks requiredScope: the scope to request for it ("" requests none). */
    insufficientScope?: { scope: string };
  };
  /** RFC 7662 introspection endpoint, when declared, and the client that authenticates to it (default: the primary client). */
  introspection?: { url: string; client: ClientDescriptor };
  /** DPoP at the token endpoint (RFC 9449), when the server supports it. */
  dpop?: DpopPolicy;
  /** Resource indicators at the token endpoint (RFC 8707), when the server supports them. */
  resourceIndicators?: {
    /** The resource to ask a token for (default: resource.url). */
    resource: string;
    /** A resource the client may not have a token for (default: a random https URL under .invalid). */
    unknown: string;
    /** The aud a token for `resource` carries (default: `resource`). */
    audience: string;
  };
  limits: {
    timeoutMs: number;
    maxRequests: number;
    maxBodyBytes: number;
    maxExpiryWaitSeconds: number;
    clockSkewSeconds: number;
    requestsPerSecond: number;
    /** The longest Retry-After of a 429 that is waited out before a retry (RFC 9110 §10.2.3). */
    maxRetryAfterSeconds: number;
  };
  tls: { caFile?: string; insecureSkipVerify: boolean };
  /** How requests reach the endpoints: through an egress proxy, or direct. */
  proxy: ProxySetting;
  /** Known departures from the RFCs by design, each tied to the checks its one root cause makes fail. */
  deviations: { checks: string[]; reason: string; link: string }[];
  /** Secret values and the environment variable each came from, for redaction and curl lines. */
  secrets: SecretRef[];
}

/**
 * How a scope the client may not have is answered (RFC 6749 §3.3 lets the server ignore it, §5.2 lets it
 * refuse with invalid_scope): refused, narrowed away, or either of the two (no promise).
 */
export type ScopePolicy = 'invalid_scope' | 'narrowed' | 'either';

export type DpopAlg = 'ES256' | 'EdDSA' | 'RS256' | 'PS256';

/** What a server that supports DPoP (RFC 9449) promises, and which client the DPoP probes use. */
export interface DpopPolicy {
  /** The server refuses a token request of `client` that carries no DPoP proof. */
  required: boolean;
  /** `required`: every proof must carry a server nonce; `optional`: follow use_dpop_nonce when asked; `none`: the server never asks. */
  nonce: 'required' | 'optional' | 'none';
  /** The algorithm the harness signs its proofs with (a key pair generated per run). */
  alg: DpopAlg;
  /** The protected resource refuses a DPoP-bound token presented as a Bearer token. */
  resourceEnforces: boolean;
  /** The server refuses a proof whose jti it has seen (RFC 9449 §11.1 leaves this to the server). */
  replayDetection: boolean;
  /** The client the DPoP token requests authenticate as (default: the primary client). */
  client: ClientDescriptor;
}

export interface ClientAssertionPolicy {
  /** An assertion without jti is refused (OpenID Connect Core §9 makes jti REQUIRED). */
  jtiRequired: boolean;
  /** A jti is accepted once only (RFC 7523 §3 MAY; OpenID Connect Core §9). */
  singleUse: boolean;
  /** An assertion whose exp lies further ahead than this is refused (RFC 7523 §3 MAY). */
  maxLifetimeSeconds?: number;
}

export interface SecretRef {
  value: string;
  /** The variable a reproduction should read it from, e.g. AKAMAI_CLIENT_SECRET. */
  envName: string;
}

/** One egress proxy. `url` may carry user:password: it is a secret, redacted, and never shown whole. */
export interface ProxyEndpoint {
  url: string;
  /** host:port, the only part of a proxy that is ever shown. */
  hostPort: string;
  /** Where it came from, for the summary and the report: "HTTPS_PROXY", "https_proxy", "proxy.url (${env:CORP_PROXY})". */
  from: string;
  /** The variable that holds it: the redacted URL is shown as $NAME. */
  envName: string;
}

/**
 * `proxy` routes each request by its URL as undici's EnvHttpProxyAgent does: https: URLs through
 * `https` (else `http`), http: URLs through `http`, hosts that NO_PROXY names direct.
 * `none`: every request direct, for `reason`; `ignored` names an environment proxy left unused.
 */
export type ProxySetting =
  | { mode: 'none'; reason: string; ignored?: string }
  | { mode: 'proxy'; https?: ProxyEndpoint; http?: ProxyEndpoint; noProxy: string };
