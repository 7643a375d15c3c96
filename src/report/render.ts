import type { Exchange } from '../http/types.js';

/** An exchange as a QA reader wants it: the request and the response, as on the wire (redacted). */
export function renderExchange(ex: Exchange): string {
  const lines = [`# ${ex.purpose}`, '', `${ex.request.method} ${ex.request.url}`];
  for (const [n, v] of ex.request.headers) lines.push(`${n}: ${v}`);
  if (ex.request.body !== undefined) lines.push('', ex.request.body);
  lines.push('', '---', '');
  if (ex.notSent) lines.push(`(${ex.notSent.reason})`);
  else if (ex.transportError) lines.push(`(no response: ${ex.transportError.message} [${ex.transportError.code}], after ${ex.durationMs} ms)`);
  else if (ex.response) {
    const r = ex.response;
    lines.push(`HTTP ${r.status}   (${ex.durationMs} ms, ${r.bodyBytes} bytes${r.truncated ? ', truncated at the body cap' : ''})`);
    for (const [n, values] of Object.entries(r.headers)) for (const v of values) lines.push(`${n}: ${v}`);
    lines.push('', r.body);
    if (r.accessToken?.jwt) {
      lines.push('', '# decoded access token (JWT header and claims; the token itself is not recorded)', JSON.stringify(r.accessToken.jwt, null, 2));
    }
  }
  return `${lines.join('\n')}\n`;
}
