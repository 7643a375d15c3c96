/**
 * The five seed services' descriptors against their local stand-ins (src/emulate): the whole run
 * through the CLI (--emulate) is clean, and each stand-in with its one documented promise broken
 * makes exactly the check that guards that promise fail.
 */
import { readFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { locateDescriptor, readDescriptor, resolveProvider } from '../../src/descriptor/load.js';
import { evaluate } from '../../src/evaluate.js';
import { observe } from '../../src/observe.js';
import { startStandIns, STAND_IN_NAMES, trustStandIns } from '../../src/emulate/index.js';
import {
  describeRun,
  listFiles,
  parseSummary,
  readRun,
  removeTempDirs,
  runCli,
} from '../e2e/run-cli.js';

afterAll(() => removeTempDirs());

describe('npm run conformance -- --emulate', () => {
  it('runs the five seed descriptors against their stand-ins: nothing failed or broken, one known deviation', async () => {
    const r = await runCli(['--emulate'], { timeoutMs: 240_000 });
    expect(r.code, describeRun(r)).toBe(0);
    const rows = parseSummary(r.stdout);
    expect(rows.map((row) => row.provider).sort()).toEqual([...STAND_IN_NAMES].sort());
    for (const row of rows) {
      expect({ provider: row.provider, failed: row.failed, broken: row.broken }).toEqual({
        provider: row.provider,
        failed: 0,
        broken: 0,
      });
      expect(row.passed, row.provider).toBeGreaterThan(0);
      expect(row.deviations, row.provider).toBe(row.provider === 'federated-directory' ? 1 : 0);
    }
    const fd = readRun(r).providers.find((p) => p.provider.name === 'federated-directory');
    expect(fd?.findings.filter((f) => f.outcome === 'deviation').map((f) => f.checkId)).toEqual([
      'grant.form-encoded-body',
    ]);
    // sendClientId: false: the jwt-bearer request carries no client_id, as the document's body.
    const body = fd?.evidence.exchanges['token.0']?.request.body ?? '';
    expect(body).toContain('grant_type');
    expect(body).not.toContain('client_id');
    // tokenFormat: jwt-plain: the RFC 9068 header check does not apply, the claims' shape does.
    const typ = fd?.findings.find((f) => f.checkId === 'jwt.typ');
    expect(typ?.outcome).toBe('skipped');
    expect(typ?.message).toMatch(/jwt-plain/);
    expect(fd?.findings.find((f) => f.checkId === 'jwt.claims-well-formed')?.outcome).toBe('pass');
    // The stand-ins' private keys (FD_PRIVATE_KEY, SG_PKJWT_KEY) never reach the report.
    for (const file of listFiles(r.outDir)) {
      if (/\.(json|txt|html|sh)$/.test(file))
        expect(readFileSync(file, 'utf8'), file).not.toContain('PRIVATE KEY');
    }
  }, 300_000);
});

describe('each stand-in with its documented promise broken fails the check that guards it', () => {
  const proofs: [service: string, check: string][] = [
    ['akamai-identity-cloud', 'grant.no-refresh-token'],
    ['signaturgruppen-broker', 'expiry.expires-in-declared'],
    ['ist-educloud', 'scope.echoed'],
    ['raidiam-connect', 'client-auth.mtls-without-certificate'],
    ['federated-directory', 'grant.jwt-bearer'],
  ];
  it.concurrent.each(proofs)('%s → %s fails', async (service, check) => {
    const standIns = await startStandIns({ only: [service], broken: service });
    try {
      const p = trustStandIns(
        resolveProvider(readDescriptor(locateDescriptor(service)), {
          ...process.env,
          ...standIns.env,
        }),
        standIns.caFile,
      );
      const evidence = await observe(p);
      // The stand-in's secrets are registered for redaction through the descriptor's ${env:…} references.
      const recorded = JSON.stringify(evidence);
      for (const secret of standIns.secrets)
        expect(recorded.includes(secret), `a secret of ${service} was recorded`).toBe(false);
      const findings = evaluate(p, evidence, { strict: false });
      const guarded = findings.filter((f) => f.checkId === check);
      expect(guarded.length, `${check} was not evaluated`).toBeGreaterThan(0);
      expect(
        guarded.map((f) => f.outcome),
        guarded.map((f) => f.message).join('\n'),
      ).toContain('fail');
    } finally {
      await standIns.close();
    }
  });
});
