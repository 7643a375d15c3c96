/**
 * Every authorization-code and refresh check proven live: against the auth-code fault server's
 * conformant mode all of them pass; in each defect mode (AUTH_CODE_DEFECTS, keyed by check id) the
 * whole harness — descriptor loading, the chromium login, observe(), evaluate() — makes exactly that
 * check fail (or warn, for a SHOULD).
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { CHECKS } from '../../src/checks/index.js';
import { readDescriptor, resolveProvider } from '../../src/descriptor/load.js';
import { evaluate, type Finding } from '../../src/evaluate.js';
import { observe } from '../../src/observe.js';
import { describeInBrowser } from '../e2e/chromium.js';
import {
  AUTH_CODE_DEFECTS,
  AUTH_CODE_MODES,
  REDIRECT_URI,
  startAuthCodeFaultServer,
  type AuthCodeFaultServer,
  type AuthCodeMode,
} from './auth-code-fault-server.js';

const ours = (f: Finding) => /^(authorization-code|refresh)\./.test(f.checkId);

describeInBrowser('authorization-code and refresh checks, live against the fault server', () => {
  let server: AuthCodeFaultServer;
  let dir: string;
  const env: Record<string, string> = {};

  beforeAll(async () => {
    server = await startAuthCodeFaultServer();
    dir = await mkdtemp(path.join(tmpdir(), 'tc-ac-faults-'));
    await writeFile(path.join(dir, 'ca.pem'), server.caPem);
    Object.assign(env, {
      AC_BASIC_SECRET: server.clients.basic.secret,
      AC_POST_SECRET: server.clients.post.secret,
      AC_PASSWORD: server.user.password,
    });
  });
  afterAll(async () => {
    await server?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  async function run(mode: AuthCodeMode): Promise<Finding[]> {
    const base = `${server.origin}/${mode}`;
    const file = path.join(dir, `${mode}.yaml`);
    await writeFile(
      file,
      [
        `name: ac-faults-${mode.replace(/\./g, '-')}`,
        `title: auth-code faults ${mode}`,
        `tokenEndpoint: ${base}/token`,
        'clients:',
        `  - id: ${server.clients.basic.id}`,
        '    auth: { method: client_secret_basic, secret: "${env:AC_BASIC_SECRET}" }',
        `  - id: ${server.clients.post.id}`,
        '    label: client_secret_post (another client)',
        '    auth: { method: client_secret_post, secret: "${env:AC_POST_SECRET}" }',
        'grant: { type: authorization_code }',
        'authorization:',
        `  endpoint: ${base}/authorize`,
        `  redirectUri: ${REDIRECT_URI}`,
        `  user: { username: ${server.user.username}, password: "\${env:AC_PASSWORD}" }`,
        '  login:',
        '    - { fill: "input[name=username]", value: "${user.username}" }',
        '    - { fill: "input[name=password]", value: "${user.password}" }',
        '    - { click: "button[type=submit]" }',
        'refresh: { rotation: true }',
        'scopes: { request: "openid api:read", forbidden: admin }',
        'expect: { tokenType: Bearer, expiresIn: 300, refreshToken: allowed, tokenFormat: opaque }',
        `introspection: { url: ${base}/introspect }`,
        'limits: { maxRequests: 80, maxExpiryWaitSeconds: 1 }',
        'tls: { caFile: ./ca.pem }',
      ].join('\n'),
    );
    const provider = resolveProvider(readDescriptor(file), { ...process.env, ...env });
    // Only the probes these checks read (and the ordinary token requests): a login per code is slow.
    // A defect mode of one family needs only that family's probes: a refresh defect no code probe.
    const family = mode === 'ok' ? 'authorization-code|refresh' : mode.split('.')[0]!;
    const evidence = await observe(provider, {
      only: (id) => new RegExp(`^(${family}|token)\\.`).test(id),
    });
    return evaluate(provider, evidence, { strict: false });
  }

  it('the conformant mode passes every authorization-code and refresh check', async () => {
    const findings = (await run('ok')).filter(ours);
    expect(
      findings.filter((f) => f.outcome !== 'pass').map((f) => `${f.checkId}: ${f.message}`),
    ).toEqual([]);
    expect(new Set(findings.map((f) => f.checkId)).size).toBe(
      CHECKS.filter((c) => /^(authorization-code|refresh)\./.test(c.id)).length,
    );
  }, 120_000);

  it('has a defect mode for every authorization-code and refresh check', () => {
    const ids = CHECKS.map((c) => c.id).filter((id) => /^(authorization-code|refresh)\./.test(id));
    expect(ids.filter((id) => !(id in AUTH_CODE_DEFECTS))).toEqual([]);
  });

  it.each(
    AUTH_CODE_MODES.filter((m): m is keyof typeof AUTH_CODE_DEFECTS => m !== 'ok').map(
      (m) => [m, AUTH_CODE_DEFECTS[m]] as const,
    ),
  )(
    '%s fails when %s',
    async (mode) => {
      const target = (await run(mode)).filter((f) => f.checkId === mode);
      expect(target.length).toBeGreaterThan(0);
      const caught = target.filter((f) => f.outcome === (f.level === 'SHOULD' ? 'warn' : 'fail'));
      expect(
        caught.length,
        target.map((f) => `${f.outcome}: ${f.message}`).join(' | '),
      ).toBeGreaterThan(0);
    },
    120_000,
  );
});
