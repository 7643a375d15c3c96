/**
 * The installable package, proven from a tarball: `npm pack` (prepack builds dist/), the tarball
 * installed into a temporary project OUTSIDE the repository, a descriptor written there, and
 * `npx token-conformance` run from that project: --version, --help, validate (good and every bad
 * descriptor), checks --json, init, run against the embedded reference (with and without the report)
 * and against a local HTTPS server (the fault server, trusted through tls.caFile). The outputs land
 * in the project's --out; the installed package's folder is unchanged file for file.
 *
 * Which Node runs the CLI: TC_NODE (default: the Node running this test). `.ci/run` runs this file
 * under Node 22 and 24 from the npm registry's `node` package (`npx -p node@22 -- vitest run …`).
 * TC_PACKAGE_TGZ: a tarball packed already (so one tarball serves every Node version);
 * TC_PACKAGE_QUICK=1 skips the one run that generates the report (the slow part) and runs `run`
 * on fewer of the bad descriptors.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { LIFETIME_SECONDS, startFaultServer, type FaultServer } from '../faults/fault-server.js';
import { childEnv, REPO_ROOT } from './run-cli.js';
import type { RunRecord } from '../../src/run-record.js';

const NODE = process.env['TC_NODE'] ?? process.execPath;
/** TC_PACKAGE_QUICK=1 (the extra Node versions in .ci/run): no report run, fewer bad descriptors through `run`. */
const QUICK = process.env['TC_PACKAGE_QUICK'] === '1';
const BAD_DIR = path.join(REPO_ROOT, 'test/descriptors/bad');
/** The variables the bad corpus's good parts read (test/descriptors/bad-descriptors.test.ts). */
const BAD_ENV = {
  TC_BAD_SECRET: 's3cret-value',
  TC_BAD_HTTP_URL: 'http://auth.example.test/oauth/token',
  TC_BAD_HOST: 'auth.example.test',
};

interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a command (async: the fault server answers in this process meanwhile). Never rejects on exit codes. */
function exec(
  command: string,
  args: string[],
  cwd: string,
  env: Record<string, string | undefined> = {},
  timeoutMs = 300_000,
): Promise<Result> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd,
      // TC_NODE's folder first: npx and the installed bin (#!/usr/bin/env node) both run on it.
      env: childEnv({
        // An outer `npx -p node@22 -- vitest …` leaves npm_config_package and friends in the
        // environment; an inner npx would read them and go looking for node@22 itself.
        ...Object.fromEntries(
          Object.keys(process.env)
            .filter((k) => /^npm_/i.test(k))
            .map((k) => [k, undefined]),
        ),
        PATH: `${path.dirname(NODE)}${path.delimiter}${process.env['PATH'] ?? ''}`,
        ...env,
      }),
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    const timer = setTimeout(() => {
      if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
    }, timeoutMs);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({
        code,
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
      });
    });
  });
}

const show = (r: Result): string =>
  `exit ${r.code}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`;

/** Every file under `dir`, with its size and modification time: the package folder's fingerprint. */
function snapshot(dir: string): string[] {
  const rows: string[] = [];
  const walk = (d: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else {
        const st = statSync(p);
        rows.push(`${path.relative(dir, p)} ${st.size} ${st.mtimeMs}`);
      }
    }
  };
  walk(dir);
  return rows.sort();
}

let work: string;
let project: string;
let pkgDir: string;
let before: string[];
let server: FaultServer | undefined;

/** `npx token-conformance <args>` in `cwd` (default: the project). */
const tc = (
  args: string[],
  env: Record<string, string | undefined> = {},
  cwd = project,
): Promise<Result> => exec('npx', ['--no-install', 'token-conformance', ...args], cwd, env);

/** The same binary without npx's start-up (for the many runs of the bad corpus). */
const bin = (args: string[], env: Record<string, string | undefined> = {}): Promise<Result> =>
  exec(NODE, [path.join(pkgDir, 'dist/src/cli/main.js'), ...args], project, env);

beforeAll(async () => {
  work = mkdtempSync(path.join(tmpdir(), 'tc-package-'));
  expect(path.relative(REPO_ROOT, work).startsWith('..')).toBe(true); // outside the repository
  let tgz = process.env['TC_PACKAGE_TGZ'];
  if (!tgz) {
    const pack = await exec('npm', ['pack', '--silent', '--pack-destination', work], REPO_ROOT);
    expect(pack.code, show(pack)).toBe(0);
    tgz = path.join(work, pack.stdout.trim().split('\n').pop()!);
  }
  project = path.join(work, 'project');
  await mkdir(project);
  await writeFile(
    path.join(project, 'package.json'),
    JSON.stringify({ name: 'user-project', private: true }),
  );
  const install = await exec(
    'npm',
    ['install', '--no-audit', '--no-fund', '--save-dev', path.resolve(tgz)],
    project,
  );
  expect(install.code, show(install)).toBe(0);
  pkgDir = path.join(project, 'node_modules/token-conformance');
  before = snapshot(pkgDir);
}, 600_000);

afterAll(async () => {
  await server?.close();
  if (work && process.env['TC_E2E_KEEP'] !== '1') rmSync(work, { recursive: true, force: true });
});

describe(`the packed CLI (node ${NODE})`, () => {
  it('installs compiled JavaScript only: a bin, no tsx, no TypeScript sources', () => {
    const pkg = JSON.parse(readFileSync(path.join(pkgDir, 'package.json'), 'utf8')) as {
      bin: Record<string, string>;
      dependencies: Record<string, string>;
      private?: boolean;
    };
    expect(pkg.private).toBeUndefined();
    expect(pkg.bin['token-conformance']).toBe('dist/src/cli/main.js');
    expect(Object.keys(pkg.dependencies)).not.toContain('tsx');
    expect(existsSync(path.join(project, 'node_modules/tsx'))).toBe(false);
    expect(before.filter((f) => /\.ts /.test(f) && !/\.d\.ts /.test(f))).toEqual([]);
    expect(before.some((f) => f.startsWith('dist/suites/grant.test.js '))).toBe(true);
    const schema = JSON.parse(
      readFileSync(path.join(pkgDir, 'schemas/provider.schema.json'), 'utf8'),
    ) as { $id: string };
    expect(schema.$id).toBe('https://token-conformance.dev/schemas/provider.schema.json');
  });

  it('--version and --help, on the binary and on every subcommand', async () => {
    const version = await tc(['--version']);
    expect(version.code, show(version)).toBe(0);
    const { version: expected } = JSON.parse(
      readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8'),
    ) as { version: string };
    expect(version.stdout.trim()).toBe(expected);
    const node = await exec(NODE, ['--version'], project);
    expect(version.stdout + node.stdout).toMatch(/^\S+\nv\d+\./);

    const help = await tc(['--help']);
    expect(help.code, show(help)).toBe(0);
    for (const command of ['run', 'validate', 'checks', 'init', 'compare', 'merge'])
      expect(help.stdout).toMatch(new RegExp(`^  ${command}\\b`, 'm'));
    // The README shows it as it is.
    expect(readFileSync(path.join(REPO_ROOT, 'README.md'), 'utf8')).toContain(help.stdout.trim());
    for (const command of ['run', 'validate', 'checks', 'init', 'compare', 'merge']) {
      const r = await tc([command, '--help']);
      expect(r.code, show(r)).toBe(0);
      expect(r.stdout).toContain(`usage: token-conformance ${command}`);
    }
    const unknown = await tc(['frobnicate']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('error: unknown command "frobnicate"');
  });

  it('validate: every bad descriptor of the corpus gives the same one line as run, exit 2; a good one exit 0', async () => {
    const bad = readdirSync(BAD_DIR).filter((f) => /\.(ya?ml|json)$/.test(f));
    expect(bad.length).toBeGreaterThanOrEqual(27);
    await mkdir(path.join(project, 'bad'), { recursive: true });
    const files: string[] = [];
    for (const f of bad) {
      // Copied beside the project with the corpus's relative files' absence intact.
      await writeFile(path.join(project, 'bad', f), readFileSync(path.join(BAD_DIR, f)));
      files.push(`bad/${f}`);
    }
    const all = await tc(['validate', ...files], BAD_ENV);
    expect(all.code, show(all)).toBe(2);
    const lines = all.stderr.trim().split('\n');
    expect(lines).toHaveLength(bad.length);
    for (const [i, f] of files.entries()) {
      const line = lines.find((l) => l.startsWith(`error: ${f}: `));
      expect(line, `${f}\n${all.stderr}`).toBeDefined();
      // `run` on a spread of them (each run starts the whole stack: seconds on a busy machine):
      // every fourth file and the ones whose error comes from resolving (env, key, CA files).
      if (i % (QUICK ? 12 : 4) !== 0 && !/^bad\/(json-syntax|missing-)/.test(f)) continue;
      // run gives the same line (and exit 2, before any request).
      const run = await bin(['run', '--no-report', '-p', f, '--out', 'bad-out'], BAD_ENV);
      expect(run.code, show(run)).toBe(2);
      expect(run.stderr.split('\n')[0]).toBe(line);
    }
    await writeFile(
      path.join(project, 'good.yaml'),
      readFileSync(path.join(REPO_ROOT, 'test/descriptors/good/minimal.yaml')),
    );
    const good = await tc(['validate', 'good.yaml'], BAD_ENV);
    expect(good.code, show(good)).toBe(0);
    expect(good.stdout).toBe('ok: good.yaml (bad-example)\n');
    const missing = await tc(['validate', 'good.yaml']); // its ${env:…} variables unset
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/^error: good\.yaml: .*environment variable not set/);
  });

  it('checks --json: the live catalogue, each with id, level, title and spec link', async () => {
    const r = await tc(['checks', '--json']);
    expect(r.code, show(r)).toBe(0);
    const rows = JSON.parse(r.stdout) as {
      id: string;
      level: string;
      title: string;
      spec: { url: string };
    }[];
    const { CHECKS } = await import('../../src/checks/index.js');
    expect(rows.map((c) => c.id).sort()).toEqual(CHECKS.map((c) => c.id).sort());
    for (const c of rows) {
      expect(c.title).not.toBe('');
      expect(c.level).not.toBe('');
      expect(c.spec.url).toMatch(/^https:\/\//);
    }
    const grant = await tc(['checks', '--area', 'grant', '--json']);
    const grantRows = JSON.parse(grant.stdout) as { area: string }[];
    expect(grantRows.length).toBeGreaterThan(0);
    expect(grantRows.every((c) => c.area === 'grant')).toBe(true);
    expect((await tc(['checks', '--area', 'nope'])).code).toBe(2);
  });

  it('init writes the example descriptor and the workflow, which validate; a second init refuses', async () => {
    // A folder of the project (npx finds the project's binary from there), empty so far.
    const dir = path.join(project, 'fresh');
    await mkdir(dir);
    const init = await tc(['init'], {}, dir);
    expect(init.code, show(init)).toBe(0);
    const example = readFileSync(path.join(dir, 'providers/example.yaml'), 'utf8');
    expect(example.split('\n')[0]).toBe(
      '# yaml-language-server: $schema=../node_modules/token-conformance/schemas/provider.schema.json',
    );
    const workflow = readFileSync(
      path.join(dir, '.github/workflows/token-conformance.yml'),
      'utf8',
    );
    expect(workflow).toContain('npx token-conformance run --shard');
    expect(workflow).toContain('npx token-conformance merge --out');
    expect(workflow).not.toContain('npm run');
    expect(workflow).toContain('EXAMPLE_CLIENT_SECRET: ${{ secrets.EXAMPLE_CLIENT_SECRET }}');
    expect(workflow).not.toContain('AKAMAI');
    expect(() => parse(workflow) as unknown).not.toThrow();

    const env = {
      EXAMPLE_TOKEN_URL: 'https://auth.example.test/token',
      EXAMPLE_CLIENT_ID: 'c',
      EXAMPLE_CLIENT_SECRET: 's',
    };
    const valid = await tc(['validate', path.join(dir, 'providers/example.yaml')], env);
    expect(valid.code, show(valid)).toBe(0);

    const again = await tc(['init'], {}, dir);
    expect(again.code).toBe(2);
    expect(again.stderr).toContain('already exist');
    expect(readFileSync(path.join(dir, 'providers/example.yaml'), 'utf8')).toBe(example);
  });

  it('run --no-report against the embedded reference: run.json, junit.xml and summary.md in --out', async () => {
    const r = await tc(['run', '-p', 'reference', '--no-report', '--out', 'out-reference']);
    expect(r.code, show(r)).toBe(0);
    const out = path.join(project, 'out-reference');
    const record = JSON.parse(readFileSync(path.join(out, '.run/run.json'), 'utf8')) as RunRecord;
    expect(record.providers.map((p) => p.provider.name)).toEqual(['reference']);
    expect(record.nodeVersion).toBe((await exec(NODE, ['--version'], project)).stdout.trim());
    expect(readFileSync(path.join(out, 'junit.xml'), 'utf8')).toContain('<testsuites');
    expect(existsSync(path.join(out, 'summary.md'))).toBe(true);
    expect(existsSync(path.join(out, 'html/index.html'))).toBe(false);
  });

  it('run against a local HTTPS server, with a descriptor and CA in the project', async () => {
    server = await startFaultServer();
    await mkdir(path.join(project, 'providers'), { recursive: true });
    await writeFile(path.join(project, 'providers/ca.pem'), server.caPem);
    await writeFile(
      path.join(project, 'providers/local.yaml'),
      [
        '# yaml-language-server: $schema=../node_modules/token-conformance/schemas/provider.schema.json',
        'name: local',
        'title: A local token endpoint',
        'tokenEndpoint: ${env:LOCAL_TOKEN_URL}',
        'clients:',
        `  - id: ${server.clients.basic.id}`,
        '    auth: { method: client_secret_basic, secret: "${env:LOCAL_CLIENT_SECRET}" }',
        'grant: { type: client_credentials }',
        'scopes: { request: "api:read", forbidden: "admin" }',
        `expect: { tokenType: Bearer, expiresIn: ${LIFETIME_SECONDS} }`,
        'limits: { maxExpiryWaitSeconds: 10, requestsPerSecond: 50 }',
        'tls: { caFile: ./ca.pem }',
        '',
      ].join('\n'),
    );
    const env = {
      LOCAL_TOKEN_URL: server.tokenUrl('ok'),
      LOCAL_CLIENT_SECRET: server.clients.basic.secret,
    };
    const valid = await tc(['validate', 'providers/local.yaml'], env);
    expect(valid.code, show(valid)).toBe(0);
    expect(valid.stdout).toBe('ok: providers/local.yaml (local)\n');
    const requestsBefore = server.requests.https;
    expect(requestsBefore).toBe(0); // validate sent nothing

    // No -p: ./providers/*.yaml (the project has them now), not the embedded reference.
    const r = await tc(['run', '--no-report', '--out', 'out-local'], env);
    expect([0, 1, 4], show(r)).toContain(r.code);
    expect(server.requests.https).toBeGreaterThan(0);
    const out = path.join(project, 'out-local');
    const record = JSON.parse(readFileSync(path.join(out, '.run/run.json'), 'utf8')) as RunRecord;
    expect(record.providers.map((p) => p.provider.name)).toEqual(['local']);
    const grant = record.providers[0]!.findings.find(
      (f) => f.checkId === 'grant.client-credentials',
    );
    expect(grant?.outcome, JSON.stringify(grant)).toBe('pass');
    const junit = readFileSync(path.join(out, 'junit.xml'), 'utf8');
    expect(junit).toContain('local');
    // The secret never reaches the outputs.
    expect(readFileSync(path.join(out, '.run/run.json'), 'utf8')).not.toContain(
      server.clients.basic.secret,
    );
    expect(junit).not.toContain(server.clients.basic.secret);
  });

  it.skipIf(QUICK)(
    'run with the report: the suites and the Allure configuration come from the package',
    async () => {
      const r = await tc(['run', '-p', 'reference', '--out', 'out-report']);
      expect(r.code, show(r)).toBe(0);
      const out = path.join(project, 'out-report');
      const html = readFileSync(path.join(out, 'html/index.html'), 'utf8');
      expect(html.length).toBeGreaterThan(10_000);
      expect(readdirSync(path.join(out, 'allure-results')).length).toBeGreaterThan(50);
      expect(readFileSync(path.join(out, '.run/vitest.log'), 'utf8')).toMatch(
        /Test Files\s+\d+ passed/,
      );
    },
  );

  it('nothing was written into the installed package, and nothing beside --out in the project', () => {
    expect(snapshot(pkgDir)).toEqual(before);
    expect(existsSync(path.join(project, 'reports'))).toBe(false);
    expect(existsSync(path.join(project, 'node_modules/.vite-temp'))).toBe(false);
  });
});
