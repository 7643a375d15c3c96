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
  /**
   * The decoded header and claims of the DPoP proof sent (RFC 9449 §4.2); private JWK members a
   * spoilt proof carries in its header are replaced by "[redacted]". The proof itself is redacted.
   */
  dpopProof?: { header: Record<string, unknown>; payload: Record<string, unknown> };
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
  /**
   * The body as the raw text it came in (UTF-8), redacted: every string scrubbed of known secrets and
   * tokens, token-named members (at any depth) replaced by previews; numbers, whitespace, member order
   * and repeated members as received. At most the body cap was read, and at most 64 KiB is kept.
   */
  body: string;
  bodyBytes: number;
  truncated: boolean;
  /** The parsed JSON body (redacted), when the body is JSON. */
  json?: unknown;
  jsonError?: string;
  /**
   * When the body is a JSON object: each top-level member whose value is a number, with the literal
   * as written (`"3600.0"`), which the parsed value no longer shows.
   */
  numberLiterals?: Record<string, string>;
  /** When the body is a JSON object: top-level member names that occur more than once (JSON.parse keeps the last). */
  duplicateMembers?: string[];
  accessToken?: TokenFacts;
  refreshToken?: TokenFacts;
}

/**
 * `proxy`: the egress proxy refused or failed the tunnel; the endpoint itself was never reached.
 * `rate-limited`: still 429 Too Many Requests after the retries Retry-After allows (no answer to judge).
 * `too-deep`, `too-large`: an answer beyond the harness's limits (src/http/limits.ts), not judged.
 */
export type TransportErrorKind =
  | 'refused'
  | 'dns'
  | 'timeout'
  | 'reset'
  | 'tls'
  | 'too-deep'
  | 'too-large'
  | 'proxy'
  | 'rate-limited'
  | 'other';

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
  /** The answer, never a 429: a 429 is retried, and one that persists is a transportError (rate-limited). */
  response?: RecordedResponse;
  transportError?: TransportError;
  /** The last 429 of a rate-limited exchange, as evidence; deliberately not `response`, so no check reads it as an answer. */
  rateLimitedResponse?: RecordedResponse;
  /** Requests sent for this exchange: 1, or more when 429 answers were retried (each counts against limits.maxRequests). */
  attempts?: number;
  /** Set when the runner refused to send (budget exhausted, circuit open). */
  notSent?: { reason: string; kind: 'budget' | 'circuit' };
  /** When the last attempt was sent (after any Retry-After wait), and how long it took to answer. */
  startedAt: string;
  durationMs: number;
  /** A curl command reproducing the request, secrets shown as $ENV_NAME. */
  curl: string;
}
