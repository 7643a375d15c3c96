/**
 * A hand-written authorization server for the authorization_code grant (with PKCE) and refresh
 * tokens, on loopback over HTTPS, for proving the authorization-code and refresh checks live:
 * conformant by default, with ONE switchable defect per check, selected by the first path segment:
 *
 *   https://127.0.0.1:PORT/<mode>/authorize    GET: the authorization endpoint (login form, then a code)
 *   https://127.0.0.1:PORT/<mode>/login        GET: the form; POST: username + password
 *   https://127.0.0.1:PORT/<mode>/token        POST: authorization_code, refresh_token
 *   https://127.0.0.1:PORT/<mode>/introspect   RFC 7662, Basic client authentication
 *
 * Kept apart from fault-server.ts (the client_credentials and jwt-bearer faults): a code needs a
 * login, a session and state across requests, which that server's stateless modes do not have.
 * Every request is counted by path (`requests`). Node built-ins only, plus the run-time CA.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { createCa, issueServerCert } from '../../src/reference/certs.js';

const HOST = '127.0.0.1';
export const REDIRECT_URI = 'https://client.example.org/cb';
export const LIFETIME_SECONDS = 300;
/** What the clients may have; admin is known but never theirs. */
const CLIENT_SCOPES = ['openid', 'api:read', 'api:write'];

/** One defect per check id (docs/checks.md): what the server does wrong in that mode. */
export const AUTH_CODE_DEFECTS = {
  'authorization-code.exchanged':
    'refuses the codes of the client_secret_post client with 400 unauthorized_client',
  'authorization-code.first-use': 'refuses every code exchange with 400 invalid_grant',
  'authorization-code.replay-refused': 'a used code is exchanged again',
  'authorization-code.replay-invalid-grant': 'a used code is refused with invalid_request',
  'authorization-code.replay-revokes-tokens':
    'a replayed code is refused, but its tokens stay valid',
  'authorization-code.wrong-verifier-refused':
    'the code_verifier is not compared with the challenge',
  'authorization-code.wrong-verifier-invalid-grant':
    'a wrong code_verifier is refused with invalid_request',
  'authorization-code.missing-verifier-refused':
    'a code is exchanged without code_verifier although a challenge was sent',
  'authorization-code.missing-verifier-invalid-grant':
    'a missing code_verifier is refused with invalid_request',
  'authorization-code.redirect-mismatch-refused': 'redirect_uri is not compared',
  'authorization-code.redirect-mismatch-invalid-grant':
    'another redirect_uri is refused with invalid_request',
  'authorization-code.other-client-refused': 'a code is exchanged by any authenticated client',
  'authorization-code.other-client-invalid-grant':
    "another client's code is refused with unauthorized_client",
  'authorization-code.plain-pkce-refused': 'code_challenge_method=plain goes on to the login',
  'authorization-code.plain-pkce-invalid-request':
    'code_challenge_method=plain is refused with error=unsupported_response_type',
  'refresh.works': 'refuses every refresh with 400 invalid_grant',
  'refresh.expires-in': 'refresh responses omit expires_in',
  'refresh.broader-scope-refused': 'a refresh asking for more scope is granted it',
  'refresh.broader-scope-invalid-scope':
    'a refresh asking for more scope is refused with invalid_grant',
  'refresh.narrower-scope-granted': 'a narrower refresh is granted the original scope, echoed',
  'refresh.other-client-refused': "another client's refresh token is redeemed",
  'refresh.other-client-invalid-grant':
    "another client's refresh token is refused with unauthorized_client",
  'refresh.rotated-token-refused': 'a rotated refresh token is redeemed again',
  'refresh.reuse-revokes-family':
    'reusing a rotated refresh token is refused, the family stays valid',
} as const;
export type AuthCodeDefect = keyof typeof AUTH_CODE_DEFECTS;
export type AuthCodeMode = 'ok' | AuthCodeDefect;
export const AUTH_CODE_MODES: readonly AuthCodeMode[] = [
  'ok',
  ...(Object.keys(AUTH_CODE_DEFECTS) as AuthCodeDefect[]),
];

export interface AuthCodeFaultServer {
  origin: string;
  caPem: string;
  clients: { basic: { id: string; secret: string }; post: { id: string; secret: string } };
  user: { username: string; password: string };
  /** `METHOD /mode/endpoint` of every request received. */
  requests: string[];
  close(): Promise<void>;
}

interface Code {
  clientId: string;
  redirectUri: string;
  challenge?: string;
  method?: string;
  scope: string;
  used: boolean;
  /** Tokens issued from it (revoked when it is replayed). */
  issued: string[];
}

interface Refresh {
  clientId: string;
  scope: string;
  family: string;
  used: boolean;
}

class OAuthError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
  ) {
    super(code);
  }
}

const b64 = (n = 24) => randomBytes(n).toString('base64url');

function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of req as AsyncIterable<Buffer>) chunks.push(c);
  return Buffer.concat(chunks).toString('utf8');
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, {
    'content-type': 'application/json',
    'cache-control': 'no-store',
    pragma: 'no-cache',
  });
  res.end(JSON.stringify(body));
}

function redirect(res: ServerResponse, location: string, cookie?: string): void {
  res.writeHead(302, {
    location,
    'cache-control': 'no-store',
    ...(cookie ? { 'set-cookie': cookie } : {}),
  });
  res.end();
}

export async function startAuthCodeFaultServer(): Promise<AuthCodeFaultServer> {
  const ca = await createCa({ commonName: 'token-conformance auth-code faults CA' });
  const tls = await issueServerCert(ca, { ips: [HOST], dns: ['localhost'] });
  const clients = {
    basic: { id: 'ac-basic', secret: b64() },
    post: { id: 'ac-post', secret: b64() },
  };
  const user = { username: 'bob', password: b64(12) };
  const requests: string[] = [];
  const sessions = new Set<string>();
  const pending = new Map<string, URLSearchParams>();
  const codes = new Map<string, Code>();
  const refreshTokens = new Map<string, Refresh>();
  const accessTokens = new Map<
    string,
    { clientId: string; scope: string; family?: string; exp: number }
  >();
  const revokedFamilies = new Set<string>();

  /** The client a token request authenticates as (Basic for ac-basic, the body for ac-post). */
  const authenticate = (req: IncomingMessage, form: URLSearchParams): string => {
    const auth = req.headers.authorization;
    if (auth?.startsWith('Basic ')) {
      const [id, secret] = Buffer.from(auth.slice(6), 'base64').toString('utf8').split(':');
      if (
        id === clients.basic.id &&
        sameSecret(decodeURIComponent(secret ?? ''), clients.basic.secret)
      )
        return id;
      throw new OAuthError(401, 'invalid_client');
    }
    const id = form.get('client_id');
    if (id === clients.post.id && sameSecret(form.get('client_secret') ?? '', clients.post.secret))
      return id;
    throw new OAuthError(401, 'invalid_client');
  };

  const issue = (mode: AuthCodeMode, clientId: string, scope: string, family?: string) => {
    const access = b64(32);
    accessTokens.set(access, {
      clientId,
      scope,
      ...(family ? { family } : {}),
      exp: Date.now() + LIFETIME_SECONDS * 1000,
    });
    const refresh = b64(32);
    const fam = family ?? b64();
    refreshTokens.set(refresh, { clientId, scope, family: fam, used: false });
    accessTokens.get(access)!.family = fam;
    return {
      access,
      body: {
        access_token: access,
        token_type: 'Bearer',
        ...(mode === 'refresh.expires-in' && family ? {} : { expires_in: LIFETIME_SECONDS }),
        refresh_token: refresh,
        scope,
      },
    };
  };

  /** A code for the pending authorization request, sent back to its redirect URI. */
  const finish = (res: ServerResponse, q: URLSearchParams, cookie?: string): void => {
    const code = b64(32);
    codes.set(code, {
      clientId: q.get('client_id') ?? '',
      redirectUri: q.get('redirect_uri') ?? '',
      ...(q.get('code_challenge') ? { challenge: q.get('code_challenge')! } : {}),
      ...(q.get('code_challenge_method') ? { method: q.get('code_challenge_method')! } : {}),
      scope: (q.get('scope') ?? '')
        .split(' ')
        .filter((s) => CLIENT_SCOPES.includes(s))
        .join(' '),
      used: false,
      issued: [],
    });
    const to = new URL(q.get('redirect_uri')!);
    to.searchParams.set('code', code);
    if (q.get('state')) to.searchParams.set('state', q.get('state')!);
    redirect(res, to.toString(), cookie);
  };

  const authorize = (
    mode: AuthCodeMode,
    req: IncomingMessage,
    res: ServerResponse,
    q: URLSearchParams,
  ) => {
    const known = [clients.basic.id, clients.post.id].includes(q.get('client_id') ?? '');
    if (!known || q.get('redirect_uri') !== REDIRECT_URI) {
      json(res, 400, { error: 'invalid_request' });
      return;
    }
    const back = (error: string) => {
      const to = new URL(REDIRECT_URI);
      to.searchParams.set('error', error);
      if (q.get('state')) to.searchParams.set('state', q.get('state')!);
      redirect(res, to.toString());
    };
    if (q.get('response_type') !== 'code') return back('unsupported_response_type');
    const method = q.get('code_challenge_method');
    if (
      q.get('code_challenge') &&
      method !== 'S256' &&
      mode !== 'authorization-code.plain-pkce-refused'
    )
      return back(
        mode === 'authorization-code.plain-pkce-invalid-request'
          ? 'unsupported_response_type'
          : 'invalid_request',
      );
    const sid = /(?:^|; )sid=([\w-]+)/.exec(req.headers.cookie ?? '')?.[1];
    if (sid && sessions.has(sid)) return finish(res, q);
    const id = b64();
    pending.set(id, q);
    redirect(res, `/${mode}/login?req=${id}`);
  };

  const loginPage = (mode: AuthCodeMode, id: string, failed: boolean) =>
    `<!doctype html><html><body><h1>Sign in</h1>${failed ? '<p>Wrong.</p>' : ''}<form method="post" action="/${mode}/login?req=${id}"><input name="username"><input name="password" type="password"><button type="submit">Sign in</button></form></body></html>`;

  const login = async (
    mode: AuthCodeMode,
    req: IncomingMessage,
    res: ServerResponse,
    id: string,
  ) => {
    const q = pending.get(id);
    if (!q) {
      json(res, 400, { error: 'invalid_request' });
      return;
    }
    if (req.method === 'POST') {
      const form = new URLSearchParams(await readBody(req));
      if (form.get('username') === user.username && form.get('password') === user.password) {
        pending.delete(id);
        const sid = b64();
        sessions.add(sid);
        finish(res, q, `sid=${sid}; Path=/; Secure; HttpOnly; SameSite=Lax`);
        return;
      }
    }
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end(loginPage(mode, id, req.method === 'POST'));
  };

  const codeGrant = (mode: AuthCodeMode, clientId: string, form: URLSearchParams) => {
    if (mode === 'authorization-code.first-use') throw new OAuthError(400, 'invalid_grant');
    if (mode === 'authorization-code.exchanged' && clientId === clients.post.id)
      throw new OAuthError(400, 'unauthorized_client');
    const code = codes.get(form.get('code') ?? '');
    if (!code) throw new OAuthError(400, 'invalid_grant');
    if (code.used && mode !== 'authorization-code.replay-refused') {
      if (mode !== 'authorization-code.replay-revokes-tokens')
        for (const t of code.issued) accessTokens.delete(t);
      throw new OAuthError(
        400,
        mode === 'authorization-code.replay-invalid-grant' ? 'invalid_request' : 'invalid_grant',
      );
    }
    if (code.clientId !== clientId && mode !== 'authorization-code.other-client-refused')
      throw new OAuthError(
        400,
        mode === 'authorization-code.other-client-invalid-grant'
          ? 'unauthorized_client'
          : 'invalid_grant',
      );
    if (
      form.get('redirect_uri') !== code.redirectUri &&
      mode !== 'authorization-code.redirect-mismatch-refused'
    )
      throw new OAuthError(
        400,
        mode === 'authorization-code.redirect-mismatch-invalid-grant'
          ? 'invalid_request'
          : 'invalid_grant',
      );
    if (code.challenge) {
      const verifier = form.get('code_verifier');
      if (!verifier) {
        if (mode !== 'authorization-code.missing-verifier-refused')
          throw new OAuthError(
            400,
            mode === 'authorization-code.missing-verifier-invalid-grant'
              ? 'invalid_request'
              : 'invalid_grant',
          );
      } else {
        const expected =
          code.method === 'plain'
            ? verifier
            : createHash('sha256').update(verifier).digest('base64url');
        if (expected !== code.challenge && mode !== 'authorization-code.wrong-verifier-refused')
          throw new OAuthError(
            400,
            mode === 'authorization-code.wrong-verifier-invalid-grant'
              ? 'invalid_request'
              : 'invalid_grant',
          );
      }
    }
    code.used = true;
    const { access, body } = issue(mode, clientId, code.scope);
    code.issued.push(access);
    return body;
  };

  const refreshGrant = (mode: AuthCodeMode, clientId: string, form: URLSearchParams) => {
    if (mode === 'refresh.works') throw new OAuthError(400, 'invalid_grant');
    const token = form.get('refresh_token') ?? '';
    const rt = refreshTokens.get(token);
    if (!rt || revokedFamilies.has(rt.family)) throw new OAuthError(400, 'invalid_grant');
    if (rt.clientId !== clientId && mode !== 'refresh.other-client-refused')
      throw new OAuthError(
        400,
        mode === 'refresh.other-client-invalid-grant' ? 'unauthorized_client' : 'invalid_grant',
      );
    if (rt.used && mode !== 'refresh.rotated-token-refused') {
      if (mode !== 'refresh.reuse-revokes-family') revokedFamilies.add(rt.family);
      throw new OAuthError(400, 'invalid_grant');
    }
    const original = rt.scope.split(' ').filter(Boolean);
    const asked = (form.get('scope') ?? '').split(' ').filter(Boolean);
    if (asked.some((s) => !original.includes(s)) && mode !== 'refresh.broader-scope-refused')
      throw new OAuthError(
        400,
        mode === 'refresh.broader-scope-invalid-scope' ? 'invalid_grant' : 'invalid_scope',
      );
    const scope =
      asked.length === 0 || mode === 'refresh.narrower-scope-granted' ? rt.scope : asked.join(' ');
    rt.used = true;
    const { body } = issue(mode, clientId, scope, rt.family);
    // The family's refresh tokens keep the original grant's scope.
    refreshTokens.get(body.refresh_token)!.scope = rt.scope;
    return body;
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'https://x');
    const [, modeName, endpoint] = url.pathname.split('/');
    requests.push(`${req.method} /${modeName}/${endpoint}`);
    const mode = modeName as AuthCodeMode;
    if (!AUTH_CODE_MODES.includes(mode)) return json(res, 404, { error: 'not_found' });
    if (endpoint === 'authorize' && req.method === 'GET')
      return authorize(mode, req, res, url.searchParams);
    if (endpoint === 'login') return login(mode, req, res, url.searchParams.get('req') ?? '');
    const form = new URLSearchParams(req.method === 'POST' ? await readBody(req) : '');
    try {
      if (endpoint === 'introspect') {
        const clientId = authenticate(req, form);
        const t = accessTokens.get(form.get('token') ?? '');
        const active =
          t !== undefined && t.exp > Date.now() && !(t.family && revokedFamilies.has(t.family));
        return json(
          res,
          200,
          active
            ? { active: true, client_id: t.clientId, scope: t.scope }
            : { active: false, ...(clientId ? {} : {}) },
        );
      }
      if (endpoint !== 'token' || req.method !== 'POST')
        throw new OAuthError(405, 'invalid_request');
      const clientId = authenticate(req, form);
      const grant = form.get('grant_type');
      if (grant === 'authorization_code') return json(res, 200, codeGrant(mode, clientId, form));
      if (grant === 'refresh_token') return json(res, 200, refreshGrant(mode, clientId, form));
      throw new OAuthError(400, grant ? 'unsupported_grant_type' : 'invalid_request');
    } catch (e) {
      if (!(e instanceof OAuthError)) throw e;
      if (e.status === 401) res.setHeader('www-authenticate', 'Basic realm="faults"');
      return json(res, e.status, { error: e.code });
    }
  };

  const server = createServer({ key: tls.keyPem, cert: tls.certPem }, (req, res) => {
    handle(req, res).catch(() => {
      if (!res.headersSent) json(res, 500, { error: 'server_error' });
      else res.destroy();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, HOST, resolve));
  const origin = `https://${HOST}:${(server.address() as AddressInfo).port}`;
  return {
    origin,
    caPem: ca.certPem,
    clients,
    user,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
