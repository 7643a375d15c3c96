import { isJwtFormat, type Provider } from '../descriptor/types.js';
import { REQUIRED_BITS } from '../evidence/guessability.js';
import { PROBES } from '../probes/ids.js';
import { withSuccess } from './response.js';
import { broken, defineCheck, fail, pass, rfc, skip, type Verdict } from './types.js';

/**
 * RFC 6749 §10.10, where the answer is certain rather than estimated: a token too short to hold 128
 * bits even at the most generous alphabet, or tokens that count up. The estimate stays a SHOULD
 * (response.token-entropy); this check fails only what no randomness could rescue.
 */
export const tokenEntropyBound = defineCheck({
  id: 'response.token-entropy-bound',
  title: 'Opaque access tokens are neither too short to hold 128 bits nor a counter sequence',
  area: 'response',
  level: 'MUST',
  levelReason:
    "RFC 6749 §10.10: the probability of guessing a token MUST be ≤ 2^-128. A token of n VSCHAR characters has at most 95^n values, so n × log2(95) < 128 (fewer than 20 characters) breaks it whatever the generator; so does a counter, where each token names the next. Decimal counters only (src/evidence/guessability.ts defines them); everything subtler is the estimate's (response.token-entropy, SHOULD).",
  spec: rfc(6749, '10.10'),
  defect:
    'opaque access tokens shorter than 20 characters, or differing only in a trailing counter that rises',
  applies: (p: Provider) =>
    !isJwtFormat(p.expect.tokenFormat) ? true : 'JWT access tokens: see jwt.jti-unique',
  needs: () => [PROBES.token(0)],
  judge: (input) =>
    withSuccess((): Verdict => {
      const b = input.evidence.facts?.tokenBound;
      if (!b && input.provider.expect.tokenFormat === 'any')
        return skip(
          'not applicable: the access tokens are JWTs (see jwt.jti-unique), and the descriptor promises no format',
        );
      if (!b)
        return broken(
          'prerequisite failed: the access tokens are JWTs, not opaque (see response.token-format)',
        );
      const problems: string[] = [];
      if (b.maxBits < REQUIRED_BITS) {
        const over =
          b.alphabet === 'VSCHAR'
            ? 'all 95 VSCHAR characters'
            : 'all of Unicode (the token is not VSCHAR)';
        problems.push(
          `the shortest token has ${b.minLength} characters: even uniformly random over ${over} that is at most ${b.maxBits} bits, under the ${REQUIRED_BITS} RFC 6749 §10.10 requires`,
        );
      }
      if (b.counterSteps)
        problems.push(
          `the ${b.counterSteps.length + 1} distinct tokens differ only in a trailing decimal counter that rises by ${b.counterSteps.join(', ')}: each token gives away the next`,
        );
      if (problems.length > 0) return fail(problems.join('; '));
      return pass(
        `${b.count} tokens, the shortest ${b.minLength} characters (room for up to ${b.maxBits} bits), no counter sequence; how random they are is estimated by response.token-entropy`,
      );
    })(input),
});
