/**
 * npm run merge -- --out <dir> [--no-report --history <file> --allow-unverified] <shard-out-dir>...
 *
 * Merges the outputs of `npm run conformance -- --shard k/n --out <dir>` (each shard a job of the
 * CI's own matrix) into one run record, one junit.xml, one summary.md, one history line and one
 * Allure report, with one exit code by the usual rule. No request is sent.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { outputPaths } from '../report/generate.js';
import {
  harnessVersion,
  readRunRecord,
  RUN_RECORD_VERSION,
  type RunRecord,
} from '../run-record.js';
import { checkPaths, outputEntries } from '../cli/paths.js';
import { finishRun } from './finish.js';

const USAGE = `usage: ${process.env['TC_COMMAND_NAME'] ?? 'npm run merge --'} --out <dir> [--no-report] [--history <file>] [--allow-unverified] <shard-out-dir>...`;

function usage(message: string): never {
  process.stderr.write(`error: ${message}\n${USAGE}\n`);
  process.exit(2);
}

export function mergeRecords(records: RunRecord[], allowUnverified: boolean): RunRecord | string {
  const names = records.flatMap((r) => r.providers.map((p) => p.provider.name));
  const dupe = names.find((n, i) => names.indexOf(n) !== i);
  if (dupe) return `provider ${dupe} appears in two shards`;
  const versions = [...new Set(records.map((r) => r.version))];
  if (versions.some((v) => v !== RUN_RECORD_VERSION))
    return `run records of format version ${versions.join(', ')}; this harness reads version ${RUN_RECORD_VERSION}`;
  const starts = records.map((r) => r.startedAt).sort();
  const ends = records.map((r) => r.finishedAt).sort();
  return {
    version: RUN_RECORD_VERSION,
    harnessVersion: records[0]?.harnessVersion ?? harnessVersion(),
    nodeVersion: records[0]?.nodeVersion ?? process.version,
    strict: records.some((r) => r.strict),
    ...(allowUnverified || records.some((r) => r.allowUnverified) ? { allowUnverified: true } : {}),
    startedAt: starts[0] ?? new Date().toISOString(),
    finishedAt: ends.at(-1) ?? new Date().toISOString(),
    providers: records
      .flatMap((r) => r.providers)
      .sort((a, b) => a.provider.name.localeCompare(b.provider.name)),
  };
}

async function main(): Promise<number> {
  let args;
  try {
    args = parseArgs({
      options: {
        out: { type: 'string' },
        'no-report': { type: 'boolean', default: false },
        history: { type: 'string' },
        'allow-unverified': { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h' },
      },
      allowPositionals: true,
    });
  } catch (e) {
    usage((e as Error).message);
  }
  if (args.values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  if (!args.values.out) usage('--out: where the merged outputs go is required');
  if (args.positionals.length === 0) usage('name at least one shard output directory');
  const records: RunRecord[] = [];
  for (const dir of args.positionals) {
    const file = outputPaths(path.resolve(dir)).runFile;
    if (!existsSync(file))
      usage(
        `${dir}: no run record (${path.relative(process.cwd(), file)}); is it a shard's --out directory?`,
      );
    try {
      records.push(readRunRecord(file));
    } catch (e) {
      usage(
        `${path.relative(process.cwd(), file)}: not a run record: ${(e as Error).message.split('\n')[0]}`,
      );
    }
  }
  const merged = mergeRecords(records, args.values['allow-unverified'] ?? false);
  if (typeof merged === 'string') usage(merged);
  const out = outputPaths(
    path.resolve(args.values.out),
    args.values.history ? path.resolve(args.values.history) : undefined,
  );
  const pathProblem = checkPaths(
    outputEntries(out, '--out', args.values.history ? '--history' : undefined),
  );
  if (pathProblem) usage(pathProblem);
  process.stdout.write(
    `token-conformance ${harnessVersion()}: merged ${records.length} shard${records.length === 1 ? '' : 's'}, ${merged.providers.length} providers\n`,
  );
  return finishRun(merged, out, {
    report: !args.values['no-report'],
    historyFile: out.runHistoryFile,
    write: (t) => process.stdout.write(t),
  });
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    process.stderr.write(`harness error: ${(e as Error).message}\n`);
    process.exit(3);
  },
);
