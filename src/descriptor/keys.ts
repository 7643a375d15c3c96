import { createPrivateKey, X509Certificate, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { PEM_FILE_BYTES, unsafeFileProblem } from './limits.js';
import type { AssertionAlg } from './types.js';

/** Why a key or certificate cannot be used; the loader turns it into a one-line DescriptorError. */
export class KeyProblem extends Error {
  override name = 'KeyProblem';
}

export function readPemFile(file: string, what: string): string {
  const unsafe = unsafeFileProblem(file, PEM_FILE_BYTES);
  if (unsafe) throw new KeyProblem(`cannot read the ${what} ${file}: ${unsafe}`);
  try {
    return readFileSync(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const reason =
      { ENOENT: 'no such file', EACCES: 'permission denied', EISDIR: 'it is a directory' }[
        code ?? ''
      ] ?? 'unreadable';
    throw new KeyProblem(`cannot read the ${what} ${file}: ${reason}${code ? ` (${code})` : ''}`);
  }
}

const KEY_TYPES: Record<Exclude<AssertionAlg, 'HS256' | 'HS384' | 'HS512'>, string[]> = {
  RS256: ['rsa'],
  PS256: ['rsa', 'rsa-pss'],
  ES256: ['ec'],
  EdDSA: ['ed25519', 'ed448'],
};

/** Parses a private key given as PEM or as a private JWK (JSON) and checks it fits the algorithm. */
export function parsePrivateKey(
  material: string,
  alg: AssertionAlg,
): { kind: 'pem' | 'jwk'; key: KeyObject } {
  const text = material.trim();
  let key: KeyObject;
  let kind: 'pem' | 'jwk';
  try {
    if (text.startsWith('{')) {
      const jwk = JSON.parse(text) as { d?: unknown };
      if (jwk.d === undefined)
        throw new KeyProblem('the JWK is a public key; a private key (with "d") is needed');
      key = createPrivateKey({ key: jwk as import('node:crypto').JsonWebKey, format: 'jwk' });
      kind = 'jwk';
    } else {
      key = createPrivateKey(text);
      kind = 'pem';
    }
  } catch (e) {
    if (e instanceof KeyProblem) throw e;
    throw new KeyProblem('not a private key in PEM or JWK form');
  }
  const allowed = KEY_TYPES[alg as keyof typeof KEY_TYPES];
  if (allowed && !allowed.includes(key.asymmetricKeyType ?? '')) {
    throw new KeyProblem(`a ${key.asymmetricKeyType ?? 'unknown'} key cannot sign ${alg}`);
  }
  if (alg === 'ES256' && key.asymmetricKeyDetails?.namedCurve !== 'prime256v1') {
    throw new KeyProblem(
      `ES256 needs a P-256 key, not ${key.asymmetricKeyDetails?.namedCurve ?? 'this curve'}`,
    );
  }
  return { kind, key };
}

/** A PEM key in PKCS8, the form jose imports, whatever PEM flavour the file had. */
export function toPkcs8(key: KeyObject): string {
  return key.export({ type: 'pkcs8', format: 'pem' }).toString();
}

/** Checks that the certificate parses and that the key is its private key. */
export function checkCertificatePair(certPem: string, keyPem: string): void {
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(certPem);
  } catch {
    throw new KeyProblem('certFile is not a PEM certificate');
  }
  let key: KeyObject;
  try {
    key = createPrivateKey(keyPem);
  } catch {
    throw new KeyProblem('keyFile is not a PEM private key');
  }
  if (!cert.checkPrivateKey(key))
    throw new KeyProblem('the key in keyFile does not match the certificate in certFile');
}
