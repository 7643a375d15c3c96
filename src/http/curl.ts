import { formEncode, type Redactor } from './redact.js';

/**
 * The secrets shown as "$ENV", each as is and form-encoded, longest secret first. Computed once per
 * curl line, not per word: the redactor knows every token of the session too, and sorting them and
 * form-encoding the secrets for every word of every line was ~15 % of the client's CPU at 200 providers.
 */
function envForms(redactor: Redactor): [string, string][] {
  return redactor
    .entries()
    .filter(([, shown]) => /^\$[A-Z_][A-Z0-9_]*$/.test(shown))
    .flatMap(([value, shown]): [string, string][] => [
      [value, shown],
      [formEncode(value), shown],
    ]);
}

/** Shell words: literal text single-quoted, known secrets as "$ENV" so the line reproduces the request. */
function shellWordOf(text: string, redactor: Redactor, forms: [string, string][]): string {
  const parts: string[] = [];
  let rest = text;
  outer: while (rest.length > 0) {
    for (const [form, shown] of forms) {
      const i = rest.indexOf(form);
      if (i >= 0) {
        if (i > 0) parts.push(singleQuote(redactor.scrub(rest.slice(0, i))));
        parts.push(`"${shown}"`);
        rest = rest.slice(i + form.length);
        continue outer;
      }
    }
    parts.push(singleQuote(redactor.scrub(rest)));
    break;
  }
  return parts.join('') || "''";
}

function singleQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

export interface CurlInput {
  method: 'GET' | 'POST';
  url: string;
  headers: [string, string][];
  form?: [string, string][];
  basic?: { id: string; secret: string };
  bearer?: string;
  /** The extra CA the descriptor trusts, and whether verification is off (curl -k). */
  caFile?: string;
  insecure?: boolean;
  clientCert?: { certFile: string; keyFile: string };
  /** The form is sent as a JSON object. */
  json?: boolean;
}

/**
 * A curl line that reproduces the request. Basic credentials are form-urlencoded before base64
 * (RFC 6749 §2.3.1): curl's -u does not do that, so when the secret may need it, jq encodes it.
 */
export function curlLine(input: CurlInput, redactor: Redactor): string {
  const forms = envForms(redactor);
  const shellWord = (text: string): string => shellWordOf(text, redactor, forms);
  const lines = [`curl -sS -i -X ${input.method} ${shellWord(input.url)}`];
  if (input.caFile) lines.push(`--cacert ${singleQuote(input.caFile)}`);
  if (input.insecure) lines.push('--insecure'); // the descriptor turned TLS verification off
  if (input.clientCert)
    lines.push(
      `--cert ${singleQuote(input.clientCert.certFile)} --key ${singleQuote(input.clientCert.keyFile)}`,
    );
  for (const [name, value] of input.headers) {
    if (/^authorization$/i.test(name)) continue;
    lines.push(`-H ${shellWord(`${name}: ${value}`)}`);
  }
  if (input.basic) {
    const shown = redactor.replacementFor(input.basic.secret);
    const id = formEncode(input.basic.id);
    const secretPart =
      shown && /^\$/.test(shown)
        ? `$(printf %s "${shown}" | jq -sRr @uri)`
        : formEncode(input.basic.secret);
    lines.push(`-u "${id.replace(/(["\\$`])/g, '\\$1')}:${secretPart}"`);
  }
  if (input.bearer) {
    lines.push(`-H "Authorization: Bearer $ACCESS_TOKEN"`);
  }
  if (input.json && input.form) {
    const obj = Object.fromEntries(
      input.form.map(([k, v]) => [
        k,
        k === 'assertion' ? '$ASSERTION' : k === 'client_assertion' ? '$CLIENT_ASSERTION' : v,
      ]),
    );
    lines.push(
      `--data ${shellWord(JSON.stringify(obj)).replace(/\$(CLIENT_)?ASSERTION/g, `'"$$$1ASSERTION"'`)}`,
    );
    return lines.join(' \\\n  ');
  }
  for (const [k, v] of input.form ?? []) {
    // A client assertion expires in a minute: the line asks for a fresh one instead of showing it.
    if (k === 'client_assertion')
      lines.push(`--data-urlencode "client_assertion=$CLIENT_ASSERTION"`);
    // A token the run obtained is shown as $ACCESS_TOKEN; one the harness made up (an unknown token
    // for introspection) is no secret and is shown as sent, so the line reproduces that request.
    else if ((k === 'token' && redactor.scrub(v) !== v) || k === 'assertion')
      lines.push(`--data-urlencode "${k}=$${k === 'token' ? 'ACCESS_TOKEN' : 'ASSERTION'}"`);
    else lines.push(`--data-urlencode ${shellWord(`${k}=${v}`)}`);
  }
  return lines.join(' \\\n  ');
}
