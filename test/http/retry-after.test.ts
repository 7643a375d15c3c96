/**
 * parseRetryAfter, table-tested: Retry-After = HTTP-date / delay-seconds (RFC 9110 §10.2.3), the
 * three HTTP-date forms a recipient must accept (§5.6.7), and 1 s for anything else.
 */
import { describe, expect, it } from 'vitest';
import { DEFAULT_RETRY_AFTER_SECONDS, parseRetryAfter } from '../../src/http/retry-after.js';

/** The RFC's own example instant, 8:49:37 GMT on 6 Nov 1994, less 37 s: every date form below is 37 s ahead. */
const NOW = Date.UTC(1994, 10, 6, 8, 49, 0);

describe('parseRetryAfter', () => {
  it.each([
    // delay-seconds = 1*DIGIT
    ['1', 1],
    ['0', 0],
    ['120', 120],
    [' 5 ', 5], // OWS around a field value is not part of it
    ['007', 7],
    ['86400', 86400], // a day: capping the wait is the runner's business, not the parser's
    ['99999999999', 99999999999],
    // HTTP-date, each form (RFC 9110 §5.6.7)
    ['Sun, 06 Nov 1994 08:49:37 GMT', 37], // IMF-fixdate
    ['Sunday, 06-Nov-94 08:49:37 GMT', 37], // obsolete RFC 850 form
    ['Sun Nov  6 08:49:37 1994', 37], // obsolete asctime form (UTC)
    ['Sun, 06 Nov 1994 08:49:00 GMT', 0], // now
    ['Sun, 06 Nov 1994 08:48:00 GMT', 0], // in the past: no wait, never a negative one
    ['Sat, 05 Nov 1994 08:49:37 GMT', 0],
    ['Mon, 07 Nov 1994 08:49:00 GMT', 86400],
  ] as const)('%j → %d s', (value, seconds) => {
    expect(parseRetryAfter(value, NOW)).toBe(seconds);
  });

  it.each([
    [undefined],
    [''],
    ['   '],
    ['-5'], // not 1*DIGIT
    ['+5'],
    ['1.5'],
    ['1e3'],
    ['0x10'],
    ['1, 2'], // two fields joined: not one value
    ['soon'],
    ['Infinity'],
    ['2024-01-01T00:00:00Z'], // ISO 8601 is not an HTTP-date
    ['Sun, 06 Nov 1994 08:49:37 UTC'], // the grammar says GMT
    ['sun, 06 nov 1994 08:49:37 gmt'], // HTTP-date is case-sensitive
    ['Sun, 6 Nov 1994 08:49:37 GMT'], // IMF-fixdate has a two-digit day
    ['Sun, 31 Feb 1994 08:49:37 GMT'], // no such day
    ['Sun, 06 Nov 1994 25:49:37 GMT'], // no such hour
    ['Sun, 06 Nov 1994 08:49:37 GMT trailing'],
  ] as const)('%j → the 1 s default', (value) => {
    expect(parseRetryAfter(value, NOW)).toBe(DEFAULT_RETRY_AFTER_SECONDS);
    expect(DEFAULT_RETRY_AFTER_SECONDS).toBe(1);
  });

  it('reads a fractional wait from an HTTP-date (the time left, to the millisecond)', () => {
    expect(parseRetryAfter('Sun, 06 Nov 1994 08:49:37 GMT', NOW + 500)).toBe(36.5);
  });

  it('reads a two-digit RFC 850 year as the most recent past year with those digits when it would be more than 50 years ahead', () => {
    // In 2030, "94" is 1994 (2094 is more than 50 years ahead): long past, no wait.
    expect(parseRetryAfter('Sunday, 06-Nov-94 08:49:37 GMT', Date.UTC(2030, 0, 1))).toBe(0);
    // In 2025, "30" is 2030 (within 50 years): a wait until then.
    const now = Date.UTC(2025, 0, 1);
    expect(parseRetryAfter('Wednesday, 06-Nov-30 08:49:37 GMT', now)).toBe(
      (Date.UTC(2030, 10, 6, 8, 49, 37) - now) / 1000,
    );
  });
});
