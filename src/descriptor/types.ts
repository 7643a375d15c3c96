/**
 * A provider descriptor after validation and ${env:…} resolution, with defaults applied. Its value
 * types come from the descriptor as read (raw.gen.ts, generated from schemas/provider.schema.json):
 * the schema is the one source of the enums and field types; this file says what resolution adds
 * (defaults, keys read, secrets collected) and never restates a shape.
 */
import type { RawClient, RawProvider } from './raw.gen.js';

type RawAuth = RawClient['auth'];
type RawExpect = RawProvider['expect'];
type RawGrant = RawProvider['grant'];

export type AuthMethod = RawAuth['method'];

export const JWT_BEARER = 'urn:ietf:params:oauth:grant-type:jwt-bearer' satisfies RawGrant['type'];
export type GrantType = RawGrant['type'];

export type AssertionAlg = NonNullable<RawAuth['alg']>;

/** expect.tokenFormat: opaque, jwt (RFC 9068), jwt-plain (a JWT not profiled by RFC 9068), any. */
export type TokenFormat = NonNullable<RawExpect['tokenFormat']>;

/** A JWT access token is promised (RFC 9068-profiled or not): its claims can be read. */
export const isJwtFormat = (f: TokenFormat): boolean => f === 'jwt' || f === 'jwt-plain';

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
    /** token-endpoint, issuer (keywords for those URLs), or any other string, sent as the aud as it is. */
    audience: NonNullable<RawAuth['audience']>;
  };
  /**
   * The client certificate and its key (PEM), presented on the connection: tls_client_auth,
   * self_signed_tls_client_auth (auth.certFile), or any method with the client's own `tls`
   * (private_key_jwt over mutual TLS, FAPI style).
   */
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
  /** false: a public client (method none) that sends no client_id at all; absent means true. */
  sendClientId?: boolean;
}

export interface Provider {
  name: string;
  title: string;
  /** The descriptor file this provider came from. */
  file: string;
  embedded?: RawProvider['embedded'];
  tokenEndpoint: string;
  /**
   * The descriptor fields whose URL is plain http:// on a loopback host (allowInsecureHttp:
   * loopback); absent when every URL is https. Every result is then marked INSECURE and the checks
   * that need TLS are not applicable.
   */
  insecureHttp?: string[];
  /** RFC 8414 issuer identifier, when declared. */
  issuer?: string;
  /** Fetch and check the server metadata at the issuer's well-known URL. */
  discovery?: RawProvider['discovery'];
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
      alg: NonNullable<RawGrant['assertion']>['alg'];
      key: { material: string; kind: 'pem' | 'jwk' };
      kid?: string;
      claims: Record<string, unknown>;
    };
    bodyEncoding: NonNullable<RawGrant['bodyEncoding']>;
  };
  /** request, default, forbidden, and required (a request without scope is refused with invalid_scope). */
  scopes: NonNullable<RawProvider['scopes']>;
  expect: {
    tokenType: RawExpect['tokenType'];
    expiresIn?: RawExpect['expiresIn'];
    expiresInTolerance: NonNullable<RawExpect['expiresInTolerance']>;
    refreshToken: NonNullable<RawExpect['refreshToken']>;
    scopeEcho: NonNullable<RawExpect['scopeEcho']>;
    broaderScopeAllowed: NonNullable<RawExpect['broaderScopeAllowed']>;
    /** What a request of `scopes.request` plus `scopes.forbidden` gets. */
    forbiddenScope: ScopePolicy;
    /** What a request of `scopes.forbidden` alone gets. */
    ungrantableScope: ScopePolicy;
    /** Promises about client assertions beyond RFC 7523's MAYs: each raises a SHOULD check to an EXPECTATION. */
    clientAssertion: ClientAssertionPolicy;
    tokenFormat: TokenFormat;
    /** Algorithms JWT access tokens may be signed with. */
    jwtAlgs: string[];
    /** The aud JWT access tokens must carry, when known (expect.audience, else resource.url). */
    audience?: string;
  };
  resource?: {
    url: string;
    method: NonNullable<NonNullable<RawProvider['resource']>['method']>;
    /** The scope the resource needs: a token without it must be refused (RFC 6749 §7, RFC 6750 §3.1 insufficient_scope). */
    requiredScope?: string;
    /** How to get a token that lacks requiredScope: the scope to request for it ("" requests none). */
    insufficientScope?: { scope: string };
  };
  /** authorization_code: how the harness obtains codes (a scripted login in headless chromium). */
  authorization?: AuthorizationSetting;
  /** Refresh tokens (RFC 6749 §6): what the owners promise, and a token when no grant hands one out. */
  refresh?: RefreshSetting;
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
  /** Every limit, defaults applied (schemas/provider.schema.json documents each). */
  limits: Required<NonNullable<RawProvider['limits']>>;
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
export type ScopePolicy = NonNullable<RawExpect['forbiddenScope']>;

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

/**
 * jtiRequired: an assertion without jti is refused (OpenID Connect Core §9 makes jti REQUIRED);
 * singleUse: a jti is accepted once only (RFC 7523 §3 MAY); maxLifetimeSeconds: an assertion whose
 * exp lies further ahead is refused (RFC 7523 §3 MAY). Defaults applied, except the optional limit.
 */
type RawAssertionPolicy = NonNullable<RawExpect['clientAssertion']>;
export type ClientAssertionPolicy = Required<Omit<RawAssertionPolicy, 'maxLifetimeSeconds'>> &
  Pick<RawAssertionPolicy, 'maxLifetimeSeconds'>;

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

/**
 * One login step, by CSS selector: fill a field, click, or click only when the element is there.
 * Written out here: the schema says it with oneOf, which the generated raw types leave out.
 */
export type LoginStep =
  { fill: string; value: string } | { click: string } | { clickIfPresent: string };

/** authorization (grant.type authorization_code), defaults applied: schemas/provider.schema.json documents each field. */
export interface AuthorizationSetting {
  /** The authorization endpoint; absent: the discovered authorization_endpoint. */
  endpoint?: string;
  redirectUri: string;
  scope?: string;
  user: { username: string; password: string };
  login: LoginStep[];
  pkce: { plainAllowed: boolean };
  /** Index into clients of a second client registered for the same redirect URI. */
  otherClient?: number;
}

/** refresh, as declared (schemas/provider.schema.json). */
export type RefreshSetting = NonNullable<RawProvider['refresh']>;
