/**
 * The whole harness against a third-party server it did not write: oauth2-mock-server (axa-group), a
 * test double that issues real signed JWTs but authenticates nobody. It serves HTTPS itself (key and
 * certificate file paths), so it runs with a certificate from our run-time CA; no proxy is needed.
 *
 * It accepts any credentials, so every check that expects a refusal of bad credentials must go red.
 *
 * What it gets right (and the harness therefore passes): client_credentials with either client method
 * (it ignores them), a 200 application/json; charset=utf-8 response with access_token, token_type
 * "Bearer", an integer expires_in (3600) and the requested scope echoed; Cache-Control: no-store and
 * Pragma: no-cache on token responses; RS256 JWT access tokens whose exp − iat equals expires_in, with
 * a current iat and the scope as a claim; no refresh token for client_credentials; GET /token is not
 * routed (404, no token); a missing grant_type and a repeated grant_type (an array to its body parser)
 * are invalid_request with status 400 and a JSON body; a request without scope gets none; OpenID
 * discovery metadata with the right issuer, token_endpoint, grant types and a JWK Set of public keys
 * that verifies its tokens, whose iss is the issuer.
 *
 * What it gets wrong: no client authentication at all (wrong secret, unknown client, no credentials,
 * credentials in the query string and two methods at once all get tokens), so no invalid_client and no
 * Basic challenge is ever seen; an unknown grant_type is invalid_grant (RFC 6749 §5.2 wants
 * unsupported_grant_type); a scope the client may not have is granted as requested; and errors raised
 * while validating the body are sent before its Cache-Control: no-store is set; its metadata lists
 * only the auth method "none"; its access tokens are not RFC 9068 JWTs (typ JWT; no aud, sub,
 * client_id or jti).
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { OAuth2Server } from 'oauth2-mock-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { CHECKS } from '../../src/checks/index.js';
import { readDescriptor, resolveProvider } from '../../src/descriptor/load.js';
import type { Provider } from '../../src/descriptor/types.js';
import { evaluate, type Finding, type Outcome } from '../../src/evaluate.js';
import { observe } from '../../src/observe.js';
import { createCa, issueServerCert } from '../../src/reference/certs.js';

/** Every verdict on oauth2-mock-server 8.x, for the descriptor below (strict: false). */
const EXPECTED: Record<string, Outcome> = {
  'grant.client-credentials': 'pass',
  'grant.get-refused': 'pass',
  'grant.missing-grant-type': 'pass',
  'grant.unknown-grant-type': 'fail', // 400 invalid_grant
  'grant.repeated-parameter': 'pass',
  'grant.query-credentials-refused': 'warn',
  'grant.two-auth-methods-refused': 'warn',
  'grant.no-refresh-token': 'pass',
  'response.status-200': 'pass',
  'response.content-type-json': 'pass',
  'response.schema': 'pass',
  'response.access-token-syntax': 'pass',
  'response.token-type': 'pass',
  'response.expires-in-integer': 'pass',
  'response.expires-in-present': 'pass',
  'response.scope-syntax': 'pass',
  'response.cache-control': 'pass',
  'response.pragma': 'pass',
  'response.token-format': 'pass',
  'expiry.expires-in-declared': 'pass',
  'expiry.jwt-lifetime': 'pass',
  'expiry.jwt-iat-current': 'pass',
  'scope.requested-granted': 'pass',
  'scope.echoed': 'pass',
  'scope.returned-when-different': 'pass',
  'scope.not-broader': 'pass',
  'scope.default': 'pass',
  'scope.forbidden': 'fail', // admin granted
  'scope.ungrantable-alone': 'fail', // admin granted, asked for alone too
  'scope.refused-with-invalid-scope': 'pass', // nothing refused: no error code to judge
  'scope.none-default-or-invalid-scope': 'pass',
  'scope.jwt-claim-agrees': 'pass',
  'errors.wrong-secret': 'fail',
  'errors.unknown-client': 'fail',
  'errors.no-client-auth': 'fail',
  // It never answers invalid_client, so there is no Basic refusal to examine: broken, not a verdict.
  'errors.invalid-client-401-challenge': 'broken',
  'errors.status': 'pass',
  'errors.content-type-json': 'pass',
  'errors.schema': 'pass',
  'errors.cache-control': 'warn', // body-validation errors lack no-store
  // Discovery (OpenID Connect style, which it serves): right but for the one auth method it lists.
  'discovery.metadata': 'pass',
  'discovery.issuer': 'pass',
  'discovery.token-endpoint': 'pass',
  'discovery.grant-types-supported': 'pass',
  'discovery.auth-methods-supported': 'fail', // ["none"], while it takes (ignores) Basic and post
  'discovery.jwks': 'pass',
  // Its access tokens are signed JWTs, but not RFC 9068 ones.
  'jwt.typ': 'fail', // typ JWT
  'jwt.alg-not-none': 'pass',
  'jwt.alg-allowed': 'pass',
  'jwt.signature': 'pass',
  'jwt.required-claims': 'fail', // no aud, sub, client_id, jti
  'jwt.iss': 'pass',
  'jwt.client-id': 'fail',
  'jwt.jti-unique': 'pass', // no jti at all: nothing to compare (jwt.required-claims says it)
  // No protected resource: oauth2-mock-server has none (its /userinfo does not validate tokens).
  'grant.token-accepted-at-resource': 'skipped',
  'expiry.refused-after-expiry': 'skipped',
  'expiry.expired-token-challenge': 'skipped',
};

describe('the harness against oauth2-mock-server over HTTPS', () => {
  let server: OAuth2Server;
  let dir: string;
  let provider: Provider;
  let findings: Finding[];
  let requestsSent: number;
  const outcome = (id: string) => findings.filter((f) => f.checkId === id).map((f) => f.outcome);

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'tc-oauth2-mock-'));
    const ca = await createCa({ commonName: 'token-conformance oauth2-mock-server CA' });
    const tls = await issueServerCert(ca, { ips: ['127.0.0.1'], dns: ['localhost'] });
    await Promise.all([
      writeFile(path.join(dir, 'ca.pem'), ca.certPem),
      writeFile(path.join(dir, 'key.pem'), tls.keyPem, { mode: 0o600 }),
      writeFile(path.join(dir, 'cert.pem'), tls.certPem),
    ]);
    server = new OAuth2Server(path.join(dir, 'key.pem'), path.join(dir, 'cert.pem'));
    await server.issuer.keys.generate('RS256');
    await server.start(0, '127.0.0.1');
    const { port } = server.address();
    // It names its issuer https://localhost:PORT when bound to a loopback address; the descriptor
    // (and the harness's requests) use the address itself, so say so (a public, settable property).
    server.issuer.url = `https://127.0.0.1:${port}`;
    const file = path.join(dir, 'oauth2-mock-server.yaml');
    await writeFile(
      file,
      stringify({
        name: 'oauth2-mock-server',
        title: 'oauth2-mock-server (axa-group), HTTPS',
        tokenEndpoint: '${env:MOCK_TOKEN_URL}',
        issuer: '${env:MOCK_ISSUER}',
        discovery: 'openid-configuration',
        clients: [
          {
            id: 'mock-basic',
            label: 'client_secret_basic',
            auth: { method: 'client_secret_basic', secret: '${env:MOCK_SECRET_BASIC}' },
          },
          {
            id: 'mock-post',
            label: 'client_secret_post',
            auth: { method: 'client_secret_post', secret: '${env:MOCK_SECRET_POST}' },
          },
        ],
        grant: { type: 'client_credentials' },
        scopes: { request: 'api:read', default: '', forbidden: 'admin' },
        // Its documented behaviour: one-hour JWTs, the requested scope echoed.
        expect: {
          tokenType: 'Bearer',
          expiresIn: 3600,
          refreshToken: 'absent',
          scopeEcho: 'always',
          forbiddenScope: 'invalid_scope',
          tokenFormat: 'jwt',
        },
        limits: { maxExpiryWaitSeconds: 5 },
        tls: { caFile: './ca.pem' },
      }),
    );
    provider = resolveProvider(readDescriptor(file), {
      MOCK_TOKEN_URL: `https://127.0.0.1:${port}/token`,
      MOCK_ISSUER: `https://127.0.0.1:${port}`,
      MOCK_SECRET_BASIC: 'any secret +/:% works',
      MOCK_SECRET_POST: 'any-other-secret',
    });
    const evidence = await observe(provider);
    requestsSent = evidence.requestsSent;
    findings = evaluate(provider, evidence, { strict: false });
  });

  afterAll(async () => {
    if (server?.listening) await server.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('reaches the server over HTTPS with the run-time CA: no check is broken by transport', () => {
    // Two token requests, eleven refusal and scope probes; no resource, so no expiry wait.
    expect(requestsSent).toBeGreaterThanOrEqual(13);
    expect(
      findings
        .filter(
          (f) =>
            f.outcome === 'broken' &&
            /unreachable|TLS|timeout|within \d+ ms|reset|harness error/.test(f.message),
        )
        .map((f) => `${f.checkId}: ${f.message}`),
    ).toEqual([]);
    expect(outcome('grant.client-credentials')).toEqual(['pass', 'pass']);
  });

  it('goes red on every refusal of bad credentials it never makes', () => {
    for (const id of ['errors.wrong-secret', 'errors.unknown-client', 'errors.no-client-auth']) {
      expect(outcome(id), id).toEqual(['fail']);
      expect(findings.find((f) => f.checkId === id)?.message, id).toMatch(
        /was answered 200 with an access token: the request was accepted/,
      );
    }
    // SHOULD-level refusals it also skips: warnings.
    for (const id of ['grant.query-credentials-refused', 'grant.two-auth-methods-refused']) {
      expect(outcome(id), id).toEqual(['warn']);
      expect(findings.find((f) => f.checkId === id)?.message, id).toMatch(
        /was answered 200 with an access token: the request was accepted/,
      );
    }
    expect(findings.find((f) => f.checkId === 'scope.forbidden')?.message).toMatch(
      /a request for "api:read admin" was answered with a token that grants "admin", which the client may not have/,
    );
    expect(findings.find((f) => f.checkId === 'scope.ungrantable-alone')?.message).toMatch(
      /a request for "admin" was answered with a token that grants "admin"/,
    );
    expect(findings.find((f) => f.checkId === 'grant.unknown-grant-type')?.message).toMatch(
      /answered 400 invalid_grant; expected a 4xx with error unsupported_grant_type/,
    );
  });

  it('has exactly the expected verdict on every check', () => {
    const got = Object.fromEntries(
      CHECKS.filter((c) => c.id in EXPECTED).map((c) => [
        c.id,
        [...new Set(outcome(c.id))].join(','),
      ]),
    );
    expect(got).toEqual(EXPECTED);
    // Checks outside this list (added later) must at least not call a valid response a failure.
    const others = findings.filter((f) => !(f.checkId in EXPECTED));
    expect(
      others
        .filter((f) => f.outcome !== 'skipped' && f.outcome !== 'pass')
        .map((f) => `${f.checkId}: ${f.outcome} (${f.message})`),
    ).toEqual([]);
  });
});
