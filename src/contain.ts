/**
 * One provider's trouble stays that provider's. Everything done with one provider's answers —
 * observing (parsing, redaction, token decoding), judging, and what the run does with the result
 * afterwards (the run record is JSON, the report renders every exchange) — runs inside `contain`: an
 * exception or a stack overflow there becomes broken findings for that provider, each naming the
 * cause, and the other providers of the run keep their verdicts. The limits in src/http/limits.ts
 * keep known hostile answers from getting this far; this is the net for the unknown ones.
 */
import { CHECKS } from './checks/index.js';
import { AREA_TITLES, levelOf, type CheckDef, type Evidence } from './checks/types.js';
import type { Provider } from './descriptor/types.js';
import { DescriptorError } from './descriptor/load.js';
import type { Finding } from './evaluate.js';
import { describeError, logHarnessError } from './harness-error.js';
import { renderExchange } from './report/render.js';
import { publicProvider, type ProviderRun } from './run-record.js';

/**
 * Runs one provider's work; if it throws (or what it returns could not be recorded or rendered),
 * returns a run of broken findings that names the cause instead, and logs the stack.
 */
export async function contain(
  p: Provider,
  work: () => Promise<ProviderRun>,
  checks: CheckDef[] = CHECKS,
): Promise<ProviderRun> {
  const startedAt = new Date().toISOString();
  let stage = 'observing or judging';
  try {
    const run = await work();
    stage = 'recording or rendering the evidence';
    recordable(run);
    return run;
  } catch (e) {
    // A login step that no longer matches is the descriptor's error (exit 2), not the provider's.
    if (e instanceof DescriptorError) throw e;
    const log = logHarnessError(e, `provider ${p.name}: ${stage}`);
    const cause = `a harness error while ${stage} of this provider: ${describeError(e)}${log ? ` (stack in ${log})` : ''}`;
    return brokenRun(p, cause, startedAt, checks);
  }
}

/**
 * Throws if the run could not be written as JSON or an exchange could not be rendered, so that the
 * failure is this provider's, here, and not the whole run's when the record is written or the
 * report generated.
 */
function recordable(run: ProviderRun): void {
  JSON.stringify(run);
  for (const ex of Object.values(run.evidence.exchanges)) renderExchange(ex);
}

/** Every check of the provider broken with `cause` (those that do not apply to it stay skipped, as always). */
export function brokenRun(
  p: Provider,
  cause: string,
  startedAt: string,
  checks: CheckDef[] = CHECKS,
): ProviderRun {
  const findings: Finding[] = [];
  for (const check of checks) {
    const applies = safely(() => check.applies?.(p) ?? true, true);
    const instances = check.perClient && applies === true ? p.clients.map((_, i) => i) : [0];
    for (const i of instances) {
      const client = p.clients[i];
      findings.push({
        checkId: check.id,
        title: check.title,
        area: check.area,
        areaTitle: AREA_TITLES[check.area],
        level: safely(
          () => levelOf(check, p),
          typeof check.level === 'string' ? check.level : 'MUST',
        ),
        spec: check.spec,
        params:
          check.perClient && client && applies === true
            ? { client: client.label, 'auth method': client.auth.method }
            : {},
        outcome: applies === true ? 'broken' : 'skipped',
        message: applies === true ? `not judged: ${cause}` : `not applicable: ${applies}`,
        probes: [],
      });
    }
  }
  const evidence: Evidence = {
    provider: p.name,
    exchanges: {},
    notRun: {},
    requestsSent: 0,
    startedAt,
    finishedAt: new Date().toISOString(),
  };
  return { provider: publicProvider(p), evidence, findings };
}

function safely<T>(f: () => T, fallback: T): T {
  try {
    return f();
  } catch {
    return fallback;
  }
}
