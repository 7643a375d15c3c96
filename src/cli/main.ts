#!/usr/bin/env node
/**
 * token-conformance: the installed package's one binary (package.json `bin`, compiled to
 * dist/src/cli/main.js). Subcommands: run, validate, checks, init, compare, merge.
 *
 * Every path the user gives (descriptors, keys, --out, --history) is taken from the working
 * directory; the suites, the Allure configuration, the schemas and the embedded descriptors from the
 * package itself (src/package-root.ts). The user's directory gets only what --out names.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
// Only what every command needs is imported here; each command loads its own modules when it runs,
// so `--version`, `--help`, `checks` and `validate` start without the HTTP and reference stacks.
import { AREA_TITLES, type Area, type CheckDef } from '../checks/types.js';
import type { RawDescriptor } from '../descriptor/load.js';
import { exitOnHarnessError } from '../harness-error.js';
import { PACKAGE_ROOT } from '../package-root.js';
import { inert } from '../text/inert.js';

const version = (): string =>
  (JSON.parse(readFileSync(path.join(PACKAGE_ROOT, 'package.json'), 'utf8')) as { version: string })
    .version;

const BIN = 'token-conformance';

const HELP = `usage: ${BIN} <command> [options]

commands:
  run [-p <descriptor|name|glob>]... [options]
                          observe the providers, judge them, write run.json, junit.xml, summary.md
                          and the report under --out (default ./reports); with no -p:
                          ./providers/*.yaml if that folder exists, else the embedded reference
  validate <descriptor|glob>...
                          check descriptors (schema, \${env:…} references, key files, certificates,
                          deviations) without sending a request; exit 0 valid, 2 not
  checks [--area <area>] [--json]
                          the checks catalogue: id, level, title, spec link
  init                    write providers/example.yaml and .github/workflows/token-conformance.yml
                          (never overwrites a file)
  compare --baseline <provider|run.json> --candidate <provider|run.json> [options]
                          the differences that matter between two servers or two runs
  merge --out <dir> <shard-out-dir>...
                          join the --shard runs into one run record, junit.xml, summary.md and report

  ${BIN} <command> --help   the command's options
  ${BIN} --version          the version

exit: 0 conformant / valid, 1 a MUST or EXPECTATION check failed, 2 usage or descriptor error,
      3 a bug of the harness, 4 not verified (nothing failed, but some checks could not judge)`;

const runUsage = (
  RUN_OPTIONS: string,
): string => `usage: ${BIN} run [-p <descriptor|name|glob>]... [--emulate --strict --no-report --out <dir>
                         --shard <k/n> --history <file> --concurrency <n> --allow-unverified]
${RUN_OPTIONS.replace(
  /--provider, -p {6}a provider name \(a file in providers\/\) or a descriptor path; repeatable\n {22}\(default: the embedded reference: reference, reference-jwt-bearer;/,
  `--provider, -p      a descriptor path, a glob (quoted: 'providers/*.yaml'), or a name (a file in
                      ./providers/, or the embedded reference, reference-jwt-bearer); repeatable
                      (default: ./providers/*.yaml, else the embedded reference;`,
)
  .replace('(default: reports/)', '(default: ./reports)')
  .replace('merge with npm run merge', `join with ${BIN} merge`)}`;

const VALIDATE_USAGE = `usage: ${BIN} validate <descriptor|name|glob>...
  Reads each descriptor as \`run\` does — the schema, every \${env:NAME} reference (from this
  environment), key files, certificates, CA files and declared deviations — and sends no request.
  Prints one line per descriptor: "ok: <file> (<name>)" or the same one-line error \`run\` gives.
exit: 0 every descriptor is valid, 2 one is not (or a usage error)`;

const CHECKS_USAGE = `usage: ${BIN} checks [--area <area>] [--json]
  --area   one area: ${Object.keys(AREA_TITLES).join(', ')}
  --json   a JSON array of {id, area, areaTitle, level, title, spec: {label, url}}`;

const INIT_USAGE = `usage: ${BIN} init
  Writes providers/example.yaml (a commented descriptor whose $schema line points at
  node_modules/${BIN}/schemas/provider.schema.json) and .github/workflows/token-conformance.yml
  (a nightly workflow running \`npx ${BIN} run\` in shards and \`npx ${BIN} merge\`).
  Refuses, and writes nothing, when either file exists. exit: 0 written, 2 a file exists`;

function usageError(message: string, usage: string): number {
  process.stderr.write(`error: ${inert(message, { max: 500 })}\n${usage}\n`);
  return 2;
}

/** Files a glob names: wildcards (* and ?) in the last path segment only, taken from the cwd. */
function expandGlob(load: Load, pattern: string): string[] {
  const dir = path.resolve(path.dirname(pattern));
  const base = path.basename(pattern);
  if (/[*?]/.test(path.dirname(pattern)))
    throw new load.DescriptorError('--provider', pattern, 'wildcards only in the file name');
  const re = new RegExp(
    `^${base
      .replace(/[.+^${}()|[\]\\]/g, '\\$&')
      .replace(/\*/g, '[^/]*')
      .replace(/\?/g, '[^/]')}$`,
  );
  const files = existsSync(dir)
    ? readdirSync(dir)
        .filter((f) => re.test(f) && /\.(ya?ml|json)$/.test(f))
        .sort()
        .map((f) => path.join(dir, f))
    : [];
  if (files.length === 0)
    throw new load.DescriptorError('--provider', pattern, 'no descriptor file matches');
  return files;
}

const userProvidersDir = (): string => path.resolve('providers');

type Load = typeof import('../descriptor/load.js');
const loadModule = (): Promise<Load> => import('../descriptor/load.js');

/** A path, a glob, or a name: ./providers/<name>.yaml first, then the package's (the embedded reference). */
function locate(load: Load, nameOrPath: string): string[] {
  const { DescriptorError, knownProviders, locateDescriptor } = load;
  if (/[*?]/.test(nameOrPath)) return expandGlob(load, nameOrPath);
  if (/[/\\]|\.(ya?ml|json)$/.test(nameOrPath)) return [locateDescriptor(nameOrPath)];
  const user = knownProviders(userProvidersDir());
  const packaged = knownProviders();
  const file = user.get(nameOrPath) ?? packaged.get(nameOrPath);
  if (file) return [file];
  const known = [...new Set([...user.keys(), ...packaged.keys()])];
  throw new DescriptorError(
    '--provider',
    nameOrPath,
    `unknown provider (known: ${known.join(', ') || 'none'}; or give a path to a descriptor file)`,
  );
}

/** With no -p: every descriptor in ./providers/, else the embedded reference. */
function defaultSelection(load: Load, embeddedNames: () => string[]): string[] {
  const user = [...load.knownProviders(userProvidersDir()).values()];
  return user.length > 0 ? user : embeddedNames();
}

async function validate(argv: string[]): Promise<number> {
  let args;
  try {
    args = parseArgs({
      args: argv,
      options: { help: { type: 'boolean', short: 'h', default: false } },
      allowPositionals: true,
    });
  } catch (e) {
    return usageError((e as Error).message, VALIDATE_USAGE);
  }
  if (args.values.help) {
    process.stdout.write(`${VALIDATE_USAGE}\n`);
    return 0;
  }
  if (args.positionals.length === 0) return usageError('no descriptor given', VALIDATE_USAGE);
  const load = await loadModule();
  const { DescriptorError, readDescriptor, resolveProvider } = load;
  const { unknownDeviation } = await import('./deviations.js');
  let bad = 0;
  for (const arg of args.positionals) {
    let files: string[];
    try {
      files = locate(load, arg);
    } catch (e) {
      if (!(e instanceof DescriptorError)) throw e;
      process.stderr.write(`error: ${e.message}\n`);
      bad++;
      continue;
    }
    for (const file of files) {
      try {
        const raw: RawDescriptor = readDescriptor(file);
        let note = '';
        if (raw.data['embedded'] === 'reference') {
          // Its ${env:…} values come from the reference server a run starts.
          note = ', embedded reference: references resolved at run time';
        } else {
          const problem = unknownDeviation([resolveProvider(raw, process.env)]);
          if (problem) {
            process.stderr.write(`error: ${problem}\n`);
            bad++;
            continue;
          }
        }
        process.stdout.write(`ok: ${raw.shownFile} (${String(raw.data['name'])}${note})\n`);
      } catch (e) {
        if (!(e instanceof DescriptorError)) throw e;
        process.stderr.write(`error: ${e.message}\n`);
        bad++;
      }
    }
  }
  return bad > 0 ? 2 : 0;
}

function levelText(c: CheckDef): string {
  return typeof c.level === 'string' ? c.level : (c.levelLabel ?? 'depends on the descriptor');
}

async function checks(argv: string[]): Promise<number> {
  let args;
  try {
    args = parseArgs({
      args: argv,
      options: {
        area: { type: 'string' },
        json: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
      allowPositionals: false,
    });
  } catch (e) {
    return usageError((e as Error).message, CHECKS_USAGE);
  }
  if (args.values.help) {
    process.stdout.write(`${CHECKS_USAGE}\n`);
    return 0;
  }
  const area = args.values.area;
  if (area !== undefined && !(area in AREA_TITLES))
    return usageError(
      `--area: unknown area ${JSON.stringify(area)} (one of ${Object.keys(AREA_TITLES).join(', ')})`,
      CHECKS_USAGE,
    );
  // The live registry, in the catalogue's order (by area): a new check appears here by itself.
  const { CHECKS } = await import('../checks/index.js');
  const list = (Object.keys(AREA_TITLES) as Area[])
    .filter((a) => area === undefined || a === area)
    .flatMap((a) => CHECKS.filter((c) => c.area === a));
  if (args.values.json) {
    const rows = list.map((c) => ({
      id: c.id,
      area: c.area,
      areaTitle: AREA_TITLES[c.area],
      level: levelText(c),
      title: c.title,
      spec: { label: c.spec.label, url: c.spec.url },
    }));
    process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
    return 0;
  }
  let current: Area | undefined;
  for (const c of list) {
    if (c.area !== current) {
      current = c.area;
      process.stdout.write(`${current === list[0]?.area ? '' : '\n'}${AREA_TITLES[c.area]}\n`);
    }
    process.stdout.write(`  ${c.id}  [${levelText(c)}]  ${c.title}\n      ${c.spec.url}\n`);
  }
  process.stdout.write(`\n${list.length} checks\n`);
  return 0;
}

const EXAMPLE_DESCRIPTOR = `# yaml-language-server: $schema=../node_modules/${BIN}/schemas/provider.schema.json
# One token endpoint and what its owners promise. Check it with:
#   npx ${BIN} validate providers/example.yaml
# and run it with:
#   npx ${BIN} run -p providers/example.yaml
# Secrets are \${env:NAME} references, never literals. Every field: the schema above (your editor
# completes and checks it) and the package's README.
name: example                          # used by --provider and as the history key
title: Example sandbox (client credentials)
tokenEndpoint: \${env:EXAMPLE_TOKEN_URL} # an absolute https URL, or an \${env:NAME} reference
clients:                               # the first one is the primary client used by most probes
  - id: \${env:EXAMPLE_CLIENT_ID}
    auth: { method: client_secret_basic, secret: "\${env:EXAMPLE_CLIENT_SECRET}" }
grant: { type: client_credentials }
scopes:
  request: "read"                      # a scope the client may have
  forbidden: "admin"                   # a scope the client may not have
expect:                                # the owners' promises: each is an EXPECTATION check
  tokenType: Bearer
  expiresIn: 3600
  refreshToken: absent
# resource:                            # optional: where to try the token (RFC 6750)
#   url: "\${env:EXAMPLE_API_URL}"
# issuer: \${env:EXAMPLE_ISSUER}        # optional: discovery metadata and the JWK Set are checked
# tls: { caFile: ./example-ca.pem }    # an extra CA, relative to this file
limits: { timeoutMs: 10000, maxRequests: 40, requestsPerSecond: 2 }
`;

/** The nightly workflow of docs/ci/github-actions.yml, run through the installed binary. */
function workflow(): string {
  const source = readFileSync(path.join(PACKAGE_ROOT, 'docs/ci/github-actions.yml'), 'utf8');
  return (
    source
      .replace(
        /^# token-conformance, nightly, against your providers: copy to \.github\/workflows\/token-conformance\.yml\.\n/m,
        `# token-conformance, nightly, against your providers/*.yaml (written by \`npx ${BIN} init\`).\n` +
          `# Needs ${BIN} as a dev dependency (npm install --save-dev ${BIN}) and a package-lock.json.\n`,
      )
      // The example descriptor's variables instead of the seed services'.
      .replace(
        /^( +)[A-Z_]+: \$\{\{ secrets\.[A-Z_]+ \}\}\n(?:\1[A-Z_]+: \$\{\{ secrets\.[A-Z_]+ \}\}\n)*/m,
        (_, indent: string) =>
          ['EXAMPLE_TOKEN_URL', 'EXAMPLE_CLIENT_ID', 'EXAMPLE_CLIENT_SECRET']
            .map((v) => `${indent}${v}: \${{ secrets.${v} }}\n`)
            .join(''),
      )
      .replaceAll('npm run conformance -- ', `npx ${BIN} run `)
      .replaceAll('npm run merge -- ', `npx ${BIN} merge `)
  );
}

function init(argv: string[]): number {
  let args;
  try {
    args = parseArgs({
      args: argv,
      options: { help: { type: 'boolean', short: 'h', default: false } },
      allowPositionals: false,
    });
  } catch (e) {
    return usageError((e as Error).message, INIT_USAGE);
  }
  if (args.values.help) {
    process.stdout.write(`${INIT_USAGE}\n`);
    return 0;
  }
  const files: [string, string][] = [
    ['providers/example.yaml', EXAMPLE_DESCRIPTOR],
    ['.github/workflows/token-conformance.yml', workflow()],
  ];
  const existing = files.filter(([f]) => existsSync(path.resolve(f))).map(([f]) => f);
  if (existing.length > 0) {
    process.stderr.write(
      `error: ${existing.join(', ')} already exist${existing.length === 1 ? 's' : ''}; nothing written (init never overwrites)\n`,
    );
    return 2;
  }
  for (const [file, text] of files) {
    mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
    writeFileSync(path.resolve(file), text, { flag: 'wx' });
    process.stdout.write(`wrote ${file}\n`);
  }
  process.stdout.write(
    `next: set EXAMPLE_TOKEN_URL, EXAMPLE_CLIENT_ID and EXAMPLE_CLIENT_SECRET, then\n` +
      `  npx ${BIN} validate providers/example.yaml && npx ${BIN} run\n`,
  );
  return 0;
}

/** compare and merge are their own modules (they parse process.argv when imported). */
async function delegate(module: 'compare' | 'merge', argv: string[]): Promise<number> {
  process.env['TC_COMMAND_NAME'] = `${BIN} ${module}`;
  const hasOut = argv.some((a) => a === '--out' || a.startsWith('--out='));
  // compare writes to ./reports by default, never into the package.
  const args = module === 'compare' && !hasOut ? [...argv, '--out', path.resolve('reports')] : argv;
  process.argv = [process.argv[0]!, `${BIN}-${module}`, ...args];
  await import(module === 'compare' ? '../compare/cli.js' : '../run/merge.js');
  return new Promise<number>(() => {}); // the module exits the process itself
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case undefined:
    case '--help':
    case '-h':
    case 'help':
      process.stdout.write(`${HELP}\n`);
      return command === undefined ? 2 : 0;
    case '--version':
    case '-v':
      process.stdout.write(`${version()}\n`);
      return 0;
    case 'run': {
      const [load, run] = await Promise.all([loadModule(), import('./run.js')]);
      return run.runConformance({
        usage: runUsage(run.RUN_OPTIONS),
        argv: rest,
        cwd: process.cwd(),
        defaultOut: path.resolve('reports'),
        locate: (n) => locate(load, n),
        defaultSelection: () => defaultSelection(load, run.embeddedNames),
      });
    }
    case 'validate':
      return validate(rest);
    case 'checks':
      return checks(rest);
    case 'init':
      return init(rest);
    case 'compare':
    case 'merge':
      return delegate(command, rest);
    default:
      return usageError(`unknown command ${JSON.stringify(command)}`, HELP);
  }
}

// A harness bug anywhere is one line and exit 3; the stack goes to a log file.
process.on('uncaughtException', exitOnHarnessError).on('unhandledRejection', exitOnHarnessError);
main(process.argv.slice(2)).then((code) => process.exit(code), exitOnHarnessError);
