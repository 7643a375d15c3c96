/**
 * npm run conformance [-- --provider <name|path> … --strict]
 *
 * describe (load, validate, resolve) → observe (probes, recorded and redacted) → judge (checks)
 * → report (vitest suites write Allure results → single-file HTML). Exit 0: no MUST or
 * EXPECTATION check failed; 1: one did; 2: usage or descriptor error (no request sent).
 */
import { callerDir } from './caller-dir.js';
import { locateDescriptor } from './descriptor/load.js';
import { embeddedNames, RUN_OPTIONS, runConformance } from './cli/run.js';
import { exitOnHarnessError } from './harness-error.js';

const USAGE = `usage: npm run conformance [-- --provider <name|path> ... --emulate --strict --no-report --out <dir>
                                      --shard <k/n> --history <file> --concurrency <n> --allow-unverified]
${RUN_OPTIONS}`;

// A harness bug anywhere is one line and exit 3; the stack goes to a log file.
process.on('uncaughtException', exitOnHarnessError).on('unhandledRejection', exitOnHarnessError);
runConformance({
  usage: USAGE,
  argv: process.argv.slice(2),
  // npm runs the script from the package root; a relative --out is the caller's (INIT_CWD).
  cwd: callerDir(),
  locate: (n) => [locateDescriptor(n)],
  // Default: every embedded descriptor (the reference server, one descriptor per grant).
  defaultSelection: embeddedNames,
}).then((code) => process.exit(code), exitOnHarnessError);
