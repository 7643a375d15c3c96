/**
 * parseChallenges, table-tested: WWW-Authenticate (RFC 9110 §11.6.1) carries one or more challenges,
 * `challenge = auth-scheme [ 1*SP ( token68 / #auth-param ) ]`, in one field or several.
 */
import { describe, expect, it } from 'vitest';
import { parseChallenges, type Challenge } from '../../src/checks/expiry.js';

const c = (scheme: string, params: Record<string, string> = {}, token68?: string): Challenge => ({
  scheme,
  params,
  ...(token68 !== undefined ? { token68 } : {}),
});

describe('parseChallenges', () => {
  it.each<[string, string[], Challenge[]]>([
    [
      'one challenge, quoted parameters',
      ['Bearer realm="example", error="invalid_token"'],
      [c('bearer', { realm: 'example', error: 'invalid_token' })],
    ],
    [
      'unquoted token values',
      ['Bearer error=invalid_token'],
      [c('bearer', { error: 'invalid_token' })],
    ],
    ['a scheme alone', ['Basic'], [c('basic')]],
    [
      'schemes and parameter names are case-insensitive (lower-cased)',
      ['BEARER Error="invalid_token", REALM="X"'],
      [c('bearer', { error: 'invalid_token', realm: 'X' })],
    ],
    [
      'BWS around "="',
      ['Bearer error = "invalid_token"'],
      [c('bearer', { error: 'invalid_token' })],
    ],
    [
      'two challenges in one field (the RFC 9110 §11.6.1 example)',
      ['Newauth realm="apps", type=1, title="Login to \\"apps\\"", Basic realm="simple"'],
      [
        c('newauth', { realm: 'apps', type: '1', title: 'Login to "apps"' }),
        c('basic', { realm: 'simple' }),
      ],
    ],
    [
      'two fields',
      ['Basic realm="a"', 'Bearer error="invalid_token"'],
      [c('basic', { realm: 'a' }), c('bearer', { error: 'invalid_token' })],
    ],
    [
      'a comma inside a quoted string',
      ['Bearer realm="a, b", error="invalid_token"'],
      [c('bearer', { realm: 'a, b', error: 'invalid_token' })],
    ],
    [
      'a quoted string that looks like a second challenge',
      ['Bearer error_description="use Basic realm=x, then retry", error="invalid_token"'],
      [c('bearer', { error_description: 'use Basic realm=x, then retry', error: 'invalid_token' })],
    ],
    [
      'escaped quote and backslash',
      ['Bearer error_description="say \\"hi\\" \\\\ bye"'],
      [c('bearer', { error_description: 'say "hi" \\ bye' })],
    ],
    [
      'token68',
      ['Negotiate YIIBhgYGKwYBBQUCoIIBejCCAXagMDAu=='],
      [c('negotiate', {}, 'YIIBhgYGKwYBBQUCoIIBejCCAXagMDAu==')],
    ],
    ['token68 with a single "="', ['Negotiate YII='], [c('negotiate', {}, 'YII=')]],
    [
      'token68, then another challenge',
      ['Negotiate abc==, Bearer realm="x"'],
      [c('negotiate', {}, 'abc=='), c('bearer', { realm: 'x' })],
    ],
    [
      'empty list elements are ignored (RFC 9110 §5.6.1)',
      [', Bearer realm="x",, error="invalid_token" ,'],
      [c('bearer', { realm: 'x', error: 'invalid_token' })],
    ],
    ['an empty field', [''], []],
    ['no field', [], []],
    ['whitespace only', ['   '], []],
    ['a parameter without a scheme is not a challenge', ['realm="x"'], []],
    ['garbage', ['"unterminated'], []],
    ['garbage punctuation', ['=,=,'], []],
  ])('%s', (_what, values, expected) => {
    expect(parseChallenges(values)).toEqual(expected);
  });

  it('a parameter repeated within one challenge: the last value counts', () => {
    expect(parseChallenges(['Bearer error="a", error="b"'])).toEqual([c('bearer', { error: 'b' })]);
  });
});
