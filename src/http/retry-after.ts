/**
 * Retry-After (RFC 9110 §10.2.3): `Retry-After = HTTP-date / delay-seconds`, where
 * `delay-seconds = 1*DIGIT`. A 429 (RFC 6585 §4) "MAY include a Retry-After header indicating how
 * long to wait before making a new request".
 */

/** What the runner waits when Retry-After is absent or cannot be read: a polite, short pause. */
export const DEFAULT_RETRY_AFTER_SECONDS = 1;

const DAYS = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'];
const LONG_DAYS = ['Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday', 'Sunday'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const TIME = '(\\d{2}):(\\d{2}):(\\d{2})';
const MONTH = `(${MONTHS.join('|')})`;
/** IMF-fixdate, e.g. `Sun, 06 Nov 1994 08:49:37 GMT` (RFC 9110 §5.6.7, the form senders use). */
const IMF_FIXDATE = new RegExp(`^(?:${DAYS.join('|')}), (\\d{2}) ${MONTH} (\\d{4}) ${TIME} GMT$`);
/** The obsolete RFC 850 form, e.g. `Sunday, 06-Nov-94 08:49:37 GMT`: recipients MUST accept it. */
const RFC850_DATE = new RegExp(
  `^(?:${LONG_DAYS.join('|')}), (\\d{2})-${MONTH}-(\\d{2}) ${TIME} GMT$`,
);
/** The obsolete asctime form, e.g. `Sun Nov  6 08:49:37 1994` (always UTC): recipients MUST accept it. */
const ASCTIME_DATE = new RegExp(`^(?:${DAYS.join('|')}) ${MONTH} ([ \\d]\\d) ${TIME} (\\d{4})$`);

function utc(
  year: number,
  month: string,
  day: number,
  h: number,
  m: number,
  s: number,
): number | undefined {
  const mon = MONTHS.indexOf(month);
  if (h > 23 || m > 59 || s > 60) return undefined;
  const t = Date.UTC(year, mon, day, h, m, Math.min(s, 59));
  // Date.UTC rolls 31 Feb over into March: a date that does not exist is not a date.
  return new Date(t).getUTCDate() === day ? t : undefined;
}

/** An HTTP-date in any of its three forms (RFC 9110 §5.6.7), as epoch milliseconds. */
export function parseHttpDate(value: string, now: number): number | undefined {
  let m = IMF_FIXDATE.exec(value);
  if (m)
    return utc(Number(m[3]), m[2] ?? '', Number(m[1]), Number(m[4]), Number(m[5]), Number(m[6]));
  m = RFC850_DATE.exec(value);
  if (m) {
    // RFC 9110 §5.6.7: a two-digit year that looks more than 50 years in the future is the most
    // recent past year with the same last two digits.
    const yy = Number(m[3]);
    const thisYear = new Date(now).getUTCFullYear();
    let year = Math.floor(thisYear / 100) * 100 + yy;
    if (year > thisYear + 50) year -= 100;
    return utc(year, m[2] ?? '', Number(m[1]), Number(m[4]), Number(m[5]), Number(m[6]));
  }
  m = ASCTIME_DATE.exec(value);
  if (m)
    return utc(
      Number(m[6]),
      m[1] ?? '',
      Number((m[2] ?? '').trim()),
      Number(m[3]),
      Number(m[4]),
      Number(m[5]),
    );
  return undefined;
}

/**
 * How many seconds to wait before retrying, read from a Retry-After field value at time `now`
 * (epoch ms). delay-seconds as given; an HTTP-date as the time left until it (0 when it has passed);
 * absent, empty, negative, fractional, a list or anything else: DEFAULT_RETRY_AFTER_SECONDS.
 * Capping the wait is the caller's business.
 */
export function parseRetryAfter(value: string | undefined, now: number): number {
  // Field values may carry optional whitespace around them (RFC 9110 §5.5).
  const v = value?.trim() ?? '';
  if (/^\d+$/.test(v)) return Number(v);
  const date = parseHttpDate(v, now);
  if (date !== undefined) return Math.max(0, (date - now) / 1000);
  return DEFAULT_RETRY_AFTER_SECONDS;
}
