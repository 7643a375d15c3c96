/**
 * The CLI on bad input and bad endpoints, each as a real child process:
 * - usage and descriptor errors exit 2 with one line (usage: with the usage text) and send nothing;
 * - an unreachable endpoint is BROKEN, not failed (exit 0), and the circuit breaker stops early;
 * - a non-conformant endpoint exits 1 and names the failed MUST checks.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  acceptAnything,
  closedPort,
  mustNotBeCalled,
  startHttpsServer,
  type TestServer,
} from './https-fixture.js';
import {
  describeRun,
  freshDir,
  parseSummary,
  readRun,
  removeTempDirs,
  runCli,
  type CliResult,
} from './run-cli.js';
import { createCa, issueCert } from '../../src/reference/certs.js';

const SECRET_ENV = 'E2E_SECRET';
const UNSET_ENV = 'E2E_NEVER_SET_VARIABLE';

/** A valid descriptor (client_secret_basic, secret from $E2E_SECRET), with `extra` YAML appended. */
function descriptor(name: string, tokenEndpoint: string, extra = ''): string {
  return [
    `name: ${name}`,
    `title: E2E ${name}`,
    `tokenEndpoint: ${tokenEndpoint}`,
    'clients:',
    '  - id: e2e-client',
    `    auth: { method: client_secret_basic, secret: "\${env:${SECRET_ENV}}" }`,
    'grant: { type: client_credentials }',
    'expect: { tokenType: Bearer }',
    extra,
  ].join('\n');
}

function write(dir: string, file: string, text: string): string {
  const p = path.join(dir, file);
  writeFileSync(p, text);
  return p;
}

/** stderr as lines, without the trailing newline. */
const stderrLines = (r: CliResult): string[] => r.stderr.replace(/\n$/, '').split('\n');

describe('usage and descriptor errors: exit 2, one line, no request sent', () => {
  let server: TestServer;
  const runs: Record<string, CliResult> = {};
  const files: Record<string, string> = {};

  beforeAll(async () => {
    server = await startHttpsServer(mustNotBeCalled());
    const dir = freshDir();
    const tokenUrl = `${server.origin}/token`;
    files['wrongField'] = write(
      dir,
      'wrong-field.yaml',
      descriptor('wrong-field', tokenUrl).replace('method: client_secret_basic', 'method: basic'),
    );
    files['missingEnv'] = write(
      dir,
      'missing-env.yaml',
      descriptor('missing-env', tokenUrl).replace(`\${env:${SECRET_ENV}}`, `\${env:${UNSET_ENV}}`),
    );
    files['syntax'] = write(
      dir,
      'syntax.yaml',
      descriptor('syntax', tokenUrl).replace(
        'grant: { type: client_credentials }',
        'grant: { type: client_credentials',
      ),
    );
    // A valid descriptor for the same server: selected together with a bad one, it must not be probed either.
    files['valid'] = write(dir, 'valid.yaml', descriptor('valid', tokenUrl));
    // Key material is read when the descriptor loads: a missing key file, a certificate with another key.
    const ca = await createCa();
    const a = await issueCert(ca, { commonName: 'client-a', usage: 'client' });
    const b = await issueCert(ca, { commonName: 'client-b', usage: 'client' });
    write(dir, 'a.crt', a.certPem);
    write(dir, 'b.key', b.keyPem);
    files['missingKey'] = write(
      dir,
      'missing-key.yaml',
      descriptor('missing-key', tokenUrl).replace(
        /auth: \{.*\}$/m,
        'auth: { method: private_key_jwt, key: ./no-such-key.pem }',
      ),
    );
    files['certMismatch'] = write(
      dir,
      'cert-mismatch.yaml',
      descriptor('cert-mismatch', tokenUrl).replace(
        /auth: \{.*\}$/m,
        'auth: { method: tls_client_auth, certFile: a.crt, keyFile: b.key }',
      ),
    );
    const env = { [SECRET_ENV]: 'e2e-secret-value' };
    const cases: [string, string[]][] = [
      ['wrongField', ['--provider', files['wrongField']]],
      ['unknownProvider', ['--provider', 'nope']],
      ['missingEnv', ['--provider', files['missingEnv']]],
      ['syntax', ['--provider', files['syntax']]],
      ['unknownFlag', ['--bogus-flag']],
      ['validThenMissingEnv', ['--provider', files['valid'], '--provider', files['missingEnv']]],
      ['missingKey', ['--provider', files['missingKey']]],
      ['certMismatch', ['--provider', files['certMismatch']]],
    ];
    const results = await Promise.all(
      cases.map(([, args]) => runCli(args, { env, timeoutMs: 30_000 })),
    );
    cases.forEach(([name], i) => {
      const r = results[i];
      if (r) runs[name] = r;
    });
  });

  afterAll(async () => {
    await server?.close();
  });

  const run = (name: string): CliResult => {
    const r = runs[name];
    if (!r) throw new Error(`no run ${name}`);
    return r;
  };

  it('a wrong field value: one line naming the file and clients[0].auth.method', () => {
    const r = run('wrongField');
    expect(r.code, describeRun(r)).toBe(2);
    expect(stderrLines(r)).toHaveLength(1);
    expect(r.stderr).toContain(files['wrongField']);
    expect(r.stderr).toContain('clients[0].auth.method');
    expect(r.stderr).toMatch(/client_secret_basic/); // the allowed values are listed
  });

  it('an unknown provider name: one line naming it and listing the known providers', () => {
    const r = run('unknownProvider');
    expect(r.code, describeRun(r)).toBe(2);
    expect(stderrLines(r)).toHaveLength(1);
    expect(r.stderr).toContain('nope');
    expect(r.stderr).toMatch(/known: [^)]*\breference\b/);
  });

  it('an unset ${env:…} variable: one line naming the field and the variable', () => {
    const r = run('missingEnv');
    expect(r.code, describeRun(r)).toBe(2);
    expect(stderrLines(r)).toHaveLength(1);
    expect(r.stderr).toContain(files['missingEnv']);
    expect(r.stderr).toContain('clients[0].auth.secret');
    expect(r.stderr).toContain(UNSET_ENV);
  });

  it('a YAML syntax error: one line with the file, line and column', () => {
    const r = run('syntax');
    expect(r.code, describeRun(r)).toBe(2);
    expect(stderrLines(r)).toHaveLength(1);
    expect(r.stderr).toContain(files['syntax']);
    expect(r.stderr).toMatch(/line \d+, column \d+/);
    expect(r.stderr).toMatch(/YAML/);
  });

  it('an unknown CLI flag: the error and the usage', () => {
    const r = run('unknownFlag');
    expect(r.code, describeRun(r)).toBe(2);
    expect(stderrLines(r)[0]).toMatch(/^error: .*--bogus-flag/);
    expect(r.stderr).toContain('usage: npm run conformance');
    expect(r.stderr).toContain('--provider');
  });

  it('a key file that does not exist, and a certificate whose key does not match: one line each', () => {
    for (const [name, field, problem] of [
      ['missingKey', 'clients[0].auth.key', /cannot read the key file .*no such file/],
      ['certMismatch', 'clients[0].auth.keyFile', /does not match the certificate in certFile/],
    ] as const) {
      const r = run(name);
      expect(r.code, name).toBe(2);
      const lines = stderrLines(r);
      expect(lines, name).toHaveLength(1);
      expect(lines[0], name).toContain(`${field}: `);
      expect(lines[0], name).toMatch(problem);
    }
  });

  it('a valid descriptor selected with a bad one is not probed either', () => {
    const r = run('validThenMissingEnv');
    expect(r.code, describeRun(r)).toBe(2);
    expect(stderrLines(r)).toHaveLength(1);
    expect(r.stderr).toContain(UNSET_ENV);
  });

  it('none of them printed a summary, wrote a run record or sent a request', () => {
    for (const [name, r] of Object.entries(runs)) {
      expect(r.stdout, name).not.toMatch(/provider\s+passed/);
      expect(r.stdout, name).not.toContain('token-conformance ');
    }
    expect(Object.keys(runs)).toHaveLength(8);
    expect(server.requests).toEqual([]);
  });
});

describe('an unreachable endpoint', () => {
  let r: CliResult;

  beforeAll(async () => {
    const port = await closedPort();
    const dir = freshDir();
    const file = write(
      dir,
      'unreachable.yaml',
      descriptor('unreachable', `https://127.0.0.1:${port}/token`),
    );
    r = await runCli(['--provider', file], {
      env: { [SECRET_ENV]: 'e2e-secret-value' },
      timeoutMs: 240_000,
    });
  });

  it("ends by itself with exit 4: not verified, never failed (its duration is the benchmark's business)", () => {
    expect(r.timedOut, describeRun(r)).toBe(false);
    expect(r.code, describeRun(r)).toBe(4);
    expect(r.stderr).toBe('');
  });

  it('says BROKEN and why on stdout', () => {
    expect(r.stdout).toContain('BROKEN');
    expect(r.stdout).toContain('connection refused');
    const [row, ...others] = parseSummary(r.stdout);
    expect(others).toEqual([]);
    expect(row).toMatchObject({ provider: 'unreachable', passed: 0, failed: 0, warnings: 0 });
    expect(row?.broken).toBeGreaterThan(0);
  });

  it('records every non-skipped finding as broken', () => {
    const record = readRun(r);
    expect(record.providers).toHaveLength(1);
    const active = record.providers[0]?.findings.filter((f) => f.outcome !== 'skipped') ?? [];
    expect(active.length).toBeGreaterThan(0);
    for (const f of active) expect(f.outcome, f.checkId).toBe('broken');
  });

  it('names the refused connection in every finding that rests on a probe', () => {
    const findings = readRun(r).providers[0]?.findings ?? [];
    const onProbes = findings.filter((f) => f.outcome === 'broken' && f.probes.length > 0);
    expect(onProbes.length).toBeGreaterThan(0);
    for (const f of onProbes)
      expect(f.message, f.checkId).toMatch(/connection refused by 127\.0\.0\.1:\d+/);
  });

  // The checks over all error responses read many probes; when none was answered they name the outage.
  it('names the refused connection in the checks over all error responses too', () => {
    const findings = readRun(r).providers[0]?.findings ?? [];
    const overAll = findings.filter((f) => f.outcome === 'broken' && f.probes.length === 0);
    expect(overAll.map((f) => f.checkId)).toContain('errors.status');
    for (const f of overAll) expect(f.message, f.checkId).toMatch(/connection refused/);
  });

  it('stops after 2 consecutive transport failures (circuit breaker)', () => {
    const [run] = readRun(r).providers;
    expect(run?.evidence.requestsSent).toBeGreaterThan(0);
    expect(run?.evidence.requestsSent).toBeLessThanOrEqual(2);
    const exchanges = Object.values(run?.evidence.exchanges ?? {});
    expect(exchanges.filter((e) => e.transportError).length).toBeLessThanOrEqual(2);
    expect(exchanges.filter((e) => e.notSent?.kind === 'circuit').length).toBeGreaterThan(0);
    expect(exchanges.filter((e) => e.response)).toEqual([]);
  });
});

describe('a non-conformant endpoint', () => {
  let server: TestServer;
  let r: CliResult;

  beforeAll(async () => {
    server = await startHttpsServer(acceptAnything());
    const dir = freshDir();
    write(dir, 'ca.pem', server.caPem); // named relative to the descriptor
    const file = write(
      dir,
      'accepts-anything.yaml',
      descriptor('accepts-anything', `${server.origin}/token`, 'tls: { caFile: ca.pem }'),
    );
    r = await runCli(['--provider', file, '--no-report'], {
      env: { [SECRET_ENV]: 'e2e-secret-value' },
      timeoutMs: 240_000,
    });
  });

  afterAll(async () => {
    await server?.close();
  });

  it('exits 1 and names the failed MUST checks', () => {
    expect(r.code, describeRun(r)).toBe(1);
    expect(r.stdout).toContain('FAIL MUST response.cache-control');
    expect(r.stdout).toContain('FAIL MUST errors.wrong-secret');
    expect(r.stdout).toContain('NOT CONFORMANT');
    const [row] = parseSummary(r.stdout);
    expect(row?.provider).toBe('accepts-anything');
    const findings = readRun(r).providers[0]?.findings ?? [];
    expect(row?.failed).toBe(findings.filter((f) => f.outcome === 'fail').length);
    expect(findings.find((f) => f.checkId === 'response.cache-control')?.outcome).toBe('fail');
    expect(findings.find((f) => f.checkId === 'errors.wrong-secret')?.outcome).toBe('fail');
  });

  it('really talked to the endpoint over TLS with the descriptor-named CA', () => {
    const [run] = readRun(r).providers;
    expect(run?.evidence.requestsSent).toBeGreaterThan(0);
    expect(server.requests).toHaveLength(run?.evidence.requestsSent ?? -1);
    expect(server.requests.some((q) => q.method === 'POST' && q.url === '/token')).toBe(true);
  });
});

afterAll(() => {
  removeTempDirs();
});
