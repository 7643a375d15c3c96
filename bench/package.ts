/**
 * npm run bench:package — the installed package: `npm pack`, installed into a temporary project
 * outside the repository as a user would (npm install <tgz>), then its size on disk and the CLI's
 * start-up time: `--version` (node <bin> and npx), `checks --json`, and `run --no-report -p reference`
 * (a whole run against the embedded reference: its ~6 s are mostly the reference's 5-second tokens
 * expiring), next to the repository's own `tsx src/cli.ts` for the same run. Medians of --repeat runs.
 * Rewrites the package section of docs/benchmarks.md (between its markers); no test asserts a time.
 *
 *   npm run bench:package [-- --repeat 5]
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const DOC = path.join(ROOT, 'docs/benchmarks.md');

export const PACKAGE_START =
  '<!-- package:start (bench/package.ts: rewritten by npm run bench:package) -->';
export const PACKAGE_END = '<!-- package:end -->';

/** The package section of a doc, markers included ('' when it has none): kept by npm run bench. */
export function packageBlockOf(doc: string): string {
  const start = doc.indexOf(PACKAGE_START);
  const end = doc.indexOf(PACKAGE_END);
  return start < 0 || end < start ? '' : `${doc.slice(start, end + PACKAGE_END.length)}\n`;
}

function sh(command: string, args: string[], cwd: string): { ms: number; stdout: string } {
  const t = process.hrtime.bigint();
  const r = spawnSync(command, args, {
    cwd,
    encoding: 'utf8',
    env: { ...process.env, NO_COLOR: '1' },
    maxBuffer: 64 * 2 ** 20,
  });
  const ms = Number(process.hrtime.bigint() - t) / 1e6;
  if (r.status !== 0)
    throw new Error(`${command} ${args.join(' ')} exited ${r.status}: ${r.stderr || r.stdout}`);
  return { ms, stdout: r.stdout };
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
};

/** Disk usage in KiB (du -sk) and apparent size in bytes (du -sb). */
function du(dir: string): { kib: number; bytes: number } {
  const kib = Number(sh('du', ['-sk', dir], ROOT).stdout.split('\t')[0]);
  const bytes = Number(sh('du', ['-sb', dir], ROOT).stdout.split('\t')[0]);
  return { kib, bytes };
}

const mib = (kib: number): string => (kib / 1024).toFixed(1);
const sec = (ms: number): string => (ms / 1000).toFixed(2);

function main(): void {
  const { values } = parseArgs({ options: { repeat: { type: 'string', default: '5' } } });
  const repeat = Math.max(1, Number(values.repeat));
  const loadAtStart = os.loadavg()[0]!;
  const work = mkdtempSync(path.join(os.tmpdir(), 'tc-bench-package-'));
  try {
    process.stdout.write('packing…\n');
    const pack = sh('npm', ['pack', '--silent', '--pack-destination', work], ROOT);
    const tgz = path.join(work, pack.stdout.trim().split('\n').pop()!);
    const tgzKib = du(tgz).bytes / 1024;
    const project = path.join(work, 'project');
    sh('mkdir', [project], work);
    writeFileSync(path.join(project, 'package.json'), '{"name":"bench","private":true}\n');
    process.stdout.write('installing…\n');
    const install = sh('npm', ['install', '--no-audit', '--no-fund', '--save-dev', tgz], project);
    const nm = path.join(project, 'node_modules');
    const all = du(nm);
    const own = du(path.join(nm, 'token-conformance'));
    const absent = ['tsx', 'esbuild', 'typescript'].filter((d) => !existsSync(path.join(nm, d)));
    const packages = readdirSync(nm)
      .filter((d) => !d.startsWith('.'))
      .flatMap((d) => (d.startsWith('@') ? readdirSync(path.join(nm, d)) : [d])).length;
    const biggest = readdirSync(nm)
      .filter((d) => !d.startsWith('.'))
      .flatMap((d) =>
        d.startsWith('@') ? readdirSync(path.join(nm, d)).map((s) => `${d}/${s}`) : [d],
      )
      .map((d) => ({ name: d, kib: du(path.join(nm, d)).kib }))
      .sort((a, b) => b.kib - a.kib)
      .slice(0, 6);

    const bin = path.join(nm, 'token-conformance/dist/src/cli/main.js');
    const time = (label: string, command: string, args: string[], cwd = project): number => {
      sh(command, args, cwd); // warm the file cache
      const ms = median(Array.from({ length: repeat }, () => sh(command, args, cwd).ms));
      process.stdout.write(`${label}: ${sec(ms)} s\n`);
      return ms;
    };
    const version = time('node <bin> --version', process.execPath, [bin, '--version']);
    const npxVersion = time('npx token-conformance --version', 'npx', [
      '--no-install',
      'token-conformance',
      '--version',
    ]);
    const checks = time('node <bin> checks --json', process.execPath, [bin, 'checks', '--json']);
    const runs = Math.min(repeat, 3);
    const runOne = (command: string, args: string[], cwd: string): number =>
      median(Array.from({ length: runs }, () => sh(command, args, cwd).ms));
    const out = path.join(work, 'out');
    const run = runOne(
      process.execPath,
      [bin, 'run', '--no-report', '-p', 'reference', '--out', out],
      project,
    );
    process.stdout.write(`node <bin> run --no-report -p reference: ${sec(run)} s\n`);
    const tsxRun = runOne(
      process.execPath,
      [
        path.join(ROOT, 'node_modules/tsx/dist/cli.mjs'),
        'src/cli.ts',
        '--no-report',
        '-p',
        'reference',
        '--out',
        out,
      ],
      ROOT,
    );
    process.stdout.write(
      `tsx src/cli.ts --no-report -p reference (repository): ${sec(tsxRun)} s\n`,
    );

    const cpus = os.cpus();
    const section = `## The installed package (issue 13)

Measured by \`npm run bench:package\` (bench/package.ts) on ${new Date().toISOString().slice(0, 10)}:
Node ${process.version}, ${cpus.length} × ${cpus[0]?.model.trim() ?? 'CPU'}, 1-minute load average
${loadAtStart.toFixed(1)} at the start and ${os.loadavg()[0]!.toFixed(1)} at the end (other work shares the
machine: on a busy machine every time here is several times longer). \`npm pack\`, then \`npm install
<tgz>\` into an empty project outside the repository, as a user installs it. Times are medians of
${repeat} runs (the two \`run\` rows: of ${runs}), after one warm-up.

| | |
| --- | --- |
| tarball | ${tgzKib.toFixed(0)} KiB |
| the package itself (node_modules/token-conformance) | ${mib(own.kib)} MiB on disk (${(own.bytes / 1024).toFixed(0)} KiB of files) |
| the project's node_modules after \`npm install\` | ${mib(all.kib)} MiB on disk, ${packages} packages${absent.length ? ` (not among them: ${absent.join(', ')})` : ''} |
| largest dependencies | ${biggest.map((b) => `${b.name} ${mib(b.kib)} MiB`).join(', ')} |
| \`npm install <tgz>\` (registry reachable, npm cache warm) | ${sec(install.ms)} s |
| \`node <bin> --version\` | ${sec(version)} s |
| \`npx token-conformance --version\` (npx's own start-up included) | ${sec(npxVersion)} s |
| \`node <bin> checks --json\` (loads the check registry) | ${sec(checks)} s |
| \`node <bin> run --no-report -p reference\` (a whole run: starts the embedded reference, sends every probe, waits out its 5-second tokens) | ${sec(run)} s |
| the same run from the repository, \`tsx src/cli.ts\` (compiles TypeScript at start-up) | ${sec(tsxRun)} s |

The binary imports each command's modules only when that command runs: \`--version\`, \`--help\`,
\`checks\` and \`validate\` never load the HTTP stack, oidc-provider or vitest. Most of the installed
size is the report's toolchain (allure, vitest with vite/rolldown) and oidc-provider (the embedded reference).
`;
    const old = existsSync(DOC) ? readFileSync(DOC, 'utf8') : '# Benchmarks\n';
    const block = `${PACKAGE_START}\n${section.trim()}\n${PACKAGE_END}\n`;
    const start = old.indexOf(PACKAGE_START);
    const end = old.indexOf(PACKAGE_END);
    writeFileSync(
      DOC,
      start < 0 || end < start
        ? `${old.trimEnd()}\n\n${block}`
        : `${old.slice(0, start)}${block}${old.slice(end + PACKAGE_END.length).replace(/^\n/, '')}`,
    );
    process.stdout.write(`wrote the package section of ${path.relative(ROOT, DOC)}\n`);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) main();
