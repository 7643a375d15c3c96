/**
 * One run as the CLI makes it, in process: a conformant provider and a hostile one observed and
 * judged at once, each inside contain() (src/contain.ts), then everything the run writes from
 * their answers — the run record (JSON), the summary, every exchange as the report renders it.
 * The conformant provider is the robustness tests' healthy endpoint; the hostile one is
 * hostile-server.ts, answering whatever the test sets.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { contain } from '../../src/contain.js';
import type { Provider } from '../../src/descriptor/types.js';
import { evaluate, type Finding, type Outcome } from '../../src/evaluate.js';
import { observe } from '../../src/observe.js';
import { renderExchange } from '../../src/report/render.js';
import { formatSummary } from '../../src/report/summary.js';
import { publicProvider, type ProviderRun, type RunRecord } from '../../src/run-record.js';
import {
  descriptor,
  loadProvider,
  startTokenServer,
  type TokenServer,
} from '../robustness/servers.js';
import { startHostileServer, type HostileServer } from './hostile-server.js';

/** Small limits so a misbehaving endpoint costs about a second: the deadlines a run must keep. */
export const LIMITS = { timeoutMs: 1000, maxExpiryWaitSeconds: 0, requestsPerSecond: 50 };

/** Longer than any run within LIMITS takes (the circuit breaker stops a failing endpoint after two requests). */
export const DEADLINE_MS = 45_000;

export interface Pair {
  conformant: Provider;
  hostile: Provider;
  hostileServer: HostileServer;
  close(): Promise<void>;
}

export async function startPair(hostileExtra: Record<string, unknown> = {}): Promise<Pair> {
  const dir = await mkdtemp(join(tmpdir(), 'tc-hostile-pair-'));
  const okServer: TokenServer = await startTokenServer();
  const hostileServer = await startHostileServer();
  // The conformant provider waits longer: on a busy machine its verdicts must not depend on the load.
  const conformant = await loadProvider(
    dir,
    descriptor('conformant', okServer.tokenUrl, {
      tls: { caFile: okServer.caFile },
      limits: { ...LIMITS, timeoutMs: 15_000 },
    }),
  );
  const hostile = await loadProvider(
    dir,
    descriptor('hostile', hostileServer.tokenUrl, {
      tls: { caFile: hostileServer.caFile },
      limits: LIMITS,
      ...hostileExtra,
    }),
  );
  return {
    conformant,
    hostile,
    hostileServer,
    async close() {
      await Promise.all([okServer.close(), hostileServer.close()]);
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** What src/cli.ts does for each provider. */
export function runProvider(p: Provider): Promise<ProviderRun> {
  return contain(p, async () => {
    const evidence = await observe(p);
    return {
      provider: publicProvider(p),
      evidence,
      findings: evaluate(p, evidence, { strict: false }),
    };
  });
}

export interface RunOutput {
  record: RunRecord;
  /** The run record as written (JSON): it must always serialise. */
  json: string;
  summary: string;
  /** Every exchange as the report attaches it. */
  rendered: string[];
  /** The exit code the CLI would give (0 or 1; 4 comes with the nightly-CI work for unverified runs). */
  exitCode: number;
}

/** Runs the providers at once, as the CLI does, and produces what the run writes; rejects after DEADLINE_MS. */
export async function runTogether(providers: Provider[]): Promise<RunOutput> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`the run did not end within ${DEADLINE_MS} ms`)),
      DEADLINE_MS,
    );
  });
  try {
    const runs = await Promise.race([Promise.all(providers.map(runProvider)), deadline]);
    const now = new Date().toISOString();
    const record: RunRecord = {
      version: 1,
      harnessVersion: 'test',
      nodeVersion: process.version,
      strict: false,
      startedAt: now,
      finishedAt: now,
      providers: runs,
    };
    return {
      record,
      json: JSON.stringify(record, null, 2),
      summary: formatSummary(record),
      rendered: runs.flatMap((r) => Object.values(r.evidence.exchanges).map(renderExchange)),
      exitCode: runs.some((r) => r.findings.some((f) => f.outcome === 'fail')) ? 1 : 0,
    };
  } finally {
    clearTimeout(timer);
  }
}

/** The verdicts of a provider, by check and instance: what "its findings are unchanged" compares. */
export function outcomes(run: ProviderRun | undefined): Record<string, Outcome> {
  const out: Record<string, Outcome> = {};
  for (const f of run?.findings ?? []) out[keyOf(f)] = f.outcome;
  return out;
}

function keyOf(f: Finding): string {
  const params = Object.values(f.params).join(',');
  return params ? `${f.checkId} [${params}]` : f.checkId;
}

export function runOf(out: RunOutput, name: string): ProviderRun {
  const r = out.record.providers.find((p) => p.provider.name === name);
  if (!r) throw new Error(`no run for ${name}`);
  return r;
}
