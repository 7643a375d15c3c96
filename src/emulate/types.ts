import type { CertificateAuthority } from '../reference/certs.js';

/**
 * A local stand-in for one seed service: a real server on 127.0.0.1 that behaves as the service's
 * document says, and the environment its descriptor (providers/<name>.yaml) reads.
 */
export interface StandIn {
  /** The provider name, e.g. akamai-identity-cloud. */
  name: string;
  /** Every ${env:…} variable the descriptor needs, pointing at this stand-in. */
  env: Record<string, string>;
  /** Secret values among env (client secrets, private keys), for the harness's redaction. */
  secrets: string[];
  close(): Promise<void>;
}

export interface StandInOptions {
  /** Break the one documented promise the descriptor's proof targets (see test/emulate). */
  broken?: boolean;
  /** Directory for key and certificate files (created by the caller, removed by it). */
  dir: string;
}

export type StartStandIn = (ca: CertificateAuthority, options: StandInOptions) => Promise<StandIn>;
