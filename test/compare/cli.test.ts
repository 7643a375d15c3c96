/**
 * The comparison from the command line, end to end on loopback servers: two instances of the same
 * configuration with a secondary (nothing differs, exit 0), two seed stand-ins (--emulate), two
 * consecutive default runs with --since (nothing changed), a replay of recorded evidence (no request,
 * same verdicts; a probe missing from the recording is not verified), and bad input (exit 2, one line).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { CompareFile } from '../../src/compare/types.js';
import type { RunRecord } from '../../src/run-record.js';
import {
  describeRun,
  freshDir,
  labelsOf,
  readAllureResults,
  readRun,
  removeTempDirs,
  runCli,
  runFileOf,
} from '../e2e/run-cli.js';
import { validateCompare } from './schema.js';

const COMPARE = { entry: 'src/compare/cli.ts', timeoutMs: 240_000 };

function readCompare(outDir: string): CompareFile {
  const file = JSON.parse(readFileSync(path.join(outDir, 'compare.json'), 'utf8')) as CompareFile;
  expect(validateCompare(file), JSON.stringify(validateCompare.errors?.slice(0, 3))).toBe(true);
  return file;
}

afterAll(() => removeTempDirs());

describe('npm run compare', () => {
  it('two instances of the same configuration, with a secondary: no difference, noise shown apart, exit 0', async () => {
    const run = await runCli(
      [
        '--baseline',
        'reference',
        '--candidate',
        'reference',
        '--secondary',
        'reference',
        '--no-report',
      ],
      COMPARE,
    );
    expect(run.code, describeRun(run)).toBe(0);
    const c = readCompare(run.outDir).comparisons[0]!;
    expect(c.secondary?.provider).toBe('reference');
    expect(c.differences).toEqual([]);
    expect(c.notComparable).toEqual([]);
    // Each instance has its own port, keys and secrets; fingerprints name them, so nothing is noise either.
    expect(c.noise).toEqual([]);
    expect(c.counts.unchanged).toBeGreaterThan(30);
    expect(run.stdout).toContain(
      '0 differences (0 breaks clients, 0 conformance regression, 0 fixed, 0 neutral); 0 not comparable; 0 noise; ',
    );
    expect(readFileSync(path.join(run.outDir, 'compare.md'), 'utf8')).toContain(
      '### Noise, shown apart (0)',
    );
    // Three instances of the same descriptor: told apart in the run record.
    expect(readRun(run).providers.map((p) => p.provider.name)).toEqual([
      'reference (baseline)',
      'reference (candidate)',
      'reference (secondary)',
    ]);
  }, 260_000);

  it('two seed stand-ins (--emulate): clients paired by role, differences classed, exit 1', async () => {
    const run = await runCli(
      [
        '--baseline',
        'akamai-identity-cloud',
        '--candidate',
        'ist-educloud',
        '--emulate',
        '--no-report',
      ],
      COMPARE,
    );
    expect(run.code, describeRun(run)).toBe(1);
    const c = readCompare(run.outDir).comparisons[0]!;
    expect(c.title).toBe('Migration: akamai-identity-cloud → ist-educloud');
    expect(c.differences.some((d) => d.class === 'breaks-clients')).toBe(true);
    // Akamai declares a resource, IST does not: its requests are not comparable, kept apart.
    expect(
      c.notComparable.some(
        (d) => d.aspect === 'answer' && d.where.some((w) => w.probe === 'resource.fresh'),
      ),
    ).toBe(true);
    expect(
      c.unchanged.some((u) => u.key === 'token[primary]') ||
        c.differences.some((d) => d.where.some((w) => w.key === 'token[primary]')),
    ).toBe(true);
    // IST's second client (client_secret_basic) has no partner on Akamai's side.
    expect(
      c.notComparable.some((d) => d.where.some((w) => w.key.startsWith('token[only candidate:'))),
    ).toBe(true);
    // Secrets are never written: only their variable names.
    const written =
      readFileSync(path.join(run.outDir, 'compare.json'), 'utf8') +
      readFileSync(path.join(run.outDir, '.run/run.json'), 'utf8');
    expect(written).not.toMatch(/client_secret=(?![$['])/);
  }, 260_000);

  it('refuses bad input with one line and exit 2, before any request', async () => {
    const dir = freshDir('tc-compare-bad-');
    const twoProviders = path.join(dir, 'run.json');
    writeFileSync(
      twoProviders,
      JSON.stringify({
        startedAt: 'x',
        providers: [1, 2].map((i) => ({
          provider: { name: `p${i}`, title: 't', tokenEndpoint: 'https://x', clients: [] },
          evidence: { exchanges: {}, notRun: {} },
          findings: [],
        })),
      }),
    );
    const notARecord = path.join(dir, 'other.json');
    writeFileSync(notARecord, JSON.stringify({ providers: 'no' }));
    const cases: [string[], RegExp][] = [
      [['--candidate', 'reference'], /^error: --baseline is required$/m],
      [
        ['--baseline', 'no-such-provider', '--candidate', 'reference'],
        /^error: --baseline: no-such-provider: unknown provider/m,
      ],
      [
        ['--baseline', 'reference', '--candidate', path.join(dir, 'last-run.json')],
        /^error: --candidate: .*last-run\.json: cannot read the run record: ENOENT$/m,
      ],
      [
        ['--baseline', 'reference', '--candidate', path.join(dir, 'missing.yaml')],
        /^error: --candidate: .*missing\.yaml: file not found$/m,
      ],
      [
        ['--baseline', twoProviders, '--candidate', 'reference'],
        /^error: --baseline: .*run\.json: it holds 2 providers: name one as .*run\.json#<provider> \(p1, p2\)$/m,
      ],
      [
        ['--baseline', `${twoProviders}#p3`, '--candidate', 'reference'],
        /no provider named p3 in it/,
      ],
      [
        ['--baseline', notARecord, '--candidate', 'reference'],
        /^error: .*other\.json: (startedAt|providers): /m,
      ],
      [
        ['--baseline', 'reference', '--candidate', 'reference', '--fail-on', 'breaks-everything'],
        /^error: --fail-on: breaks-everything: not a class/m,
      ],
    ];
    for (const [args, message] of cases) {
      const run = await runCli(args, { ...COMPARE, timeoutMs: 60_000 });
      expect(run.code, describeRun(run)).toBe(2);
      expect(run.stderr, describeRun(run)).toMatch(message);
      expect(run.stdout).not.toContain('compare:');
    }
  }, 240_000);
});

describe('npm run conformance -- --since and --replay', () => {
  let first: RunRecord;
  let firstFile: string;

  it('--since over two consecutive default runs: nothing changed, in the summary, compare.md and the report', async () => {
    const a = await runCli(['--no-report']);
    expect(a.code, describeRun(a)).toBe(0);
    firstFile = runFileOf(a);
    first = readRun(a);
    const b = await runCli(['--since', firstFile], { timeoutMs: 240_000 });
    expect(b.code, describeRun(b)).toBe(0);
    expect(b.stdout).toContain(`What changed since ${firstFile}`);
    const file = readCompare(b.outDir);
    expect(file.comparisons.map((c) => c.baseline.provider)).toEqual([
      'reference',
      'reference-authorization-code',
      'reference-jwt-bearer',
    ]);
    for (const c of file.comparisons) {
      expect(c.differences, c.title).toEqual([]);
      expect(c.notComparable, c.title).toEqual([]);
      expect(c.baseline).toMatchObject({ source: 'recorded', rejudged: true });
    }
    expect(file.run.startedAt).toBe(readRun(b).startedAt);
    expect(readFileSync(path.join(b.outDir, 'compare.md'), 'utf8')).toContain('## Since ');
    // The report carries the comparison: one passed "Unchanged" test per request of each provider.
    const since = readAllureResults(b.outDir).filter((r) =>
      labelsOf(r, 'parentSuite')[0]?.startsWith('Since '),
    );
    expect(since.length).toBe(file.comparisons.reduce((n, c) => n + c.counts.unchanged, 0));
    expect(since.every((r) => r.status === 'passed')).toBe(true);
  }, 300_000);

  it('--replay judges the recorded evidence again, without a request: the same verdicts', async () => {
    const run = await runCli(['--replay', firstFile, '--no-report'], { timeoutMs: 60_000 });
    expect(run.code, describeRun(run)).toBe(0);
    expect(run.stdout).toMatch(
      /replay of .*run\.json \(recorded .*\): reference, reference-authorization-code, reference-jwt-bearer; no request sent/,
    );
    const replayed = readRun(run);
    const verdicts = (r: RunRecord) =>
      r.providers.map((p) => p.findings.map((f) => `${f.checkId} ${f.outcome} ${f.message}`));
    expect(verdicts(replayed)).toEqual(verdicts(first));
  }, 300_000);

  it('--replay: a probe absent from the recording makes its checks not verified: not recorded', async () => {
    const cut = structuredClone(first);
    delete cut.providers[0]!.evidence.exchanges['resource.no-token'];
    const file = path.join(freshDir('tc-replay-'), 'run.json');
    writeFileSync(file, JSON.stringify(cut));
    const run = await runCli(['--replay', file, '--no-report'], { timeoutMs: 240_000 });
    // Nothing failed, but checks could not judge: not verified (exit 4), as for a live run.
    expect(run.code, describeRun(run)).toBe(4);
    const findings = readRun(run).providers[0]!.findings.filter((f) =>
      f.probes.includes('resource.no-token'),
    );
    expect(findings.length).toBeGreaterThan(0);
    for (const f of findings)
      expect(`${f.checkId} ${f.outcome} ${f.message}`).toBe(
        `${f.checkId} broken not verified: not recorded: the recording has no exchange for probe resource.no-token`,
      );
  }, 300_000);

  it('--since and --replay refuse a file that is not a run record: exit 2, one line', async () => {
    const bad = path.join(freshDir('tc-since-bad-'), 'x.json');
    writeFileSync(bad, '{"startedAt": 1');
    for (const flag of ['--since', '--replay']) {
      const run = await runCli([flag, bad, '--no-report'], { timeoutMs: 60_000 });
      expect(run.code, describeRun(run)).toBe(2);
      expect(run.stderr).toMatch(/^error: .*x\.json: \(file\): not a run record: invalid JSON/m);
      expect(run.stdout).toBe('');
    }
  }, 120_000);
});
