/**
 * DPoP at the token endpoint (RFC 9449): the token a valid proof gets (token_type DPoP, cnf.jkt of
 * the proof key), the nonce dance, the proofs that must be refused (acceptance and error code as
 * separate findings), and the bound token at the resource. Every judgement reads the request as
 * finally sent: when the server answered use_dpop_nonce with a DPoP-Nonce header, the retry with
 * that nonce (src/evidence/dpop.ts), so a server that asks for a nonce first is judged on the proof.
 */
import { createHash } from 'node:crypto';
import type { Provider } from '../descriptor/types.js';
import { asksForNonce, finalDpop, nonceOf } from '../evidence/dpop.js';
import type { RecordedResponse } from '../evidence/types.js';
import { DPOP_RETRIED, PROBES, type DpopProbe, type ProbeId } from '../probes/ids.js';
import { describeResponse, jsonObject, show } from './helpers.js';
import { judgeErrorCode, judgeNotAccepted } from './refusal.js';
import {
  broken,
  defineCheck,
  fail,
  pass,
  rfc,
  skip,
  type CheckDef,
  type JudgeInput,
  type Level,
  type SpecRef,
  type Verdict,
} from './types.js';

const declared = (p: Provider) =>
  p.dpop ? true : 'the descriptor declares no DPoP support (dpop)';

/** Reads a DPoP request's first exchange as a need and its nonce retry as an extra read. */
const reads = (kind: DpopProbe) => ({
  needs: () => [PROBES.dpop(kind)],
  alsoReads: () => (DPOP_RETRIED.includes(kind) ? [PROBES.dpopRetry(kind)] : []),
});

function finalOf(input: JudgeInput, kind: DpopProbe): { id: ProbeId; res: RecordedResponse } {
  const { id, exchange } = finalDpop(input.evidence.exchanges, kind);
  return { id, res: exchange?.response ?? input.ex(PROBES.dpop(kind)).response };
}

/** RFC 7638 JWK thumbprint (SHA-256, base64url) of a public JWK, or why it cannot be computed. */
export function jwkThumbprint(jwk: unknown): string | { problem: string } {
  if (!jwk || typeof jwk !== 'object' || Array.isArray(jwk))
    return { problem: 'the proof header has no jwk object' };
  const k = jwk as Record<string, unknown>;
  const members: Record<string, string[]> = {
    EC: ['crv', 'kty', 'x', 'y'],
    OKP: ['crv', 'kty', 'x'],
    RSA: ['e', 'kty', 'n'],
  };
  const required = typeof k['kty'] === 'string' ? members[k['kty']] : undefined;
  if (!required) return { problem: `unsupported kty ${show(k['kty'])}` };
  const parts: string[] = [];
  for (const m of required) {
    if (typeof k[m] !== 'string') return { problem: `the jwk has no ${m}` };
    parts.push(`${JSON.stringify(m)}:${JSON.stringify(k[m])}`);
  }
  return createHash('sha256')
    .update(`{${parts.join(',')}}`)
    .digest('base64url');
}

const tokenOf = (res: RecordedResponse) => res.accessToken !== undefined && res.status === 200;

export const dpopTokenIssued = defineCheck({
  id: 'dpop.token-issued',
  title: 'A token request with a valid DPoP proof gets an access token',
  area: 'dpop',
  level: 'EXPECTATION',
  levelReason:
    'The descriptor declares DPoP support (dpop): a valid proof (with the server nonce, when the server asks for one) by a valid client must get a token.',
  spec: rfc(9449, '5'),
  defect: 'a token request with a valid DPoP proof is refused',
  applies: declared,
  ...reads('token'),
  judge: (input) => {
    const { id, res } = finalOf(input, 'token');
    const via = id === PROBES.dpopRetry('token') ? ' (after the nonce the server asked for)' : '';
    return tokenOf(res)
      ? pass(`200 with an access token${via}`, [id])
      : fail(
          `the token request with a valid DPoP proof${via} was answered ${describeResponse(res)}`,
          [id],
        );
  },
});

/** The DPoP-bound token's answer, or a broken verdict when there is none to judge. */
function bound(input: JudgeInput): { id: ProbeId; res: RecordedResponse } | Verdict {
  const f = finalOf(input, 'token');
  return tokenOf(f.res)
    ? f
    : broken(
        `prerequisite failed: the token request with a valid DPoP proof got no access token (see dpop.token-issued)`,
      );
}

export const dpopTokenType = defineCheck({
  id: 'dpop.token-type',
  title: 'A DPoP-bound token is issued with token_type DPoP',
  area: 'dpop',
  level: 'MUST',
  spec: rfc(9449, '5'),
  defect: 'the token response to a request with a DPoP proof says token_type Bearer',
  applies: declared,
  ...reads('token'),
  judge: (input) => {
    const b = bound(input);
    if ('outcome' in b) return b;
    const type = jsonObject(b.res)?.['token_type'];
    return typeof type === 'string' && type.toLowerCase() === 'dpop'
      ? pass(`token_type ${show(type)}`, [b.id])
      : fail(
          `token_type is ${show(type)}, not "DPoP" (a client would present the token as Bearer)`,
          [b.id],
        );
  },
});

export const dpopCnfJkt = defineCheck({
  id: 'dpop.cnf-jkt',
  title: "The DPoP-bound token's cnf.jkt is the proof key's thumbprint",
  area: 'dpop',
  level: 'MUST',
  spec: rfc(9449, '6'),
  defect: 'the DPoP-bound token carries no cnf.jkt, or the thumbprint of another key',
  applies: declared,
  needs: () => [PROBES.dpop('token')],
  alsoReads: () => [PROBES.dpopRetry('token'), PROBES.dpop('introspect')],
  judge: (input) => {
    const b = bound(input);
    if ('outcome' in b) return b;
    const ex = input.evidence.exchanges[b.id]!;
    const expected = jwkThumbprint(ex.request.dpopProof?.header['jwk']);
    if (typeof expected !== 'string')
      return broken(`harness error: the proof's key has no thumbprint: ${expected.problem}`);
    const jwt = b.res.accessToken?.jwt;
    let cnf: unknown;
    let where: string;
    let probes: ProbeId[] = [b.id];
    if (jwt) {
      cnf = jwt.payload['cnf'];
      where = 'the JWT access token';
    } else {
      const intro = input.evidence.exchanges[PROBES.dpop('introspect')];
      if (!intro?.response)
        return skip(
          'not applicable: the token is opaque and no introspection of it was answered (declare introspection to see its cnf)',
        );
      const body = jsonObject(intro.response);
      if (intro.response.status !== 200 || body?.['active'] !== true)
        return fail(
          `introspection of the DPoP-bound token was answered ${describeResponse(intro.response)}${body ? ` active ${show(body['active'])}` : ''}, so its cnf is unknown`,
          [b.id, PROBES.dpop('introspect')],
        );
      cnf = body['cnf'];
      where = 'introspection of the opaque token';
      probes = [b.id, PROBES.dpop('introspect')];
    }
    const jkt =
      cnf && typeof cnf === 'object' && !Array.isArray(cnf)
        ? (cnf as Record<string, unknown>)['jkt']
        : undefined;
    if (jkt === undefined) return fail(`${where} has no cnf.jkt (cnf is ${show(cnf)})`, probes);
    return jkt === expected
      ? pass(`cnf.jkt in ${where} is the proof key's thumbprint`, probes)
      : fail(
          `cnf.jkt in ${where} is ${show(jkt)}, not the proof key's thumbprint ${show(expected)}`,
          probes,
        );
  },
});

/** Token endpoint probes whose answers may ask for a nonce. */
const TOKEN_ENDPOINT: ProbeId[] = [
  PROBES.dpop('token'),
  PROBES.dpopRetry('token'),
  ...(
    ['bad-signature', 'wrong-htm', 'wrong-htu', 'stale-iat', 'alg-none', 'private-key'] as const
  ).flatMap((d) => [PROBES.dpop(d), PROBES.dpopRetry(d)]),
  PROBES.dpop('replay'),
];

export const dpopNonceChallenge = defineCheck({
  id: 'dpop.nonce-challenge',
  title: 'A use_dpop_nonce answer is a 400 that carries a DPoP-Nonce header',
  area: 'dpop',
  level: 'MUST',
  spec: rfc(9449, '8'),
  defect: 'the token endpoint answers use_dpop_nonce without a DPoP-Nonce header (or not with 400)',
  applies: declared,
  needs: () => [PROBES.dpop('token')],
  alsoReads: () => TOKEN_ENDPOINT.slice(1),
  judge: ({ evidence }) => {
    const asked = TOKEN_ENDPOINT.filter((id) => asksForNonce(evidence.exchanges[id]?.response));
    if (asked.length === 0)
      return skip('not applicable: the token endpoint never answered use_dpop_nonce');
    const bad = asked.filter((id) => {
      const res = evidence.exchanges[id]!.response!;
      return res.status !== 400 || nonceOf(res) === undefined;
    });
    if (bad.length === 0)
      return pass(
        `${asked.length} use_dpop_nonce answer(s), each 400 with a DPoP-Nonce header`,
        asked,
      );
    const res = evidence.exchanges[bad[0]!]!.response!;
    return fail(
      `${bad[0]} was answered ${describeResponse(res)} with ${nonceOf(res) ? 'a' : 'no'} DPoP-Nonce header: the client cannot follow the nonce dance`,
      bad,
    );
  },
});

export const dpopNoncePolicy = defineCheck({
  id: 'dpop.nonce-policy',
  title: 'The token endpoint asks for a DPoP nonce as the descriptor declares',
  area: 'dpop',
  level: 'EXPECTATION',
  levelLabel: 'EXPECTATION (dpop.nonce: required or none)',
  spec: rfc(9449, '8'),
  defect:
    'a server declared to require nonces issues a token to a proof without one (or one declared never to ask asks)',
  applies: (p) =>
    !p.dpop
      ? 'the descriptor declares no DPoP support (dpop)'
      : p.dpop.nonce === 'optional'
        ? 'the descriptor makes no promise about nonces (dpop.nonce: optional)'
        : true,
  needs: () => [PROBES.dpop('token')],
  judge: ({ ex, provider }) => {
    const res = ex(PROBES.dpop('token')).response;
    const asked = asksForNonce(res);
    if (provider.dpop!.nonce === 'required')
      return asked
        ? pass('the first proof, without a nonce, was answered use_dpop_nonce')
        : fail(
            `the first proof, without a nonce, was answered ${describeResponse(res)}, not use_dpop_nonce (dpop.nonce: required)`,
          );
    return asked
      ? fail(
          'the first proof was answered use_dpop_nonce, but the descriptor declares the server never asks (dpop.nonce: none)',
        )
      : pass(`the first proof was answered ${describeResponse(res)} without asking for a nonce`);
  },
});

interface ProofRefusal {
  kind: DpopProbe;
  slug: string;
  what: string;
  acceptance: {
    level: Level;
    levelReason?: string;
    spec: SpecRef;
    defect: string;
    applies?: (p: Provider) => true | string;
  };
  code: { level: Level; levelReason?: string; codes: string[]; rule: string; defect: string };
}

/** Acceptance and error code of one spoilt DPoP request, judged on its final answer. */
function proofRefusal(r: ProofRefusal): [CheckDef, CheckDef] {
  const acceptanceId = `dpop.${r.slug}-refused`;
  const common = {
    area: 'dpop' as const,
    applies: r.acceptance.applies ?? declared,
    ...reads(r.kind),
  };
  return [
    defineCheck({
      ...common,
      id: acceptanceId,
      title: `A token request with ${r.what} is refused`,
      level: r.acceptance.level,
      ...(r.acceptance.levelReason ? { levelReason: r.acceptance.levelReason } : {}),
      spec: r.acceptance.spec,
      defect: r.acceptance.defect,
      judge: (input) => {
        const { id, res } = finalOf(input, r.kind);
        return { ...judgeNotAccepted(res, `a token request with ${r.what}`), probes: [id] };
      },
    }),
    defineCheck({
      ...common,
      id: `dpop.${r.slug}-code`,
      title: `A token request with ${r.what} is refused with ${r.code.codes.join(' or ')}`,
      level: r.code.level,
      ...(r.code.levelReason ? { levelReason: r.code.levelReason } : {}),
      spec: rfc(9449, '5'),
      defect: r.code.defect,
      judge: (input) => {
        const { id, res } = finalOf(input, r.kind);
        return {
          ...judgeErrorCode(
            res,
            r.code.codes,
            `a token request with ${r.what}`,
            acceptanceId,
            r.code.rule,
          ),
          probes: [id],
        };
      },
    }),
  ];
}

const INVALID_PROOF = {
  level: 'MUST' as const,
  codes: ['invalid_dpop_proof'],
  rule: 'RFC 9449 §5: an invalid DPoP proof is answered invalid_dpop_proof',
};

export const dpopRefusalChecks: CheckDef[] = [
  ...proofRefusal({
    kind: 'no-proof',
    slug: 'missing-proof',
    what: 'no DPoP proof from a client that must send one',
    acceptance: {
      level: 'EXPECTATION',
      levelReason:
        'The descriptor declares DPoP required for this client (dpop.required; RFC 9449 §5.2 dpop_bound_access_tokens: requests without a proof MUST be rejected).',
      spec: rfc(9449, '5.2'),
      defect: 'a server declared to require DPoP issues a token to a request without a proof',
      applies: (p) =>
        !p.dpop
          ? 'the descriptor declares no DPoP support (dpop)'
          : p.dpop.required
            ? true
            : 'the descriptor does not declare DPoP required (dpop.required)',
    },
    code: {
      level: 'EXPECTATION',
      levelReason:
        'RFC 9449 §5.2 requires the refusal but names no error code: invalid_dpop_proof (§5), invalid_request (a missing required parameter, RFC 6749 §5.2) or invalid_grant are each a fair answer; a 5xx or another code is not.',
      codes: ['invalid_dpop_proof', 'invalid_request', 'invalid_grant'],
      rule: 'RFC 9449 §5.2, RFC 6749 §5.2',
      defect:
        'a request without the required proof is refused with an unrelated code or a server error',
    },
  }),
  ...proofRefusal({
    kind: 'bad-signature',
    slug: 'bad-signature',
    what: 'a DPoP proof whose signature does not verify',
    acceptance: {
      level: 'MUST',
      spec: rfc(9449, '4.3'),
      defect: "the server does not verify the proof's signature",
    },
    code: { ...INVALID_PROOF, defect: 'a proof with a bad signature is refused with another code' },
  }),
  ...proofRefusal({
    kind: 'wrong-htm',
    slug: 'wrong-htm',
    what: 'a DPoP proof whose htm names another method',
    acceptance: {
      level: 'MUST',
      spec: rfc(9449, '4.3'),
      defect: "the server does not compare the proof's htm with the request method",
    },
    code: { ...INVALID_PROOF, defect: 'a proof with a wrong htm is refused with another code' },
  }),
  ...proofRefusal({
    kind: 'wrong-htu',
    slug: 'wrong-htu',
    what: 'a DPoP proof whose htu names another URL',
    acceptance: {
      level: 'MUST',
      spec: rfc(9449, '4.3'),
      defect: "the server does not compare the proof's htu with the request URL",
    },
    code: { ...INVALID_PROOF, defect: 'a proof with a wrong htu is refused with another code' },
  }),
  ...proofRefusal({
    kind: 'stale-iat',
    slug: 'stale-iat',
    what: 'a DPoP proof without nonce whose iat is long past',
    acceptance: {
      level: 'MUST',
      spec: rfc(9449, '4.3'),
      defect: 'the server accepts a proof created long ago (no iat window)',
    },
    code: {
      level: 'MUST',
      levelReason:
        'RFC 9449 §4.3 lets a server nonce stand in for iat, and §8 lets the server answer a proof without one with use_dpop_nonce: either refusal is conformant.',
      codes: ['invalid_dpop_proof', 'use_dpop_nonce'],
      rule: 'RFC 9449 §5, §8',
      defect: 'a stale proof is refused with an unrelated code',
    },
  }),
  ...proofRefusal({
    kind: 'alg-none',
    slug: 'alg-none',
    what: 'an unsigned DPoP proof (alg none)',
    acceptance: {
      level: 'MUST',
      spec: rfc(9449, '4.3'),
      defect: 'the server accepts an unsigned proof (alg none)',
    },
    code: { ...INVALID_PROOF, defect: 'an alg none proof is refused with another code' },
  }),
  ...proofRefusal({
    kind: 'private-key',
    slug: 'private-key',
    what: 'a DPoP proof whose jwk header holds the private key',
    acceptance: {
      level: 'MUST',
      spec: rfc(9449, '4.3'),
      defect: 'the server accepts a proof whose jwk holds a private key',
    },
    code: {
      ...INVALID_PROOF,
      defect: 'a proof with a private key in its header is refused with another code',
    },
  }),
  ...proofRefusal({
    kind: 'replay',
    slug: 'replay',
    what: 'a replayed DPoP proof (the jti of the proof that got the token)',
    acceptance: {
      level: 'EXPECTATION',
      levelReason:
        'RFC 9449 §11.1 leaves replay detection to the server (jti tracking or nonces); the descriptor declares it (dpop.replayDetection).',
      spec: rfc(9449, '11.1'),
      defect: 'a server declared to detect replays accepts the same proof twice',
      applies: (p) =>
        !p.dpop
          ? 'the descriptor declares no DPoP support (dpop)'
          : p.dpop.replayDetection
            ? true
            : 'the descriptor does not declare replay detection (dpop.replayDetection)',
    },
    code: {
      level: 'EXPECTATION',
      levelReason:
        'A replayed proof is an invalid proof (RFC 9449 §5, invalid_dpop_proof); a server that binds freshness to nonces may answer use_dpop_nonce (§8).',
      codes: ['invalid_dpop_proof', 'use_dpop_nonce'],
      rule: 'RFC 9449 §5, §8',
      defect: 'a replayed proof is refused with another code',
    },
  }),
];

export const dpopResourceAccepts = defineCheck({
  id: 'dpop.resource-accepts',
  title: 'The protected resource accepts the DPoP-bound token with a proof (DPoP scheme, ath)',
  area: 'dpop',
  level: 'EXPECTATION',
  levelReason:
    'The descriptor declares DPoP support and a protected resource: the DPoP-bound token, presented as RFC 9449 §7.1 says, must be usable there.',
  spec: rfc(9449, '7.1'),
  defect: 'the resource refuses a DPoP-bound token presented with a valid proof',
  applies: (p) =>
    !p.dpop
      ? 'the descriptor declares no DPoP support (dpop)'
      : p.resource
        ? true
        : 'the descriptor declares no protected resource (resource.url)',
  ...reads('resource'),
  judge: (input) => {
    const { id, res } = finalOf(input, 'resource');
    return res.status >= 200 && res.status < 300
      ? pass(`answered ${res.status}`, [id])
      : fail(`the DPoP-bound token with a valid proof was answered ${describeResponse(res)}`, [id]);
  },
});

export const dpopResourceBearerRefused = defineCheck({
  id: 'dpop.resource-bearer-refused',
  title: 'The protected resource refuses the DPoP-bound token presented as a plain Bearer token',
  area: 'dpop',
  level: 'EXPECTATION',
  levelReason:
    'The descriptor declares that the resource enforces DPoP (dpop.resourceEnforces): a bound token without its proof is a stolen token as far as the resource can tell (RFC 9449 §7.2).',
  spec: rfc(9449, '7.2'),
  defect: 'the resource accepts the DPoP-bound token as a Bearer token, without a proof',
  applies: (p) =>
    !p.dpop
      ? 'the descriptor declares no DPoP support (dpop)'
      : p.dpop.resourceEnforces
        ? true
        : 'the descriptor does not declare that the resource enforces DPoP (dpop.resourceEnforces)',
  needs: () => [PROBES.dpop('resource-bearer')],
  judge: ({ ex }) =>
    judgeNotAccepted(ex(PROBES.dpop('resource-bearer')).response, 'the DPoP-bound token as Bearer'),
});

export const dpopChecks: CheckDef[] = [
  dpopTokenIssued,
  dpopTokenType,
  dpopCnfJkt,
  dpopNonceChallenge,
  dpopNoncePolicy,
  ...dpopRefusalChecks,
  dpopResourceAccepts,
  dpopResourceBearerRefused,
];
