/**
 * Pure helpers about DPoP exchanges (RFC 9449), shared by the DPoP probes (which follow a nonce the
 * server asks for) and the DPoP checks (which judge the answer to the request as finally sent).
 */
import type { DpopProbe, ProbeId } from '../probes/ids.js';
import { PROBES, DPOP_RETRIED } from '../probes/ids.js';
import type { Exchange, RecordedResponse } from './types.js';

function jsonError(res: RecordedResponse): string | undefined {
  const j = res.json;
  if (!j || typeof j !== 'object' || Array.isArray(j)) return undefined;
  const e = (j as Record<string, unknown>)['error'];
  return typeof e === 'string' ? e : undefined;
}

/** The DPoP-Nonce header of an answer (RFC 9449 §8, §9), if it carries one. */
export function nonceOf(res: RecordedResponse | undefined): string | undefined {
  const v = res?.headers['dpop-nonce']?.[0];
  return v && v.trim() !== '' ? v.trim() : undefined;
}

/** The error of a resource's DPoP challenge (`WWW-Authenticate: DPoP error="…"`, RFC 9449 §7.1, §9). */
export function challengeError(res: RecordedResponse): string | undefined {
  for (const v of res.headers['www-authenticate'] ?? []) {
    const m = /(?:^|[\s,])error\s*=\s*"?([A-Za-z_]+)"?/.exec(v);
    if (m?.[1]) return m[1];
  }
  return undefined;
}

/** The server asked for a nonce: use_dpop_nonce in the body (token endpoint, §8) or the challenge (resource, §9). */
export function asksForNonce(res: RecordedResponse | undefined): boolean {
  if (!res) return false;
  return jsonError(res) === 'use_dpop_nonce' || challengeError(res) === 'use_dpop_nonce';
}

/**
 * The exchange that answers a DPoP request as finally sent: the retry with the server's nonce when
 * there was one (the first answer was use_dpop_nonce with a DPoP-Nonce header), else the first.
 */
export function finalDpop(
  exchanges: Record<string, Exchange>,
  kind: DpopProbe,
): { id: ProbeId; exchange: Exchange | undefined } {
  const retryId = PROBES.dpopRetry(kind);
  const retry = DPOP_RETRIED.includes(kind) ? exchanges[retryId] : undefined;
  if (retry?.response) return { id: retryId, exchange: retry };
  return { id: PROBES.dpop(kind), exchange: exchanges[PROBES.dpop(kind)] };
}
