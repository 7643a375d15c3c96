/**
 * The named hostile answers of issue 14, one plain test each, so that a regression names its case.
 * Each runs a conformant provider and the hostile one together, as the CLI does (src/contain.ts
 * around observe + evaluate), and checks what every run must keep — the run ends, the conformant
 * provider's verdicts are those it gets alone, the run record serialises, nothing written holds a raw
 * control character — and what the case itself must give: the limit it exceeds, named, as broken
 * findings; or, for an answer within the limits, an ordinary verdict.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Outcome } from '../../src/evaluate.js';
import type { TransportErrorKind } from '../../src/evidence/types.js';
import type { ProviderRun } from '../../src/run-record.js';
import { PROBES } from '../../src/probes/ids.js';
import { isInert } from '../../src/text/inert.js';
import { answerFor, type Mutation } from './mutations.js';
import {
  outcomes,
  runOf,
  runProvider,
  runTogether,
  startPair,
  type Pair,
  type RunOutput,
} from './pair.js';

const ESC_TEXT = '\x1b[2J\x1b[31mred\x07\r\u009b0m\u202eevil\u0000';

interface NamedCase {
  name: string;
  mutations: Mutation[];
  /** The token request's exchange: refused for this reason (a transport-level error, every check on it broken) … */
  refused?: { kind: TransportErrorKind; message: RegExp };
  /** … or answered, and these checks give these outcomes. */
  verdicts?: Record<string, Outcome>;
}

const CASES: NamedCase[] = [
  {
    name: 'a body of 100 000 nested [ (200 KB, under the body cap)',
    mutations: [{ kind: 'nest', depth: 100_000, open: '[', inside: false }],
    refused: { kind: 'too-deep', message: /nests deeper than 64 levels/ },
  },
  {
    name: 'a token response with a member nested 10 000 objects deep',
    mutations: [{ kind: 'nest', depth: 10_000, open: '{', inside: true }],
    refused: { kind: 'too-deep', message: /nests deeper than 64 levels/ },
  },
  {
    name: 'a token response with a member nested 60 deep (within the limit)',
    mutations: [{ kind: 'nest', depth: 60, open: '[', inside: true }],
    verdicts: { 'grant.client-credentials': 'pass', 'response.schema': 'pass' },
  },
  {
    name: 'expires_in 1e400 (not finite once parsed)',
    mutations: [{ kind: 'number', literal: '1e400' }],
    verdicts: { 'response.expires-in-integer': 'fail' },
  },
  {
    name: 'expires_in -1e400',
    mutations: [{ kind: 'number', literal: '-1e400' }],
    verdicts: { 'response.expires-in-integer': 'fail' },
  },
  {
    name: 'expires_in as a 40-digit integer',
    mutations: [{ kind: 'number', literal: '1'.repeat(40) }],
    verdicts: { 'grant.client-credentials': 'pass' },
  },
  {
    name: 'invalid UTF-8 and a NUL byte inside the JSON',
    mutations: [{ kind: 'bytes', at: 0.3, bytes: [0xff, 0x00, 0xc3, 0x28] }],
    verdicts: { 'response.schema': 'fail' },
  },
  {
    name: '20 000 members',
    mutations: [{ kind: 'members', count: 20_000 }],
    refused: { kind: 'too-large', message: /more than 10000 JSON members/ },
  },
  {
    name: '300 header fields (under 16 KiB)',
    mutations: [{ kind: 'headers', count: 300, same: false }],
    refused: { kind: 'too-large', message: /300 header fields|30\d header fields/ },
  },
  {
    name: '3 000 header fields (over 16 KiB)',
    mutations: [{ kind: 'headers', count: 3000, same: false }],
    refused: { kind: 'too-large', message: /header section is larger/ },
  },
  {
    name: '200 repetitions of one header',
    mutations: [{ kind: 'headers', count: 200, same: true }],
    verdicts: { 'grant.client-credentials': 'pass' },
  },
  {
    name: 'duplicate Content-Type and Cache-Control with contradicting values',
    mutations: [{ kind: 'duplicate-headers' }],
    verdicts: { 'grant.client-credentials': 'pass' },
  },
  {
    name: 'a JWT access token with a 100 000-character payload segment',
    mutations: [{ kind: 'jwt', headerChars: 100, payloadChars: 100_000, payloadDepth: 0 }],
    refused: {
      kind: 'too-large',
      message: /access_token is a JWT whose payload segment is \d+ characters/,
    },
  },
  {
    name: 'a JWT access token with a 20 000-character header segment',
    mutations: [{ kind: 'jwt', headerChars: 20_000, payloadChars: 100, payloadDepth: 0 }],
    refused: { kind: 'too-large', message: /JWT whose header segment/ },
  },
  {
    name: 'a JWT access token whose payload nests 1 000 deep',
    mutations: [{ kind: 'jwt', headerChars: 50, payloadChars: 0, payloadDepth: 1000 }],
    refused: { kind: 'too-deep', message: /JWT whose payload nests deeper than 64 levels/ },
  },
  {
    name: 'a gzip-compressed body (Content-Encoding: gzip)',
    mutations: [{ kind: 'encoding', coding: 'gzip', valid: true, bomb: 0 }],
    verdicts: { 'grant.client-credentials': 'pass', 'response.schema': 'pass' },
  },
  {
    name: 'a brotli-compressed body',
    mutations: [{ kind: 'encoding', coding: 'br', valid: true, bomb: 0 }],
    verdicts: { 'response.schema': 'pass' },
  },
  {
    name: 'a deflate-compressed body',
    mutations: [{ kind: 'encoding', coding: 'deflate', valid: true, bomb: 0 }],
    verdicts: { 'response.schema': 'pass' },
  },
  {
    name: 'a gzip bomb (20 MB of spaces)',
    mutations: [{ kind: 'encoding', coding: 'gzip', valid: true, bomb: 20 * 1024 * 1024 }],
    refused: {
      kind: 'too-large',
      message: /decodes \(Content-Encoding: gzip\) to more than the \d+ byte cap/,
    },
  },
  {
    name: 'bytes that are not gzip, declared gzip',
    mutations: [{ kind: 'encoding', coding: 'gzip', valid: false, bomb: 0 }],
    refused: { kind: 'other', message: /does not decode as its Content-Encoding says/ },
  },
  {
    name: 'a content coding the harness does not know',
    mutations: [{ kind: 'encoding', coding: 'x-unknown', valid: false, bomb: 0 }],
    refused: { kind: 'other', message: /content coding "x-unknown"/ },
  },
  {
    name: 'a body that trickles (1 byte every 300 ms)',
    mutations: [{ kind: 'trickle', bytes: 1, everyMs: 300 }],
    refused: { kind: 'timeout', message: /no complete response within 1000 ms/ },
  },
  {
    name: 'a body that stops after 10 bytes',
    mutations: [{ kind: 'stop', after: 10 }],
    refused: {
      kind: 'reset',
      message: /ended before the whole body arrived|reset before a complete response/,
    },
  },
  {
    name: 'escape sequences and control characters in every string',
    mutations: [{ kind: 'control', text: ESC_TEXT, where: 'strings' }],
    verdicts: { 'response.token-type': 'fail' },
  },
  {
    name: 'a text/plain body of escape sequences',
    mutations: [{ kind: 'control', text: ESC_TEXT, where: 'text-body' }],
    verdicts: { 'response.content-type-json': 'fail' },
  },
  {
    name: 'control bytes in a header value',
    mutations: [{ kind: 'control', text: '\x1b[31m\x07\x9b', where: 'header' }],
  },
  {
    name: '100 refresh tokens in one response',
    mutations: [{ kind: 'tokens', count: 100 }],
    refused: { kind: 'too-large', message: /more than 64 token values/ },
  },
];

let pair: Pair;
let baseline: Record<string, Outcome>;

beforeAll(async () => {
  pair = await startPair();
  baseline = outcomes(await runProvider(pair.conformant));
});

afterAll(async () => {
  await pair?.close();
});

/** What every run must keep, whatever the hostile provider sent. */
function expectContained(out: RunOutput): void {
  expect(outcomes(runOf(out, 'conformant'))).toEqual(baseline);
  expect(isInert(out.summary, true), out.summary).toBe(true);
  for (const text of out.rendered) expect(isInert(text, true), text.slice(0, 2000)).toBe(true);
  expect([0, 1]).toContain(out.exitCode);
}

function tokenExchange(run: ProviderRun) {
  const ex = run.evidence.exchanges[PROBES.token(0)];
  if (!ex)
    throw new Error(`no token exchange in ${JSON.stringify(Object.keys(run.evidence.exchanges))}`);
  return ex;
}

describe('named hostile answers, next to a conformant provider', () => {
  it.each(CASES)('$name', async (c) => {
    // One answer for every request: built once, so that building it never holds up the conformant provider.
    const answer = answerFor(c.mutations);
    pair.hostileServer.answer = () => answer;
    const out = await runTogether([pair.conformant, pair.hostile]);
    expectContained(out);
    const hostile = runOf(out, 'hostile');
    // Never the containment net: each case is handled where it arises, with its own message.
    expect(hostile.findings.filter((f) => /not judged: a harness error/.test(f.message))).toEqual(
      [],
    );
    if (c.refused) {
      const ex = tokenExchange(hostile);
      expect(ex.response).toBeUndefined();
      expect(ex.transportError?.kind, ex.transportError?.message).toBe(c.refused.kind);
      expect(ex.transportError?.message).toMatch(c.refused.message);
      const grant = hostile.findings.find((f) => f.checkId === 'grant.client-credentials');
      expect(grant?.outcome).toBe('broken');
      expect(grant?.message).toMatch(c.refused.message);
      expect(hostile.findings.filter((f) => f.outcome === 'fail' || f.outcome === 'pass')).toEqual(
        [],
      );
    }
    for (const [checkId, outcome] of Object.entries(c.verdicts ?? {})) {
      const f = hostile.findings.find((x) => x.checkId === checkId);
      expect(f?.outcome, `${checkId}: ${f?.message}`).toBe(outcome);
    }
  });

  it('quotes server text in the summary escaped, never raw', async () => {
    pair.hostileServer.answer = () =>
      answerFor([{ kind: 'control', text: ESC_TEXT, where: 'strings' }]);
    const out = await runTogether([pair.conformant, pair.hostile]);
    // JSON.stringify (the checks' show()) escapes C0 controls already; C1 controls and bidi overrides it leaves raw.
    expect(out.summary).toContain('\\x9b0m');
    expect(out.summary).toContain('\\u202eevil');
    expect(out.summary).not.toContain('\x1b');
    expect(out.summary).not.toContain('\u009b');
    expect(out.summary).not.toContain('\u202e');
  });
});
