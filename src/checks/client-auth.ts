import type { AssertionDefect } from '../probes/ids.js';
import { withoutTls } from '../descriptor/insecure.js';
import type { Provider } from '../descriptor/types.js';
import { PROBES, type ProbeId } from '../probes/ids.js';
import { assertionClient, mtlsClient } from '../probes/clients.js';
import { describeResponse } from './helpers.js';
import { refusalChecks } from './refusal.js';
import {
  broken,
  defineCheck,
  fail,
  pass,
  rfc,
  type CheckDef,
  type Level,
  type SpecRef,
} from './types.js';

const notApplicable = (p: Provider) =>
  assertionClient(p)
    ? true
    : 'no client authenticates with a JWT (client_secret_jwt or private_key_jwt)';

export interface AssertionProbeSpec {
  defect: AssertionDefect;
  id: string;
  title: string;
  /** What the request is, as a title's subject: "An expired client assertion". */
  subject: string;
  level: Level;
  levelReason?: string;
  spec: SpecRef;
  what: string;
  /** Error codes accepted besides invalid_client, with why. */
  alsoAccepted?: string[];
}

export const SPECS: AssertionProbeSpec[] = [
  {
    defect: 'expired',
    id: 'client-auth.expired-assertion',
    title: 'An expired client assertion is refused with invalid_client',
    subject: 'An expired client assertion',
    level: 'MUST',
    spec: rfc(7523, '3'),
    what: 'an assertion whose exp has passed',
  },
  {
    defect: 'wrong-aud',
    id: 'client-auth.wrong-audience',
    title: 'A client assertion for another audience is refused with invalid_client',
    subject: 'A client assertion for another audience',
    level: 'MUST',
    spec: rfc(7523, '3'),
    what: 'an assertion with aud of another server',
  },
  {
    defect: 'wrong-iss',
    alsoAccepted: ['invalid_request'],
    levelReason:
      "The request also carries client_id, which then disagrees with the assertion: RFC 6749 §5.2 lets the server call that invalid_request (conflicting credentials), so invalid_request is accepted next to RFC 7523 §3.2's invalid_client.",
    id: 'client-auth.wrong-issuer',
    title: 'A client assertion whose iss is not the client is refused with invalid_client',
    subject: 'A client assertion whose iss is not the client',
    level: 'MUST',
    spec: rfc(7523, '3'),
    what: 'an assertion whose iss is not the client id',
  },
  {
    defect: 'wrong-sub',
    alsoAccepted: ['invalid_request'],
    levelReason:
      "The request also carries client_id, which then disagrees with the assertion: RFC 6749 §5.2 lets the server call that invalid_request (conflicting credentials), so invalid_request is accepted next to RFC 7523 §3.2's invalid_client.",
    id: 'client-auth.wrong-subject',
    title: 'A client assertion whose sub is not the client is refused with invalid_client',
    subject: 'A client assertion whose sub is not the client',
    level: 'MUST',
    spec: rfc(7523, '3'),
    what: 'an assertion whose sub is not the client id',
  },
  {
    defect: 'alg-none',
    id: 'client-auth.alg-none',
    title: 'An unsigned client assertion (alg none) is refused with invalid_client',
    subject: 'An unsigned client assertion (alg none)',
    level: 'MUST',
    spec: rfc(7523, '3'),
    what: 'an unsigned assertion (alg none)',
  },
  {
    defect: 'unknown-key',
    id: 'client-auth.unknown-key',
    title: 'A client assertion signed by a key the server does not know is refused',
    subject: 'A client assertion signed by a key the server does not know',
    level: 'MUST',
    spec: rfc(7523, '3'),
    what: 'an assertion signed by an unknown key',
  },
  {
    defect: 'no-jti',
    id: 'client-auth.missing-jti',
    title: 'A client assertion without jti is refused',
    subject: 'A client assertion without jti',
    level: 'SHOULD',
    spec: {
      label: 'OpenID Connect Core §9',
      url: 'https://openid.net/specs/openid-connect-core-1_0.html#ClientAuthentication',
    },
    levelReason:
      'RFC 7523 makes jti optional; OpenID Connect Core §9 requires it for client authentication, and without it replay cannot be detected: a warning.',
    what: 'an assertion without jti',
  },
  {
    defect: 'far-future-exp',
    id: 'client-auth.far-future-exp',
    title: 'A client assertion valid for a year is refused',
    subject: 'A client assertion valid for a year',
    level: 'SHOULD',
    spec: rfc(7523, '3'),
    levelReason:
      'RFC 7523 §3 lets the server reject an exp unreasonably far in the future (MAY); a year-long assertion is a replayable credential: a warning.',
    what: 'an assertion with exp a year ahead',
  },
];

/** Which assertion the probes spoil: the client's (client authentication) or the grant's (jwt-bearer). */
interface AssertionRole {
  area: 'client-auth' | 'grant';
  probe: (d: AssertionDefect) => ProbeId;
  /** RFC 7523 §3.2 (client authentication): invalid_client; §3.1 (grant): invalid_grant. */
  code: 'invalid_client' | 'invalid_grant';
  section: string;
  applies: (p: Provider) => true | string;
}

export const CLIENT_ASSERTION: AssertionRole = {
  area: 'client-auth',
  probe: PROBES.assertion,
  code: 'invalid_client',
  section: '3.2',
  applies: notApplicable,
};

/** Two checks per spoilt assertion: it obtains no token, and it is refused with the RFC 7523 error code. */
export function assertionChecks(
  s: AssertionProbeSpec,
  role: AssertionRole = CLIENT_ASSERTION,
): [CheckDef, CheckDef] {
  const codes = [role.code, ...(s.alsoAccepted ?? [])];
  return refusalChecks({
    probe: role.probe(s.defect),
    area: role.area,
    applies: role.applies,
    what: s.what,
    acceptance: {
      id: s.id,
      title: `${s.subject} does not obtain a token`,
      level: s.level,
      ...(s.levelReason && !s.alsoAccepted?.length ? { levelReason: s.levelReason } : {}),
      spec: s.spec,
      defect: `the endpoint accepts ${s.what}`,
    },
    code: {
      id: `${s.id}-error-code`,
      title: `${s.subject} is refused with ${codes.join(' or ')}`,
      level: 'MUST',
      levelReason: `RFC 7523 §${role.section}: when the server refuses the assertion, the error parameter MUST be ${role.code}${s.alsoAccepted?.length ? ` (${s.alsoAccepted.join(', ')} accepted too: the request also carries a conflicting client_id, RFC 6749 §5.2)` : ''}.`,
      spec: rfc(7523, role.section),
      defect: `the endpoint refuses ${s.what} with another error code, a 5xx or a 2xx`,
      codes,
      rule: `RFC 7523 §${role.section}`,
    },
  });
}

/** A replay probe pair: the first use must succeed, the second must not. */
export function replayCheck(
  def: Omit<CheckDef, 'needs' | 'judge' | 'perClient'>,
  first: ProbeId,
  again: ProbeId,
): CheckDef {
  return defineCheck({
    ...def,
    needs: () => [first, again],
    judge: ({ ex }) => {
      const one = ex(first).response;
      const two = ex(again).response;
      if (!(one.status === 200 && one.accessToken))
        return broken(
          `prerequisite failed: the first use of a fresh assertion was answered ${describeResponse(one)}, so replay cannot be judged`,
        );
      if (two.accessToken || two.status === 200)
        return fail(`the replayed assertion was answered ${describeResponse(two)}`);
      return pass(`the replay was refused with ${describeResponse(two)}`);
    },
  });
}

export const replayedJti = replayCheck(
  {
    id: 'client-auth.replayed-jti',
    title: 'A client assertion used twice (same jti) is refused the second time',
    area: 'client-auth',
    level: 'SHOULD',
    levelReason:
      'RFC 7523 §3 lets the server keep used jti values to stop replay (MAY); OpenID Connect Core §9 expects one-time use: a warning.',
    spec: rfc(7523, '3'),
    defect: 'the endpoint accepts the same client assertion twice',
    applies: notApplicable,
  },
  PROBES.assertionFirstUse,
  PROBES.assertionReplay,
);

export const mtlsWithoutCertificate = refusalChecks({
  probe: PROBES.mtlsWithoutCertificate,
  area: 'client-auth',
  applies: (p) =>
    withoutTls(p) ??
    (mtlsClient(p) ? true : 'no client uses tls_client_auth or self_signed_tls_client_auth'),
  what: 'a request without a client certificate',
  acceptance: {
    id: 'client-auth.mtls-without-certificate',
    title: 'A tls_client_auth token request without a client certificate does not obtain a token',
    level: 'MUST',
    spec: rfc(8705, '2'),
    defect: 'the endpoint issues tokens to an mTLS client that presented no certificate',
  },
  code: {
    id: 'client-auth.mtls-without-certificate-error-code',
    title:
      'A tls_client_auth token request without a client certificate is refused with invalid_client (or invalid_request)',
    level: 'MUST',
    levelReason:
      'RFC 8705 §2: a failed mutual-TLS client authentication is answered with a normal RFC 6749 §5.2 error response, invalid_client; invalid_request is accepted too (the certificate is a missing part of the request).',
    spec: rfc(8705, '2'),
    defect:
      'the endpoint refuses a certificate-less mTLS request with another code, a 5xx or a 2xx',
    codes: ['invalid_client', 'invalid_request'],
    rule: 'RFC 8705 §2, RFC 6749 §5.2',
  },
});

export const certificateBound = defineCheck({
  id: 'client-auth.certificate-bound-token',
  title: 'Access tokens of mTLS clients are bound to their certificate (cnf x5t#S256)',
  area: 'client-auth',
  level: 'EXPECTATION',
  levelReason:
    "RFC 8705 §3 says how a bound token names its certificate; whether tokens are bound is the deployment's choice, declared by auth.certificateBoundTokens.",
  spec: rfc(8705, '3.1'),
  defect: 'the endpoint issues an unbound token (no cnf) or one bound to another certificate',
  applies: (p) =>
    withoutTls(p) ??
    (p.clients.some((c) => c.auth.tls?.boundTokens)
      ? true
      : 'no client declares certificateBoundTokens'),
  needs: (p) => p.clients.flatMap((c, i) => (c.auth.tls?.boundTokens ? [PROBES.token(i)] : [])),
  judge: ({ ex, provider }) => {
    const problems: string[] = [];
    const opaque: string[] = [];
    let checked = 0;
    provider.clients.forEach((c, i) => {
      if (!c.auth.tls?.boundTokens) return;
      const res = ex(PROBES.token(i)).response;
      if (!res.accessToken)
        return void problems.push(`${c.label}: no access token (${describeResponse(res)})`);
      const cnf = res.accessToken.jwt?.payload['cnf'] as Record<string, unknown> | undefined;
      checked += 1;
      if (!res.accessToken.jwt) {
        opaque.push(c.label);
        return;
      }
      if (!cnf || typeof cnf['x5t#S256'] !== 'string')
        problems.push(`${c.label}: the token has no cnf x5t#S256`);
      else if (cnf['x5t#S256'] !== c.auth.tls.thumbprint)
        problems.push(
          `${c.label}: cnf x5t#S256 is ${String(cnf['x5t#S256'])}, the certificate's thumbprint is ${c.auth.tls.thumbprint}`,
        );
    });
    if (problems.length > 0) return fail(problems.join('; '));
    // An opaque token's binding is only visible through introspection (RFC 8705 §3.2), not read here yet.
    if (opaque.length > 0)
      return broken(
        `prerequisite failed: the tokens of ${opaque.join(', ')} are opaque, so their binding cannot be read from them`,
      );
    return pass(`${checked} tokens bound to their client's certificate`);
  },
});

export const clientAuthChecks: CheckDef[] = [
  ...SPECS.flatMap((s) => assertionChecks(s)),
  replayedJti,
  ...mtlsWithoutCertificate,
  certificateBound,
];
