import type { ClientDescriptor, Provider } from '../descriptor/types.js';

/** The first client that sends a shared secret (Basic or in the body): probes about secrets need one. */
export function secretClient(p: Provider): ClientDescriptor | undefined {
  return p.clients.find((c) => (c.auth.method === 'client_secret_basic' || c.auth.method === 'client_secret_post') && c.auth.secret !== undefined);
}

/** The first client that authenticates with a JWT (client_secret_jwt or private_key_jwt). */
export function assertionClient(p: Provider): ClientDescriptor | undefined {
  return p.clients.find((c) => c.auth.assertion !== undefined);
}

/** The first client that authenticates with a TLS client certificate. */
export function mtlsClient(p: Provider): ClientDescriptor | undefined {
  return p.clients.find((c) => c.auth.tls !== undefined);
}
