/** A provider descriptor after validation and ${env:…} resolution, with defaults applied. */
export type AuthMethod = 'client_secret_basic' | 'client_secret_post' | 'none';

export interface ClientDescriptor {
  id: string;
  label: string;
  auth: { method: AuthMethod; secret?: string };
}

export interface Provider {
  name: string;
  title: string;
  /** The descriptor file this provider came from. */
  file: string;
  embedded?: 'reference';
  tokenEndpoint: string;
  clients: ClientDescriptor[];
  grant: { type: 'client_credentials' };
  scopes: { request?: string; default?: string; forbidden?: string };
  expect: {
    tokenType: string;
    expiresIn?: number;
    expiresInTolerance: number;
    refreshToken: 'absent' | 'allowed';
    scopeEcho: 'always' | 'when-different';
    broaderScopeAllowed: boolean;
    forbiddenScope: 'invalid_scope' | 'narrowed';
    tokenFormat: 'opaque' | 'jwt';
  };
  resource?: { url: string; method: 'GET' | 'POST' };
  limits: {
    timeoutMs: number;
    maxRequests: number;
    maxBodyBytes: number;
    maxExpiryWaitSeconds: number;
    clockSkewSeconds: number;
    requestsPerSecond: number;
  };
  tls: { caFile?: string; insecureSkipVerify: boolean };
  /** Secret values and the environment variable each came from, for redaction and curl lines. */
  secrets: SecretRef[];
}

export interface SecretRef {
  value: string;
  /** The variable a reproduction should read it from, e.g. AKAMAI_CLIENT_SECRET. */
  envName: string;
}
