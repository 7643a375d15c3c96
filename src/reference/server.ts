/**
 * Embedded reference OAuth 2.0 authorization server: a real oidc-provider instance
 * (client_credentials, JWT access tokens per RFC 9068) plus a tiny RFC 6750 protected
 * resource, both served over HTTPS on 127.0.0.1 with a CA generated for this run only.
 *
 * Token endpoint behaviour is deliberately left to oidc-provider (it is the certified
 * reference); only deployment policy (clients, scopes, TTLs, keys) is configured here.
 * Our own code covers only what oidc-provider leaves to a deployment: reading the TLS peer
 * certificate and matching it (RFC 8705), the RFC 7523 §2.1 assertion check of the jwt-bearer
 * grant, the resource server (including certificate-bound tokens), and introspection of JWT
 * access tokens, which oidc-provider refuses by design (unsupported_token_type).
 */
import { hash, randomBytes, X509Certificate } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server, type ServerOptions } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TLSSocket } from 'node:tls';
import {
  calculateJwkThumbprint,
  createLocalJWKSet,
  decodeProtectedHeader,
  EmbeddedJWK,
  errors as joseErrors,
  exportJWK,
  exportPKCS8,
  generateKeyPair,
  importX509,
  jwtVerify,
  type JWK,
  type JWTPayload,
} from 'jose';
import type {
  Adapter,
  AdapterPayload,
  ClientMetadata,
  Configuration,
  KoaContextWithOIDC,
  ResourceServer,
  TokenEndpointGrantContext,
} from 'oidc-provider';
import {
  certificateMatches,
  createCa,
  createSelfSignedCert,
  issueCert,
  issueServerCert,
  subjectDn,
  type CertificateAuthority,
} from './certs.js';

export interface ReferenceOptions {
  /** Lifetime of issued access tokens (and so `expires_in`). Default 5 s. */
  accessTokenTtlSeconds?: number;
  /**
   * The deployment choices below exist so that two references can differ in exactly the ways a
   * migration can (the comparison's end-to-end test); each default is the reference as it always was.
   */
  /** Access tokens as JWTs (RFC 9068) or opaque handles oidc-provider stores. Default 'jwt'. */
  accessTokenFormat?: 'jwt' | 'opaque';
  /** The token response carries the granted scope (oidc-provider's behaviour). Default true; false drops it. */
  scopeEcho?: boolean;
  /**
   * A refresh_token member in every successful token response. oidc-provider never issues one
   * for client_credentials, so this is a random handle that no grant redeems: enough for a client
   * (and the harness) to see one come. Default false.
   */
  refreshToken?: boolean;
  /**
   * The status of the invalid_client answer when a registered client sends a wrong secret in the
   * body (client_secret_post). oidc-provider answers 401; RFC 6749 §5.2 allows 400 there, as some
   * servers do. Default 401.
   */
  wrongBodySecretStatus?: 400 | 401;
}

export interface ReferenceServer {
  /** Environment variables the reference descriptor (providers/reference.yaml) reads via ${env:NAME}. */
  env: Record<string, string>;
  /** Secrets among env values (client secrets), so callers can register them for redaction. */
  secrets: string[];
  /** Every request received, as `METHOD /path` (no query): tests count what reached which endpoint. */
  requests: string[];
  close(): Promise<void>;
}

const HOST = '127.0.0.1';
const RESOURCE_PATH = '/api/resource';
const REALM = 'reference';
const SCOPES = ['api:read', 'api:write', 'admin'];
const CLIENT_SCOPE = 'api:read api:write';
/** The scope the protected resource requires (providers/*.yaml resource.requiredScope). */
const RESOURCE_SCOPE = 'api:read';
/** RFC 7523 §2.1 assertion grant. */
const JWT_BEARER = 'urn:ietf:params:oauth:grant-type:jwt-bearer';
const ASSERTION_ISSUER = 'ref-assertion-issuer';
/** Longest accepted remaining lifetime (exp - now) of a jwt-bearer assertion. */
const MAX_ASSERTION_LIFETIME_SECONDS = 3600;
/** Same as oidc-provider's default clockTolerance, which it applies to client assertions. */
const ASSERTION_CLOCK_TOLERANCE_SECONDS = 15;
/**
 * The authorization-code clients' redirect URI. Never loaded: the harness takes the code from the
 * browser's navigation to it (providers/reference-authorization-code.yaml).
 */
const REDIRECT_URI = 'https://client.example.org/cb';
/** What the authorization-code clients may ask for: OpenID scopes plus the resource's. */
const AUTH_CODE_CLIENT_SCOPE = `openid offline_access ${CLIENT_SCOPE}`;
const INTERACTION_PATH = '/interaction/';
/** Lifetime of an authorization code and of a refresh token (RFC 6749 §4.1.2: codes short-lived). */
const AUTH_CODE_TTL_SECONDS = 60;
const REFRESH_TOKEN_TTL_SECONDS = 600;

type OidcProviderModule = typeof import('oidc-provider');
let oidcProviderModule: Promise<OidcProviderModule> | undefined;

/**
 * oidc-provider prints "Unsupported runtime" at import time on any Node release older than
 * 22 LTS; this project targets Node >= 20.19, where it works. Drop exactly that one line
 * (and nothing else) so the harness output stays clean. Module loading happens once.
 */
export function loadOidcProvider(): Promise<OidcProviderModule> {
  oidcProviderModule ??= (async () => {
    const original = console.warn;
    console.warn = (...args: unknown[]): void => {
      if (
        typeof args[0] === 'string' &&
        args[0].includes('oidc-provider WARNING: Unsupported runtime')
      )
        return;
      original.apply(console, args);
    };
    try {
      return await import('oidc-provider');
    } finally {
      console.warn = original;
    }
  })();
  return oidcProviderModule;
}

/**
 * Minimal in-process storage. Supplying any adapter avoids oidc-provider's "development-only
 * in-memory adapter" warning; with JWT access tokens little is ever stored anyway.
 */
export function memoryAdapterFactory(): (name: string) => Adapter {
  const store = new Map<string, { payload: AdapterPayload; expiresAt?: number }>();
  return (name) => {
    const key = (id: string): string => `${name}:${id}`;
    const get = (id: string): AdapterPayload | undefined => {
      const entry = store.get(key(id));
      if (entry?.expiresAt !== undefined && entry.expiresAt <= Date.now()) {
        store.delete(key(id));
        return undefined;
      }
      return entry?.payload;
    };
    const findBy = (field: 'userCode' | 'uid', value: string): AdapterPayload | undefined => {
      for (const [k, { payload }] of store) {
        if (k.startsWith(`${name}:`) && payload[field] === value) return payload;
      }
      return undefined;
    };
    return {
      upsert: async (id, payload, expiresIn) => {
        store.set(key(id), {
          payload,
          expiresAt: expiresIn ? Date.now() + expiresIn * 1000 : undefined,
        });
      },
      find: async (id) => get(id),
      findByUserCode: async (userCode) => findBy('userCode', userCode),
      findByUid: async (uid) => findBy('uid', uid),
      consume: async (id) => {
        const payload = get(id);
        if (payload) payload.consumed = Math.floor(Date.now() / 1000);
      },
      destroy: async (id) => {
        store.delete(key(id));
      },
      revokeByGrantId: async (grantId) => {
        for (const [k, { payload }] of store) if (payload.grantId === grantId) store.delete(k);
      },
    };
  };
}

/** RFC 6750 §3 challenge; auth-param values must be quoted-string safe (no `"` or `\`). */
function bearerChallenge(error?: string, description?: string, scope?: string): string {
  let challenge = `Bearer realm="${REALM}"`;
  if (error) challenge += `, error="${error}"`;
  if (description) challenge += `, error_description="${description.replace(/["\\]/g, "'")}"`;
  if (scope) challenge += `, scope="${scope}"`;
  return challenge;
}

function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  res.writeHead(status, {
    'content-type': 'application/json',
    'cache-control': 'no-store',
    ...headers,
  });
  res.end(JSON.stringify(body));
}

/** A small request body (the login form), at most 16 KiB. */
async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    total += chunk.length;
    if (total > 16 * 1024) throw new Error('request body too large');
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** The reference's login form: what the descriptor's login steps fill in and submit. */
function loginPage(action: string, failed: boolean): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Sign in</title></head>
<body><main><h1>Sign in to the reference</h1>${failed ? '<p role="alert">Wrong username or password.</p>' : ''}
<form method="post" action="${action}" autocomplete="off">
<label>Username <input name="username" type="text" required></label>
<label>Password <input name="password" type="password" required></label>
<button type="submit">Sign in</button>
</form></main></body></html>
`;
}

/** RFC 6750 §2.1 credentials syntax: "Bearer" 1*SP b64token. */
const BEARER = /^Bearer +([A-Za-z0-9\-._~+/]+=*)$/i;
/** RFC 9449 §7.1: "DPoP" 1*SP token68. */
const DPOP = /^DPoP +([A-Za-z0-9\-._~+/]+=*)$/i;
/** The proof algorithms the reference accepts (token endpoint and resource alike). */
const DPOP_ALGS = ['ES256', 'Ed25519', 'EdDSA', 'RS256', 'PS256'] as const;
/** How far a resource proof's iat may be from now (the resource sends no nonces). */
const DPOP_IAT_WINDOW_SECONDS = 60;

/** RFC 9449 §7.1 challenge of the DPoP scheme. */
function dpopChallenge(error?: string, description?: string): string {
  let challenge = `DPoP algs="${DPOP_ALGS.join(' ')}"`;
  if (error) challenge += `, error="${error}"`;
  if (description) challenge += `, error_description="${description.replace(/["\\]/g, "'")}"`;
  return challenge;
}

export async function startReference(options: ReferenceOptions = {}): Promise<ReferenceServer> {
  const ttl = options.accessTokenTtlSeconds ?? 5;
  if (!Number.isSafeInteger(ttl) || ttl <= 0)
    throw new Error('accessTokenTtlSeconds must be a positive integer');
  const deployment: Deployment = {
    accessTokenFormat: options.accessTokenFormat ?? 'jwt',
    scopeEcho: options.scopeEcho ?? true,
    refreshToken: options.refreshToken ?? false,
    wrongBodySecretStatus: options.wrongBodySecretStatus ?? 401,
  };

  // TLS material for this run only. Everything a client needs (CA, client keys and certificates)
  // goes to a private temporary directory that close() removes.
  const ca = await createCa();
  const tls = await issueServerCert(ca, { ips: [HOST], dns: ['localhost'] });
  const dir = await mkdtemp(join(tmpdir(), 'tc-ref-'));
  const caFile = join(dir, 'ca.pem');

  // Both listeners ask for a client certificate (RFC 8705) but never require one, and verify it
  // against the run-time CA only: `authorized` on the socket then says whether a presented
  // certificate chains to it (tls_client_auth); self-signed ones are still accepted (§2.2).
  const serverOptions: ServerOptions = {
    key: tls.keyPem,
    cert: tls.certPem,
    ca: ca.certPem,
    requestCert: true,
    rejectUnauthorized: false,
  };
  // The issuer embeds the port, so listen first and attach the application afterwards.
  const route: { handler?: (req: IncomingMessage, res: ServerResponse) => void } = {};
  const requests: string[] = [];
  const dispatch = (req: IncomingMessage, res: ServerResponse): void => {
    requests.push(`${req.method ?? '?'} ${(req.url ?? '').split('?')[0]}`);
    if (route.handler) route.handler(req, res);
    else sendJson(res, 503, { error: 'temporarily_unavailable' });
  };
  const server: Server = createServer(serverOptions, dispatch);
  // RFC 8705 §5 mtls_endpoint_aliases: a second origin (another port) serving the same application.
  const mtlsServer: Server = createServer(serverOptions, dispatch);
  const listening: Server[] = [];
  let closed = false;
  const close = async (): Promise<void> => {
    if (closed) return;
    closed = true;
    await Promise.all(
      listening.map((s) => {
        const done = new Promise<void>((resolve) => s.close(() => resolve()));
        s.closeAllConnections();
        return done;
      }),
    );
    await rm(dir, { recursive: true, force: true });
  };
  const listen = async (s: Server): Promise<string> => {
    await new Promise<void>((resolve, reject) => {
      s.once('error', reject);
      s.listen(0, HOST, () => {
        s.off('error', reject);
        resolve();
      });
    });
    listening.push(s);
    return `https://${HOST}:${(s.address() as AddressInfo).port}`;
  };

  try {
    await writeFile(caFile, ca.certPem, { mode: 0o600 });
    const issuer = await listen(server);
    const mtlsOrigin = await listen(mtlsServer);
    const app = await createApp({ issuer, mtlsOrigin, ttl, ca, dir, deployment });
    route.handler = app.handler;
    return { env: { ...app.env, TC_REF_CA_FILE: caFile }, secrets: app.secrets, requests, close };
  } catch (err) {
    await close();
    throw err;
  }
}

type Deployment = Required<Omit<ReferenceOptions, 'accessTokenTtlSeconds'>>;

interface AppOptions {
  issuer: string;
  /** Origin of the listener advertised in mtls_endpoint_aliases. */
  mtlsOrigin: string;
  ttl: number;
  ca: CertificateAuthority;
  /** The run's private temporary directory (key and certificate files go there). */
  dir: string;
  deployment: Deployment;
}

/** The TLS client certificate of the connection a request came on, if one was presented. */
function peerCertificate(socket: Socket): X509Certificate | undefined {
  return socket instanceof TLSSocket ? socket.getPeerX509Certificate() : undefined;
}

/** RFC 8705 §3.1 x5t#S256: base64url SHA-256 of the DER certificate. */
function certificateThumbprint(cert: X509Certificate): string {
  return hash('sha256', cert.raw, 'base64url');
}

/** Compact JWS (what our access tokens are), as opposed to an opaque token. */
function isJws(token: string): boolean {
  try {
    decodeProtectedHeader(token);
    return true;
  } catch {
    return false;
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

async function writePrivate(file: string, content: string): Promise<string> {
  await writeFile(file, content, { mode: 0o600 });
  return file;
}

/** A public JWK with kid = its RFC 7638 thumbprint, and the private key as PKCS#8 PEM. */
async function signingKey(
  alg: 'RS256' | 'ES256' | 'Ed25519',
): Promise<{ publicJwk: JWK; privateJwk: JWK; pkcs8: string; kid: string }> {
  const { publicKey, privateKey } = await generateKeyPair(alg, { extractable: true });
  const publicJwk = await exportJWK(publicKey);
  const kid = await calculateJwkThumbprint(publicJwk);
  return {
    publicJwk: { ...publicJwk, kid, use: 'sig' },
    privateJwk: { ...(await exportJWK(privateKey)), kid },
    pkcs8: await exportPKCS8(privateKey),
    kid,
  };
}

/** The oidc-provider instance plus the protected resource, for an already known issuer. */
async function createApp({ issuer, mtlsOrigin, ttl, ca, dir, deployment }: AppOptions): Promise<{
  handler: (req: IncomingMessage, res: ServerResponse) => void;
  env: Record<string, string>;
  secrets: string[];
}> {
  const { default: Provider, errors } = await loadOidcProvider();
  const resourceUrl = `${issuer}${RESOURCE_PATH}`;
  const mtlsTokenUrl = `${mtlsOrigin}/token`;

  // Access-token signing key, generated per run.
  const { publicKey, privateKey } = await generateKeyPair('RS256', { extractable: true });
  const jwk = await exportJWK(privateKey);
  jwk.kid = await calculateJwkThumbprint(jwk);
  jwk.alg = 'RS256';
  jwk.use = 'sig';

  const basic = {
    id: 'ref-basic',
    // '+', '/', ':' and '%' all change under application/x-www-form-urlencoded, so a client
    // that skips the RFC 6749 Appendix B encoding before base64 (§2.3.1) fails to authenticate.
    secret: `${randomBytes(32).toString('base64url')}+/:%`,
  };
  const post = { id: 'ref-post', secret: randomBytes(32).toString('base64url') };
  // 64 random bytes: long enough for every HS* alg (RFC 7518 §3.2 wants a key >= the hash size).
  const jwtHs = { id: 'ref-jwt-hs', secret: randomBytes(64).toString('base64url') };
  const pkjwt = { id: 'ref-pkjwt' };
  const mtls = { id: 'ref-mtls' };
  const selfSigned = { id: 'ref-self-signed' };
  const jwtBearer = { id: 'ref-jwt-bearer' };
  // authorization_code + PKCE + refresh_token (issue 12): a confidential client, and another one
  // registered for the same redirect URI (a code or refresh token presented by the wrong client).
  const authCode = { id: 'ref-auth-code', secret: randomBytes(32).toString('base64url') };
  const authCodeOther = {
    id: 'ref-auth-code-other',
    secret: randomBytes(32).toString('base64url'),
  };
  // The test user of the login form; the password is generated per run.
  const user = { username: 'alice', password: randomBytes(18).toString('base64url') };
  // RFC 9449 §5.2 dpop_bound_access_tokens: this client's token requests must carry a DPoP proof.
  const dpop = { id: 'ref-dpop', secret: randomBytes(32).toString('base64url') };

  // private_key_jwt keys: one RSA key (RS256 and PS256; no alg pinned), P-256 and Ed25519.
  const [rsa, ec, ed, assertion, mtlsCert, selfSignedCert] = await Promise.all([
    signingKey('RS256'),
    signingKey('ES256'),
    signingKey('Ed25519'),
    signingKey('RS256'),
    issueCert(ca, { commonName: mtls.id, usage: 'client' }),
    createSelfSignedCert({ commonName: selfSigned.id, usage: 'client' }),
  ]);
  // The jwt-bearer grant trusts exactly this key, and only for RS256.
  const assertionKeys = createLocalJWKSet({ keys: [{ ...assertion.publicJwk, alg: 'RS256' }] });
  const selfSignedX509 = await importX509(selfSignedCert.certPem, 'ES256', { extractable: true });
  const selfSignedJwk: JWK = {
    ...(await exportJWK(selfSignedX509)),
    use: 'sig',
    // RFC 8705 §2.2: the client's certificate is registered in its JWK Set as x5c.
    x5c: [selfSignedCert.certPem.replace(/-----(BEGIN|END) CERTIFICATE-----|\s/g, '')],
  };

  const files = {
    rsa: await writePrivate(join(dir, 'pkjwt-rsa.key.pem'), rsa.pkcs8),
    ec: await writePrivate(join(dir, 'pkjwt-ec.jwk.json'), `${JSON.stringify(ec.privateJwk)}\n`),
    ed: await writePrivate(join(dir, 'pkjwt-ed25519.key.pem'), ed.pkcs8),
    mtlsCert: await writePrivate(join(dir, 'mtls.cert.pem'), mtlsCert.certPem),
    mtlsKey: await writePrivate(join(dir, 'mtls.key.pem'), mtlsCert.keyPem),
    selfSignedCert: await writePrivate(join(dir, 'self-signed.cert.pem'), selfSignedCert.certPem),
    selfSignedKey: await writePrivate(join(dir, 'self-signed.key.pem'), selfSignedCert.keyPem),
    assertion: await writePrivate(join(dir, 'assertion.key.pem'), assertion.pkcs8),
  };

  const clientDefaults = {
    grant_types: ['client_credentials'],
    response_types: [],
    redirect_uris: [],
    scope: CLIENT_SCOPE,
  };
  const clients: ClientMetadata[] = [
    {
      client_id: basic.id,
      client_secret: basic.secret,
      token_endpoint_auth_method: 'client_secret_basic',
      ...clientDefaults,
    },
    {
      client_id: post.id,
      client_secret: post.secret,
      token_endpoint_auth_method: 'client_secret_post',
      ...clientDefaults,
    },
    // No token_endpoint_auth_signing_alg: every enabled HS* alg is accepted.
    {
      client_id: jwtHs.id,
      client_secret: jwtHs.secret,
      token_endpoint_auth_method: 'client_secret_jwt',
      ...clientDefaults,
    },
    {
      client_id: pkjwt.id,
      token_endpoint_auth_method: 'private_key_jwt',
      jwks: { keys: [rsa.publicJwk, ec.publicJwk, ed.publicJwk] },
      ...clientDefaults,
    },
    {
      client_id: mtls.id,
      token_endpoint_auth_method: 'tls_client_auth',
      // RFC 4514 form of the issued subject: "O=token-conformance,CN=ref-mtls".
      tls_client_auth_subject_dn: subjectDn(new X509Certificate(mtlsCert.certPem).raw),
      tls_client_certificate_bound_access_tokens: true,
      ...clientDefaults,
    },
    {
      client_id: selfSigned.id,
      token_endpoint_auth_method: 'self_signed_tls_client_auth',
      jwks: { keys: [selfSignedJwk] },
      tls_client_certificate_bound_access_tokens: true,
      ...clientDefaults,
    },
    {
      client_id: dpop.id,
      client_secret: dpop.secret,
      token_endpoint_auth_method: 'client_secret_basic',
      dpop_bound_access_tokens: true,
      ...clientDefaults,
    },
    // A public client (no authentication) that may only use the jwt-bearer grant.
    {
      client_id: jwtBearer.id,
      token_endpoint_auth_method: 'none',
      grant_types: [JWT_BEARER],
      response_types: [],
      redirect_uris: [],
      scope: CLIENT_SCOPE,
    },
    {
      client_id: authCode.id,
      client_secret: authCode.secret,
      token_endpoint_auth_method: 'client_secret_basic',
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      redirect_uris: [REDIRECT_URI],
      scope: AUTH_CODE_CLIENT_SCOPE,
    },
    {
      client_id: authCodeOther.id,
      client_secret: authCodeOther.secret,
      token_endpoint_auth_method: 'client_secret_post',
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      redirect_uris: [REDIRECT_URI],
      scope: AUTH_CODE_CLIENT_SCOPE,
    },
  ];
  const authCodeClients = new Set([authCode.id, authCodeOther.id]);

  // Our one resource server (a fresh object per call, as before); the jwt-bearer grant uses it too.
  // The authorization-code clients get opaque access tokens: a token issued from a code that is
  // later replayed is revoked with its grant (RFC 6749 §4.1.2), which a self-contained JWT cannot be.
  const resourceServerFor = (resourceIndicator: string, clientId?: string): ResourceServer => {
    if (resourceIndicator !== resourceUrl) throw new errors.InvalidTarget();
    const format =
      clientId !== undefined && authCodeClients.has(clientId)
        ? 'opaque'
        : deployment.accessTokenFormat;
    return {
      scope: SCOPES.join(' '),
      audience: resourceUrl,
      accessTokenTTL: ttl,
      accessTokenFormat: format,
      ...(format === 'jwt' ? { jwt: { sign: { alg: 'RS256' } } } : {}),
    };
  };

  const configuration: Configuration = {
    adapter: memoryAdapterFactory(),
    jwks: { keys: [jwk] },
    clients,
    // Every scope the server knows; one outside a client's allow-list is rejected with
    // invalid_scope rather than silently dropped (oidc-provider only checks known scopes).
    // openid and offline_access: for the authorization-code clients' authorization requests.
    scopes: [...SCOPES, 'openid', 'offline_access'],
    // Grant: the jwt-bearer grant's need not outlive its access token; an authorization-code
    // grant lives as long as its refresh tokens.
    ttl: {
      ClientCredentials: ttl,
      AccessToken: ttl,
      AuthorizationCode: AUTH_CODE_TTL_SECONDS,
      RefreshToken: REFRESH_TOKEN_TTL_SECONDS,
      Grant: (_ctx, grant) =>
        authCodeClients.has(grant.clientId ?? '') ? REFRESH_TOKEN_TTL_SECONDS : ttl,
      Session: REFRESH_TOKEN_TTL_SECONDS,
      IdToken: ttl,
      Interaction: AUTH_CODE_TTL_SECONDS * 10,
    },
    // RFC 7636 for every code (S256 only: oidc-provider 9 supports no other method, RFC 9700 §2.1.1).
    pkce: { required: () => true },
    // A refresh token for every authorization-code client's code (not only with offline_access),
    // rotated on every use; a rotated one presented again revokes the grant (RFC 9700 §4.14.2).
    issueRefreshToken: async (_ctx, client) => client.grantTypeAllowed('refresh_token'),
    rotateRefreshToken: true,
    // The test user is the only account; it has no claims beyond sub.
    findAccount: (_ctx, sub) =>
      sub === user.username ? { accountId: sub, claims: () => ({ sub }) } : undefined,
    interactions: { url: (_ctx, interaction) => `${INTERACTION_PATH}${interaction.uid}` },
    // Cookies of the interaction and the session, on https://127.0.0.1 (the default keys warn otherwise).
    cookies: { keys: [randomBytes(32).toString('base64url')] },
    // The library default plus the two mTLS methods (RFC 8705 §2), which it does not add itself.
    clientAuthMethods: [
      'client_secret_basic',
      'client_secret_jwt',
      'client_secret_post',
      'private_key_jwt',
      'none',
      'tls_client_auth',
      'self_signed_tls_client_auth',
    ],
    enabledJWA: {
      // The library default plus HS384/HS512.
      clientAuthSigningAlgValues: [
        'HS256',
        'HS384',
        'HS512',
        'RS256',
        'PS256',
        'ES256',
        'Ed25519',
        'EdDSA',
      ],
      dPoPSigningAlgValues: [...DPOP_ALGS],
    },
    // oidc-provider does not derive RFC 8705 §5 aliases; this object extends its discovery document.
    discovery: { mtls_endpoint_aliases: { token_endpoint: mtlsTokenUrl } },
    features: {
      clientCredentials: { enabled: true },
      introspection: {
        enabled: true,
        // Same decision as the library default, configured only to avoid its "SHOULD change" notice.
        allowedPolicy: (ctx, client, token) =>
          !(client.clientAuthMethod === 'none' && token.clientId !== ctx.oidc.client?.clientId),
      },
      devInteractions: { enabled: false },
      // RFC 9449. Nonces (§8) are required of the DPoP client only, so its probes see the nonce dance.
      dPoP: {
        enabled: true,
        nonceSecret: randomBytes(32),
        requireNonce: (ctx) => ctx.oidc?.client?.clientId === dpop.id,
      },
      mTLS: {
        enabled: true,
        certificateBoundAccessTokens: true,
        tlsClientAuth: true,
        selfSignedTlsClientAuth: true,
        getCertificate: (ctx) => peerCertificate(ctx.socket),
        // Chains to the run-time CA (the listener's only trust anchor).
        certificateAuthorized: (ctx) => ctx.socket instanceof TLSSocket && ctx.socket.authorized,
        certificateSubjectMatches: (ctx, property, expected) => {
          const cert = peerCertificate(ctx.socket);
          return cert !== undefined && certificateMatches(cert.raw, property, expected);
        },
      },
      resourceIndicators: {
        enabled: true,
        defaultResource: () => resourceUrl,
        useGrantedResource: () => true,
        getResourceServerInfo: (_ctx, resourceIndicator, client) =>
          resourceServerFor(resourceIndicator, client.clientId),
      },
    },
    // No browser clients: never allow CORS (the default decides the same for these clients,
    // but prints a notice).
    clientBasedCORS: () => false,
    // Errors negotiated as text/html would otherwise get an HTML page; RFC 6749 §5.2 wants JSON.
    renderError: (ctx, out) => {
      ctx.type = 'json';
      ctx.body = out;
    },
  };
  const provider = new Provider(issuer, configuration);
  /**
   * RFC 7523 §2.1 / §3: the assertion must be RS256-signed by the trusted assertion key, come
   * from ASSERTION_ISSUER, name a subject, be addressed to this server (issuer or token endpoint
   * URL, the audiences oidc-provider accepts for client assertions), not be expired (nor
   * expire more than an hour from now), and carry a jti not seen before. Any failure is
   * invalid_grant (§3.1), with the reason as error_detail (oidc-provider's convention: logged,
   * not sent).
   */
  const verifyAssertion = async (
    assertionJwt: string,
    audience: string[],
  ): Promise<{ sub: string; jti: string; exp: number }> => {
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(assertionJwt, assertionKeys, {
        algorithms: ['RS256'],
        issuer: ASSERTION_ISSUER,
        audience,
        requiredClaims: ['sub', 'exp', 'jti'],
        clockTolerance: ASSERTION_CLOCK_TOLERANCE_SECONDS,
      }));
    } catch (cause) {
      throw new errors.InvalidGrant({
        detail: `invalid assertion: ${cause instanceof Error ? cause.message : String(cause)}`,
        cause,
      });
    }
    const { sub, jti, exp } = payload;
    if (typeof sub !== 'string' || sub === '')
      throw new errors.InvalidGrant('assertion sub must be a non-empty string');
    if (typeof jti !== 'string' || jti === '')
      throw new errors.InvalidGrant('assertion jti must be a non-empty string');
    if (typeof exp !== 'number') throw new errors.InvalidGrant('assertion exp must be a number');
    if (exp - Math.floor(Date.now() / 1000) > MAX_ASSERTION_LIFETIME_SECONDS) {
      throw new errors.InvalidGrant(
        `assertion exp must be at most ${MAX_ASSERTION_LIFETIME_SECONDS} seconds in the future`,
      );
    }
    // oidc-provider's own replay store (the one it uses for client assertion jti values).
    if (
      !(await provider.ReplayDetection.unique(
        ASSERTION_ISSUER,
        jti,
        exp + ASSERTION_CLOCK_TOLERANCE_SECONDS,
      ))
    ) {
      throw new errors.InvalidGrant('assertion jti was already used');
    }
    return { sub, jti, exp };
  };

  provider.registerGrantType(
    JWT_BEARER,
    async (ctx: TokenEndpointGrantContext<{ assertion?: string }>) => {
      const { client, params } = ctx.oidc;
      if (typeof params.assertion !== 'string' || params.assertion === '') {
        throw new errors.InvalidRequest("missing required parameter 'assertion'");
      }
      // Same policy as client_credentials here: a single resource, defaulting to ours.
      if (Array.isArray(params.resource)) {
        throw new errors.InvalidTarget(
          'only a single resource indicator value is supported for this grant type',
        );
      }
      const resource = params.resource ?? resourceUrl;
      const info = resourceServerFor(resource);
      // Same scope rule as oidc-provider's client_credentials: a known scope outside the client's
      // allow-list is invalid_scope; what remains is limited to the resource server's scopes.
      const allowed = new Set((client.scope ?? '').split(' '));
      const requested = ctx.oidc.requestParamScopes;
      for (const scope of requested) {
        if (SCOPES.includes(scope) && !allowed.has(scope))
          throw new errors.InvalidScope('requested scope is not allowed', scope);
      }
      const { sub } = await verifyAssertion(params.assertion, [
        ...ctx.oidc.clientJwtAuthExpectedAudience(),
      ]);
      const scope = [...requested].filter((s) => new Set(info.scope.split(' ')).has(s)).join(' ');

      // The recipe for custom grants: a Grant for the assertion's subject and an AccessToken from it.
      const grant = new provider.Grant({ accountId: sub, clientId: client.clientId });
      if (scope) grant.addResourceScope(resource, scope);
      const grantId = await grant.save();
      const token = new provider.AccessToken({
        accountId: sub,
        client,
        grantId,
        gty: JWT_BEARER,
        scope: scope || undefined,
        resourceServer: new provider.ResourceServer(resource, info),
      });
      ctx.oidc.entity('AccessToken', token);
      const accessToken = await token.save();
      ctx.body = {
        access_token: accessToken,
        expires_in: token.expiration,
        scope: token.scope || undefined,
        token_type: token.tokenType,
      };
    },
    ['assertion', 'scope', 'resource'],
  );

  /**
   * RFC 7662 for our JWT access tokens. oidc-provider authenticates the caller and validates the
   * request, then refuses JWTs (unsupported_token_type, "Structured JWT Tokens cannot be
   * introspected"): only that answer is replaced, by one computed from the verified JWT.
   */
  const introspectJwt = async (
    token: string,
    caller: { clientId: string; clientAuthMethod?: string | undefined },
  ): Promise<Record<string, unknown>> => {
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, publicKey, {
        issuer,
        typ: 'at+jwt',
        algorithms: ['RS256'],
      }));
    } catch {
      return { active: false };
    }
    // oidc-provider's introspection allowedPolicy, as configured above.
    if (caller.clientAuthMethod === 'none' && payload['client_id'] !== caller.clientId)
      return { active: false };
    return {
      active: true,
      client_id: payload['client_id'],
      exp: payload.exp,
      iat: payload.iat,
      iss: payload.iss,
      jti: payload.jti,
      aud: payload.aud,
      sub: payload.sub,
      scope: payload['scope'],
      cnf: isRecord(payload['cnf']) ? payload['cnf'] : undefined,
      token_type:
        isRecord(payload['cnf']) && payload['cnf']['jkt'] !== undefined ? 'DPoP' : 'Bearer',
    };
  };
  provider.use(async (ctx, next) => {
    await next();
    const { oidc } = ctx as unknown as Partial<KoaContextWithOIDC>;
    const body: unknown = ctx.body;
    const token = oidc?.params?.['token'];
    if (
      oidc?.route === 'introspection' &&
      ctx.status === 400 &&
      isRecord(body) &&
      body['error'] === 'unsupported_token_type' &&
      oidc.client !== undefined &&
      typeof token === 'string' &&
      isJws(token)
    ) {
      ctx.status = 200;
      ctx.body = await introspectJwt(token, oidc.client);
    }
  });

  // The deployment choices that change the token endpoint's answers (ReferenceOptions), applied to
  // what oidc-provider computed, so everything else stays the library's own behaviour.
  provider.use(async (ctx, next) => {
    await next();
    const { oidc } = ctx as unknown as Partial<KoaContextWithOIDC>;
    const body: unknown = ctx.body;
    if (oidc?.route !== 'token' || !isRecord(body)) return;
    if (ctx.status === 200 && typeof body['access_token'] === 'string') {
      if (!deployment.scopeEcho) delete body['scope'];
      if (deployment.refreshToken) body['refresh_token'] = randomBytes(32).toString('base64url');
      return;
    }
    const clientId = oidc.params?.['client_id'];
    if (
      deployment.wrongBodySecretStatus !== 401 &&
      ctx.status === 401 &&
      body['error'] === 'invalid_client' &&
      typeof oidc.params?.['client_secret'] === 'string' &&
      typeof clientId === 'string' &&
      // A registered client with a wrong secret; an unknown client id keeps the library's answer.
      (await provider.Client.find(clientId)) !== undefined
    ) {
      ctx.status = deployment.wrongBodySecretStatus;
      ctx.remove('WWW-Authenticate');
    }
  });

  /** The claims the resource checks, from a JWT it verifies or an opaque handle oidc-provider looks up. */
  const accessTokenClaims = async (token: string): Promise<JWTPayload> => {
    // The authorization-code clients' tokens are opaque whatever the deployment (resourceServerFor).
    if (deployment.accessTokenFormat === 'jwt' && isJws(token)) {
      // No clockTolerance: a token is refused from the second its exp is reached.
      return (
        await jwtVerify(token, publicKey, {
          issuer,
          audience: resourceUrl,
          typ: 'at+jwt',
          algorithms: ['RS256'],
        })
      ).payload;
    }
    // client_credentials issues ClientCredentials tokens; the jwt-bearer grant above issues AccessTokens.
    const stored =
      (await provider.ClientCredentials.find(token, { ignoreExpiration: true })) ??
      (await provider.AccessToken.find(token, { ignoreExpiration: true }));
    if (!stored) throw new Error('unknown access token');
    if (stored.isExpired) throw new joseErrors.JWTExpired('the access token expired', {});
    const audience = stored.aud;
    if (audience !== resourceUrl && !(Array.isArray(audience) && audience.includes(resourceUrl)))
      throw new Error('access token for another audience');
    return {
      scope: stored.scope,
      ...(stored['x5t#S256'] ? { cnf: { 'x5t#S256': stored['x5t#S256'] } } : {}),
      ...(stored.jkt ? { cnf: { jkt: stored.jkt } } : {}),
    };
  };

  const providerCallback = provider.callback();

  const handleResource = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    if (req.method !== 'GET') {
      sendJson(res, 405, { error: 'method_not_allowed' }, { allow: 'GET' });
      return;
    }
    const authorization = req.headers.authorization;
    if (authorization !== undefined && /^dpop(\s|$)/i.test(authorization)) {
      await handleDpopResource(req, res, authorization);
      return;
    }
    // RFC 6750 §3.1: no credentials at all (or another scheme) → challenge without an error code.
    if (authorization === undefined || !/^bearer(\s|$)/i.test(authorization)) {
      sendJson(res, 401, { error: 'unauthorized' }, { 'www-authenticate': bearerChallenge() });
      return;
    }
    const match = BEARER.exec(authorization);
    if (!match?.[1]) {
      const description = 'malformed Bearer credentials';
      sendJson(
        res,
        400,
        { error: 'invalid_request', error_description: description },
        {
          'www-authenticate': bearerChallenge('invalid_request', description),
        },
      );
      return;
    }
    const refuse = (description: string): void =>
      sendJson(
        res,
        401,
        { error: 'invalid_token', error_description: description },
        {
          'www-authenticate': bearerChallenge('invalid_token', description),
        },
      );
    let payload: JWTPayload;
    try {
      payload = await accessTokenClaims(match[1]);
    } catch (err) {
      refuse(
        err instanceof joseErrors.JWTExpired
          ? 'the access token expired'
          : 'the access token is invalid',
      );
      return;
    }
    // RFC 9449 §7.2: a DPoP-bound token is only good with the DPoP scheme and a proof of its key.
    if (isRecord(payload['cnf']) && payload['cnf']['jkt'] !== undefined) {
      refuse('the access token is DPoP-bound: present it with the DPoP scheme and a proof');
      return;
    }
    // RFC 8705 §3: a certificate-bound token is only good on a connection presenting that certificate.
    const cnf = payload['cnf'];
    if (isRecord(cnf) && cnf['x5t#S256'] !== undefined) {
      const cert = peerCertificate(req.socket);
      if (cert === undefined) {
        refuse('the access token is bound to a client certificate and none was presented');
        return;
      }
      if (certificateThumbprint(cert) !== cnf['x5t#S256']) {
        refuse('the access token is bound to a different client certificate');
        return;
      }
    }
    if (!scopeCovers(payload, res)) return;
    sendJson(res, 200, { ok: true });
  };

  /** RFC 6749 §7, RFC 6750 §3.1: answers 403 insufficient_scope unless the token has the resource's scope. */
  const scopeCovers = (payload: JWTPayload, res: ServerResponse): boolean => {
    const granted = typeof payload['scope'] === 'string' ? payload['scope'].split(' ') : [];
    if (granted.includes(RESOURCE_SCOPE)) return true;
    const description = `the access token lacks the scope ${RESOURCE_SCOPE}`;
    sendJson(
      res,
      403,
      { error: 'insufficient_scope', error_description: description, scope: RESOURCE_SCOPE },
      { 'www-authenticate': bearerChallenge('insufficient_scope', description, RESOURCE_SCOPE) },
    );
    return false;
  };

  /**
   * RFC 9449 §7.1 at the resource: a DPoP-bound token with a proof of its key. The proof is checked as
   * §4.3 says (typ, a public jwk, signature, htm, htu, iat window, unique jti), plus ath (§4.3 step 12)
   * and the token's cnf.jkt against the proof key's thumbprint (§7.1).
   */
  const handleDpopResource = async (
    req: IncomingMessage,
    res: ServerResponse,
    authorization: string,
  ): Promise<void> => {
    const refuse = (
      error: 'invalid_token' | 'invalid_dpop_proof' | 'invalid_request',
      description: string,
    ): void =>
      sendJson(
        res,
        error === 'invalid_request' ? 400 : 401,
        { error, error_description: description },
        { 'www-authenticate': dpopChallenge(error, description) },
      );
    const token = DPOP.exec(authorization)?.[1];
    const proof = req.headers['dpop'];
    if (!token) return refuse('invalid_request', 'malformed DPoP credentials');
    if (typeof proof !== 'string' || proof === '')
      return refuse('invalid_dpop_proof', 'exactly one DPoP proof is required');
    let payload: JWTPayload;
    try {
      payload = await accessTokenClaims(token);
    } catch (err) {
      return refuse(
        'invalid_token',
        err instanceof joseErrors.JWTExpired
          ? 'the access token expired'
          : 'the access token is invalid',
      );
    }
    const cnf = payload['cnf'];
    const jkt = isRecord(cnf) ? cnf['jkt'] : undefined;
    if (typeof jkt !== 'string')
      return refuse('invalid_token', 'the access token is not DPoP-bound');
    try {
      const { payload: claims, protectedHeader } = await jwtVerify(proof, EmbeddedJWK, {
        typ: 'dpop+jwt',
        algorithms: [...DPOP_ALGS],
      });
      const now = Math.floor(Date.now() / 1000);
      if (typeof claims.iat !== 'number' || Math.abs(now - claims.iat) > DPOP_IAT_WINDOW_SECONDS)
        throw new Error('iat is not recent enough');
      if (typeof claims.jti !== 'string' || claims.jti === '') throw new Error('no jti');
      if (claims['htm'] !== req.method) throw new Error('htm mismatch');
      const htu = typeof claims['htu'] === 'string' ? URL.parse(claims['htu']) : null;
      if (htu) {
        htu.search = '';
        htu.hash = '';
      }
      if (htu?.href !== resourceUrl) throw new Error('htu mismatch');
      if (claims['ath'] !== hash('sha256', token, 'base64url')) throw new Error('ath mismatch');
      if ((await calculateJwkThumbprint(protectedHeader.jwk!)) !== jkt)
        throw new Error('the proof key is not the key the token is bound to');
      if (
        !(await provider.ReplayDetection.unique(
          'dpop-resource',
          claims.jti,
          now + 2 * DPOP_IAT_WINDOW_SECONDS,
        ))
      )
        throw new Error('the proof was already used');
    } catch (err) {
      return refuse(
        'invalid_dpop_proof',
        `invalid DPoP proof: ${err instanceof Error ? err.message : 'error'}`,
      );
    }
    if (!scopeCovers(payload, res)) return;
    sendJson(res, 200, { ok: true });
  };

  /**
   * The interaction a real server shows between the authorization request and the redirect: a login
   * form (username and password, checked against the run's test user) and a consent that is granted
   * at once for exactly what the client asked.
   */
  const handleInteraction = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const details = await provider.interactionDetails(req, res);
    const { uid, prompt, params } = details;
    if (prompt.name === 'login') {
      let failed = false;
      if (req.method === 'POST') {
        const form = new URLSearchParams(await readBody(req));
        if (form.get('username') === user.username && form.get('password') === user.password) {
          await provider.interactionFinished(
            req,
            res,
            { login: { accountId: user.username } },
            { mergeWithLastSubmission: false },
          );
          return;
        }
        failed = true;
      }
      res.writeHead(failed ? 401 : 200, {
        'content-type': 'text/html; charset=utf-8',
        'cache-control': 'no-store',
      });
      res.end(loginPage(`${INTERACTION_PATH}${uid}`, failed));
      return;
    }
    // consent: everything the client asked for, as the request named it.
    const accountId = details.session?.accountId;
    const clientId = typeof params['client_id'] === 'string' ? params['client_id'] : undefined;
    if (!accountId || !clientId) throw new errors.InvalidRequest('interaction without a session');
    const grant = details.grantId
      ? ((await provider.Grant.find(details.grantId)) ??
        new provider.Grant({ accountId, clientId }))
      : new provider.Grant({ accountId, clientId });
    const missing = prompt.details as {
      missingOIDCScope?: string[];
      missingResourceScopes?: Record<string, string[]>;
    };
    if (missing.missingOIDCScope) grant.addOIDCScope(missing.missingOIDCScope.join(' '));
    for (const [indicator, scopes] of Object.entries(missing.missingResourceScopes ?? {}))
      grant.addResourceScope(indicator, scopes.join(' '));
    const grantId = await grant.save();
    await provider.interactionFinished(
      req,
      res,
      { consent: { grantId } },
      { mergeWithLastSubmission: true },
    );
  };

  return {
    handler: (req, res) => {
      if ((req.url ?? '').startsWith(INTERACTION_PATH)) {
        handleInteraction(req, res).catch(() => {
          if (!res.headersSent) sendJson(res, 400, { error: 'invalid_request' });
          else res.destroy();
        });
        return;
      }
      // Plain string split: `new URL()` would throw on a hostile request-target.
      if ((req.url ?? '').split('?')[0] === RESOURCE_PATH) {
        handleResource(req, res).catch(() => {
          if (!res.headersSent) sendJson(res, 500, { error: 'server_error' });
          else res.destroy();
        });
        return;
      }
      providerCallback(req, res);
    },
    env: {
      TC_REF_ISSUER: issuer,
      TC_REF_TOKEN_URL: `${issuer}/token`,
      TC_REF_RESOURCE_URL: resourceUrl,
      TC_REF_BASIC_CLIENT_ID: basic.id,
      TC_REF_BASIC_CLIENT_SECRET: basic.secret,
      TC_REF_POST_CLIENT_ID: post.id,
      TC_REF_POST_CLIENT_SECRET: post.secret,
      TC_REF_DISCOVERY_URL: `${issuer}/.well-known/openid-configuration`,
      TC_REF_INTROSPECTION_URL: `${issuer}/token/introspection`,
      TC_REF_MTLS_TOKEN_URL: mtlsTokenUrl,
      TC_REF_JWT_HS_CLIENT_ID: jwtHs.id,
      TC_REF_JWT_HS_CLIENT_SECRET: jwtHs.secret,
      TC_REF_PKJWT_CLIENT_ID: pkjwt.id,
      TC_REF_PKJWT_RSA_KEY_FILE: files.rsa,
      TC_REF_PKJWT_RSA_KID: rsa.kid,
      TC_REF_PKJWT_EC_KEY_FILE: files.ec,
      TC_REF_PKJWT_EC_KID: ec.kid,
      TC_REF_PKJWT_ED_KEY_FILE: files.ed,
      TC_REF_PKJWT_ED_KID: ed.kid,
      TC_REF_MTLS_CLIENT_ID: mtls.id,
      TC_REF_MTLS_CERT_FILE: files.mtlsCert,
      TC_REF_MTLS_KEY_FILE: files.mtlsKey,
      TC_REF_SELF_SIGNED_CLIENT_ID: selfSigned.id,
      TC_REF_SELF_SIGNED_CERT_FILE: files.selfSignedCert,
      TC_REF_SELF_SIGNED_KEY_FILE: files.selfSignedKey,
      TC_REF_JWT_BEARER_CLIENT_ID: jwtBearer.id,
      TC_REF_DPOP_CLIENT_ID: dpop.id,
      TC_REF_DPOP_CLIENT_SECRET: dpop.secret,
      TC_REF_ASSERTION_ISSUER: ASSERTION_ISSUER,
      TC_REF_ASSERTION_KEY_FILE: files.assertion,
      TC_REF_ASSERTION_KID: assertion.kid,
      TC_REF_AUTH_CODE_CLIENT_ID: authCode.id,
      TC_REF_AUTH_CODE_CLIENT_SECRET: authCode.secret,
      TC_REF_AUTH_CODE_OTHER_CLIENT_ID: authCodeOther.id,
      TC_REF_AUTH_CODE_OTHER_CLIENT_SECRET: authCodeOther.secret,
      TC_REF_AUTHORIZATION_URL: `${issuer}/auth`,
      TC_REF_REDIRECT_URI: REDIRECT_URI,
      TC_REF_USERNAME: user.username,
      TC_REF_PASSWORD: user.password,
    },
    secrets: [
      basic.secret,
      post.secret,
      jwtHs.secret,
      authCode.secret,
      authCodeOther.secret,
      user.password,
      dpop.secret,
    ],
  };
}
