/**
 * The guessability estimator and the certain bound (src/evidence/guessability.ts), table-tested
 * directly: the checks only ever see their results, never a token.
 */
import { randomBytes, randomInt } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  counterSequence,
  estimateGuessability,
  guessabilityBound,
} from '../../src/evidence/guessability.js';

const b64 = (bytes: number) => randomBytes(bytes).toString('base64url');
const digits = (n: number) => Array.from({ length: n }, () => randomInt(10)).join('');

describe('estimateGuessability (a heuristic: length × log2 of the alphabet seen, fixed positions left out)', () => {
  it.each<
    [
      string,
      string[],
      { distinct: number; minLength: number; alphabet: number; estimatedBits: number },
    ]
  >([
    [
      'one token: every position counts',
      ['abcd'],
      { distinct: 1, minLength: 4, alphabet: 4, estimatedBits: 8 },
    ],
    [
      'a counter: one varying position',
      ['tok-000001', 'tok-000002', 'tok-000003'],
      { distinct: 3, minLength: 10, alphabet: 8, estimatedBits: 3 },
    ],
    [
      'the same token twice',
      ['same-token', 'same-token'],
      { distinct: 1, minLength: 10, alphabet: 9, estimatedBits: 0 },
    ],
    [
      'a constant prefix carries nothing',
      ['ppppA1', 'ppppB2'],
      { distinct: 2, minLength: 6, alphabet: 5, estimatedBits: 4 },
    ],
    [
      'the shortest token sets the length',
      ['ab', 'cdef'],
      { distinct: 2, minLength: 2, alphabet: 6, estimatedBits: 5 },
    ],
  ])('%s', (_name, tokens, want) => {
    expect(estimateGuessability(tokens)).toEqual({ count: tokens.length, ...want });
  });

  it('long random base64url tokens estimate far above 128 bits', () => {
    const e = estimateGuessability([b64(32), b64(32), b64(32)]);
    expect(e.minLength).toBe(43);
    expect(e.estimatedBits).toBeGreaterThan(200);
  });
});

describe('counterSequence (distinct tokens in issue order: one prefix, a trailing decimal run rising by 1 … 2^20)', () => {
  it.each<[string, string[], number[] | undefined]>([
    ['a padded counter', ['tok-000001', 'tok-000002', 'tok-000003'], [1, 1]],
    ['a counter that widens', ['t9', 't10', 't11'], [1, 1]],
    ['steps of other clients in between', ['x-100', 'x-107', 'x-230'], [7, 123]],
    ['digits only, no prefix', ['41', '42'], [1]],
    [
      'a long random prefix, then a counter',
      ['Qm9vLXByZWZpeC1sb25nLXJhbmRvbQ-1', 'Qm9vLXByZWZpeC1sb25nLXJhbmRvbQ-2'],
      [1],
    ],
    ['repeats are one token', ['c-5', 'c-5', 'c-6'], [1]],
    ['timestamps in milliseconds, 150 ms apart', ['ts1714000000000', 'ts1714000000150'], [150]],
    ['one token only', ['tok-1'], undefined],
    ['the same token every time', ['tok-1', 'tok-1'], undefined],
    ['counting down', ['tok-3', 'tok-2'], undefined],
    ['a step above 2^20', ['n-1', `n-${2 ** 20 + 2}`], undefined],
    ['prefixes differ', ['a-1', 'b-2'], undefined],
    ['no trailing digits', ['tok-1a', 'tok-2a'], undefined],
    ['the digits are a suffix of a random part', ['AbC1', 'xYz2'], undefined],
  ])('%s', (_name, tokens, want) => {
    expect(counterSequence(tokens)).toEqual(want);
  });

  it.each<[string, () => string]>([
    ['random base64url', () => b64(32)],
    ['random 40-digit numbers', () => digits(40)],
    ['a constant prefix and 40 random digits', () => `tcat_${digits(40)}`],
    ['random hex', () => randomBytes(16).toString('hex')],
  ])('never flags %s (200 samples of five)', (_name, make) => {
    for (let i = 0; i < 200; i++)
      expect(counterSequence(Array.from({ length: 5 }, make))).toBeUndefined();
  });
});

describe('guessabilityBound (certain: length × log2(95), or log2 of all Unicode outside VSCHAR)', () => {
  it.each<
    [string, string[], { minLength: number; alphabet: 'VSCHAR' | 'Unicode'; maxBits: number }]
  >([
    [
      '19 characters: under 128 bits at any VSCHAR alphabet',
      ['a'.repeat(19), 'b'.repeat(30)],
      { minLength: 19, alphabet: 'VSCHAR', maxBits: 124.8 },
    ],
    [
      '20 characters: just over',
      ['a'.repeat(20)],
      { minLength: 20, alphabet: 'VSCHAR', maxBits: 131.3 },
    ],
    [
      'base64url of 32 bytes',
      ['A'.repeat(43)],
      { minLength: 43, alphabet: 'VSCHAR', maxBits: 282.5 },
    ],
    [
      'a token outside VSCHAR is bounded by Unicode, per code point',
      ['ä'.repeat(6)],
      { minLength: 6, alphabet: 'Unicode', maxBits: 120.5 },
    ],
    [
      'the weakest token sets the bound',
      ['x'.repeat(40), `${'y'.repeat(7)}\t`],
      { minLength: 8, alphabet: 'Unicode', maxBits: 160.6 },
    ],
  ])('%s', (_name, tokens, want) => {
    expect(guessabilityBound(tokens)).toEqual({ count: tokens.length, ...want });
  });

  it('reports the counter with the bound', () => {
    expect(
      guessabilityBound(['k'.repeat(32) + '-000001', 'k'.repeat(32) + '-000002']),
    ).toMatchObject({ minLength: 39, counterSteps: [1] });
  });
});
