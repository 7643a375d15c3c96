/**
 * What a comparison writes (compare.json against its schema, compare.md, the terminal table, the
 * report's side-by-side attachment), how the report finds it, and the replay of recorded evidence.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { compareRuns } from '../../src/compare/compare.js';
import { buildCompareFile, comparisonForRun, writeCompareFile } from '../../src/compare/output.js';
import { compareFileMarkdown, formatCompareFile } from '../../src/compare/render.js';
import { sideBySide } from '../../src/compare/suite.js';
import { DEFAULT_FAIL_ON } from '../../src/compare/types.js';
import type { Provider } from '../../src/descriptor/types.js';
import { evaluate } from '../../src/evaluate.js';
import { rejudge, replayableProvider } from '../../src/replay.js';
import { conformant, exchange, json, res } from '../checks/fixture.js';
import { side } from './recorded-sides.js';
import { validateCompare } from './schema.js';

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

/** A candidate with two changes and one verdict moved: enough to exercise every output. */
function sample() {
  const candidate = side((e) => {
    res(e, 'errors.wrong-secret').status = 400;
    json(e, 'token.0')['foo'] = 'bar';
  });
  return compareRuns(side(), candidate, side());
}

describe('compare.json', () => {
  it('follows schemas/compare.schema.json', () => {
    const file = buildCompareFile([sample()], {
      failOn: DEFAULT_FAIL_ON,
      runStartedAt: '2026-01-01T00:00:00.000Z',
    });
    expect(validateCompare(file), JSON.stringify(validateCompare.errors?.slice(0, 3))).toBe(true);
    expect(file.failed).toBe(true);
    expect(buildCompareFile([sample()], { failOn: ['fixed'], runStartedAt: 'x' }).failed).toBe(
      false,
    );
  });

  it('is used by the report only with the run record it was written with', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'tc-compare-out-'));
    dirs.push(dir);
    const runFile = path.join(dir, '.run/run.json');
    const file = buildCompareFile([sample()], { failOn: DEFAULT_FAIL_ON, runStartedAt: 'run-1' });
    const written = writeCompareFile(file, runFile);
    expect(written.json).toBe(path.join(dir, 'compare.json'));
    mkdirSync(path.dirname(runFile), { recursive: true });
    writeFileSync(runFile, JSON.stringify({ startedAt: 'run-1', providers: [] }));
    expect(comparisonForRun(runFile)?.comparisons).toHaveLength(1);
    writeFileSync(runFile, JSON.stringify({ startedAt: 'run-2', providers: [] }));
    expect(comparisonForRun(runFile)).toBeUndefined();
  });
});

describe('for people', () => {
  const file = buildCompareFile([sample()], { failOn: DEFAULT_FAIL_ON, runStartedAt: 'x' });
  it('compare.md has a section per class, the differences, the checks and what is kept apart', () => {
    const md = compareFileMarkdown(file);
    expect(md).toContain('## Migration: reference → reference');
    expect(md).toContain('### Breaks clients (1)');
    expect(md).toContain('#### Status changes');
    expect(md).toContain('`errors.invalid-client-401-challenge`');
    expect(md).toContain('### Neutral (1)');
    expect(md).toContain('#### Members added');
    expect(md).toContain('### Not comparable, kept apart (0)');
    expect(md).toContain('### Noise, shown apart (0)');
  });

  it('the terminal table names class, difference, both sides and where', () => {
    const text = formatCompareFile(file);
    expect(text).toMatch(
      /BREAKS CLIENTS\s+Status changes\s+401\s+400\s+1 request: errors\.wrong-secret/,
    );
    expect(text).toContain(
      'Comparison: 1 difference of the classes --fail-on names (breaks-clients, conformance-regression)',
    );
  });

  it('the side-by-side attachment shows both exchanges as text, nothing executable', () => {
    const { evidence } = conformant();
    const ex = exchange(evidence, 'token.0');
    const hostile = { ...ex, response: { ...ex.response!, body: '<script>alert(1)</script>' } };
    const html = sideBySide('base <b>', 'cand', { baseline: ex, candidate: hostile });
    expect(html).not.toContain('<script>');
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(html).toContain('base &lt;b&gt;');
    expect(html).toContain('POST https://127.0.0.1:8443/token');
  });
});

describe('replay', () => {
  it('judges recorded evidence as the run did', () => {
    const { provider, evidence } = conformant();
    expect(rejudge(provider, evidence, false)).toEqual(
      evaluate(provider, evidence, { strict: false }),
    );
  });

  it('a check whose probe is not in the recording is not verified: not recorded', () => {
    const { provider, evidence } = conformant();
    delete evidence.exchanges['resource.tampered'];
    const findings = rejudge(provider, evidence, false);
    const tampered = findings.filter((f) => f.probes.includes('resource.tampered'));
    expect(tampered.map((f) => f.checkId).sort()).toEqual([
      'resource.tampered-token-challenge',
      'resource.tampered-token-refused',
    ]);
    for (const f of tampered) {
      expect(f.outcome).toBe('broken');
      expect(f.message).toBe(
        'not verified: not recorded: the recording has no exchange for probe resource.tampered',
      );
    }
    const others = findings.filter((f) => !f.probes.includes('resource.tampered'));
    expect(others.every((f) => f.outcome === 'pass' || f.outcome === 'skipped')).toBe(true);
  });

  it('keeps the descriptor without a secret, a private key or proxy credentials', () => {
    const { provider } = conformant();
    const secretful: Provider = {
      ...provider,
      clients: provider.clients.map((c) => ({
        ...c,
        auth: {
          ...c.auth,
          ...(c.auth.secret ? { secret: 'S3CRET-client-secret' } : {}),
          ...(c.auth.assertion?.key
            ? {
                assertion: {
                  ...c.auth.assertion,
                  key: { kind: 'pem' as const, material: '-----BEGIN PRIVATE KEY-----PK1' },
                },
              }
            : {}),
          ...(c.auth.tls ? { tls: { ...c.auth.tls, key: '-----BEGIN PRIVATE KEY-----TLS1' } } : {}),
        },
      })),
      proxy: {
        mode: 'proxy',
        noProxy: '',
        https: {
          url: 'http://user:PROXYPASS@proxy.example:3128',
          hostPort: 'proxy.example:3128',
          from: 'HTTPS_PROXY',
          envName: 'HTTPS_PROXY',
        },
      },
      secrets: [{ value: 'S3CRET-client-secret', envName: 'X' }],
    };
    const text = JSON.stringify(replayableProvider(secretful));
    for (const secret of ['S3CRET', 'PRIVATE KEY', 'PROXYPASS']) expect(text).not.toContain(secret);
    // What the checks read stays: ids, thumbprints, the proxy's host:port.
    expect(text).toContain(provider.clients[7]!.auth.tls!.thumbprint);
    expect(text).toContain('proxy.example:3128');
    expect(
      rejudge(replayableProvider(secretful), conformant().evidence, false).filter(
        (f) => f.outcome === 'fail',
      ),
    ).toEqual([]);
  });
});
