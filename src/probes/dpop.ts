/**
 * DPoP at the token endpoint (RFC 9449): a token request with a valid proof, the DPoP-bound token at
 * introspection and the resource, and the proofs a server must refuse. The proof key pair is
 * generated when the plan first needs it, held in memory only; its private key is never sent except
 * in the one spoilt proof that carries it (recorded with the private members replaced).
 *
 * Nonces (RFC 9449 §8, §9): every proof to the token endpoint carries the latest DPoP-Nonce the token
 * endpoint sent, and a request answered use_dpop_nonce with a DPoP-Nonce header is sent once more
 * with that nonce (its `.nonce-retry` probe), so a server that wants nonces first is judged on the
 * proof's defect, not on the missing nonce.
 */
import { hash, randomUUID } from 'node:crypto';
import {
  base64url,
  exportJWK,
  generateKeyPair,
  SignJWT,
  type CryptoKey,
  type JWK,
  type JWTPayload,
} from 'jose';
import type { ClientDescriptor, DpopAlg, Provider } from '../descriptor/types.js';
import { asksForNonce, finalDpop, nonceOf } from '../evidence/dpop.js';
import { DPOP_RETRIED, PROBES, type DpopProbe, type ProbeId } from './ids.js';
import { grantForm, withClientAuth, type ProbeRequest } from './request.js';
import { tamper } from './resource.js';
import { policy, prerequisite, type NotRun, type ProbeContext, type ProbeDef } from './types.js';

interface ProofKey {
  alg: DpopAlg;
  privateKey: CryptoKey;
  /** The public JWK the proofs carry (RFC 9449 §4.2 jwk). */
  publicJwk: JWK;
  /** The private JWK: only the `private-key` defect puts it in a header. */
  privateJwk: JWK;
}

async function newProofKey(alg: DpopAlg): Promise<ProofKey> {
  const { publicKey, privateKey } = await generateKeyPair(alg, { extractable: true });
  const pub = await exportJWK(publicKey);
  const { kty, crv, x, y, n, e } = pub;
  const publicJwk = Object.fromEntries(
    Object.entries({ kty, crv, x, y, n, e }).filter(([, v]) => v !== undefined),
  ) as JWK;
  return { alg, privateKey, publicJwk, privateJwk: await exportJWK(privateKey) };
}

/** RFC 9449 §4.2 htu: the target URI without query and fragment. */
export function htuOf(url: string): string {
  const u = new URL(url);
  u.search = '';
  u.hash = '';
  return u.toString();
}

/** RFC 9449 §4.2 ath: base64url SHA-256 of the access token's ASCII. */
export function athOf(token: string): string {
  return hash('sha256', token, 'base64url');
}

export type ProofDefect =
  'bad-signature' | 'wrong-htm' | 'wrong-htu' | 'stale-iat' | 'alg-none' | 'private-key';

interface ProofClaims {
  htm: string;
  htu: string;
  nonce?: string | undefined;
  ath?: string | undefined;
}

/** How old a stale proof is: well beyond any acceptable window and the declared clock skew. */
export function staleSeconds(p: Provider): number {
  return Math.max(600, p.limits.clockSkewSeconds + 300);
}

/** A DPoP proof JWT (RFC 9449 §4.2), or one spoilt in exactly one way. */
export async function buildProof(
  key: ProofKey,
  claims: ProofClaims,
  defect?: ProofDefect,
  p?: Provider,
): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  const payload: JWTPayload = {
    jti: randomUUID(),
    htm: defect === 'wrong-htm' ? (claims.htm === 'GET' ? 'POST' : 'GET') : claims.htm,
    htu: defect === 'wrong-htu' ? new URL('/tc-wrong-htu', claims.htu).toString() : claims.htu,
    iat: defect === 'stale-iat' ? now - (p ? staleSeconds(p) : 600) : now,
    ...(claims.nonce !== undefined ? { nonce: claims.nonce } : {}),
    ...(claims.ath !== undefined ? { ath: claims.ath } : {}),
  };
  const jwk = defect === 'private-key' ? key.privateJwk : key.publicJwk;
  if (defect === 'alg-none') {
    const enc = (o: object) => base64url.encode(JSON.stringify(o));
    return `${enc({ typ: 'dpop+jwt', alg: 'none', jwk })}.${enc(payload)}.`;
  }
  const proof = await new SignJWT(payload)
    .setProtectedHeader({ typ: 'dpop+jwt', alg: key.alg, jwk })
    .sign(key.privateKey);
  return defect === 'bad-signature' ? tamper(proof) : proof;
}

const DEFECTS: Record<ProofDefect, string> = {
  'bad-signature': 'a signature that does not verify (one character changed)',
  'wrong-htm': 'htm naming another method',
  'wrong-htu': 'htu naming another URL',
  'stale-iat': 'an iat long past',
  'alg-none': 'alg none (unsigned)',
  'private-key': 'the private key in its jwk header',
};

/** The token endpoint probes in the order they are sent: the latest nonce is the last one seen. */
const TOKEN_ENDPOINT_PROBES: ProbeId[] = [
  PROBES.dpop('token'),
  PROBES.dpopRetry('token'),
  PROBES.dpop('no-proof'),
  ...(['bad-signature', 'wrong-htm', 'wrong-htu', 'stale-iat', 'alg-none', 'private-key'] as const)
    .map((d) => [PROBES.dpop(d), PROBES.dpopRetry(d)])
    .flat(),
  PROBES.dpop('replay'),
];

/** The latest DPoP-Nonce the token endpoint sent, to put in the next proof. */
function tokenEndpointNonce(ctx: ProbeContext): string | undefined {
  let nonce: string | undefined;
  for (const id of TOKEN_ENDPOINT_PROBES) nonce = nonceOf(ctx.exchange(id)?.response) ?? nonce;
  return nonce;
}

/** The DPoP-bound access token, from the request with a valid proof (or its nonce retry). */
export function dpopToken(ctx: ProbeContext): string | undefined {
  return ctx.tokenOf(PROBES.dpopRetry('token')) ?? ctx.tokenOf(PROBES.dpop('token'));
}

const noDpop = (): NotRun => policy('the descriptor declares no DPoP support (dpop)');

/** Every DPoP probe, in order; a plan without `dpop` lists them, each not run for that reason. */
export function dpopProbes(p: Provider): ProbeDef[] {
  const d = p.dpop;
  const client: ClientDescriptor = d?.client ?? p.clients[0]!;
  const index = p.clients.indexOf(client);
  const asClient = index >= 0 ? { asClient: index } : {};
  let key: Promise<ProofKey> | undefined;
  const proofKey = () => (key ??= newProofKey(d?.alg ?? 'ES256'));
  // The proof that discloses its private key uses a key of its own: the bound token's key stays secret.
  let disclosed: Promise<ProofKey> | undefined;
  const disclosedKey = () => (disclosed ??= newProofKey(d?.alg ?? 'ES256'));
  const needsToken = (ctx: ProbeContext): true | NotRun =>
    dpopToken(ctx)
      ? true
      : prerequisite('the token request with a valid DPoP proof got no access token');
  const declared = (more?: (ctx: ProbeContext) => true | NotRun) => (ctx: ProbeContext) =>
    d ? (more ? more(ctx) : true) : noDpop();

  /** A token request of the DPoP client, with the proof `proof` builds (or none). */
  const tokenRequest = async (
    ctx: ProbeContext,
    proof: ((claims: ProofClaims) => Promise<string>) | undefined,
  ): Promise<ProbeRequest> => {
    const url = ctx.tokenUrlOf(client);
    const dpop = proof
      ? await proof({ htm: 'POST', htu: htuOf(url), nonce: tokenEndpointNonce(ctx) })
      : undefined;
    return withClientAuth(p, client, {
      method: 'POST',
      url,
      form: await grantForm(p, p.scopes.request),
      ...(dpop !== undefined ? { dpop } : {}),
    });
  };

  /** The same request again with the nonce the first answer supplied, when it asked for one. */
  const retry = (kind: DpopProbe, unit: ProbeDef): ProbeDef => ({
    ...unit,
    id: PROBES.dpopRetry(kind),
    purpose: (ctx) =>
      `${typeof unit.purpose === 'string' ? unit.purpose : unit.purpose(ctx)}, again with the nonce the server supplied (DPoP-Nonce)`,
    appliesTo: (ctx) => {
      const first = unit.appliesTo?.(ctx) ?? true;
      if (first !== true) return first;
      const res = ctx.exchange(PROBES.dpop(kind))?.response;
      return asksForNonce(res) && nonceOf(res)
        ? true
        : policy(
            'not needed: the first answer did not ask for a nonce (use_dpop_nonce with DPoP-Nonce)',
          );
    },
  });

  const token: ProbeDef = {
    id: PROBES.dpop('token'),
    ...asClient,
    purpose: `token request with a valid DPoP proof (${d?.alg ?? 'ES256'}) by ${client.label}`,
    appliesTo: declared(),
    build: async (ctx) => tokenRequest(ctx, async (c) => buildProof(await proofKey(), c)),
  };
  // A resource nonce (RFC 9449 §9) is the resource's own: the retry takes it from the resource's answer.
  const resource: ProbeDef = {
    id: PROBES.dpop('resource'),
    purpose:
      'the DPoP-bound access token at the protected resource, with a proof (DPoP scheme, ath)',
    appliesTo: declared((ctx) =>
      p.resource
        ? needsToken(ctx)
        : policy('the descriptor declares no protected resource (resource.url)'),
    ),
    build: async (ctx) => {
      const t = dpopToken(ctx)!;
      const nonce = nonceOf(ctx.exchange(PROBES.dpop('resource'))?.response);
      return {
        method: p.resource!.method,
        url: p.resource!.url,
        dpopToken: t,
        dpop: await buildProof(await proofKey(), {
          htm: p.resource!.method,
          htu: htuOf(p.resource!.url),
          ath: athOf(t),
          nonce: ctx.exchange(PROBES.dpop('resource')) ? nonce : undefined,
        }),
      };
    },
  };
  const spoilt = (defect: ProofDefect): ProbeDef => ({
    id: PROBES.dpop(defect),
    ...asClient,
    purpose: `token request with a DPoP proof with ${DEFECTS[defect]}`,
    appliesTo: declared(),
    build: async (ctx) =>
      tokenRequest(ctx, async (c) =>
        // A stale proof carries no nonce: a nonce may stand in for iat (RFC 9449 §4.3 step 11).
        buildProof(
          await (defect === 'private-key' ? disclosedKey() : proofKey()),
          defect === 'stale-iat' ? { ...c, nonce: undefined } : c,
          defect,
          p,
        ),
      ),
  });

  const units: ProbeDef[] = [
    token,
    retry('token', token),
    {
      id: PROBES.dpop('introspect'),
      purpose: 'introspection of the DPoP-bound access token',
      appliesTo: declared((ctx) =>
        p.introspection
          ? needsToken(ctx)
          : policy('the descriptor declares no introspection endpoint'),
      ),
      build: (ctx) =>
        withClientAuth(p, p.introspection!.client, {
          method: 'POST',
          url: p.introspection!.url,
          form: [
            ['token', dpopToken(ctx)!],
            ['token_type_hint', 'access_token'],
          ],
        }),
    },
    resource,
    retry('resource', resource),
    {
      id: PROBES.dpop('resource-bearer'),
      purpose: 'the DPoP-bound access token at the protected resource as a plain Bearer token',
      appliesTo: declared((ctx) =>
        d?.resourceEnforces
          ? needsToken(ctx)
          : policy(
              'the descriptor does not declare that the resource enforces DPoP (dpop.resourceEnforces)',
            ),
      ),
      build: (ctx) => ({
        method: p.resource!.method,
        url: p.resource!.url,
        bearer: dpopToken(ctx)!,
      }),
    },
    {
      id: PROBES.dpop('no-proof'),
      ...asClient,
      purpose: `token request by ${client.label} without a DPoP proof`,
      appliesTo: declared(() =>
        d?.required
          ? true
          : policy('the descriptor does not declare DPoP required (dpop.required)'),
      ),
      build: (ctx) => tokenRequest(ctx, undefined),
    },
  ];
  for (const defect of Object.keys(DEFECTS) as ProofDefect[]) {
    const unit = spoilt(defect);
    units.push(unit);
    if (DPOP_RETRIED.includes(defect)) units.push(retry(defect, unit));
  }
  units.push({
    id: PROBES.dpop('replay'),
    ...asClient,
    purpose: 'token request with the very DPoP proof that got the DPoP-bound token (replayed jti)',
    appliesTo: declared((ctx) => {
      if (!d?.replayDetection)
        return policy('the descriptor does not declare replay detection (dpop.replayDetection)');
      return needsToken(ctx);
    }),
    build: async (ctx) => {
      const sent = ctx.requestOf(finalDpopId(ctx));
      return withClientAuth(p, client, {
        method: 'POST',
        url: ctx.tokenUrlOf(client),
        form: await grantForm(p, p.scopes.request),
        ...(sent?.dpop !== undefined ? { dpop: sent.dpop } : {}),
      });
    },
  });
  return units;
}

/** The probe whose proof got the DPoP-bound token. */
function finalDpopId(ctx: ProbeContext): ProbeId {
  const exchanges: Record<string, NonNullable<ReturnType<ProbeContext['exchange']>>> = {};
  for (const id of [PROBES.dpop('token'), PROBES.dpopRetry('token')]) {
    const ex = ctx.exchange(id);
    if (ex) exchanges[id] = ex;
  }
  return finalDpop(exchanges, 'token').id;
}
