import { randomBytes } from 'node:crypto';
import {
  SignJWT,
  UnsecuredJWT,
  generateSecret,
  generateKeyPair,
  importJWK,
  importPKCS8,
  type CryptoKey,
  type JWK,
} from 'jose';

export const CLIENT_ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

export type AssertionAlg = 'HS256' | 'HS384' | 'HS512' | 'RS256' | 'PS256' | 'ES256' | 'EdDSA';

/** Signing material of one JWT-based client, loaded from the descriptor. */
export interface AssertionKey {
  alg: AssertionAlg;
  /** PKCS8 PEM or a private JWK as JSON (private_key_jwt), or the shared secret (client_secret_jwt). */
  material: string;
  kind: 'pem' | 'jwk' | 'secret';
  kid?: string;
}

/** A way to spoil an assertion: each is one negative probe (RFC 7523 §3, the OpenID conformance suite's list). */
export type { AssertionDefect } from '../probes/ids.js';
import type { AssertionDefect } from '../probes/ids.js';

export interface AssertionClaims {
  iss: string;
  sub: string;
  aud: string | string[];
  /** Extra claims (jwt-bearer grants: scope, …). */
  extra?: Record<string, unknown>;
  /** exp − iat in seconds (default 60): a probe of a declared maximum lifetime asks for more. */
  lifetimeSeconds?: number;
}

async function signingKey(key: AssertionKey): Promise<CryptoKey | Uint8Array> {
  if (key.kind === 'secret') return new TextEncoder().encode(key.material);
  if (key.kind === 'pem') return importPKCS8(key.material, key.alg);
  return (await importJWK(JSON.parse(key.material) as JWK, key.alg)) as CryptoKey;
}

/** A key of the same kind the server cannot know: a fresh secret or key pair. */
async function strangerKey(alg: AssertionAlg): Promise<CryptoKey | Uint8Array> {
  if (alg.startsWith('HS')) return generateSecret(alg, { extractable: true }) as Promise<CryptoKey>;
  return (await generateKeyPair(alg, { extractable: true })).privateKey;
}

/**
 * Builds a client assertion (RFC 7523 §3: iss = sub = client id, aud = token endpoint, short exp,
 * unique jti, iat), optionally with exactly one defect.
 */
export async function buildAssertion(
  key: AssertionKey,
  claims: AssertionClaims,
  defect?: AssertionDefect,
): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  const payload: Record<string, unknown> = {
    ...claims.extra,
    iss: claims.iss,
    sub: claims.sub,
    aud: claims.aud,
    iat: now,
    exp: now + (claims.lifetimeSeconds ?? 60),
    jti: randomBytes(16).toString('base64url'),
  };
  switch (defect) {
    case 'expired':
      payload['iat'] = now - 600;
      payload['exp'] = now - 300;
      break;
    case 'wrong-aud':
      payload['aud'] = 'https://token-conformance.invalid/not-this-server';
      break;
    case 'wrong-iss':
      payload['iss'] = `tc-wrong-issuer-${randomBytes(4).toString('hex')}`;
      break;
    case 'wrong-sub':
      payload['sub'] = `tc-wrong-subject-${randomBytes(4).toString('hex')}`;
      break;
    case 'no-jti':
      delete payload['jti'];
      break;
    case 'far-future-exp':
      payload['exp'] = now + 365 * 24 * 3600;
      break;
    case 'alg-none':
      return new UnsecuredJWT(payload).encode();
    default:
      break;
  }
  const header = { alg: key.alg, typ: 'JWT', ...(key.kid ? { kid: key.kid } : {}) };
  const k = defect === 'unknown-key' ? await strangerKey(key.alg) : await signingKey(key);
  return new SignJWT(payload).setProtectedHeader(header).sign(k);
}
