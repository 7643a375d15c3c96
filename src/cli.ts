/**
 * npm run conformance [-- --provider <name|path> … --strict]
 *
 * describe (load, validate, resolve) → observe (probes, recorded and redacted) → judge (checks)
 * → report (vitest suites write Allure results → single-file HTML). Exit 0: no MUST or
 * EXPECTATION check failed; 1: one did; 2: usage or descriptor error (no request sent).
 */
import { parseArgs } from 'node:util';
import { readFileSync } from 'node:fs';
import { DescriptorError, knownProviders, locateDescriptor, readDescriptor, resolveProvider, type RawDescriptor } from './descriptor/load.js';
import type { Provider } from './descriptor/types.js';
import { CHECKS } from './checks/index.js';
import { evaluate, tally } from './evaluate.js';
import { observe } from './observe.js';
import { startReference, type ReferenceServer } from './reference/server.js';
import { STAND_IN_NAMES, startStandIns, trustStandIns, type StandIns } from './emulate/index.js';
import path from 'node:path';
import { generateReport, outputPaths } from './report/generate.js';
import { callerDir } from './caller-dir.js';
import { formatSummary } from './report/summary.js';
import { harnessVersion, publicProvider, writeRunRecord, type ProviderRun } from './run-record.js';

const USAGE = `usage: npm run conformance [-- --provider <name|path> ... --emulate --strict --no-report --out <dir>]
  --provider, -p  a provider name (a file in providers/) or a descriptor path; repeatable
                  (default: the embedded reference: reference, reference-jwt-bearer;
                  with --emulate: the five seed services)
  --emulate       run the seed services' descriptors against local stand-ins (src/emulate)
  --strict        SHOULD violations fail the run too
  --no-report     skip the Allure results and HTML report (summary and exit code only)
  --out           where results and the report go (default: reports/)`;

function usageError(message: string): never {
  process.stderr.write(`error: ${message}\n${USAGE}\n`);
  process.exit(2);
}

async function main(): Promise<number> {
  let args;
  try {
    args = parseArgs({
      options: {
        provider: { type: 'string', short: 'p', multiple: true },
        strict: { type: 'boolean', default: false },
        emulate: { type: 'boolean', default: false },
        'no-report': { type: 'boolean', default: false },
        out: { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
      allowPositionals: false,
    });
  } catch (e) {
    usageError((e as Error).message);
  }
  if (args.values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const strict = args.values.strict ?? false;
  // Default: every embedded descriptor (the reference server, one descriptor per grant).
  const emulate = args.values.emulate ?? false;
  const names = args.values.provider ?? (emulate ? STAND_IN_NAMES : null) ?? [...knownProviders().entries()].filter(([, file]) => /^embedded:\s*reference\s*$/m.test(readFileSync(file, 'utf8'))).map(([name]) => name);

  // 1. Describe: every descriptor is read and validated before any request is sent.
  let raws: RawDescriptor[];
  try {
    raws = names.map((n) => readDescriptor(locateDescriptor(n)));
  } catch (e) {
    if (e instanceof DescriptorError) {
      process.stderr.write(`error: ${e.message}\n`);
      return 2;
    }
    throw e;
  }
  const startedAt = new Date().toISOString();
  let reference: ReferenceServer | undefined;
  const env: NodeJS.ProcessEnv = { ...process.env };
  if (raws.some((r) => r.data['embedded'] === 'reference')) {
    reference = await startReference();
    Object.assign(env, reference.env);
  }
  // --emulate: the seed services' descriptors read the stand-ins' variables (and trust their CA).
  let standIns: StandIns | undefined;
  const emulated = (r: RawDescriptor): boolean => emulate && STAND_IN_NAMES.includes(String(r.data['name']));
  if (raws.some(emulated)) {
    standIns = await startStandIns();
    Object.assign(env, standIns.env);
  }
  try {
    let providers: Provider[];
    try {
      providers = raws.map((r) => {
        const p = resolveProvider(r, r.data['embedded'] === 'reference' || emulated(r) ? env : process.env);
        return standIns && emulated(r) ? trustStandIns(p, standIns.caFile) : p;
      });
    } catch (e) {
      if (e instanceof DescriptorError) {
        process.stderr.write(`error: ${e.message}\n`);
        return 2;
      }
      throw e;
    }
    // A deviation names checks; a typo there would silently declare nothing.
    for (const p of providers) {
      const i = p.deviations.findIndex((d) => d.checks.some((id) => !CHECKS.some((c) => c.id === id)));
      if (i >= 0) {
        const unknown = p.deviations[i]!.checks.find((id) => !CHECKS.some((c) => c.id === id));
        process.stderr.write(`error: ${path.relative(process.cwd(), p.file) || p.file}: deviations[${i}]: unknown check id ${unknown} (see docs/checks.md)\n`);
        return 2;
      }
    }
    const dupes = providers.map((p) => p.name).filter((n, i, all) => all.indexOf(n) !== i);
    if (dupes.length > 0) usageError(`provider ${dupes[0]} is selected twice`);

    // 2. Observe every provider at once; each one's traffic is its own session's business.
    for (const p of providers) {
      if (p.tls.insecureSkipVerify) process.stdout.write(`WARNING: ${p.name}: TLS certificate verification is OFF (tls.insecureSkipVerify); every result is marked INSECURE\n`);
    }
    process.stdout.write(`token-conformance ${harnessVersion()}: ${providers.map((p) => p.name).join(', ')}\n`);
    const runs: ProviderRun[] = await Promise.all(
      providers.map(async (p) => {
        const evidence = await observe(p, {
          onWait: (prov, seconds, why) => process.stdout.write(`${prov.name}: waiting ${seconds} s ${why}\n`),
        });
        return { provider: publicProvider(p), evidence, findings: evaluate(p, evidence, { strict }) };
      }),
    );
    await reference?.close();
    reference = undefined;
    await standIns?.close();
    standIns = undefined;

    // 3. Judge and report.
    const record = { harnessVersion: harnessVersion(), nodeVersion: process.version, strict, startedAt, finishedAt: new Date().toISOString(), providers: runs };
    const out = outputPaths(args.values.out ? path.resolve(callerDir(), args.values.out) : undefined);
    writeRunRecord(record, out.runFile);
    if (!args.values['no-report']) {
      const report = await generateReport(out);
      process.stdout.write(`${report.message}\n`);
    }
    process.stdout.write(formatSummary(record));
    const failed = runs.some((r) => tally(r.findings).failed > 0);
    return failed ? 1 : 0;
  } finally {
    await reference?.close();
    await standIns?.close();
  }
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    process.stderr.write(`harness error: ${(e as Error).stack ?? String(e)}\n`);
    process.exit(3);
  },
);
