/**
 * Property: whatever a token endpoint answers, the run ends within its deadlines, the provider next
 * to it keeps the verdicts it gets alone, the run record serialises, nothing the run writes holds a
 * raw control character, and the hostile provider's own trouble is handled where it arises (never
 * by the containment net, which would mean a harness bug). fast-check draws lists of mutations of a
 * conformant token response (test/hostile/mutations.ts) and the hostile server sends them to every
 * request of one provider while a conformant provider runs beside it, in one run as the CLI makes it.
 *
 * CI runs a few cases from a fixed seed; a longer run (see docs/fuzzing.md):
 *   npx tsx bench/fuzz.ts --scale 10   (or TC_FUZZ_SCALE=10 TC_FUZZ_SEED=<n> npx vitest run … this file)
 */
import fc from 'fast-check';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Outcome } from '../../src/evaluate.js';
import { isInert } from '../../src/text/inert.js';
import { answerFor, type Mutation } from './mutations.js';
import { outcomes, runOf, runProvider, runTogether, startPair, type Pair } from './pair.js';
import { fuzzSettings } from './fuzz-settings.js';

const { runs, seed, shrink } = fuzzSettings(10);

/** Text with at least one escape sequence, and whatever else fast-check draws (any code point, lone surrogates too). */
const controlText = fc
  .tuple(
    fc.constantFrom('\x1b[2J', '\x1b]8;;http://x\x07', '\r', '\u009b31m', '\u202e', '\x00', '\x7f'),
    fc.string({ unit: 'binary', maxLength: 30 }),
  )
  .map(([esc, s]) => `${s}${esc}${s}`);

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({
    kind: fc.constant('nest' as const),
    depth: fc.oneof(fc.integer({ min: 1, max: 70 }), fc.integer({ min: 60, max: 200_000 })),
    open: fc.constantFrom('[' as const, '{' as const),
    inside: fc.boolean(),
  }),
  fc.record({
    kind: fc.constant('number' as const),
    literal: fc.constantFrom(
      '1e400',
      '-1e400',
      '1e-400',
      '-0',
      '3600.0',
      '0.5',
      '-1',
      '9007199254740993',
      '1'.repeat(400),
      '1E+2',
    ),
  }),
  fc.record({
    kind: fc.constant('bytes' as const),
    at: fc.double({ min: 0, max: 1, noNaN: true }),
    bytes: fc.array(fc.integer({ min: 0, max: 255 }), { minLength: 1, maxLength: 8 }),
  }),
  fc.record({
    kind: fc.constant('members' as const),
    count: fc.oneof(fc.integer({ min: 1, max: 50 }), fc.integer({ min: 9_000, max: 30_000 })),
  }),
  fc.record({
    kind: fc.constant('headers' as const),
    count: fc.integer({ min: 1, max: 4_000 }),
    same: fc.boolean(),
  }),
  fc.constant({ kind: 'duplicate-headers' as const }),
  fc.record({
    kind: fc.constant('jwt' as const),
    headerChars: fc.integer({ min: 10, max: 30_000 }),
    payloadChars: fc.integer({ min: 10, max: 120_000 }),
    payloadDepth: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 2_000 })),
  }),
  fc.record({
    kind: fc.constant('encoding' as const),
    coding: fc.constantFrom(
      'gzip' as const,
      'br' as const,
      'deflate' as const,
      'x-unknown' as const,
    ),
    valid: fc.boolean(),
    bomb: fc.constantFrom(0, 0, 3 * 1024 * 1024),
  }),
  fc.record({
    kind: fc.constant('trickle' as const),
    bytes: fc.integer({ min: 1, max: 8 }),
    everyMs: fc.integer({ min: 150, max: 400 }),
  }),
  fc.record({ kind: fc.constant('stop' as const), after: fc.integer({ min: 0, max: 100 }) }),
  fc.record({
    kind: fc.constant('control' as const),
    text: controlText,
    where: fc.constantFrom('strings' as const, 'header' as const, 'text-body' as const),
  }),
  fc.record({
    kind: fc.constant('status' as const),
    status: fc.constantFrom(200, 201, 204, 301, 400, 401, 404, 500, 503, 599),
  }),
  fc.record({ kind: fc.constant('tokens' as const), count: fc.integer({ min: 1, max: 200 }) }),
);

let pair: Pair;
let baseline: Record<string, Outcome>;

beforeAll(async () => {
  pair = await startPair();
  baseline = outcomes(await runProvider(pair.conformant));
});

afterAll(async () => {
  await pair?.close();
});

it(`any answer of one endpoint: the run ends, its neighbour is unchanged, the output is inert (${runs} runs, seed ${seed})`, async () => {
  const started = performance.now();
  await fc.assert(
    fc.asyncProperty(fc.array(mutation, { minLength: 1, maxLength: 3 }), async (mutations) => {
      const answer = answerFor(mutations);
      pair.hostileServer.answer = () => answer;
      const out = await runTogether([pair.conformant, pair.hostile]);
      expect(outcomes(runOf(out, 'conformant'))).toEqual(baseline);
      const hostile = runOf(out, 'hostile');
      expect(hostile.findings.length).toBeGreaterThan(0);
      expect(
        hostile.findings
          .filter((f) => /not judged: a harness error/.test(f.message))
          .map((f) => f.message),
      ).toEqual([]);
      expect(isInert(out.summary, true), out.summary).toBe(true);
      for (const text of out.rendered) expect(isInert(text, true)).toBe(true);
      expect([0, 1]).toContain(out.exitCode);
    }),
    { numRuns: runs, seed, endOnFailure: !shrink },
  );
  // For the record (docs/fuzzing.md); never asserted: timing belongs in bench/.
  console.log(
    `fuzz-responses: ${runs} runs, seed ${seed}, ${Math.round(performance.now() - started)} ms`,
  );
}, 600_000);
