/**
 * The CA a curl line needs, next to the report. A descriptor's tls.caFile (or the CA made for the
 * embedded reference and the stand-ins, gone when the run ends) is an absolute path on the machine
 * that ran; the report carries a copy as ca/<provider>.pem beside index.html, and its curl lines name
 * that copy relatively, so they work wherever the report folder is opened.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { RunRecord } from '../run-record.js';

/** The folder, relative to the report's index.html, that holds the CA copies. */
export const CA_DIR = 'ca';

/** Certificates only: a CA file that also holds a private key must not carry it into the report. */
export function certificatesOf(pem: string): string | undefined {
  const certs = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g);
  return certs ? `${certs.join('\n')}\n` : undefined;
}

/** Read while the run's files still exist (the reference's CA is deleted when it stops). */
export function readCaCertificates(caFile: string | undefined): string | undefined {
  if (!caFile) return undefined;
  try {
    return certificatesOf(readFileSync(caFile, 'utf8'));
  } catch {
    return undefined; // the run already named an unreadable CA; the report just cannot carry it
  }
}

export const caFileName = (provider: string): string => `${CA_DIR}/${provider}.pem`;

/** Writes ca/<provider>.pem beside the report for every provider whose curl lines name a CA. */
export function writeCaFiles(record: RunRecord, htmlDir: string): string[] {
  const written: string[] = [];
  for (const run of record.providers) {
    if (!run.provider.caCertificates) continue;
    const file = path.join(htmlDir, caFileName(run.provider.name));
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, run.provider.caCertificates);
    written.push(file);
  }
  return written;
}

/**
 * A curl line as the report shows it: the CA named relatively, with a first comment saying where to
 * run it from. Lines without --cacert (public CAs) are unchanged.
 */
export function reportCurl(curl: string, provider: string, carried: boolean): string {
  if (!/--cacert '/.test(curl)) return curl;
  if (!carried)
    return `# the CA file named below is on the machine that ran; this report does not carry it\n${curl}`;
  const rel = caFileName(provider);
  return `# run from the folder that holds this report's index.html: ${rel} is the CA of this endpoint\n${curl.replace(/--cacert '(?:[^']|'\\'')*'/g, `--cacert '${rel}'`)}`;
}
