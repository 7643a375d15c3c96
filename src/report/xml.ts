import { inert } from '../text/inert.js';

/**
 * XML text and attribute escaping for junit.xml. Hand-written (five entities and a filter) rather than
 * a dependency: XML 1.0 forbids most control characters outright, so they are shown as \xNN, and
 * the text is server-controlled, so nothing may pass raw.
 */
export function xmlEscape(text: string): string {
  // Server text first made inert (C1 and bidi controls too), keeping newlines; then what XML forbids.
  return inert(text, { max: 64 * 1024, multiline: true })
    .replace(
      // eslint-disable-next-line no-control-regex -- control characters are exactly what must not pass
      /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F\uFFFE\uFFFF]/g,
      (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`,
    )
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');
}
