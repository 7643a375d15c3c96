import type { ValidateFunction } from 'ajv';
import { compileSchema } from '../schemas.js';
import { PROBES, type ProbeId } from '../probes/ids.js';
import type { Answered, JudgeInput } from './types.js';
import { describeResponse, directives, header, jsonObject, mediaTypeOf, show } from './helpers.js';
import { broken, defineCheck, fail, pass, rfc, type Verdict } from './types.js';

const validateTokenResponse = compileSchema('token-response.schema.json');

/** Every ajv error as `member: problem`, one per line of the message. */
export function schemaProblems(validate: ValidateFunction, data: unknown): string[] {
  if (validate(data)) return [];
  return (validate.errors ?? []).map((e) => {
    const at = e.instancePath ? e.instancePath.slice(1).replace(/\//g, '.') : 'the body';
    if (e.keyword === 'required')
      return `${at}: required member "${(e.params as { missingProperty: string }).missingProperty}" is missing`;
    if (e.keyword === 'enum')
      return `${at}: ${show((data as Record<string, unknown>)[at])} is not one of the registered values`;
    return `${at}: ${e.message ?? e.keyword}`;
  });
}

const token = (ex: (p: ProbeId) => Answered) => ex(PROBES.token(0)).response;

/** Checks about the success response need one; without it they cannot say anything. */
export function withSuccess(judge: (res: Answered['response'], input: JudgeInput) => Verdict) {
  return (input: JudgeInput): Verdict => {
    const res = token(input.ex);
    if (res.status !== 200 || !jsonObject(res))
      return broken(
        `prerequisite failed: the token request was answered ${describeResponse(res)}, not a 200 JSON response`,
      );
    return judge(res, input);
  };
}

const needsToken = () => [PROBES.token(0)];

export const status200 = defineCheck({
  id: 'response.status-200',
  title: 'A successful token response has status 200',
  area: 'response',
  level: 'MUST',
  spec: rfc(6749, '5.1'),
  defect: 'the endpoint answers a valid request with another status (e.g. 201) or an error',
  needs: needsToken,
  judge: ({ ex }) => {
    const res = token(ex);
    return res.status === 200
      ? pass('200')
      : fail(`the token request was answered ${describeResponse(res)}`);
  },
});

export const contentTypeJson = defineCheck({
  id: 'response.content-type-json',
  title: 'The token response is application/json',
  area: 'response',
  level: 'MUST',
  spec: rfc(6749, '5.1'),
  defect: 'the token response has a Content-Type other than application/json',
  needs: needsToken,
  judge: ({ ex }) => {
    const res = token(ex);
    const type = mediaTypeOf(res);
    return type === 'application/json'
      ? pass(`Content-Type: ${header(res, 'content-type')}`)
      : fail(`Content-Type is ${show(header(res, 'content-type'))}, not application/json`);
  },
});

export const bodySchema = defineCheck({
  id: 'response.schema',
  title: 'The token response is a JSON object with access_token and token_type of the right types',
  area: 'response',
  level: 'MUST',
  spec: rfc(6749, '5.1'),
  defect:
    'the body is not JSON, or lacks access_token/token_type, or a member has the wrong type (e.g. expires_in as a string)',
  needs: needsToken,
  judge: ({ ex, provider }) => {
    const res = token(ex);
    if (res.status !== 200)
      return broken(`prerequisite failed: the token request was answered ${describeResponse(res)}`);
    if (res.truncated)
      return fail(
        `the body is larger than the ${provider.limits.maxBodyBytes} byte cap (limits.maxBodyBytes)`,
      );
    if (res.jsonError) return fail(`the body is not JSON: ${res.jsonError}`);
    const body = jsonObject(res);
    if (!body) return fail(`the body is JSON but not an object: ${res.body.slice(0, 80)}`);
    const problems = schemaProblems(validateTokenResponse, body);
    return problems.length === 0
      ? pass('valid against schemas/token-response.schema.json')
      : fail(`not valid against schemas/token-response.schema.json: ${problems.join('; ')}`);
  },
});

export const accessTokenVschar = defineCheck({
  id: 'response.access-token-syntax',
  title: 'access_token is a non-empty string of visible ASCII (VSCHAR)',
  area: 'response',
  level: 'MUST',
  spec: rfc(6749, 'A.12'),
  defect: 'the access token is empty, not a string, or contains characters outside %x20-7E',
  needs: needsToken,
  judge: withSuccess((res) => {
    const t = res.accessToken;
    if (!t) return fail('access_token is absent');
    if (t.jsonType !== 'string') return fail(`access_token is a JSON ${t.jsonType}, not a string`);
    if (t.length === 0) return fail('access_token is empty');
    return t.vschar
      ? pass(`${t.length} visible ASCII characters`)
      : fail('access_token contains characters outside VSCHAR (%x20-7E)');
  }),
});

export const tokenTypeExpected = defineCheck({
  id: 'response.token-type',
  title: 'token_type is the declared type (compared case-insensitively)',
  area: 'response',
  level: 'EXPECTATION',
  spec: rfc(6749, '5.1'),
  defect: 'token_type is missing or differs from the declared type (e.g. "mac" for Bearer)',
  needs: needsToken,
  judge: withSuccess((res, { provider }) => {
    const value = jsonObject(res)?.['token_type'];
    const expected = provider.expect.tokenType;
    return typeof value === 'string' && value.toLowerCase() === expected.toLowerCase()
      ? pass(`token_type ${show(value)}`)
      : fail(`token_type is ${show(value)}, expected ${show(expected)} (case-insensitive)`);
  }),
});

export const expiresInInteger = defineCheck({
  id: 'response.expires-in-integer',
  title: 'expires_in, when present, is an integer number of seconds (1*DIGIT)',
  area: 'response',
  level: 'MUST',
  spec: rfc(6749, 'A.14'),
  defect:
    'expires_in is a string ("3600"), a fraction or negative, or an integer written otherwise than 1*DIGIT (3600.0, 3.6e3)',
  needs: needsToken,
  judge: withSuccess((res) => {
    const body = jsonObject(res) ?? {};
    if (!('expires_in' in body)) return pass('expires_in is absent (optional)');
    const v = body['expires_in'];
    if (typeof v !== 'number')
      return fail(`expires_in is ${show(v)}, a JSON ${typeof v}, not a number`);
    if (!Number.isInteger(v)) return fail(`expires_in is ${v}, not an integer (1*DIGIT)`);
    if (v < 0) return fail(`expires_in is ${v}: a negative number is not 1*DIGIT`);
    // Appendix A.14: expires-in = 1*DIGIT. JSON's `3600.0` or `3.6e3` is a number that parses to an
    // integer, but not that grammar, and a client that reads the literal as an integer breaks on it.
    // Recordings made before the literal was recorded have none: then the parsed value is all there is.
    const literal = res.numberLiterals?.['expires_in'];
    if (literal !== undefined && !/^[0-9]+$/.test(literal))
      return fail(
        `expires_in was sent as the literal ${literal}, a JSON number but not an integer literal (1*DIGIT, RFC 6749 Appendix A.14)`,
      );
    return pass(`expires_in ${literal ?? v}`);
  }),
});

export const uniqueMembers = defineCheck({
  id: 'response.unique-members',
  title: 'No member occurs twice in the token response',
  area: 'response',
  level: 'MUST',
  levelReason:
    'RFC 6749 §3.2: "Request and response parameters MUST NOT be included more than once." (RFC 8259 §4 only says JSON names SHOULD be unique; parsers then disagree on which value counts.)',
  spec: rfc(6749, '3.2'),
  defect:
    'the token response repeats a member (e.g. expires_in twice); JSON.parse silently keeps the last one',
  needs: needsToken,
  judge: withSuccess((res) => {
    // Recordings made before duplicates were recorded cannot say: they are judged by what they show.
    const dup = res.duplicateMembers ?? [];
    return dup.length === 0
      ? pass(res.duplicateMembers ? 'every member occurs once' : 'no repeated member recorded')
      : fail(
          `the token response repeats ${dup.map((d) => JSON.stringify(d)).join(', ')}; each response parameter may occur once`,
        );
  }),
});

export const expiresInPositive = defineCheck({
  id: 'response.expires-in-positive',
  title: 'expires_in, when present, is more than zero',
  area: 'response',
  level: 'SHOULD',
  levelReason:
    'The grammar (RFC 6749 Appendix A.14, 1*DIGIT) allows 0, but a token that expires as it is issued cannot be used: a warning, not a MUST failure.',
  spec: rfc(6749, '5.1'),
  defect: 'expires_in is 0',
  needs: needsToken,
  judge: withSuccess((res) => {
    const v = jsonObject(res)?.['expires_in'];
    return v === 0
      ? fail('expires_in is 0: the token expires as it is issued')
      : pass(v === undefined ? 'expires_in is absent' : `expires_in ${show(v)}`);
  }),
});

export const expiresInPresent = defineCheck({
  id: 'response.expires-in-present',
  title: 'expires_in is included (RECOMMENDED)',
  area: 'response',
  level: 'SHOULD',
  spec: rfc(6749, '5.1'),
  defect: 'the token response omits expires_in',
  needs: needsToken,
  judge: withSuccess((res) =>
    'expires_in' in (jsonObject(res) ?? {})
      ? pass('expires_in is present')
      : fail('expires_in is absent; RFC 6749 §5.1 recommends it'),
  ),
});

export const scopeSyntax = defineCheck({
  id: 'response.scope-syntax',
  title: 'scope, when present, is a space-separated list of scope-tokens',
  area: 'response',
  level: 'MUST',
  spec: rfc(6749, 'A.4'),
  defect: 'scope is not a string, or is comma-separated, or has empty or invalid tokens',
  needs: needsToken,
  judge: withSuccess((res) => {
    const body = jsonObject(res) ?? {};
    if (!('scope' in body)) return pass('scope is absent (allowed when identical to the request)');
    const v = body['scope'];
    if (typeof v !== 'string')
      return fail(
        `scope is a JSON ${Array.isArray(v) ? 'array' : typeof v}, not a space-separated string`,
      );
    return /^[\x21\x23-\x5B\x5D-\x7E]+( [\x21\x23-\x5B\x5D-\x7E]+)*$/.test(v)
      ? pass(`scope ${show(v)}`)
      : fail(`scope ${show(v)} is not scope-token *( SP scope-token )`);
  }),
});

export const cacheControlNoStore = defineCheck({
  id: 'response.cache-control',
  title: 'The token response forbids caching (Cache-Control: no-store)',
  area: 'response',
  level: 'MUST',
  spec: rfc(6749, '5.1'),
  defect: 'the token response lacks Cache-Control: no-store',
  needs: needsToken,
  judge: withSuccess((res) =>
    directives(res, 'cache-control').includes('no-store')
      ? pass(`Cache-Control: ${header(res, 'cache-control')}`)
      : fail(`Cache-Control is ${show(header(res, 'cache-control'))}, without no-store`),
  ),
});

export const pragmaNoCache = defineCheck({
  id: 'response.pragma',
  title: 'The token response carries Pragma: no-cache',
  area: 'response',
  level: 'SHOULD',
  levelReason:
    'RFC 6749 §5.1 asks for Pragma: no-cache too, but Pragma has no defined meaning in responses (RFC 9111 §5.4 deprecates it), OAuth 2.1 drops it, and neither the OpenID conformance suite nor oidc-provider requires it: a warning, not a failure.',
  spec: rfc(6749, '5.1'),
  defect: 'the token response lacks Pragma: no-cache',
  needs: needsToken,
  judge: withSuccess((res) =>
    directives(res, 'pragma').includes('no-cache')
      ? pass('Pragma: no-cache')
      : fail(`Pragma is ${show(header(res, 'pragma'))}, not no-cache`),
  ),
});

export const tokenFormat = defineCheck({
  id: 'response.token-format',
  title: 'The access token has the declared format (JWT or opaque)',
  area: 'response',
  level: 'EXPECTATION',
  spec: rfc(9068, '2'),
  defect: 'the descriptor declares JWT access tokens and the token is not a JWT (or the reverse)',
  applies: (p) =>
    p.expect.tokenFormat === 'any'
      ? 'the descriptor promises no token format (expect.tokenFormat: any)'
      : true,
  needs: needsToken,
  judge: withSuccess((res, { provider }) => {
    const isJwt = res.accessToken?.jwt !== undefined;
    const want = provider.expect.tokenFormat;
    if (want === 'jwt' || want === 'jwt-plain')
      return isJwt
        ? pass(`a JWT (typ ${show(res.accessToken?.jwt?.header['typ'])})`)
        : fail(`the access token is not a JWT; the descriptor declares tokenFormat: ${want}`);
    return isJwt
      ? fail('the access token is a JWT; the descriptor declares tokenFormat: opaque')
      : pass('an opaque token');
  }),
});

export const responseChecks = [
  status200,
  contentTypeJson,
  bodySchema,
  accessTokenVschar,
  tokenTypeExpected,
  expiresInInteger,
  expiresInPositive,
  uniqueMembers,
  expiresInPresent,
  scopeSyntax,
  cacheControlNoStore,
  pragmaNoCache,
  tokenFormat,
];
