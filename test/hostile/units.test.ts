/**
 * The pieces of issue 14 one by one, as tables: the inert escape, the JSON shape limits, the path
 * checks, the harness-error line, and containment of a provider whose work throws.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { checkPaths } from '../../src/cli/paths.js';
import { contain } from '../../src/contain.js';
import { readDescriptor, resolveProvider } from '../../src/descriptor/load.js';
import { harnessErrorLine, logHarnessErrorsIn } from '../../src/harness-error.js';
import { decodeBody } from '../../src/http/decode.js';
import { jsonShapeProblem, jwtProblem, ResponseLimitError } from '../../src/http/limits.js';
import { inert, isInert, type InertOptions } from '../../src/text/inert.js';
import { descriptor, SECRET_ENV } from '../robustness/servers.js';
import { stringify } from 'yaml';

const dir = mkdtempSync(path.join(tmpdir(), 'tc-hostile-units-'));

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('inert: server text made safe to print', () => {
  it.each([
    ['plain text', 'invalid_client: bad secret', {}, 'invalid_client: bad secret'],
    ['ESC sequences', '\x1b[2J\x1b[31mred', {}, '\\x1b[2J\\x1b[31mred'],
    [
      'an OSC 8 link',
      '\x1b]8;;http://evil\x07click\x1b]8;;\x07',
      {},
      '\\x1b]8;;http://evil\\x07click\\x1b]8;;\\x07',
    ],
    ['NUL, BEL, DEL', 'a\x00b\x07c\x7f', {}, 'a\\x00b\\x07c\\x7f'],
    ['an 8-bit CSI (C1)', 'a\u009b31mb', {}, 'a\\x9b31mb'],
    ['a bidi override', 'abc\u202edef', {}, 'abc\\u202edef'],
    ['a lone surrogate', 'a\ud800b', {}, 'a\\ud800b'],
    ['an emoji (a valid pair) stays', 'ok \u{1F600}', {}, 'ok \u{1F600}'],
    ['line breaks on one line', 'a\r\nb\nc', {}, 'a\\x0d\\x0ab\\x0ac'],
    [
      'line breaks kept when multiline (a lone CR is not)',
      'a\r\nb\nc\rd\te',
      { multiline: true },
      'a\r\nb\nc\\x0dd\te',
    ],
    [
      'a long value, cut with its length',
      'x'.repeat(50),
      { max: 10 },
      'xxxxxxxxxx… [cut: 50 chars in all]',
    ],
    [
      'a cut never splits a surrogate pair',
      `${'x'.repeat(9)}\u{1F600}yy`,
      { max: 10 },
      `${'x'.repeat(9)}… [cut: 13 chars in all]`,
    ],
  ] as [string, string, InertOptions, string][])('%s', (_, text, options, shown) => {
    expect(inert(text, options)).toBe(shown);
    expect(isInert(inert(text, options), options.multiline ?? false)).toBe(true);
  });
});

describe('JSON shape limits, measured before JSON.parse', () => {
  it.each([
    ['a token response', '{"access_token":"x","token_type":"Bearer","expires_in":3600}', undefined],
    ['64 levels', `${'['.repeat(64)}${']'.repeat(64)}`, undefined],
    ['65 levels', `${'['.repeat(65)}${']'.repeat(65)}`, 'too-deep'],
    ['100 000 levels, never closed', '['.repeat(100_000), 'too-deep'],
    ['brackets inside strings do not count', `{"a":"${'['.repeat(1000)}"}`, undefined],
    ['an escaped quote does not end a string', `{"a":"\\"${'['.repeat(1000)}"}`, undefined],
    ['10 000 elements', `[${Array(10_000).fill(0).join(',')}]`, undefined],
    ['10 001 elements', `[${Array(10_001).fill(0).join(',')}]`, 'too-large'],
    ['an HTML page full of commas is not JSON', `<html>${','.repeat(50_000)}</html>`, undefined],
  ])('%s', (_, text, kind) => {
    expect(jsonShapeProblem(text)?.kind).toBe(kind);
  });

  it('a JWT: segment sizes and the depth of its decoded JSON', () => {
    const seg = (s: string) => Buffer.from(s).toString('base64url');
    expect(
      jwtProblem(`${seg('{"alg":"RS256"}')}.${seg('{"sub":"x"}')}.sig`, 'the access_token'),
    ).toBeUndefined();
    expect(
      jwtProblem(`${seg('{"alg":"RS256"}')}.${'A'.repeat(70_000)}.sig`, 'the access_token')
        ?.problem,
    ).toMatch(/^the access_token is a JWT whose payload segment is 70000 characters/);
    expect(
      jwtProblem(
        `${seg('{"alg":"RS256"}')}.${seg(`{"a":${'['.repeat(100)}${']'.repeat(100)}}`)}.sig`,
        'the access_token',
      )?.kind,
    ).toBe('too-deep');
  });
});

describe('content codings', () => {
  it('undoes gzip, refuses a bomb past the cap and bytes that are not what they claim', () => {
    const body = Buffer.from('{"access_token":"x"}');
    expect(decodeBody(gzipSync(body), 'gzip', 1024).toString()).toBe(body.toString());
    expect(decodeBody(body, 'identity', 1024).toString()).toBe(body.toString());
    expect(() => decodeBody(gzipSync(Buffer.alloc(10_000)), 'gzip', 1024)).toThrow(
      /to more than the 1024 byte cap/,
    );
    expect(() => decodeBody(body, 'gzip', 1024)).toThrow(ResponseLimitError);
    expect(() => decodeBody(body, 'compress', 1024)).toThrow(/content coding "compress"/);
  });
});

describe('path checks: one line naming the flag', () => {
  const regular = path.join(dir, 'regular');
  writeFileSync(regular, 'x');
  it.each([
    [
      'a new directory',
      [{ flag: '--out', path: path.join(dir, 'new/deeper'), kind: 'dir' as const }],
      undefined,
    ],
    [
      'a directory under a regular file',
      [{ flag: '--out', path: path.join(regular, 'x'), kind: 'dir' as const }],
      /^--out: .*regular is a file, not a directory$/,
    ],
    [
      'a file under a regular file',
      [{ flag: '--history', path: path.join(regular, 'x/h.jsonl'), kind: 'file' as const }],
      /^--history: .*regular is a file, not a directory$/,
    ],
    [
      'a directory in /proc (never a recursive mkdir there)',
      [{ flag: '--out', path: '/proc/x/y', kind: 'dir' as const }],
      /^--out: cannot create the directory \/proc\/x \(ENOENT\)$/,
    ],
    [
      'a file that is a directory',
      [{ flag: '--history', path: dir, kind: 'file' as const }],
      /^--history: .* is a directory, not a file$/,
    ],
    [
      'a file that is a device (never opened)',
      [{ flag: '--history', path: '/dev/zero', kind: 'file' as const }],
      /^--history: \/dev\/zero is a device, not a regular file$/,
    ],
    [
      'the second entry names its own flag',
      [
        { flag: '--out', path: path.join(dir, 'ok'), kind: 'dir' as const },
        { flag: '--history', path: path.join(regular, 'h'), kind: 'file' as const },
      ],
      /^--history: /,
    ],
  ])('%s', (_, entries, problem) => {
    const found = checkPaths(entries);
    if (problem === undefined) expect(found).toBeUndefined();
    else expect(found).toMatch(problem);
  });
});

describe('a harness error: one line, the stack in a log file', () => {
  it('prints one inert line naming the log; the log holds the stack', () => {
    logHarnessErrorsIn(dir);
    const line = harnessErrorLine(new TypeError('boom \x1b[31m\nsecond line'));
    expect(line).toMatch(
      /^harness error: TypeError: boom \\x1b\[31m second line \(stack in .*harness-error\.log\)$/,
    );
    const log = /\(stack in (.*)\)$/.exec(line)?.[1] ?? '';
    expect(readFileSync(log, 'utf8')).toMatch(/at .*units\.test\.ts/);
  });
});

describe("contain: one provider's exception is its own broken findings", () => {
  it('a stack overflow while judging becomes broken findings naming it; the provider is still reported', async () => {
    const file = path.join(dir, 'contained.yaml');
    writeFileSync(file, stringify(descriptor('contained', 'https://127.0.0.1:9/token')));
    const p = resolveProvider(readDescriptor(file), { [SECRET_ENV]: 'secret-value' });
    logHarnessErrorsIn(dir);
    const overflow = (n: number): number => overflow(n + 1) + 1;
    const run = await contain(p, async () => {
      overflow(0);
      throw new Error('unreachable');
    });
    expect(run.provider.name).toBe('contained');
    const active = run.findings.filter((f) => f.outcome !== 'skipped');
    expect(active.length).toBeGreaterThan(0);
    for (const f of active) {
      expect(f.outcome).toBe('broken');
      expect(f.message).toMatch(
        /^not judged: a harness error while observing or judging of this provider: a stack overflow \(RangeError: Maximum call stack size exceeded\) \(stack in .*harness-error\.log\)$/,
      );
    }
  });

  it("evidence that cannot be recorded is the provider's problem, found before the run record is written", async () => {
    const file = path.join(dir, 'unrecordable.yaml');
    writeFileSync(file, stringify(descriptor('unrecordable', 'https://127.0.0.1:9/token')));
    const p = resolveProvider(readDescriptor(file), { [SECRET_ENV]: 'secret-value' });
    let deep: unknown = 1;
    for (let i = 0; i < 100_000; i++) deep = [deep];
    const run = await contain(p, async () => ({
      provider: { name: p.name } as never,
      evidence: {
        provider: p.name,
        exchanges: {},
        notRun: {},
        requestsSent: 0,
        startedAt: '',
        finishedAt: '',
        facts: { deep } as never,
      },
      findings: [],
    }));
    expect(
      run.findings.some((f) =>
        /recording or rendering the evidence .* a stack overflow/.test(f.message),
      ),
    ).toBe(true);
    expect(() => JSON.stringify(run)).not.toThrow();
  });
});
