/**
 * The authorization_code grant end to end: the CLI logs in to the reference in headless chromium
 * (real login form, real redirects), takes codes from the intercepted redirect, and judges the
 * authorization-code and refresh-token checks — all pass, and none of the secrets (client secrets,
 * the user's password) reaches any output. Then the same descriptor with a login step that no longer
 * matches the page: one line naming the step, exit 2, and the token endpoint never called.
 *
 * The test starts the reference itself (so it knows the secrets and sees every request it gets) and
 * runs a copy of providers/reference-authorization-code.yaml that reads its variables.
 */
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startReference, type ReferenceServer } from '../../src/reference/server.js';
import { describeInBrowser } from './chromium.js';
import {
  freshDir,
  parseSummary,
  readRun,
  removeTempDirs,
  REPO_ROOT,
  runCli,
  type CliResult,
} from './run-cli.js';

const DESCRIPTOR = readFileSync(
  path.join(REPO_ROOT, 'providers/reference-authorization-code.yaml'),
  'utf8',
);

/** The reference descriptor, not embedded (the test's own reference), with `edit` applied. */
function descriptorFile(
  dir: string,
  name: string,
  edit: (text: string) => string = (t) => t,
): string {
  const text = edit(
    DESCRIPTOR.replace(/^embedded: reference\n/m, '').replace(
      /^name: reference-authorization-code$/m,
      `name: ${name}`,
    ),
  );
  const file = path.join(dir, `${name}.yaml`);
  writeFileSync(file, text);
  return file;
}

/** Every file under dir, as text. */
function allText(dir: string): string {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const entry of readdirSync(d)) {
      const p = path.join(d, entry);
      if (statSync(p).isDirectory()) walk(p);
      else out.push(readFileSync(p, 'utf8'));
    }
  };
  walk(dir);
  return out.join('\n');
}

describeInBrowser('authorization_code: the chromium login against the reference', () => {
  let ref: ReferenceServer;
  let dir: string;

  beforeAll(async () => {
    ref = await startReference();
    dir = freshDir('tc-e2e-ac-');
  });
  afterAll(async () => {
    await ref?.close();
    removeTempDirs();
  });

  it('logs in, takes the codes, and every authorization-code and refresh check passes (exit 0); no secret is written', async () => {
    const file = descriptorFile(dir, 'e2e-auth-code');
    const r: CliResult = await runCli(['--provider', file], { env: ref.env });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const [row] = parseSummary(r.stdout);
    expect(row).toMatchObject({ provider: 'e2e-auth-code', failed: 0, broken: 0 });
    const run = readRun(r);
    const provider = run.providers[0]!;
    const logins = provider.evidence.logins ?? 0;
    expect(logins).toBeGreaterThan(0);
    expect(r.stdout).toContain(
      `e2e-auth-code: ${logins} logins in the browser for fresh authorization codes (counted in its ${provider.evidence.requestsSent} requests)`,
    );
    const ours = provider.findings.filter((f) => /^(authorization-code|refresh)\./.test(f.checkId));
    const notPassed = ours.filter((f) => f.outcome !== 'pass');
    expect(notPassed.map((f) => `${f.checkId}: ${f.message}`)).toEqual([]);
    for (const id of [
      'authorization-code.replay-refused',
      'authorization-code.wrong-verifier-invalid-grant',
      'authorization-code.missing-verifier-invalid-grant',
      'authorization-code.redirect-mismatch-invalid-grant',
      'authorization-code.other-client-invalid-grant',
      'authorization-code.plain-pkce-refused',
      'refresh.works',
      'refresh.broader-scope-invalid-scope',
      'refresh.reuse-revokes-family',
    ])
      expect(ours.map((f) => f.checkId)).toContain(id);
    // The login really happened in the browser: the form was posted, and the codes came to /token.
    expect(ref.requests).toContain('POST /token');
    expect(ref.requests.some((q) => /^POST \/interaction\//.test(q))).toBe(true);
    // Secrets: the password, the client secrets, never in stdout, stderr or any file written.
    const written = `${r.stdout}\n${r.stderr}\n${allText(r.outDir)}`;
    for (const secret of ref.secrets) expect(written).not.toContain(secret);
    // The codes and verifiers are recorded as previews and placeholders only.
    const bodies = Object.values(provider.evidence.exchanges)
      .map((e) => e.request.body ?? '')
      .filter((b) => /(^|&)code=/.test(b));
    expect(bodies.length).toBeGreaterThan(0);
    for (const b of bodies) {
      expect(b).toMatch(/(^|&)code=[^&]*redacted/);
      expect(b).not.toMatch(/code_verifier=(?!\[code_verifier\])/);
    }
  }, 300_000);

  it('a login step that no longer matches: one line naming the step, exit 2, no token request', async () => {
    const file = descriptorFile(dir, 'e2e-auth-code-changed', (t) =>
      t.replace('fill: "input[name=password]"', 'fill: "input[name=passwd]"'),
    );
    const before = ref.requests.length;
    const r = await runCli(['--provider', file, '--no-report'], { env: ref.env });
    expect(r.code).toBe(2);
    const lines = r.stderr.replace(/\n$/, '').split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(
      /^error: .*e2e-auth-code-changed\.yaml: authorization\.login\[1\] \(fill input\[name=passwd\]\): no element matches on https:\/\/127\.0\.0\.1:\d+\/interaction\/[\w-]+$/,
    );
    const seen = ref.requests.slice(before);
    // The login page was shown (and the discovery document fetched), nothing more: the form was
    // never posted, and the token endpoint never called.
    expect(seen.some((q) => /^GET \/interaction\//.test(q))).toBe(true);
    expect(seen.filter((q) => q.endsWith(' /token'))).toEqual([]);
    expect(seen.filter((q) => /^POST /.test(q))).toEqual([]);
  }, 300_000);
});
