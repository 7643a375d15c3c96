/**
 * Stand-in for Raidiam Connect (/work/shared/seeds/002_8be352521dc650d7.txt): client_credentials
 * with scope directory:software; one client with tls_client_auth at the RFC 8705 mtls_endpoint_aliases
 * token endpoint (certificate-bound tokens), one with private_key_jwt (PS256); JWT access tokens;
 * discovery at /.well-known/openid-configuration. The server certificate is from the run's CA
 * (RAIDIAM_CA_FILE).
 *
 * Entirely oidc-provider (a real server, deployment policy only: the mTLS hooks read the TLS peer
 * certificate). With `broken`, the deployment's certificate hook is wrong: when no certificate
 * was presented it answers with the client's registered one, so tokens are issued without a
 * client certificate.
 */
import { randomBytes, X509Certificate } from 'node:crypto';
import { join } from 'node:path';
import { TLSSocket } from 'node:tls';
import type { ResourceServer } from 'oidc-provider';
import { certificateMatches, issueCert, subjectDn } from '../reference/certs.js';
import {
  baseConfiguration,
  clientDefaults,
  listen,
  loadOidcProvider,
  peerCertificate,
  rsaKey,
  writePrivate,
  type Listener,
} from './host.js';
import type { StartStandIn } from './types.js';

const SCOPE = 'directory:software';

export const start: StartStandIn = async (ca, options) => {
  const { default: Provider, errors } = await loadOidcProvider();
  const listeners: Listener[] = [];
  const close = async (): Promise<void> => {
    await Promise.all(listeners.map((l) => l.close()));
  };
  try {
    const main = await listen(ca);
    listeners.push(main);
    const alias = await listen(ca);
    listeners.push(alias);
    const issuer = main.origin;
    const resourceUrl = `${issuer}/directory`;
    const mtls = { id: `raidiam-mtls-${randomBytes(4).toString('hex')}` };
    const pkjwt = { id: `raidiam-pkjwt-${randomBytes(4).toString('hex')}` };
    const [cert, key] = await Promise.all([
      issueCert(ca, { commonName: mtls.id, usage: 'client' }),
      rsaKey(),
    ]);
    const registered = new X509Certificate(cert.certPem);
    const files = {
      ca: await writePrivate(join(options.dir, 'raidiam-ca.pem'), ca.certPem),
      cert: await writePrivate(join(options.dir, 'raidiam-mtls.cert.pem'), cert.certPem),
      key: await writePrivate(join(options.dir, 'raidiam-mtls.key.pem'), cert.keyPem),
      pkjwt: await writePrivate(join(options.dir, 'raidiam-pkjwt.key.pem'), key.pkcs8),
    };
    const resourceServer = (indicator: string): ResourceServer => {
      if (indicator !== resourceUrl) throw new errors.InvalidTarget();
      return {
        scope: SCOPE,
        audience: resourceUrl,
        accessTokenTTL: 3600,
        accessTokenFormat: 'jwt',
        jwt: { sign: { alg: 'RS256' } },
      };
    };
    const certificateOf = (socket: import('node:net').Socket): X509Certificate | undefined =>
      peerCertificate(socket) ?? (options.broken ? registered : undefined);
    const provider = new Provider(
      issuer,
      await baseConfiguration({
        clients: [
          {
            client_id: mtls.id,
            token_endpoint_auth_method: 'tls_client_auth',
            tls_client_auth_subject_dn: subjectDn(registered.raw),
            tls_client_certificate_bound_access_tokens: true,
            ...clientDefaults(SCOPE),
          },
          {
            client_id: pkjwt.id,
            token_endpoint_auth_method: 'private_key_jwt',
            token_endpoint_auth_signing_alg: 'PS256',
            jwks: { keys: [key.publicJwk] },
            ...clientDefaults(SCOPE),
          },
        ],
        scopes: [SCOPE],
        ttl: { ClientCredentials: 3600, AccessToken: 3600 },
        clientAuthMethods: ['private_key_jwt', 'tls_client_auth'],
        discovery: { mtls_endpoint_aliases: { token_endpoint: `${alias.origin}/token` } },
        enabledJWA: { clientAuthSigningAlgValues: ['PS256', 'RS256', 'ES256'] },
        features: {
          clientCredentials: { enabled: true },
          devInteractions: { enabled: false },
          mTLS: {
            enabled: true,
            certificateBoundAccessTokens: true,
            tlsClientAuth: true,
            getCertificate: (ctx) => certificateOf(ctx.socket),
            certificateAuthorized: (ctx) =>
              (ctx.socket instanceof TLSSocket && ctx.socket.authorized) ||
              (options.broken === true && peerCertificate(ctx.socket) === undefined),
            certificateSubjectMatches: (ctx, property, expected) => {
              const presented = certificateOf(ctx.socket);
              return (
                presented !== undefined && certificateMatches(presented.raw, property, expected)
              );
            },
          },
          resourceIndicators: {
            enabled: true,
            defaultResource: () => resourceUrl,
            useGrantedResource: () => true,
            getResourceServerInfo: (_ctx, indicator) => resourceServer(indicator),
          },
        },
      }),
    );
    const callback = provider.callback();
    main.serve(callback);
    alias.serve(callback);
    return {
      name: 'raidiam-connect',
      env: {
        RAIDIAM_ISSUER: issuer,
        RAIDIAM_TOKEN_URL: `${issuer}/token`,
        RAIDIAM_CA_FILE: files.ca,
        RAIDIAM_MTLS_CLIENT_ID: mtls.id,
        RAIDIAM_MTLS_CERT_FILE: files.cert,
        RAIDIAM_MTLS_KEY_FILE: files.key,
        RAIDIAM_PKJWT_CLIENT_ID: pkjwt.id,
        RAIDIAM_PKJWT_KEY_FILE: files.pkjwt,
        RAIDIAM_PKJWT_KID: key.kid,
      },
      secrets: [],
      close,
    };
  } catch (err) {
    await close();
    throw err;
  }
};
