/**
 * The named cases of issue 14 through the real CLI (a child process, as a CI job runs it):
 * - the deep-nesting endpoint (100 000 levels of `[`, 200 KB) and an endpoint that answers escape
 *   sequences, next to the embedded reference, with the report: the reference keeps its usual
 *   findings, the hostile providers are broken or failed with their cause named, the run ends by
 *   itself, and nothing the run prints or writes into the report holds a raw control character;
 * - bad input before the first request: `--out` under a regular file, `--out /proc/x` (Node's
 *   recursive mkdir never returns there), a YAML alias bomb, `--provider /dev/zero`, a descriptor
 *   nested too deep: each exit 2 with one line, no run started. They must end by themselves; how
 *   fast is the benchmark's business (docs/fuzzing.md), never asserted here.
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isInert } from '../../src/text/inert.js';
import {
  describeRun,
  freshDir,
  parseSummary,
  readAllureResults,
  readRun,
  removeTempDirs,
  runCli,
  type CliResult,
} from '../e2e/run-cli.js';
import { startHostileServer, type HostileServer } from './hostile-server.js';
import { answerFor } from './mutations.js';

const SECRET_ENV = 'TC_HOSTILE_SECRET';
const ENV = { [SECRET_ENV]: 'hostile-secret-value' };
const ESC_TEXT = '\x1b[2J\x1b]0;owned\x07\x1b[31mred\r\u009b0m\u202eevil';

function descriptorFor(name: string, server: HostileServer): string {
  return [
    `name: ${name}`,
    `title: hostile ${name}`,
    `tokenEndpoint: ${server.tokenUrl}`,
    'clients:',
    '  - id: hostile-client',
    `    auth: { method: client_secret_basic, secret: "\${env:${SECRET_ENV}}" }`,
    'grant: { type: client_credentials }',
    'expect: { tokenType: Bearer }',
    `tls: { caFile: ${server.caFile} }`,
    'limits: { timeoutMs: 5000, maxExpiryWaitSeconds: 0 }',
    '',
  ].join('\n');
}

const stderrLines = (r: CliResult): string[] => r.stderr.replace(/\n$/, '').split('\n');

/** Every file under `dir`, recursively. */
function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? filesUnder(path.join(dir, e.name)) : [path.join(dir, e.name)],
  );
}

afterAll(() => {
  removeTempDirs();
});

describe('a deep-nesting endpoint and an escape-sequence endpoint next to the embedded reference', () => {
  let deep: HostileServer;
  let escapes: HostileServer;
  let r: CliResult;

  beforeAll(async () => {
    deep = await startHostileServer();
    const nested = answerFor([{ kind: 'nest', depth: 100_000, open: '[', inside: false }]);
    deep.answer = () => nested;
    escapes = await startHostileServer();
    const text = answerFor([{ kind: 'control', text: ESC_TEXT, where: 'text-body' }]);
    // Not JSON: the parse error quotes the body (V8's message), and so would the summary.
    text.headers[0] = ['Content-Type', 'application/json'];
    escapes.answer = () => text;
    const dir = freshDir();
    writeFileSync(path.join(dir, 'deep.yaml'), descriptorFor('deep', deep));
    writeFileSync(path.join(dir, 'escapes.yaml'), descriptorFor('escapes', escapes));
    r = await runCli(
      [
        '--provider',
        'reference',
        '--provider',
        path.join(dir, 'deep.yaml'),
        '--provider',
        path.join(dir, 'escapes.yaml'),
      ],
      { env: ENV, timeoutMs: 240_000 },
    );
  }, 300_000);

  afterAll(async () => {
    await Promise.all([deep?.close(), escapes?.close()]);
  });

  it('ends by itself, without a harness error, with exit 0, 1 or 4', () => {
    expect(r.timedOut, describeRun(r)).toBe(false);
    expect([0, 1, 4], describeRun(r)).toContain(r.code);
    expect(r.stderr, describeRun(r)).toBe('');
    expect(r.stdout).toMatch(/^report: /m);
  });

  it('gives the reference its usual findings: nothing failed, nothing broken', () => {
    const row = parseSummary(r.stdout).find((x) => x.provider === 'reference');
    expect(row, describeRun(r)).toMatchObject({ failed: 0, broken: 0 });
    expect(row?.passed).toBeGreaterThan(50);
  });

  it('breaks the deep-nesting provider, naming the limit', () => {
    const row = parseSummary(r.stdout).find((x) => x.provider === 'deep');
    expect(row, describeRun(r)).toMatchObject({ passed: 0, failed: 0 });
    expect(row?.broken).toBeGreaterThan(0);
    expect(r.stdout).toMatch(
      /deep: BROKEN — no check could run: endpoint unreachable or misbehaving: the response \(HTTP 200, \d+ bytes\) nests deeper than 64 levels/,
    );
    const deepRun = readRun(r).providers.find((p) => p.provider.name === 'deep');
    for (const f of deepRun?.findings ?? [])
      expect(['broken', 'skipped'], `${f.checkId}: ${f.message}`).toContain(f.outcome);
  });

  it('judges the escape-sequence provider, and prints nothing it sent raw', () => {
    const row = parseSummary(r.stdout).find((x) => x.provider === 'escapes');
    expect(row?.failed, describeRun(r)).toBeGreaterThan(0);
    expect(isInert(r.stdout, true), r.stdout).toBe(true);
    // V8's JSON.parse message quotes the body: it shows escaped.
    expect(r.stdout).toContain('\\x1b[2J');
  });

  it('writes the report for every provider, broken where the limit was exceeded, with nothing raw in it', () => {
    const results = readAllureResults(r.outDir);
    // The suites key every result by provider and check (src/report/suite.ts): `deep:<check id>…`.
    const deepResults = results.filter((x) => x.testCaseId?.startsWith('deep:'));
    expect(deepResults.length, 'results of the deep provider').toBeGreaterThan(0);
    expect(deepResults.filter((x) => x.status === 'broken').length).toBeGreaterThan(0);
    expect(
      deepResults.some((x) => /nests deeper than 64 levels/.test(x.statusDetails?.message ?? '')),
    ).toBe(true);
    for (const file of filesUnder(path.join(r.outDir, 'allure-results'))) {
      expect(isInert(readFileSync(file, 'utf8'), true), file).toBe(true);
    }
    expect(readdirSync(path.join(r.outDir, 'html'))).toContain('index.html');
  });
});

describe('bad input: exit 2 with one line, before any run', () => {
  const runs: Record<string, CliResult> = {};
  const files: Record<string, string> = {};
  let server: HostileServer;

  beforeAll(async () => {
    server = await startHostileServer();
    const dir = freshDir();
    const valid = descriptorFor('valid', server);
    files['regular'] = path.join(dir, 'a-regular-file');
    writeFileSync(files['regular'], 'not a directory\n');
    files['valid'] = path.join(dir, 'valid.yaml');
    writeFileSync(files['valid'], valid);
    files['bomb'] = path.join(dir, 'alias-bomb.yaml');
    const bomb = [
      'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]',
      ...'bcdefghi'
        .split('')
        .map((c, i) => `${c}: &${c} [${Array(9).fill(`*${'abcdefghi'[i]}`).join(',')}]`),
    ];
    writeFileSync(files['bomb'], `${valid}${bomb.join('\n')}\n`);
    files['deep'] = path.join(dir, 'deep.yaml');
    writeFileSync(files['deep'], `${valid}description: ${'['.repeat(100)}${']'.repeat(100)}\n`);
    const cases: [string, string[], string | undefined][] = [
      ['outUnderFile', ['--provider', files['valid']], path.join(files['regular'], 'x')],
      ['outInProc', ['--provider', files['valid']], '/proc/x'],
      ['aliasBomb', ['--provider', files['bomb']], undefined],
      ['devZero', ['--provider', '/dev/zero'], undefined],
      ['deepDescriptor', ['--provider', files['deep']], undefined],
    ];
    const results = await Promise.all(
      cases.map(([, args, out]) =>
        runCli(args, { env: ENV, timeoutMs: 60_000, ...(out ? { out } : {}) }),
      ),
    );
    cases.forEach(([name], i) => (runs[name] = results[i]!));
  }, 120_000);

  afterAll(async () => {
    await server?.close();
  });

  it.each([
    ['outUnderFile', /^error: --out: .*a-regular-file is a file, not a directory$/],
    ['outInProc', /^error: --out: cannot create the directory \/proc\/x \(ENOENT\)$/],
    [
      'aliasBomb',
      /^error: .*alias-bomb\.yaml: \(file\): YAML: too many aliases \(more than 100 resolved\)/,
    ],
    ['devZero', /^error: \/dev\/zero: \(file\): cannot read: it is not a regular file$/],
    [
      'deepDescriptor',
      /^error: .*deep\.yaml: (\(file\): nests deeper than 32 levels|line \d+, column \d+: YAML: nests too deeply)/,
    ],
  ])('%s', (name, line) => {
    const r = runs[name]!;
    expect(r.timedOut, describeRun(r)).toBe(false);
    expect(r.code, describeRun(r)).toBe(2);
    expect(stderrLines(r), describeRun(r)).toHaveLength(1);
    expect(stderrLines(r)[0]).toMatch(line);
    expect(r.stdout, describeRun(r)).toBe('');
  });

  it('sent no request in any of them', () => {
    expect(Object.keys(runs)).toHaveLength(5);
    expect(server.requests).toEqual([]);
  });
});
