import type { Exchange, RecordedResponse } from '../evidence/types.js';

/** Header values joined as HTTP allows (RFC 9110 §5.3), or undefined when absent. */
export function header(res: RecordedResponse, name: string): string | undefined {
  const values = res.headers[name.toLowerCase()];
  return values && values.length > 0 ? values.join(', ') : undefined;
}

/** The media type without parameters, lower-cased: `application/json; charset=utf-8` → `application/json`. */
export function mediaTypeOf(res: RecordedResponse): string | undefined {
  const value = header(res, 'content-type');
  if (value === undefined) return undefined;
  return value.split(';')[0]?.trim().toLowerCase();
}

/** Directive names of a Cache-Control/Pragma header, split and trimmed, never matched by substring. */
export function directives(res: RecordedResponse, name: string): string[] {
  const value = header(res, name);
  if (value === undefined) return [];
  return value
    .split(',')
    .map((d) => d.split('=')[0]?.trim().toLowerCase() ?? '')
    .filter(Boolean);
}

export function jsonObject(res: RecordedResponse): Record<string, unknown> | undefined {
  const j = res.json;
  return j && typeof j === 'object' && !Array.isArray(j)
    ? (j as Record<string, unknown>)
    : undefined;
}

/** The OAuth error code of an error response, if it has one. */
export function oauthError(res: RecordedResponse): string | undefined {
  const e = jsonObject(res)?.['error'];
  return typeof e === 'string' ? e : undefined;
}

/** A short description of a response for failure messages: `401 invalid_client`, `200 with an access token`. */
export function describeResponse(res: RecordedResponse): string {
  if (res.truncated) return `${res.status} with a body larger than the cap`;
  const err = oauthError(res);
  if (err) return `${res.status} ${err}`;
  if (res.accessToken) return `${res.status} with an access token`;
  const type = mediaTypeOf(res);
  return `${res.status}${type ? ` (${type})` : ''}`;
}

export function show(value: unknown): string {
  if (value === undefined) return 'absent';
  return JSON.stringify(value);
}

export function scopeSet(scope: string | undefined): Set<string> {
  return new Set((scope ?? '').split(' ').filter(Boolean));
}

export function sameSet(a: Set<string>, b: Set<string>): boolean {
  return a.size === b.size && [...a].every((x) => b.has(x));
}

export function isSubset(a: Set<string>, b: Set<string>): boolean {
  return [...a].every((x) => b.has(x));
}

/** A refusal: not a success, and no access token handed out. */
export function refused(res: RecordedResponse): boolean {
  return !(res.status >= 200 && res.status < 300) && res.accessToken === undefined;
}

/** The scope a token response granted: its `scope`, or (RFC 6749 §5.1) the request's when omitted. */
export function grantedScope(
  ex: Exchange,
  requested: string | undefined,
): { scope: Set<string>; echoed: boolean } {
  const s = ex.response ? jsonObject(ex.response)?.['scope'] : undefined;
  if (typeof s === 'string') return { scope: scopeSet(s), echoed: true };
  return { scope: scopeSet(requested), echoed: false };
}

export function list(set: Set<string>): string {
  return set.size === 0 ? '(none)' : `"${[...set].join(' ')}"`;
}
