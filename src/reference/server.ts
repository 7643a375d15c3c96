/**
 * Embedded reference OAuth 2.0 authorization server: a real oidc-provider instance
 * (client_credentials, JWT access tokens per RFC 9068) plus a tiny RFC 6750 protected
 * resource, both served over HTTPS on 127.0.0.1 with a CA generated for this run only.
 *
 * Token endpoint behaviour is deliberately left to oidc-provider (it is the certified
 * reference); only deployment policy (clients, scopes, TTLs, keys) is configured here.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { calculateJwkThumbprint, errors as joseErrors, exportJWK, generateKeyPair, jwtVerify } from 'jose';
import type { Adapter, AdapterPayload, Configuration } from 'oidc-provider';
import { createCa, issueServerCert } from './certs.js';

export interface ReferenceOptions {
  /** Lifetime of issued access tokens (and so `expires_in`). Default 5 s. */
  accessTokenTtlSeconds?: number;
}

export interface ReferenceServer {
  /** Environment variables the reference descriptor (providers/reference.yaml) reads via ${env:NAME}. */
  env: Record<string, string>;
  /** Secrets among env values (client secrets), so callers can register them for redaction. */
  secrets: string[];
  close(): Promise<void>;
}

const HOST = '127.0.0.1';
const RESOURCE_PATH = '/api/resource';
const REALM = 'reference';
const SCOPES = ['api:read', 'api:write', 'admin'];
const CLIENT_SCOPE = 'api:read api:write';

type OidcProviderModule = typeof import('oidc-provider');
let oidcProviderModule: Promise<OidcProviderModule> | undefined;

/**
 * oidc-provider prints "Unsupported runtime" at import time on any Node release older than
 * 22 LTS; this project targets Node >= 20.19, where it works. Drop exactly that one line
 * (and nothing else) so the harness output stays clean. Module loading happens once.
 */
function loadOidcProvider(): Promise<OidcProviderModule> {
  oidcProviderModule ??= (async () => {
    const original = console.warn;
    console.warn = (...args: unknown[]): void => {
      if (typeof args[0] === 'string' && args[0].includes('oidc-provider WARNING: Unsupported runtime')) return;
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
function memoryAdapterFactory(): (name: string) => Adapter {
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
        store.set(key(id), { payload, expiresAt: expiresIn ? Date.now() + expiresIn * 1000 : undefined });
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
function bearerChallenge(error?: string, description?: string): string {
  let challenge = `Bearer realm="${REALM}"`;
  if (error) challenge += `, error="${error}"`;
  if (description) challenge += `, error_description="${description.replace(/["\\]/g, "'")}"`;
  return challenge;
}

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store', ...headers });
  res.end(JSON.stringify(body));
}

/** RFC 6750 §2.1 credentials syntax: "Bearer" 1*SP b64token. */
const BEARER = /^Bearer +([A-Za-z0-9\-._~+/]+=*)$/i;

export async function startReference(options: ReferenceOptions = {}): Promise<ReferenceServer> {
  const ttl = options.accessTokenTtlSeconds ?? 5;
  if (!Number.isSafeInteger(ttl) || ttl <= 0) throw new Error('accessTokenTtlSeconds must be a positive integer');

  // TLS material for this run only; only the CA certificate is written out (for clients).
  const ca = await createCa();
  const tls = await issueServerCert(ca, { ips: [HOST], dns: ['localhost'] });
  const dir = await mkdtemp(join(tmpdir(), 'tc-ref-'));
  const caFile = join(dir, 'ca.pem');

  // The issuer embeds the port, so listen first and attach the application afterwards.
  const route: { handler?: (req: IncomingMessage, res: ServerResponse) => void } = {};
  const server: Server = createServer({ key: tls.keyPem, cert: tls.certPem }, (req, res) => {
    if (route.handler) route.handler(req, res);
    else sendJson(res, 503, { error: 'temporarily_unavailable' });
  });
  let closed = false;
  const close = async (): Promise<void> => {
    if (closed) return;
    closed = true;
    const done = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeAllConnections();
    await done;
    await rm(dir, { recursive: true, force: true });
  };

  try {
    await writeFile(caFile, ca.certPem, { mode: 0o600 });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, HOST, () => {
        server.off('error', reject);
        resolve();
      });
    });
    const { port } = server.address() as AddressInfo;
    const app = await createApp(`https://${HOST}:${port}`, ttl);
    route.handler = app.handler;
    return { env: { ...app.env, TC_REF_CA_FILE: caFile }, secrets: app.secrets, close };
  } catch (err) {
    await close();
    throw err;
  }
}

/** The oidc-provider instance plus the protected resource, for an already known issuer. */
async function createApp(issuer: string, ttl: number): Promise<{
  handler: (req: IncomingMessage, res: ServerResponse) => void;
  env: Record<string, string>;
  secrets: string[];
}> {
  const { default: Provider, errors } = await loadOidcProvider();
  const resourceUrl = `${issuer}${RESOURCE_PATH}`;

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
  const clientDefaults = {
    grant_types: ['client_credentials'],
    response_types: [],
    redirect_uris: [],
    scope: CLIENT_SCOPE,
  };

  const configuration: Configuration = {
    adapter: memoryAdapterFactory(),
    jwks: { keys: [jwk] },
    clients: [
      { client_id: basic.id, client_secret: basic.secret, token_endpoint_auth_method: 'client_secret_basic', ...clientDefaults },
      { client_id: post.id, client_secret: post.secret, token_endpoint_auth_method: 'client_secret_post', ...clientDefaults },
    ],
    // Every scope the server knows; one outside a client's allow-list is rejected with
    // invalid_scope rather than silently dropped (oidc-provider only checks known scopes).
    scopes: SCOPES,
    ttl: { ClientCredentials: ttl, AccessToken: ttl },
    features: {
      clientCredentials: { enabled: true },
      introspection: {
        enabled: true,
        // Same decision as the library default, configured only to avoid its "SHOULD change" notice.
        allowedPolicy: (ctx, client, token) =>
          !(client.clientAuthMethod === 'none' && token.clientId !== ctx.oidc.client?.clientId),
      },
      devInteractions: { enabled: false },
      resourceIndicators: {
        enabled: true,
        defaultResource: () => resourceUrl,
        useGrantedResource: () => true,
        getResourceServerInfo: (_ctx, resourceIndicator) => {
          if (resourceIndicator !== resourceUrl) throw new errors.InvalidTarget();
          return {
            scope: SCOPES.join(' '),
            audience: resourceUrl,
            accessTokenTTL: ttl,
            accessTokenFormat: 'jwt',
            jwt: { sign: { alg: 'RS256' } },
          };
        },
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
  const providerCallback = new Provider(issuer, configuration).callback();

  const handleResource = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    if (req.method !== 'GET') {
      sendJson(res, 405, { error: 'method_not_allowed' }, { allow: 'GET' });
      return;
    }
    const authorization = req.headers.authorization;
    // RFC 6750 §3.1: no credentials at all (or another scheme) → challenge without an error code.
    if (authorization === undefined || !/^bearer(\s|$)/i.test(authorization)) {
      sendJson(res, 401, { error: 'unauthorized' }, { 'www-authenticate': bearerChallenge() });
      return;
    }
    const match = BEARER.exec(authorization);
    if (!match?.[1]) {
      const description = 'malformed Bearer credentials';
      sendJson(res, 400, { error: 'invalid_request', error_description: description }, {
        'www-authenticate': bearerChallenge('invalid_request', description),
      });
      return;
    }
    try {
      // No clockTolerance: a token is refused from the second its exp is reached.
      await jwtVerify(match[1], publicKey, { issuer, audience: resourceUrl, typ: 'at+jwt', algorithms: ['RS256'] });
    } catch (err) {
      const description = err instanceof joseErrors.JWTExpired ? 'the access token expired' : 'the access token is invalid';
      sendJson(res, 401, { error: 'invalid_token', error_description: description }, {
        'www-authenticate': bearerChallenge('invalid_token', description),
      });
      return;
    }
    sendJson(res, 200, { ok: true });
  };

  return {
    handler: (req, res) => {
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
    },
    secrets: [basic.secret, post.secret],
  };
}
