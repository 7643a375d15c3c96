/**
 * `npm run conformance` behind an egress proxy (issue 15): real CLI runs against a reference server
 * started here (the embedded one is never proxied), through CONNECT proxies on 127.0.0.1 that count
 * their tunnels. The reference descriptor is providers/reference.yaml without `embedded: reference`:
 * the same clients, including tls_client_auth and self_signed_tls_client_auth with bound tokens.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROVIDERS_DIR } from '../../src/descriptor/load.js';
import { startReference, type ReferenceServer } from '../../src/reference/server.js';
import type { ProviderRun } from '../../src/run-record.js';
import { startConnectProxy, type ConnectProxy } from '../http/connect-proxy.js';
import {
  describeRun,
  freshDir,
  listFiles,
  readRun,
  removeTempDirs,
  runCli,
  type CliResult,
} from './run-cli.js';

const PROXY_PASSWORD = 's3cr3t-proxy-pw';
const RUN_TIMEOUT_MS = 150_000;

let ref: ReferenceServer;
const proxies: ConnectProxy[] = [];
let viaEnv: ConnectProxy;
let bypassed: ConnectProxy;
let forced: ConnectProxy;
let refusing: ConnectProxy;
let embedded: ConnectProxy;
const runs = {} as Record<
  'viaEnv' | 'bypassed' | 'forced' | 'refusing' | 'embedded' | 'literal',
  CliResult
>;

/** Every proxy variable unset first, so the machine's own settings never leak into a run. */
function env(overrides: Record<string, string>): Record<string, string | undefined> {
  const unset = {
    HTTPS_PROXY: undefined,
    https_proxy: undefined,
    HTTP_PROXY: undefined,
    http_proxy: undefined,
    NO_PROXY: undefined,
    no_proxy: undefined,
  };
  return { ...unset, ...ref.env, ...overrides };
}

function providerRun(r: CliResult): ProviderRun {
  const run = readRun(r).providers[0];
  if (!run) throw new Error(`no provider in run.json\n${describeRun(r)}`);
  return run;
}

beforeAll(async () => {
  ref = await startReference();
  const dir = freshDir('tc-e2e-proxy-');
  // providers/reference.yaml as a descriptor of an ordinary provider: its variables come from the
  // reference started above instead of one the CLI would start (and keep off the proxy).
  const text = readFileSync(path.join(PROVIDERS_DIR, 'reference.yaml'), 'utf8').replace(
    /^embedded: reference\n/m,
    '',
  );
  expect(text).not.toMatch(/^embedded:/m);
  const plain = path.join(dir, 'proxied-reference.yaml');
  writeFileSync(plain, text.replace(/^name: reference$/m, 'name: proxied-reference'));
  const withProxy = path.join(dir, 'forced-proxy-reference.yaml');
  writeFileSync(
    withProxy,
    `${text.replace(/^name: reference$/m, 'name: forced-proxy-reference')}proxy:\n  url: \${env:CORP_PROXY}\n`,
  );
  const literal = path.join(dir, 'literal-proxy-password.yaml');
  writeFileSync(
    literal,
    `${text.replace(/^name: reference$/m, 'name: literal-proxy-password')}proxy:\n  url: http://alice:${PROXY_PASSWORD}@127.0.0.1:3128\n`,
  );

  [viaEnv, bypassed, forced, refusing, embedded] = await Promise.all([
    startConnectProxy({ credentials: { user: 'alice', password: PROXY_PASSWORD } }),
    startConnectProxy(),
    startConnectProxy(),
    startConnectProxy({ answer: 407 }),
    startConnectProxy(),
  ]);
  proxies.push(viaEnv, bypassed, forced, refusing, embedded);
  const timeoutMs = RUN_TIMEOUT_MS;
  // The runs mostly wait (for token expiry): side by side they take as long as one.
  [runs.viaEnv, runs.bypassed, runs.forced, runs.refusing, runs.embedded, runs.literal] =
    await Promise.all([
      runCli(['--provider', plain], {
        env: env({ HTTPS_PROXY: `http://alice:${PROXY_PASSWORD}@127.0.0.1:${viaEnv.port}` }),
        timeoutMs,
      }),
      runCli(['--provider', plain, '--no-report'], {
        env: env({ https_proxy: bypassed.url, no_proxy: 'localhost,127.0.0.1' }),
        timeoutMs,
      }),
      runCli(['--provider', withProxy, '--no-report'], {
        env: env({ CORP_PROXY: forced.url, NO_PROXY: '127.0.0.1' }),
        timeoutMs,
      }),
      runCli(['--provider', plain, '--no-report'], {
        env: env({ HTTPS_PROXY: refusing.url }),
        timeoutMs,
      }),
      runCli(['--provider', 'reference', '--no-report'], {
        env: {
          HTTPS_PROXY: embedded.url,
          https_proxy: undefined,
          HTTP_PROXY: undefined,
          http_proxy: undefined,
          NO_PROXY: undefined,
          no_proxy: undefined,
        },
        timeoutMs,
      }),
      runCli(['--provider', literal, '--no-report'], { env: env({}), timeoutMs }),
    ]);
}, 2 * RUN_TIMEOUT_MS);

afterAll(async () => {
  await Promise.all(proxies.map((p) => p.close()));
  await ref?.close();
  removeTempDirs();
});

const hostOf = (url: string | undefined): string => new URL(url ?? '').host;

describe('HTTPS_PROXY set: every request goes through the proxy', () => {
  it('stays conformant, through tunnels the proxy counted, with the credentials it asked for', () => {
    const r = runs.viaEnv;
    expect(r.code, describeRun(r)).toBe(0);
    expect(r.stdout).toContain('Result: CONFORMANT');
    expect(viaEnv.tunnels.length).toBeGreaterThan(0);
    const basic = `Basic ${Buffer.from(`alice:${PROXY_PASSWORD}`).toString('base64')}`;
    expect(viaEnv.authorizations.every((a) => a === basic)).toBe(true);
    // Token endpoint, discovery, JWK Set, resource, introspection (one host) and the mTLS alias.
    expect(new Set(viaEnv.tunnels)).toEqual(
      new Set([hostOf(ref.env['TC_REF_TOKEN_URL']), hostOf(ref.env['TC_REF_MTLS_TOKEN_URL'])]),
    );
  });

  it('says which proxy in the summary, run.json and the report environment: host:port, never the credentials', () => {
    const r = runs.viaEnv;
    const proxy = `127.0.0.1:${viaEnv.port}`;
    expect(r.stdout).toMatch(
      new RegExp(
        `^proxied-reference: through the proxy ${proxy} \\(HTTPS_PROXY\\): ${viaEnv.tunnels.length} tunnels to 127\\.0\\.0\\.1:\\d+, 127\\.0\\.0\\.1:\\d+$`,
        'm',
      ),
    );
    const report = providerRun(r).provider.proxy;
    expect(report.proxies).toEqual([{ proxy, from: 'HTTPS_PROXY', for: 'https' }]);
    expect(report.tunnels.reduce((n, t) => n + t.count, 0)).toBe(viaEnv.tunnels.length);
    expect(report.refusedTunnels).toBe(0);
    const environment = readFileSync(
      path.join(r.outDir, 'allure-results/environment.properties'),
      'utf8',
    );
    expect(environment).toMatch(
      new RegExp(
        `proxied-reference\\\\? proxy\\s*=\\s*through the proxy ${proxy} \\(HTTPS_PROXY\\)`,
      ),
    );
    for (const file of listFiles(r.outDir))
      expect(readFileSync(file, 'utf8'), file).not.toContain(PROXY_PASSWORD);
    expect(r.stdout + r.stderr).not.toContain(PROXY_PASSWORD);
  });
});

describe('NO_PROXY naming the host: the proxy is bypassed', () => {
  it('no tunnel, still conformant, and the summary says the run went direct', () => {
    const r = runs.bypassed;
    expect(r.code, describeRun(r)).toBe(0);
    expect(r.stdout).toContain('Result: CONFORMANT');
    expect(bypassed.connects).toBe(0);
    expect(r.stdout).toContain(
      `proxied-reference: direct: no request went through the proxy 127.0.0.1:${bypassed.port} (https_proxy) (NO_PROXY: localhost,127.0.0.1)`,
    );
    expect(providerRun(r).provider.proxy.tunnels).toEqual([]);
  });
});

describe('proxy.url in the descriptor: mTLS through the tunnel', () => {
  it('goes through the proxy whatever NO_PROXY says, the mTLS alias included', () => {
    const r = runs.forced;
    expect(r.code, describeRun(r)).toBe(0);
    expect(forced.tunnels).toContain(hostOf(ref.env['TC_REF_MTLS_TOKEN_URL']));
    expect(providerRun(r).provider.proxy.proxies).toEqual([
      {
        proxy: `127.0.0.1:${forced.port}`,
        from: 'proxy.url (${env:CORP_PROXY})',
        for: 'https, http',
      },
    ]);
  });

  it('keeps the certificate binding: the client certificate reaches the endpoint through the tunnel', () => {
    const run = providerRun(runs.forced);
    const outcome = (id: string) => run.findings.find((f) => f.checkId === id);
    expect(outcome('client-auth.certificate-bound-token')).toMatchObject({ outcome: 'pass' });
    expect(outcome('client-auth.mtls-without-certificate')).toMatchObject({ outcome: 'pass' });
    const mtls = Object.values(run.evidence.exchanges).filter((e) => e.request.clientCertificate);
    expect(mtls.length).toBeGreaterThan(0);
    for (const e of mtls) expect(e.response?.status, e.id).toBe(200);
  });
});

describe('a proxy that answers 407', () => {
  it('is named as the cause, the findings are broken, and the exit code is 4 (not verified) as for any outage', () => {
    const r = runs.refusing;
    expect(r.code, describeRun(r)).toBe(4);
    const message = `the proxy 127.0.0.1:${refusing.port} refused the tunnel: 407 Proxy Authentication Required`;
    expect(r.stdout).toContain(
      `proxied-reference: BROKEN — no check could run: proxy failure, the endpoint was not reached: ${message}`,
    );
    expect(r.stdout).toContain('Result: NOT VERIFIED');
    expect(refusing.tunnels).toEqual([]);
    const run = providerRun(r);
    const judged = run.findings.filter((f) => f.outcome !== 'skipped');
    expect(judged.length).toBeGreaterThan(0);
    for (const f of judged) expect(f.outcome, `${f.checkId}: ${f.message}`).toBe('broken');
    expect(run.provider.proxy.refusedTunnels).toBeGreaterThan(0);
  });
});

describe('a proxy password written in the descriptor', () => {
  it('stops the run before any request: exit 2, one line naming the file and proxy.url, without the password', () => {
    const r = runs.literal;
    expect(r.code, describeRun(r)).toBe(2);
    const lines = r.stderr.trimEnd().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(
      /^error: .*literal-proxy-password\.yaml: proxy\.url: must not hold credentials \(user:password@\): put the whole proxy URL in an \$\{env:NAME\} reference$/,
    );
    expect(r.stdout + r.stderr).not.toContain(PROXY_PASSWORD);
  });
});

describe('the embedded reference', () => {
  it('is never proxied, and the summary says which proxy it left unused', () => {
    const r = runs.embedded;
    expect(r.code, describeRun(r)).toBe(0);
    expect(embedded.connects).toBe(0);
    expect(r.stdout).toContain(
      `reference: direct, not through HTTPS_PROXY 127.0.0.1:${embedded.port}: the embedded reference runs on 127.0.0.1 and is never proxied`,
    );
  });
});
