/**
 * GENERATED from schemas/provider.schema.json by scripts/gen-raw-types.ts: do not edit.
 * Regenerate with `npm run types` after changing the schema (test/descriptors/raw-types.test.ts
 * fails while this file is stale). The shape of a descriptor as read, before ${env:…} references
 * are resolved and defaults applied; the resolved Provider (types.ts) is built from these types.
 */

/**
 * An absolute https URL without fragment, or an ${env:…} reference to one. http:// only on a loopback host with allowInsecureHttp: loopback (checked after ${env:…} resolution).
 */
export type HttpsUrl = string;
/**
 * An http:// or https:// proxy URL, or an ${env:…} reference to one. Credentials (user:password@) only through ${env:…}.
 */
export type ProxyUrl = string;

/**
 * One OAuth 2.0 token endpoint and what its owners promise. String values may be ${env:NAME} or ${env:NAME:-default} references.
 */
export interface RawProvider {
  $schema?: string;
  /**
   * Stable id: used in --provider, history keys and file names.
   */
  name: string;
  title: string;
  description?: string;
  /**
   * Another descriptor this one builds on (a path relative to this file): its fields are merged in first, mappings merged key by key, lists and other values replaced, this file winning. A base that is not a whole descriptor on its own is named *.base.yaml (or *.base.json) or says abstract: true; either way it is never run as a provider.
   */
  extends?: string;
  /**
   * true: a base for other descriptors (extends), never run as a provider and not validated alone.
   */
  abstract?: boolean;
  /**
   * loopback: http:// endpoint URLs are accepted when their host is a loopback address (127.0.0.0/8, ::1, localhost), e.g. a server under development. Every result is marked INSECURE and the checks that need TLS are not applicable. Any other http:// URL is refused: run the server behind TLS and trust its CA with tls.caFile.
   */
  allowInsecureHttp?: 'loopback';
  /**
   * Start the embedded reference server before resolving ${env:…} (it sets TC_REF_* variables).
   */
  embedded?: 'reference';
  tokenEndpoint: HttpsUrl;
  /**
   * The first client is the primary one, used by every probe that needs one valid client.
   *
   * @minItems 1
   */
  clients: RawClient[];
  grant: {
    /**
     * The grant the ordinary token requests use. authorization_code: codes come from a scripted login in headless chromium (see authorization).
     */
    type:
      'client_credentials' | 'urn:ietf:params:oauth:grant-type:jwt-bearer' | 'authorization_code';
    /**
     * jwt-bearer: how the authorization grant assertion is made (RFC 7523 §2.1, §3).
     */
    assertion?: {
      issuer: string;
      /**
       * Default: the issuer.
       */
      subject?: string;
      /**
       * Default: the token endpoint URL.
       */
      audience?: string;
      alg: 'RS256' | 'PS256' | 'ES256' | 'EdDSA';
      /**
       * Path of the signing key (PKCS8 PEM or private JWK).
       */
      key?: string;
      /**
       * The signing key itself, as an ${env:NAME} reference.
       */
      keyValue?: string;
      kid?: string;
      /**
       * Extra claims, e.g. scope: [directoryKey].
       */
      claims?: {
        [k: string]: unknown | undefined;
      };
    };
    /**
     * form (RFC 6749) or json, for services that take JSON (a deviation to declare).
     */
    bodyEncoding?: 'form' | 'json';
  };
  scopes?: {
    /**
     * A scope the client may have, requested by the ordinary token request.
     */
    request?: string;
    /**
     * What a request without scope is granted (RFC 6749 §3.3 documented default): checked as an EXPECTATION. Not allowed with required: true.
     */
    default?: string;
    /**
     * A scope the client may not have. It is requested twice: with scopes.request (scope.forbidden) and alone (scope.ungrantable-alone); the answers are judged against expect.forbiddenScope and expect.ungrantableScope, and a token that grants it fails either way.
     */
    forbidden?: string;
    /**
     * true: the server refuses a request without scope with invalid_scope (RFC 6749 §3.3's other choice), checked as an EXPECTATION (scope.required). Needs request; excludes default.
     */
    required?: boolean;
  };
  expect: {
    tokenType: string;
    /**
     * Declared access-token lifetime in seconds.
     */
    expiresIn?: number;
    /**
     * Seconds expires_in may differ from expiresIn, either way. One second below is always allowed on top: a server that reports the remaining lifetime rounds down (299 for 300).
     */
    expiresInTolerance?: number;
    refreshToken?: 'absent' | 'allowed';
    /**
     * always: the response carries scope even when identical to the request.
     */
    scopeEcho?: 'always' | 'when-different';
    broaderScopeAllowed?: boolean;
    /**
     * How a request of scopes.request plus scopes.forbidden is answered: invalid_scope (refused), narrowed (a token without the forbidden scope, RFC 6749 §3.3 lets the server ignore part of the request), or either (the default: no promise; only a token that grants the forbidden scope fails). A refusal's error code is checked separately (scope.refused-with-invalid-scope, MUST).
     */
    forbiddenScope?: 'invalid_scope' | 'narrowed' | 'either';
    /**
     * opaque (default), jwt (an RFC 9068 JWT access token: enables its header and claim checks), jwt-plain (a JWT that is not RFC 9068-profiled: its claims are checked for shape and lifetime only), or any: the owners promise no format.
     */
    tokenFormat?: 'opaque' | 'jwt' | 'jwt-plain' | 'any';
    /**
     * Algorithms JWT access tokens may be signed with (default: all of these asymmetric ones).
     *
     * @minItems 1
     */
    jwtAlgs?: (
      | 'RS256'
      | 'RS384'
      | 'RS512'
      | 'PS256'
      | 'PS384'
      | 'PS512'
      | 'ES256'
      | 'ES384'
      | 'ES512'
      | 'EdDSA'
    )[];
    /**
     * The aud JWT access tokens must carry (default: resource.url).
     */
    audience?: string;
    /**
     * The same for scopes.forbidden requested alone (nothing grantable asked for): invalid_scope, narrowed (a token that grants something else or nothing, and says so), or either (the default).
     */
    ungrantableScope?: 'invalid_scope' | 'narrowed' | 'either';
    /**
     * What the server promises about client assertions (client_secret_jwt, private_key_jwt) beyond RFC 7523's MAYs. Each promise raises the matching SHOULD check to an EXPECTATION.
     */
    clientAssertion?: {
      /**
       * An assertion without jti is refused (client-auth.missing-jti becomes an EXPECTATION).
       */
      jtiRequired?: boolean;
      /**
       * An assertion (its jti) is accepted once only (client-auth.replayed-jti becomes an EXPECTATION).
       */
      singleUse?: boolean;
      /**
       * Assertions whose exp is further ahead than this are refused: client-auth.far-future-exp (a year-long assertion) becomes an EXPECTATION, and one more request (exp = iat + this + limits.clockSkewSeconds + 10 s) checks the limit itself (client-auth.assertion-max-lifetime). At most 30 days, well short of the year-long probe.
       */
      maxLifetimeSeconds?: number;
    };
  };
  /**
   * A protected resource (RFC 6750) to present the access token to: the fresh token must be accepted there; no token, a tampered token, an expired token (and, with requiredScope and insufficientScope, a token lacking the required scope) must be refused.
   */
  resource?: {
    url: HttpsUrl;
    method?: 'GET' | 'POST';
    /**
     * The scope the resource needs (each of its scope-tokens). The ordinary token request (scopes.request) must include it.
     */
    requiredScope?: string;
    /**
     * How to obtain a token that lacks requiredScope, so the resource can be seen refusing it with 403 insufficient_scope (RFC 6750 §3.1): one extra token request by the primary client.
     */
    insufficientScope?: {
      /**
       * The scope to request for that token (one the client may have, without requiredScope); "" sends no scope parameter (the client's default).
       */
      scope: string;
    };
  };
  limits?: {
    timeoutMs?: number;
    maxRequests?: number;
    maxBodyBytes?: number;
    maxExpiryWaitSeconds?: number;
    clockSkewSeconds?: number;
    requestsPerSecond?: number;
    /**
     * The longest Retry-After of a 429 answer the harness waits out before retrying (at most twice); a longer one makes the request rate-limited at once.
     */
    maxRetryAfterSeconds?: number;
  };
  tls?: {
    /**
     * PEM file of extra CA certificates trusted for this provider.
     */
    caFile?: string;
    /**
     * Turns TLS verification off. Every result of this provider is marked INSECURE.
     */
    insecureSkipVerify?: boolean;
  };
  /**
   * How this provider's requests leave: `none` (always direct, whatever HTTPS_PROXY says) or { url } (every request through this HTTP CONNECT proxy, whatever NO_PROXY says). Without it, HTTPS_PROXY / HTTP_PROXY / NO_PROXY apply.
   */
  proxy?:
    | 'none'
    | {
        url: ProxyUrl;
      };
  /**
   * An absolute https URL without fragment, or an ${env:…} reference to one. http:// only on a loopback host with allowInsecureHttp: loopback (checked after ${env:…} resolution).
   */
  issuer?: string;
  /**
   * Fetch the server's metadata from the issuer's well-known URL (OpenID Connect Discovery, or RFC 8414) and check it. Needs issuer.
   */
  discovery?: 'openid-configuration' | 'oauth-authorization-server';
  /**
   * An absolute https URL without fragment, or an ${env:…} reference to one. http:// only on a loopback host with allowInsecureHttp: loopback (checked after ${env:…} resolution).
   */
  jwksUri?: string;
  /**
   * An RFC 7662 introspection endpoint.
   */
  introspection?: {
    url: HttpsUrl;
    /**
     * The credentials introspection is called with: the index of one of clients (default 0, the primary client), or a client of its own ({ id, label, auth } as in clients), e.g. a confidential client when the token client is public.
     */
    client?: number | RawClient;
  };
  /**
   * The server supports DPoP (RFC 9449) at the token endpoint: the dpop probes send token requests with proofs (a key pair generated per run, never recorded) and spoilt proofs, and present the DPoP-bound token at the resource and introspection.
   */
  dpop?: {
    /**
     * The server refuses a token request of the DPoP client that carries no proof (dpop.missing-proof-* become EXPECTATIONs; without it they are not applicable).
     */
    required?: boolean;
    /**
     * required: the server demands a nonce (RFC 9449 §8) before it issues a token, so the first proof is answered 400 use_dpop_nonce with a DPoP-Nonce header; optional: the harness follows use_dpop_nonce when asked; none: the server never asks (a use_dpop_nonce answer fails dpop.nonce-dance).
     */
    nonce?: 'required' | 'optional' | 'none';
    /**
     * The JWS algorithm of the harness's proofs.
     */
    alg?: 'ES256' | 'EdDSA' | 'RS256' | 'PS256';
    /**
     * The protected resource refuses the DPoP-bound token presented as a plain Bearer token (RFC 9449 §7.2): dpop.resource-bearer-refused becomes an EXPECTATION. Needs resource.url.
     */
    resourceEnforces?: boolean;
    /**
     * The server refuses a proof it has already seen (its jti; RFC 9449 §11.1 leaves this to the server): one more request replays a proof, and dpop.replay-refused becomes an EXPECTATION.
     */
    replayDetection?: boolean;
    /**
     * The client the DPoP token requests authenticate as: the index of one of clients (default 0), or a client of its own ({ id, label, auth } as in clients), e.g. one the server registered with dpop_bound_access_tokens.
     */
    client?: number | RawClient;
  };
  /**
   * The server supports resource indicators (RFC 8707) at the token endpoint: one token request asks for `resource` (the token's audience must be restricted to it: JWT aud, else introspection), one for `unknown` (refused with invalid_target).
   */
  resourceIndicators?: {
    /**
     * An absolute https URL without fragment, or an ${env:…} reference to one. http:// only on a loopback host with allowInsecureHttp: loopback (checked after ${env:…} resolution).
     */
    resource?: string;
    /**
     * An absolute https URL without fragment, or an ${env:…} reference to one. http:// only on a loopback host with allowInsecureHttp: loopback (checked after ${env:…} resolution).
     */
    unknown?: string;
    /**
     * The aud the token for `resource` carries (default: the resource URL itself).
     */
    audience?: string;
  };
  /**
   * Known departures from the RFCs by design, each tied to the check(s) it makes fail: one declaration per root cause (`checks: [...]` when one quirk fails several checks). Shown in the report as a known deviation instead of a failure; a declared check that passes again is reported as a stale declaration. Never hides an outage (broken) or another check.
   */
  deviations?: {
    /**
     * The id of the check this deviation makes fail (docs/checks.md).
     */
    check?: string;
    /**
     * The ids of the checks this one root cause makes fail (docs/checks.md).
     *
     * @minItems 1
     */
    checks?: string[];
    reason: string;
    /**
     * Where the service documents the behaviour.
     */
    link: string;
  }[];
  /**
   * grant.type authorization_code: how codes are obtained (RFC 6749 §4.1, RFC 7636). The harness opens the authorization endpoint in headless chromium, runs the login steps, and takes the code from the navigation to redirectUri without loading it.
   */
  authorization?: {
    /**
     * An absolute https URL without fragment, or an ${env:…} reference to one. http:// only on a loopback host with allowInsecureHttp: loopback (checked after ${env:…} resolution).
     */
    endpoint?: string;
    /**
     * A redirect URI registered for the clients. Never loaded: the harness stops at the redirect.
     */
    redirectUri: string;
    /**
     * The scope of the authorization request (default: scopes.request).
     */
    scope?: string;
    /**
     * The test user the login steps sign in as.
     */
    user: {
      username: string;
      /**
       * An ${env:NAME} reference: a secret, redacted everywhere.
       */
      password: string;
    };
    /**
     * The login steps, in order. A step whose element does not appear in time is a descriptor error (exit 2) naming the step. Steps are skipped once the redirect has arrived (a later authorization with the session cookie).
     *
     * @minItems 1
     * @maxItems 20
     */
    login: unknown[];
    pkce?: {
      /**
       * The server may accept the plain code_challenge_method (RFC 7636 §4.2); by default a plain challenge must be refused (RFC 9700 §2.1.1 recommends S256).
       */
      plainAllowed?: boolean;
    };
    /**
     * Index into clients of a second client registered for the same redirect URI: it presents the first client's codes and refresh tokens, which must be refused (default 1 when two clients are declared).
     */
    otherClient?: number;
  };
  /**
   * Refresh tokens (RFC 6749 §6, RFC 9700 §4.14): probed whenever a token response carries a refresh_token, or with token.
   */
  refresh?: {
    /**
     * The server rotates refresh tokens: a used one is refused, and presenting it again revokes the new one too (EXPECTATION checks).
     */
    rotation?: boolean;
    /**
     * A refresh token of clients[0], when no grant hands one out: an ${env:NAME} reference.
     */
    token?: string;
    /**
     * A scope within the original grant's, for the narrower refresh (default: the first scope of scopes.request).
     */
    narrowerScope?: string;
    /**
     * A scope beyond the original grant's, for the broader refresh (default: scopes.forbidden).
     */
    broaderScope?: string;
  };
}
export interface RawClient {
  id: string;
  /**
   * How the report names this client; defaults to its auth method.
   */
  label?: string;
  auth: {
    method:
      | 'client_secret_basic'
      | 'client_secret_post'
      | 'client_secret_jwt'
      | 'private_key_jwt'
      | 'tls_client_auth'
      | 'self_signed_tls_client_auth'
      | 'none';
    /**
     * client_secret_basic, client_secret_post, client_secret_jwt: an ${env:NAME} reference.
     */
    secret?: string;
    /**
     * Signing algorithm of client assertions: HS* for client_secret_jwt (default HS256), RS256/PS256/ES256/EdDSA for private_key_jwt (default RS256).
     */
    alg?: 'HS256' | 'HS384' | 'HS512' | 'RS256' | 'PS256' | 'ES256' | 'EdDSA';
    /**
     * private_key_jwt: path of the private key, a PKCS8 PEM or a private JWK (JSON) file; relative to the descriptor.
     */
    key?: string;
    /**
     * private_key_jwt: the private key itself (PEM or JWK JSON), as an ${env:NAME} reference.
     */
    keyValue?: string;
    /**
     * Key id put in the assertion header (optional).
     */
    kid?: string;
    /**
     * The aud of client assertions: token-endpoint (the token endpoint URL, RFC 7523 §3), issuer (the issuer identifier), or any other string the server demands (e.g. another URL), sent as it is.
     */
    audience?: ('token-endpoint' | 'issuer') | string;
    /**
     * tls_client_auth, self_signed_tls_client_auth: the client certificate (PEM), relative to the descriptor.
     */
    certFile?: string;
    /**
     * tls_client_auth, self_signed_tls_client_auth: the certificate's private key (PEM).
     */
    keyFile?: string;
    /**
     * tls_client_auth, self_signed_tls_client_auth: access tokens are bound to the certificate (RFC 8705 §3): cnf.x5t#S256 is checked.
     */
    certificateBoundTokens?: boolean;
  };
  /**
   * method none only: false sends no client_id at all (a jwt-bearer grant whose assertion identifies the client, RFC 7523 §3.1: the client authenticates with nothing and needs no id). id is then only the name the report shows.
   */
  sendClientId?: boolean;
  /**
   * A client certificate presented on the connection whatever the auth method (FAPI style: private_key_jwt over mutual TLS, RFC 8705 §3 certificate-bound tokens). The mTLS endpoint alias of the metadata is used, as for tls_client_auth. Not with tls_client_auth or self_signed_tls_client_auth, whose auth.certFile/keyFile are the certificate.
   */
  tls?: {
    /**
     * The client certificate (PEM), relative to the descriptor.
     */
    certFile: string;
    /**
     * The certificate's private key (PEM), relative to the descriptor.
     */
    keyFile: string;
    /**
     * Access tokens are bound to the certificate (RFC 8705 §3): cnf.x5t#S256 is checked.
     */
    certificateBoundTokens?: boolean;
  };
}
