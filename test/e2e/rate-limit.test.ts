/**
 * A token endpoint that answers 429 Too Many Requests to everything, end to end through the CLI: the
 * run stops quickly, every finding is broken and says "rate-limited", and the exit code is 0 (an
 * endpoint that gives no answer is broken, not non-conformant).
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHttpsServer, type TestServer } from './https-fixture.js';
import {
  describeRun,
  freshDir,
  parseSummary,
  readRun,
  removeTempDirs,
  runCli,
  type CliResult,
} from './run-cli.js';

describe('an endpoint that answers 429 to everything', () => {
  let server: TestServer;
  let r: CliResult;

  beforeAll(async () => {
    server = await startHttpsServer((_req, res) => {
      res.writeHead(429, { 'content-type': 'application/json', 'retry-after': '1' });
      res.end('{"error":"slow_down"}');
    });
    const dir = freshDir();
    writeFileSync(path.join(dir, 'ca.pem'), server.caPem);
    const file = path.join(dir, 'throttled.yaml');
    writeFileSync(
      file,
      [
        'name: throttled',
        'title: E2E answers 429 to everything',
        `tokenEndpoint: ${server.origin}/token`,
        'clients:',
        '  - id: e2e-client',
        '    auth: { method: client_secret_basic, secret: "${env:E2E_SECRET}" }',
        'grant: { type: client_credentials }',
        'expect: { tokenType: Bearer }',
        'limits: { requestsPerSecond: 50 }',
        'tls: { caFile: ca.pem }',
        '',
      ].join('\n'),
    );
    r = await runCli(['--provider', file, '--no-report'], {
      env: { E2E_SECRET: 'e2e-throttled-secret' },
    });
  }, 240_000);

  afterAll(async () => {
    await server?.close();
    removeTempDirs();
  });

  it('exits 4 (not verified): nothing failed, everything is broken, and the summary says rate-limited', () => {
    expect(r.code, describeRun(r)).toBe(4);
    const [row] = parseSummary(r.stdout);
    expect(row).toMatchObject({ provider: 'throttled', failed: 0, warnings: 0, passed: 0 });
    expect(row?.broken).toBeGreaterThan(20);
    expect(r.stdout).toContain(
      'rate-limited: the endpoint answered 429 Too Many Requests 3 times (Retry-After: 1)',
    );
  });

  it('sent each of two requests three times, then stopped (circuit breaker), every attempt counted', () => {
    expect(server.requests).toHaveLength(6);
    const { evidence, findings } = readRun(r).providers[0]!;
    expect(evidence.requestsSent).toBe(6);
    expect(evidence.exchanges['token.0']).toMatchObject({
      attempts: 3,
      transportError: { kind: 'rate-limited', code: '429' },
      rateLimitedResponse: { status: 429 },
    });
    expect(evidence.exchanges['token.0']?.response).toBeUndefined();
    const judged = findings.filter((f) => f.outcome !== 'skipped');
    expect(judged.filter((f) => f.outcome !== 'broken')).toEqual([]);
    expect(judged.every((f) => f.message.includes('rate-limited'))).toBe(true);
  });
});
