/**
 * Egress proxies (issue 15), in process: how HTTPS_PROXY / HTTP_PROXY / NO_PROXY and a descriptor's
 * `proxy` field resolve, and what the runner does through a CONNECT proxy on 127.0.0.1 (TLS through
 * the tunnel, NO_PROXY, a refusing, absent or silent proxy, redaction). The CLI runs against the
 * reference through a proxy are in test/e2e/proxy.test.ts.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DescriptorError } from '../../src/descriptor/load.js';
import type { Provider } from '../../src/descriptor/types.js';
import { trustStandIns } from '../../src/emulate/index.js';
import { evaluate } from '../../src/evaluate.js';
import { tunnelLogOf } from '../../src/http/proxy.js';
import { ProviderSession } from '../../src/http/runner.js';
import type { Exchange } from '../../src/http/types.js';
import { observe } from '../../src/observe.js';
import { publicProvider } from '../../src/run-record.js';
import { formatSummary } from '../../src/report/summary.js';
import {
  closedPort,
  CLIENT_ID,
  CLIENT_SECRET,
  descriptor,
  loadProvider,
  SECRET_ENV,
  startTokenServer,
  type TokenServer,
} from '../robustness/servers.js';
import { startConnectProxy, type ConnectProxy } from './connect-proxy.js';

const LIMITS = { timeoutMs: 1000, maxExpiryWaitSeconds: 0, requestsPerSecond: 50 };
const BASE_ENV = { [SECRET_ENV]: CLIENT_SECRET };

let dir: string;
let server: TokenServer;
const proxies: ConnectProxy[] = [];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tc-proxy-'));
  server = await startTokenServer();
});

afterEach(async () => {
  await Promise.all(proxies.splice(0).map((p) => p.close()));
});

afterAll(async () => {
  await server.close();
  await rm(dir, { recursive: true, force: true });
});

async function proxy(options: Parameters<typeof startConnectProxy>[0] = {}): Promise<ConnectProxy> {
  const p = await startConnectProxy(options);
  proxies.push(p);
  return p;
}

let seq = 0;
/** A provider for the test server, trusting its CA, loaded the way the CLI loads one, with `env` as the environment. */
function providerWith(
  env: NodeJS.ProcessEnv,
  extra: Record<string, unknown> = {},
): Promise<Provider> {
  return loadProvider(
    dir,
    descriptor(`proxy-${++seq}`, server.tokenUrl, {
      tls: { caFile: server.caFile },
      limits: LIMITS,
      ...extra,
    }),
    { ...BASE_ENV, ...env },
  );
}

function loadError(env: NodeJS.ProcessEnv, extra: Record<string, unknown> = {}): Promise<unknown> {
  return providerWith(env, extra).then(
    () => undefined,
    (e: unknown) => e,
  );
}

/** One token request, as the grant probe sends it. */
async function tokenRequest(p: Provider): Promise<Exchange> {
  const session = new ProviderSession(p);
  try {
    return await session.send('token.0', 'token', {
      method: 'POST',
      url: server.tokenUrl,
      form: [['grant_type', 'client_credentials']],
      basic: { id: CLIENT_ID, secret: CLIENT_SECRET },
    });
  } finally {
    await session.close();
  }
}

describe('resolving the proxy setting', () => {
  it('reads HTTPS_PROXY and NO_PROXY, host:port shown with the variable it came from', async () => {
    const p = await providerWith({ HTTPS_PROXY: 'http://127.0.0.1:3128', NO_PROXY: 'localhost' });
    expect(p.proxy).toEqual({
      mode: 'proxy',
      https: {
        url: 'http://127.0.0.1:3128/',
        hostPort: '127.0.0.1:3128',
        from: 'HTTPS_PROXY',
        envName: 'HTTPS_PROXY',
      },
      noProxy: 'localhost',
    });
  });

  it('prefers the lower-case variables, as undici does, and falls back to HTTP_PROXY for https URLs', async () => {
    const lower = await providerWith({
      https_proxy: 'http://127.0.0.1:1111',
      HTTPS_PROXY: 'http://127.0.0.1:2222',
      no_proxy: 'a.test',
      NO_PROXY: 'b.test',
    });
    expect(lower.proxy).toMatchObject({
      mode: 'proxy',
      https: { hostPort: '127.0.0.1:1111', from: 'https_proxy' },
      noProxy: 'a.test',
    });
    const fallback = await providerWith({ HTTP_PROXY: 'proxy.test:8080' });
    // No scheme: an http:// proxy, as curl reads it.
    expect(fallback.proxy).toMatchObject({
      mode: 'proxy',
      http: { url: 'http://proxy.test:8080/', hostPort: 'proxy.test:8080', from: 'HTTP_PROXY' },
    });
    expect(fallback.proxy.mode === 'proxy' && fallback.proxy.https).toBeUndefined();
  });

  it('without proxy variables every request goes direct', async () => {
    expect((await providerWith({})).proxy).toEqual({
      mode: 'none',
      reason: 'no HTTPS_PROXY or HTTP_PROXY set',
    });
  });

  it('proxy: none in the descriptor wins over the environment, and says which proxy it left unused', async () => {
    const p = await providerWith({ HTTPS_PROXY: 'http://127.0.0.1:3128' }, { proxy: 'none' });
    expect(p.proxy).toEqual({
      mode: 'none',
      reason: 'proxy: none in the descriptor',
      ignored: 'HTTPS_PROXY 127.0.0.1:3128',
    });
  });

  it('proxy.url from ${env:…} applies to every URL, whatever NO_PROXY says', async () => {
    const p = await providerWith(
      { CORP_PROXY: 'http://127.0.0.1:3128', NO_PROXY: '*' },
      { proxy: { url: '${env:CORP_PROXY}' } },
    );
    const endpoint = {
      url: 'http://127.0.0.1:3128/',
      hostPort: '127.0.0.1:3128',
      from: 'proxy.url (${env:CORP_PROXY})',
      envName: 'CORP_PROXY',
    };
    expect(p.proxy).toEqual({ mode: 'proxy', https: endpoint, http: endpoint, noProxy: '' });
  });

  it('the --emulate stand-ins are never proxied', async () => {
    const p = trustStandIns(
      await providerWith({ HTTPS_PROXY: 'http://127.0.0.1:3128' }),
      server.caFile,
    );
    expect(p.proxy).toEqual({
      mode: 'none',
      reason: 'the --emulate stand-in runs on 127.0.0.1 and is never proxied',
      ignored: 'HTTPS_PROXY 127.0.0.1:3128',
    });
  });

  it.each([
    [
      'a literal user:password@',
      { proxy: { url: 'http://alice:hunter22@proxy.test:3128' } },
      {},
      'proxy.url',
      'must not hold credentials (user:password@): put the whole proxy URL in an ${env:NAME} reference',
    ],
    [
      'credentials in an ${env:…:-default}',
      { proxy: { url: '${env:CORP_PROXY:-http://alice:hunter22@proxy.test:3128}' } },
      {},
      'proxy.url',
      'the ${env:NAME:-default} default holds credentials',
    ],
    [
      'a string other than none',
      { proxy: 'http://proxy.test:3128' },
      {},
      'proxy',
      'must be none, or a mapping { url: ${env:NAME} }, not another string',
    ],
    [
      'an unknown field',
      { proxy: { url: 'http://proxy.test:3128', user: 'alice' } },
      {},
      'proxy.user',
      'unknown field',
    ],
    [
      'a socks proxy from the environment of proxy.url',
      { proxy: { url: '${env:CORP_PROXY}' } },
      { CORP_PROXY: 'socks5://proxy.test:1080' },
      'proxy.url',
      'must be an http:// or https:// proxy URL (or an ${env:…} reference) (value of ${env:CORP_PROXY})',
    ],
    [
      'an unusable HTTPS_PROXY',
      {},
      { HTTPS_PROXY: 'socks5://alice:hunter22@proxy.test:1080' },
      'proxy',
      'environment variable HTTPS_PROXY is not a usable proxy URL: socks5:// proxies are not supported',
    ],
  ])(
    '%s: one line naming the file and field, no secret in it',
    async (_what, extra, env, field, problem) => {
      const e = await loadError(env, extra);
      expect(e).toBeInstanceOf(DescriptorError);
      const err = e as DescriptorError;
      expect(err.field).toBe(field);
      expect(err.problem).toContain(problem);
      expect(err.message.split('\n')).toHaveLength(1);
      expect(err.message).not.toContain('hunter22');
    },
  );
});

describe('requests through a CONNECT proxy', () => {
  it('tunnels with the descriptor CA verified inside the tunnel, and logs the tunnel', async () => {
    const corp = await proxy();
    const p = await providerWith({ HTTPS_PROXY: corp.url });
    const ex = await tokenRequest(p);
    expect(ex.transportError).toBeUndefined();
    expect(ex.response?.status).toBe(200);
    const target = new URL(server.tokenUrl).host;
    expect(corp.tunnels).toEqual([target]);
    expect([...tunnelLogOf(p).opened.values()]).toEqual([
      { proxy: `127.0.0.1:${corp.port}`, target, count: 1 },
    ]);
  });

  it("an endpoint certificate the CA did not issue is the endpoint's TLS problem, not the proxy's", async () => {
    const corp = await proxy();
    const p = await providerWith({ HTTPS_PROXY: corp.url }, { tls: {} });
    const ex = await tokenRequest(p);
    expect(corp.tunnels).toHaveLength(1);
    expect(ex.transportError?.kind).toBe('tls');
    expect(ex.transportError?.message).toMatch(/certificate is not trusted/);
  });

  it('insecureSkipVerify holds through the tunnel as without it', async () => {
    const corp = await proxy();
    const p = await providerWith({ HTTPS_PROXY: corp.url }, { tls: { insecureSkipVerify: true } });
    expect((await tokenRequest(p)).response?.status).toBe(200);
    expect(corp.tunnels).toHaveLength(1);
  });

  it.each<[string, string | (() => string), boolean]>([
    ['the host', '127.0.0.1', false],
    ['the host and its port', () => `127.0.0.1:${new URL(server.tokenUrl).port}`, false],
    ['everything (*)', '*', false],
    ['another host only', 'localhost', true],
    ['another port of the host', '127.0.0.1:1', true],
  ])('NO_PROXY naming %s', async (_what, value, proxied) => {
    const corp = await proxy();
    const p = await providerWith({
      HTTPS_PROXY: corp.url,
      NO_PROXY: typeof value === 'function' ? value() : value,
    });
    expect((await tokenRequest(p)).response?.status).toBe(200);
    expect(corp.connects).toBe(proxied ? 1 : 0);
  });

  it('proxy credentials from the environment reach the proxy and nothing else, redacted everywhere', async () => {
    const corp = await proxy({ credentials: { user: 'alice', password: 'hunter22-pw' } });
    const p = await providerWith(
      { HTTPS_PROXY: `http://alice:hunter22-pw@127.0.0.1:${corp.port}` },
      { limits: { ...LIMITS, maxRequests: 12 } },
    );
    const evidence = await observe(p);
    expect(corp.tunnels.length).toBeGreaterThan(0);
    expect(corp.authorizations[0]).toBe(
      `Basic ${Buffer.from('alice:hunter22-pw').toString('base64')}`,
    );
    // The endpoint never sees the proxy's credentials.
    expect(server.requests.some((r) => JSON.stringify(r).includes('hunter22'))).toBe(false);
    const findings = evaluate(p, evidence, { strict: false });
    const record = {
      version: 1,
      harnessVersion: 'test',
      nodeVersion: process.version,
      strict: false,
      startedAt: '',
      finishedAt: '',
      providers: [{ provider: publicProvider(p), evidence, findings }],
    };
    const out = JSON.stringify(record) + formatSummary(record);
    expect(out).not.toContain('hunter22');
    expect(out).not.toContain(Buffer.from('alice:hunter22-pw').toString('base64'));
    expect(record.providers[0]?.provider.proxy).toMatchObject({
      proxies: [{ proxy: `127.0.0.1:${corp.port}`, from: 'HTTPS_PROXY', for: 'https' }],
      refusedTunnels: 0,
    });
    expect(formatSummary(record)).toContain(
      `${p.name}: through the proxy 127.0.0.1:${corp.port} (HTTPS_PROXY): `,
    );
  });
});

describe("a proxy that refuses or fails the tunnel is reported as the proxy's failure", () => {
  it("407: the proxy's answer, kind proxy; the checks are broken, not failed", async () => {
    const corp = await proxy({ answer: 407 });
    const p = await providerWith({ HTTPS_PROXY: corp.url });
    const before = server.requests.length;
    const evidence = await observe(p);
    const first = Object.values(evidence.exchanges).find((e) => e.transportError);
    expect(first?.transportError).toEqual({
      kind: 'proxy',
      code: 'PROXY_407',
      message: `the proxy 127.0.0.1:${corp.port} refused the tunnel: 407 Proxy Authentication Required`,
    });
    // The circuit breaker stops after two failures, as for an unreachable endpoint.
    expect(corp.connects).toBe(2);
    expect(server.requests.length).toBe(before);
    const findings = evaluate(p, evidence, { strict: false });
    const judged = findings.filter((f) => f.outcome !== 'skipped');
    expect(judged.length).toBeGreaterThan(0);
    for (const f of judged) expect(f.outcome, `${f.checkId}: ${f.message}`).toBe('broken');
    expect(findings.find((f) => f.checkId === 'grant.client-credentials')?.message).toBe(
      `proxy failure, the endpoint was not reached: the proxy 127.0.0.1:${corp.port} refused the tunnel: 407 Proxy Authentication Required`,
    );
  });

  it('nothing listening at the proxy address: the proxy is unreachable', async () => {
    const port = await closedPort();
    const ex = await tokenRequest(await providerWith({ HTTPS_PROXY: `http://127.0.0.1:${port}` }));
    expect(ex.transportError).toEqual({
      kind: 'proxy',
      code: 'ECONNREFUSED',
      message: `the proxy 127.0.0.1:${port} is unreachable: connection refused`,
    });
  });

  it('a proxy that never answers CONNECT: the proxy did not open the tunnel within limits.timeoutMs', async () => {
    const corp = await proxy({ silent: true });
    const ex = await tokenRequest(await providerWith({ HTTPS_PROXY: corp.url }));
    expect(ex.transportError?.kind).toBe('proxy');
    expect(ex.transportError?.message).toBe(
      `the proxy 127.0.0.1:${corp.port} did not open the tunnel within 1000 ms (limits.timeoutMs)`,
    );
  });
});
