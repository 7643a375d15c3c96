/**
 * What can be said about the guessability of opaque access tokens from a handful of them (RFC 6749
 * §10.10: "The probability of an attacker guessing generated tokens … MUST be less than or equal to
 * 2^(-128) and SHOULD be less than or equal to 2^(-160)"). Pure: the observer runs these on the tokens
 * it holds in memory, and only the results go into the evidence, never a token.
 *
 * Two kinds of answer. An estimate (estimateGuessability) is a heuristic: randomness cannot be
 * measured from a few samples. A bound (guessabilityBound) is certain: a token of n characters cannot
 * carry more than n × log2(95) bits, and a counter predicts the next token whatever its length.
 */

/** Every character an access token may hold: VSCHAR, %x20-7E (RFC 6749 Appendix A.12), 95 of them. */
export const VSCHAR_ALPHABET = 95;
/** The most any VSCHAR character can carry: log2(95) ≈ 6.57 bits (base64url carries 6, hex 4). */
export const MAX_BITS_PER_CHAR = Math.log2(VSCHAR_ALPHABET);
/** RFC 6749 §10.10's MUST: a guessing probability of at most 2^-128. */
export const REQUIRED_BITS = 128;
/** The largest rise between consecutive tokens still read as a counter (other clients may draw from it too). */
export const MAX_COUNTER_STEP = 2n ** 20n;

const VSCHAR = /^[\x20-\x7E]*$/;

export interface GuessabilityEstimate {
  count: number;
  distinct: number;
  minLength: number;
  alphabet: number;
  estimatedBits: number;
}

/**
 * A rough upper bound on how guessable the tokens are: distinctness, and length × log2(alphabet
 * seen across the sample). It cannot prove randomness; it catches short, counter-like or tiny-alphabet tokens.
 */
export function estimateGuessability(tokens: string[]): GuessabilityEstimate {
  const alphabet = new Set(tokens.join('')).size;
  const minLength = Math.min(...tokens.map((t) => t.length));
  // Characters shared by every token at the same position carry no entropy: leave them out.
  const varying = [...Array(minLength).keys()].filter(
    (i) => new Set(tokens.map((t) => t[i])).size > 1 || tokens.length === 1,
  ).length;
  return {
    count: tokens.length,
    distinct: new Set(tokens).size,
    minLength,
    alphabet,
    estimatedBits: Math.floor(varying * Math.log2(Math.max(alphabet, 1))),
  };
}

/**
 * A counter sequence, precisely: take the distinct tokens in the order they were issued (at least two).
 * Each must be one common prefix P followed by its longest trailing run of decimal digits N_i (so P
 * does not end in a digit; P may be empty), and every N_{i+1} − N_i must be in (0, 2^20]. The rises are
 * returned; undefined when the tokens are no such sequence.
 *
 * Random tokens cannot pass by accident: a random part before the digits makes the prefixes differ,
 * and two random all-digit tokens of d ≥ 20 digits fall within 2^20 of each other, in order, with
 * probability ≈ 2^20 / 10^d (below 10^-13); shorter ones already fail the length bound. Hexadecimal
 * or embedded counters are not recognised (the estimate still flags them).
 */
export function counterSequence(tokens: string[]): number[] | undefined {
  const distinct = [...new Set(tokens)];
  if (distinct.length < 2) return undefined;
  const parts = distinct.map((t) => /^(.*?)(\d+)$/s.exec(t));
  const prefix = parts[0]?.[1];
  if (prefix === undefined || parts.some((m) => m === null || m[1] !== prefix)) return undefined;
  const values = parts.map((m) => BigInt(m![2]!));
  const steps: number[] = [];
  for (let i = 1; i < values.length; i++) {
    const step = values[i]! - values[i - 1]!;
    if (step <= 0n || step > MAX_COUNTER_STEP) return undefined;
    steps.push(Number(step));
  }
  return steps;
}

export interface GuessabilityBound {
  /** Tokens examined. */
  count: number;
  /** The token that can carry the fewest bits: its length in characters (code points). */
  minLength: number;
  /** The alphabet that bound assumes: VSCHAR (95), or all of Unicode for a token outside VSCHAR (response.access-token-syntax fails it). */
  alphabet: 'VSCHAR' | 'Unicode';
  /** The most bits that token can carry, to one decimal: length × log2(alphabet size), every character uniformly random. */
  maxBits: number;
  /** The rises of a counter sequence (see counterSequence), when the tokens are one. */
  counterSteps?: number[];
}

/** log2 of the number of Unicode code points, for a token that is not VSCHAR (no smaller alphabet is certain). */
const UNICODE_BITS_PER_CHAR = Math.log2(0x110000);

/** What is certain about the tokens, whatever their randomness: the length bound and a counter. */
export function guessabilityBound(tokens: string[]): GuessabilityBound {
  const bounds = tokens.map((t) => {
    const vschar = VSCHAR.test(t);
    const length = [...t].length;
    return {
      length,
      alphabet: vschar ? ('VSCHAR' as const) : ('Unicode' as const),
      bits: length * (vschar ? MAX_BITS_PER_CHAR : UNICODE_BITS_PER_CHAR),
    };
  });
  const weakest = bounds.reduce((a, b) => (b.bits < a.bits ? b : a));
  const counterSteps = counterSequence(tokens);
  return {
    count: tokens.length,
    minLength: weakest.length,
    alphabet: weakest.alphabet,
    // Rounded down: the bound must never read higher than it is.
    maxBits: Math.floor(weakest.bits * 10) / 10,
    ...(counterSteps ? { counterSteps } : {}),
  };
}
