/**
 * Starts the local stand-ins of the five seed services (see each file's header for what is
 * oidc-provider and what is our own), sharing one run-time CA and one temporary directory that
 * close() removes.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { direct } from '../descriptor/proxy.js';
import type { Provider } from '../descriptor/types.js';
import { createCa } from '../reference/certs.js';
import { start as akamai } from './akamai-identity-cloud.js';
import { start as federatedDirectory } from './federated-directory.js';
import { start as ist } from './ist-educloud.js';
import { start as raidiam } from './raidiam-connect.js';
import { start as signaturgruppen } from './signaturgruppen-broker.js';
import type { StandIn, StartStandIn } from './types.js';

export const STAND_INS: Record<string, StartStandIn> = {
  'federated-directory': federatedDirectory,
  'akamai-identity-cloud': akamai,
  'raidiam-connect': raidiam,
  'signaturgruppen-broker': signaturgruppen,
  'ist-educloud': ist,
};

export const STAND_IN_NAMES = Object.keys(STAND_INS);

export interface StandIns {
  /** Every variable the five descriptors read. */
  env: Record<string, string>;
  /** Secret values among env. */
  secrets: string[];
  /** PEM file of the run's CA, which issued every stand-in's server certificate. */
  caFile: string;
  close(): Promise<void>;
}

export interface StartStandInsOptions {
  /** The name of one stand-in to start with its documented promise broken. */
  broken?: string;
  /** Start only these (default: all five). */
  only?: string[];
}

export async function startStandIns(options: StartStandInsOptions = {}): Promise<StandIns> {
  const names = options.only ?? STAND_IN_NAMES;
  for (const n of [...names, ...(options.broken ? [options.broken] : [])]) {
    if (!(n in STAND_INS))
      throw new Error(`no stand-in named ${n} (known: ${STAND_IN_NAMES.join(', ')})`);
  }
  const ca = await createCa({ commonName: 'token-conformance stand-ins' });
  const dir = await mkdtemp(join(tmpdir(), 'tc-emulate-'));
  const caFile = join(dir, 'ca.pem');
  const started: StandIn[] = [];
  const close = async (): Promise<void> => {
    await Promise.all(started.splice(0).map((s) => s.close()));
    await rm(dir, { recursive: true, force: true });
  };
  try {
    await writeFile(caFile, ca.certPem, { mode: 0o600 });
    const results = await Promise.allSettled(
      names.map((n) => STAND_INS[n]!(ca, { dir, broken: n === options.broken })),
    );
    for (const r of results) if (r.status === 'fulfilled') started.push(r.value);
    const failure = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failure) throw failure.reason;
    return {
      env: Object.assign({}, ...started.map((s) => s.env)) as Record<string, string>,
      secrets: started.flatMap((s) => s.secrets),
      caFile,
      close,
    };
  } catch (err) {
    await close();
    throw err;
  }
}

/**
 * The stand-ins' certificates come from a CA made for the run; a descriptor that names no
 * tls.caFile (the real services have public certificates) is given that CA as its extra CA.
 * They listen on 127.0.0.1, so they are reached direct, whatever proxy the real service needs.
 */
export function trustStandIns(p: Provider, caFile: string): Provider {
  const local = {
    ...p,
    proxy: direct('the --emulate stand-in runs on 127.0.0.1 and is never proxied', p.proxy),
  };
  return p.tls.caFile || p.tls.insecureSkipVerify ? local : { ...local, tls: { ...p.tls, caFile } };
}
