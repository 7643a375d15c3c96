/**
 * Shared plumbing of the stand-ins: HTTPS listeners on 127.0.0.1 with a certificate from the run's
 * CA (a client certificate is asked for, never required: RFC 8705 stand-ins read it), and an
 * oidc-provider instance with deployment policy only (clients, scopes, lifetimes, keys).
 */
import { X509Certificate } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { TLSSocket } from 'node:tls';
import { calculateJwkThumbprint, exportJWK, exportPKCS8, generateKeyPair, type JWK } from 'jose';
import type { ClientMetadata, Configuration } from 'oidc-provider';
import { issueServerCert, type CertificateAuthority } from '../reference/certs.js';
import { loadOidcProvider, memoryAdapterFactory } from '../reference/server.js';

export const HOST = '127.0.0.1';

export type Handler = (req: IncomingMessage, res: ServerResponse) => void;

export interface Listener {
  origin: string;
  /** Sets the request handler (the origin is known first, so an issuer can embed the port). */
  serve(handler: Handler): void;
  close(): Promise<void>;
}

export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  res.writeHead(status, {
    'content-type': 'application/json',
    'cache-control': 'no-store',
    pragma: 'no-cache',
    ...headers,
  });
  res.end(JSON.stringify(body));
}

/** An HTTPS listener on 127.0.0.1:<free port> with a server certificate from `ca`. */
/** A request body, read whole; more than `limit` bytes is refused with a RangeError. */
export async function readBody(req: IncomingMessage, limit = 56 * 1024): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const b = chunk as Buffer;
    size += b.length;
    if (size > limit) throw new RangeError('request body too large');
    chunks.push(b);
  }
  return Buffer.concat(chunks);
}

export async function listen(ca: CertificateAuthority): Promise<Listener> {
  const tls = await issueServerCert(ca, { ips: [HOST], dns: ['localhost'] });
  let handler: Handler | undefined;
  const server: Server = createServer(
    {
      key: tls.keyPem,
      cert: tls.certPem,
      ca: ca.certPem,
      requestCert: true,
      rejectUnauthorized: false,
    },
    (req, res) => {
      if (handler) handler(req, res);
      else sendJson(res, 503, { error: 'temporarily_unavailable' });
    },
  );
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, HOST, () => {
      server.off('error', reject);
      resolve();
    });
  });
  let closed = false;
  return {
    origin: `https://${HOST}:${(server.address() as AddressInfo).port}`,
    serve: (h) => {
      handler = h;
    },
    close: async () => {
      if (closed) return;
      closed = true;
      const done = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await done;
    },
  };
}

/** The TLS client certificate of the connection, if one was presented. */
export function peerCertificate(socket: Socket): X509Certificate | undefined {
  if (!(socket instanceof TLSSocket)) return undefined;
  const cert = socket.getPeerX509Certificate();
  return cert ?? undefined;
}

export async function writePrivate(file: string, content: string): Promise<string> {
  await writeFile(file, content, { mode: 0o600 });
  return file;
}

/** An RSA key pair: public JWK (kid = RFC 7638 thumbprint) and the private key as PKCS#8 PEM. */
export async function rsaKey(): Promise<{
  publicJwk: JWK;
  pkcs8: string;
  kid: string;
  publicKey: CryptoKey;
  privateKey: CryptoKey;
}> {
  const { publicKey, privateKey } = await generateKeyPair('RS256', { extractable: true });
  const publicJwk = await exportJWK(publicKey);
  const kid = await calculateJwkThumbprint(publicJwk);
  return {
    publicJwk: { ...publicJwk, kid, use: 'sig' },
    pkcs8: await exportPKCS8(privateKey),
    kid,
    publicKey,
    privateKey,
  };
}

/** A signing JWK Set for oidc-provider (one RS256 key, generated per run). */
export async function providerJwks(): Promise<{ keys: JWK[] }> {
  const { privateKey } = await generateKeyPair('RS256', { extractable: true });
  const jwk = await exportJWK(privateKey);
  jwk.kid = await calculateJwkThumbprint(jwk);
  jwk.alg = 'RS256';
  jwk.use = 'sig';
  return { keys: [jwk] };
}

export const clientDefaults = (
  scope?: string,
): Pick<ClientMetadata, 'grant_types' | 'response_types' | 'redirect_uris' | 'scope'> => ({
  grant_types: ['client_credentials'],
  response_types: [],
  redirect_uris: [],
  ...(scope !== undefined ? { scope } : {}),
});

/** oidc-provider configuration common to every stand-in; `extra` is merged over it. */
export async function baseConfiguration(extra: Configuration): Promise<Configuration> {
  return {
    adapter: memoryAdapterFactory(),
    jwks: await providerJwks(),
    features: { clientCredentials: { enabled: true }, devInteractions: { enabled: false } },
    clientBasedCORS: () => false,
    // RFC 6749 §5.2 wants JSON errors, never an HTML page.
    renderError: (ctx, out) => {
      ctx.type = 'json';
      ctx.body = out;
    },
    ...extra,
  };
}

export { loadOidcProvider };

/**
 * Hands a request under `prefix` to an app mounted there, as a router would: the app sees the
 * rest of the path, and originalUrl keeps the full one (oidc-provider derives its URLs from it).
 * Answers 404 and returns false for any other path.
 */
export function mountAt(prefix: string, req: IncomingMessage, res: ServerResponse): boolean {
  const url = req.url ?? '/';
  if (url !== prefix && !url.startsWith(`${prefix}/`) && !url.startsWith(`${prefix}?`)) {
    sendJson(res, 404, { error: 'not_found' });
    return false;
  }
  (req as IncomingMessage & { originalUrl?: string }).originalUrl = url;
  req.url = url.slice(prefix.length) || '/';
  return true;
}
