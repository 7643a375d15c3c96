/**
 * Explicit limits where recursion meets server data. Redaction, token decoding, rendering and the
 * run record (JSON.stringify) walk a parsed response recursively; a body of 100 000 nested `[` is
 * 200 KB, well under the body cap, and overflows the stack of every one of them. So the runner
 * measures a response against these limits before anything recursive sees it, and a response over a
 * limit is recorded as what it is — "the response nests deeper than 64 levels" — with no parsed
 * value: every check resting on it is broken (not judged), never failed. RFC 8259 §9 lets a parser
 * limit nesting depth and size; exceeding a limit of ours is not a violation we could name.
 */
import type { TransportError, TransportErrorKind } from '../evidence/types.js';

export const RESPONSE_LIMITS = {
  /** Nesting of objects and arrays: token responses are flat; metadata and JWK Sets nest three levels. */
  jsonDepth: 64,
  /** Object members plus array elements, all levels together: a discovery document has about a hundred. */
  jsonValues: 10_000,
  /** Header field lines (a repeated header counts once per line): real responses send a few dozen. */
  headerFields: 256,
  /** Characters of a JWT's base64url header segment. */
  jwtHeaderChars: 8 * 1024,
  /** Characters of a JWT's base64url payload segment. */
  jwtPayloadChars: 64 * 1024,
  /**
   * Token-named values (access_token, refresh_token, id_token, …) in one response: each becomes a
   * secret the redactor looks for in every later string, so thousands of them make redaction crawl.
   */
  tokensPerResponse: 64,
} as const;

export type Limits = typeof RESPONSE_LIMITS;

/** A response the harness refuses to judge because it exceeds one of RESPONSE_LIMITS (or cannot be decoded). */
export class ResponseLimitError extends Error {
  override name = 'ResponseLimitError';
  constructor(
    readonly kind: Extract<TransportErrorKind, 'too-deep' | 'too-large' | 'other'>,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }

  toTransportError(): TransportError {
    return { kind: this.kind, code: this.code, message: this.message };
  }
}

/** What a JSON text's shape exceeds, as the end of a sentence ("nests deeper than 64 levels"), or undefined. */
export interface ShapeProblem {
  kind: 'too-deep' | 'too-large';
  code: string;
  problem: string;
}

/**
 * Measures a JSON text's nesting depth and its number of members and elements without parsing it
 * (one pass, no recursion, stops at the first limit exceeded), so that JSON.parse and everything
 * after it only ever see values of bounded shape. Does not validate: a text that is not JSON fails
 * in JSON.parse afterwards. Only a text that opens with `{` or `[` is measured: an HTML page full of
 * commas is not JSON with ten thousand members.
 */
export function jsonShapeProblem(
  text: string,
  limits: Pick<Limits, 'jsonDepth' | 'jsonValues'> = RESPONSE_LIMITS,
): ShapeProblem | undefined {
  const start = text.search(/\S/);
  if (start < 0 || (text[start] !== '{' && text[start] !== '[')) return undefined;
  let depth = 0;
  let values = 0;
  let inString = false;
  // Just after an opening bracket: the next significant character starts the first value, unless it closes.
  let fresh = false;
  for (let i = start; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c /* \ */) i++;
      else if (c === 0x22 /* " */) inString = false;
      continue;
    }
    if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) continue;
    if (fresh && c !== 0x5d /* ] */ && c !== 0x7d /* } */) values++;
    fresh = false;
    if (c === 0x22) inString = true;
    else if (c === 0x7b /* { */ || c === 0x5b /* [ */) {
      depth++;
      fresh = true;
      if (depth > limits.jsonDepth)
        return {
          kind: 'too-deep',
          code: 'LIMIT_JSON_DEPTH',
          problem: `nests deeper than ${limits.jsonDepth} levels, the harness's limit for JSON (RFC 8259 §9)`,
        };
    } else if (c === 0x7d || c === 0x5d) depth--;
    else if (c === 0x2c /* , */ && depth > 0) values++;
    if (values > limits.jsonValues)
      return {
        kind: 'too-large',
        code: 'LIMIT_JSON_VALUES',
        problem: `has more than ${limits.jsonValues} JSON members and array elements, the harness's limit (RFC 8259 §9)`,
      };
  }
  return undefined;
}

/** Header field lines of a response as undici hands them over (repeated fields as arrays). */
export function headerFieldCount(headers: Record<string, string | string[] | undefined>): number {
  let n = 0;
  for (const v of Object.values(headers))
    n += v === undefined ? 0 : Array.isArray(v) ? v.length : 1;
  return n;
}

/**
 * Why a compact JWT (three base64url segments) is not decoded: a segment longer than the limits, or
 * a decoded header or payload whose JSON is deeper or larger than the JSON limits. `name` says whose
 * it is ("the access_token").
 */
export function jwtProblem(
  jwt: string,
  name: string,
  limits: Limits = RESPONSE_LIMITS,
): ShapeProblem | undefined {
  const [header = '', payload = ''] = jwt.split('.', 2);
  for (const [segment, text, limit] of [
    ['header', header, limits.jwtHeaderChars],
    ['payload', payload, limits.jwtPayloadChars],
  ] as const) {
    if (text.length > limit) {
      return {
        kind: 'too-large',
        code: 'LIMIT_JWT_SEGMENT',
        problem: `${name} is a JWT whose ${segment} segment is ${text.length} characters, more than the harness's limit of ${limit}`,
      };
    }
    const shape = jsonShapeProblem(Buffer.from(text, 'base64url').toString('utf8'), limits);
    if (shape) return { ...shape, problem: `${name} is a JWT whose ${segment} ${shape.problem}` };
  }
  return undefined;
}
