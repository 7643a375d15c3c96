import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Evidence } from './checks/types.js';
import { ROOT } from './descriptor/load.js';
import type { Provider } from './descriptor/types.js';
import type { Finding } from './evaluate.js';
import type { ProviderChanges } from './run/history.js';
import { tunnelLogOf } from './http/proxy.js';
import { readCaCertificates } from './report/ca-files.js';

/** What a run hands from the observer to the suites and the report: no secret in it. */
export interface PublicProvider {
  name: string;
  title: string;
  file: string;
  tokenEndpoint: string;
  resourceUrl?: string;
  clients: { id: string; label: string; method: string }[];
  insecure: boolean;
  /** Descriptor fields whose URL was plain http:// on loopback (allowInsecureHttp: loopback). */
  insecureHttp?: string[];
  proxy: ProxyReport;
  /** The certificates of tls.caFile, so the report can carry the CA its curl lines name (see src/report/ca-files.ts). */
  caCertificates?: string;
}

/** How a provider's requests left: proxies as host:port only, never their credentials. */
export interface ProxyReport {
  /** The proxies configured for it, and where each came from (HTTPS_PROXY, proxy.url (${env:…}), …). */
  proxies: { proxy: string; from: string; for: 'https' | 'http' | 'https, http' }[];
  /** NO_PROXY as read, when the proxies come from the environment. */
  noProxy?: string;
  /** Why every request went direct, when no proxy is configured. */
  direct?: string;
  /** An environment proxy it did not use ("HTTPS_PROXY 127.0.0.1:3128"). */
  ignored?: string;
  /** The tunnels the run opened, by proxy and target: what happened, not what was configured. */
  tunnels: { proxy: string; target: string; count: number }[];
  /** CONNECTs the proxy refused or failed. */
  refusedTunnels: number;
}

export interface ProviderRun {
  provider: PublicProvider;
  evidence: Evidence;
  findings: Finding[];
  /** The resolved descriptor, secrets and private keys scrubbed (src/replay.ts): what --replay judges with. */
  descriptor?: Provider;
}

/** The run record's format version: bumped when a field changes meaning or goes away (schemas/run-record.schema.json). */
export const RUN_RECORD_VERSION = 1;

export interface RunRecord {
  /** RUN_RECORD_VERSION when written. */
  version: number;
  harnessVersion: string;
  nodeVersion: string;
  strict: boolean;
  /** --allow-unverified: not verified exits 0. */
  allowUnverified?: boolean;
  /** The share of the providers this run covered (--shard k/n), when sharded; absent after a merge. */
  shard?: { index: number; total: number };
  startedAt: string;
  finishedAt: string;
  providers: ProviderRun[];
  /** What changed per provider since the last run in the history (--history). */
  sinceLastRun?: ProviderChanges[];
}

export const RUN_DIR = path.join(ROOT, 'reports/.run');
export const DEFAULT_RUN_FILE = path.join(RUN_DIR, 'run.json');

export function publicProvider(p: Provider): PublicProvider {
  return {
    name: p.name,
    title: p.title,
    file: path.relative(ROOT, p.file) || p.file,
    tokenEndpoint: p.tokenEndpoint,
    ...(p.resource ? { resourceUrl: p.resource.url } : {}),
    clients: p.clients.map((c) => ({ id: c.id, label: c.label, method: c.auth.method })),
    insecure: p.tls.insecureSkipVerify,
    ...(p.insecureHttp ? { insecureHttp: p.insecureHttp } : {}),
    proxy: proxyReport(p),
    ...withCa(readCaCertificates(p.tls.caFile)),
  };
}

/**
 * Why this provider's results are INSECURE, one sentence per reason (none when they are not): TLS
 * verification off, or endpoints in plain HTTP on loopback. The summary, report and JUnit say these.
 */
export function insecureReasons(p: Pick<PublicProvider, 'insecure' | 'insecureHttp'>): string[] {
  return [
    ...(p.insecure ? ['TLS certificate verification was off (tls.insecureSkipVerify)'] : []),
    ...(p.insecureHttp?.length
      ? [
          `plain HTTP without TLS on loopback (allowInsecureHttp: loopback): ${p.insecureHttp.join(', ')}`,
        ]
      : []),
  ];
}

const withCa = (pem: string | undefined): Pick<PublicProvider, 'caCertificates'> =>
  pem ? { caCertificates: pem } : {};

/** Called after observe(): the tunnel log is the session's record of what went through the proxy. */
function proxyReport(p: Provider): ProxyReport {
  const log = tunnelLogOf(p);
  const tunnels = [...log.opened.values()].map((t) => ({ ...t }));
  if (p.proxy.mode === 'none') {
    return {
      proxies: [],
      direct: p.proxy.reason,
      ...(p.proxy.ignored ? { ignored: p.proxy.ignored } : {}),
      tunnels,
      refusedTunnels: log.failed,
    };
  }
  const { https, http, noProxy } = p.proxy;
  const proxies: ProxyReport['proxies'] = [];
  if (https && http && https.url === http.url)
    proxies.push({ proxy: https.hostPort, from: https.from, for: 'https, http' });
  else {
    if (https) proxies.push({ proxy: https.hostPort, from: https.from, for: 'https' });
    if (http) proxies.push({ proxy: http.hostPort, from: http.from, for: 'http' });
  }
  return { proxies, ...(noProxy ? { noProxy } : {}), tunnels, refusedTunnels: log.failed };
}

/**
 * One line on how a provider's requests left, for the summary and the report's environment;
 * undefined when there is nothing to say (no proxy configured, none ignored).
 */
export function describeProxyUse(r: ProxyReport | undefined): string | undefined {
  if (!r) return undefined;
  if (r.proxies.length === 0)
    return r.ignored ? `direct, not through ${r.ignored}: ${r.direct ?? 'proxy: none'}` : undefined;
  const named = (proxy: string): string => {
    const c = r.proxies.find((x) => x.proxy === proxy);
    return `the proxy ${proxy}${c ? ` (${c.from})` : ''}`;
  };
  const refused =
    r.refusedTunnels > 0
      ? `; ${r.refusedTunnels} tunnel${r.refusedTunnels === 1 ? '' : 's'} refused or failed`
      : '';
  if (r.tunnels.length > 0) {
    const byProxy = new Map<string, { count: number; targets: string[] }>();
    for (const t of r.tunnels) {
      const e = byProxy.get(t.proxy) ?? { count: 0, targets: [] };
      e.count += t.count;
      e.targets.push(t.target);
      byProxy.set(t.proxy, e);
    }
    return `${[...byProxy].map(([proxy, e]) => `through ${named(proxy)}: ${e.count} tunnel${e.count === 1 ? '' : 's'} to ${e.targets.join(', ')}`).join('; ')}${refused}`;
  }
  const configured = r.proxies.map((x) => named(x.proxy)).join(', ');
  if (r.refusedTunnels > 0) return `through ${configured}: no tunnel opened${refused}`;
  return `direct: no request went through ${configured}${r.noProxy ? ` (NO_PROXY: ${r.noProxy})` : ''}`;
}

export function harnessVersion(): string {
  return (JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string })
    .version;
}

export function writeRunRecord(record: RunRecord, file = DEFAULT_RUN_FILE): void {
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, `${JSON.stringify(record, null, 2)}\n`);
}

export function readRunRecord(file = process.env['TC_RUN_FILE'] ?? DEFAULT_RUN_FILE): RunRecord {
  return JSON.parse(readFileSync(file, 'utf8')) as RunRecord;
}
