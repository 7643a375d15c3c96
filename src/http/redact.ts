import { decodeJwt, decodeProtectedHeader } from 'jose';
import { mapJsonStrings } from './json-text.js';
import { jwtProblem, ResponseLimitError } from './limits.js';
import type { TokenFacts } from './types.js';

const PREVIEW_CHARS = 8;

/** What a client secret that no descriptor variable names is shown as. */
export const CLIENT_SECRET_SHOWN = '[client secret]';

/** `abcdefgh...(redacted, 812 chars)`: recognisable, useless to an attacker. ASCII only. */
export function previewOf(token: string): string {
  return `${token.slice(0, PREVIEW_CHARS)}...(redacted, ${token.length} chars)`;
}

/** Facts about a token; a JWT beyond the limits (src/http/limits.ts) throws a ResponseLimitError naming `name`. */
export function tokenFacts(value: unknown, name = 'the token'): TokenFacts {
  const jsonType = value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value;
  const text = typeof value === 'string' ? value : (JSON.stringify(value) ?? '');
  const facts: TokenFacts = {
    jsonType,
    length: text.length,
    vschar: /^[\x20-\x7E]+$/.test(text),
    preview: previewOf(text),
  };
  if (typeof value === 'string' && /^[\w-]+\.[\w-]+\.[\w-]*$/.test(value)) {
    // Before jose decodes it: its claims are recorded, and walked recursively from then on.
    const problem = jwtProblem(value, name);
    if (problem) throw new ResponseLimitError(problem.kind, problem.code, problem.problem);
    try {
      facts.jwt = {
        header: decodeProtectedHeader(value) as Record<string, unknown>,
        payload: decodeJwt(value) as Record<string, unknown>,
      };
    } catch {
      // Not a JWT after all: an opaque token with two dots.
    }
  }
  return facts;
}

/**
 * The single redaction chokepoint: every string recorded passes through `scrub`. It knows the
 * provider's secrets (by value, with the variable they came from) and every token seen so far.
 */
export class Redactor {
  private readonly secrets = new Map<string, string>();
  /**
   * Every form a secret may travel in, with what to show instead: as is, form-urlencoded,
   * percent-encoded, and as a JSON string's content (with and without `\/`), so an echo of a request
   * inside JSON text or an HTML page is caught as well. Each value's forms are computed once, on add.
   */
  private readonly formMap = new Map<string, { value: string; shown: string }>();
  /** formMap's entries, longest first so overlapping values redact fully; rebuilt lazily after an add. */
  private sorted: [string, string][] | undefined = [];

  /** A secret value and what to show instead (e.g. `$AKAMAI_CLIENT_SECRET`). */
  add(value: string, shownAs: string): void {
    if (value.length < 4 || this.secrets.get(value) === shownAs) return;
    this.secrets.set(value, shownAs);
    const json = JSON.stringify(value).slice(1, -1);
    for (const f of [
      value,
      formEncode(value),
      encodeURIComponent(value),
      json,
      json.replace(/\//g, '\\/'),
    ]) {
      // A form another secret already claims keeps its first owner, unless it is this value itself.
      const owner = this.formMap.get(f);
      if (owner === undefined || owner.value === value || f === value)
        this.formMap.set(f, { value, shown: shownAs });
    }
    this.sorted = undefined;
  }

  /** A token (or assertion) seen on the wire: shown as its preview, unless it is a known secret already. */
  addToken(token: string): void {
    if (!this.secrets.has(token)) this.add(token, previewOf(token));
  }

  /** A credential named by its parameter or member: a client secret is never previewed (its first characters are secret too). */
  addCredential(name: string, value: string): void {
    if (name === 'client_secret') this.add(value, this.secrets.get(value) ?? CLIENT_SECRET_SHOWN);
    // A verifier is never previewed: with the code's preview its first characters are all there is.
    else if (name === 'code_verifier')
      this.add(value, this.secrets.get(value) ?? '[code_verifier]');
    else this.addToken(value);
  }

  /** The replacement for a known secret value, if it is one. */
  replacementFor(value: string): string | undefined {
    return this.secrets.get(value);
  }

  /** Known secrets as [value, shownAs], longest first so overlapping values redact fully. */
  entries(): [string, string][] {
    return [...this.secrets.entries()].sort((a, b) => b[0].length - a[0].length);
  }

  scrub(text: string): string {
    this.sorted ??= [...this.formMap.entries()]
      .map(([form, { shown }]): [string, string] => [form, shown])
      .sort((a, b) => b[0].length - a[0].length);
    let out = text;
    for (const [form, shown] of this.sorted)
      if (out.includes(form)) out = out.split(form).join(shown);
    return out;
  }
}

/** application/x-www-form-urlencoded, as RFC 6749 Appendix B asks for Basic credentials too. */
export function formEncode(value: string): string {
  return new URLSearchParams({ v: value }).toString().slice(2);
}

/** Authorization header values are never recorded as they are. */
export function redactAuthorization(value: string, redactor: Redactor): string {
  const m = /^(\S+)\s+(.*)$/.exec(value);
  if (!m) return '[redacted]';
  const [, scheme = '', credentials = ''] = m;
  if (/^basic$/i.test(scheme)) {
    const decoded = Buffer.from(credentials, 'base64').toString('utf8');
    const idx = decoded.indexOf(':');
    const id = idx >= 0 ? decoded.slice(0, idx) : decoded;
    return `${scheme} [redacted: base64 of "${redactor.scrub(id)}:<secret>"]`;
  }
  return `${scheme} ${previewOf(credentials)}`;
}

/**
 * Members whose string values are credentials, wherever they occur: the tokens of a token response
 * (RFC 6749 §5.1, OpenID Connect's id_token) and, for servers that echo a request back, the
 * credentials a request carries (RFC 6749 §2.3.1 client_secret, RFC 7521 §4.2 client_assertion,
 * RFC 7523 §2.1 assertion, RFC 8693 §2.1 subject_token and actor_token).
 */
export const TOKEN_MEMBERS: ReadonlySet<string> = new Set([
  'access_token',
  'refresh_token',
  'id_token',
  'client_secret',
  'client_assertion',
  'assertion',
  'subject_token',
  'actor_token',
]);

/**
 * Request parameters (form or query) that carry a credential: RFC 7662 §2.1 `token` as well, and an
 * authorization code with its PKCE verifier (RFC 6749 §4.1.3, RFC 7636 §4.5).
 */
export const CREDENTIAL_PARAMS: ReadonlySet<string> = new Set([
  ...TOKEN_MEMBERS,
  'token',
  'code',
  'code_verifier',
]);

/** A token-named member's value as recorded: what the redactor shows for it, or a preview, whatever its length. */
function redactMember(name: string | undefined, value: string, redactor: Redactor): string {
  if (name === undefined || !TOKEN_MEMBERS.has(name)) return redactor.scrub(value);
  return (
    redactor.replacementFor(value) ??
    (name === 'client_secret' ? CLIENT_SECRET_SHOWN : previewOf(value))
  );
}

/** Adds every token-named member value of a parsed JSON value, at any depth, to the redactor. */
export function learnJsonTokens(json: unknown, redactor: Redactor, member?: string): void {
  for (const [name, value] of jsonTokens(json, Infinity, member))
    redactor.addCredential(name, value);
}

/**
 * Every token-named member value of a parsed JSON value, at any depth, as [member, value]; stops
 * once more than `max` are found (the runner refuses such a response before learning any of them).
 */
export function jsonTokens(
  json: unknown,
  max = Infinity,
  member?: string,
  out: [string, string][] = [],
): [string, string][] {
  if (out.length > max) return out;
  if (typeof json === 'string') {
    if (member !== undefined && TOKEN_MEMBERS.has(member)) out.push([member, json]);
  } else if (Array.isArray(json)) {
    for (const v of json) jsonTokens(v, max, member, out);
  } else if (json && typeof json === 'object') {
    for (const [k, v] of Object.entries(json as Record<string, unknown>))
      jsonTokens(v, max, k, out);
  }
  return out;
}

const NAMES = [...TOKEN_MEMBERS].join('|');
/** `"access_token": "…"`, also cut short by the body cap (no closing quote). */
const JSON_MEMBER = new RegExp(`"(${NAMES})"\\s*:\\s*"((?:[^"\\\\]|\\\\.)*)(?:"|$)`, 'g');
/** `access_token=…` in a form-encoded or query-like text. */
const FORM_MEMBER = new RegExp(`(?:^|[?&\\s])(${NAMES})=([^&\\s"]+)`, 'g');

/**
 * Adds the token-named members a text shows to the redactor, for bodies that are not (whole) JSON:
 * cut at the body cap, form-encoded, or an HTML page quoting JSON.
 */
export function learnTextTokens(text: string, redactor: Redactor): void {
  for (const [name, value] of textTokens(text)) redactor.addCredential(name, value);
}

/** The token-named members a text shows, as [member, value] (a form value raw and decoded); stops after more than `max`. */
export function textTokens(text: string, max = Infinity): [string, string][] {
  const out: [string, string][] = [];
  for (const m of text.matchAll(JSON_MEMBER)) {
    if (out.length > max) return out;
    const [, name = '', raw = ''] = m;
    let value = raw;
    try {
      value = JSON.parse(`"${raw}"`) as string;
    } catch {
      // An escape cut in half by the cap: the raw text is what would be recorded.
    }
    out.push([name, value]);
  }
  for (const m of text.matchAll(FORM_MEMBER)) {
    if (out.length > max) return out;
    const [, name = '', raw = ''] = m;
    out.push([name, raw]);
    try {
      out.push([name, decodeURIComponent(raw.replace(/\+/g, ' '))]);
    } catch {
      // Not valid percent-encoding: the raw form is known already.
    }
  }
  return out;
}

/**
 * A parsed JSON value with every string at any depth scrubbed, and token-named members (at any
 * depth, in arrays too) replaced by their previews; member names are scrubbed as well. Returns a copy.
 * Call learnJsonTokens first, so a token echoed before its own member is scrubbed too.
 */
export function redactJsonTokens(json: unknown, redactor: Redactor, member?: string): unknown {
  if (typeof json === 'string') return redactMember(member, json, redactor);
  if (Array.isArray(json)) return json.map((v) => redactJsonTokens(v, redactor, member));
  if (json && typeof json === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(json as Record<string, unknown>))
      out[redactor.scrub(k)] = redactJsonTokens(v, redactor, k);
    return out;
  }
  return json;
}

/**
 * The JSON text as it came, with the same redaction as redactJsonTokens applied to its string
 * literals only: number literals, whitespace, member order and repeated members stay as received.
 */
export function redactJsonText(text: string, redactor: Redactor): string {
  return mapJsonStrings(text, (value, place) =>
    place.isName ? redactor.scrub(value) : redactMember(place.member, value, redactor),
  );
}
