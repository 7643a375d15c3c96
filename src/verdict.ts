import { tally, type Finding } from './evaluate.js';

/**
 * The run's exit code and the words for it. Fail beats not verified beats conformant:
 * 1 a MUST or EXPECTATION check failed (or a SHOULD with --strict, or a stale deviation);
 * 4 nothing failed but some check could not judge (outage, rate limit, a client that got no token);
 * 0 conformant. 2 (bad input) and 3 (harness error) never come from findings.
 */
export type ExitCode = 0 | 1 | 2 | 3 | 4;

export type ProviderVerdict = 'non-conformant' | 'not verified' | 'conformant';

export function providerVerdict(findings: Finding[]): ProviderVerdict {
  const t = tally(findings);
  if (t.failed > 0) return 'non-conformant';
  if (t.broken > 0) return 'not verified';
  return 'conformant';
}

export interface RunVerdict {
  code: ExitCode;
  /** The summary's last line: which case it is, in words, with the exit code. */
  line: string;
}

export function runVerdict(
  providers: { name: string; findings: Finding[] }[],
  options: { strict: boolean; allowUnverified: boolean },
): RunVerdict {
  if (providers.length === 0)
    return {
      code: 0,
      line: 'Result: NOTHING CHECKED (exit 0): no provider was selected (an empty shard?)',
    };
  const verdicts = providers.map((p) => ({
    name: p.name,
    verdict: providerVerdict(p.findings),
    broken: tally(p.findings).broken,
  }));
  const failed = verdicts.filter((v) => v.verdict === 'non-conformant').map((v) => v.name);
  const unverified = verdicts.filter((v) => v.verdict === 'not verified');
  if (failed.length > 0) {
    return {
      code: 1,
      line: `Result: NOT CONFORMANT (exit 1): a MUST or EXPECTATION check failed${options.strict ? ' (strict: SHOULDs count)' : ''} for ${failed.join(', ')}`,
    };
  }
  if (unverified.length > 0) {
    const which = unverified
      .map((v) => `${v.name} (${v.broken} check${v.broken === 1 ? '' : 's'})`)
      .join(', ');
    return options.allowUnverified
      ? {
          code: 0,
          line: `Result: NOT VERIFIED, allowed (exit 0 with --allow-unverified): nothing failed, but some checks could not judge: ${which}`,
        }
      : {
          code: 4,
          line: `Result: NOT VERIFIED (exit 4): nothing failed, but some checks could not judge (outage, rate limit or set-up): ${which}`,
        };
  }
  return {
    code: 0,
    line: `Result: CONFORMANT (exit 0)${options.strict ? ' (strict)' : ''}: no MUST or EXPECTATION check failed and every check could judge`,
  };
}
