/**
 * Stand-in for Signaturgruppen Broker (/work/shared/seeds/003_2d1b79683a6b014d.txt):
 * client_credentials at /oauth2/token, an API client with a shared secret in the form body
 * (client_secret_post) and one with an uploaded RSA public key (private_key_jwt RS256); Bearer
 * tokens valid 3600 s.
 *
 * Entirely oidc-provider (a real server, deployment policy only). With `broken` the deployment
 * issues tokens valid 7200 s instead (its lifetime setting, not a rewritten answer).
 */
import { randomBytes } from 'node:crypto';
import {
  baseConfiguration,
  clientDefaults,
  listen,
  loadOidcProvider,
  mountAt,
  rsaKey,
} from './host.js';
import type { StartStandIn } from './types.js';

const MOUNT = '/oauth2';

export const start: StartStandIn = async (ca, options) => {
  const { default: Provider } = await loadOidcProvider();
  const listener = await listen(ca);
  try {
    const issuer = `${listener.origin}${MOUNT}`;
    const post = {
      id: `sg-api-${randomBytes(4).toString('hex')}`,
      secret: randomBytes(32).toString('base64url'),
    };
    const pkjwt = { id: `sg-api-rsa-${randomBytes(4).toString('hex')}` };
    const key = await rsaKey();
    const provider = new Provider(
      issuer,
      await baseConfiguration({
        clients: [
          {
            client_id: post.id,
            client_secret: post.secret,
            token_endpoint_auth_method: 'client_secret_post',
            ...clientDefaults(),
          },
          {
            client_id: pkjwt.id,
            token_endpoint_auth_method: 'private_key_jwt',
            token_endpoint_auth_signing_alg: 'RS256',
            jwks: { keys: [{ ...key.publicJwk, alg: 'RS256' }] },
            ...clientDefaults(),
          },
        ],
        scopes: [],
        ttl: { ClientCredentials: options.broken ? 7200 : 3600 },
        clientAuthMethods: ['client_secret_post', 'private_key_jwt'],
      }),
    );
    const callback = provider.callback();
    listener.serve((req, res) => {
      if (mountAt(MOUNT, req, res)) callback(req, res);
    });
    return {
      name: 'signaturgruppen-broker',
      env: {
        SG_TOKEN_URL: `${issuer}/token`,
        SG_CLIENT_ID: post.id,
        SG_CLIENT_SECRET: post.secret,
        SG_PKJWT_CLIENT_ID: pkjwt.id,
        SG_PKJWT_KEY: key.pkcs8,
      },
      secrets: [post.secret, key.pkcs8],
      close: () => listener.close(),
    };
  } catch (err) {
    await listener.close();
    throw err;
  }
};
