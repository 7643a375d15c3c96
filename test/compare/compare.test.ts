/**
 * The comparison judge on recorded evidence: a conformant recording against mutated copies of
 * itself, each with one behaviour changed, must list exactly that change, in its class, with the
 * verdicts it moved, and nothing else.
 */
import { describe, expect, it } from 'vitest';
import type { Evidence } from '../../src/checks/types.js';
import { CHECKS } from '../../src/checks/index.js';
import { aspectsOfCheck, compareFingerprints } from '../../src/compare/classify.js';
import { compareRuns } from '../../src/compare/compare.js';
import { fingerprint, placeholder } from '../../src/compare/fingerprint.js';
import { clientRoles, pairClients } from '../../src/compare/roles.js';
import type { Comparison } from '../../src/compare/types.js';
import type { ClientDescriptor } from '../../src/descriptor/types.js';
import {
  assertionClient,
  bodySecretClient,
  mtlsClient,
  secretClient,
} from '../../src/probes/clients.js';
import { conformant, errorResponse, exchange, grantsToken, json, res } from '../checks/fixture.js';
import { side, tokenResponses } from './recorded-sides.js';

function setLifetime(e: Evidence, seconds: number): void {
  for (const probe of tokenResponses(e)) {
    const r = res(e, probe);
    json(e, probe)['expires_in'] = seconds;
    r.numberLiterals = { ...r.numberLiterals, expires_in: String(seconds) };
    r.body = r.body.replace(/"expires_in":\d+/, `"expires_in":${seconds}`);
    const payload = r.accessToken?.jwt?.payload;
    if (payload && typeof payload['iat'] === 'number') payload['exp'] = payload['iat'] + seconds;
  }
}

const summary = (c: Comparison) =>
  c.differences.map((d) => `${d.class}: ${d.title}: ${d.baseline} → ${d.candidate}`);

describe('a recording compared with itself', () => {
  const c = compareRuns(side(), side());
  it('has no difference, nothing apart, every answered request unchanged', () => {
    expect(c.differences).toEqual([]);
    expect(c.notComparable).toEqual([]);
    expect(c.noise).toEqual([]);
    expect(c.counts.unchanged).toBe(
      Object.values(side().run.evidence.exchanges).filter((x) => x.response).length,
    );
  });
});

describe('one behaviour changed', () => {
  it('a shorter lifetime breaks clients, once, on every token response, with the lifetime check it moved', () => {
    const candidate = side((e) => setLifetime(e, 3));
    const c = compareRuns(side(), candidate);
    expect(summary(c)).toEqual([
      'breaks-clients: Token lifetime shrinks: expires_in 5, exp − iat 5 → expires_in 3, exp − iat 3',
    ]);
    const [d] = c.differences;
    expect(d!.where.map((w) => w.probe).sort()).toEqual(
      tokenResponses(candidate.run.evidence).sort(),
    );
    // The descriptor promises 5 s: the candidate breaks that promise, shown with the behaviour.
    expect(
      d!.checks.map((k) => `${k.checkId} ${k.baseline.outcome}→${k.candidate.outcome} ${k.class}`),
    ).toContain('expiry.expires-in-declared pass→fail conformance-regression');
    expect(c.notComparable).toEqual([]);
  });

  it('a longer lifetime is neutral, raised to a regression by the check it moves', () => {
    const c = compareRuns(
      side(),
      side((e) => setLifetime(e, 60)),
    );
    expect(c.differences).toHaveLength(1);
    expect(c.differences[0]).toMatchObject({
      title: 'Token lifetime grows',
      class: 'conformance-regression',
      reason: 'a longer lifetime takes nothing away',
    });
    // The declared lifetime, and introspection's exp (left as recorded) now disagreeing with the response.
    expect(c.differences[0]!.checks.map((k) => k.checkId).sort()).toEqual([
      'expiry.expires-in-declared',
      'introspection.agrees-with-token-response',
    ]);
  });

  it('scope no longer echoed: a member disappears', () => {
    const c = compareRuns(
      side(),
      side((e) => {
        for (const probe of tokenResponses(e)) {
          delete json(e, probe)['scope'];
          res(e, probe).body = res(e, probe).body.replace(/,"scope":"[^"]*"/, '');
        }
      }),
    );
    expect(summary(c)).toEqual([
      'breaks-clients: Scope no longer echoed: scope echoed → scope not echoed',
    ]);
  });

  it('401 → 400 for a wrong secret: a status change on a refusal breaks clients (and the Basic check)', () => {
    const c = compareRuns(
      side(),
      side((e) => (res(e, 'errors.wrong-secret').status = 400)),
    );
    expect(summary(c)).toEqual(['breaks-clients: Status changes: 401 → 400']);
    expect(c.differences[0]!.where.map((w) => w.probe)).toEqual(['errors.wrong-secret']);
    expect(c.differences[0]!.checks.map((k) => k.checkId)).toContain(
      'errors.invalid-client-401-challenge',
    );
  });

  it('a token request that succeeded is refused: one difference, not one per member', () => {
    const c = compareRuns(
      side(),
      side((e) => errorResponse(e, 'token.1', 401, 'invalid_client')),
    );
    expect(summary(c)).toEqual([
      'breaks-clients: A request that succeeded is refused: 200 (accepted) → 401 invalid_client',
    ]);
    expect(c.differences[0]!.where).toEqual([
      expect.objectContaining({ probe: 'token.1', role: 'body-secret client' }),
    ]);
  });

  it('a wrong secret accepted: no client depends on it, the checks make it a regression', () => {
    const c = compareRuns(
      side(),
      side((e) => grantsToken(e, 'errors.wrong-secret')),
    );
    expect(c.differences).toHaveLength(1);
    const d = c.differences[0]!;
    expect(d).toMatchObject({
      title: 'A request no working client sends is now accepted',
      class: 'conformance-regression',
    });
    expect(d.checks.map((k) => k.checkId)).toContain('errors.wrong-secret');
  });

  it('a member added is neutral; a JWT claim that changes value breaks clients', () => {
    const added = compareRuns(
      side(),
      side((e) => (json(e, 'token.0')['foo'] = 'bar')),
    );
    expect(summary(added)).toEqual(['neutral: Members added: (none) → foo']);
    const iss = compareRuns(
      side(),
      side(
        (e) => (res(e, 'token.0').accessToken!.jwt!.payload['iss'] = 'https://elsewhere.example'),
      ),
    );
    expect(summary(iss)[0]).toBe(
      'breaks-clients: JWT claim iss changes: iss={issuer} → iss=https://elsewhere.example',
    );
    expect(iss.differences[0]!.checks.map((k) => k.checkId)).toContain('jwt.iss');
  });

  it('a verdict that changes without a behaviour difference stands alone', () => {
    const candidate = side();
    const pragma = candidate.run.findings.find((f) => f.checkId === 'response.pragma')!;
    const baseline = side();
    baseline.run.findings = baseline.run.findings.map((f) =>
      f.checkId === 'response.pragma' ? { ...f, outcome: 'warn', message: 'Pragma is absent' } : f,
    );
    expect(pragma.outcome).toBe('pass');
    const c = compareRuns(baseline, candidate);
    expect(c.differences).toEqual([
      expect.objectContaining({ kind: 'check', class: 'fixed', title: pragma.title }),
    ]);
  });

  it('a probe one side does not run is not comparable, kept apart with the verdicts that rest on it', () => {
    const c = compareRuns(
      side(),
      side((e) => {
        delete e.exchanges['resource.tampered'];
        e.notRun['resource.tampered'] = { kind: 'policy', reason: 'ruled out' };
      }),
    );
    expect(c.differences).toEqual([]);
    expect(c.notComparable).toHaveLength(1);
    expect(c.notComparable[0]).toMatchObject({
      aspect: 'answer',
      baseline: 'answered',
      candidate: 'not run (ruled out)',
    });
    expect(c.notComparable[0]!.checks.map((k) => k.checkId).sort()).toEqual([
      'resource.tampered-token-challenge',
      'resource.tampered-token-refused',
    ]);
  });
});

describe('two descriptors that differ where they must', () => {
  it('other URLs and client ids line up: no difference', () => {
    const moved = side((e, p) => {
      const text = JSON.stringify({ e, p })
        .split('127.0.0.1:8443')
        .join('auth.example.net')
        .split('ref-basic')
        .join('acme-basic')
        .split('ref-post')
        .join('acme-post');
      const copy = JSON.parse(text) as { e: Evidence; p: typeof p };
      Object.assign(e, copy.e);
      Object.assign(p, copy.p);
    });
    expect(moved.run.provider.tokenEndpoint).toBe('https://auth.example.net/token');
    const c = compareRuns(side(), moved);
    expect(c.differences).toEqual([]);
    expect(c.notComparable).toEqual([]);
  });

  it('clients in another order are paired by role', () => {
    const reordered = side((e, p) => {
      // The TLS client moves up to third place, its token request with it; every selector still picks
      // the same client (the first JWT client is still the HS256 one), as in a real descriptor.
      const order = [0, 1, 7, 2, 3, 4, 5, 6, 8];
      const tokens = order.map((i) => e.exchanges[`token.${i}`]!);
      p.clients = order.map((i) => p.clients[i]!);
      tokens.forEach(
        (ex, i) => (e.exchanges[`token.${i}`] = { ...ex, probe: `token.${i}` as typeof ex.probe }),
      );
    });
    const c = compareRuns(side(), reordered);
    expect(c.differences).toEqual([]);
    const tls = c.unchanged.find((u) => u.role === 'TLS client');
    expect(tls).toMatchObject({ key: 'token[TLS client]', probe: 'token.7' });
    expect(c.unchanged.find((u) => u.role === 'assertion client')).toMatchObject({
      probe: 'token.2',
    });
  });
});

describe('noise', () => {
  it('what differs between the baseline and its secondary is taken out, and shown apart', () => {
    const c = compareRuns(
      side(),
      side((e) => setLifetime(e, 3)),
      side((e) => setLifetime(e, 2)),
    );
    expect(c.differences).toEqual([]);
    const lifetime = c.noise.find((n) => n.aspect === 'lifetime');
    expect(lifetime).toMatchObject({ class: 'noise', title: 'Token lifetime shrinks' });
    expect(lifetime!.suppressed).toBe(tokenResponses(side().run.evidence).length);
    // The verdict the secondary moves too is noise as well.
    expect(
      c.noise.some(
        (n) => n.kind === 'check' && n.checks[0]!.checkId === 'expiry.expires-in-declared',
      ),
    ).toBe(true);
  });

  it('a secondary that agrees with the baseline leaves the differences as they are', () => {
    const c = compareRuns(
      side(),
      side((e) => setLifetime(e, 3)),
      side(),
    );
    expect(c.differences).toHaveLength(1);
    expect(c.noise).toEqual([]);
  });
});

describe('fingerprints', () => {
  it('never hold a token, a jti or an absolute time', () => {
    const s = side();
    for (const ex of Object.values(s.run.evidence.exchanges)) {
      const fp = JSON.stringify(
        fingerprint(ex, undefined, { tokenEndpoint: s.run.provider.tokenEndpoint }),
      );
      const payload = ex.response?.accessToken?.jwt?.payload;
      if (payload)
        for (const claim of ['jti', 'iat', 'exp']) expect(fp).not.toContain(String(payload[claim]));
      if (ex.response?.accessToken) expect(fp).not.toContain(ex.response.accessToken.preview);
    }
  });

  it('compare JWT details only when both tokens are JWTs', () => {
    const s = side();
    const jwt = fingerprint(exchange(s.run.evidence, 'token.0'), undefined, {
      tokenEndpoint: s.run.provider.tokenEndpoint,
    });
    const opaque = {
      ...jwt,
      format: 'opaque' as const,
      jwtHeader: undefined,
      jwtClaims: undefined,
      jwtValues: undefined,
      certificateBound: undefined,
    };
    delete opaque.jwtHeader;
    delete opaque.jwtClaims;
    delete opaque.jwtValues;
    delete opaque.certificateBound;
    expect(compareFingerprints('token.0', opaque, jwt).map((x) => x.aspect)).toEqual(['format']);
  });

  it('name what a descriptor names', () => {
    const names = {
      issuer: 'https://as.example',
      tokenEndpoint: 'https://as.example/token',
      resourceUrl: 'https://api.example/x',
    };
    expect(placeholder('https://as.example', names)).toBe('{issuer}');
    expect(placeholder('https://as.example/other', names)).toBe('{issuer}/other');
    expect(placeholder('https://api.example/x', names)).toBe('{resource}');
    expect(placeholder('https://api.example/y', names)).toBe('https://api.example/y');
  });
});

describe('roles', () => {
  it('name the reference clients by the selectors, then by method and alg', () => {
    const s = side();
    expect(clientRoles(s.run.provider, s.run.evidence)).toEqual([
      ['primary', 'secret client', 'client_secret_basic'],
      ['body-secret client', 'client_secret_post'],
      ['assertion client', 'client_secret_jwt HS256'],
      ['private_key_jwt RS256'],
      ['private_key_jwt PS256'],
      ['private_key_jwt ES256'],
      ['private_key_jwt EdDSA'],
      ['TLS client', 'tls_client_auth'],
      ['self_signed_tls_client_auth'],
    ]);
  });

  it("agree with the probes' own client selectors (read from the methods, as a run record keeps no secrets)", () => {
    for (const fixture of ['reference', 'jwt-bearer'] as const) {
      const { provider } = conformant(fixture);
      const roles = clientRoles(
        side(undefined, { fixture }).run.provider,
        conformant(fixture).evidence,
      );
      const holder = (role: string) => roles.findIndex((r) => r.includes(role));
      const index = (c: ClientDescriptor | undefined) => (c ? provider.clients.indexOf(c) : -1);
      expect(holder('secret client'), fixture).toBe(index(secretClient(provider)));
      expect(holder('body-secret client'), fixture).toBe(index(bodySecretClient(provider)));
      expect(holder('assertion client'), fixture).toBe(index(assertionClient(provider)));
      expect(holder('TLS client'), fixture).toBe(index(mtlsClient(provider)));
      expect(holder('primary'), fixture).toBe(0);
    }
  });

  it('pair what both sides have, and say what one side has alone', () => {
    const pairing = pairClients(
      [
        ['primary', 'client_secret_basic'],
        ['TLS client', 'tls_client_auth'],
      ],
      [['primary', 'client_secret_post']],
    );
    expect(pairing.pairs).toEqual([{ baseline: 0, candidate: 0, role: 'primary' }]);
    expect(pairing.onlyBaseline).toEqual([{ index: 1, role: 'TLS client' }]);
  });
});

describe('every check', () => {
  it('names the behaviours it reads, so a verdict change goes with its behaviour', () => {
    expect(CHECKS.filter((c) => aspectsOfCheck(c.id) === undefined).map((c) => c.id)).toEqual([]);
  });
});
