import { decodeJwt, decodeProtectedHeader } from 'jose';
import type { TokenFacts } from './types.js';

const PREVIEW_CHARS = 8;

/** `abcdefgh...(redacted, 812 chars)`: recognisable, useless to an attacker. ASCII only. */
export function previewOf(token: string): string {
  return `${token.slice(0, PREVIEW_CHARS)}...(redacted, ${token.length} chars)`;
}

export function tokenFacts(value: unknown): TokenFacts {
  const jsonType = value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value;
  const text = typeof value === 'string' ? value : JSON.stringify(value) ?? '';
  const facts: TokenFacts = {
    jsonType,
    length: text.length,
    vschar: /^[\x20-\x7E]+$/.test(text),
    preview: previewOf(text),
  };
  if (typeof value === 'string' && /^[\w-]+\.[\w-]+\.[\w-]*$/.test(value)) {
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
  /** Every form a secret may travel in (as is, form-urlencoded, percent-encoded), longest first; rebuilt on add. */
  private forms: [string, string][] = [];

  /** A secret value and what to show instead (e.g. `$AKAMAI_CLIENT_SECRET`). */
  add(value: string, shownAs: string): void {
    if (value.length < 4 || this.secrets.get(value) === shownAs) return;
    this.secrets.set(value, shownAs);
    const forms = new Map<string, string>();
    for (const [v, shown] of this.secrets) for (const f of [v, formEncode(v), encodeURIComponent(v)]) if (!forms.has(f)) forms.set(f, shown);
    this.forms = [...forms.entries()].sort((a, b) => b[0].length - a[0].length);
  }

  addToken(token: string): void {
    this.add(token, previewOf(token));
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
    let out = text;
    for (const [form, shown] of this.forms) if (out.includes(form)) out = out.split(form).join(shown);
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

const TOKEN_MEMBERS = ['access_token', 'refresh_token', 'id_token'];

/** Replaces token members of a parsed JSON body by their previews; returns the redacted copy. */
export function redactJsonTokens(json: unknown, redactor: Redactor): unknown {
  if (!json || typeof json !== 'object' || Array.isArray(json)) return json;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(json as Record<string, unknown>)) {
    if (TOKEN_MEMBERS.includes(k) && typeof v === 'string') {
      redactor.addToken(v);
      out[k] = previewOf(v);
    } else {
      out[k] = typeof v === 'string' ? redactor.scrub(v) : v;
    }
  }
  return out;
}
