import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Evidence } from './checks/types.js';
import { ROOT } from './descriptor/load.js';
import type { Provider } from './descriptor/types.js';
import type { Finding } from './evaluate.js';

/** What a run hands from the observer to the suites and the report: no secret in it. */
export interface PublicProvider {
  name: string;
  title: string;
  file: string;
  tokenEndpoint: string;
  resourceUrl?: string;
  clients: { id: string; label: string; method: string }[];
  insecure: boolean;
}

export interface ProviderRun {
  provider: PublicProvider;
  evidence: Evidence;
  findings: Finding[];
}

export interface RunRecord {
  harnessVersion: string;
  nodeVersion: string;
  strict: boolean;
  startedAt: string;
  finishedAt: string;
  providers: ProviderRun[];
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
  };
}

export function harnessVersion(): string {
  return (JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
}

export function writeRunRecord(record: RunRecord, file = DEFAULT_RUN_FILE): void {
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, `${JSON.stringify(record, null, 2)}\n`);
}

export function readRunRecord(file = process.env['TC_RUN_FILE'] ?? DEFAULT_RUN_FILE): RunRecord {
  return JSON.parse(readFileSync(file, 'utf8')) as RunRecord;
}
