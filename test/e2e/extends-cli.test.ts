/**
 * extends and "did you mean" through the CLI: a sandbox descriptor that extends a vendor base (in
 * another directory, its tls.caFile relative to the base) runs against a live server; a base run
 * directly, a misspelt --provider and a misspelt deviation check id exit 2 with one line.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFaultServer, type FaultServer } from '../faults/fault-server.js';
import { describeRun, freshDir, removeTempDirs, runCli, runFileOf } from './run-cli.js';
import type { RunRecord } from '../../src/run-record.js';

let server: FaultServer;
let dir: string;

const BASE = `# A vendor's base: partial, shared by its sandboxes.
clients:
  - id: \${env:E2E_BASIC_ID}
    auth: { method: client_secret_basic, secret: "\${env:E2E_BASIC_SECRET}" }
grant: { type: client_credentials }
scopes: { request: "api:read", default: "", forbidden: admin }
expect:
  tokenType: Bearer
  scopeEcho: always
  forbiddenScope: invalid_scope
  ungrantableScope: invalid_scope
  tokenFormat: jwt
limits: { maxExpiryWaitSeconds: 0, requestsPerSecond: 50 }
tls: { caFile: ca.pem }
`;

const env = () => ({
  E2E_BASIC_ID: server.clients.basic.id,
  E2E_BASIC_SECRET: server.clients.basic.secret,
});

beforeAll(async () => {
  server = await startFaultServer();
  dir = freshDir('tc-extends-');
  mkdirSync(path.join(dir, 'vendor'));
  mkdirSync(path.join(dir, 'sandboxes'));
  writeFileSync(path.join(dir, 'vendor/ca.pem'), server.caPem);
  writeFileSync(path.join(dir, 'vendor/vendor.base.yaml'), BASE);
});

afterAll(async () => {
  await server?.close();
  removeTempDirs();
});

describe('extends through the CLI', () => {
  it('runs a sandbox built on a base in another directory', async () => {
    const file = path.join(dir, 'sandboxes/sandbox-eu.yaml');
    writeFileSync(
      file,
      `extends: ../vendor/vendor.base.yaml\nname: vendor-sandbox-eu\ntitle: Vendor sandbox (EU)\ntokenEndpoint: ${server.tokenUrl('ok')}\nexpect:\n  expiresIn: 300\n`,
    );
    const r = await runCli(['--provider', file, '--no-report'], { env: env() });
    expect(r.code, describeRun(r)).toBe(0);
    const record = JSON.parse(readFileSync(runFileOf(r), 'utf8')) as RunRecord;
    const run = record.providers[0]!;
    expect(run.provider.name).toBe('vendor-sandbox-eu');
    // The base's client and scopes were used; its caFile (relative to the base) made TLS work.
    expect(run.provider.clients[0]?.method).toBe('client_secret_basic');
    expect(run.evidence.requestsSent).toBeGreaterThan(5);
    expect(run.findings.filter((f) => f.outcome === 'fail')).toEqual([]);
    expect(run.findings.find((f) => f.checkId === 'scope.forbidden')?.outcome).toBe('pass');
  });

  it('refuses to run the base itself', async () => {
    const r = await runCli(
      ['--provider', path.join(dir, 'vendor/vendor.base.yaml'), '--no-report'],
      {
        env: env(),
      },
    );
    expect(r.code, describeRun(r)).toBe(2);
    expect(r.stderr).toMatch(/vendor\.base\.yaml: \(file\): a base for other descriptors/);
  });
});

describe('did you mean, through the CLI', () => {
  it('a misspelt --provider', async () => {
    const r = await runCli(['--provider', 'refrence', '--no-report']);
    expect(r.code, describeRun(r)).toBe(2);
    expect(r.stderr).toMatch(/refrence: unknown provider \(did you mean reference\?\)/);
  });

  it('a misspelt check id in deviations', async () => {
    const file = path.join(dir, 'sandboxes/typo.yaml');
    writeFileSync(
      file,
      `extends: ../vendor/vendor.base.yaml\nname: typo\ntitle: Typo\ntokenEndpoint: ${server.tokenUrl('ok')}\ndeviations:\n  - check: grant.form-encoded-bdy\n    reason: a typo\n    link: https://example.test\n`,
    );
    const before = server.requests.https;
    const r = await runCli(['--provider', file, '--no-report'], { env: env() });
    expect(r.code, describeRun(r)).toBe(2);
    expect(r.stderr.trim()).toMatch(
      /typo\.yaml: deviations\[0\]: unknown check id grant\.form-encoded-bdy \(did you mean grant\.form-encoded-body\?\)/,
    );
    expect(server.requests.https).toBe(before);
  });
});
