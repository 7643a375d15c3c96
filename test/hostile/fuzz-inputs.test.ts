/**
 * Properties over the run's input:
 * - descriptors: any mutation of a valid descriptor (its data, or its text) either loads, and then
 *   the plan and the run record's view of it can be made, or is refused with one DescriptorError
 *   line (the CLI's exit 2, before any request) — never any other exception (the CLI's exit 3);
 * - argument vectors: the real CLI, given any mix of its flags, descriptor paths (valid, invalid,
 *   hostile) and odd strings, ends by itself with 0, 1, 2 or 4; a 2 is one `error:` line (the usage
 *   text may follow), no stack, nothing raw, and the endpoint of the valid descriptor got no request.
 *
 * CI runs a few cases from a fixed seed; longer runs: npx tsx bench/fuzz.ts (docs/fuzzing.md).
 */
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import {
  DescriptorError,
  PROVIDERS_DIR,
  readDescriptor,
  resolveProvider,
} from '../../src/descriptor/load.js';
import { probePlan } from '../../src/probes/plan.js';
import { publicProvider } from '../../src/run-record.js';
import { isInert } from '../../src/text/inert.js';
import { describeRun, REPO_ROOT, removeTempDirs, runCli } from '../e2e/run-cli.js';
import {
  CLIENT_SECRET,
  descriptor,
  SECRET_ENV,
  startTokenServer,
  type TokenServer,
} from '../robustness/servers.js';
import { fuzzSettings } from './fuzz-settings.js';

const descriptorRuns = fuzzSettings(150);
const cliRuns = fuzzSettings(6);

let dir: string;

beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'tc-fuzz-inputs-'));
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
  removeTempDirs();
});

// ------------------------------------------------------------------------------------- descriptors

/** Valid descriptors to start from: the minimal one of the bad-descriptor corpus and every shipped one. */
const SEEDS: string[] = [
  readFileSync(path.join(REPO_ROOT, 'test/descriptors/good/minimal.yaml'), 'utf8'),
  ...[
    'reference',
    'reference-jwt-bearer',
    'akamai-identity-cloud',
    'federated-directory',
    'ist-educloud',
    'raidiam-connect',
    'signaturgruppen-broker',
  ].map((n) => readFileSync(path.join(PROVIDERS_DIR, `${n}.yaml`), 'utf8')),
];

/** Values a fuzzed field may take: JSON of any shape, and the awkward ones. */
const oddValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.jsonValue({ maxDepth: 3 }),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.constantFrom(
    '/dev/zero',
    '/dev/stdin',
    '/proc/self/mem',
    '/',
    '..',
    '${env:TC_FUZZ_UNSET}',
    '${env:NO',
    'https://x/${env:H}',
    'http://127.0.0.1:1/token',
    '*a',
    '&a',
    '\x1b[2J',
    '1e400',
    '',
  ),
  fc.constantFrom(1e308, -1, 0, 2 ** 53, Number.MAX_SAFE_INTEGER, 0.5),
  fc
    .integer({ min: 40, max: 400 })
    .map((depth) => JSON.parse(`${'['.repeat(depth)}${']'.repeat(depth)}`) as unknown),
  fc.integer({ min: 1_000, max: 100_000 }).map((n) => 'x'.repeat(n)),
);

/** Every path (as keys) to a value in a parsed descriptor. */
function paths(
  value: unknown,
  at: (string | number)[] = [],
  out: (string | number)[][] = [],
): (string | number)[][] {
  out.push(at);
  if (Array.isArray(value)) value.forEach((v, i) => paths(v, [...at, i], out));
  else if (value && typeof value === 'object')
    for (const [k, v] of Object.entries(value)) paths(v, [...at, k], out);
  return out;
}

type Edit = { op: 'set' | 'delete' | 'add'; pick: number; key: string; value: unknown };

function applyEdit(data: unknown, e: Edit): unknown {
  const all = paths(data);
  const target = all[e.pick % all.length] ?? [];
  if (target.length === 0) return e.op === 'set' ? e.value : data;
  let parent = data as Record<string | number, unknown>;
  for (const k of target.slice(0, -1)) parent = parent[k] as Record<string | number, unknown>;
  const last = target[target.length - 1]!;
  if (e.op === 'delete') {
    if (Array.isArray(parent)) parent.splice(Number(last), 1);
    else delete parent[last];
  } else if (e.op === 'set') parent[last] = e.value;
  else {
    const holder = parent[last];
    if (holder && typeof holder === 'object' && !Array.isArray(holder))
      (holder as Record<string, unknown>)[e.key] = e.value;
    else parent[last] = e.value;
  }
  return data;
}

const ALIAS_BOMB = [
  'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]',
  ...'bcdefghi'
    .split('')
    .map((c, i) => `${c}: &${c} [${Array(9).fill(`*${'abcdefghi'[i]}`).join(',')}]`),
].join('\n');

type TextEdit = {
  op: 'insert' | 'truncate' | 'duplicate-line' | 'alias-bomb' | 'bom' | 'deep-flow';
  at: number;
  text: string;
};

function applyTextEdit(text: string, e: TextEdit): string {
  const at = Math.floor(e.at * text.length);
  switch (e.op) {
    case 'insert':
      return text.slice(0, at) + e.text + text.slice(at);
    case 'truncate':
      return text.slice(0, at);
    case 'duplicate-line': {
      const lines = text.split('\n');
      const i = Math.floor(e.at * lines.length);
      lines.splice(i, 0, lines[i] ?? '');
      return lines.join('\n');
    }
    case 'alias-bomb':
      return `${text}\n${ALIAS_BOMB}\n`;
    case 'bom':
      return `\ufeff${text}`;
    case 'deep-flow':
      return `${text}\nx: ${'['.repeat(5000)}${']'.repeat(5000)}\n`;
  }
}

const edit: fc.Arbitrary<Edit> = fc.record({
  op: fc.constantFrom('set' as const, 'delete' as const, 'add' as const),
  pick: fc.nat(),
  key: fc.string({ maxLength: 12 }),
  value: oddValue,
});
const textEdit: fc.Arbitrary<TextEdit> = fc.record({
  op: fc.constantFrom(
    'insert' as const,
    'truncate' as const,
    'duplicate-line' as const,
    'alias-bomb' as const,
    'bom' as const,
    'deep-flow' as const,
  ),
  at: fc.double({ min: 0, max: 1, noNaN: true }),
  text: fc.oneof(
    fc.string({ unit: 'binary', maxLength: 20 }),
    fc.constantFrom(
      ': ',
      '- ',
      '&x ',
      '*x',
      '!!binary ',
      '{',
      '[',
      '"',
      '\t',
      '\n  ',
      '<<: *a',
      '%YAML 1.1\n---\n',
    ),
  ),
});

/** ${env:…} values that look real: URLs for URL-ish names, a key file for key-ish ones. */
function fuzzEnv(keyFile: string): NodeJS.ProcessEnv {
  return new Proxy({} as NodeJS.ProcessEnv, {
    get: (_, name) => {
      if (typeof name !== 'string' || name === 'TC_FUZZ_UNSET') return undefined;
      if (/KEY_FILE|_KEY$/.test(name)) return keyFile;
      if (/URL|ISSUER/.test(name)) return 'https://127.0.0.1:9/oauth/token';
      if (/CERT_FILE/.test(name)) return keyFile;
      return 'fuzz-value-1234';
    },
  });
}

describe('descriptors', () => {
  it(`a mutated descriptor loads, or is refused with one DescriptorError line (${descriptorRuns.runs} runs, seed ${descriptorRuns.seed})`, () => {
    const keyFile = path.join(dir, 'key.pem');
    writeFileSync(
      keyFile,
      generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({
        type: 'pkcs8',
        format: 'pem',
      }),
    );
    const env = fuzzEnv(keyFile);
    let n = 0;
    const started = performance.now();
    fc.assert(
      fc.property(
        fc.nat({ max: SEEDS.length - 1 }),
        fc.array(edit, { maxLength: 3 }),
        fc.array(textEdit, { maxLength: 2 }),
        fc.boolean(),
        (seed, edits, textEdits, asJson) => {
          let data = parse(SEEDS[seed] ?? '') as unknown;
          for (const e of edits) data = applyEdit(data, e);
          let text = asJson ? JSON.stringify(data) : stringify(data);
          for (const e of textEdits) text = applyTextEdit(text, e);
          const file = path.join(dir, `fuzz-${n++}.${asJson ? 'json' : 'yaml'}`);
          writeFileSync(file, text);
          try {
            const p = resolveProvider(readDescriptor(file), env);
            // What the CLI does next before the first request: the plan, and the record's view of the provider.
            probePlan(p);
            publicProvider(p);
          } catch (e) {
            if (!(e instanceof DescriptorError))
              throw new Error(
                `not a DescriptorError (the CLI would exit 3): ${(e as Error).stack ?? String(e)}\n--- descriptor\n${text.slice(0, 2000)}`,
              );
            expect(e.message).not.toContain('\n');
            expect(isInert(e.message), e.message).toBe(true);
          }
        },
      ),
      {
        numRuns: descriptorRuns.runs,
        seed: descriptorRuns.seed,
        endOnFailure: !descriptorRuns.shrink,
      },
    );
    console.log(
      `fuzz-inputs (descriptors): ${descriptorRuns.runs} runs, seed ${descriptorRuns.seed}, ${Math.round(performance.now() - started)} ms`,
    );
  }, 300_000);
});

// -------------------------------------------------------------------------------- argument vectors

describe('argument vectors', () => {
  let server: TokenServer;
  const files: Record<string, string> = {};

  beforeAll(async () => {
    server = await startTokenServer();
    const valid = descriptor('fuzz-valid', server.tokenUrl, {
      tls: { caFile: server.caFile },
      limits: { timeoutMs: 5000, maxExpiryWaitSeconds: 0, requestsPerSecond: 50 },
    });
    files['valid'] = path.join(dir, 'valid.yaml');
    writeFileSync(files['valid'], stringify(valid));
    files['bomb'] = path.join(dir, 'bomb.yaml');
    writeFileSync(files['bomb'], `${stringify(valid)}\n${ALIAS_BOMB}\n`);
    files['syntax'] = path.join(dir, 'syntax.yaml');
    writeFileSync(files['syntax'], 'name: [unclosed\n');
    files['regular'] = path.join(dir, 'regular-file');
    writeFileSync(files['regular'], 'not a directory');
  });

  afterAll(async () => {
    await server?.close();
  });

  it(`the CLI ends with 0, 1, 2 or 4; a 2 is one line and sends nothing (${cliRuns.runs} runs, seed ${cliRuns.seed})`, async () => {
    const word = fc.oneof(
      fc.constantFrom(
        '--provider',
        '-p',
        '--strict',
        '--no-report',
        '--out',
        '--help',
        '--bogus',
        '-x',
        '--',
        '--provider=',
        '--out=',
      ),
      fc.constantFrom(
        files['valid']!,
        files['bomb']!,
        files['syntax']!,
        `${files['regular']!}/x`,
        '/proc/x',
        '/dev/zero',
        '/dev/stdin',
        'nope',
        'reference-typo',
        '',
      ),
      fc
        .string({ unit: 'binary', minLength: 1, maxLength: 12 })
        .filter((s) => !s.includes('\u0000')),
    );
    const started = performance.now();
    await fc.assert(
      fc.asyncProperty(fc.array(word, { minLength: 1, maxLength: 6 }), async (words) => {
        // Always a provider: without one the CLI runs the embedded reference, a 15-second run of its own.
        const args =
          words.includes('--help') || words.includes('-p') || words.includes('--provider')
            ? words
            : ['--provider', files['valid']!, ...words];
        const before = server.requests.length;
        const r = await runCli([...args, '--no-report'], {
          env: { [SECRET_ENV]: CLIENT_SECRET },
          timeoutMs: 120_000,
        });
        expect(r.timedOut, describeRun(r)).toBe(false);
        expect([0, 1, 2, 4], describeRun(r)).toContain(r.code);
        expect(isInert(r.stderr, true), describeRun(r)).toBe(true);
        expect(r.stderr, describeRun(r)).not.toMatch(/^\s+at /m);
        if (r.code === 2) {
          const lines = r.stderr.replace(/\n$/, '').split('\n');
          expect(lines[0], describeRun(r)).toMatch(/^error: /);
          // After the one error line, only the usage text (for a usage error) may follow.
          expect(
            lines.slice(1).filter((l) => /^error:|harness error/.test(l)),
            describeRun(r),
          ).toEqual([]);
          expect(lines.length === 1 || lines[1]?.startsWith('usage: '), describeRun(r)).toBe(true);
          expect(server.requests.length - before, describeRun(r)).toBe(0);
        }
      }),
      { numRuns: cliRuns.runs, seed: cliRuns.seed, endOnFailure: !cliRuns.shrink },
    );
    console.log(
      `fuzz-inputs (argument vectors): ${cliRuns.runs} runs, seed ${cliRuns.seed}, ${Math.round(performance.now() - started)} ms`,
    );
  }, 600_000);
});
