/**
 * Content codings of a response body (RFC 9110 §8.4). The harness sends no Accept-Encoding, which
 * RFC 9110 §12.5.3 reads as "any coding is acceptable": a server may gzip its token response, and
 * judging the compressed bytes as "not JSON" would be a false failure. undici's request() hands the
 * bytes over as they came, so the codings are undone here, with the output capped at the body cap
 * (a small compressed body can expand to gigabytes).
 */
import { brotliDecompressSync, gunzipSync, inflateRawSync, inflateSync } from 'node:zlib';
import { ResponseLimitError } from './limits.js';

/** The body with every content coding undone, in reverse order of application; at most `cap` bytes out. */
export function decodeBody(
  body: Buffer,
  contentEncoding: string | string[] | undefined,
  cap: number,
): Buffer {
  const codings = (
    Array.isArray(contentEncoding) ? contentEncoding.join(',') : (contentEncoding ?? '')
  )
    .split(',')
    .map((c) => c.trim().toLowerCase())
    .filter((c) => c !== '' && c !== 'identity');
  let out = body;
  for (const coding of codings.reverse()) {
    const shown = coding.length > 40 ? `${coding.slice(0, 40)}…` : coding;
    try {
      if (coding === 'gzip' || coding === 'x-gzip') out = gunzipSync(out, { maxOutputLength: cap });
      else if (coding === 'br') out = brotliDecompressSync(out, { maxOutputLength: cap });
      else if (coding === 'deflate') out = inflateDeflate(out, cap);
      else
        throw new ResponseLimitError(
          'other',
          'CONTENT_ENCODING',
          `the body is encoded with the content coding "${shown.replace(/[^\x20-\x7e]/g, '?')}", which the harness does not decode`,
        );
    } catch (e) {
      if (e instanceof ResponseLimitError) throw e;
      if ((e as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE') {
        throw new ResponseLimitError(
          'too-large',
          'LIMIT_DECODED_BODY',
          `the body decodes (Content-Encoding: ${shown}) to more than the ${cap} byte cap (limits.maxBodyBytes)`,
        );
      }
      throw new ResponseLimitError(
        'other',
        'CONTENT_ENCODING',
        `the body does not decode as its Content-Encoding says (${shown}): ${(e as Error).message}`,
      );
    }
  }
  return out;
}

/** "deflate" is the zlib format (RFC 9110 §8.4.1.2); some servers send raw deflate under that name. */
function inflateDeflate(body: Buffer, cap: number): Buffer {
  try {
    return inflateSync(body, { maxOutputLength: cap });
  } catch (e) {
    if ((e as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE') throw e;
    return inflateRawSync(body, { maxOutputLength: cap });
  }
}
