/**
 * Stand-in for IST EduCloud / skolid (/work/shared/seeds/004_cdde9f3bd7b07353.txt):
 * client_credentials at /connect/token, client_id and client_secret as form values or HTTP Basic,
 * scope optional (empty: every scope of the client), scope echoed, Bearer tokens valid 3600 s.
 *
 * Token endpoint: oidc-provider (a real server, deployment policy only). Our own code is a thin
 * request normaliser in front of it for the two things IST does that oidc-provider does not: it
 * takes Basic as well as form credentials from one client (oidc-provider holds a client to its one
 * registered method, here client_secret_post, so Basic is moved into the form), and it grants a
 * request without scope every scope of the client (oidc-provider grants none, so the client's
 * scopes are added to such a request). With `broken`, scope is dropped from token responses.
 */
import { randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import {
  baseConfiguration,
  clientDefaults,
  listen,
  loadOidcProvider,
  readBody,
  sendJson,
} from './host.js';
import type { StartStandIn } from './types.js';

const TOKEN_PATH = '/connect/token';
const ALL_SCOPES = ['skolid.profile', 'skolid.school'];

/** RFC 6749 §2.3.1: Basic credentials are form-encoded before base64. */
function basicCredentials(header: string | undefined): { id: string; secret: string } | undefined {
  const m = /^Basic +([A-Za-z0-9+/]+=*)$/i.exec(header ?? '');
  if (!m?.[1]) return undefined;
  const decoded = Buffer.from(m[1], 'base64').toString('utf8');
  const i = decoded.indexOf(':');
  if (i < 0) return undefined;
  try {
    const unform = (s: string): string => decodeURIComponent(s.replace(/\+/g, ' '));
    return { id: unform(decoded.slice(0, i)), secret: unform(decoded.slice(i + 1)) };
  } catch {
    return undefined;
  }
}

/** Gives oidc-provider a request whose body is `body` (the original one was read already). */
function replaceBody(req: IncomingMessage, body: Buffer): void {
  req.headers['content-length'] = String(body.length);
  Object.defineProperty(req, 'readable', { value: true, configurable: true });
  Object.defineProperty(req, 'readableEncoding', { value: null, configurable: true });
  Object.defineProperty(req, 'iterator', {
    configurable: true,
    value: async function* iterator(): AsyncGenerator<Buffer> {
      yield body;
    },
  });
}

export const start: StartStandIn = async (ca, options) => {
  const { default: Provider } = await loadOidcProvider();
  const listener = await listen(ca);
  try {
    const issuer = listener.origin;
    const client = {
      id: `ist-${randomBytes(4).toString('hex')}`,
      secret: randomBytes(32).toString('base64url'),
    };
    const provider = new Provider(
      issuer,
      await baseConfiguration({
        clients: [
          {
            client_id: client.id,
            client_secret: client.secret,
            token_endpoint_auth_method: 'client_secret_post',
            ...clientDefaults(ALL_SCOPES.join(' ')),
          },
        ],
        scopes: ALL_SCOPES,
        ttl: { ClientCredentials: 3600 },
        clientAuthMethods: ['client_secret_post'],
        routes: { token: TOKEN_PATH },
      }),
    );
    if (options.broken) {
      // Broken promise: the example response carries "scope".
      provider.use(async (ctx, next) => {
        await next();
        const body: unknown = ctx.body;
        if (
          ctx.path === TOKEN_PATH &&
          ctx.status === 200 &&
          typeof body === 'object' &&
          body !== null &&
          'scope' in body
        ) {
          const { scope: _dropped, ...rest } = body as Record<string, unknown>;
          ctx.body = rest;
        }
      });
    }
    const callback = provider.callback();
    const normalise = async (req: IncomingMessage): Promise<void> => {
      const type = (req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase();
      if (req.method !== 'POST' || type !== 'application/x-www-form-urlencoded') return;
      const raw = await readBody(req);
      let body = raw.toString('utf8');
      const params = new URLSearchParams(body);
      const add = (name: string, value: string): void => {
        body += `${body === '' ? '' : '&'}${encodeURIComponent(name)}=${encodeURIComponent(value)}`;
      };
      const basic = basicCredentials(req.headers.authorization);
      // Basic alone (not with form credentials too: two methods stay two methods, and are refused).
      if (basic && !params.has('client_secret') && !params.has('client_id')) {
        add('client_id', basic.id);
        add('client_secret', basic.secret);
        delete req.headers.authorization;
      }
      const grantTypes = params.getAll('grant_type');
      if (
        grantTypes.length === 1 &&
        grantTypes[0] === 'client_credentials' &&
        !params.has('scope')
      ) {
        // "Leave empty to include all scopes allowed for the client".
        add('scope', ALL_SCOPES.join(' '));
      }
      replaceBody(req, Buffer.from(body, 'utf8'));
    };
    listener.serve((req, res) => {
      if ((req.url ?? '').split('?')[0] !== TOKEN_PATH) {
        callback(req, res);
        return;
      }
      normalise(req).then(
        () => callback(req, res),
        () =>
          sendJson(res, 400, {
            error: 'invalid_request',
            error_description: 'unreadable request body',
          }),
      );
    });
    return {
      name: 'ist-educloud',
      env: {
        IST_TOKEN_URL: `${issuer}${TOKEN_PATH}`,
        IST_CLIENT_ID: client.id,
        IST_CLIENT_SECRET: client.secret,
        IST_ALL_SCOPES: ALL_SCOPES.join(' '),
      },
      secrets: [client.secret],
      close: () => listener.close(),
    };
  } catch (err) {
    await listener.close();
    throw err;
  }
};
