import type { Exchange, RecordedResponse } from '../evidence/types.js';
import { inert } from '../text/inert.js';

/** An exchange as a QA reader wants it: the request and the response, as on the wire (redacted). */
export function renderExchange(ex: Exchange): string {
  const lines = [`# ${ex.purpose}`, '', `${ex.request.method} ${ex.request.url}`];
  for (const [n, v] of ex.request.headers) lines.push(`${n}: ${v}`);
  if (ex.request.clientCertificate)
    lines.push(`(TLS client certificate: ${ex.request.clientCertificate})`);
  if (ex.request.body !== undefined) lines.push('', ex.request.body);
  if (ex.request.assertion) {
    lines.push(
      '',
      '# decoded assertion (header and claims; the assertion itself is not recorded)',
      JSON.stringify(ex.request.assertion, null, 2),
    );
  }
  lines.push('', '---', '');
  const attempts =
    ex.attempts !== undefined && ex.attempts > 1
      ? `, attempt ${ex.attempts} after 429 Too Many Requests`
      : '';
  if (ex.notSent) lines.push(`(${ex.notSent.reason})`);
  else if (ex.transportError) {
    lines.push(
      `(no response: ${ex.transportError.message} [${ex.transportError.code}], after ${ex.durationMs} ms)`,
    );
    // A rate-limited exchange keeps its last 429 as evidence: what the server said, and its Retry-After.
    if (ex.rateLimitedResponse)
      lines.push(
        '',
        '# the last 429 answer',
        ...responseLines(ex.rateLimitedResponse, `${ex.durationMs} ms${attempts}`),
      );
  } else if (ex.response)
    lines.push(...responseLines(ex.response, `${ex.durationMs} ms${attempts}`));
  // Server text (headers, body, URLs from metadata) shown inert: line breaks kept, control characters escaped.
  return inert(`${lines.join('\n')}\n`, { multiline: true, max: 256 * 1024 });
}

function responseLines(r: RecordedResponse, timing: string): string[] {
  const lines = [
    `HTTP ${r.status}   (${timing}, ${r.bodyBytes} bytes${r.truncated ? ', truncated at the body cap' : ''})`,
  ];
  for (const [n, values] of Object.entries(r.headers))
    for (const v of values) lines.push(`${n}: ${v}`);
  lines.push('', r.body);
  if (r.accessToken?.jwt) {
    lines.push(
      '',
      '# decoded access token (JWT header and claims; the token itself is not recorded)',
      JSON.stringify(r.accessToken.jwt, null, 2),
    );
  }
  return lines;
}

/** How the request authenticated the client, read from what was sent. */
export function authMethodOf(ex: Exchange): string {
  const basic = ex.request.headers.some(
    ([n, v]) => /^authorization$/i.test(n) && /^basic\s/i.test(v),
  );
  const form = new URLSearchParams(ex.request.body ?? '');
  if (form.has('client_assertion')) {
    const alg = ex.request.assertion?.header['alg'];
    return `${typeof alg === 'string' && alg.startsWith('HS') ? 'client_secret_jwt' : 'private_key_jwt'} (${typeof alg === 'string' ? alg : 'no alg'})`;
  }
  if (ex.request.clientCertificate) return 'TLS client certificate';
  const post = form.has('client_secret');
  if (basic && post) return 'client_secret_basic + client_secret_post';
  if (basic) return 'client_secret_basic';
  if (post) return 'client_secret_post';
  return form.has('client_id') ? 'none (client_id only)' : 'none';
}

/** The scope a token request asked for, as sent. */
export function requestedScopeOf(ex: Exchange): string | undefined {
  if (!ex.request.headers.some(([n, v]) => /^content-type$/i.test(n) && /form-urlencoded/i.test(v)))
    return undefined;
  const form = new URLSearchParams(ex.request.body ?? '');
  return form.has('scope') ? (form.get('scope') ?? '') : '(none)';
}
