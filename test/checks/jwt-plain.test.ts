/**
 * expect.tokenFormat: jwt-plain — a JWT access token not profiled by RFC 9068 (the Federated
 * Directory's: typ JWT, HS256, no iat, sub or client_id). Its claims are checked for shape and
 * lifetime; the RFC 9068 header and claim checks are not applicable, saying why.
 */
import { describe, expect, it } from 'vitest';
import { PLAIN_JWT } from '../../src/checks/jwt.js';
import type { Evidence } from '../../src/checks/types.js';
import type { Provider } from '../../src/descriptor/types.js';
import { evaluate } from '../../src/evaluate.js';
import { conformant, exchange, json, jwtPayload, res } from './fixture.js';

const RFC9068_ONLY = [
  'jwt.typ',
  'jwt.alg-allowed',
  'jwt.required-claims',
  'jwt.iss',
  'jwt.aud',
  'jwt.client-id',
];

function plain(mutate?: (e: Evidence, p: Provider) => void) {
  const { provider, evidence } = conformant();
  provider.expect.tokenFormat = 'jwt-plain';
  mutate?.(evidence, provider);
  return evaluate(provider, evidence, { strict: false });
}

/** The token as the Federated Directory documents it: header {alg HS256, typ JWT}, claims {iss, aud: key, exp, jti}. */
function federatedDirectoryToken(e: Evidence): void {
  const token = res(e, 'token.0').accessToken!.jwt!;
  token.header = { alg: 'HS256', typ: 'JWT' };
  const ex = exchange(e, 'token.0');
  const received = Math.floor((Date.parse(ex.startedAt) + ex.durationMs) / 1000);
  const expiresIn = json(e, 'token.0')['expires_in'] as number;
  token.payload = {
    iss: 'https://www.federated.directory/',
    aud: 'key',
    exp: received + expiresIn,
    jti: '7da4e0c0-fdca-11ea-a0fa-47c2af319be4',
  };
}

describe('tokenFormat: jwt-plain', () => {
  it('skips the RFC 9068 header and claim checks with the reason', () => {
    const findings = plain();
    for (const id of [...RFC9068_ONLY, 'scope.jwt-claim-agrees']) {
      const f = findings.find((x) => x.checkId === id);
      expect(f?.outcome, id).toBe('skipped');
      expect(f?.message, id).toMatch(/expect\.tokenFormat: jwt-plain/);
    }
    expect(PLAIN_JWT).toMatch(/not profiled by RFC 9068/);
  });

  it('still checks the shape, lifetime, alg none and signature of the JWT', () => {
    const findings = plain();
    for (const id of [
      'jwt.claims-well-formed',
      'jwt.alg-not-none',
      'jwt.signature',
      'jwt.jti-unique',
      'expiry.jwt-lifetime',
      'expiry.jwt-iat-current',
      'response.token-format',
    ])
      expect(findings.find((x) => x.checkId === id)?.outcome, id).toBe('pass');
  });

  it("passes the Federated Directory's documented token (typ JWT, HS256, no iat, sub, client_id)", () => {
    const findings = plain((e) => federatedDirectoryToken(e));
    const bad = findings.filter(
      (f) =>
        (f.outcome === 'fail' || f.outcome === 'warn') &&
        // The signature fact was recorded for the original token; it is not what this test is about.
        f.checkId !== 'jwt.signature',
    );
    expect(bad.map((f) => `${f.checkId}: ${f.message}`)).toEqual([]);
    expect(findings.find((f) => f.checkId === 'expiry.jwt-lifetime')?.message).toMatch(/no iat/);
    expect(findings.find((f) => f.checkId === 'expiry.jwt-iat-current')?.outcome).toBe('skipped');
  });

  it('fails a plain JWT whose exp disagrees with expires_in, and one without exp', () => {
    const late = plain((e) => {
      federatedDirectoryToken(e);
      jwtPayload(e)['exp'] = (jwtPayload(e)['exp'] as number) + 3600;
    });
    expect(late.find((f) => f.checkId === 'expiry.jwt-lifetime')?.outcome).toBe('fail');
    const noExp = plain((e) => {
      federatedDirectoryToken(e);
      delete jwtPayload(e)['exp'];
    });
    const shape = noExp.find((f) => f.checkId === 'jwt.claims-well-formed');
    expect(shape?.outcome).toBe('fail');
    expect(shape?.message).toMatch(/exp is missing/);
  });

  it('an RFC 9068 descriptor (tokenFormat: jwt) still fails typ JWT', () => {
    const { provider, evidence } = conformant();
    federatedDirectoryToken(evidence);
    const findings = evaluate(provider, evidence, { strict: false });
    expect(findings.find((f) => f.checkId === 'jwt.typ')?.outcome).toBe('fail');
  });
});
