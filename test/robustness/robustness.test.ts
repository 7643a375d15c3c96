/**
 * The harness against real misbehaving endpoints on 127.0.0.1: every case goes the way a user's
 * run goes (descriptor file → readDescriptor → resolveProvider → observe → evaluate) and checks
 * that a misbehaving endpoint yields clear, correctly classified results in bounded time.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Evidence } from '../../src/checks/types.js';
import type { Provider } from '../../src/descriptor/types.js';
import { evaluate, type Finding } from '../../src/evaluate.js';
import type { Exchange } from '../../src/evidence/types.js';
import { observe } from '../../src/observe.js';
import {
  closedPort,
  descriptor,
  loadProvider,
  startTokenServer,
  type ServerOptions,
  type TokenServer,
} from './servers.js';

/** Small limits so a misbehaving endpoint costs about a second, not the default ten. */
const LIMITS = {
  timeoutMs: 1000,
  maxBodyBytes: 4096,
  maxExpiryWaitSeconds: 0,
  requestsPerSecond: 50,
};

let dir: string;
const servers: TokenServer[] = [];
let handlesBefore: ReturnType<typeof liveHandles> = { sockets: [], timers: 0 };

/** Handles that would keep the process alive: sockets and servers, and timers (vitest keeps some of its own). */
const liveHandles = (): { sockets: string[]; timers: number } => {
  const all = process.getActiveResourcesInfo();
  return {
    sockets: all.filter((r) => /TCP|TLS|Pipe/.test(r)).sort(),
    timers: all.filter((r) => /Timeout|Immediate/.test(r)).length,
  };
};
const leaked = (): boolean =>
  liveHandles().sockets.length > handlesBefore.sockets.length ||
  liveHandles().timers > handlesBefore.timers;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tc-robust-descriptors-'));
  handlesBefore = liveHandles();
});

afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
  // Closed servers and agents release their handles on the next turns of the event loop.
  for (let i = 0; i < 20 && leaked(); i++) await new Promise((r) => setTimeout(r, 50));
  const after = liveHandles();
  expect(after.sockets).toEqual(handlesBefore.sockets);
  expect(after.timers).toBeLessThanOrEqual(handlesBefore.timers);
});

async function start(options: ServerOptions = {}): Promise<TokenServer> {
  const s = await startTokenServer(options);
  servers.push(s);
  return s;
}

/** A provider for `server`, trusting its CA unless told otherwise. */
function providerFor(
  server: TokenServer,
  name: string,
  extra: Record<string, unknown> = {},
): Promise<Provider> {
  return loadProvider(
    dir,
    descriptor(name, server.tokenUrl, { tls: { caFile: server.caFile }, limits: LIMITS, ...extra }),
  );
}

function ex(evidence: Evidence, probe: string): Exchange {
  const e = evidence.exchanges[probe];
  if (!e) throw new Error(`no exchange recorded for ${probe}`);
  return e;
}

function finding(findings: Finding[], checkId: string): Finding {
  const f = findings.find((x) => x.checkId === checkId);
  if (!f) throw new Error(`no finding for ${checkId}`);
  return f;
}

async function run(p: Provider): Promise<{ evidence: Evidence; findings: Finding[] }> {
  const evidence = await observe(p);
  return { evidence, findings: evaluate(p, evidence, { strict: false }) };
}

/** Checks that did not run for a reason that has nothing to do with the endpoint's behaviour. */
const notApplicable = (f: Finding): boolean =>
  f.outcome === 'skipped' && /^(not applicable|not run): /.test(f.message);

describe('an endpoint that does not answer in time', () => {
  it.each([
    ['never answers', { behaviour: 'hang' }],
    ['answers after 5 s', { behaviour: 'slow', slowMs: 5000 }],
    ['sends headers, then trickles the body forever', { behaviour: 'trickle' }],
  ] as const)(
    '%s: timeout after limits.timeoutMs, findings broken, observe() bounded',
    async (_what, options) => {
      const server = await start(options);
      const p = await providerFor(server, `timeout-${options.behaviour}`);
      const { evidence, findings } = await run(p);

      const token = ex(evidence, 'token.0');
      expect(token.response).toBeUndefined();
      expect(token.transportError?.kind).toBe('timeout');
      expect(token.transportError?.message).toBe(
        'no complete response within 1000 ms (limits.timeoutMs)',
      );
      // Two timeouts open the circuit: the rest are not sent, so the run costs about 2 × timeoutMs.
      expect(evidence.requestsSent).toBe(2);
      expect(server.requests).toHaveLength(2);
      expect(ex(evidence, 'grant.missing-grant-type').notSent?.kind).toBe('circuit');

      const grant = finding(findings, 'grant.client-credentials');
      expect(grant.outcome).toBe('broken');
      expect(grant.message).toBe(
        'endpoint unreachable or misbehaving: no complete response within 1000 ms (limits.timeoutMs)',
      );
      expect(finding(findings, 'errors.unknown-client')).toMatchObject({
        outcome: 'broken',
        message: expect.stringMatching(
          /^not sent: 2 requests in a row failed \(no complete response within 1000 ms/,
        ),
      });
      expect(findings.filter((f) => !notApplicable(f)).every((f) => f.outcome === 'broken')).toBe(
        true,
      );
    },
  );
});

describe('a body larger than limits.maxBodyBytes', () => {
  it('is recorded truncated at the cap and fails response.schema with a message naming the cap', async () => {
    const server = await start({ behaviour: 'huge', hugeBytes: 100 * 1024 });
    const p = await providerFor(server, 'huge');
    const { evidence, findings } = await run(p);

    const res = ex(evidence, 'token.0').response;
    expect(res?.status).toBe(200);
    expect(res?.truncated).toBe(true);
    // Never more than the cap is kept, and nothing of it is parsed as if it were the whole body.
    expect(Buffer.byteLength(res?.body ?? '')).toBeLessThanOrEqual(4096);
    expect(res?.json).toBeUndefined();
    expect(res?.accessToken).toBeUndefined();

    // An endpoint that sends more than the cap misbehaves: a failure, not a harness problem.
    const schema = finding(findings, 'response.schema');
    expect(schema.outcome).toBe('fail');
    expect(schema.message).toBe('the body is larger than the 4096 byte cap (limits.maxBodyBytes)');
    expect(finding(findings, 'grant.client-credentials').outcome).toBe('fail');
    // A truncated body is a response, not a transport failure: the run goes on.
    expect(evidence.requestsSent).toBe(server.requests.length);
    expect(ex(evidence, 'scope.none').response?.truncated).toBe(true);
  });
});

describe('a connection reset mid-response', () => {
  it('is a transport error of kind reset; findings are broken', async () => {
    const server = await start({ behaviour: 'reset' });
    const p = await providerFor(server, 'reset');
    const { evidence, findings } = await run(p);

    const token = ex(evidence, 'token.0');
    expect(token.response).toBeUndefined();
    expect(token.transportError?.kind).toBe('reset');
    expect(token.transportError?.message).toMatch(
      /^the connection to 127\.0\.0\.1:\d+ was reset before a complete response arrived$/,
    );
    expect(evidence.requestsSent).toBe(2);
    const grant = finding(findings, 'grant.client-credentials');
    expect(grant.outcome).toBe('broken');
    expect(grant.message).toMatch(/was reset before a complete response arrived/);
  });
});

describe('connection refused', () => {
  it('is kind refused; the circuit breaker stops after two attempts; findings are broken', async () => {
    const port = await closedPort();
    const p = await loadProvider(
      dir,
      descriptor('refused', `https://127.0.0.1:${port}/token`, { limits: LIMITS }),
    );
    const { evidence, findings } = await run(p);

    const token = ex(evidence, 'token.0');
    expect(token.transportError).toMatchObject({ kind: 'refused', code: 'ECONNREFUSED' });
    expect(token.transportError?.message).toBe(
      `connection refused by 127.0.0.1:${port}: the endpoint is unreachable`,
    );
    expect(evidence.requestsSent).toBeLessThanOrEqual(2);
    const later = Object.values(evidence.exchanges).slice(2);
    expect(later.length).toBeGreaterThan(5);
    for (const e of later) {
      expect(e.notSent?.kind).toBe('circuit');
      expect(e.notSent?.reason).toMatch(
        /^not sent: 2 requests in a row failed \(connection refused by /,
      );
    }

    expect(finding(findings, 'grant.client-credentials')).toMatchObject({
      outcome: 'broken',
      message: expect.stringContaining('connection refused'),
    });
    expect(finding(findings, 'errors.wrong-secret')).toMatchObject({
      outcome: 'broken',
      message: expect.stringContaining('not sent: 2 requests in a row failed'),
    });
    const judged = findings.filter((f) => !notApplicable(f));
    expect(judged.length).toBeGreaterThan(20);
    expect(judged.filter((f) => f.outcome !== 'broken')).toEqual([]);
  });
});

describe('a 200 that is not JSON (text/html)', () => {
  it('fails the Content-Type and schema checks; nothing is broken by it', async () => {
    const server = await start({ behaviour: 'html' });
    const p = await providerFor(server, 'html');
    const { evidence, findings } = await run(p);

    const res = ex(evidence, 'token.0').response;
    expect(res?.status).toBe(200);
    expect(res?.jsonError).toBeDefined();
    expect(res?.body).toContain('<h1>Welcome</h1>');

    expect(finding(findings, 'response.content-type-json')).toMatchObject({
      outcome: 'fail',
      message: 'Content-Type is "text/html; charset=utf-8", not application/json',
    });
    const schema = finding(findings, 'response.schema');
    expect(schema.outcome).toBe('fail');
    expect(schema.message).toMatch(/^the body is not JSON: /);
    expect(finding(findings, 'grant.client-credentials')).toMatchObject({
      outcome: 'fail',
      message: expect.stringContaining('answered 200 (text/html)'),
    });
    // Every probe was answered: no transport errors, and no harness errors.
    expect(Object.values(evidence.exchanges).every((e) => e.response !== undefined)).toBe(true);
    expect(findings.some((f) => f.message.includes('harness error'))).toBe(false);
  });
});

describe('a 503 to every request', () => {
  it('fails the token checks with the status; nothing crashes', async () => {
    const server = await start({ behaviour: 'unavailable' });
    const p = await providerFor(server, 'unavailable');
    const { evidence, findings } = await run(p);

    expect(ex(evidence, 'token.0').response?.status).toBe(503);
    expect(finding(findings, 'grant.client-credentials')).toMatchObject({
      outcome: 'fail',
      message:
        'client_credentials with client_secret_basic was answered 503 temporarily_unavailable, not 200 with an access token',
    });
    expect(finding(findings, 'response.status-200')).toMatchObject({
      outcome: 'fail',
      message: expect.stringContaining('503'),
    });
    expect(finding(findings, 'errors.status')).toMatchObject({
      outcome: 'fail',
      message: expect.stringContaining('503 temporarily_unavailable: expected 400'),
    });
    // Answered (if wrongly): every request was sent, every check reached a verdict without a harness error.
    expect(evidence.requestsSent).toBe(server.requests.length);
    expect(Object.values(evidence.exchanges).every((e) => e.response?.status === 503)).toBe(true);
    expect(findings.some((f) => f.message.includes('harness error'))).toBe(false);
  });
});

describe('TLS', () => {
  it('a certificate from a CA the descriptor does not name: kind tls, findings broken, message names tls.caFile', async () => {
    const server = await start();
    const p = await loadProvider(dir, descriptor('untrusted', server.tokenUrl, { limits: LIMITS }));
    const { evidence, findings } = await run(p);

    const token = ex(evidence, 'token.0');
    expect(token.transportError?.kind).toBe('tls');
    expect(token.transportError?.message).toMatch(
      /certificate is not trusted .*tls\.caFile of untrusted's descriptor/,
    );
    // The handshake fails before any HTTP request is made.
    expect(server.requests).toHaveLength(0);
    const grant = finding(findings, 'grant.client-credentials');
    expect(grant.outcome).toBe('broken');
    expect(grant.message).toContain('tls.caFile');
  });

  it('the same server with tls.caFile naming its CA: the token exchange is answered', async () => {
    const server = await start();
    const p = await providerFor(server, 'trusted');
    expect(p.tls).toEqual({ caFile: server.caFile, insecureSkipVerify: false });
    const { evidence, findings } = await run(p);

    expect(ex(evidence, 'token.0').response?.status).toBe(200);
    expect(finding(findings, 'grant.client-credentials').outcome).toBe('pass');
    expect(finding(findings, 'response.schema').outcome).toBe('pass');
    expect(findings.filter((f) => f.outcome === 'broken')).toEqual([]);
  });

  it('a CA file naming another CA: the message points at the configured tls.caFile', async () => {
    const server = await start();
    const other = await start();
    const p = await loadProvider(
      dir,
      descriptor('wrong-ca', server.tokenUrl, { limits: LIMITS, tls: { caFile: other.caFile } }),
    );
    const { evidence, findings } = await run(p);

    const token = ex(evidence, 'token.0');
    expect(token.transportError?.kind).toBe('tls');
    expect(token.transportError?.message).toContain(
      `the CA in tls.caFile (${other.caFile}) did not issue it`,
    );
    expect(finding(findings, 'grant.client-credentials').outcome).toBe('broken');
  });

  it.each([
    [
      'a certificate for another host name',
      { cert: 'wrong-name' },
      /^TLS: the server's certificate is not valid for 127\.0\.0\.1:\d+ \(ERR_TLS_CERT_ALTNAME_INVALID\)/,
    ],
    [
      'an expired certificate',
      { cert: 'expired' },
      /^TLS: the server's certificate has expired \(CERT_HAS_EXPIRED\)$/,
    ],
    [
      'a plain HTTP server behind an https:// URL',
      { plainHttp: true },
      /^TLS handshake with 127\.0\.0\.1:\d+ failed \(ERR_SSL_WRONG_VERSION_NUMBER\): the server does not speak TLS/,
    ],
  ] as const)(
    '%s: kind tls, and the message does not send the reader to tls.caFile',
    async (_what, options, message) => {
      const server = await start(options);
      const p = await providerFor(server, `tls-${Object.values(options).join('-')}`);
      const { evidence, findings } = await run(p);

      const token = ex(evidence, 'token.0');
      expect(token.transportError?.kind).toBe('tls');
      expect(token.transportError?.message).toMatch(message);
      expect(token.transportError?.message).not.toContain('tls.caFile');
      expect(evidence.requestsSent).toBe(2);
      expect(finding(findings, 'grant.client-credentials')).toMatchObject({
        outcome: 'broken',
        message: expect.stringMatching(message.source.replace('^', '')),
      });
    },
  );

  it('tls.insecureSkipVerify: requests succeed against the untrusted server, and the provider says so', async () => {
    const server = await start();
    const p = await loadProvider(
      dir,
      descriptor('insecure', server.tokenUrl, {
        limits: LIMITS,
        tls: { insecureSkipVerify: true },
      }),
    );
    expect(p.tls.insecureSkipVerify).toBe(true);
    expect(p.tls.caFile).toBeUndefined();
    const { evidence, findings } = await run(p);

    expect(ex(evidence, 'token.0').response?.status).toBe(200);
    expect(Object.values(evidence.exchanges).some((e) => e.transportError)).toBe(false);
    expect(finding(findings, 'grant.client-credentials').outcome).toBe('pass');
  });
});

describe('request budget (limits.maxRequests)', () => {
  it('exactly maxRequests reach the server; later probes are not sent and their checks are skipped', async () => {
    const server = await start();
    const p = await providerFor(server, 'budget', { limits: { ...LIMITS, maxRequests: 3 } });
    const { evidence, findings } = await run(p);

    expect(server.requests).toHaveLength(3);
    expect(evidence.requestsSent).toBe(3);
    const all = Object.values(evidence.exchanges);
    expect(all.slice(0, 3).every((e) => e.response !== undefined)).toBe(true);
    const unsent = all.slice(3);
    expect(unsent.length).toBeGreaterThan(5);
    for (const e of unsent) {
      expect(e.notSent).toEqual({
        kind: 'budget',
        reason: 'not sent: the request budget of 3 (limits.maxRequests) is used up',
      });
    }

    expect(finding(findings, 'grant.client-credentials').outcome).toBe('pass');
    for (const id of [
      'grant.unknown-grant-type',
      'errors.wrong-secret',
      'errors.unknown-client',
      'errors.no-client-auth',
    ]) {
      expect(finding(findings, id)).toMatchObject({
        outcome: 'skipped',
        message: 'not sent: the request budget of 3 (limits.maxRequests) is used up',
      });
    }
  });
});

/** Outcome of every finding, keyed by check and client: for comparing two runs. */
const outcomes = (findings: Finding[]): Record<string, string> =>
  Object.fromEntries(findings.map((f) => [`${f.checkId} ${f.params['client'] ?? ''}`, f.outcome]));

describe('429 Too Many Requests is not an answer (RFC 6585 §4)', () => {
  it('once, with Retry-After: 1: the same request is sent again a second later, and its answer is judged as if there had been no 429', async () => {
    const server = await start({ behaviour: 'rate-limit-first', retryAfter: '1' });
    const p = await providerFor(server, 'rate-limited-once');
    const { evidence, findings } = await run(p);

    const token = ex(evidence, 'token.0');
    expect(token.response?.status).toBe(200);
    expect(token.transportError).toBeUndefined();
    expect(token.attempts).toBe(2);
    expect(finding(findings, 'grant.client-credentials').outcome).toBe('pass');
    expect(
      findings.filter((f) => /429|rate-limited/.test(f.message)).map((f) => f.message),
    ).toEqual([]);

    // The retry is the same request (same body, same credentials), a second later, counted in the budget.
    const [first, second, third, ...rest] = server.requests;
    expect(second?.method).toBe('POST');
    expect([second?.body, second?.authorization]).toEqual([first?.body, first?.authorization]);
    expect(third?.method).toBe('GET');
    expect(server.requests).toHaveLength(evidence.requestsSent);
    const gap = (second?.at ?? 0) - (first?.at ?? 0);
    expect(gap).toBeGreaterThanOrEqual(950);
    // Only the retry was retried: every later request went once (no wall-clock bound: a busy machine is slow).
    expect(rest.length + 3).toBe(server.requests.length);

    // Every verdict is what a server that never said 429 gets.
    const healthy = await start();
    const baseline = await run(await providerFor(healthy, 'never-rate-limited'));
    expect(outcomes(findings)).toEqual(outcomes(baseline.findings));
  });

  it('with Retry-After as an HTTP-date (RFC 9110 §10.2.3): the retry waits until that date', async () => {
    // Three seconds ahead, sent with one-second resolution: a wait of 2–3 s, not the 1 s fallback.
    const server = await start({
      behaviour: 'rate-limit-first',
      retryAfter: () => new Date(Date.now() + 3000).toUTCString(),
    });
    const p = await providerFor(server, 'rate-limited-date', {
      limits: { ...LIMITS, maxRequests: 2 },
    });
    const { evidence } = await run(p);

    expect(ex(evidence, 'token.0').response?.status).toBe(200);
    expect(ex(evidence, 'token.0').attempts).toBe(2);
    const [first, second] = server.requests;
    const gap = (second?.at ?? 0) - (first?.at ?? 0);
    expect(gap).toBeGreaterThanOrEqual(1900);
  });

  it('for ever: three attempts per request, then rate-limited; two such requests open the circuit; every finding is broken, none failed', async () => {
    const server = await start({ behaviour: 'rate-limit-always', retryAfter: '1' });
    const p = await providerFor(server, 'rate-limited-always');
    const { evidence, findings } = await run(p);

    const token = ex(evidence, 'token.0');
    expect(token.response).toBeUndefined();
    expect(token.transportError).toEqual({
      kind: 'rate-limited',
      code: '429',
      message: 'rate-limited: the endpoint answered 429 Too Many Requests 3 times (Retry-After: 1)',
    });
    expect(token.attempts).toBe(3);
    // The last 429 is kept as evidence, apart from `response`, so no check reads it as an answer.
    expect(token.rateLimitedResponse?.status).toBe(429);
    expect(token.rateLimitedResponse?.headers['retry-after']).toEqual(['1']);
    expect(ex(evidence, 'grant.get').transportError?.kind).toBe('rate-limited');
    // 2 requests × 3 attempts, each counted; then the circuit breaker stops the run.
    expect(evidence.requestsSent).toBe(6);
    expect(server.requests).toHaveLength(6);
    const later = Object.values(evidence.exchanges).slice(2);
    expect(later.length).toBeGreaterThan(5);
    for (const e of later)
      expect(e.notSent?.reason).toMatch(
        /^not sent: 2 requests in a row failed \(rate-limited: the endpoint answered 429 Too Many Requests 3 times/,
      );
    // Waits: 1 s (Retry-After) before each retry and before the next probe: every gap at least that.
    const at = server.requests.map((r) => r.at);
    for (let i = 1; i < at.length; i++)
      expect((at[i] ?? 0) - (at[i - 1] ?? 0)).toBeGreaterThanOrEqual(950);

    expect(finding(findings, 'grant.client-credentials')).toMatchObject({
      outcome: 'broken',
      message:
        'endpoint unreachable or misbehaving: rate-limited: the endpoint answered 429 Too Many Requests 3 times (Retry-After: 1)',
    });
    expect(finding(findings, 'response.status-200').outcome).toBe('broken');
    const judged = findings.filter((f) => !notApplicable(f));
    expect(judged.length).toBeGreaterThan(20);
    expect(
      judged.filter((f) => f.outcome !== 'broken').map((f) => `${f.checkId}: ${f.outcome}`),
    ).toEqual([]);
    expect(judged.every((f) => f.message.includes('rate-limited'))).toBe(true);
  });

  it('a Retry-After longer than limits.maxRetryAfterSeconds is not waited out: rate-limited at once, and the next request waits only the cap', async () => {
    const server = await start({ behaviour: 'rate-limit-always', retryAfter: '3600' });
    const p = await providerFor(server, 'rate-limited-long', {
      limits: { ...LIMITS, maxRetryAfterSeconds: 1 },
    });
    const { evidence } = await run(p);

    expect(ex(evidence, 'token.0').transportError?.message).toBe(
      'rate-limited: the endpoint answered 429 Too Many Requests once (Retry-After: 3600, longer than limits.maxRetryAfterSeconds (1 s): not retried)',
    );
    expect(ex(evidence, 'token.0').attempts).toBe(1);
    expect(server.requests).toHaveLength(2);
    const [first, second] = server.requests;
    // The next request waited the 1 s cap, not the hour asked for (a bound no busy machine comes near).
    const gap = (second?.at ?? 0) - (first?.at ?? 0);
    expect(gap).toBeGreaterThanOrEqual(950);
    expect(gap).toBeLessThan(600_000);
  });

  it('without Retry-After the wait is 1 s, and retries stop when the request budget is used up', async () => {
    const server = await start({ behaviour: 'rate-limit-always', retryAfter: null });
    const p = await providerFor(server, 'rate-limited-budget', {
      limits: { ...LIMITS, maxRequests: 2 },
    });
    const { evidence } = await run(p);

    const token = ex(evidence, 'token.0');
    expect(token.transportError?.message).toBe(
      'rate-limited: the endpoint answered 429 Too Many Requests 2 times (no Retry-After; the request budget of 2 (limits.maxRequests) is used up)',
    );
    expect(evidence.requestsSent).toBe(2);
    expect(server.requests).toHaveLength(2);
    const [first, second] = server.requests;
    expect((second?.at ?? 0) - (first?.at ?? 0)).toBeGreaterThanOrEqual(950);
    expect(ex(evidence, 'grant.get').notSent?.kind).toBe('budget');
  });
});

describe('isolation between providers', () => {
  it('a refused provider observed concurrently does not affect a healthy one', async () => {
    const healthy = await start();
    const port = await closedPort();
    const good = await providerFor(healthy, 'healthy');
    const bad = await loadProvider(
      dir,
      descriptor('dead', `https://127.0.0.1:${port}/token`, { limits: LIMITS }),
    );

    const [badEvidence, goodEvidence] = await Promise.all([observe(bad), observe(good)]);

    expect(ex(badEvidence, 'token.0').transportError?.kind).toBe('refused');
    expect(ex(goodEvidence, 'token.0').response?.status).toBe(200);
    expect(Object.values(goodEvidence.exchanges).every((e) => e.response !== undefined)).toBe(true);
    expect(goodEvidence.requestsSent).toBe(healthy.requests.length);
    const findings = evaluate(good, goodEvidence, { strict: false });
    expect(finding(findings, 'grant.client-credentials').outcome).toBe('pass');
    expect(findings.filter((f) => f.outcome === 'broken')).toEqual([]);
  });
});
