/**
 * Nightly CI, as a CI owner wires it up: the two ready-made workflows (docs/ci/) are parsed and their
 * harness commands run here, shards and merge, against the embedded reference; the merged record
 * equals an unsharded run; exit codes tell conformant (0), non-conformant (1) and not verified (4)
 * apart; junit.xml, summary.md and run.json (validated against its schema) are written; the history
 * says what changed since the last run.
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Ajv } from 'ajv';
import addFormats from 'ajv-formats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import type { RunRecord } from '../../src/run-record.js';
import { instanceKey } from '../../src/run/history.js';
import {
  describeRun,
  freshDir,
  readRun,
  REPO_ROOT,
  removeTempDirs,
  runCli,
  type CliResult,
} from './run-cli.js';

interface Shell {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a workflow's script with bash from the repository root, as the CI runner would after checkout. */
function bash(script: string, env: Record<string, string>): Promise<Shell> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', ['-euo', 'pipefail', '-c', script], {
      cwd: REPO_ROOT,
      env: { ...cleanEnv(), ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.on('error', reject);
    child.on('close', (code) =>
      resolve({
        code,
        stdout: Buffer.concat(out).toString(),
        stderr: Buffer.concat(err).toString(),
      }),
    );
  });
}

function cleanEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env))
    if (v !== undefined && !/^(VITEST|TC_|E2E_|GITHUB_)/.test(k) && k !== 'NODE_ENV') env[k] = v;
  return { ...env, NO_COLOR: '1', FORCE_COLOR: '0' };
}

const outcomes = (r: RunRecord): string[] =>
  r.providers
    .flatMap((p) => p.findings.map((f) => `${p.provider.name} ${instanceKey(f)} ${f.outcome}`))
    .sort();

const schema = JSON.parse(
  readFileSync(path.join(REPO_ROOT, 'schemas/run-record.schema.json'), 'utf8'),
) as object;
const ajv = new Ajv({ allErrors: true, strict: false });
addFormats.default(ajv);
const validateRecord = ajv.compile(schema);

interface Steps {
  shard: string;
  merge: string;
}

/** The GitHub Actions workflow's shard and merge scripts, with the matrix value substituted. */
function githubSteps(): Steps & { shards: number[] } {
  const wf = parse(readFileSync(path.join(REPO_ROOT, 'docs/ci/github-actions.yml'), 'utf8')) as {
    env: Record<string, string | number>;
    jobs: Record<string, { strategy?: { matrix: { shard: number[] } }; steps: { run?: string }[] }>;
  };
  const shardJob = wf.jobs['shard']!;
  const find = (job: string, what: string) =>
    wf.jobs[job]!.steps.map((s) => s.run ?? '').find((r) => r.includes(what));
  const shard = find('shard', 'npm run conformance');
  const merge = find('merge', 'npm run merge');
  if (!shard || !merge) throw new Error('the workflow lost its conformance or merge step');
  expect(wf.env['SHARDS']).toBe(shardJob.strategy!.matrix.shard.length);
  return {
    shard,
    merge: merge.replace(
      /echo "code=\$code" >> "\$GITHUB_OUTPUT"/,
      'echo "code=$code"; exit "$code"',
    ),
    shards: shardJob.strategy!.matrix.shard,
  };
}

/** The GitLab CI file's script lines, joined as its runner would run them. */
function gitlabSteps(): Steps & { parallel: number } {
  const ci = parse(readFileSync(path.join(REPO_ROOT, 'docs/ci/gitlab-ci.yml'), 'utf8')) as Record<
    string,
    { script?: string[]; parallel?: number; allow_failure?: { exit_codes: number[] } }
  >;
  const job = ci['conformance']!;
  const merge = ci['merge']!;
  expect(merge.allow_failure?.exit_codes).toEqual([4]);
  return {
    shard: job.script!.join('\n'),
    merge: merge.script!.join('\n'),
    parallel: job.parallel!,
  };
}

describe('the ready-made workflows, run locally against the embedded reference', () => {
  let whole: CliResult;
  const gh: { shards: Shell[]; merge?: Shell; again?: Shell; out: string; history: string } = {
    shards: [],
    out: '',
    history: '',
  };
  const gl: { shards: Shell[]; merge?: Shell; out: string } = { shards: [], out: '' };

  beforeAll(async () => {
    const github = githubSteps();
    const gitlab = gitlabSteps();
    gh.out = freshDir('tc-gh-');
    gh.history = freshDir('tc-gh-history-');
    gl.out = freshDir('tc-gl-');
    const ghEnv = { SHARDS: String(github.shards.length), TC_OUT: gh.out, TC_HISTORY: gh.history };
    // Three independent streams, as three CI machines would run them.
    await Promise.all([
      (async () => {
        whole = await runCli(['--no-report', '--history', path.join(freshDir(), 'h.jsonl')]);
      })(),
      (async () => {
        for (const k of github.shards)
          gh.shards.push(
            await bash(github.shard.replace(/\$\{\{ matrix\.shard \}\}/g, String(k)), ghEnv),
          );
        gh.merge = await bash(github.merge, ghEnv);
        // The next night: the same verdicts, the history now one run long (no report needed for that).
        gh.again = await bash(
          github.merge.replace('"$TC_OUT/merged"', '"$TC_OUT/merged-again" --no-report'),
          ghEnv,
        );
      })(),
      (async () => {
        for (let k = 1; k <= gitlab.parallel; k++)
          gl.shards.push(
            await bash(gitlab.shard, {
              TC_OUT: gl.out,
              TC_HISTORY: freshDir(),
              CI_NODE_INDEX: String(k),
              CI_NODE_TOTAL: String(gitlab.parallel),
            }),
          );
        gl.merge = await bash(
          gitlab.merge.replace('"$TC_OUT/merged"', '"$TC_OUT/merged" --no-report'),
          { TC_OUT: gl.out, TC_HISTORY: freshDir() },
        );
      })(),
    ]);
  }, 600_000);

  afterAll(() => removeTempDirs());

  it('runs every shard job to a verdict (exit 0 here)', () => {
    for (const s of [...gh.shards, ...gl.shards]) expect(s.code, s.stdout + s.stderr).toBe(0);
    expect(
      gh.shards
        .map((s) => /shard \d\/3: (\d) of 3 providers/.exec(s.stdout)?.[1])
        .map(Number)
        .reduce((a, b) => a + b, 0),
    ).toBe(3);
  });

  it('merges the shards into the same findings as one unsharded run', () => {
    expect(whole.code, describeRun(whole)).toBe(0);
    expect(gh.merge?.code, gh.merge?.stdout).toBe(0);
    const merged = JSON.parse(
      readFileSync(path.join(gh.out, 'merged/.run/run.json'), 'utf8'),
    ) as RunRecord;
    expect(merged.providers.map((p) => p.provider.name)).toEqual([
      'reference',
      'reference-authorization-code',
      'reference-jwt-bearer',
    ]);
    expect(outcomes(merged)).toEqual(outcomes(readRun(whole)));
    const gitlab = JSON.parse(
      readFileSync(path.join(gl.out, 'merged/.run/run.json'), 'utf8'),
    ) as RunRecord;
    expect(gl.merge?.code, gl.merge?.stdout).toBe(0);
    expect(outcomes(gitlab)).toEqual(outcomes(merged));
  });

  it('writes junit.xml, summary.md and a report for the merged run, and run.json valid against its schema', () => {
    const dir = path.join(gh.out, 'merged');
    const merged = JSON.parse(readFileSync(path.join(dir, '.run/run.json'), 'utf8')) as RunRecord;
    expect(validateRecord(merged), JSON.stringify(validateRecord.errors?.slice(0, 3))).toBe(true);
    expect(validateRecord(readRun(whole)), JSON.stringify(validateRecord.errors?.slice(0, 3))).toBe(
      true,
    );
    const junit = readFileSync(path.join(dir, 'junit.xml'), 'utf8');
    const findings = merged.providers.reduce((n, p) => n + p.findings.length, 0);
    expect(junit.match(/<testcase /g)?.length).toBe(findings);
    expect(junit).toContain(
      'name="Embedded reference (oidc-provider) › Grant handling › client_credentials grant succeeds with the declared client authentication (client_secret_basic)"',
    );
    expect(junit).not.toMatch(/at .*\.ts:\d+/); // no harness stack trace
    expect(junit).toMatch(/<system-out>WARNING \(SHOULD\) response\.pragma: /);
    const summary = readFileSync(path.join(dir, 'summary.md'), 'utf8');
    expect(summary).toMatch(/^## Token endpoint conformance: CONFORMANT \(exit 0\)/);
    expect(summary).toContain('| reference | conformant |');
    expect(summary).toContain('| reference-jwt-bearer | conformant |');
    expect(existsSync(path.join(dir, 'html/index.html'))).toBe(true);
  });

  it('carries the history: the next night says what changed (nothing)', () => {
    expect(gh.merge?.stdout).toContain('reference: first run in this history');
    expect(gh.again?.code).toBe(0);
    expect(gh.again?.stdout).toMatch(/reference: no change since \d{4}-/);
    expect(
      readFileSync(path.join(gh.history, 'runs.jsonl'), 'utf8').trim().split('\n'),
    ).toHaveLength(2);
    const again = JSON.parse(
      readFileSync(path.join(gh.out, 'merged-again/.run/run.json'), 'utf8'),
    ) as RunRecord;
    expect(again.sinceLastRun?.find((c) => c.provider === 'reference')).toMatchObject({
      newFailures: [],
      fixed: [],
    });
  });
});

describe('exit codes tell an outage apart from non-conformance', () => {
  let mixed: CliResult;
  let allowed: CliResult;
  beforeAll(async () => {
    const dir = freshDir();
    const down = path.join(dir, 'down.yaml');
    writeFileSync(
      down,
      [
        'name: down',
        'title: E2E unreachable sandbox',
        'tokenEndpoint: https://127.0.0.1:9/token',
        'clients:',
        '  - id: e2e-client',
        '    auth: { method: client_secret_basic, secret: "${env:E2E_DOWN_SECRET}" }',
        'grant: { type: client_credentials }',
        'expect: { tokenType: Bearer }',
      ].join('\n'),
    );
    [mixed, allowed] = await Promise.all([
      runCli(['-p', 'providers/reference.yaml', '-p', down, '--no-report'], {
        env: { E2E_DOWN_SECRET: 'e2e-secret-value' },
      }),
      runCli(['-p', down, '--no-report', '--allow-unverified'], {
        env: { E2E_DOWN_SECRET: 'e2e-secret-value' },
      }),
    ]);
  }, 180_000);
  afterAll(() => removeTempDirs());

  it('exits 4 and says "not verified" when nothing failed but a sandbox was down', () => {
    expect(mixed.code, describeRun(mixed)).toBe(4);
    expect(mixed.stdout).toMatch(
      /^Result: NOT VERIFIED \(exit 4\): nothing failed, but some checks could not judge \(outage, rate limit or set-up\): down \(\d+ checks\)$/m,
    );
    expect(readFileSync(path.join(mixed.outDir, 'summary.md'), 'utf8')).toContain(
      '| down | not verified |',
    );
    expect(readFileSync(path.join(mixed.outDir, 'junit.xml'), 'utf8')).toMatch(
      /<error message="not verified: endpoint unreachable or misbehaving: connection refused by 127\.0\.0\.1:9/,
    );
  });

  it('maps 4 to 0 with --allow-unverified, and says so', () => {
    expect(allowed.code, describeRun(allowed)).toBe(0);
    expect(allowed.stdout).toMatch(
      /^Result: NOT VERIFIED, allowed \(exit 0 with --allow-unverified\)/m,
    );
  });
});
