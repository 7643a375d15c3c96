/**
 * The Redactor and the JSON redaction, table-tested: every encoding a secret travels in, tokens at
 * any depth of a JSON value or text, headers, overlapping secrets; and the raw JSON text facts
 * (number literals, repeated members) that JSON.parse hides.
 */
import { describe, expect, it } from 'vitest';
import { jsonTextFacts, mapJsonStrings } from '../../src/http/json-text.js';
import {
  formEncode,
  learnJsonTokens,
  learnTextTokens,
  previewOf,
  redactAuthorization,
  Redactor,
  redactJsonText,
  redactJsonTokens,
} from '../../src/http/redact.js';

const SECRET = 's3cr3t-Value+/=% "q" \\ end';
const SHOWN = '$E2E_SECRET';
const TOKEN = 'AT-Zq9xW3vB7nK2mP5rT8yL4cF6hJ1dS0gA/known+token==';
const b64 = (v: string): string => Buffer.from(v, 'utf8').toString('base64');

function redactor(): Redactor {
  const r = new Redactor();
  r.add(SECRET, SHOWN);
  r.addToken(TOKEN);
  return r;
}

describe('Redactor.scrub: every form a secret travels in', () => {
  it.each([
    ['raw', SECRET],
    ['form-urlencoded (RFC 6749 Appendix B)', formEncode(SECRET)],
    ['percent-encoded (encodeURIComponent)', encodeURIComponent(SECRET)],
    ['inside a JSON string', JSON.stringify(SECRET).slice(1, -1)],
    [
      'inside a JSON string, "/" escaped as "\\/"',
      JSON.stringify(SECRET).slice(1, -1).replace(/\//g, '\\/'),
    ],
  ])('%s', (_form, encoded) => {
    const out = redactor().scrub(`before ${encoded} after`);
    expect(out).toBe(`before ${SHOWN} after`);
  });

  it.each([
    ['raw', TOKEN],
    ['form-urlencoded', formEncode(TOKEN)],
    ['percent-encoded', encodeURIComponent(TOKEN)],
    ['JSON, "\\/"', TOKEN.replace(/\//g, '\\/')],
  ])('a token, %s, becomes its preview', (_form, encoded) => {
    expect(redactor().scrub(`x=${encoded}&y`)).toBe(`x=${previewOf(TOKEN)}&y`);
  });

  it('every occurrence, in one string', () => {
    expect(redactor().scrub(`${SECRET}|${formEncode(SECRET)}|${TOKEN}|${SECRET}`)).toBe(
      `${SHOWN}|${SHOWN}|${previewOf(TOKEN)}|${SHOWN}`,
    );
  });

  it('overlapping secrets: the longer one first, so neither leaves a piece behind', () => {
    const r = new Redactor();
    r.add('abcd', '$SHORT');
    r.add('xxabcdyy', '$LONG');
    expect(r.scrub('xxabcdyy abcd')).toBe('$LONG $SHORT');
    // And the other way round: the order they were added in does not matter.
    const s = new Redactor();
    s.add('xxabcdyy', '$LONG');
    s.add('abcd', '$SHORT');
    expect(s.scrub('xxabcdyy abcd')).toBe('$LONG $SHORT');
  });

  it('a secret that contains another one', () => {
    const r = new Redactor();
    r.add('secret-one', '$ONE');
    r.add('prefix-secret-one-suffix', '$TWO');
    expect(r.scrub('prefix-secret-one-suffix, secret-one')).toBe('$TWO, $ONE');
  });

  it('values shorter than 4 characters are not secrets (they would shred every text)', () => {
    const r = new Redactor();
    r.add('abc', '$X');
    r.addToken('xyz');
    expect(r.scrub('abc xyz')).toBe('abc xyz');
  });

  it("a token that is a known secret keeps the secret's name (never a preview of a secret)", () => {
    const r = redactor();
    r.addToken(SECRET);
    expect(r.replacementFor(SECRET)).toBe(SHOWN);
    r.addCredential('client_secret', 'another-secret-value');
    expect(r.scrub('another-secret-value')).toBe('[client secret]');
  });
});

describe('redactAuthorization', () => {
  it.each([
    [
      'Basic, form-encoded credentials (RFC 6749 §2.3.1)',
      `Basic ${b64(`my%20id:${formEncode(SECRET)}`)}`,
      'Basic [redacted: base64 of "my%20id:<secret>"]',
    ],
    [
      'Basic whose id is itself a secret',
      `Basic ${b64(`${SECRET}:x`)}`,
      `Basic [redacted: base64 of "${SHOWN}:<secret>"]`,
    ],
    ['Bearer', `Bearer ${TOKEN}`, `Bearer ${previewOf(TOKEN)}`],
    ['DPoP', `DPoP ${TOKEN}`, `DPoP ${previewOf(TOKEN)}`],
    ['no scheme', TOKEN, '[redacted]'],
  ])('%s', (_what, value, expected) => {
    expect(redactAuthorization(value, redactor())).toBe(expected);
  });
});

describe('redactJsonTokens: every string at any depth', () => {
  const body = {
    access_token: TOKEN,
    token_type: 'Bearer',
    expires_in: 3600,
    nested: {
      deeper: {
        refresh_token: 'RT-nested-refresh-token-value',
        note: `echo: ${formEncode(SECRET)}`,
      },
    },
    list: [
      { id_token: 'ID-token-in-an-array-element' },
      `secret in an array: ${SECRET}`,
      42,
      null,
      true,
    ],
    tokens: { access_token: ['AT-first-of-an-array', 'AT-second-of-an-array'] },
    error_description: `you sent client_secret=${formEncode(SECRET)} and Bearer ${TOKEN}`,
    [`key ${SECRET}`]: 'a secret as a member name',
    client_secret: 'an-unknown-client-secret',
    client_assertion: 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln',
  };

  it('learns the tokens first, then redacts every string', () => {
    const r = redactor();
    learnJsonTokens(body, r);
    const out = redactJsonTokens(body, r);
    expect(out).toEqual({
      access_token: previewOf(TOKEN),
      token_type: 'Bearer',
      expires_in: 3600,
      nested: {
        deeper: {
          refresh_token: previewOf('RT-nested-refresh-token-value'),
          note: `echo: ${SHOWN}`,
        },
      },
      list: [
        { id_token: previewOf('ID-token-in-an-array-element') },
        `secret in an array: ${SHOWN}`,
        42,
        null,
        true,
      ],
      tokens: {
        access_token: [previewOf('AT-first-of-an-array'), previewOf('AT-second-of-an-array')],
      },
      error_description: `you sent client_secret=${SHOWN} and Bearer ${previewOf(TOKEN)}`,
      [`key ${SHOWN}`]: 'a secret as a member name',
      // A client secret is never previewed: its first characters are secret too.
      client_secret: '[client secret]',
      client_assertion: previewOf('eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln'),
    });
    // Tokens seen now are scrubbed from every later string.
    expect(r.scrub('later: RT-nested-refresh-token-value / AT-second-of-an-array')).toBe(
      `later: ${previewOf('RT-nested-refresh-token-value')} / ${previewOf('AT-second-of-an-array')}`,
    );
    expect(r.scrub('an-unknown-client-secret')).toBe('[client secret]');
  });

  it('leaves the input untouched (a copy)', () => {
    const copy = structuredClone(body);
    redactJsonTokens(body, redactor());
    expect(body).toEqual(copy);
  });

  it.each([[null], [42], [true], ['plain'], [[]], [{}]])('a bare %j', (v) => {
    expect(redactJsonTokens(v, redactor())).toEqual(v);
  });
});

describe('redactJsonText: the wire text, redacted, otherwise as it came', () => {
  it('keeps number literals, whitespace, member order and repeated members', () => {
    const text = `{ "access_token" : "${TOKEN.replace(/\//g, '\\/')}",\n  "expires_in": 3600.0, "expires_in": 1e3, "scope":"a b" }`;
    const r = redactor();
    learnJsonTokens(JSON.parse(text), r);
    expect(redactJsonText(text, r)).toBe(
      `{ "access_token" : ${JSON.stringify(previewOf(TOKEN))},\n  "expires_in": 3600.0, "expires_in": 1e3, "scope":"a b" }`,
    );
  });

  it('scrubs strings at any depth however they are escaped, and member names', () => {
    const escaped = JSON.stringify(SECRET).slice(1, -1).replace(/s/g, '\\u0073'); // "\u0073" is "s"
    const text = `{"echo":{"body":["x", "${escaped}"]},"error_description":"got ${TOKEN}","${escaped}":1,"refresh_token":"RT-abcdefgh-1234"}`;
    const r = redactor();
    learnJsonTokens(JSON.parse(text), r);
    const out = redactJsonText(text, r);
    expect(out).toBe(
      `{"echo":{"body":["x", "${SHOWN}"]},"error_description":${JSON.stringify(`got ${previewOf(TOKEN)}`)},"${SHOWN}":1,"refresh_token":${JSON.stringify(previewOf('RT-abcdefgh-1234'))}}`,
    );
    expect(JSON.parse(out)).toEqual(redactJsonTokens(JSON.parse(text), r));
  });

  it('a token echoed before its own member is scrubbed too (tokens are learnt from the whole body first)', () => {
    const text = `{"echo":"Bearer AT-echoed-first-12345","access_token":"AT-echoed-first-12345"}`;
    const r = new Redactor();
    learnJsonTokens(JSON.parse(text), r);
    expect(redactJsonText(text, r)).toBe(
      `{"echo":"Bearer ${previewOf('AT-echoed-first-12345')}","access_token":"${previewOf('AT-echoed-first-12345')}"}`,
    );
  });
});

describe('learnTextTokens: bodies that are not whole JSON', () => {
  it.each([
    [
      'JSON cut at the body cap, mid-token',
      '{"token_type":"Bearer","access_token":"AT-cut-by-the-cap-0123',
      'AT-cut-by-the-cap-0123',
    ],
    [
      'JSON inside an HTML page',
      '<pre>{"refresh_token": "RT-in-html-0123456"}</pre>',
      'RT-in-html-0123456',
    ],
    ['form-encoded', 'access_token=AT%2Fform%2Bencoded&token_type=bearer', 'AT/form+encoded'],
    ['a query string', 'see /cb?x=1&id_token=ID-in-a-query-123 for details', 'ID-in-a-query-123'],
  ])('%s', (_what, text, token) => {
    const r = new Redactor();
    learnTextTokens(text, r);
    expect(r.scrub(text)).not.toContain(token);
    expect(r.scrub(`later ${token}`)).toBe(`later ${previewOf(token)}`);
  });
});

describe('jsonTextFacts: what JSON.parse hides', () => {
  it.each<[string, string, Record<string, string>, string[]]>([
    ['integer literals', '{"expires_in":3600,"a":"x"}', { expires_in: '3600' }, []],
    [
      '3600.0 stays 3600.0',
      '{"access_token":"t","expires_in":3600.0}',
      { expires_in: '3600.0' },
      [],
    ],
    [
      'exponent and negative',
      '{"a":1e3,"b":-0,"c":-1.5E-2}',
      { a: '1e3', b: '-0', c: '-1.5E-2' },
      [],
    ],
    ['nested numbers are not top-level members', '{"o":{"expires_in":1.0},"l":[2.0]}', {}, []],
    [
      'a repeated member: the last literal counts, as JSON.parse reads it',
      '{"expires_in":3600,"x":1,"expires_in":60.0}',
      { x: '1', expires_in: '60.0' },
      ['expires_in'],
    ],
    ['repeated, number then string', '{"expires_in":3600,"expires_in":"3600"}', {}, ['expires_in']],
    ['repeated, number then object', '{"e":1,"e":{"f":2}}', {}, ['e']],
    ['names compared after unescaping', '{"a\\u0062":1,"ab":2}', { ab: '2' }, ['ab']],
    ['nested repeats are not top-level repeats', '{"o":{"k":1,"k":2},"p":{"k":3}}', {}, []],
    [
      'several repeats, in order of first repetition',
      '{"b":1,"a":1,"a":2,"b":2,"a":3}',
      { a: '3', b: '2' },
      ['a', 'b'],
    ],
    [
      'strings with braces, commas and escaped quotes do not confuse it',
      '{"s":"}{,:\\"[","n":7}',
      { n: '7' },
      [],
    ],
    ['whitespace everywhere', ' {\n\t"n" :\r\n 5 ,"m":true } ', { n: '5' }, []],
    ['an empty object', '{}', {}, []],
  ])('%s', (_what, text, numberLiterals, duplicateMembers) => {
    expect(jsonTextFacts(text)).toEqual({ numberLiterals, duplicateMembers });
  });

  it('mapJsonStrings re-encodes only the strings it changes', () => {
    const text = '{"a" : "x\\/y", "b":[ "keep\\u0041", 1.50 ]}';
    expect(mapJsonStrings(text, (v) => (v === 'x/y' ? 'changed "q"' : v))).toBe(
      '{"a" : "changed \\"q\\"", "b":[ "keep\\u0041", 1.50 ]}',
    );
  });
});
