import type { ClientDescriptor, Provider } from '../descriptor/types.js';
import type { Exchange } from '../evidence/types.js';
import type { ProbeId } from './ids.js';
import type { ProbeRequest } from './request.js';

/** Why a probe is not sent: `policy` (the descriptor or a limit rules it out: its checks are skipped) or `prerequisite` (broken). */
export interface NotRun {
  kind: 'policy' | 'prerequisite';
  reason: string;
}

export const policy = (reason: string): NotRun => ({ kind: 'policy', reason });
export const prerequisite = (reason: string): NotRun => ({ kind: 'prerequisite', reason });

/** Thrown while building a request that cannot be made after all (no code could be obtained): the probe is not run. */
export class NotRunError extends Error {
  constructor(readonly notRun: NotRun) {
    super(notRun.reason);
  }
}

/** What an authorization-code probe asks the login for (src/login/authorizer.ts). */
export interface CodeOptions {
  /** The client the code is issued to (index into clients; default 0). */
  client?: number;
  /** S256 (default) or no code_challenge. */
  pkce?: 'S256' | 'none';
}

/** What a probe may know of the run so far when it decides whether to run and builds its request. */
export interface ProbeContext {
  /** The exchange an earlier probe recorded. */
  exchange(id: ProbeId): Exchange | undefined;
  /** The raw access token an earlier probe obtained (held in memory only, never recorded). */
  tokenOf(id: ProbeId): string | undefined;
  /** When an earlier probe's answer arrived (ms since the epoch). */
  answeredAt(id: ProbeId): number | undefined;
  /** The request an earlier probe sent (replay probes send it again). */
  requestOf(id: ProbeId): ProbeRequest | undefined;
  /** The token endpoint for a client: the discovered mTLS alias for TLS clients (RFC 8705 §5). */
  tokenUrlOf(client: ClientDescriptor): string;
  /** The JWK Set URL: the metadata's jwks_uri, else the descriptor's. */
  jwksUri(): string | undefined;
  /** The raw refresh token an earlier probe obtained (held in memory only, never recorded). */
  refreshTokenOf(id: ProbeId): string | undefined;
  /**
   * A fresh authorization code (authorization_code descriptors): one login in the browser, counted
   * against the request budget. Throws NotRunError when none can be had.
   */
  authorize(
    options?: CodeOptions,
  ): Promise<{ code: string; verifier?: string; redirectUri: string }>;
  /** A fresh random string (unknown client ids, wrong secrets). */
  random(bytes?: number): string;
}

/**
 * One request the checks need, as data: its id, what it is for, whether it applies (or why not),
 * when it may be sent, and how to build it from the provider and earlier answers.
 */
export interface ProbeDef {
  id: ProbeId;
  /** What the request is for, as the report shows it (a function when it names an earlier answer). */
  purpose: string | ((ctx: ProbeContext) => string);
  /** `true`, or why it is not sent. Evaluated just before sending, so it may read earlier answers. */
  appliesTo?: (ctx: ProbeContext) => true | NotRun;
  /** Not before this moment (ms since the epoch): the expiry probes wait out the token's lifetime. */
  notBefore?: (ctx: ProbeContext) => { at: number; why: string } | undefined;
  build: (ctx: ProbeContext) => ProbeRequest | Promise<ProbeRequest>;
  /**
   * The client (index in `clients`) whose declared credentials this request presents as valid. When
   * that client cannot obtain a token at all, the answer says nothing about the server: not verified.
   */
  asClient?: number;
}

/** The probes of one area for one provider (a function of the provider: one token request per client). */
export type ProbeUnits = (p: Provider) => ProbeDef[];
