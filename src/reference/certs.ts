/**
 * Run-time X.509 material for the embedded reference endpoint: a throw-away CA and
 * leaf certificates (server, and later client for mTLS) issued from it.
 * Nothing is ever written to disk here; callers decide what to persist.
 */
import { webcrypto } from 'node:crypto';
// Must precede @peculiar/x509: its tsyringe dependency needs Reflect metadata at load time.
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';

x509.cryptoProvider.set(webcrypto as Crypto);

/** ECDSA P-256: fast to generate at run time and accepted by every TLS stack we care about. */
const KEY_ALG: EcKeyGenParams & EcdsaParams = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };
const DAY_MS = 24 * 60 * 60 * 1000;
/** Back-date notBefore a little so small clock differences never make a fresh cert "not yet valid". */
const BACKDATE_MS = 5 * 60 * 1000;

export interface PemPair {
  /** PEM "CERTIFICATE". */
  certPem: string;
  /** PEM "PRIVATE KEY" (PKCS#8). */
  keyPem: string;
}

export interface CertificateAuthority extends PemPair {
  cert: x509.X509Certificate;
  keys: CryptoKeyPair;
}

export interface CreateCaOptions {
  commonName?: string;
  validityDays?: number;
}

export interface IssueCertOptions {
  commonName: string;
  usage: 'server' | 'client';
  /** subjectAltName iPAddress entries. */
  ips?: string[];
  /** subjectAltName dNSName entries. */
  dns?: string[];
  /** subjectAltName rfc822Name entries (e.g. for tls_client_auth_san_email). */
  emails?: string[];
  /** subjectAltName uniformResourceIdentifier entries (e.g. for tls_client_auth_san_uri). */
  uris?: string[];
  validityDays?: number;
}

async function generateKeys(): Promise<CryptoKeyPair> {
  return webcrypto.subtle.generateKey(KEY_ALG, true, ['sign', 'verify']) as Promise<CryptoKeyPair>;
}

async function pkcs8Pem(key: CryptoKey): Promise<string> {
  const der = await webcrypto.subtle.exportKey('pkcs8', key);
  return x509.PemConverter.encode(der, 'PRIVATE KEY');
}

function validity(days: number): { notBefore: Date; notAfter: Date } {
  const now = Date.now();
  return { notBefore: new Date(now - BACKDATE_MS), notAfter: new Date(now + days * DAY_MS) };
}

/** Distinguished names are built from a JSON structure so no DN-string escaping is needed. */
function dn(commonName: string): x509.JsonName {
  return [{ CN: [commonName] }, { O: ['token-conformance'] }];
}

/** Self-signed CA: basicConstraints CA:true (critical), keyUsage keyCertSign + cRLSign (critical). */
export async function createCa(options: CreateCaOptions = {}): Promise<CertificateAuthority> {
  const keys = await generateKeys();
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    name: dn(options.commonName ?? 'token-conformance run-time CA'),
    keys,
    signingAlgorithm: KEY_ALG,
    ...validity(options.validityDays ?? 1),
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return { cert, keys, certPem: cert.toString('pem'), keyPem: await pkcs8Pem(keys.privateKey) };
}

/** Leaf certificate signed by `ca`, with EKU serverAuth or clientAuth and the requested SANs. */
export async function issueCert(ca: CertificateAuthority, options: IssueCertOptions): Promise<PemPair> {
  const keys = await generateKeys();
  const san: x509.JsonGeneralNames = [
    ...(options.dns ?? []).map((value) => ({ type: 'dns' as const, value })),
    ...(options.ips ?? []).map((value) => ({ type: 'ip' as const, value })),
    ...(options.emails ?? []).map((value) => ({ type: 'email' as const, value })),
    ...(options.uris ?? []).map((value) => ({ type: 'url' as const, value })),
  ];
  const extensions: x509.Extension[] = [
    new x509.BasicConstraintsExtension(false, undefined, true),
    // ECDSA keys only sign during the handshake, so digitalSignature is the only key usage needed.
    new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
    new x509.ExtendedKeyUsageExtension(
      [options.usage === 'server' ? x509.ExtendedKeyUsage.serverAuth : x509.ExtendedKeyUsage.clientAuth],
      false,
    ),
    await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    await x509.AuthorityKeyIdentifierExtension.create(ca.keys.publicKey),
  ];
  if (san.length > 0) extensions.push(new x509.SubjectAlternativeNameExtension(san, false));

  const cert = await x509.X509CertificateGenerator.create({
    subject: dn(options.commonName),
    issuer: ca.cert.subjectName,
    publicKey: keys.publicKey,
    signingKey: ca.keys.privateKey,
    signingAlgorithm: KEY_ALG,
    ...validity(options.validityDays ?? 1),
    extensions,
  });
  return { certPem: cert.toString('pem'), keyPem: await pkcs8Pem(keys.privateKey) };
}

/** Server leaf for a TLS listener; `ips`/`dns` become the subjectAltName (what clients verify). */
export function issueServerCert(
  ca: CertificateAuthority,
  names: { ips?: string[]; dns?: string[]; commonName?: string },
): Promise<PemPair> {
  return issueCert(ca, {
    commonName: names.commonName ?? names.dns?.[0] ?? names.ips?.[0] ?? 'server',
    usage: 'server',
    ips: names.ips,
    dns: names.dns,
  });
}
