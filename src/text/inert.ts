/**
 * Server-controlled text made inert before it reaches a terminal, a CI log, summary.md, JUnit XML or
 * the report. A token endpoint decides what its bodies, headers and error descriptions say; printed
 * as they are, an ESC sequence rewrites a CI log (colours, cursor moves, OSC 8 links, a cleared
 * screen), a lone CR overwrites a line, and a bidi override makes text read other than it is
 * (CVE-2021-42574). Every such character is shown as an escape instead: `\x1b`, `\x9b`, `\u202e`.
 *
 * Backslashes are left as they are, so ordinary text (JSON error messages quoting `\"`) reads as
 * before; a server that writes the four characters `\x1b` itself gains nothing by it: they are inert.
 */

export interface InertOptions {
  /** Keep line feeds and tabs (an attachment showing a body); otherwise they are escaped too (one line). */
  multiline?: boolean;
  /** The longest text kept, in UTF-16 code units (before escaping); the rest is cut and its length stated. */
  max?: number;
}

/** Long enough for every message the checks write; a server's 100 KB error_description is cut. */
export const DEFAULT_MAX_CHARS = 2000;

/**
 * Characters shown escaped: C0 controls, DEL, C1 controls (0x9b is an 8-bit CSI to some terminals),
 * bidi embeddings, overrides, isolates and marks, the line and paragraph separators, and the BOM /
 * zero-width no-break space; lone surrogates (invalid UTF-16, never valid output) too.
 */
const UNSAFE =
  // eslint-disable-next-line no-control-regex -- matching control characters is the point
  /[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069\ufeff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

function escapeChar(c: string, multiline: boolean): string {
  if (multiline && (c === '\n' || c === '\t')) return c;
  const code = c.charCodeAt(0);
  return code <= 0xff
    ? `\\x${code.toString(16).padStart(2, '0')}`
    : `\\u${code.toString(16).padStart(4, '0')}`;
}

/**
 * The text with every control, escape and bidi character shown as an escape, cut after `max`
 * characters with the original length stated: `abc… [cut: 104857 chars in all]`.
 */
export function inert(text: string, options: InertOptions = {}): string {
  const max = options.max ?? DEFAULT_MAX_CHARS;
  const multiline = options.multiline ?? false;
  let kept = text;
  let tail = '';
  if (text.length > max) {
    // Never cut a surrogate pair in half: the half would show as an escape of its own.
    const end = /[\ud800-\udbff]/.test(text.charAt(max - 1)) ? max - 1 : max;
    kept = text.slice(0, end);
    tail = `… [cut: ${text.length} chars in all]`;
  }
  // A CR right before a LF ends a line like the LF does (CRLF bodies); anywhere else it overwrites.
  const safe = kept.replace(UNSAFE, (c, offset: number) =>
    multiline && c === '\r' && kept.charAt(offset + 1) === '\n' ? c : escapeChar(c, multiline),
  );
  return `${safe}${tail}`;
}

/** True when `text` holds no character `inert` would escape (line feeds and tabs allowed when multiline). */
export function isInert(text: string, multiline = false): boolean {
  for (const m of text.matchAll(UNSAFE)) {
    const c = m[0];
    if (
      multiline &&
      (c === '\n' || c === '\t' || (c === '\r' && text.charAt((m.index ?? 0) + 1) === '\n'))
    )
      continue;
    return false;
  }
  return true;
}
