/**
 * Mutations of a conformant token response, as data: the named hostile cases are lists of them,
 * and the fuzz test draws lists of them with fast-check. `answerFor` turns a list into what the
 * hostile server sends.
 */
import { randomBytes } from 'node:crypto';
import { brotliCompressSync, deflateSync, gzipSync } from 'node:zlib';
import type { Answer } from './hostile-server.js';

export type Mutation =
  /** Nested arrays or objects: the whole body, or the value of an extra member of the token response. */
  | { kind: 'nest'; depth: number; open: '[' | '{'; inside: boolean }
  /** expires_in written as this literal (1e400, a 30-digit integer, -0, …). */
  | { kind: 'number'; literal: string }
  /** Raw bytes (invalid UTF-8, NUL, ESC) put into the body at a relative position (0..1). */
  | { kind: 'bytes'; at: number; bytes: number[] }
  /** Extra members of the token response. */
  | { kind: 'members'; count: number }
  /** Extra header fields (all of one name when `same`). */
  | { kind: 'headers'; count: number; same: boolean }
  /** Content-Type and Cache-Control sent twice, with contradicting values. */
  | { kind: 'duplicate-headers' }
  /** The access token as a JWT with segments of these sizes (its payload nested `payloadDepth` deep). */
  | { kind: 'jwt'; headerChars: number; payloadChars: number; payloadDepth: number }
  /** The body compressed (or, when not valid, random bytes declared as compressed); a bomb expands to `bomb` bytes. */
  | {
      kind: 'encoding';
      coding: 'gzip' | 'br' | 'deflate' | 'x-unknown';
      valid: boolean;
      bomb: number;
    }
  /** The body sent `bytes` at a time every `everyMs`. */
  | { kind: 'trickle'; bytes: number; everyMs: number }
  /** The connection destroyed after this many body bytes. */
  | { kind: 'stop'; after: number }
  /** Text (control characters, escape sequences) in every string: an error_description, a header, or the whole body as text/plain. */
  | { kind: 'control'; text: string; where: 'strings' | 'header' | 'text-body' }
  | { kind: 'status'; status: number }
  /** Token-named members beyond the access token, each a credential the redactor must learn. */
  | { kind: 'tokens'; count: number };

const b64url = (s: string | Buffer): string => Buffer.from(s).toString('base64url');

function nested(depth: number, open: '[' | '{'): string {
  return open === '['
    ? `${'['.repeat(depth)}1${']'.repeat(depth)}`
    : `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;
}

function jwt(m: Extract<Mutation, { kind: 'jwt' }>): string {
  const pad = (json: Record<string, unknown>, chars: number): string => {
    const base = JSON.stringify(json);
    // base64url grows 4/3: pad the JSON so the segment has about `chars` characters.
    const extra = Math.max(0, Math.floor((chars * 3) / 4) - base.length - 8);
    return JSON.stringify({ ...json, pad: 'p'.repeat(extra) });
  };
  const header = pad({ alg: 'RS256', typ: 'at+jwt' }, m.headerChars);
  const claims =
    m.payloadDepth > 0
      ? `{"sub":"x","deep":${nested(m.payloadDepth, '{')}}`
      : pad({ sub: 'x', exp: 4_000_000_000 }, m.payloadChars);
  return `${b64url(header)}.${b64url(claims)}.${b64url(randomBytes(32))}`;
}

/** What the hostile server sends for a list of mutations, applied in a fixed order (JSON, bytes, coding, delivery). */
export function answerFor(mutations: Mutation[]): Answer {
  const members: [string, string][] = [
    ['access_token', JSON.stringify(randomBytes(24).toString('base64url'))],
    ['token_type', '"Bearer"'],
    ['expires_in', '300'],
  ];
  const set = (name: string, raw: string): void => {
    const at = members.findIndex(([n]) => n === name);
    if (at >= 0) members[at] = [name, raw];
    else members.push([name, raw]);
  };
  const headers: [string, string | Buffer][] = [
    ['Content-Type', 'application/json; charset=utf-8'],
    ['Cache-Control', 'no-store'],
    ['Pragma', 'no-cache'],
  ];
  let whole: string | undefined;
  let status = 200;
  for (const m of mutations) {
    if (m.kind === 'nest') {
      if (m.inside) set('nested', nested(m.depth, m.open));
      else whole = nested(m.depth, m.open);
    } else if (m.kind === 'number') set('expires_in', m.literal);
    else if (m.kind === 'members')
      for (let i = 0; i < m.count; i++) members.push([`m${i}`, String(i)]);
    else if (m.kind === 'tokens')
      set(
        'issued',
        `[${Array.from({ length: m.count }, (_, i) => `{"refresh_token":"rt-${i}-${randomBytes(6).toString('hex')}"}`).join(',')}]`,
      );
    else if (m.kind === 'jwt') set('access_token', JSON.stringify(jwt(m)));
    else if (m.kind === 'control') {
      if (m.where === 'strings') {
        set('token_type', JSON.stringify(`Bearer${m.text}`));
        set('error_description', JSON.stringify(m.text));
        set(m.text, JSON.stringify(m.text));
      } else if (m.where === 'header')
        headers.push(['X-Note', Buffer.from(m.text.replace(/[\r\n]/g, ''), 'latin1')]);
      else {
        whole = m.text;
        headers[0] = ['Content-Type', 'text/plain'];
      }
    } else if (m.kind === 'status') status = m.status;
    else if (m.kind === 'headers')
      for (let i = 0; i < m.count; i++) headers.push([m.same ? 'X-Same' : `X-H${i}`, `v${i}`]);
    else if (m.kind === 'duplicate-headers')
      headers.push(['Content-Type', 'text/html'], ['Cache-Control', 'public, max-age=3600']);
  }
  let body = Buffer.from(
    whole ?? `{${members.map(([n, v]) => `${JSON.stringify(n)}:${v}`).join(',')}}`,
    'utf8',
  );
  for (const m of mutations) {
    if (m.kind !== 'bytes') continue;
    const at = Math.floor(Math.min(Math.max(m.at, 0), 1) * body.length);
    body = Buffer.concat([body.subarray(0, at), Buffer.from(m.bytes), body.subarray(at)]);
  }
  const answer: Answer = { status, headers, body };
  for (const m of mutations) {
    if (m.kind === 'encoding') {
      const source = m.bomb > 0 ? Buffer.alloc(m.bomb, 0x20) : answer.body;
      const compress =
        m.coding === 'gzip' ? gzipSync : m.coding === 'br' ? brotliCompressSync : deflateSync;
      answer.body =
        m.valid && m.coding !== 'x-unknown'
          ? compress(source)
          : randomBytes(Math.min(source.length, 4096));
      answer.headers.push(['Content-Encoding', m.coding]);
    } else if (m.kind === 'trickle') answer.trickle = { bytes: m.bytes, everyMs: m.everyMs };
    else if (m.kind === 'stop') answer.stopAfter = m.after;
  }
  return answer;
}
