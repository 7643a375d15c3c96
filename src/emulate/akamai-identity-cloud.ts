/**
 * Stand-in for Akamai Identity Cloud, Webhooks v3 (/work/shared/seeds/001_6f78de3ae0231b95.txt):
 * client_credentials with client_secret_basic, scope `*:webhooks/**` echoed, opaque Bearer tokens
 * valid 3600 s, no refresh token.
 *
 * Token endpoint: oidc-provider (a real server, deployment policy only). Our own code: the
 * Webhooks v3 API stand-in (a GET that accepts the token while oidc-provider still knows it), and
 * with `broken` a middleware that adds a refresh_token to token responses.
 */
import { randomBytes } from 'node:crypto';
import {
  baseConfiguration,
  clientDefaults,
  listen,
  loadOidcProvider,
  mountAt,
  sendJson,
} from './host.js';
import type { StartStandIn } from './types.js';

const SCOPE = '*:webhooks/**';
const CUSTOMER = '01000000-0000-3000-9000-000000000000';
const API_PATH = `/${CUSTOMER}/webhooks/v3/subscriptions`;
const MOUNT = `/${CUSTOMER}/login`;
const BEARER = /^Bearer +([A-Za-z0-9\-._~+/]+=*)$/i;

export const start: StartStandIn = async (ca, options) => {
  const { default: Provider } = await loadOidcProvider();
  const listener = await listen(ca);
  try {
    const issuer = `${listener.origin}${MOUNT}`;
    const client = {
      id: `akamai-config-${randomBytes(4).toString('hex')}`,
      secret: randomBytes(32).toString('base64url'),
    };
    const provider = new Provider(
      issuer,
      await baseConfiguration({
        clients: [
          {
            client_id: client.id,
            client_secret: client.secret,
            token_endpoint_auth_method: 'client_secret_basic',
            ...clientDefaults(SCOPE),
          },
        ],
        scopes: [SCOPE],
        ttl: { ClientCredentials: 3600 },
        clientAuthMethods: ['client_secret_basic'],
      }),
    );
    if (options.broken) {
      // Broken promise: "no refresh token is returned along with the access token".
      provider.use(async (ctx, next) => {
        await next();
        const body: unknown = ctx.body;
        if (
          ctx.path.endsWith('/token') &&
          ctx.status === 200 &&
          typeof body === 'object' &&
          body !== null &&
          'access_token' in body
        ) {
          ctx.body = { ...body, refresh_token: randomBytes(32).toString('base64url') };
        }
      });
    }
    const callback = provider.callback();
    listener.serve((req, res) => {
      const path = (req.url ?? '').split('?')[0];
      if (path !== API_PATH) {
        // oidc-provider mounted under the issuer's path, /{customer_id}/login (as a router would mount it).
        if (mountAt(MOUNT, req, res)) callback(req, res);
        return;
      }
      void (async () => {
        const match = BEARER.exec(req.headers.authorization ?? '');
        const token = match?.[1] ? await provider.ClientCredentials.find(match[1]) : undefined;
        if (req.method !== 'GET')
          sendJson(res, 405, { error: 'method_not_allowed' }, { allow: 'GET' });
        else if (token && !token.isExpired) sendJson(res, 200, { subscriptions: [] });
        else
          sendJson(
            res,
            401,
            { error: 'invalid_token' },
            { 'www-authenticate': 'Bearer realm="webhooks", error="invalid_token"' },
          );
      })().catch(() => {
        if (!res.headersSent) sendJson(res, 500, { error: 'server_error' });
      });
    });
    return {
      name: 'akamai-identity-cloud',
      env: {
        AKAMAI_TOKEN_URL: `${issuer}/token`,
        AKAMAI_CLIENT_ID: client.id,
        AKAMAI_CLIENT_SECRET: client.secret,
        AKAMAI_API_URL: `${listener.origin}${API_PATH}`,
      },
      secrets: [client.secret],
      close: () => listener.close(),
    };
  } catch (err) {
    await listener.close();
    throw err;
  }
};
