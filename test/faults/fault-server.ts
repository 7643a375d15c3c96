/**
 * A real, hand-written OAuth 2.0 token endpoint and RFC 6750 protected resource on loopback, for
 * proving every check against a live server: conformant by default, with ONE switchable defect per
 * check (or one valid-but-unusual behaviour) selected per request by the first path segment:
 *
 *   https://127.0.0.1:PORT/<mode>/token       POST, client_credentials
 *   https://127.0.0.1:PORT/<mode>/resource    GET, Bearer
 *   https://127.0.0.1:PORT/<mode>/introspect  RFC 7662 token introspection (client authentication)
 *   https://127.0.0.1:PORT/<mode>/jwks        the JWK Set of the access-token signing keys
 *   https://127.0.0.1:PORT/.well-known/oauth-authorization-server/<mode>   RFC 8414 metadata
 *   https://127.0.0.1:PORT/<mode>/.well-known/openid-configuration         the same, OpenID style
 *
 * The issuer of a mode is https://127.0.0.1:PORT/<mode>.
 * `ok` is conformant; every check id of docs/checks.md is a mode whose behaviour breaks exactly that
 * requirement (DEFECTS); QUIRKS are behaviours the RFCs allow that a careless check would flag. Modes
 * are stateless (JWTs; the opaque-token modes keep a map), so many configurations run concurrently
 * against one server. The same handler also listens on plain HTTP (a second listener that counts its
 * requests), so a test can show that an `http:` endpoint is refused before any request is sent.
 *
 * Node built-ins only (node:http, node:https) plus jose for the JWTs; the certificate comes from the
 * run-time CA of src/reference/certs.ts.
 */
import { createHash, randomBytes, randomInt, timingSafeEqual } from 'node:crypto';
import {
  createServer as createHttpServer,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import {
  calculateJwkThumbprint,
  compactVerify,
  decodeJwt,
  decodeProtectedHeader,
  errors as joseErrors,
  exportJWK,
  exportPKCS8,
  generateKeyPair,
  generateSecret,
  importJWK,
  jwtVerify,
  SignJWT,
  UnsecuredJWT,
  type CryptoKey,
  type JWK,
  type JWTPayload,
} from 'jose';
import { createCa, issueCert, issueServerCert } from '../../src/reference/certs.js';

const HOST = '127.0.0.1';
const REALM = 'faults';
/**
 * Access-token lifetime: long enough that no "fresh" probe races the clock on a busy machine (the
 * expiry probes are then skipped by the descriptor's maxExpiryWaitSeconds). Only the modes that test
 * expiry issue short-lived tokens, which the expiry probes wait out (lifetime + 1 s).
 */
export const LIFETIME_SECONDS = 300;
export const SHORT_LIFETIME_SECONDS = 6;
/** Scopes the server knows; clients may have CLIENT_SCOPES, never admin. */
const SERVER_SCOPES = ['api:read', 'api:write', 'admin'];
const CLIENT_SCOPES = ['api:read', 'api:write'];
/** The scope the protected resource requires (RFC 6749 §7); without it: 403 insufficient_scope. */
const RESOURCE_SCOPE = 'api:read';
/** RFC 6749 Appendix A.4 scope-token *( SP scope-token ). */
const SCOPE_SYNTAX = /^[\x21\x23-\x5B\x5D-\x7E]+( [\x21\x23-\x5B\x5D-\x7E]+)*$/;
const JSON_TYPE = 'application/json; charset=utf-8';
const CLIENT_ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
const JWT_BEARER = 'urn:ietf:params:oauth:grant-type:jwt-bearer';
/** The issuer of jwt-bearer grant assertions the server trusts, and its key's kid. */
const GRANT_ISSUER = 'faults-assertion-issuer';
/** Client assertions valid for longer than this are refused (RFC 7523 §3 lets the server limit exp). */
const MAX_ASSERTION_SECONDS = 600;
/** The subject DN the tls_client_auth client is registered with (RFC 8705 §2.1.2, here its CN). */
const MTLS_SUBJECT_CN = 'faults-mtls';

/**
 * One defect per check id (docs/checks.md): what the server does wrong in that mode. The mode's name
 * is the check id itself, so `/response.pragma/token` is the endpoint that omits Pragma.
 */
export const DEFECTS = {
  // Grant handling
  'grant.client-credentials': 'refuses the client_secret_post client with 400 unauthorized_client',
  'grant.token-accepted-at-resource':
    'the resource refuses every token (it expects another audience)',
  'grant.get-refused': 'a GET with the parameters in the query string issues a token',
  'grant.missing-grant-type': 'a request without grant_type is answered unsupported_grant_type',
  'grant.missing-grant-type-not-accepted':
    'a request without grant_type is taken as client_credentials',
  'grant.unknown-grant-type': 'an unknown grant_type is answered invalid_grant',
  'grant.unknown-grant-type-not-accepted': 'an unknown grant_type is taken as client_credentials',
  'grant.repeated-parameter-not-accepted': 'repeated parameters are accepted (the last one wins)',
  'grant.repeated-parameter': 'a repeated parameter is refused with unsupported_grant_type',
  // Only a client_secret_post client gets through (a Basic client is refused for its method), so a
  // probe made with the Basic client would miss it: the probe must use the post client.
  'grant.query-credentials-refused':
    'query parameters are merged into the body: client_id/client_secret in the URL authenticate a client_secret_post client',
  'grant.query-credentials-error-code':
    'client credentials in the query string are answered with a 500 HTML page',
  'grant.two-auth-methods-refused':
    'Basic plus client_secret in the body: Basic is used, the body ignored',
  'grant.two-auth-methods-error-code':
    'Basic plus client_secret in the body is refused with unauthorized_client',
  'grant.no-refresh-token': 'a refresh_token is issued with every client_credentials token',
  // Response schema
  'response.status-200': 'successful token responses are 201 Created',
  'response.content-type-json': 'token responses are JSON sent as text/plain',
  'response.schema': 'token responses lack token_type',
  'response.access-token-syntax': 'the access token ends with a TAB (not VSCHAR)',
  'response.token-type': 'token_type is "mac"',
  'response.expires-in-positive': 'expires_in is 0',
  'response.expires-in-integer': 'expires_in is fractional (2.5)',
  'response.expires-in-present': 'token responses omit expires_in',
  'response.unique-members':
    'token responses carry expires_in twice (same value), which JSON.parse hides',
  'response.scope-syntax': 'scope is a JSON array of scope-tokens',
  'response.cache-control': 'token responses carry Cache-Control: no-cache, without no-store',
  'response.pragma': 'token responses lack Pragma: no-cache',
  'response.token-format': 'access tokens are opaque random strings (kept server-side), not JWTs',
  // Expiry
  'expiry.expires-in-declared': 'tokens live 3 s (expires_in 3) where 2 s is declared',
  'expiry.jwt-lifetime': 'the JWT iat is 8 s early: exp − iat is 8 s longer than expires_in',
  'expiry.jwt-iat-current':
    "the server's clock is an hour slow (iat, exp and the resource's own check)",
  'expiry.refused-after-expiry': 'the resource ignores exp (a day of clock tolerance)',
  'expiry.expired-token-challenge':
    'the resource answers an expired token 401 without WWW-Authenticate',
  // Scope
  'scope.requested-granted': 'api:write is silently narrowed away',
  'scope.echoed': 'scope is omitted whenever it equals the request',
  'scope.returned-when-different': 'api:write is narrowed away and scope is never returned',
  'scope.not-broader': 'every scope the client may have is granted, whatever was requested',
  'scope.default': 'a request without scope is granted api:read',
  'scope.none-default-or-invalid-scope':
    'a request without scope is refused with 400 invalid_request (scope is required, but with the wrong error)',
  'scope.required': 'a request without scope is granted every scope the client may have',
  'scope.forbidden': 'admin is granted to the clients when asked for next to a scope they may have',
  'scope.ungrantable-alone': 'admin is granted to the clients when it is the only scope asked for',
  'scope.refused-with-invalid-scope':
    'a scope the client may not have is refused with 403 access_denied',
  'scope.jwt-claim-agrees': "the JWT's scope claim drops the last granted scope",
  // Errors
  'errors.wrong-secret': 'the client secret is not checked',
  'errors.wrong-secret-error-code': 'a wrong client secret is answered 400 access_denied',
  'errors.unknown-client': 'an unknown client id gets a token',
  'errors.unknown-client-error-code': 'an unknown client id is answered 400 access_denied',
  'errors.no-client-auth': 'a request without client authentication gets a token',
  'errors.no-client-auth-error-code':
    'a request without client authentication is answered 400 unauthorized_client',
  'errors.invalid-client-401-challenge':
    'invalid_client after HTTP Basic is 400 without a challenge',
  'errors.status': 'a request without grant_type is answered 500 invalid_request',
  'errors.content-type-json': 'error responses are JSON sent as text/plain',
  'errors.schema': 'error_description contains double quotes',
  'errors.cache-control': 'error responses lack Cache-Control',
  // Client authentication (RFC 7523 client assertions, RFC 8705 mTLS)
  'client-auth.expired-assertion': 'the exp of a client assertion is not checked',
  'client-auth.wrong-audience': 'the aud of a client assertion is not checked',
  'client-auth.wrong-issuer': 'the iss of a client assertion is not checked',
  'client-auth.wrong-subject':
    'the sub of a client assertion is not checked (the client is found by client_id)',
  'client-auth.alg-none': 'unsigned client assertions (alg none) are accepted',
  'client-auth.unknown-key': 'the signature of a client assertion is not verified',
  'client-auth.missing-jti': 'client assertions without jti are accepted',
  'client-auth.far-future-exp': 'client assertions valid for a year are accepted',
  'client-auth.expired-assertion-error-code':
    'an expired client assertion is refused with invalid_grant',
  'client-auth.wrong-audience-error-code':
    'a client assertion for another audience is refused with invalid_grant',
  'client-auth.wrong-issuer-error-code':
    'a client assertion with a wrong iss is refused with invalid_grant',
  'client-auth.wrong-subject-error-code':
    'a client assertion with a wrong sub is refused with invalid_grant',
  'client-auth.alg-none-error-code': 'an unsigned client assertion is refused with invalid_grant',
  'client-auth.unknown-key-error-code':
    'a client assertion signed by an unknown key is refused with invalid_grant',
  'client-auth.missing-jti-error-code':
    'a client assertion without jti is refused with invalid_grant',
  'client-auth.far-future-exp-error-code':
    'a year-long client assertion is refused with invalid_grant',
  'client-auth.replayed-jti': 'used jti values are not remembered: an assertion can be replayed',
  'client-auth.assertion-max-lifetime':
    'client assertions valid for up to an hour are accepted (a year is still refused)',
  'client-auth.mtls-without-certificate':
    'the tls_client_auth client is accepted without a certificate',
  'client-auth.mtls-without-certificate-error-code':
    'an mTLS request without a certificate is answered 403 with an HTML page',
  'client-auth.certificate-bound-token':
    'access tokens of mTLS clients carry no cnf (they are not bound to the certificate)',
  // Discovery (RFC 8414)
  'discovery.metadata': 'the metadata is JSON sent as text/html',
  'discovery.issuer': 'the metadata issuer has a trailing slash',
  'discovery.token-endpoint':
    'the metadata names another token endpoint (/oauth2/token), which answers 404',
  'discovery.mtls-endpoint-aliases': 'mtls_endpoint_aliases.token_endpoint is an http: URL',
  'discovery.grant-types-supported': 'grant_types_supported omits client_credentials',
  'discovery.auth-methods-supported':
    'token_endpoint_auth_methods_supported lists only the two secret methods',
  'discovery.jwks': 'the JWK Set also publishes a symmetric (oct) key',
  // JWT access tokens (RFC 9068)
  'jwt.typ': 'the JWT header says typ JWT',
  'jwt.alg-not-none': 'access tokens are unsecured JWTs (alg none)',
  'jwt.alg-allowed': 'access tokens are signed with HS256 (a server secret)',
  'jwt.signature': 'access tokens are signed with a key the JWK Set does not publish',
  'jwt.required-claims': 'access tokens carry no jti',
  'jwt.iss': 'the iss claim names another issuer',
  'jwt.aud': 'the aud claim names another resource',
  'jwt.client-id': 'the client_id claim names another client',
  'jwt.jti-unique': 'every access token has the same jti',
  'jwt.claims-well-formed': 'the sub claim is a number (RFC 7519 §4.1.2: a StringOrURI)',
  'response.token-entropy':
    'opaque access tokens are 24 random hex digits (96 bits: long enough to pass the length bound, short of the estimate)',
  'response.token-entropy-bound':
    'opaque access tokens are one fixed 32-character prefix and a counter (…-000001, …-000002)',
  // Introspection (RFC 7662)
  'introspection.fresh-active': 'every token introspects as active: false',
  'introspection.agrees-with-token-response': 'introspection names another client_id',
  'introspection.expired-inactive': 'introspection ignores exp: an expired token is still active',
  'introspection.requires-authentication':
    'introspection answers callers that send no client authentication',
  'introspection.unauthenticated-error':
    'introspection without client authentication is answered 403 access_denied',
  'introspection.unknown-token-inactive':
    'a token the server does not know is answered 400 invalid_token instead of active: false',
  'introspection.inactive-only-active':
    'inactive answers say why the token is inactive (a reason member)',
  // Protected resource (RFC 6750)
  'resource.no-token-refused': 'the resource serves requests that carry no token',
  'resource.no-token-challenge':
    'a request without a token is answered 401 without WWW-Authenticate',
  'resource.no-token-no-error-code':
    'a request without a token is challenged with error="invalid_token"',
  'resource.tampered-token-refused':
    'the resource checks the claims of a JWT but not its signature',
  'resource.tampered-token-challenge':
    'a token whose signature does not verify is answered 400 invalid_request',
  'resource.insufficient-scope-refused': 'the resource does not check the scope it requires',
  'resource.insufficient-scope-challenge':
    'a token without the required scope is answered 401 invalid_token',
  // The jwt-bearer grant (RFC 7523 §2.1, §3)
  'grant.jwt-bearer':
    'refuses the jwt-bearer grant to the client_secret_post client with 400 unauthorized_client',
  'grant.form-encoded-body':
    'takes token requests as JSON only and refuses the form-encoded one (RFC 6749 §4.4.2)',
  'grant.assertion-expired': 'the exp of a grant assertion is not checked',
  'grant.assertion-wrong-audience': 'the aud of a grant assertion is not checked',
  'grant.assertion-wrong-issuer':
    'the iss of a grant assertion is not checked (any issuer is trusted)',
  'grant.assertion-alg-none': 'unsigned grant assertions (alg none) are accepted',
  'grant.assertion-unknown-key': 'the signature of a grant assertion is not verified',
  'grant.assertion-far-future-exp': 'grant assertions valid for a year are accepted',
  'grant.assertion-replay': 'used grant-assertion jti values are not remembered',
  'grant.assertion-expired-error-code': 'an expired grant assertion is refused with invalid_client',
  'grant.assertion-wrong-audience-error-code':
    'a grant assertion for another audience is refused with invalid_client',
  'grant.assertion-wrong-issuer-error-code':
    'a grant assertion from an unknown issuer is refused with invalid_client',
  'grant.assertion-alg-none-error-code':
    'an unsigned grant assertion is refused with invalid_client',
  'grant.assertion-unknown-key-error-code':
    'a grant assertion signed by an unknown key is refused with invalid_client',
  'grant.assertion-far-future-exp-error-code':
    'a year-long grant assertion is refused with invalid_client',
  // Resource indicators (RFC 8707)
  'grant.resource-indicated-issued': 'every resource parameter is refused with invalid_target',
  'grant.resource-audience':
    'the resource parameter is ignored: the token names the resource and another API in aud',
  'grant.unknown-resource-refused': 'a token is issued for any resource, known or not',
  'grant.unknown-resource-code': 'an unknown resource is refused with invalid_request',
  // DPoP (RFC 9449)
  'dpop.token-issued': 'every DPoP proof, valid or not, is refused with invalid_dpop_proof',
  'dpop.token-type': 'DPoP-bound tokens are issued with token_type Bearer',
  'dpop.cnf-jkt': "cnf.jkt is the thumbprint of another key than the proof's",
  'dpop.nonce-challenge': 'use_dpop_nonce is answered 401 (with a DPoP-Nonce header), not 400',
  'dpop.nonce-policy': 'no nonce is ever asked for, though the descriptor declares it required',
  'dpop.missing-proof-refused': 'the DPoP-bound client gets a Bearer token without a proof',
  'dpop.missing-proof-code': 'a request without the required proof is answered unauthorized_client',
  'dpop.bad-signature-refused': "the proof's signature is not verified",
  'dpop.bad-signature-code': 'a proof with a bad signature is refused with invalid_request',
  'dpop.wrong-htm-refused': "the proof's htm is not compared with the method",
  'dpop.wrong-htm-code': 'a proof with a wrong htm is refused with invalid_request',
  'dpop.wrong-htu-refused': "the proof's htu is not compared with the URL",
  'dpop.wrong-htu-code': 'a proof with a wrong htu is refused with invalid_request',
  'dpop.stale-iat-refused': "the proof's iat is not checked",
  'dpop.stale-iat-code': 'a stale proof is refused with invalid_request',
  'dpop.alg-none-refused': 'unsigned proofs (alg none) are accepted',
  'dpop.alg-none-code': 'an unsigned proof is refused with invalid_request',
  'dpop.private-key-refused': 'a proof whose jwk holds the private key is accepted',
  'dpop.private-key-code':
    'a proof with a private key in its header is refused with invalid_request',
  'dpop.replay-refused': 'proof jti values are not remembered: a proof can be replayed',
  'dpop.replay-code': 'a replayed proof is refused with invalid_request',
  'dpop.resource-accepts': 'the resource refuses the DPoP scheme (401 invalid_token)',
  'dpop.resource-bearer-refused':
    'the resource accepts a DPoP-bound token presented as Bearer, without a proof',
} as const;
export type DefectId = keyof typeof DEFECTS;

/** Behaviours RFC 6749/6750 allow: none may make a check fail, warn or break. */
export const QUIRKS = {
  'lowercase-bearer': 'token_type "bearer" (compared case-insensitively, RFC 6749 §5.1)',
  'json-no-charset': 'Content-Type application/json without charset',
  'json-uppercase':
    'Content-Type Application/JSON;Charset=UTF-8 (media types are case-insensitive)',
  'extra-fields': 'unknown members in token and error responses (the client MUST ignore them)',
  'scope-reordered': 'granted scope-tokens returned sorted, not in the order requested',
  'omit-identical-scope': 'scope omitted when it equals the request (RFC 6749 §5.1)',
  'cache-control-no-cache': 'Cache-Control: no-store, no-cache',
  'cache-control-split':
    'Cache-Control in two header fields (private / No-Store, max-age=0) and Pragma: No-Cache',
  'token-endpoint-alias':
    'the metadata names an alias of the token endpoint (/oauth/token) that answers like it',
  'token-cache':
    'the same still-valid token is handed out again for the same client and scope (a token cache)',
  'remaining-lifetime':
    'expires_in is the remaining lifetime, rounded down (one second less than declared)',
  'short-lived-tokens': `tokens that live ${SHORT_LIFETIME_SECONDS} s: the expiry probes wait them out and see them refused`,
  'error-uri': 'error_uri in every error response',
  'errors-bare': 'error responses carry only the error member',
  'post-invalid-client-400':
    'invalid_client is 400 without a challenge when the client did not use HTTP Basic',
  'no-auth-invalid-request':
    'a request without client authentication is answered 400 invalid_request',
  'two-methods-invalid-client':
    'two authentication methods are answered 401 invalid_client with a Basic challenge',
  'get-405-html': 'GET is answered 405 with an HTML page',
  'challenge-variants':
    'challenges with lower-case schemes, reordered and escaped parameters, and a second challenge in its own field',
  'multi-challenge':
    'two challenges in ONE WWW-Authenticate field (RFC 9110 §11.6.1), the Basic/Bearer one second',
  'fractional-numericdate':
    'iat and exp with fractional seconds (a NumericDate may be non-integer, RFC 7519 §2)',
  'connection-close': 'Connection: close on every response',
  'narrow-forbidden':
    'a forbidden scope is silently removed from the grant and the rest echoed; asked alone, api:read is granted (and echoed) instead (RFC 6749 §3.3 allows both)',
  'narrow-mixed-refuse-alone':
    'a forbidden scope next to an allowed one is removed (the rest echoed), alone it is refused with invalid_scope',
  'scope-required':
    'a request without scope is refused with invalid_scope (RFC 6749 §3.3 allows it instead of a default)',
  'opaque-vendor-tokens':
    'opaque tokens of a constant prefix and 40 random decimal digits (tcat_…: 133 bits, all digits at the end, yet no counter)',
  'assertion-skew-tolerance':
    'client assertions are accepted up to the maximum lifetime plus 60 s of clock tolerance',
  'opaque-tokens':
    'random opaque access tokens (256 bits), validated by the resource from a server-side map',
  'es256-access-tokens': 'access tokens signed with ES256 (the JWK Set holds an RSA and an EC key)',
  'typ-application-at-jwt':
    'the JWT header says typ application/at+jwt (RFC 9068 §2.1 allows the long form)',
  'aud-array': 'the aud claim is an array naming the resource and another API',
  'challenge-scope':
    'Bearer challenges with realm and scope, followed by a DPoP challenge in the same field and a Basic one in another',
  'bare-bearer-challenge':
    'a request without a token is challenged with a bare "Bearer" (no attributes)',
  'introspection-401-challenges':
    'introspection without client authentication: 401 invalid_client with a Basic and a Bearer challenge in one field',
  'introspection-inactive-cache':
    '{"active": false} with Cache-Control: private, max-age=0, Expires and Vary instead of no-store',
} as const;
export type QuirkId = keyof typeof QUIRKS;

export type Mode = 'ok' | DefectId | QuirkId;
/** The modes whose tokens are short-lived: those that test what happens after expiry. */
export const SHORT_LIVED: readonly Mode[] = [
  'short-lived-tokens',
  'expiry.refused-after-expiry',
  'expiry.expired-token-challenge',
  'introspection.expired-inactive',
  'introspection.unknown-token-inactive',
  'introspection.inactive-only-active',
  'challenge-variants',
  'multi-challenge',
];
export const MODES: readonly Mode[] = [
  'ok',
  ...(Object.keys(DEFECTS) as DefectId[]),
  ...(Object.keys(QUIRKS) as QuirkId[]),
];
const isMode = (s: string): s is Mode => (MODES as readonly string[]).includes(s);

export interface ClientCredentials {
  id: string;
  secret: string;
}

export interface KeyedClient {
  id: string;
  /** PEM (PKCS8) private key: the client's signing key, or the key of its TLS certificate. */
  keyPem: string;
}

export interface FaultServer {
  /** https://127.0.0.1:PORT */
  origin: string;
  /** http://127.0.0.1:PORT2: the same endpoints over plain HTTP. */
  httpOrigin: string;
  /** PEM of the run-time CA that issued the HTTPS listener's certificate. */
  caPem: string;
  clients: {
    basic: ClientCredentials;
    post: ClientCredentials;
    /** client_secret_jwt, HS256. */
    secretJwt: ClientCredentials;
    /** private_key_jwt, ES256. */
    privateKeyJwt: KeyedClient;
    /** tls_client_auth: a certificate from the same run-time CA, subject CN faults-mtls. */
    mtls: KeyedClient & { certPem: string };
    /** self_signed_tls_client_auth: a self-signed certificate, registered by its SHA-256 thumbprint. */
    selfSigned: KeyedClient & { certPem: string };
    /** client_secret_basic, registered DPoP-bound (RFC 9449 §5.2): its token requests need a proof. */
    dpop: ClientCredentials;
  };
  /** jwt-bearer grant (RFC 7523 §2.1): the issuer the server trusts and its signing key (PKCS8 PEM). */
  grantIssuer: { issuer: string; keyPem: string };
  /** Requests received by each listener. */
  requests: { https: number; http: number };
  tokenUrl(mode: Mode, scheme?: 'https' | 'http'): string;
  resourceUrl(mode: Mode, scheme?: 'https' | 'http'): string;
  close(): Promise<void>;
}

interface RegisteredClient {
  id: string;
  secret: string;
  method:
    | 'client_secret_basic'
    | 'client_secret_post'
    | 'client_secret_jwt'
    | 'private_key_jwt'
    | 'tls_client_auth'
    | 'self_signed_tls_client_auth';
  scopes: string[];
  /** private_key_jwt: the public key that verifies its assertions. */
  publicKey?: CryptoKey;
  /** self_signed_tls_client_auth: x5t#S256 of its registered certificate (RFC 8705 §2.2). */
  thumbprint?: string;
  /** RFC 9449 §5.2 dpop_bound_access_tokens: a token request without a proof is refused. */
  dpopBound?: boolean;
}

type Params = Map<string, string[]>;

/** How the client authenticated: the harness's probes produce each of these. */
type ClientAuth =
  | { kind: 'client_secret_basic' | 'client_secret_post'; id: string; secret: string }
  | { kind: 'assertion'; id: string | undefined; assertion: string }
  | { kind: 'public'; id: string }
  | { kind: 'none' };

class OAuthError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    readonly description: string,
    readonly challenge = false,
    /** Answer with an HTML error page instead of an OAuth error response (what some servers do). */
    readonly html = false,
    /** More response header fields (DPoP-Nonce). */
    readonly headers: Record<string, string> = {},
  ) {
    super(`${code}: ${description}`);
  }
}

/** An HTML error page (a 500 from a framework, a 403 from a proxy): not an OAuth error response. */
class HtmlError extends OAuthError {
  constructor(status: number, title: string) {
    super(status, 'html', title, false, true);
  }
}

/** application/x-www-form-urlencoded decoding of one value (RFC 6749 Appendix B): '+' is a space. */
function formDecode(value: string): string {
  return decodeURIComponent(value.replace(/\+/g, ' '));
}

function parseForm(text: string): Params {
  const params: Params = new Map();
  for (const [k, v] of new URLSearchParams(text)) params.set(k, [...(params.get(k) ?? []), v]);
  return params;
}

/** RFC 8705 §3.1 x5t#S256: base64url SHA-256 of the DER certificate. */
const x5tS256 = (der: ArrayBuffer | Buffer) =>
  createHash('sha256')
    .update(Buffer.from(der as ArrayBuffer))
    .digest('base64url');

/** The DER of the certificate the client presented on this request's connection, if any. */
function peerCertificate(req: IncomingMessage): Buffer | undefined {
  const socket = req.socket as Partial<TLSSocket>;
  const cert =
    typeof socket.getPeerCertificate === 'function' ? socket.getPeerCertificate() : undefined;
  return cert && Object.keys(cert).length > 0 ? cert.raw : undefined;
}

const b64json = (value: unknown) =>
  Buffer.from(JSON.stringify(value), 'utf8').toString('base64url');

/** Constant-time comparison of two secrets of any length. */
function sameSecret(a: string, b: string): boolean {
  const h = (s: string) => createHash('sha256').update(s, 'utf8').digest();
  return timingSafeEqual(h(a), h(b));
}

async function readBody(req: IncomingMessage, limit = 64 * 1024): Promise<string> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    total += chunk.length;
    if (total > limit)
      throw new OAuthError(400, 'invalid_request', 'the request body is too large');
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** The value of a `Basic` Authorization header, decoded per RFC 6749 §2.3.1 / Appendix B. */
function basicCredentials(header: string | undefined): ClientCredentials | undefined {
  if (header === undefined) return undefined;
  const m = /^basic +([A-Za-z0-9+/]+=*) *$/i.exec(header);
  if (!m?.[1])
    throw new OAuthError(401, 'invalid_client', 'malformed HTTP Basic credentials', true);
  const decoded = Buffer.from(m[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0)
    throw new OAuthError(401, 'invalid_client', 'malformed HTTP Basic credentials', true);
  try {
    return {
      id: formDecode(decoded.slice(0, colon)),
      secret: formDecode(decoded.slice(colon + 1)),
    };
  } catch {
    // A '%' not followed by two hex digits: the client skipped the Appendix B encoding.
    throw new OAuthError(
      401,
      'invalid_client',
      'HTTP Basic credentials are not form-urlencoded',
      true,
    );
  }
}

export async function startFaultServer(): Promise<FaultServer> {
  const ca = await createCa({ commonName: 'token-conformance faults CA' });
  const tls = await issueServerCert(ca, { ips: [HOST], dns: ['localhost'] });
  const { publicKey, privateKey } = await generateKeyPair('RS256', { extractable: true });
  const publicJwk = await exportJWK(publicKey);
  const kid = await calculateJwkThumbprint(publicJwk);
  // es256-access-tokens signs with this published EC key; jwt.signature with the unpublished "rogue"
  // RSA key; jwt.alg-allowed with an HMAC secret.
  const ec = await generateKeyPair('ES256', { extractable: true });
  const ecJwk = await exportJWK(ec.publicKey);
  const ecKid = await calculateJwkThumbprint(ecJwk);
  const rogue = await generateKeyPair('RS256', { extractable: true });
  const rogueKid = await calculateJwkThumbprint(await exportJWK(rogue.publicKey));
  const hmac = await generateSecret('HS256', { extractable: true });
  let opaqueCounter = 0;
  /** The constant part of the counter tokens of response.token-entropy-bound: long, so only the counter gives them away. */
  const counterPrefix = randomBytes(24).toString('base64url');

  // The Basic secret changes under form-urlencoding (' ', '+', '/', ':', '%'), and the id holds a ':'
  // (encoded as %3A), so a server (or harness) that skips Appendix B fails to authenticate.
  const basic: RegisteredClient = {
    id: 'faults:basic',
    secret: `${randomBytes(18).toString('base64url')} +/:%`,
    method: 'client_secret_basic',
    scopes: CLIENT_SCOPES,
  };
  const post: RegisteredClient = {
    id: 'faults-post',
    secret: randomBytes(24).toString('base64url'),
    method: 'client_secret_post',
    scopes: CLIENT_SCOPES,
  };
  const secretJwt: RegisteredClient = {
    id: 'faults-secret-jwt',
    secret: randomBytes(32).toString('base64url'),
    method: 'client_secret_jwt',
    scopes: CLIENT_SCOPES,
  };
  const pkjwtKeys = await generateKeyPair('ES256', { extractable: true });
  const privateKeyJwt: RegisteredClient = {
    id: 'faults-private-key-jwt',
    secret: '',
    method: 'private_key_jwt',
    scopes: CLIENT_SCOPES,
    publicKey: pkjwtKeys.publicKey,
  };
  const mtlsCert = await issueCert(ca, { commonName: MTLS_SUBJECT_CN, usage: 'client' });
  const mtls: RegisteredClient = {
    id: 'faults-mtls',
    secret: '',
    method: 'tls_client_auth',
    scopes: CLIENT_SCOPES,
  };
  const selfSignedCert = await createCa({ commonName: 'faults-self-signed' });
  const selfSigned: RegisteredClient = {
    id: 'faults-self-signed',
    secret: '',
    method: 'self_signed_tls_client_auth',
    scopes: CLIENT_SCOPES,
    thumbprint: x5tS256(selfSignedCert.cert.rawData),
  };
  const dpopClient: RegisteredClient = {
    id: 'faults-dpop',
    secret: randomBytes(24).toString('base64url'),
    method: 'client_secret_basic',
    scopes: CLIENT_SCOPES,
    dpopBound: true,
  };
  const registered = new Map(
    [basic, post, secretJwt, privateKeyJwt, mtls, selfSigned, dpopClient].map((c) => [c.id, c]),
  );
  /** dpop.cnf-jkt: the thumbprint of a key no proof uses. */
  const otherJkt = await calculateJwkThumbprint(
    await exportJWK((await generateKeyPair('ES256')).publicKey),
  );
  /** RFC 9449 §8: the nonce the token endpoint asks for (one per server run). */
  const dpopNonce = randomBytes(16).toString('base64url');
  /** jti values of accepted DPoP proofs (RFC 9449 §11.1), at the token endpoint and the resource. */
  const usedProofJti = new Set<string>();
  /** jti values of accepted client assertions, per client, until their exp (ms): replay protection. */
  const usedJti = new Map<string, number>();
  /** The trusted issuer of jwt-bearer grant assertions (ES256). */
  const grantIssuer = await generateKeyPair('ES256', { extractable: true });
  /** Opaque tokens of the opaque-token modes: token → expiry (ms). */
  const opaque = new Map<string, { expMs: number; payload: JWTPayload }>();
  /** The token-cache quirk's tokens by client and granted scope. */
  const tokenCache = new Map<string, { expMs: number; body: Record<string, unknown> }>();
  const OPAQUE_MODES: Mode[] = [
    'response.token-format',
    'response.token-entropy',
    'response.token-entropy-bound',
    'opaque-tokens',
    'opaque-vendor-tokens',
  ];
  const requests = { https: 0, http: 0 };

  function handlerFor(listener: 'https' | 'http', origin: () => string) {
    return (req: IncomingMessage, res: ServerResponse): void => {
      requests[listener] += 1;
      // Plain string split: `new URL()` would throw on a hostile request-target.
      const [pathPart = '', query = ''] = (req.url ?? '').split('?', 2);
      // RFC 8414 §3.1 puts the well-known segment before the issuer's path; OpenID after it.
      const m8414 = /^\/\.well-known\/oauth-authorization-server\/([^/]+)$/.exec(pathPart);
      const [, first = '', second = '', ...rest] = pathPart.split('/');
      const mode = m8414?.[1] ?? first;
      const alias =
        mode === 'token-endpoint-alias' && second === 'oauth' && rest.join('/') === 'token';
      const endpoint = m8414
        ? 'metadata'
        : rest.join('/') === 'openid-configuration' && second === '.well-known'
          ? 'metadata'
          : alias
            ? 'token'
            : rest.length > 0
              ? ''
              : second;
      if (
        !isMode(mode) ||
        !['token', 'resource', 'introspect', 'jwks', 'metadata'].includes(endpoint)
      ) {
        send(res, 'ok', 'error', 404, {
          error: 'invalid_request',
          error_description: 'no such endpoint',
        });
        return;
      }
      const base = `${origin()}/${mode}`;
      const work =
        endpoint === 'token'
          ? tokenEndpoint(mode, base, req, res, query)
          : endpoint === 'resource'
            ? resource(mode, base, req, res)
            : endpoint === 'introspect'
              ? introspect(mode, base, req, res, query)
              : endpoint === 'jwks'
                ? Promise.resolve(jwks(mode, res))
                : Promise.resolve(metadata(mode, base, res));
      work.catch((err: unknown) => {
        if (res.headersSent) {
          res.destroy();
          return;
        }
        if (err instanceof OAuthError) sendError(res, mode, err, undefined);
        else
          send(res, mode, 'error', 500, {
            error: 'server_error',
            error_description: 'unexpected error',
          });
      });
    };
  }

  /** Writes a JSON response with the headers of `kind`, as `mode` has them. */
  function send(
    res: ServerResponse,
    mode: Mode,
    kind: 'token' | 'error' | 'resource' | 'metadata',
    status: number,
    body: unknown,
    headers: Record<string, string | string[]> = {},
  ): void {
    const h: Record<string, string | string[]> = {
      'content-type': JSON_TYPE,
      'cache-control': 'no-store',
      pragma: 'no-cache',
    };
    if (mode === 'json-no-charset') h['content-type'] = 'application/json';
    if (mode === 'json-uppercase') h['content-type'] = 'Application/JSON;Charset=UTF-8';
    if (mode === 'cache-control-no-cache') h['cache-control'] = 'no-store, no-cache';
    if (mode === 'cache-control-split') {
      h['cache-control'] = ['private', 'No-Store, max-age=0'];
      h['pragma'] = 'No-Cache';
    }
    if (mode === 'connection-close') h['connection'] = 'close';
    if (kind === 'metadata') {
      // Metadata and keys are public and cacheable.
      h['cache-control'] = 'public, max-age=300';
      delete h['pragma'];
      if (mode === 'discovery.metadata') h['content-type'] = 'text/html; charset=utf-8';
    }
    if (kind === 'token') {
      if (mode === 'response.content-type-json') h['content-type'] = 'text/plain; charset=utf-8';
      if (mode === 'response.cache-control') h['cache-control'] = 'no-cache';
      if (mode === 'response.pragma') delete h['pragma'];
    }
    if (kind === 'error') {
      if (mode === 'errors.content-type-json') h['content-type'] = 'text/plain; charset=utf-8';
      if (mode === 'errors.cache-control') delete h['cache-control'];
    }
    res.writeHead(status, { ...h, ...headers });
    let text = JSON.stringify(body);
    // A repeated member only exists in the text: JSON.stringify of an object cannot write one.
    if (
      kind === 'token' &&
      mode === 'response.unique-members' &&
      typeof (body as Record<string, unknown>)['expires_in'] === 'number'
    ) {
      text = text.replace(
        /\}$/,
        `,"expires_in":${String((body as Record<string, unknown>)['expires_in'])}}`,
      );
    }
    res.end(text);
  }

  function sendError(
    res: ServerResponse,
    mode: Mode,
    e: OAuthError,
    auth: ClientAuth | undefined,
  ): void {
    if (e.html) {
      res.writeHead(e.status, { 'content-type': 'text/html; charset=utf-8' });
      res.end(
        `<!doctype html><title>${e.status} ${e.description}</title><h1>${e.description}</h1>`,
      );
      return;
    }
    let status = e.status;
    const headers: Record<string, string> = { ...e.headers };
    let challenge = e.challenge;
    if (e.code === 'invalid_client') {
      const basicUsed = auth?.kind === 'client_secret_basic' || auth === undefined;
      if (
        mode === 'errors.invalid-client-401-challenge' ||
        (mode === 'post-invalid-client-400' && !basicUsed)
      ) {
        status = 400;
        challenge = false;
      }
    }
    if (challenge) {
      headers['www-authenticate'] =
        mode === 'challenge-variants'
          ? `basic realm="${REALM}", charset="UTF-8"`
          : mode === 'multi-challenge'
            ? `Newauth realm="apps", type=1, title="Login to \\"apps\\"", Basic realm="${REALM}"`
            : mode === 'introspection-401-challenges'
              ? `Basic realm="${REALM}", Bearer realm="${REALM}"`
              : `Basic realm="${REALM}"`;
    }
    const body: Record<string, unknown> = { error: e.code };
    if (mode !== 'errors-bare')
      body['error_description'] =
        mode === 'errors.schema' ? `${e.description} (see "${e.code}")` : e.description;
    if (mode === 'error-uri') body['error_uri'] = `https://${HOST}/docs/errors#${e.code}`;
    if (mode === 'extra-fields')
      Object.assign(body, {
        error_codes: [70011],
        trace_id: randomBytes(8).toString('hex'),
        timestamp: new Date().toISOString(),
      });
    send(res, mode, 'error', status, body, headers);
  }

  function authenticate(
    mode: Mode,
    req: IncomingMessage,
    params: Params,
    queryParams: Params,
  ): ClientAuth {
    const one = (p: Params, name: string) => p.get(name)?.at(-1);
    const basicCreds = basicCredentials(req.headers.authorization);
    const bodyId = one(params, 'client_id');
    const bodySecret = one(params, 'client_secret');
    const queryId = one(queryParams, 'client_id');
    const querySecret = one(queryParams, 'client_secret');
    if (queryId !== undefined || querySecret !== undefined) {
      if (mode === 'grant.query-credentials-error-code')
        throw new HtmlError(500, 'Internal Server Error');
      if (mode !== 'grant.query-credentials-refused')
        throw new OAuthError(
          400,
          'invalid_request',
          'client credentials must not be sent in the request URI',
        );
      if (queryId === undefined || querySecret === undefined)
        throw new OAuthError(400, 'invalid_request', 'client_id and client_secret are both needed');
      return { kind: 'client_secret_post', id: queryId, secret: querySecret };
    }
    const assertion = one(params, 'client_assertion');
    const assertionType = one(params, 'client_assertion_type');
    if (assertion !== undefined || assertionType !== undefined) {
      if (basicCreds || bodySecret !== undefined)
        throw new OAuthError(
          400,
          'invalid_request',
          'more than one client authentication method was used',
        );
      if (assertionType !== CLIENT_ASSERTION_TYPE || assertion === undefined)
        throw new OAuthError(
          400,
          'invalid_request',
          'client_assertion and client_assertion_type must be sent together',
        );
      return { kind: 'assertion', id: bodyId, assertion };
    }
    if (basicCreds && bodySecret !== undefined) {
      if (mode === 'two-methods-invalid-client')
        throw new OAuthError(
          401,
          'invalid_client',
          'more than one client authentication method was used',
          true,
        );
      if (mode === 'grant.two-auth-methods-error-code')
        throw new OAuthError(
          400,
          'unauthorized_client',
          'more than one client authentication method was used',
        );
      if (mode !== 'grant.two-auth-methods-refused')
        throw new OAuthError(
          400,
          'invalid_request',
          'more than one client authentication method was used',
        );
    }
    if (basicCreds) {
      if (bodyId !== undefined && bodyId !== basicCreds.id)
        throw new OAuthError(400, 'invalid_request', 'client_id differs from the HTTP Basic user');
      return { kind: 'client_secret_basic', ...basicCreds };
    }
    if (bodySecret !== undefined) {
      if (bodyId === undefined)
        throw new OAuthError(400, 'invalid_request', 'client_secret without client_id');
      return { kind: 'client_secret_post', id: bodyId, secret: bodySecret };
    }
    if (bodyId !== undefined) return { kind: 'public', id: bodyId };
    return { kind: 'none' };
  }

  /** RFC 7523 §3: the checks a client assertion must pass, each one skipped by its own defect. */
  /** Which defect mode switches off which RFC 7523 §3 rule, for client assertions and for grant assertions. */
  interface AssertionRules {
    expired: Mode;
    audience: Mode;
    issuer: Mode;
    subject?: Mode;
    algNone: Mode;
    unknownKey: Mode;
    noJti?: Mode;
    farFuture: Mode;
    replay: Mode;
  }
  const CLIENT_ASSERTION_RULES: AssertionRules = {
    expired: 'client-auth.expired-assertion',
    audience: 'client-auth.wrong-audience',
    issuer: 'client-auth.wrong-issuer',
    subject: 'client-auth.wrong-subject',
    algNone: 'client-auth.alg-none',
    unknownKey: 'client-auth.unknown-key',
    noJti: 'client-auth.missing-jti',
    farFuture: 'client-auth.far-future-exp',
    replay: 'client-auth.replayed-jti',
  };
  const GRANT_ASSERTION_RULES: AssertionRules = {
    expired: 'grant.assertion-expired',
    audience: 'grant.assertion-wrong-audience',
    issuer: 'grant.assertion-wrong-issuer',
    algNone: 'grant.assertion-alg-none',
    unknownKey: 'grant.assertion-unknown-key',
    farFuture: 'grant.assertion-far-future-exp',
    replay: 'grant.assertion-replay',
  };

  /**
   * RFC 7523 §3: every rule an assertion must pass, each one switched off by its own defect mode only.
   * `issuer`/`subject` are what iss and sub must be; `key` verifies the signature.
   */
  async function verifyAssertion(
    mode: Mode,
    base: string,
    jwt: string,
    expect: {
      issuer: string;
      subject?: string;
      key: CryptoKey | Uint8Array;
      algorithms: string[];
      rules: AssertionRules;
    },
    refuse: (why: string, rule?: keyof AssertionRules) => never,
  ): Promise<JWTPayload> {
    const { rules } = expect;
    let header: { alg?: unknown };
    let claims: JWTPayload;
    try {
      header = decodeProtectedHeader(jwt);
      claims = decodeJwt(jwt);
    } catch {
      return refuse('not a JWT');
    }
    if (header.alg === 'none') {
      if (mode !== rules.algNone) refuse('unsigned (alg none)', 'algNone');
    } else if (mode !== rules.unknownKey) {
      try {
        // The signature only: every claim is checked below, so that each rule has its own defect.
        await compactVerify(jwt, expect.key, { algorithms: expect.algorithms });
      } catch {
        refuse('the signature does not verify', 'unknownKey');
      }
    }
    const now = Date.now() / 1000;
    if (mode !== rules.issuer && claims.iss !== expect.issuer)
      refuse('iss is not the expected issuer', 'issuer');
    if (expect.subject !== undefined && mode !== rules.subject && claims.sub !== expect.subject)
      refuse('sub is not the client', 'subject');
    if (typeof claims.sub !== 'string' || claims.sub === '') refuse('no sub');
    const aud = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
    if (mode !== rules.audience && !aud.includes(`${base}/token`) && !aud.includes(base))
      refuse('aud is not this server', 'audience');
    if (typeof claims.exp !== 'number') refuse('no exp');
    const exp = claims.exp!;
    if (mode !== rules.expired && exp <= now) refuse('expired', 'expired');
    const maxSeconds =
      mode === 'client-auth.assertion-max-lifetime'
        ? 3600
        : mode === 'assertion-skew-tolerance'
          ? MAX_ASSERTION_SECONDS + 60
          : MAX_ASSERTION_SECONDS;
    if (mode !== rules.farFuture && exp - now > maxSeconds)
      refuse(`valid for more than ${maxSeconds} s`, 'farFuture');
    if (typeof claims.jti !== 'string' || claims.jti === '') {
      if (mode !== rules.noJti) refuse('no jti', 'noJti');
    } else if (mode !== rules.replay) {
      const key = `${claims.iss} ${claims.jti}`;
      for (const [k, until] of usedJti) if (until < Date.now()) usedJti.delete(k);
      if (usedJti.has(key)) refuse('jti already used', 'replay');
      usedJti.set(key, Math.max(exp * 1000, Date.now()) + 60_000);
    }
    return claims;
  }

  /** client_secret_jwt / private_key_jwt: the client whose assertion this is, or invalid_client. */
  async function assertionClient(
    mode: Mode,
    base: string,
    auth: { id: string | undefined; assertion: string },
  ): Promise<RegisteredClient> {
    const refuse = (why: string, rule?: keyof AssertionRules): never => {
      // The "-error-code" defects refuse the right assertion with the wrong code (RFC 7523 §3.2 wants invalid_client).
      if (rule && mode === `${CLIENT_ASSERTION_RULES[rule]}-error-code`)
        throw new OAuthError(400, 'invalid_grant', `client assertion refused: ${why}`);
      throw new OAuthError(401, 'invalid_client', `client assertion refused: ${why}`, true);
    };
    let sub: unknown;
    try {
      sub = decodeJwt(auth.assertion).sub;
    } catch {
      return refuse('not a JWT');
    }
    const id = auth.id ?? (typeof sub === 'string' ? sub : undefined);
    const client = id === undefined ? undefined : registered.get(id);
    if (!client || (client.method !== 'client_secret_jwt' && client.method !== 'private_key_jwt'))
      return refuse('unknown client');
    const hmac = client.method === 'client_secret_jwt';
    await verifyAssertion(
      mode,
      base,
      auth.assertion,
      {
        issuer: client.id,
        subject: client.id,
        key: hmac ? new TextEncoder().encode(client.secret) : client.publicKey!,
        algorithms: hmac ? ['HS256', 'HS384', 'HS512'] : ['ES256'],
        rules: CLIENT_ASSERTION_RULES,
      },
      refuse,
    );
    return client;
  }

  /**
   * RFC 8705 §2.1: a certificate that chains to our CA with the registered subject (tls_client_auth),
   * or §2.2: exactly the registered self-signed certificate (self_signed_tls_client_auth).
   */
  function mtlsClient(
    mode: Mode,
    req: IncomingMessage,
    client: RegisteredClient,
  ): RegisteredClient {
    if (mode === 'client-auth.mtls-without-certificate') return client;
    const der = peerCertificate(req);
    if (!der) {
      if (mode === 'client-auth.mtls-without-certificate-error-code')
        throw new HtmlError(403, 'Forbidden');
      throw new OAuthError(401, 'invalid_client', 'no client certificate was presented', true);
    }
    const socket = req.socket as TLSSocket;
    const ok =
      client.method === 'tls_client_auth'
        ? socket.authorized && socket.getPeerCertificate().subject?.CN === MTLS_SUBJECT_CN
        : x5tS256(der) === client.thumbprint;
    if (!ok)
      throw new OAuthError(
        401,
        'invalid_client',
        'the client certificate is not the registered one',
        true,
      );
    return client;
  }

  /** The client the request authenticates, or an invalid_client error. */
  async function clientOf(
    mode: Mode,
    base: string,
    req: IncomingMessage,
    auth: ClientAuth,
  ): Promise<RegisteredClient> {
    if (auth.kind === 'assertion') return assertionClient(mode, base, auth);
    if (auth.kind === 'none') {
      if (mode === 'errors.no-client-auth')
        return { id: 'anonymous', secret: '', method: 'client_secret_post', scopes: CLIENT_SCOPES };
      if (mode === 'no-auth-invalid-request')
        throw new OAuthError(400, 'invalid_request', 'no client authentication was included');
      if (mode === 'errors.no-client-auth-error-code')
        throw new OAuthError(400, 'unauthorized_client', 'no client authentication was included');
      throw new OAuthError(401, 'invalid_client', 'no client authentication was included', true);
    }
    const client = registered.get(auth.id);
    if (!client) {
      if (mode === 'errors.unknown-client' && auth.kind !== 'public')
        return {
          id: auth.id,
          secret: auth.secret,
          method: 'client_secret_basic',
          scopes: CLIENT_SCOPES,
        };
      if (mode === 'errors.unknown-client-error-code')
        throw new OAuthError(400, 'access_denied', 'unknown client');
      throw new OAuthError(401, 'invalid_client', 'unknown client', true);
    }
    if (auth.kind === 'public') {
      if (client.method === 'tls_client_auth' || client.method === 'self_signed_tls_client_auth')
        return mtlsClient(mode, req, client);
      throw new OAuthError(401, 'invalid_client', 'the client must authenticate', true);
    }
    if (auth.kind !== client.method)
      throw new OAuthError(
        401,
        'invalid_client',
        `the client is registered for ${client.method}`,
        true,
      );
    if (mode !== 'errors.wrong-secret' && !sameSecret(auth.secret, client.secret)) {
      if (mode === 'errors.wrong-secret-error-code')
        throw new OAuthError(400, 'access_denied', 'client authentication failed');
      throw new OAuthError(401, 'invalid_client', 'client authentication failed', true);
    }
    return client;
  }

  /** Requested scope → granted scope, per RFC 6749 §3.3, or invalid_scope. */
  function grant(
    mode: Mode,
    client: RegisteredClient,
    raw: string | undefined,
  ): { requested: string[]; granted: string[] } {
    if (raw !== undefined && raw !== '' && !SCOPE_SYNTAX.test(raw))
      throw new OAuthError(400, 'invalid_scope', 'scope is not a list of scope-tokens');
    const requested = [...new Set((raw ?? '').split(' ').filter(Boolean))];
    if (requested.length === 0 && mode === 'scope-required')
      throw new OAuthError(400, 'invalid_scope', 'scope is required');
    if (requested.length === 0 && mode === 'scope.none-default-or-invalid-scope')
      throw new OAuthError(400, 'invalid_request', 'scope is required');
    // Mixed: something the client may have was asked for next to what it may not.
    const mixed = requested.some((s) => client.scopes.includes(s));
    const leaks =
      (mode === 'scope.forbidden' && mixed) || (mode === 'scope.ungrantable-alone' && !mixed);
    let granted: string[] = [];
    for (const s of requested) {
      if (!SERVER_SCOPES.includes(s))
        throw new OAuthError(400, 'invalid_scope', `unknown scope ${s}`);
      const allowed = client.scopes.includes(s) || (leaks && s === 'admin');
      if (allowed) granted.push(s);
      else if (mode === 'narrow-forbidden' || (mode === 'narrow-mixed-refuse-alone' && mixed))
        continue;
      else if (mode === 'scope.refused-with-invalid-scope')
        throw new OAuthError(403, 'access_denied', `the client may not have ${s}`);
      else throw new OAuthError(400, 'invalid_scope', `the client may not have ${s}`);
    }
    // Nothing grantable was asked for: this server ignores the request and grants its usual scope.
    if (mode === 'narrow-forbidden' && requested.length > 0 && granted.length === 0)
      granted = [CLIENT_SCOPES[0]!];
    if (mode === 'scope.requested-granted' || mode === 'scope.returned-when-different')
      granted = granted.filter((s) => s !== 'api:write');
    if (mode === 'scope.not-broader' && requested.length > 0) granted = [...client.scopes];
    if (mode === 'scope.default' && requested.length === 0) granted = ['api:read'];
    if (mode === 'scope.required' && requested.length === 0) granted = [...client.scopes];
    if (mode === 'scope-reordered') granted = [...granted].sort();
    return { requested, granted };
  }

  async function tokenEndpoint(
    mode: Mode,
    base: string,
    req: IncomingMessage,
    res: ServerResponse,
    query: string,
  ): Promise<void> {
    const queryParams = parseForm(query);
    let params: Params;
    if (req.method === 'GET' && mode === 'grant.get-refused') {
      params = queryParams;
    } else if (req.method !== 'POST') {
      if (mode === 'get-405-html') {
        res.writeHead(405, {
          allow: 'POST',
          'content-type': 'text/html; charset=utf-8',
          'cache-control': 'no-store',
        });
        res.end('<!doctype html><title>405</title><h1>Method Not Allowed</h1>');
        return;
      }
      send(
        res,
        mode,
        'error',
        405,
        { error: 'invalid_request', error_description: 'the token endpoint accepts POST only' },
        { allow: 'POST' },
      );
      return;
    } else {
      const type = (req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase();
      const text = await readBody(req);
      if (type === 'application/json') {
        // Lenient like some real servers: a JSON object is taken too (the JSON-only defect refuses form).
        let obj: unknown;
        try {
          obj = JSON.parse(text);
        } catch {
          throw new OAuthError(400, 'invalid_request', 'the body is not JSON');
        }
        if (!obj || typeof obj !== 'object' || Array.isArray(obj))
          throw new OAuthError(400, 'invalid_request', 'the body must be a JSON object');
        params = new Map(
          Object.entries(obj as Record<string, unknown>).map(([k, v]) => [
            k,
            [typeof v === 'string' ? v : JSON.stringify(v)],
          ]),
        );
      } else if (type !== 'application/x-www-form-urlencoded') {
        throw new OAuthError(
          400,
          'invalid_request',
          'the body must be application/x-www-form-urlencoded',
        );
      } else if (mode === 'grant.form-encoded-body') {
        throw new OAuthError(400, 'invalid_request', 'this endpoint takes a JSON body');
      } else {
        params = parseForm(text);
      }
    }
    let auth: ClientAuth | undefined;
    try {
      const repeated = [...params].find(([, v]) => v.length > 1)?.[0];
      if (repeated !== undefined && mode !== 'grant.repeated-parameter-not-accepted')
        throw new OAuthError(
          400,
          mode === 'grant.repeated-parameter' ? 'unsupported_grant_type' : 'invalid_request',
          `parameter ${repeated} is repeated`,
        );
      // The GET defect reads grant_type and scope from the query; the client authenticates with Basic.
      const viaGet = req.method === 'GET';
      auth = authenticate(mode, req, viaGet ? new Map() : params, viaGet ? new Map() : queryParams);
      const client = await clientOf(mode, base, req, auth);
      let grantType = params.get('grant_type')?.at(-1);
      if (
        (grantType === undefined || grantType === '') &&
        mode === 'grant.missing-grant-type-not-accepted'
      )
        grantType = 'client_credentials';
      if (
        grantType !== undefined &&
        grantType.startsWith('urn:example:') &&
        mode === 'grant.unknown-grant-type-not-accepted'
      )
        grantType = 'client_credentials';
      if (grantType === undefined || grantType === '') {
        if (mode === 'grant.missing-grant-type')
          throw new OAuthError(400, 'unsupported_grant_type', 'grant_type is missing');
        throw new OAuthError(
          mode === 'errors.status' ? 500 : 400,
          'invalid_request',
          'grant_type is missing',
        );
      }
      let subject = client.id;
      if (grantType === JWT_BEARER) {
        // RFC 7523 §2.1: the assertion is the grant; a bad one is invalid_grant (§3.1).
        if (mode === 'grant.jwt-bearer' && client.id === post.id)
          throw new OAuthError(400, 'unauthorized_client', 'the client may not use jwt-bearer');
        const assertion = params.get('assertion')?.at(-1);
        if (!assertion) throw new OAuthError(400, 'invalid_request', 'assertion is missing');
        const claims = await verifyAssertion(
          mode,
          base,
          assertion,
          {
            issuer: GRANT_ISSUER,
            key: grantIssuer.publicKey,
            algorithms: ['ES256'],
            rules: GRANT_ASSERTION_RULES,
          },
          (why, rule) => {
            if (rule && mode === `${GRANT_ASSERTION_RULES[rule]}-error-code`)
              throw new OAuthError(401, 'invalid_client', `grant assertion refused: ${why}`);
            throw new OAuthError(400, 'invalid_grant', `grant assertion refused: ${why}`);
          },
        );
        subject = claims.sub!;
      } else if (grantType !== 'client_credentials') {
        throw mode === 'grant.unknown-grant-type'
          ? new OAuthError(400, 'invalid_grant', `grant_type ${grantType} is not valid`)
          : new OAuthError(
              400,
              'unsupported_grant_type',
              `grant_type ${grantType} is not supported`,
            );
      }
      if (mode === 'grant.client-credentials' && client.id === post.id)
        throw new OAuthError(
          400,
          'unauthorized_client',
          'the client may not use client_credentials',
        );
      const { requested, granted } = grant(mode, client, params.get('scope')?.at(-1));
      const audience = resourceAudience(mode, base, params.get('resource'));
      const dpop = await tokenEndpointProof(mode, base, req, client);
      await issue(mode, base, client, subject, requested, granted, res, req, { audience, dpop });
    } catch (e) {
      if (e instanceof OAuthError) sendError(res, mode, e, auth);
      else throw e;
    }
  }

  /**
   * RFC 8707 §2: the audience a token for the requested resource gets (undefined: none requested),
   * or invalid_target for a resource this server does not serve.
   */
  function resourceAudience(
    mode: Mode,
    base: string,
    resources: string[] | undefined,
  ): string | string[] | undefined {
    if (!resources || resources.length === 0) return undefined;
    const ours = `${base}/resource`;
    if (mode === 'grant.resource-indicated-issued')
      throw new OAuthError(400, 'invalid_target', 'resource indicators are not accepted');
    const unknown = resources.find((r) => r !== ours);
    if (unknown !== undefined && mode !== 'grant.unknown-resource-refused')
      throw new OAuthError(
        400,
        mode === 'grant.unknown-resource-code' ? 'invalid_request' : 'invalid_target',
        'the requested resource is unknown',
      );
    if (mode === 'grant.resource-audience') return [ours, `${base}/other-api`];
    return resources.length === 1 ? resources[0] : resources;
  }

  /**
   * RFC 9449 §4.3 at the token endpoint: the thumbprint of a valid proof's key, undefined without a
   * proof (refused for the DPoP-bound client), or an error. Each check can be switched off by its
   * defect mode, and each refusal's code by the `-code` one.
   */
  async function tokenEndpointProof(
    mode: Mode,
    base: string,
    req: IncomingMessage,
    client: RegisteredClient,
  ): Promise<string | undefined> {
    const proof = req.headers['dpop'];
    if (Array.isArray(proof))
      throw new OAuthError(400, 'invalid_dpop_proof', 'several DPoP proofs');
    if (proof === undefined) {
      if (client.dpopBound && mode !== 'dpop.missing-proof-refused')
        throw new OAuthError(
          400,
          mode === 'dpop.missing-proof-code' ? 'unauthorized_client' : 'invalid_dpop_proof',
          'this client must send a DPoP proof',
        );
      return undefined;
    }
    const refuse = (slug: string, why: string): never => {
      throw new OAuthError(
        400,
        mode === `dpop.${slug}-code` ? 'invalid_request' : 'invalid_dpop_proof',
        `invalid DPoP proof: ${why}`,
      );
    };
    if (mode === 'dpop.token-issued') refuse('token-issued', 'DPoP is not enabled');
    const { jkt, claims } = await verifyProof(mode, proof, refuse);
    if (claims['htm'] !== req.method && mode !== 'dpop.wrong-htm-refused')
      refuse('wrong-htm', 'htm mismatch');
    if (claims['htu'] !== `${base}/token` && mode !== 'dpop.wrong-htu-refused')
      refuse('wrong-htu', 'htu mismatch');
    const now = Math.floor(Date.now() / 1000);
    if (
      (typeof claims.iat !== 'number' || Math.abs(now - claims.iat) > 60) &&
      mode !== 'dpop.stale-iat-refused'
    )
      refuse('stale-iat', 'iat is not recent');
    const jti = typeof claims.jti === 'string' ? claims.jti : '';
    if (jti === '') refuse('missing-jti', 'no jti');
    if (usedProofJti.has(`token ${jti}`) && mode !== 'dpop.replay-refused')
      refuse('replay', 'the proof was already used');
    // RFC 9449 §8: the nonce comes last, so a spoilt proof is refused for what it is.
    // dpop.stale-iat-refused is the classic server without nonces that never looks at iat.
    const noNonces = mode === 'dpop.nonce-policy' || mode === 'dpop.stale-iat-refused';
    if (!noNonces && claims['nonce'] !== dpopNonce)
      throw new OAuthError(
        mode === 'dpop.nonce-challenge' ? 401 : 400,
        'use_dpop_nonce',
        'a DPoP nonce is required',
        false,
        false,
        { 'dpop-nonce': dpopNonce },
      );
    usedProofJti.add(`token ${jti}`);
    return jkt;
  }

  /** A proof's signature, typ and public jwk (RFC 9449 §4.3 steps 4-7), with the defect modes' gaps. */
  async function verifyProof(
    mode: Mode,
    proof: string,
    refuse: (slug: string, why: string) => never,
  ): Promise<{ jkt: string; claims: JWTPayload }> {
    let header: ReturnType<typeof decodeProtectedHeader>;
    let claims: JWTPayload;
    try {
      header = decodeProtectedHeader(proof);
      claims = decodeJwt(proof);
    } catch {
      return refuse('malformed', 'not a JWT');
    }
    if (header.typ !== 'dpop+jwt') refuse('typ', 'typ is not dpop+jwt');
    const jwk = header.jwk;
    if (!jwk || typeof jwk !== 'object') return refuse('jwk', 'no jwk');
    const isPrivate = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'k'].some((m) => m in jwk);
    if (isPrivate && mode !== 'dpop.private-key-refused')
      refuse('private-key', 'the jwk is a private key');
    const { kty, crv, x, y, n, e } = jwk;
    const publicJwk = Object.fromEntries(
      Object.entries({ kty, crv, x, y, n, e }).filter(([, v]) => v !== undefined),
    ) as JWK;
    if (header.alg === 'none') {
      if (mode !== 'dpop.alg-none-refused') refuse('alg-none', 'alg none');
    } else if (mode !== 'dpop.bad-signature-refused') {
      try {
        await compactVerify(proof, await importJWK(publicJwk, header.alg));
      } catch {
        refuse('bad-signature', 'the signature does not verify');
      }
    }
    return { jkt: await calculateJwkThumbprint(publicJwk), claims };
  }

  async function issue(
    mode: Mode,
    base: string,
    client: RegisteredClient,
    subject: string,
    requested: string[],
    granted: string[],
    res: ServerResponse,
    req: IncomingMessage,
    extra: { audience?: string | string[] | undefined; dpop?: string | undefined } = {},
  ): Promise<void> {
    const cacheKey = `${client.id} ${granted.join(' ')}`;
    const cached = mode === 'token-cache' ? tokenCache.get(cacheKey) : undefined;
    if (cached && cached.expMs > Date.now()) {
      send(res, mode, 'token', 200, cached.body);
      return;
    }
    const base_ = SHORT_LIVED.includes(mode) ? SHORT_LIFETIME_SECONDS : LIFETIME_SECONDS;
    const lifetime = mode === 'expiry.expires-in-declared' ? base_ + 60 : base_;
    const nowMs = Date.now() + (mode === 'expiry.jwt-iat-current' ? -3600_000 : 0);
    // Rounded up: the token lives a full LIFETIME_SECONDS even on a busy machine (the fresh-token probe
    // follows the token requests), and the expiry probe (lifetime + 1 s after the response) still
    // comes after exp.
    const now = mode === 'fractional-numericdate' ? nowMs / 1000 : Math.ceil(nowMs / 1000);
    const iat = mode === 'expiry.jwt-lifetime' ? now - 8 : now;
    const exp = now + lifetime;
    const claimScope =
      mode === 'scope.jwt-claim-agrees' && granted.length > 1 ? granted.slice(0, -1) : granted;

    let accessToken: string;
    if (OPAQUE_MODES.includes(mode)) {
      accessToken =
        mode === 'response.token-entropy-bound'
          ? `${counterPrefix}-${String(++opaqueCounter).padStart(6, '0')}`
          : mode === 'response.token-entropy'
            ? randomBytes(12).toString('hex')
            : mode === 'opaque-vendor-tokens'
              ? `tcat_${Array.from({ length: 40 }, () => randomInt(10)).join('')}`
              : randomBytes(32).toString('base64url');
      opaque.set(accessToken, {
        expMs: Date.now() + lifetime * 1000,
        payload: {
          iss: base,
          sub: subject,
          client_id: client.id,
          exp,
          iat,
          ...(granted.length > 0 ? { scope: granted.join(' ') } : {}),
        },
      });
    } else {
      // RFC 9068 §2.2 claims, each spoilt by its own defect.
      const claims: JWTPayload = {
        iss: mode === 'jwt.iss' ? `${base}-elsewhere` : base,
        ...(mode === 'jwt.claims-well-formed'
          ? { sub: 42 as unknown as string }
          : { sub: subject }),
        aud:
          extra.audience ??
          (mode === 'jwt.aud'
            ? `${base}/other-resource`
            : mode === 'aud-array'
              ? [`${base}/resource`, `${base}/other-api`]
              : `${base}/resource`),
        client_id: mode === 'jwt.client-id' ? 'someone-else' : client.id,
        iat,
        exp,
        ...(mode === 'jwt.required-claims'
          ? {}
          : { jti: mode === 'jwt.jti-unique' ? 'jti-1' : randomBytes(16).toString('base64url') }),
        ...(claimScope.length > 0 ? { scope: claimScope.join(' ') } : {}),
      };
      // RFC 8705 §3: tokens of mTLS clients are bound to the certificate they presented.
      const der = client.method.endsWith('tls_client_auth') ? peerCertificate(req) : undefined;
      if (der && mode !== 'client-auth.certificate-bound-token')
        claims['cnf'] = { 'x5t#S256': x5tS256(der) };
      // RFC 9449 §6.1: a DPoP-bound token names the proof key's thumbprint.
      if (extra.dpop)
        claims['cnf'] = {
          jkt: mode === 'dpop.cnf-jkt' ? otherJkt : extra.dpop,
        };
      const typ =
        mode === 'jwt.typ'
          ? 'JWT'
          : mode === 'typ-application-at-jwt'
            ? 'application/at+jwt'
            : 'at+jwt';
      // Unsecured (RFC 7519 §6), with the typ it would otherwise have: only the alg is wrong.
      if (mode === 'jwt.alg-not-none')
        accessToken = `${b64json({ alg: 'none', typ })}.${b64json(claims)}.`;
      else if (mode === 'jwt.alg-allowed')
        accessToken = await new SignJWT(claims)
          .setProtectedHeader({ alg: 'HS256', typ })
          .sign(hmac);
      else if (mode === 'es256-access-tokens')
        accessToken = await new SignJWT(claims)
          .setProtectedHeader({ alg: 'ES256', typ, kid: ecKid })
          .sign(ec.privateKey);
      else if (mode === 'jwt.signature')
        accessToken = await new SignJWT(claims)
          .setProtectedHeader({ alg: 'RS256', typ, kid: rogueKid })
          .sign(rogue.privateKey);
      else
        accessToken = await new SignJWT(claims)
          .setProtectedHeader({ alg: 'RS256', typ, kid })
          .sign(privateKey);
    }
    if (mode === 'response.access-token-syntax') accessToken += '\t';

    const body: Record<string, unknown> = { access_token: accessToken };
    if (mode === 'lowercase-bearer') body['token_type'] = 'bearer';
    else if (mode === 'response.token-type') body['token_type'] = 'mac';
    else if (extra.dpop && mode !== 'dpop.token-type') body['token_type'] = 'DPoP';
    else if (mode !== 'response.schema') body['token_type'] = 'Bearer';
    if (mode === 'response.expires-in-integer') body['expires_in'] = lifetime + 0.5;
    else if (mode === 'response.expires-in-positive') body['expires_in'] = 0;
    else if (mode === 'remaining-lifetime') body['expires_in'] = lifetime - 1;
    else if (mode !== 'response.expires-in-present') body['expires_in'] = lifetime;
    const sameAsRequest =
      granted.length === requested.length && granted.every((s) => requested.includes(s));
    const omitScope =
      mode === 'scope.returned-when-different' ||
      ((mode === 'scope.echoed' || mode === 'omit-identical-scope') && sameAsRequest);
    if (granted.length > 0 && !omitScope)
      body['scope'] = mode === 'response.scope-syntax' ? granted : granted.join(' ');
    if (mode === 'grant.no-refresh-token')
      body['refresh_token'] = randomBytes(24).toString('base64url');
    if (mode === 'extra-fields') {
      Object.assign(body, {
        ext_expires_in: lifetime,
        'not-before-policy': 0,
        issued_token_type: 'urn:ietf:params:oauth:token-type:access_token',
        vendor: { region: 'eu-1', tags: ['a', 'b'] },
        session_state: null,
      });
    }
    if (mode === 'token-cache') tokenCache.set(cacheKey, { expMs: exp * 1000, body });
    send(res, mode, 'token', mode === 'response.status-200' ? 201 : 200, body);
  }

  /** RFC 8414 §2 metadata of the mode's issuer. */
  function metadata(mode: Mode, base: string, res: ServerResponse): void {
    const methods = [
      'client_secret_basic',
      'client_secret_post',
      'client_secret_jwt',
      'private_key_jwt',
      'tls_client_auth',
      'self_signed_tls_client_auth',
    ];
    const httpBase = `${httpOrigin}/${mode}`;
    send(res, mode, 'metadata', 200, {
      issuer: mode === 'discovery.issuer' ? `${base}/` : base,
      token_endpoint:
        mode === 'discovery.token-endpoint'
          ? `${base}/oauth2/token`
          : mode === 'token-endpoint-alias'
            ? `${base}/oauth/token`
            : `${base}/token`,
      jwks_uri: `${base}/jwks`,
      grant_types_supported:
        mode === 'discovery.grant-types-supported'
          ? ['authorization_code', 'refresh_token']
          : ['client_credentials', JWT_BEARER],
      token_endpoint_auth_methods_supported:
        mode === 'discovery.auth-methods-supported' ? methods.slice(0, 2) : methods,
      token_endpoint_auth_signing_alg_values_supported: ['HS256', 'ES256'],
      scopes_supported: SERVER_SCOPES,
      response_types_supported: [],
      mtls_endpoint_aliases: {
        token_endpoint:
          mode === 'discovery.mtls-endpoint-aliases' ? `${httpBase}/token` : `${base}/token`,
      },
      tls_client_certificate_bound_access_tokens: false,
    });
  }

  /** The access-token signing keys (RFC 7517 §5): public keys only, unless the defect says otherwise. */
  function jwks(mode: Mode, res: ServerResponse): void {
    const keys: JWK[] = [
      { ...publicJwk, kid, alg: 'RS256', use: 'sig' },
      { ...ecJwk, kid: ecKid, alg: 'ES256', use: 'sig' },
    ];
    if (mode === 'discovery.jwks')
      keys.push({
        kty: 'oct',
        kid: 'hmac',
        alg: 'HS256',
        k: randomBytes(32).toString('base64url'),
      });
    send(res, mode, 'metadata', 200, { keys });
  }

  function bearerChallenge(mode: Mode, error?: string, description?: string): string | string[] {
    if (mode === 'challenge-variants') {
      // Lower-case scheme, error before realm, a quoted comma and escaped quotes, and a DPoP
      // challenge in its own header field.
      return [
        'DPoP algs="ES256 PS256"',
        `bearer ${error ? `error="${error}", error_description="the token \\"${description ?? ''}\\", renew it", ` : ''}realm="${REALM}"`,
      ];
    }
    const bearer = `Bearer realm="${REALM}"${error ? `, error="${error}"` : ''}${description ? `, error_description="${description}"` : ''}`;
    // RFC 6750 §3: realm and scope are optional attributes; RFC 9110 §11.6.1: several challenges per field.
    if (mode === 'challenge-scope')
      return [
        `Bearer realm="${REALM}", scope="${RESOURCE_SCOPE} api:write"${error ? `, error="${error}"` : ''}, DPoP algs="ES256"`,
        `Basic realm="${REALM}"`,
      ];
    return mode === 'multi-challenge' ? `DPoP algs="ES256 PS256", ${bearer}` : bearer;
  }

  async function resource(
    mode: Mode,
    base: string,
    req: IncomingMessage,
    res: ServerResponse,
  ): Promise<void> {
    if (req.method !== 'GET') {
      send(res, mode, 'resource', 405, { error: 'invalid_request' }, { allow: 'GET' });
      return;
    }
    /** `challenge` null: no WWW-Authenticate at all (a defect). */
    const refuse = (
      status: number,
      error: string | undefined,
      description: string | undefined,
      challenge: string | string[] | null = bearerChallenge(mode, error, description),
    ) => {
      const headers: Record<string, string | string[]> =
        challenge === null ? {} : { 'www-authenticate': challenge };
      send(
        res,
        mode,
        'resource',
        status,
        error ? { error, error_description: description } : { error: 'unauthorized' },
        headers,
      );
    };
    const authorization = req.headers.authorization;
    if (authorization !== undefined && /^dpop(\s|$)/i.test(authorization)) {
      await dpopResource(mode, base, req, res, authorization);
      return;
    }
    if (authorization === undefined || !/^bearer(\s|$)/i.test(authorization)) {
      // RFC 6750 §3.1: no credentials → a challenge without error information.
      if (mode === 'resource.no-token-refused')
        send(res, mode, 'resource', 200, { ok: true, anonymous: true });
      else if (mode === 'resource.no-token-challenge') refuse(401, undefined, undefined, null);
      else if (mode === 'resource.no-token-no-error-code')
        refuse(401, 'invalid_token', 'no access token was presented');
      else if (mode === 'bare-bearer-challenge') refuse(401, undefined, undefined, 'Bearer');
      else refuse(401, undefined, undefined);
      return;
    }
    const m = /^Bearer +([A-Za-z0-9\-._~+/]+=*)$/i.exec(authorization);
    if (!m?.[1]) {
      refuse(400, 'invalid_request', 'malformed Bearer credentials');
      return;
    }
    let payload: JWTPayload;
    try {
      payload = await validate(mode, base, m[1], 'resource');
    } catch (e) {
      const forged = e instanceof joseErrors.JWSSignatureVerificationFailed;
      if (forged && mode === 'resource.tampered-token-refused') {
        payload = decodeJwt(m[1]); // the claims are trusted without their signature
      } else if (e instanceof joseErrors.JWTExpired) {
        refuse(
          401,
          'invalid_token',
          'the access token expired',
          mode === 'expiry.expired-token-challenge'
            ? null
            : bearerChallenge(mode, 'invalid_token', 'the access token expired'),
        );
        return;
      } else if (forged && mode === 'resource.tampered-token-challenge') {
        refuse(400, 'invalid_request', 'the access token signature is malformed');
        return;
      } else {
        refuse(401, 'invalid_token', 'the access token is invalid');
        return;
      }
    }
    // RFC 9449 §7.2: a DPoP-bound token is refused without the DPoP scheme and a proof.
    const cnf = payload['cnf'] as Record<string, unknown> | undefined;
    if (cnf?.['jkt'] !== undefined && mode !== 'dpop.resource-bearer-refused') {
      refuse(401, 'invalid_token', 'the access token is DPoP-bound');
      return;
    }
    // RFC 6749 §7: the token's scope must cover the resource (RFC 6750 §3.1 insufficient_scope, 403).
    const scopes = typeof payload['scope'] === 'string' ? payload['scope'].split(' ') : [];
    if (!scopes.includes(RESOURCE_SCOPE) && mode !== 'resource.insufficient-scope-refused') {
      if (mode === 'resource.insufficient-scope-challenge')
        refuse(401, 'invalid_token', 'the access token is not valid here');
      else refuse(403, 'insufficient_scope', `the access token lacks ${RESOURCE_SCOPE}`);
      return;
    }
    send(res, mode, 'resource', 200, {
      ok: true,
      client_id: payload['client_id'],
      scope: payload['scope'],
    });
  }

  /** RFC 9449 §7.1: a DPoP-bound token with a proof of its key (ath, htm, htu, iat, jti, cnf.jkt). */
  async function dpopResource(
    mode: Mode,
    base: string,
    req: IncomingMessage,
    res: ServerResponse,
    authorization: string,
  ): Promise<void> {
    const refuse = (error: string, description: string) =>
      send(
        res,
        mode,
        'resource',
        401,
        { error, error_description: description },
        { 'www-authenticate': `DPoP algs="ES256", error="${error}"` },
      );
    const token = /^DPoP +([A-Za-z0-9\-._~+/]+=*)$/i.exec(authorization)?.[1];
    const proof = req.headers['dpop'];
    if (mode === 'dpop.resource-accepts') return refuse('invalid_token', 'DPoP is not supported');
    if (!token || typeof proof !== 'string') return refuse('invalid_dpop_proof', 'no proof');
    let payload: JWTPayload;
    try {
      payload = await validate(mode, base, token, 'resource');
    } catch {
      return refuse('invalid_token', 'the access token is invalid');
    }
    try {
      const { jkt, claims } = await verifyProof(mode, proof, (_slug, why) => {
        throw new Error(why);
      });
      const now = Math.floor(Date.now() / 1000);
      const jti = typeof claims.jti === 'string' ? claims.jti : '';
      if (
        claims['htm'] !== req.method ||
        claims['htu'] !== `${base}/resource` ||
        typeof claims.iat !== 'number' ||
        Math.abs(now - claims.iat) > 60 ||
        jti === '' ||
        usedProofJti.has(`resource ${jti}`) ||
        claims['ath'] !== createHash('sha256').update(token).digest('base64url') ||
        (payload['cnf'] as Record<string, unknown> | undefined)?.['jkt'] !== jkt
      )
        throw new Error('the proof does not match the request or the token');
      usedProofJti.add(`resource ${jti}`);
    } catch (e) {
      return refuse('invalid_dpop_proof', (e as Error).message);
    }
    send(res, mode, 'resource', 200, { ok: true, client_id: payload['client_id'] });
  }

  /**
   * The claims of a token this mode issued, or an error (JWTExpired when only its time is up). The
   * resource and introspection trust what their own server issues in the mode: a defect is consistent.
   */
  async function validate(
    mode: Mode,
    base: string,
    token: string,
    by: 'resource' | 'introspection',
  ): Promise<JWTPayload> {
    const ignoreExp =
      (by === 'resource' && mode === 'expiry.refused-after-expiry') ||
      (by === 'introspection' && mode === 'introspection.expired-inactive');
    if (OPAQUE_MODES.includes(mode)) {
      const entry = opaque.get(token);
      if (!entry) throw new Error('unknown token');
      if (Date.now() >= entry.expMs && !ignoreExp)
        throw new joseErrors.JWTExpired('expired', entry.payload);
      return entry.payload;
    }
    const options = {
      issuer: mode === 'jwt.iss' ? `${base}-elsewhere` : base,
      // Only the resource is an audience; the server introspects its own tokens whatever their aud.
      ...(by === 'resource'
        ? {
            audience:
              mode === 'grant.token-accepted-at-resource' || mode === 'jwt.aud'
                ? `${base}/other-resource`
                : `${base}/resource`,
          }
        : {}),
      ...(mode === 'jwt.typ' ? {} : { typ: 'at+jwt' }),
      // No clock tolerance: a token is refused from the second its exp is reached.
      ...(mode === 'expiry.jwt-iat-current'
        ? { currentDate: new Date(Date.now() - 3600_000) }
        : {}),
      ...(ignoreExp ? { clockTolerance: '1 day' } : {}),
    };
    const [key, alg]: [CryptoKey | Uint8Array, string] =
      mode === 'jwt.alg-allowed'
        ? [hmac, 'HS256']
        : mode === 'es256-access-tokens'
          ? [ec.publicKey, 'ES256']
          : mode === 'jwt.signature'
            ? [rogue.publicKey, 'RS256']
            : [publicKey, 'RS256'];
    const { payload } =
      mode === 'jwt.alg-not-none'
        ? UnsecuredJWT.decode(token, options)
        : await jwtVerify(token, key, { ...options, algorithms: [alg] });
    return payload;
  }

  /** RFC 7662: any registered client may introspect; an invalid or expired token is just inactive. */
  async function introspect(
    mode: Mode,
    base: string,
    req: IncomingMessage,
    res: ServerResponse,
    query: string,
  ): Promise<void> {
    if (req.method !== 'POST') {
      send(
        res,
        mode,
        'error',
        405,
        { error: 'invalid_request', error_description: 'introspection accepts POST only' },
        { allow: 'POST' },
      );
      return;
    }
    const type = (req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase();
    const params = parseForm(await readBody(req));
    let auth: ClientAuth | undefined;
    try {
      if (type !== 'application/x-www-form-urlencoded')
        throw new OAuthError(
          400,
          'invalid_request',
          'the body must be application/x-www-form-urlencoded',
        );
      auth = authenticate(mode, req, params, parseForm(query));
      // RFC 7662 §2.1: the caller must be authorized. Refused here, whatever the token endpoint's
      // defect mode does with such requests; only the introspection defects answer differently.
      if (auth.kind === 'none' && mode !== 'introspection.requires-authentication') {
        if (mode === 'introspection.unauthenticated-error')
          throw new OAuthError(403, 'access_denied', 'introspection requires authorization');
        if (mode === 'no-auth-invalid-request')
          throw new OAuthError(400, 'invalid_request', 'no client authentication was included');
        throw new OAuthError(401, 'invalid_client', 'no client authentication was included', true);
      }
      if (auth.kind !== 'none') await clientOf(mode, base, req, auth);
      // Trimmed like an Authorization header is (response.access-token-syntax hands out a trailing TAB).
      const token = params.get('token')?.at(-1)?.trim();
      if (!token) throw new OAuthError(400, 'invalid_request', 'token is missing');
      let payload: JWTPayload | undefined;
      let expired = false;
      try {
        payload =
          mode === 'introspection.fresh-active'
            ? undefined
            : await validate(mode, base, token, 'introspection');
      } catch (e) {
        payload = undefined;
        expired = e instanceof joseErrors.JWTExpired;
      }
      if (!payload && !expired && mode === 'introspection.unknown-token-inactive')
        throw new OAuthError(400, 'invalid_token', 'unknown token');
      const inactive =
        mode === 'introspection.inactive-only-active'
          ? { active: false, reason: expired ? 'the token expired' : 'unknown token' }
          : { active: false };
      const body = payload
        ? {
            active: true,
            token_type: 'Bearer',
            ...payload,
            ...(mode === 'introspection.agrees-with-token-response'
              ? { client_id: 'someone-else' }
              : {}),
          }
        : inactive;
      const cacheable: Record<string, string> =
        !payload && mode === 'introspection-inactive-cache'
          ? { 'cache-control': 'private, max-age=0', expires: '0', vary: 'Authorization' }
          : {};
      send(res, mode, 'token', 200, body, cacheable);
    } catch (e) {
      if (e instanceof OAuthError) sendError(res, mode, e, auth);
      else throw e;
    }
  }

  let httpsOrigin = '';
  let httpOrigin = '';
  // Client certificates are asked for, never required: only the tls_client_auth client must send one.
  const https = createHttpsServer(
    {
      key: tls.keyPem,
      cert: tls.certPem,
      requestCert: true,
      rejectUnauthorized: false,
      ca: [ca.certPem],
    },
    handlerFor('https', () => httpsOrigin),
  );
  const http: Server = createHttpServer(handlerFor('http', () => httpOrigin));
  const listen = (s: Server) =>
    new Promise<number>((resolve, reject) => {
      s.once('error', reject);
      s.listen(0, HOST, () => {
        s.off('error', reject);
        resolve((s.address() as AddressInfo).port);
      });
    });
  const closeOne = (s: Server) =>
    new Promise<void>((resolve) => {
      if (!s.listening) {
        resolve();
        return;
      }
      s.close(() => resolve());
      s.closeAllConnections();
    });
  try {
    httpsOrigin = `https://${HOST}:${await listen(https)}`;
    httpOrigin = `http://${HOST}:${await listen(http)}`;
  } catch (e) {
    await Promise.all([closeOne(https), closeOne(http)]);
    throw e;
  }

  const url = (mode: Mode, what: string, scheme: 'https' | 'http') =>
    `${scheme === 'https' ? httpsOrigin : httpOrigin}/${mode}/${what}`;
  return {
    origin: httpsOrigin,
    httpOrigin,
    caPem: ca.certPem,
    clients: {
      basic: { id: basic.id, secret: basic.secret },
      post: { id: post.id, secret: post.secret },
      secretJwt: { id: secretJwt.id, secret: secretJwt.secret },
      privateKeyJwt: { id: privateKeyJwt.id, keyPem: await exportPKCS8(pkjwtKeys.privateKey) },
      mtls: { id: mtls.id, keyPem: mtlsCert.keyPem, certPem: mtlsCert.certPem },
      selfSigned: {
        id: selfSigned.id,
        keyPem: selfSignedCert.keyPem,
        certPem: selfSignedCert.certPem,
      },
      dpop: { id: dpopClient.id, secret: dpopClient.secret },
    },
    grantIssuer: { issuer: GRANT_ISSUER, keyPem: await exportPKCS8(grantIssuer.privateKey) },
    requests,
    tokenUrl: (mode, scheme = 'https') => url(mode, 'token', scheme),
    resourceUrl: (mode, scheme = 'https') => url(mode, 'resource', scheme),
    close: async () => {
      await Promise.all([closeOne(https), closeOne(http)]);
    },
  };
}
