/**
 * npm run compare -- --baseline <provider|run.json> --candidate <provider|run.json> [--secondary …]
 *
 * Pre-migration validation: the current server and the candidate, behaviour by behaviour, with the
 * noise taken out. Providers are observed as `npm run conformance` observes them; run records are
 * read as recorded. Writes <out>/compare.json, <out>/compare.md, the sides' run record and the report
 * (a "Migration: <baseline> → <candidate>" suite). Exit 0: no difference of a --fail-on class;
 * 1: one; 2: usage or input error (no request sent); 3: a harness error; 4: not verified (a side
 * did not answer requests the other did, and nothing failed).
 */
import path from 'node:path';
import { parseArgs } from 'node:util';
import { DescriptorError } from '../descriptor/load.js';
import { generateReport, outputPaths } from '../report/generate.js';
import {
  harnessVersion,
  writeRunRecord,
  type ProviderRun,
  type RunRecord,
  RUN_RECORD_VERSION,
} from '../run-record.js';
import { isOutage } from './classify.js';
import { compareRuns, type SideRun } from './compare.js';
import { buildCompareFile, writeCompareFile } from './output.js';
import { shownPath } from './record-file.js';
import { formatCompareFile } from './render.js';
import { collectSides, readSide, type SideRole, type SideSpec } from './sides.js';
import {
  DEFAULT_FAIL_ON,
  FAIL_ON_CLASSES,
  type CompareFile,
  type DifferenceClass,
} from './types.js';

const USAGE = `usage: ${process.env['TC_COMMAND_NAME'] ?? 'npm run compare --'} --baseline <provider|run.json> --candidate <provider|run.json> [--secondary <provider|run.json>] [--fail-on <classes>] [--emulate] [--strict] [--no-report] [--out <dir>]
  --baseline     the current server: a provider name (a file in providers/), a descriptor path,
                 or a run record (run.json; run.json#<provider> when it holds several)
  --candidate    the server to migrate to, given the same ways
  --secondary    a second instance (or a second run) of the baseline: what differs between it and
                 the baseline is noise, shown apart and never counted
  --fail-on      classes that make the exit code 1, comma-separated (default: ${DEFAULT_FAIL_ON.join(',')};
                 also: ${FAIL_ON_CLASSES.filter((c) => !DEFAULT_FAIL_ON.includes(c)).join(', ')}; or none)
  --emulate      seed services' descriptors run against their local stand-ins (src/emulate)
  --strict       SHOULD violations count as failures in each side's verdicts
  --no-report    skip the Allure results and HTML report
  --out          where compare.json, compare.md, the run record and the report go (default: reports/)`;

function usageError(message: string): never {
  process.stderr.write(`error: ${message}\n${USAGE}\n`);
  process.exit(2);
}

export function parseFailOn(value: string | undefined): DifferenceClass[] {
  if (value === undefined) return DEFAULT_FAIL_ON;
  const names = value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (names.length === 1 && names[0] === 'none') return [];
  const unknown = names.find((n) => !(FAIL_ON_CLASSES as string[]).includes(n));
  if (unknown !== undefined || names.length === 0)
    throw new DescriptorError(
      '--fail-on',
      unknown ?? '(empty)',
      `not a class (one of: ${FAIL_ON_CLASSES.join(', ')}, or none)`,
    );
  return names as DifferenceClass[];
}

/** Side names made unique for the run record (two sides may both be "reference"), titles saying which side. */
function recordOf(
  sides: SideRun[],
  roles: SideRole[],
  startedAt: string,
  strict: boolean,
): RunRecord {
  const taken = new Set<string>();
  const providers: ProviderRun[] = sides.map((s, i) => {
    const role = roles[i]!;
    const name =
      taken.has(s.run.provider.name) ||
      sides.some((o, j) => j !== i && o.run.provider.name === s.run.provider.name)
        ? `${s.run.provider.name} (${role})`
        : s.run.provider.name;
    taken.add(name);
    return {
      ...s.run,
      provider: {
        ...s.run.provider,
        name,
        title: `${role[0]!.toUpperCase()}${role.slice(1)}: ${s.run.provider.title}`,
      },
    };
  });
  return {
    version: RUN_RECORD_VERSION,
    harnessVersion: harnessVersion(),
    nodeVersion: process.version,
    strict,
    startedAt,
    finishedAt: new Date().toISOString(),
    providers,
  };
}

/** Not verified: a request one side answered and the other could not (outage, circuit, rate limit). */
function notVerified(file: CompareFile): boolean {
  return file.comparisons.some((c) =>
    c.notComparable.some((d) => d.aspect === 'answer' && [d.baseline, d.candidate].some(isOutage)),
  );
}

async function main(): Promise<number> {
  let args;
  try {
    args = parseArgs({
      options: {
        baseline: { type: 'string' },
        candidate: { type: 'string' },
        secondary: { type: 'string' },
        'fail-on': { type: 'string' },
        emulate: { type: 'boolean', default: false },
        strict: { type: 'boolean', default: false },
        'no-report': { type: 'boolean', default: false },
        out: { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
      allowPositionals: false,
    });
  } catch (e) {
    usageError((e as Error).message);
  }
  const v = args.values;
  if (v.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  if (v.baseline === undefined || v.candidate === undefined)
    usageError(`${v.baseline === undefined ? '--baseline' : '--candidate'} is required`);
  const strict = v.strict ?? false;
  let failOn: DifferenceClass[];
  let specs: SideSpec[];
  const roles: SideRole[] = [
    'baseline',
    'candidate',
    ...(v.secondary !== undefined ? (['secondary'] as const) : []),
  ];
  try {
    failOn = parseFailOn(v['fail-on']);
    specs = roles.map((role) =>
      readSide(
        role,
        role === 'baseline' ? v.baseline! : role === 'candidate' ? v.candidate! : v.secondary!,
      ),
    );
  } catch (e) {
    if (e instanceof DescriptorError) {
      process.stderr.write(`error: ${e.message}\n`);
      return 2;
    }
    throw e;
  }
  const startedAt = new Date().toISOString();
  process.stdout.write(
    `token-conformance ${harnessVersion()} compare: ${specs.map((s) => `${s.role} ${s.kind === 'recorded' ? `${s.run.provider.name} (recorded in ${shownPath(s.file)})` : String(s.raw.data['name'])}`).join(', ')}\n`,
  );
  let sides: SideRun[];
  try {
    sides = await collectSides(specs, {
      emulate: v.emulate ?? false,
      strict,
      onWait: (role, p, seconds, why) =>
        process.stdout.write(`${role} ${p.name}: waiting ${seconds} s ${why}\n`),
    });
  } catch (e) {
    if (e instanceof DescriptorError) {
      process.stderr.write(`error: ${e.message}\n`);
      return 2;
    }
    throw e;
  }
  const [baseline, candidate, secondary] = sides as [SideRun, SideRun, SideRun | undefined];
  const comparison = compareRuns(baseline, candidate, secondary);
  const record = recordOf(sides, roles, startedAt, strict);
  const out = outputPaths(v.out ? path.resolve(v.out) : undefined);
  writeRunRecord(record, out.runFile);
  const file = buildCompareFile([comparison], { failOn, runStartedAt: record.startedAt });
  const written = writeCompareFile(file, out.runFile);
  if (!v['no-report']) process.stdout.write(`${(await generateReport(out)).message}\n`);
  process.stdout.write(formatCompareFile(file));
  process.stdout.write(`compare: ${shownPath(written.md)}, ${shownPath(written.json)}\n`);
  if (file.failed) return 1;
  return notVerified(file) ? 4 : 0;
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    process.stderr.write(`harness error: ${(e as Error).stack ?? String(e)}\n`);
    process.exit(3);
  },
);
