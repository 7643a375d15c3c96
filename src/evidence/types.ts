import type { ProbeId } from '../probes/ids.js';

/** What the runner records of one HTTP exchange. Everything here is already redacted. */
export interface RecordedRequest {
  method: 'GET' | 'POST';
  url: string;
  /** In the order sent, duplicates kept. */
  headers: [string, string][];
  body?: string;
  /** The decoded header and claims of a client assertion sent in the body (the assertion itself is redacted). */
  assertion?: { header: Record<string, unknown>; payload: Record<string, unknown> };
  /** The client certificate file presented in the TLS handshake. */
  clientCertificate?: string;
}

/** Facts about a token, computed before redaction so checks never need the token itself. */
export interface TokenFacts {
  /** JSON type of the member as received ("string", "number", …). */
  jsonType: string;
  length: number;
  /** Every character is VSCHAR (%x20-7E), RFC 6749 Appendix A.12. */
  vschar: boolean;
  /** The first characters, enough to recognise a token, never enough to use it. */
  preview: string;
  /** When the token parses as a JWS compact JWT: its decoded header and claims (not secret). */
  jwt?: { header: Record<string, unknown>; payload: Record<string, unknown> };
}

export interface RecordedResponse {
  status: number;
  /** Lower-cased names; each value as received (repeated headers kept apart). */
  headers: Record<string, string[]>;
  /** The body as text, token members replaced by previews, capped at the provider's limit. */
  body: string;
  bodyBytes: number;
  truncated: boolean;
  /** The parsed JSON body (redacted), when the body is JSON. */
  json?: unknown;
  jsonError?: string;
  accessToken?: TokenFacts;
  refreshToken?: TokenFacts;
}

/** `proxy`: the egress proxy refused or failed the tunnel; the endpoint itself was never reached. */
export type TransportErrorKind = 'refused' | 'dns' | 'timeout' | 'reset' | 'tls' | 'too-large' | 'proxy' | 'other';

export interface TransportError {
  kind: TransportErrorKind;
  code: string;
  /** One sentence a QA reader understands. */
  message: string;
}

export interface Exchange {
  /** Unique within a run: `<provider>/<probe>`. */
  id: string;
  probe: ProbeId;
  /** What this request is for, e.g. "client_credentials with client_secret_basic". */
  purpose: string;
  request: RecordedRequest;
  response?: RecordedResponse;
  transportError?: TransportError;
  /** Set when the runner refused to send (budget exhausted, circuit open). */
  notSent?: { reason: string; kind: 'budget' | 'circuit' };
  startedAt: string;
  durationMs: number;
  /** A curl command reproducing the request, secrets shown as $ENV_NAME. */
  curl: string;
}
