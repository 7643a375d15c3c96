/**
 * A conformance run, shared by `npm run conformance` (src/cli.ts) and the installed binary's
 * `token-conformance run` (src/cli/main.ts): they differ only in where paths are taken from.
 *
 * describe (load, validate, resolve) → observe (probes, recorded and redacted) → judge (checks)
 * → report (vitest suites write Allure results → single-file HTML). Exit 0: no MUST or
 * EXPECTATION check failed; 1: one did; 2: usage or descriptor error (no request sent).
 */
import { parseArgs } from 'node:util';
import { chromiumInstalled, chromiumPath } from '../login/chromium.js';
import { readFileSync } from 'node:fs';
import {
  DescriptorError,
  knownProviders,
  locateDescriptor,
  readDescriptor,
  resolveProvider,
  type RawDescriptor,
} from '../descriptor/load.js';
import type { Provider } from '../descriptor/types.js';
import { evaluate } from '../evaluate.js';
import { observe } from '../observe.js';
import { startReference, type ReferenceServer } from '../reference/server.js';
import { STAND_IN_NAMES, startStandIns, trustStandIns, type StandIns } from '../emulate/index.js';
import path from 'node:path';
import { outputPaths } from '../report/generate.js';
import {
  harnessVersion,
  publicProvider,
  RUN_RECORD_VERSION,
  type ProviderRun,
  type RunRecord,
} from '../run-record.js';
import { finishRun } from '../run/finish.js';
import { inShard, parseShard, pooled } from '../run/shard.js';
import { checkPaths, outputEntries } from './paths.js';
import { unknownDeviation } from './deviations.js';
import { contain } from '../contain.js';
import { logHarnessErrorsIn } from '../harness-error.js';
import { inert } from '../text/inert.js';
import { compareSince, sinceFlag } from '../compare/since.js';
import { replayableProvider } from '../replay.js';
import { replayRun } from '../replay-run.js';

/** The options of a run, shared by `npm run conformance` and `token-conformance run`. */
export const RUN_OPTIONS = `  --provider, -p      a provider name (a file in providers/) or a descriptor path; repeatable
                      (default: the embedded reference: reference, reference-jwt-bearer,
                       reference-authorization-code;
                      with --emulate: the five seed services)
  --emulate           run the seed services' descriptors against local stand-ins (src/emulate)
  --strict            SHOULD violations fail the run too
  --no-report         skip the Allure results and HTML report (summary, junit.xml, summary.md, exit code)
  --out               where run.json, junit.xml, summary.md, the results and the report go (default: reports/)
  --shard k/n         run only the k-th of n shares of the providers (stable by name); merge with npm run merge
  --history <file>    the run history to compare with and append to (default: <out>/history/runs.jsonl)
  --concurrency <n>   providers observed at once (default 8; each provider's own requests stay sequential)
  --allow-unverified  exit 0 instead of 4 when nothing failed but some checks could not judge
exit: 0 conformant, 1 a MUST/EXPECTATION check failed, 2 usage or descriptor error, 3 a bug of the harness,
      4 not verified (an outage, a rate limit or a client that got no token; nothing failed)
  --since <run.json>  also compare with a previous run: what changed, per provider (compare.md, compare.json)
  --replay <run.json> judge a recorded run with today's checks; no request is sent`;

/** How the command that runs was called: `npm run conformance` or the installed `token-conformance run`. */
export interface RunContext {
  /** The usage text (first lines and RUN_OPTIONS). */
  usage: string;
  /** The command line after the command's name. */
  argv: string[];
  /** Where a relative --out and --history are taken from. */
  cwd: string;
  /** --out when none is given (undefined: the repository's reports/). */
  defaultOut?: string;
  /** The descriptor files one --provider value names (a name, a path or a glob). */
  locate: (nameOrPath: string) => string[];
  /** What runs without --provider (and without --emulate). */
  defaultSelection: () => string[];
}

/** The descriptors as the run reads them: validated, ${env:…} unresolved; a DescriptorError names the first bad one. */
export function readSelected(names: string[], locate: RunContext['locate']): RawDescriptor[] {
  return names.flatMap((n) => locate(n)).map((file) => readDescriptor(file));
}

/** The names of the embedded descriptors (the reference server, one descriptor per grant). */
export function embeddedNames(): string[] {
  const embedded = [...knownProviders().entries()].filter(([, file]) =>
    /^embedded:\s*reference\s*$/m.test(readFileSync(file, 'utf8')),
  );
  // The authorization-code descriptor needs a browser for its logins. Without one the default run
  // leaves it out, loudly (named on -p it runs, and its code probes are not verified: exit 4).
  if (chromiumInstalled()) return embedded.map(([name]) => name);
  const needsBrowser = ([, file]: [string, string]) =>
    /\btype:\s*authorization_code\b/.test(readFileSync(file, 'utf8'));
  for (const [name] of embedded.filter(needsBrowser))
    process.stdout.write(
      `WARNING: ${name} left out of the default run: its logins need chromium at ${chromiumPath()} (apt-get install chromium, or set TC_CHROMIUM)\n`,
    );
  return embedded.filter((e) => !needsBrowser(e)).map(([name]) => name);
}

/** One run: describe, observe, judge, report. Resolves to the exit code. */
export async function runConformance(ctx: RunContext): Promise<number> {
  const USAGE = ctx.usage;
  function usageError(message: string): never {
    process.stderr.write(`error: ${inert(message, { max: 500 })}\n${USAGE}\n`);
    process.exit(2);
  }
  let args;
  try {
    args = parseArgs({
      options: {
        provider: { type: 'string', short: 'p', multiple: true },
        strict: { type: 'boolean', default: false },
        emulate: { type: 'boolean', default: false },
        'no-report': { type: 'boolean', default: false },
        out: { type: 'string' },
        shard: { type: 'string' },
        history: { type: 'string' },
        concurrency: { type: 'string' },
        'allow-unverified': { type: 'boolean', default: false },
        since: { type: 'string' },
        replay: { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
      args: ctx.argv,
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
  const shard = args.values.shard === undefined ? undefined : parseShard(args.values.shard);
  if (typeof shard === 'string') usageError(shard);
  const concurrency = args.values.concurrency === undefined ? 8 : Number(args.values.concurrency);
  if (!Number.isInteger(concurrency) || concurrency < 1)
    usageError(
      `--concurrency: ${JSON.stringify(args.values.concurrency)} is not a positive integer`,
    );
  // Every path the run writes is checked (and its directories made) before anything else happens.
  const out = outputPaths(
    args.values.out ? path.resolve(ctx.cwd, args.values.out) : ctx.defaultOut,
    args.values.history ? path.resolve(ctx.cwd, args.values.history) : undefined,
  );
  const pathProblem = checkPaths(
    outputEntries(out, '--out', args.values.history ? '--history' : undefined),
  );
  if (pathProblem) {
    process.stderr.write(`error: ${pathProblem}\n`);
    return 2;
  }
  logHarnessErrorsIn(path.dirname(out.runFile));
  if (args.values.replay !== undefined)
    return replayRun(args.values.replay, {
      strict,
      report: !args.values['no-report'],
      ...(args.values.out
        ? { out: ctx.defaultOut ? path.resolve(ctx.cwd, args.values.out) : args.values.out }
        : ctx.defaultOut
          ? { out: ctx.defaultOut }
          : {}),
      ...(args.values.since ? { since: args.values.since } : {}),
    });
  const since = sinceFlag(args.values.since);
  // Default: every embedded descriptor (the reference server, one descriptor per grant).
  const emulate = args.values.emulate ?? false;
  const names = args.values.provider ?? (emulate ? STAND_IN_NAMES : null) ?? ctx.defaultSelection();

  // 1. Describe: every descriptor is read and validated before any request is sent.
  let raws: RawDescriptor[];
  try {
    raws = readSelected(
      names,
      emulate && !args.values.provider ? (n) => [locateDescriptor(n)] : ctx.locate,
    );
  } catch (e) {
    if (e instanceof DescriptorError) {
      process.stderr.write(`error: ${e.message}\n`);
      return 2;
    }
    throw e;
  }
  if (shard) {
    // A shard keeps the providers whose descriptor name hashes to it.
    const all = raws.length;
    raws = raws.filter((r) => inShard(String(r.data['name']), shard));
    process.stdout.write(
      `shard ${shard.index}/${shard.total}: ${raws.length} of ${all} providers${raws.length ? `: ${raws.map((r) => String(r.data['name'])).join(', ')}` : ''}\n`,
    );
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
  const emulated = (r: RawDescriptor): boolean =>
    emulate && STAND_IN_NAMES.includes(String(r.data['name']));
  if (raws.some(emulated)) {
    standIns = await startStandIns();
    Object.assign(env, standIns.env);
  }
  try {
    let providers: Provider[];
    try {
      providers = raws.map((r) => {
        const p = resolveProvider(
          r,
          r.data['embedded'] === 'reference' || emulated(r) ? env : process.env,
        );
        return standIns && emulated(r) ? trustStandIns(p, standIns.caFile) : p;
      });
    } catch (e) {
      if (e instanceof DescriptorError) {
        process.stderr.write(`error: ${e.message}\n`);
        return 2;
      }
      throw e;
    }
    const deviationProblem = unknownDeviation(providers);
    if (deviationProblem) {
      process.stderr.write(`error: ${deviationProblem}\n`);
      return 2;
    }
    const dupes = providers.map((p) => p.name).filter((n, i, all) => all.indexOf(n) !== i);
    if (dupes.length > 0) usageError(`provider ${dupes[0]} is selected twice`);

    // 2. Observe every provider at once; each one's traffic is its own session's business.
    for (const p of providers) {
      if (p.tls.insecureSkipVerify)
        process.stdout.write(
          `WARNING: ${p.name}: TLS certificate verification is OFF (tls.insecureSkipVerify); every result is marked INSECURE\n`,
        );
      if (p.insecureHttp)
        process.stdout.write(
          `WARNING: ${p.name}: plain HTTP without TLS on loopback (allowInsecureHttp: loopback) for ${p.insecureHttp.join(', ')}; every result is marked INSECURE\n`,
        );
    }
    process.stdout.write(
      `token-conformance ${harnessVersion()}: ${providers.map((p) => p.name).join(', ')}\n`,
    );
    // A login step that does not match (authorization.login) is a descriptor error: one line, exit 2.
    const runs: ProviderRun[] | undefined = await pooled(
      concurrency,
      providers.map(
        (p) => () =>
          contain(p, async () => {
            const evidence = await observe(p, {
              onWait: (prov, seconds, why) =>
                process.stdout.write(`${prov.name}: waiting ${seconds} s ${why}\n`),
            });
            return {
              provider: publicProvider(p),
              evidence,
              findings: evaluate(p, evidence, { strict }),
              descriptor: replayableProvider(p),
            };
          }),
      ),
    ).catch((e: unknown) => {
      if (!(e instanceof DescriptorError)) throw e;
      process.stderr.write(`error: ${e.message}\n`);
      return undefined;
    });
    if (!runs) return 2;
    await reference?.close();
    reference = undefined;
    await standIns?.close();
    standIns = undefined;

    // 3. Judge and report.
    const record: RunRecord = {
      version: RUN_RECORD_VERSION,
      harnessVersion: harnessVersion(),
      nodeVersion: process.version,
      strict,
      ...(args.values['allow-unverified'] ? { allowUnverified: true } : {}),
      ...(shard ? { shard } : {}),
      startedAt,
      finishedAt: new Date().toISOString(),
      providers: runs,
    };
    const changes = since ? compareSince(since, record, out) : undefined;
    const code = await finishRun(record, out, {
      report: !args.values['no-report'],
      historyFile: out.runHistoryFile,
      write: (t) => process.stdout.write(t),
    });
    if (changes) process.stdout.write(changes);
    return code;
  } finally {
    await reference?.close();
    await standIns?.close();
  }
}
