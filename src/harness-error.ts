/**
 * A harness bug is one line on stderr plus the path of a log file that holds the stack: a stack
 * trace in a CI log is noise to the reader, and may quote server-controlled text (an error message
 * built from a body) raw. The log goes to the run's own directory (<out>/.run/) once --out was
 * checked, else to the system's temporary directory.
 */
import { appendFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { inert } from './text/inert.js';

let logDir: string | undefined;
let logFile: string | undefined;

/** Where later harness errors are logged: the run directory, once it is known to be writable. */
export function logHarnessErrorsIn(dir: string): void {
  logDir = dir;
  logFile = undefined;
}

/** Appends `e`'s stack (with what was being done) to the log; returns the log's path, or undefined if nothing could be written. */
export function logHarnessError(e: unknown, doing: string): string | undefined {
  const entry = `${new Date().toISOString()} ${doing}\n${stackOf(e)}\n\n`;
  for (const dir of [logDir, tmpdir()]) {
    if (dir === undefined) continue;
    const file =
      logFile && path.dirname(logFile) === dir
        ? logFile
        : path.join(
            dir,
            dir === logDir
              ? 'harness-error.log'
              : `token-conformance-harness-error-${process.pid}.log`,
          );
    // No mkdir: the run directory was created by the path check, and the temporary directory exists
    // (a recursive mkdir under /proc never returns: Node retries ENOENT forever).
    try {
      appendFileSync(file, entry);
      logFile = file;
      return file;
    } catch {
      // Try the next place: a log that cannot be written must not hide the error itself.
    }
  }
  return undefined;
}

function stackOf(e: unknown): string {
  if (e instanceof Error) {
    const causes: string[] = [e.stack ?? `${e.name}: ${e.message}`];
    let cur: unknown = e.cause;
    for (let i = 0; i < 5 && cur; i++, cur = (cur as { cause?: unknown }).cause)
      causes.push(`caused by: ${cur instanceof Error ? (cur.stack ?? cur.message) : String(cur)}`);
    return causes.join('\n');
  }
  return String(e);
}

/** What went wrong, in one inert line: a stack overflow is named as such. */
export function describeError(e: unknown): string {
  if (e instanceof RangeError && /call stack/i.test(e.message))
    return 'a stack overflow (RangeError: Maximum call stack size exceeded)';
  const text = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
  return inert(text.replace(/\s+/g, ' ').trim(), { max: 300 });
}

/** The one line printed for a harness bug (exit 3), after logging its stack. */
export function harnessErrorLine(e: unknown): string {
  const log = logHarnessError(e, 'harness error (exit 3)');
  return `harness error: ${describeError(e)}${log ? ` (stack in ${log})` : ''}`;
}

/** Exit 3 for a harness bug, wherever it surfaces (main's promise, an uncaught exception, an unhandled rejection). */
export function exitOnHarnessError(e: unknown): never {
  process.stderr.write(`${harnessErrorLine(e)}\n`);
  process.exit(3);
}
