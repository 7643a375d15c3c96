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
const KEY_ALG: EcKeyGenParams & EcdsaParams = {
  name: 'ECDSA',
  namedCurve: 'P-256',
  hash: 'SHA-256',
};
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
      new x509.KeyUsagesExtension(
        x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign,
        true,
      ),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return { cert, keys, certPem: cert.toString('pem'), keyPem: await pkcs8Pem(keys.privateKey) };
}

/** What every leaf (issued or self-signed) carries: not a CA, digitalSignature, the EKU for its use. */
async function leafExtensions(
  usage: 'server' | 'client',
  publicKey: CryptoKey,
): Promise<x509.Extension[]> {
  return [
    new x509.BasicConstraintsExtension(false, undefined, true),
    // ECDSA keys only sign during the handshake, so digitalSignature is the only key usage needed.
    new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
    new x509.ExtendedKeyUsageExtension(
      [usage === 'server' ? x509.ExtendedKeyUsage.serverAuth : x509.ExtendedKeyUsage.clientAuth],
      false,
    ),
    await x509.SubjectKeyIdentifierExtension.create(publicKey),
  ];
}

/** Leaf certificate signed by `ca`, with EKU serverAuth or clientAuth and the requested SANs. */
export async function issueCert(
  ca: CertificateAuthority,
  options: IssueCertOptions,
): Promise<PemPair> {
  const keys = await generateKeys();
  const san: x509.JsonGeneralNames = [
    ...(options.dns ?? []).map((value) => ({ type: 'dns' as const, value })),
    ...(options.ips ?? []).map((value) => ({ type: 'ip' as const, value })),
    ...(options.emails ?? []).map((value) => ({ type: 'email' as const, value })),
    ...(options.uris ?? []).map((value) => ({ type: 'url' as const, value })),
  ];
  const extensions: x509.Extension[] = [
    ...(await leafExtensions(options.usage, keys.publicKey)),
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

export interface SelfSignedCertOptions {
  commonName: string;
  usage: 'server' | 'client';
  validityDays?: number;
}

/**
 * Self-signed leaf (not a CA): for RFC 8705 §2.2 self_signed_tls_client_auth, where the
 * certificate itself is registered (as `x5c` in the client's `jwks`) instead of being issued.
 */
export async function createSelfSignedCert(options: SelfSignedCertOptions): Promise<PemPair> {
  const keys = await generateKeys();
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    name: dn(options.commonName),
    keys,
    signingAlgorithm: KEY_ALG,
    ...validity(options.validityDays ?? 1),
    extensions: await leafExtensions(options.usage, keys.publicKey),
  });
  return { certPem: cert.toString('pem'), keyPem: await pkcs8Pem(keys.privateKey) };
}

export type TlsClientAuthProperty =
  | 'tls_client_auth_subject_dn'
  | 'tls_client_auth_san_dns'
  | 'tls_client_auth_san_uri'
  | 'tls_client_auth_san_ip'
  | 'tls_client_auth_san_email';

const SAN_TYPES: Record<
  Exclude<TlsClientAuthProperty, 'tls_client_auth_subject_dn'>,
  x509.GeneralNameType
> = {
  tls_client_auth_san_dns: 'dns',
  tls_client_auth_san_uri: 'url',
  tls_client_auth_san_ip: 'ip',
  tls_client_auth_san_email: 'email',
};

function toArrayBuffer(der: ArrayBuffer | Uint8Array): ArrayBuffer {
  if (der instanceof ArrayBuffer) return der;
  const copy = new Uint8Array(der.byteLength);
  copy.set(der);
  return copy.buffer;
}

/** One RDN as sorted "TYPE=value" strings: attribute types compare case-insensitively, values exactly. */
type Rdn = string[];

const RFC4514_SPECIAL = /[,+"\\<>;]/;

function escapeValue(value: string): string {
  const chars = [...value];
  return chars
    .map((ch, i) => {
      const edge =
        (i === 0 && (ch === ' ' || ch === '#')) || (i === chars.length - 1 && ch === ' ');
      return edge || RFC4514_SPECIAL.test(ch) ? `\\${ch}` : ch;
    })
    .join('');
}

function rdnsOf(name: x509.JsonName): Rdn[] {
  return name.map((rdn) =>
    Object.entries(rdn)
      .flatMap(([type, values]) => values.map((value) => `${type.toUpperCase()}=${value}`))
      .sort(),
  );
}

/**
 * Minimal RFC 4514 §3 parser: RDNs separated by ",", multi-valued RDNs by "+", "\\" escaping a
 * special character or a hex byte. Returns the RDNs in sequence order (RFC 4514 writes them last
 * first), or undefined for a string that is not a DN.
 */
function parseRfc4514(dn: string): Rdn[] | undefined {
  const rdns: Rdn[] = [];
  let avas: string[] = [];
  let i = 0;
  while (i <= dn.length) {
    const eq = dn.indexOf('=', i);
    if (eq === -1) return undefined;
    const type = dn.slice(i, eq).trim().toUpperCase();
    if (!/^([A-Z][A-Z0-9-]*|\d+(\.\d+)*)$/.test(type)) return undefined;
    const bytes: number[] = [];
    let trailingSpaces = 0;
    i = eq + 1;
    while (i < dn.length && dn[i] === ' ') i++;
    for (; i < dn.length && dn[i] !== ',' && dn[i] !== '+'; i++) {
      const ch = dn[i] ?? '';
      if (ch === '\\') {
        const hex = dn.slice(i + 1, i + 3);
        if (/^[0-9a-fA-F]{2}$/.test(hex)) {
          bytes.push(parseInt(hex, 16));
          i += 2;
        } else if (i + 1 < dn.length) {
          bytes.push(...Buffer.from(dn[i + 1] ?? '', 'utf8'));
          i += 1;
        } else {
          return undefined;
        }
        trailingSpaces = 0;
      } else {
        bytes.push(...Buffer.from(ch, 'utf8'));
        trailingSpaces = ch === ' ' ? trailingSpaces + 1 : 0;
      }
    }
    const value = Buffer.from(bytes.slice(0, bytes.length - trailingSpaces)).toString('utf8');
    avas.push(`${type}=${value}`);
    if (i >= dn.length || dn[i] === ',') {
      rdns.push(avas.sort());
      avas = [];
    }
    i++;
  }
  return rdns.reverse();
}

/** RFC 4514 string of a certificate's subject (RDNs written last first, so ours read "O=...,CN=..."). */
export function subjectDn(certDer: ArrayBuffer | Uint8Array): string {
  const name = new x509.X509Certificate(toArrayBuffer(certDer)).subjectName.toJSON();
  return [...name]
    .reverse()
    .map((rdn) =>
      Object.entries(rdn)
        .flatMap(([type, values]) => values.map((v) => `${type}=${escapeValue(v)}`))
        .join('+'),
    )
    .join(',');
}

/**
 * RFC 8705 §2.1.2: does the certificate match the client's registered tls_client_auth_* value?
 * The subject DN is compared as a parsed RFC 4514 string (spacing around separators and the case
 * of attribute types do not matter; RDN order and values do); a SAN value must equal one entry
 * of the matching type (DNS names case-insensitively).
 */
export function certificateMatches(
  certDer: ArrayBuffer | Uint8Array,
  property: TlsClientAuthProperty,
  expected: string,
): boolean {
  const cert = new x509.X509Certificate(toArrayBuffer(certDer));
  if (property === 'tls_client_auth_subject_dn') {
    const parsed = parseRfc4514(expected);
    return (
      parsed !== undefined &&
      JSON.stringify(parsed) === JSON.stringify(rdnsOf(cert.subjectName.toJSON()))
    );
  }
  const type = SAN_TYPES[property];
  const san = cert.getExtension(x509.SubjectAlternativeNameExtension);
  return (san?.names.items ?? []).some(
    (name) =>
      name.type === type &&
      (type === 'dns'
        ? name.value.toLowerCase() === expected.toLowerCase()
        : name.value === expected),
  );
}
