/**
 * Every check, both ways, on recorded exchanges: it passes on the conformant recording and fails
 * (or warns, for SHOULD) with its own id and a clear message on a copy that has exactly its defect.
 */
import { describe, expect, it } from 'vitest';
import { CHECKS } from '../../src/checks/index.js';
import type { Evidence } from '../../src/checks/types.js';
import type { Provider } from '../../src/descriptor/types.js';
import { evaluate, type Finding } from '../../src/evaluate.js';
import { CASES } from './defects.js';
import {
  conformant,
  errorResponse,
  exchange,
  grantsToken,
  json,
  jwtPayload,
  res,
  type FixtureName,
} from './fixture.js';

function findingsFor(
  mutate?: (e: Evidence, p: Provider) => void,
  strict = false,
  fixture: FixtureName = 'reference',
): Finding[] {
  const { provider, evidence } = conformant(fixture);
  mutate?.(evidence, provider);
  return evaluate(provider, evidence, { strict });
}

describe('the conformant recording', () => {
  const findings = findingsFor();
  it('passes every applicable check', () => {
    const notPassed = findings.filter((f) => f.outcome !== 'pass' && f.outcome !== 'skipped');
    expect(notPassed.map((f) => `${f.checkId}: ${f.outcome} ${f.message}`)).toEqual([]);
  });
  it('skips only what the descriptor rules out, with the reason', () => {
    const skipped = findings.filter((f) => f.outcome === 'skipped');
    for (const f of skipped) expect(f.message, f.checkId).toMatch(/^not applicable: /);
    // A client_credentials descriptor without refresh tokens: every authorization-code and refresh check.
    const grantSpecific = (id: string) => /^(authorization-code|refresh)\./.test(id);
    expect(
      CHECKS.filter((c) => grantSpecific(c.id)).every((c) =>
        skipped.some((f) => f.checkId === c.id),
      ),
    ).toBe(true);
    expect(
      [...new Set(skipped.map((f) => f.checkId))].filter((id) => !grantSpecific(id)).sort(),
    ).toEqual([
      'client-auth.assertion-max-lifetime',
      'grant.assertion-alg-none',
      'grant.assertion-alg-none-error-code',
      'grant.assertion-expired',
      'grant.assertion-expired-error-code',
      'grant.assertion-far-future-exp',
      'grant.assertion-far-future-exp-error-code',
      'grant.assertion-replay',
      'grant.assertion-unknown-key',
      'grant.assertion-unknown-key-error-code',
      'grant.assertion-wrong-audience',
      'grant.assertion-wrong-audience-error-code',
      'grant.assertion-wrong-issuer',
      'grant.assertion-wrong-issuer-error-code',
      'grant.form-encoded-body',
      'grant.jwt-bearer',
      'response.token-entropy',
      'response.token-entropy-bound',
      'scope.echoed',
      'scope.required',
    ]);
  });
  it('reports one finding per check and client', () => {
    const { provider } = conformant();
    // Per-client checks that apply run once per client; one that does not apply is one skipped finding.
    const perClient = CHECKS.filter(
      (c) => c.perClient && (c.applies?.(provider) ?? true) === true,
    ).length;
    expect(perClient).toBe(1);
    expect(findings).toHaveLength(CHECKS.length + perClient * (provider.clients.length - 1));
  });
});

describe('the conformant jwt-bearer recording', () => {
  it('passes every applicable check', () => {
    const findings = findingsFor(undefined, false, 'jwt-bearer');
    const notPassed = findings.filter((f) => f.outcome !== 'pass' && f.outcome !== 'skipped');
    expect(notPassed.map((f) => `${f.checkId}: ${f.outcome} ${f.message}`)).toEqual([]);
    expect(
      findings.filter((f) => f.area === 'grant' && f.outcome === 'pass').length,
    ).toBeGreaterThan(8);
  });
});

describe('the conformant authorization-code recording', () => {
  it('passes every applicable check, the authorization-code and refresh ones included', () => {
    const findings = findingsFor(undefined, false, 'authorization-code');
    const notPassed = findings.filter((f) => f.outcome !== 'pass' && f.outcome !== 'skipped');
    expect(notPassed.map((f) => `${f.checkId}: ${f.outcome} ${f.message}`)).toEqual([]);
    const ours = findings.filter((f) => f.area === 'authorization-code' || f.area === 'refresh');
    expect(ours.filter((f) => f.outcome !== 'pass').map((f) => f.checkId)).toEqual([]);
    expect(ours.length).toBeGreaterThan(20);
  });
});

describe('each check catches its defect', () => {
  it.each(CASES.map((c) => [`${c.check}: ${c.defect}`, c] as const))('%s', (_name, c) => {
    const findings = findingsFor(c.apply, false, c.fixture);
    const target = findings.filter(
      (f) => f.checkId === c.check && (c.client === undefined || f.params['client'] === c.client),
    );
    expect(target).toHaveLength(1);
    expect(target[0]?.outcome).toBe(c.expect);
    expect(target[0]?.message).toMatch(c.message);
  });

  it('has a defect case for every check (a check that cannot fail is a defect)', () => {
    const covered = new Set(CASES.map((c) => c.check));
    expect(CHECKS.map((c) => c.id).filter((id) => !covered.has(id))).toEqual([]);
  });

  it('turns SHOULD warnings into failures with --strict', () => {
    const f = findingsFor((e) => delete res(e, 'token.0').headers['pragma'], true).find(
      (x) => x.checkId === 'response.pragma',
    );
    expect(f?.outcome).toBe('fail');
  });
});

describe('declared deviations', () => {
  const jsonOnly = (e: Evidence, p: Provider, refused: boolean) => {
    p.grant.bodyEncoding = 'json';
    e.exchanges['grant.form-body'] = {
      ...structuredClone(e.exchanges['token.0']!),
      probe: 'grant.form-body',
    };
    delete e.notRun['grant.form-body'];
    if (refused) errorResponse(e, 'grant.form-body', 400, 'invalid_request');
  };
  const declare = (p: Provider) => {
    p.deviations = [
      {
        checks: ['grant.form-encoded-body'],
        reason: 'takes JSON by design',
        link: 'https://example.com/docs',
      },
    ];
  };
  const find = (fs: Finding[], id: string) => fs.find((f) => f.checkId === id);

  it("turns the declared check's failure into a known deviation, with the reason and link", () => {
    const fs = findingsFor(
      (e, p) => {
        jsonOnly(e, p, true);
        declare(p);
      },
      false,
      'jwt-bearer',
    );
    expect(find(fs, 'grant.form-encoded-body')).toMatchObject({
      outcome: 'deviation',
      message: expect.stringMatching(
        /^known deviation \(takes JSON by design; https:\/\/example.com\/docs\): the form-encoded token request was answered 400/,
      ),
    });
    expect(fs.some((f) => f.outcome === 'fail')).toBe(false);
  });
  it('reports a declared deviation that no longer occurs as a failure (stale)', () => {
    const fs = findingsFor(
      (e, p) => {
        jsonOnly(e, p, false);
        declare(p);
      },
      false,
      'jwt-bearer',
    );
    expect(find(fs, 'grant.form-encoded-body')).toMatchObject({
      outcome: 'fail',
      message: expect.stringMatching(/^stale deviation: .*Remove the declaration/),
    });
  });
  it('names several checks for one root cause in one declaration', () => {
    const fs = findingsFor(
      (e, p) => {
        jsonOnly(e, p, true);
        delete res(e, 'token.0').headers['pragma'];
        p.deviations = [
          {
            checks: ['grant.form-encoded-body', 'response.pragma'],
            reason: 'a JSON-only gateway',
            link: 'https://example.com/docs',
          },
        ];
      },
      false,
      'jwt-bearer',
    );
    expect(find(fs, 'grant.form-encoded-body')?.outcome).toBe('deviation');
    expect(find(fs, 'response.pragma')?.outcome).toBe('deviation');
    expect(
      fs.filter((f) => f.outcome === 'fail' || f.outcome === 'warn').map((f) => f.checkId),
    ).toEqual([]);
  });
  it('cannot hide an outage or turn an unrelated check green', () => {
    const outage = findingsFor(
      (e, p) => {
        jsonOnly(e, p, true);
        declare(p);
        const ex = exchange(e, 'grant.form-body');
        delete ex.response;
        ex.transportError = {
          kind: 'refused',
          code: 'ECONNREFUSED',
          message: 'connection refused',
        };
      },
      false,
      'jwt-bearer',
    );
    expect(find(outage, 'grant.form-encoded-body')?.outcome).toBe('broken');
    const unrelated = findingsFor(
      (e, p) => {
        jsonOnly(e, p, true);
        declare(p);
        delete res(e, 'token.0').headers['cache-control'];
      },
      false,
      'jwt-bearer',
    );
    expect(find(unrelated, 'response.cache-control')?.outcome).toBe('fail');
  });
});

/** Declares a maximum assertion lifetime of 300 s, and records its probe (from the first use) refused. */
function declareMaxLifetime(e: Evidence, p: Provider): void {
  p.expect.clientAssertion.maxLifetimeSeconds = 300;
  const probe = structuredClone(exchange(e, 'client-auth.first-use'));
  probe.probe = 'client-auth.over-max-lifetime';
  e.exchanges['client-auth.over-max-lifetime'] = probe;
  delete e.notRun['client-auth.over-max-lifetime'];
  errorResponse(e, 'client-auth.over-max-lifetime', 401, 'invalid_client');
}

describe('valid but unusual behaviour is not flagged', () => {
  const unusual: [string, (e: Evidence, p: Provider) => void][] = [
    [
      'lowercase token_type "bearer"',
      (e) => {
        json(e, 'token.0')['token_type'] = 'bearer';
      },
    ],
    [
      'application/json without charset',
      (e) => {
        res(e, 'token.0').headers['content-type'] = ['application/json'];
      },
    ],
    [
      'Cache-Control: no-store, no-cache in two header lines',
      (e) => {
        res(e, 'token.0').headers['cache-control'] = ['no-cache', 'No-Store'];
      },
    ],
    [
      'unknown extra members',
      (e) => {
        json(e, 'token.0')['x_vendor'] = { nested: true };
      },
    ],
    [
      'scope tokens in another order',
      (e, p) => {
        p.scopes.request = 'api:write api:read';
        json(e, 'token.0')['scope'] = 'api:read api:write';
        jwtPayload(e)['scope'] = 'api:read api:write';
        json(e, 'introspection.fresh')['scope'] = 'api:write api:read';
      },
    ],
    [
      'scope omitted when identical to the request',
      (e) => {
        delete json(e, 'token.0')['scope'];
      },
    ],
    [
      'error_uri present',
      (e) => {
        json(e, 'grant.unknown-grant-type')['error_uri'] =
          'https://example.com/errors#unsupported_grant_type';
      },
    ],
    [
      '400 invalid_client when the client used client_secret_post',
      (e) => {
        errorResponse(e, 'errors.no-client-auth', 400, 'invalid_client');
      },
    ],
    [
      '405 for GET',
      (e) => {
        res(e, 'grant.get').status = 405;
      },
    ],
    [
      'scope claim as an array in the JWT',
      (e) => {
        jwtPayload(e)['scope'] = ['api:read'];
      },
    ],
    [
      'JWTs where the descriptor promises no format (tokenFormat: any)',
      (_e, p) => {
        p.expect.tokenFormat = 'any';
      },
    ],
    [
      'the same still-valid token handed out twice (a token cache): one token, one jti',
      (e) => {
        res(e, 'token.1').accessToken = structuredClone(res(e, 'token.0').accessToken);
      },
    ],
    [
      'expires_in one second short of the declared lifetime (remaining lifetime, rounded down)',
      (e) => {
        json(e, 'token.0')['expires_in'] = 4;
      },
    ],
    [
      'the metadata names an alias of the token endpoint that answers alike',
      (e) => {
        json(e, 'discovery.metadata')['token_endpoint'] = 'https://127.0.0.1:8443/oauth/token';
        e.exchanges['discovery.advertised-token-endpoint'] = {
          ...structuredClone(exchange(e, 'token.0')),
          probe: 'discovery.advertised-token-endpoint',
        };
      },
    ],
    // RFC 6750 §3: realm and scope are optional attributes; RFC 9110 §11.6.1: several challenges per field.
    [
      'resource challenges with realm, scope and other schemes around them',
      (e) => {
        res(e, 'resource.no-token').headers['www-authenticate'] = [
          'DPoP algs="ES256", Bearer realm="api", scope="api:read api:write"',
          'Basic realm="api"',
        ];
        res(e, 'resource.tampered').headers['www-authenticate'] = [
          'bearer scope="api:read", error="invalid_token", realm="api"',
        ];
        res(e, 'resource.insufficient-scope').headers['www-authenticate'] = [
          'Basic realm="api", Bearer error="insufficient_scope", scope="api:read"',
        ];
      },
    ],
    [
      'a bare Bearer challenge without attributes',
      (e) => {
        res(e, 'resource.no-token').headers['www-authenticate'] = ['Bearer'];
      },
    ],
    [
      'unauthenticated introspection answered 401 invalid_client with a Basic challenge',
      (e) => {
        errorResponse(e, 'introspection.no-client-auth', 401, 'invalid_client');
        res(e, 'introspection.no-client-auth').headers['www-authenticate'] = [
          'Basic realm="introspection"',
        ];
      },
    ],
    [
      'unauthenticated introspection answered 400 invalid_client',
      (e) => {
        errorResponse(e, 'introspection.no-client-auth', 400, 'invalid_client');
      },
    ],
    [
      '{"active": false} with caching headers',
      (e) => {
        Object.assign(res(e, 'introspection.unknown-token').headers, {
          'cache-control': ['private, max-age=0'],
          expires: ['0'],
          vary: ['Authorization'],
        });
      },
    ],
    // Scope answers RFC 6749 §3.3 allows, under a descriptor that promises no particular one.
    [
      'forbidden scope silently narrowed away, the rest echoed (policy either)',
      (e, p) => {
        p.expect.forbiddenScope = 'either';
        grantsToken(e, 'scope.forbidden', 'api:read');
      },
    ],
    [
      'mixed request narrowed, the ungrantable one alone refused with invalid_scope',
      (e, p) => {
        p.expect.forbiddenScope = 'narrowed';
        grantsToken(e, 'scope.forbidden', 'api:read');
      },
    ],
    [
      'ungrantable scope alone answered with another scope, echoed (policy either)',
      (e, p) => {
        p.expect.ungrantableScope = 'either';
        grantsToken(e, 'scope.ungrantable', 'api:read');
      },
    ],
    [
      'narrowed, scope omitted, the JWT claim equal to what remains … of an identical request',
      (e, p) => {
        p.expect.forbiddenScope = 'either';
        grantsToken(e, 'scope.forbidden', 'api:read admin');
        jwtPayload(e, 'scope.forbidden')['scope'] = 'api:read';
        json(e, 'scope.forbidden')['scope'] = 'api:read';
      },
    ],
    [
      'no scope refused with invalid_scope where no default is declared',
      (e, p) => {
        delete p.scopes.default;
        errorResponse(e, 'scope.none', 400, 'invalid_scope');
      },
    ],
    [
      'no scope refused with invalid_scope where scope is declared required',
      (e, p) => {
        delete p.scopes.default;
        p.scopes.required = true;
        errorResponse(e, 'scope.none', 400, 'invalid_scope');
      },
    ],
    [
      'an assertion over a declared maximum lifetime refused',
      (e, p) => {
        declareMaxLifetime(e, p);
      },
    ],
  ];
  it.each(unusual)('%s', (_name, mutate) => {
    const bad = findingsFor(mutate).filter(
      (f) => f.outcome === 'fail' || f.outcome === 'warn' || f.outcome === 'broken',
    );
    expect(bad.map((f) => `${f.checkId}: ${f.message}`)).toEqual([]);
  });
});

describe('outages and policies are never failures', () => {
  it('a transport error on the token request makes its checks broken with the reason', () => {
    const findings = findingsFor((e) => {
      const ex = exchange(e, 'token.0');
      delete ex.response;
      ex.transportError = {
        kind: 'refused',
        code: 'ECONNREFUSED',
        message: 'connection refused by 127.0.0.1:8443: the endpoint is unreachable',
      };
    });
    const f = findings.find((x) => x.checkId === 'response.cache-control');
    expect(f?.outcome).toBe('broken');
    expect(f?.message).toMatch(/endpoint unreachable or misbehaving: connection refused/);
    expect(findings.some((x) => x.outcome === 'fail')).toBe(false);
  });
  it('a request not sent for the budget is skipped; one cut by the circuit breaker is broken', () => {
    const findings = findingsFor((e) => {
      const get = exchange(e, 'grant.get');
      delete get.response;
      get.notSent = {
        kind: 'budget',
        reason: 'not sent: the request budget of 3 (limits.maxRequests) is used up',
      };
      const ex = exchange(e, 'resource.expired');
      delete ex.response;
      ex.notSent = { kind: 'circuit', reason: 'not sent: 2 requests in a row failed' };
    });
    expect(findings.find((x) => x.checkId === 'grant.get-refused')).toMatchObject({
      outcome: 'skipped',
      message: expect.stringMatching(/budget/),
    });
    expect(findings.find((x) => x.checkId === 'expiry.refused-after-expiry')).toMatchObject({
      outcome: 'broken',
      message: expect.stringMatching(/2 requests in a row failed/),
    });
  });
  it('a lifetime longer than the maximum wait skips the expiry-at-resource checks with the reason', () => {
    const findings = findingsFor((e) => {
      delete e.exchanges['resource.expired'];
      e.notRun['resource.expired'] = {
        kind: 'policy',
        reason:
          'the lifetime (3600 s) is longer than the maximum wait (limits.maxExpiryWaitSeconds = 30 s)',
      };
    });
    expect(findings.find((x) => x.checkId === 'expiry.refused-after-expiry')).toMatchObject({
      outcome: 'skipped',
      message: expect.stringMatching(/3600 s\) is longer than the maximum wait/),
    });
  });
  it("introspection that refuses the harness's client is a failed prerequisite, not a verdict on the token", () => {
    const findings = findingsFor((e) =>
      errorResponse(e, 'introspection.fresh', 401, 'invalid_client'),
    );
    for (const id of ['introspection.fresh-active', 'introspection.agrees-with-token-response']) {
      expect(
        findings.find((x) => x.checkId === id),
        id,
      ).toMatchObject({
        outcome: 'broken',
        message: expect.stringMatching(
          /prerequisite failed: introspection was answered 401 invalid_client.*refused the harness's client \(client_secret_basic; see introspection.client/,
        ),
      });
    }
    // A server error on the fresh token is the fresh-active check's verdict; the agreement check cannot judge.
    const error = findingsFor((e) => errorResponse(e, 'introspection.fresh', 500, 'server_error'));
    expect(error.find((x) => x.checkId === 'introspection.fresh-active')).toMatchObject({
      outcome: 'fail',
    });
    expect(
      error.find((x) => x.checkId === 'introspection.agrees-with-token-response'),
    ).toMatchObject({
      outcome: 'broken',
      message: expect.stringMatching(/see introspection.fresh-active/),
    });
  });
  it('resource refusals that show nothing are broken: the unaltered token refused too, a narrow token with the required scope', () => {
    const refused = findingsFor((e) => {
      res(e, 'resource.fresh').status = 401;
    });
    for (const id of ['resource.tampered-token-refused', 'resource.tampered-token-challenge']) {
      expect(
        refused.find((x) => x.checkId === id),
        id,
      ).toMatchObject({
        outcome: 'broken',
        message: expect.stringMatching(/the unaltered token was refused too/),
      });
    }
    const late = findingsFor((e) => {
      exchange(e, 'resource.tampered').startedAt = new Date(
        Date.parse(exchange(e, 'token.0').startedAt) + 6000,
      ).toISOString();
    });
    expect(late.find((x) => x.checkId === 'resource.tampered-token-refused')).toMatchObject({
      outcome: 'broken',
      message: expect.stringMatching(
        /the altered token was sent \d\.\d s after the token was issued, past its lifetime \(5 s\)/,
      ),
    });
    const broad = findingsFor((e) => {
      json(e, 'resource.insufficient-scope-token')['scope'] = 'api:read api:write';
    });
    for (const id of [
      'resource.insufficient-scope-refused',
      'resource.insufficient-scope-challenge',
    ]) {
      expect(
        broad.find((x) => x.checkId === id),
        id,
      ).toMatchObject({
        outcome: 'broken',
        message: expect.stringMatching(
          /requested with scope "api:write" was granted "api:read api:write", which includes the required "api:read"/,
        ),
      });
    }
    const noToken = findingsFor((e) => {
      errorResponse(e, 'resource.insufficient-scope-token', 400, 'invalid_scope');
      delete e.exchanges['resource.insufficient-scope'];
      e.notRun['resource.insufficient-scope'] = {
        kind: 'prerequisite',
        reason: 'the token request for a token without the required scope got no access token',
      };
    });
    expect(noToken.find((x) => x.checkId === 'resource.insufficient-scope-refused')).toMatchObject({
      outcome: 'broken',
      message: expect.stringMatching(/got no access token/),
    });
  });
  it("a descriptor without the resource's required scope skips the insufficient-scope checks with the reason", () => {
    const findings = findingsFor((e, p) => {
      delete p.resource!.requiredScope;
      delete p.resource!.insufficientScope;
      for (const id of ['resource.insufficient-scope-token', 'resource.insufficient-scope']) {
        delete e.exchanges[id];
        e.notRun[id] = {
          kind: 'policy',
          reason:
            'the descriptor declares no scope the resource requires (resource.requiredScope, resource.insufficientScope)',
        };
      }
    });
    expect(findings.find((x) => x.checkId === 'resource.insufficient-scope-refused')).toMatchObject(
      { outcome: 'skipped', message: expect.stringMatching(/resource.requiredScope/) },
    );
  });
  it('checks that need a token are broken, not skipped, when the server fails to issue one', () => {
    const findings = findingsFor((e) => errorResponse(e, 'token.0', 500, 'server_error'));
    expect(findings.find((x) => x.checkId === 'scope.requested-granted')).toMatchObject({
      outcome: 'broken',
      message: expect.stringMatching(
        /prerequisite failed: the token request was answered 500 server_error/,
      ),
    });
    expect(findings.find((x) => x.checkId === 'grant.client-credentials')).toMatchObject({
      outcome: 'fail',
    });
  });
  it.each([
    ['401 invalid_client', (e: Evidence) => errorResponse(e, 'token.0', 401, 'invalid_client')],
    [
      'a bare 403',
      (e: Evidence) => {
        const r = res(e, 'token.0');
        r.status = 403;
        delete r.json;
        delete r.accessToken;
        r.body = '';
      },
    ],
  ])(
    'a configured client refused with %s is a set-up problem: not verified, never a MUST failure',
    (_name, mutate) => {
      const findings = findingsFor((e) => {
        mutate(e);
        // A server that checks client authentication first answers every probe of that client alike.
        for (const probe of [
          'grant.missing-grant-type',
          'grant.unknown-grant-type',
          'scope.none',
        ]) {
          errorResponse(e, probe, 401, 'invalid_client');
          res(e, probe).headers['www-authenticate'] = ['Basic realm="reference"'];
        }
      });
      expect(findings.filter((f) => f.outcome === 'fail').map((f) => f.checkId)).toEqual([]);
      expect(
        findings.find(
          (x) =>
            x.checkId === 'grant.client-credentials' &&
            x.params['client'] === 'client_secret_basic',
        ),
      ).toMatchObject({
        outcome: 'broken',
        message: expect.stringMatching(
          /^the configured client client_secret_basic \(ref-basic\) could not obtain a token: check the credentials, the authentication method in .*reference.yaml \(the server answered (401 invalid_client|403)\)/,
        ),
      });
      for (const id of [
        'response.status-200',
        'response.content-type-json',
        'grant.missing-grant-type',
        'scope.default',
      ]) {
        expect(
          findings.find((x) => x.checkId === id),
          id,
        ).toMatchObject({
          outcome: 'broken',
          message: expect.stringMatching(
            /^not verified: the configured client client_secret_basic/,
          ),
        });
      }
    },
  );
});
