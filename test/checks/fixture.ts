import { readFileSync } from 'node:fs';
import type { Evidence } from '../../src/checks/types.js';
import type { Provider } from '../../src/descriptor/types.js';
import type { Exchange, RecordedResponse, TokenFacts } from '../../src/evidence/types.js';

type Recording = { provider: Provider; evidence: Evidence };
const load = (name: string) =>
  JSON.parse(
    readFileSync(new URL(`../fixtures/${name}-evidence.json`, import.meta.url), 'utf8'),
  ) as Recording;
const RECORDINGS = {
  reference: load('reference'),
  'jwt-bearer': load('reference-jwt-bearer'),
  'authorization-code': load('reference-authorization-code'),
};
export type FixtureName = keyof typeof RECORDINGS;

/**
 * A fresh copy of the recorded reference run, made fully conformant: oidc-provider omits Pragma and
 * accepts a year-long client assertion (two SHOULDs), so the baseline adds the one and refuses the other.
 */
export function conformant(name: FixtureName = 'reference'): Recording {
  const copy = structuredClone(RECORDINGS[name]);
  copy.evidence.exchanges['token.0']!.response!.headers['pragma'] = ['no-cache'];
  if (copy.evidence.exchanges['client-auth.far-future-exp'])
    errorResponse(copy.evidence, 'client-auth.far-future-exp', 401, 'invalid_client');
  // oidc-provider refuses a replayed DPoP proof with invalid_grant (providers/reference.yaml declares
  // it a deviation); the baseline answers invalid_dpop_proof (RFC 9449 §5) and declares nothing.
  if (copy.evidence.exchanges['dpop.replay']) {
    errorResponse(copy.evidence, 'dpop.replay', 400, 'invalid_dpop_proof');
    copy.provider.deviations = copy.provider.deviations.filter(
      (d) => !d.checks.includes('dpop.replay-code'),
    );
  }
  return copy;
}

export function res(evidence: Evidence, probe: string): RecordedResponse {
  const r = evidence.exchanges[probe]?.response;
  if (!r) throw new Error(`fixture has no response for ${probe}`);
  return r;
}

export function exchange(evidence: Evidence, probe: string): Exchange {
  const e = evidence.exchanges[probe];
  if (!e) throw new Error(`fixture has no exchange for ${probe}`);
  return e;
}

export function json(evidence: Evidence, probe: string): Record<string, unknown> {
  const r = res(evidence, probe);
  if (!r.json || typeof r.json !== 'object') r.json = {};
  return r.json as Record<string, unknown>;
}

export function jwtPayload(evidence: Evidence, probe = 'token.0'): Record<string, unknown> {
  const jwt = res(evidence, probe).accessToken?.jwt;
  if (!jwt) throw new Error('fixture token is not a JWT');
  return jwt.payload;
}

/** Turns a refusal into a success that hands out the same token as token.0. */
export function grantsToken(evidence: Evidence, probe: string, scope = 'api:read'): void {
  const r = res(evidence, probe);
  const token = res(evidence, 'token.0');
  r.status = 200;
  r.headers = structuredClone(token.headers);
  r.json = { access_token: token.accessToken?.preview, token_type: 'Bearer', expires_in: 5, scope };
  r.accessToken = structuredClone(token.accessToken) as TokenFacts;
  if (r.accessToken.jwt) r.accessToken.jwt.payload['scope'] = scope;
  // A token of its own: a copied jti would make jwt.jti-unique fail where no defect was meant.
  const jti = r.accessToken.jwt?.payload['jti'];
  if (typeof jti === 'string') r.accessToken.jwt!.payload['jti'] = `${jti}-${probe}`;
}

/** Turns a response into an OAuth error response. */
export function errorResponse(
  evidence: Evidence,
  probe: string,
  status: number,
  error: string,
): void {
  const r = res(evidence, probe);
  r.status = status;
  r.json = { error };
  delete r.accessToken;
  delete r.refreshToken;
  r.headers['content-type'] = ['application/json'];
  r.headers['cache-control'] = ['no-store'];
}
