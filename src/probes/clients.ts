import type { ClientDescriptor, Provider } from '../descriptor/types.js';

/** The first client that sends a shared secret (Basic or in the body): probes about secrets need one. */
export function secretClient(p: Provider): ClientDescriptor | undefined {
  return p.clients.find(
    (c) =>
      (c.auth.method === 'client_secret_basic' || c.auth.method === 'client_secret_post') &&
      c.auth.secret !== undefined,
  );
}

/**
 * The client whose secret may travel in the request body: the client_secret_post client if one is
 * declared, else the first secret client. Probes that move the secret elsewhere (the query string)
 * use it, so a refusal cannot come from the unrelated fact that the client is registered for Basic.
 */
export function bodySecretClient(p: Provider): ClientDescriptor | undefined {
  return (
    p.clients.find((c) => c.auth.method === 'client_secret_post' && c.auth.secret !== undefined) ??
    secretClient(p)
  );
}

/** The first client that authenticates with a JWT (client_secret_jwt or private_key_jwt). */
export function assertionClient(p: Provider): ClientDescriptor | undefined {
  return p.clients.find((c) => c.auth.assertion !== undefined);
}

/**
 * The first client that authenticates with a TLS client certificate (tls_client_auth,
 * self_signed_tls_client_auth). A private_key_jwt client over mutual TLS presents a certificate too,
 * but authenticates with its assertion: without the certificate it may rightly still get a token.
 */
export function mtlsClient(p: Provider): ClientDescriptor | undefined {
  return p.clients.find(
    (c) =>
      c.auth.tls !== undefined &&
      (c.auth.method === 'tls_client_auth' || c.auth.method === 'self_signed_tls_client_auth'),
  );
}
