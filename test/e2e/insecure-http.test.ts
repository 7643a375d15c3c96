/**
 * allowInsecureHttp: loopback, end to end through the CLI: a descriptor whose endpoints are plain
 * http:// on 127.0.0.1 (the fault server's HTTP listener) runs, every result is marked INSECURE
 * (summary, run.json, junit.xml), the checks that need TLS are not applicable for that reason; the
 * same descriptor without the opt-in, or with a non-loopback http:// URL, exits 2 before any request.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { startFaultServer, type FaultServer } from '../faults/fault-server.js';
import {
  describeRun,
  freshDir,
  removeTempDirs,
  runCli,
  runFileOf,
  type CliResult,
} from './run-cli.js';
import type { RunRecord } from '../../src/run-record.js';

let server: FaultServer;
let dir: string;

function descriptor(name: string, origin: string, extra: Record<string, unknown> = {}): string {
  const doc = {
    name,
    title: `plain HTTP on loopback (${name})`,
    ...extra,
    tokenEndpoint: `${origin}/ok/token`,
    issuer: `${origin}/ok`,
    discovery: 'oauth-authorization-server',
    clients: [
      {
        id: '${env:E2E_BASIC_ID}',
        auth: { method: 'client_secret_basic', secret: '${env:E2E_BASIC_SECRET}' },
      },
    ],
    grant: { type: 'client_credentials' },
    scopes: { request: 'api:read', default: '', forbidden: 'admin' },
    expect: {
      tokenType: 'Bearer',
      refreshToken: 'absent',
      scopeEcho: 'always',
      forbiddenScope: 'invalid_scope',
      ungrantableScope: 'invalid_scope',
      tokenFormat: 'jwt',
    },
    resource: { url: `${origin}/ok/resource`, requiredScope: 'api:read' },
    introspection: { url: `${origin}/ok/introspect` },
    limits: { maxExpiryWaitSeconds: 0, requestsPerSecond: 50 },
  };
  const file = path.join(dir, `${name}.yaml`);
  writeFileSync(file, stringify(doc));
  return file;
}

const env = () => ({
  E2E_BASIC_ID: server.clients.basic.id,
  E2E_BASIC_SECRET: server.clients.basic.secret,
});

beforeAll(async () => {
  server = await startFaultServer();
  dir = freshDir('tc-insecure-');
});

afterAll(async () => {
  await server?.close();
  removeTempDirs();
});

describe('allowInsecureHttp: loopback through the CLI', () => {
  let r: CliResult;
  let record: RunRecord;

  beforeAll(async () => {
    const file = descriptor('loopback-http', server.httpOrigin, { allowInsecureHttp: 'loopback' });
    r = await runCli(['--provider', file, '--no-report'], { env: env() });
    record = JSON.parse(readFileSync(runFileOf(r), 'utf8')) as RunRecord;
  });

  it('runs over plain HTTP and passes on a conformant server', () => {
    expect(r.code, describeRun(r)).toBe(0);
    expect(server.requests.http).toBeGreaterThan(5);
    expect(server.requests.https).toBe(0);
    const findings = record.providers[0]?.findings ?? [];
    expect(findings.filter((f) => f.outcome === 'fail').map((f) => f.checkId)).toEqual([]);
    expect(findings.find((f) => f.checkId === 'discovery.token-endpoint')?.outcome).toBe('pass');
  });

  it('is tagged INSECURE in the summary, run.json and junit.xml', () => {
    expect(r.stdout).toMatch(/WARNING: loopback-http: plain HTTP without TLS on loopback/);
    expect(r.stdout).toMatch(/loopback-http: INSECURE — plain HTTP on loopback/);
    expect(record.providers[0]?.provider.insecureHttp).toEqual([
      'tokenEndpoint',
      'issuer',
      'resource.url',
      'introspection.url',
    ]);
    const junit = readFileSync(path.join(r.outDir, 'junit.xml'), 'utf8');
    expect(junit).toMatch(/<property name="insecure" value="INSECURE: plain HTTP without TLS/);
  });

  it('marks the checks that need TLS not applicable, saying why', () => {
    const findings = record.providers[0]?.findings ?? [];
    for (const id of [
      'client-auth.mtls-without-certificate',
      'client-auth.certificate-bound-token',
      'discovery.mtls-endpoint-aliases',
    ]) {
      const f = findings.find((x) => x.checkId === id);
      expect(f?.outcome, id).toBe('skipped');
      expect(f?.message, id).toMatch(/plain http:\/\/ on loopback \(allowInsecureHttp: loopback\)/);
    }
  });
});

describe('plain HTTP refused', () => {
  it('without allowInsecureHttp: exit 2, one line pointing at tls.caFile, no request', async () => {
    const before = server.requests.http;
    const file = descriptor('http-no-opt-in', server.httpOrigin);
    const r = await runCli(['--provider', file, '--no-report'], { env: env() });
    expect(r.code, describeRun(r)).toBe(2);
    const line = r.stderr
      .trim()
      .split('\n')
      .find((l) => l.includes('tokenEndpoint'));
    expect(line).toMatch(
      /http-no-opt-in\.yaml: tokenEndpoint: must be an absolute https:\/\/ URL: plain http:\/\/ is refused: run the server behind TLS \(https:\/\/\) and trust its CA with tls\.caFile/,
    );
    expect(server.requests.http).toBe(before);
  });

  it('a non-loopback http:// URL is refused even with allowInsecureHttp: loopback', async () => {
    const file = descriptor('http-not-loopback', 'http://auth.example.test', {
      allowInsecureHttp: 'loopback',
    });
    const r = await runCli(['--provider', file, '--no-report'], { env: env() });
    expect(r.code, describeRun(r)).toBe(2);
    expect(r.stderr).toMatch(/http-not-loopback\.yaml: tokenEndpoint: .*tls\.caFile/);
  });
});
