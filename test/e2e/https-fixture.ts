/**
 * Real HTTPS servers on 127.0.0.1 for the end-to-end tests, with a CA and server certificate
 * generated at run time (src/reference/certs.ts).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer } from 'node:https';
import { createServer as createNetServer, type AddressInfo } from 'node:net';
import { createCa, issueServerCert } from '../../src/reference/certs.js';

export interface RecordedRequest {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
}

export interface TestServer {
  /** `https://127.0.0.1:<port>` */
  origin: string;
  port: number;
  /** The run-time CA certificate (PEM): write it next to a descriptor and name it in tls.caFile. */
  caPem: string;
  /** Every request received so far (counted as soon as its headers arrive). */
  requests: RecordedRequest[];
  close(): Promise<void>;
}

export type Handler = (req: RecordedRequest, res: ServerResponse) => void;

export async function startHttpsServer(handler: Handler): Promise<TestServer> {
  const ca = await createCa({ commonName: 'token-conformance e2e CA' });
  const leaf = await issueServerCert(ca, { ips: ['127.0.0.1'], dns: ['localhost'] });
  const requests: RecordedRequest[] = [];
  const server = createServer({ key: leaf.keyPem, cert: leaf.certPem }, (req, res) => {
    const recorded: RecordedRequest = {
      method: req.method ?? '',
      url: req.url ?? '',
      headers: req.headers,
      body: '',
    };
    requests.push(recorded);
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      recorded.body = Buffer.concat(chunks).toString('utf8');
      handler(recorded, res);
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    origin: `https://127.0.0.1:${port}`,
    port,
    caPem: ca.certPem,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

export interface AcceptAnythingTokens {
  accessToken: string;
  refreshToken: string;
}

/**
 * A non-conformant token endpoint: every request, whatever its method, credentials or parameters,
 * gets 200 with a fresh-looking token response and no Cache-Control or Pragma header.
 */
export function acceptAnything(
  tokens: AcceptAnythingTokens = {
    accessToken: 'abcdefghijklmnopqrstuvwxyz0123456789',
    refreshToken: 'r',
  },
): Handler {
  return (_req, res) => {
    const body = JSON.stringify({
      access_token: tokens.accessToken,
      token_type: 'Bearer',
      expires_in: 60,
      refresh_token: tokens.refreshToken,
    });
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(body);
  };
}

export interface EchoTokens extends AcceptAnythingTokens {
  idToken: string;
}

/** A header value made of what HTTP allows (visible ASCII and spaces), so any text can be echoed in one. */
const headerSafe = (v: string): string => v.replace(/[^\x20-\x7e]/g, '?');

/**
 * A server that echoes everything it receives: the request's method, URL, query, headers and body go
 * back in response headers and, nested at every depth, in the JSON body (members, arrays, an
 * error_description). A GET or an unknown grant_type gets a 400 error response; everything else a
 * 200 token response with the known tokens (access, refresh, and an id_token inside the echo).
 */
export function echoEverything(tokens: EchoTokens): Handler {
  return (req, res) => {
    const url = new URL(req.url, 'https://127.0.0.1');
    const query = [...url.searchParams.entries()];
    const form = [...new URLSearchParams(req.body).entries()];
    const echo = {
      method: req.method,
      url: req.url,
      headers: req.headers,
      body: req.body,
      query: Object.fromEntries(query),
      form,
    };
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      'x-echo-url': headerSafe(req.url),
      'x-echo-body': headerSafe(req.body),
      'x-echo-authorization': headerSafe(req.headers.authorization ?? ''),
      'x-echo-query': headerSafe(query.map(([k, v]) => `${k}=${v}`).join(' ')),
      'x-echo-form': headerSafe(form.map(([k, v]) => `${k}=${v}`).join(' ')),
      'x-echo-access-token': tokens.accessToken,
    };
    const grantType =
      new URLSearchParams(req.body).get('grant_type') ?? url.searchParams.get('grant_type');
    const refuse =
      req.method === 'GET' && url.pathname === '/token'
        ? true
        : grantType !== null && !/client_credentials|jwt-bearer/.test(grantType);
    const nested = {
      list: [
        req.body,
        req.headers.authorization ?? null,
        { deeper: [Object.fromEntries(form), { query: Object.fromEntries(query) }] },
      ],
      request: echo,
    };
    if (refuse) {
      const description = `refused ${req.method} ${req.url} with ${req.body} (${req.headers.authorization ?? 'no Authorization'})`;
      res.writeHead(400, headers);
      res.end(
        JSON.stringify({ error: 'invalid_request', error_description: description, echo, nested }),
      );
      return;
    }
    const body = {
      access_token: tokens.accessToken,
      token_type: 'Bearer',
      expires_in: 60,
      refresh_token: tokens.refreshToken,
      echo,
      nested: {
        ...nested,
        issued: [{ id_token: tokens.idToken, refresh_token: tokens.refreshToken }],
      },
    };
    res.writeHead(200, headers);
    res.end(JSON.stringify(body));
  };
}

/** A counting server that must never be reached: it answers 500 so a stray request is visible. */
export function mustNotBeCalled(): Handler {
  return (_req, res) => {
    res.writeHead(500, { 'content-type': 'text/plain' });
    res.end('this server must not receive requests');
  };
}

/** A TCP port on 127.0.0.1 that was listening a moment ago and is now closed (connections are refused). */
export async function closedPort(): Promise<number> {
  const server = createNetServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
