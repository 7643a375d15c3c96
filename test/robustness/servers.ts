/**
 * Real, small, deliberately misbehaving token endpoints for the robustness tests: node:https on
 * 127.0.0.1 with a CA and server certificate generated at run time (src/reference/certs.ts).
 * Healthy by default (client_credentials, JSON token, Cache-Control: no-store, JSON errors);
 * `behaviour` switches one misbehaviour on, and can be changed between runs.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { createServer as createNetServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { readDescriptor, resolveProvider } from '../../src/descriptor/load.js';
import type { Provider } from '../../src/descriptor/types.js';
import { createCa, issueCert, issueServerCert, type PemPair } from '../../src/reference/certs.js';

export type Behaviour =
  /** A conformant-enough endpoint. */
  | 'ok'
  /** Reads the request, never answers. */
  | 'hang'
  /** Answers correctly, but only after `slowMs`. */
  | 'slow'
  /** Sends 200 headers at once, then one body byte every 100 ms, never finishing. */
  | 'trickle'
  /** 200 application/json, `hugeBytes` long (a valid JSON object padded with a long member). */
  | 'huge'
  /** Sends 200 headers and part of the body, then destroys the socket. */
  | 'reset'
  /** 200 text/html. */
  | 'html'
  /** 503 with a JSON error to every request. */
  | 'unavailable'
  /** The first request gets 429 with `Retry-After: <retryAfter>`, every later one is answered normally. */
  | 'rate-limit-first'
  /** Every request gets 429 with `Retry-After: <retryAfter>` (or none, when retryAfter is null). */
  | 'rate-limit-always';

export interface ServerOptions {
  behaviour?: Behaviour;
  slowMs?: number;
  hugeBytes?: number;
  /** Retry-After of the 429 (behaviours rate-limit-*); a function is evaluated when the 429 is sent; null: no Retry-After. */
  retryAfter?: string | null | (() => string);
  /** The server certificate: issued for 127.0.0.1 (default), for another host name only, or expired. */
  cert?: 'valid' | 'wrong-name' | 'expired';
  /** Listen with plain HTTP although tokenUrl says https:// (a descriptor pointing TLS at a non-TLS port). */
  plainHttp?: boolean;
  /** Registered clients: id → secret. */
  clients?: Record<string, string>;
}

export interface SeenRequest {
  /** performance.now() when the request arrived. */
  at: number;
  method: string;
  url: string;
  authorization: string | undefined;
  body: string;
}

export interface TokenServer {
  /** https://127.0.0.1:<port>/token */
  tokenUrl: string;
  /** PEM file of the CA that issued the server certificate (not trusted unless a descriptor names it). */
  caFile: string;
  behaviour: Behaviour;
  /** Every request that reached the server, in arrival order. */
  readonly requests: SeenRequest[];
  close(): Promise<void>;
}

/** What both node:http and node:https servers offer (https.Server is a tls.Server, not an http.Server). */
type Listener = Pick<HttpServer, 'listen' | 'close' | 'closeAllConnections' | 'address'>;

const HOST = '127.0.0.1';
export const CLIENT_ID = 'robust-client';
export const CLIENT_SECRET = 'robust secret/+&=';
const SCOPES = new Set(['api:read', 'api:write']);

function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'Content-Type': 'application/json; charset=utf-8',
    'Cache-Control': 'no-store',
    Pragma: 'no-cache',
    'Content-Length': String(Buffer.byteLength(text)),
    ...headers,
  });
  res.end(text);
}

function oauthError(
  res: ServerResponse,
  status: number,
  error: string,
  headers: Record<string, string> = {},
): void {
  sendJson(res, status, { error }, headers);
}

/** The healthy endpoint: just enough of RFC 6749 §4.4 and §5 for the probes to get sensible answers. */
function answer(
  req: IncomingMessage,
  body: string,
  res: ServerResponse,
  clients: Record<string, string>,
): void {
  if (req.method !== 'POST') {
    oauthError(res, 400, 'invalid_request', { Allow: 'POST' });
    return;
  }
  const url = new URL(req.url ?? '/', `https://${HOST}`);
  const form = new URLSearchParams(body);
  const basic = /^Basic\s+(.+)$/i.exec(req.headers.authorization ?? '');
  let id: string | undefined;
  let secret: string | undefined;
  if (basic?.[1]) {
    const decoded = Buffer.from(basic[1], 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    id = decodeURIComponent(decoded.slice(0, colon).replace(/\+/g, ' '));
    secret = decodeURIComponent(decoded.slice(colon + 1).replace(/\+/g, ' '));
  }
  const bodySecret = form.get('client_secret');
  const grantTypes = form.getAll('grant_type');
  if (
    url.searchParams.has('client_secret') ||
    (basic && bodySecret !== null) ||
    grantTypes.length > 1
  ) {
    oauthError(res, 400, 'invalid_request');
    return;
  }
  if (!basic) {
    id = form.get('client_id') ?? undefined;
    secret = bodySecret ?? undefined;
  }
  if (id === undefined || secret === undefined || clients[id] !== secret) {
    oauthError(
      res,
      401,
      'invalid_client',
      basic ? { 'WWW-Authenticate': 'Basic realm="robustness"' } : {},
    );
    return;
  }
  if (grantTypes.length === 0) {
    oauthError(res, 400, 'invalid_request');
    return;
  }
  if (grantTypes[0] !== 'client_credentials') {
    oauthError(res, 400, 'unsupported_grant_type');
    return;
  }
  const requested = (form.get('scope') ?? '').split(' ').filter(Boolean);
  if (requested.some((s) => !SCOPES.has(s))) {
    oauthError(res, 400, 'invalid_scope');
    return;
  }
  sendJson(res, 200, {
    access_token: randomBytes(24).toString('base64url'),
    token_type: 'Bearer',
    expires_in: 300,
    ...(requested.length > 0 ? { scope: requested.join(' ') } : {}),
  });
}

export async function startTokenServer(options: ServerOptions = {}): Promise<TokenServer> {
  const dir = await mkdtemp(join(tmpdir(), 'tc-robust-'));
  const ca = await createCa({ commonName: 'robustness test CA (not trusted by default)' });
  const leaf: PemPair =
    options.cert === 'wrong-name'
      ? await issueServerCert(ca, { dns: ['token.example.test'] })
      : options.cert === 'expired'
        ? await issueCert(ca, { commonName: HOST, usage: 'server', ips: [HOST], validityDays: -1 })
        : await issueServerCert(ca, { ips: [HOST] });
  const caFile = join(dir, 'ca.pem');
  await writeFile(caFile, ca.certPem);
  const clients = options.clients ?? { [CLIENT_ID]: CLIENT_SECRET };
  const requests: SeenRequest[] = [];
  const timers = new Set<NodeJS.Timeout>();
  const later = (ms: number, fn: () => void, repeat = false): void => {
    const t = repeat ? setInterval(fn, ms) : setTimeout(() => (timers.delete(t), fn()), ms);
    timers.add(t);
  };

  const state: { behaviour: Behaviour } = { behaviour: options.behaviour ?? 'ok' };
  const handler = (req: IncomingMessage, res: ServerResponse): void => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      requests.push({
        at: performance.now(),
        method: req.method ?? '',
        url: req.url ?? '',
        authorization: req.headers.authorization,
        body,
      });
      switch (state.behaviour) {
        case 'ok':
          return answer(req, body, res, clients);
        case 'hang':
          return;
        case 'slow':
          return later(options.slowMs ?? 5000, () => {
            if (!res.destroyed) answer(req, body, res, clients);
          });
        case 'trickle': {
          res.writeHead(200, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' });
          res.write('{"access_token":"');
          return later(
            100,
            () => {
              if (!res.destroyed) res.write('a');
            },
            true,
          );
        }
        case 'huge': {
          const size = options.hugeBytes ?? 100 * 1024;
          const head = '{"access_token":"abc","token_type":"Bearer","padding":"';
          const tail = '"}';
          const text = head + 'x'.repeat(Math.max(0, size - head.length - tail.length)) + tail;
          res.writeHead(200, {
            'Content-Type': 'application/json',
            'Cache-Control': 'no-store',
            'Content-Length': String(text.length),
          });
          // Streamed in pieces, as a real server would send a large body.
          for (let i = 0; i < text.length; i += 8192) res.write(text.slice(i, i + 8192));
          return res.end();
        }
        case 'reset': {
          res.writeHead(200, {
            'Content-Type': 'application/json',
            'Cache-Control': 'no-store',
            'Content-Length': '200',
          });
          res.write('{"access_token":"partial');
          // Let the headers and the first bytes leave before the connection is torn down.
          return later(50, () => req.socket.destroy());
        }
        case 'html': {
          const html =
            '<!doctype html><html><body><h1>Welcome</h1><p>Please log in.</p></body></html>';
          res.writeHead(200, {
            'Content-Type': 'text/html; charset=utf-8',
            'Cache-Control': 'no-store',
          });
          return res.end(html);
        }
        case 'unavailable':
          return sendJson(res, 503, { error: 'temporarily_unavailable' });
        case 'rate-limit-first':
        case 'rate-limit-always': {
          if (state.behaviour === 'rate-limit-first' && requests.length > 1)
            return answer(req, body, res, clients);
          const retryAfter =
            typeof options.retryAfter === 'function'
              ? options.retryAfter()
              : options.retryAfter === undefined
                ? '1'
                : options.retryAfter;
          return oauthError(
            res,
            429,
            'slow_down',
            retryAfter === null ? {} : { 'Retry-After': retryAfter },
          );
        }
      }
    });
  };
  const server: Listener = options.plainHttp
    ? createHttpServer(handler)
    : createHttpsServer({ cert: leaf.certPem, key: leaf.keyPem }, handler);
  await new Promise<void>((resolve) => server.listen(0, HOST, resolve));
  const { port } = server.address() as AddressInfo;

  return {
    tokenUrl: `https://${HOST}:${port}/token`,
    caFile,
    get behaviour() {
      return state.behaviour;
    },
    set behaviour(b: Behaviour) {
      state.behaviour = b;
    },
    requests,
    async close() {
      for (const t of timers) clearTimeout(t);
      timers.clear();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** A port on 127.0.0.1 that nothing listens on (bound, then released). */
export async function closedPort(): Promise<number> {
  const s = createNetServer();
  await new Promise<void>((resolve) => s.listen(0, HOST, resolve));
  const { port } = s.address() as AddressInfo;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

export const SECRET_ENV = 'TC_ROBUST_SECRET';

/** A descriptor for one client_secret_basic client, its secret read from ${env:TC_ROBUST_SECRET}. */
export function descriptor(
  name: string,
  tokenUrl: string,
  extra: Record<string, unknown> = {},
): Record<string, unknown> {
  return {
    name,
    title: `robustness: ${name}`,
    tokenEndpoint: tokenUrl,
    clients: [
      { id: CLIENT_ID, auth: { method: 'client_secret_basic', secret: `\${env:${SECRET_ENV}}` } },
    ],
    grant: { type: 'client_credentials' },
    scopes: { request: 'api:read' },
    expect: { tokenType: 'Bearer' },
    ...extra,
  };
}

/**
 * The real path a user's descriptor takes: YAML written to `dir`, read and validated by
 * readDescriptor, ${env:…} resolved by resolveProvider with the given environment.
 */
export async function loadProvider(
  dir: string,
  data: Record<string, unknown>,
  env: NodeJS.ProcessEnv = { [SECRET_ENV]: CLIENT_SECRET },
): Promise<Provider> {
  const file = join(dir, `${String(data['name'])}.yaml`);
  await writeFile(file, stringify(data));
  return resolveProvider(readDescriptor(file), env);
}
