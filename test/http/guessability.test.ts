/**
 * estimateGuessability, table-tested: distinctness, and varying positions × log2(alphabet), the
 * heuristic behind response.token-entropy (RFC 6749 §10.10).
 */
import { describe, expect, it } from 'vitest';
import { estimateGuessability } from '../../src/observe.js';

describe('estimateGuessability', () => {
  it.each<
    [
      string,
      string[],
      {
        count: number;
        distinct: number;
        minLength: number;
        alphabet: number;
        estimatedBits: number;
      },
    ]
  >([
    // One token: every position counts (nothing to compare it with): 3 × log2(3) = 4.75.
    [
      'a single token',
      ['abc'],
      { count: 1, distinct: 1, minLength: 3, alphabet: 3, estimatedBits: 4 },
    ],
    // A counter: only the last position varies, over an alphabet of 8 characters.
    [
      'a counter',
      ['tok-000001', 'tok-000002', 'tok-000003'],
      { count: 3, distinct: 3, minLength: 10, alphabet: 8, estimatedBits: 3 },
    ],
    [
      'the same token twice',
      ['same-token', 'same-token'],
      { count: 2, distinct: 1, minLength: 10, alphabet: 9, estimatedBits: 0 },
    ],
    [
      'an alphabet of one character',
      ['aaaa', 'aaaa'],
      { count: 2, distinct: 1, minLength: 4, alphabet: 1, estimatedBits: 0 },
    ],
    // Positions past the shortest token are not compared: "ab" and "abcd" share their first two.
    [
      'different lengths',
      ['ab', 'abcd'],
      { count: 2, distinct: 2, minLength: 2, alphabet: 4, estimatedBits: 0 },
    ],
    // Every position varies, 16 hex digits: 32 × 4 = 128 bits.
    [
      '32 varying hex digits',
      ['0123456789abcdef0123456789abcdef', 'fedcba9876543210fedcba9876543210'],
      { count: 2, distinct: 2, minLength: 32, alphabet: 16, estimatedBits: 128 },
    ],
    // A shared prefix carries no entropy: 4 of 8 positions vary, alphabet of 11 → 4 × 3.46 = 13.8.
    [
      'a shared prefix',
      ['pfx-abcd', 'pfx-efgh'],
      { count: 2, distinct: 2, minLength: 8, alphabet: 11, estimatedBits: 13 },
    ],
  ])('%s', (_what, tokens, expected) => {
    expect(estimateGuessability(tokens)).toEqual(expected);
  });

  it('rates 256-bit random base64url tokens well above the 128 bits RFC 6749 §10.10 asks for', () => {
    const tokens = [
      'Zq9xW3vB7nK2mP5rT8yL4cF6hJ1dS0gA-Yh3kL8pQ2wE6rT9',
      'Mn4bV7cX1zA9sD3fG6hJ2kL5pO8iU0yT_Rq7wE2rT5yU8iO1',
      'Lk8jH5gF2dS9aP6oI3uY0tR7eW4qZ1xC-Vb6nM3mQ9wE2rT8',
    ];
    const r = estimateGuessability(tokens);
    expect(r.distinct).toBe(3);
    expect(r.estimatedBits).toBeGreaterThanOrEqual(128);
  });
});
