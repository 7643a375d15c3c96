/**
 * npm run bench — wall time and request count of full harness runs (observe + evaluate per provider,
 * providers concurrent as in src/cli.ts, no report) against 1 and 8 reference providers behind
 * 100 ms of added round-trip latency, next to the floor: the same requests from a plain undici script
 * (bench/floor.ts). Each measurement is repeated 3 times; medians are reported. Also times one full
 * CLI run with the report, for information. Then the scale part (bench/scale.ts): 50 and 200
 * providers pooled at the CLI's --concurrency, peak RSS, and the report's size and generation time.
 * Prints a table and rewrites docs/benchmarks.md (only the parts that ran).
 *
 *   npm run bench [-- --sizes 1,8,50,200] [--only base|scale] [--concurrency 8,32,all] [--floor-pooled]
 *                 [--report-sizes 50]
 * --sizes: 1 and 8 are the base part (both or neither), larger ones the scale part; --concurrency: the
 * CLI's values measured at scale (0 or "all": every provider at once); --floor-pooled: also replay the
 * floor at each concurrency (adds ceil(N/c) provider runs per value); --report-sizes: the sizes whose
 * report is generated and measured (default 50; '' for none; a 200-provider report takes minutes).
 */
import { fork, spawn, type ChildProcess } from 'node:child_process';
import { parseArgs } from 'node:util';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createSecureContext, rootCertificates } from 'node:tls';
import { fileURLToPath } from 'node:url';
import type { Provider } from '../src/descriptor/types.js';
import { evaluate, tally } from '../src/evaluate.js';
import { observe } from '../src/observe.js';
import { PROBES } from '../src/probes/ids.js';
import { publicProvider, type ProviderRun, type RunRecord } from '../src/run-record.js';
import {
  AFTER_EXPIRY,
  planFromEvidence,
  runFloor,
  type FloorPlan,
  type FloorResult,
} from './floor.js';
import type { HostCommand, HostMessage, HostMode } from './reference-host.js';
import type { ProxyStats } from './latency-proxy.js';
import { instrument, withProposedFixes, type Counters } from './what-if.js';
import { referenceProviders as providersFrom } from './providers.js';
import { runScale, scaleBlockOf, writeScale } from './scale.js';
import { packageBlockOf } from './package.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const DOC = path.join(ROOT, 'docs/benchmarks.md');
const REPEATS = 3;
const MANY = 8;
const ONE_WAY_DELAY_MS = 50;
const TARGET = 1.5;

// ---------------------------------------------------------------- the reference host (child process)

interface Host {
  env: Record<string, string>;
  proxyPort: number;
  oneWayDelayMs: number;
  mode: HostMode;
  stats(): Promise<ProxyStats>;
  close(): Promise<void>;
}

async function startHost(): Promise<Host> {
  const child: ChildProcess = fork(path.join(ROOT, 'bench/reference-host.ts'), [], {
    cwd: ROOT,
    execArgv: ['--import', 'tsx'],
    env: { ...process.env, BENCH_ONE_WAY_DELAY_MS: String(ONE_WAY_DELAY_MS) },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const next = <T extends HostMessage['type']>(
    type: T,
  ): Promise<Extract<HostMessage, { type: T }>> =>
    new Promise((resolve, reject) => {
      const onMessage = (m: HostMessage): void => {
        if (m.type !== type) return;
        child.off('message', onMessage);
        child.off('exit', onExit);
        resolve(m as Extract<HostMessage, { type: T }>);
      };
      const onExit = (code: number | null): void =>
        reject(new Error(`the reference host exited (${code}) before sending "${type}"`));
      child.on('message', onMessage);
      child.once('exit', onExit);
    });
  const command = (c: HostCommand): void => {
    child.send(c);
  };
  const ready = await next('ready');
  return {
    env: ready.env,
    proxyPort: ready.proxyPort,
    oneWayDelayMs: ready.oneWayDelayMs,
    mode: ready.mode,
    stats: async () => {
      const reply = next('stats');
      command({ type: 'stats' });
      return (await reply).stats;
    },
    close: async () => {
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      command({ type: 'close' });
      await exited;
    },
  };
}

/** n providers from providers/reference.yaml, resolved with the reference env (its URLs lead through the proxy). */
function referenceProviders(host: Host, n: number): Provider[] {
  return providersFrom(host.env, n);
}

// ---------------------------------------------------------------- measurements

interface Measurement {
  wallMs: number;
  /** CPU time (user + system) of the measuring process during the run: the client's own work. */
  cpuMs: number;
  requests: number;
  connections: number;
  /** Every request's duration (request sent → body read), all providers. */
  durationsMs: number[];
  /** Per provider: the sum of its request durations. */
  requestTimeMs: number[];
  /** Durations by probe, all providers. */
  byProbe: Record<string, number[]>;
  /** Each provider's first request's duration (it opens the first connection). */
  first: number[];
  statuses: Record<string, Record<string, number | string>>;
}

interface HarnessMeasurement extends Measurement {
  runs: ProviderRun[];
  /** Time inside tls.createSecureContext and Redactor#scrub (not for the what-if runs). */
  counters?: Counters;
  /** Time spent in evaluate(), all providers together. */
  evaluateMs: number;
  tallies: string[];
}

/** What the CLI does between "resolve" and "report", for these providers. */
async function harnessRun(providers: Provider[]): Promise<Omit<HarnessMeasurement, 'connections'>> {
  const started = performance.now();
  const cpu = process.cpuUsage();
  let evaluateMs = 0;
  const runs: ProviderRun[] = await Promise.all(
    providers.map(async (p) => {
      const evidence = await observe(p);
      const t = performance.now();
      const findings = evaluate(p, evidence, { strict: false });
      evaluateMs += performance.now() - t;
      return { provider: publicProvider(p), evidence, findings };
    }),
  );
  const wallMs = performance.now() - started;
  const used = process.cpuUsage(cpu);
  const exchanges = runs.map((r) => Object.values(r.evidence.exchanges).filter((e) => !e.notSent));
  return {
    wallMs,
    cpuMs: (used.user + used.system) / 1000,
    runs,
    evaluateMs,
    requests: runs.reduce((n, r) => n + r.evidence.requestsSent, 0),
    durationsMs: exchanges.flat().map((e) => e.durationMs),
    requestTimeMs: exchanges.map((list) => list.reduce((t, e) => t + e.durationMs, 0)),
    byProbe: groupByProbe(
      exchanges.map((list) => Object.fromEntries(list.map((e) => [e.probe, e.durationMs]))),
    ),
    first: exchanges.map((list) => list[0]?.durationMs ?? Number.NaN),
    statuses: Object.fromEntries(
      runs.map((r) => [
        r.provider.name,
        Object.fromEntries(
          Object.values(r.evidence.exchanges).map((e) => [
            e.probe,
            e.response?.status ?? e.transportError?.code ?? 'not sent',
          ]),
        ),
      ]),
    ),
    tallies: runs.map((r) => {
      const t = tally(r.findings);
      return `${t.passed} passed, ${t.failed} failed, ${t.warnings} warning(s), ${t.skipped} skipped, ${t.broken} broken`;
    }),
  };
}

function floorMeasurement(f: FloorResult): Omit<Measurement, 'connections'> {
  return {
    wallMs: f.wallMs,
    cpuMs: f.cpuMs,
    requests: f.providers.reduce((n, p) => n + p.requestsSent, 0),
    durationsMs: f.providers.flatMap((p) => p.durationsMs),
    requestTimeMs: f.providers.map((p) => p.durationsMs.reduce((a, b) => a + b, 0)),
    byProbe: groupByProbe(f.providers.map((p) => p.durationByProbe)),
    first: f.providers.map((p) => p.durationsMs[0] ?? Number.NaN),
    statuses: Object.fromEntries(f.providers.map((p) => [p.provider, p.statuses])),
  };
}

function groupByProbe(perProvider: Record<string, number>[]): Record<string, number[]> {
  const out: Record<string, number[]> = {};
  for (const probes of perProvider)
    for (const [probe, ms] of Object.entries(probes)) (out[probe] ??= []).push(ms);
  return out;
}

/**
 * CPU time of one tls.createSecureContext, which Node runs for every new TLS connection that is given
 * `ca` options: with the harness's options (public roots + the run's CA, as src/http/runner.ts passes
 * them) and with the floor's (the CA alone). Synchronous: it blocks the event loop for that long.
 */
function secureContextCost(caFile: string): { harnessMs: number; floorMs: number; roots: number } {
  const ca = readFileSync(caFile, 'utf8');
  const time = (options: { ca: string | string[] }): number => {
    for (let i = 0; i < 3; i++) createSecureContext(options);
    const samples: number[] = [];
    for (let i = 0; i < 15; i++) {
      const t = performance.now();
      createSecureContext(options);
      samples.push(performance.now() - t);
    }
    return median(samples);
  };
  return {
    harnessMs: time({ ca: [...rootCertificates, ca] }),
    floorMs: time({ ca }),
    roots: rootCertificates.length,
  };
}

interface ReuseResult {
  probes: string[];
  limit: string;
  connections: number;
  wallMs: number;
}

/**
 * The connection-reuse finding, measured: the first three requests of one provider's plan (no expiry
 * wait) replayed with undici's default pool and with connections: 1.
 */
async function connectionReuse(host: Host, plan: FloorPlan): Promise<ReuseResult[]> {
  const head: FloorPlan = { provider: plan.provider, requests: plan.requests.slice(0, 3) };
  const out: ReuseResult[] = [];
  for (const [limit, connections] of [
    ['undici default (no limit)', undefined],
    ['connections: 1', 1],
  ] as const) {
    const walls: number[] = [];
    const conns: number[] = [];
    for (let i = 0; i < REPEATS; i++) {
      const f = await runFloor([head], connections ? { connections } : {});
      walls.push(f.wallMs);
      conns.push((await host.stats()).connections);
    }
    out.push({
      probes: head.requests.map((r) => r.probe),
      limit,
      connections: median(conns),
      wallMs: median(walls),
    });
  }
  return out;
}

/** Probes whose status differs between a harness run and its replay ("provider/probe: 400 vs 401"). */
function statusDifferences(a: Measurement, b: Measurement): string[] {
  const out: string[] = [];
  for (const [provider, probes] of Object.entries(a.statuses)) {
    const other = b.statuses[provider] ?? {};
    for (const [probe, status] of Object.entries(probes)) {
      if (other[probe] !== status)
        out.push(`${provider}/${probe}: ${status} vs ${other[probe] ?? 'missing'}`);
    }
  }
  return out;
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length === 0 ? Number.NaN : s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
};
const max = (xs: number[]): number => xs.reduce((m, x) => Math.max(m, x), Number.NEGATIVE_INFINITY);

// ---------------------------------------------------------------- the CLI run with report (information)

interface CliRun {
  wallMs: number;
  exitCode: number | null;
  observeMs?: number;
  requests?: number;
  /** "name (requests)" per provider the CLI ran. */
  providers?: string[];
  error?: string;
}

async function cliRun(): Promise<CliRun> {
  const out = mkdtempSync(path.join(os.tmpdir(), 'tc-bench-cli-'));
  try {
    const started = performance.now();
    const child = spawn(
      process.execPath,
      [
        path.join(ROOT, 'node_modules/tsx/dist/cli.mjs'),
        path.join(ROOT, 'src/cli.ts'),
        '--out',
        out,
      ],
      { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    const exitCode = await new Promise<number | null>((resolve) =>
      child.on('close', (code) => resolve(code)),
    );
    const wallMs = performance.now() - started;
    try {
      const record = JSON.parse(readFileSync(path.join(out, '.run/run.json'), 'utf8')) as RunRecord;
      return {
        wallMs,
        exitCode,
        observeMs: Date.parse(record.finishedAt) - Date.parse(record.startedAt),
        requests: record.providers.reduce((n, p) => n + p.evidence.requestsSent, 0),
        providers: record.providers.map((p) => `${p.provider.name} (${p.evidence.requestsSent})`),
      };
    } catch {
      return { wallMs, exitCode, error: output.trim().split('\n').slice(-3).join(' / ') };
    }
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------- main

const WHAT_IF = `harness-${MANY}*`;
const KINDS = ['harness-1', 'floor-1', `harness-${MANY}`, `floor-${MANY}`, WHAT_IF] as const;
type Kind = (typeof KINDS)[number];

interface BenchOptions {
  /** The base part: 1 and 8 providers, 3 rounds, the what-if and the CLI run. */
  base: boolean;
  /** The scale part's sizes (providers), its concurrencies (0 = all at once), floor and report choices. */
  scaleSizes: number[];
  concurrencies: number[];
  floorPooled: boolean;
  reportSizes: number[];
}

function benchOptions(): BenchOptions {
  const { values } = parseArgs({
    options: {
      sizes: { type: 'string', default: `1,${MANY},50,200` },
      only: { type: 'string' },
      concurrency: { type: 'string', default: '8,32,all' },
      'floor-pooled': { type: 'boolean', default: false },
      'report-sizes': { type: 'string', default: '50' },
    },
  });
  const list = (flag: string, v: string): number[] =>
    v.split(',').map((x) => {
      const n = x.trim() === 'all' ? 0 : Number(x);
      if (!Number.isInteger(n) || n < 0)
        throw new Error(`--${flag}: ${JSON.stringify(x)} is not a whole number`);
      return n;
    });
  let sizes = list('sizes', values.sizes);
  if (values.only === 'base') sizes = sizes.filter((n) => n <= MANY);
  else if (values.only === 'scale') sizes = sizes.filter((n) => n > MANY);
  else if (values.only !== undefined)
    throw new Error(`--only: ${values.only} is not base or scale`);
  const base = sizes.some((n) => n === 1 || n === MANY);
  if (sizes.some((n) => n < 1 || (n > 1 && n < MANY)))
    throw new Error(
      `--sizes: the base part measures 1 and ${MANY} together; the scale part sizes above ${MANY}`,
    );
  return {
    base,
    scaleSizes: sizes.filter((n) => n > MANY),
    concurrencies: list('concurrency', values.concurrency),
    floorPooled: values['floor-pooled'],
    reportSizes:
      values['report-sizes'].trim() === '' ? [] : list('report-sizes', values['report-sizes']),
  };
}

async function main(): Promise<void> {
  const opts = benchOptions();
  const benchStarted = performance.now();
  const loadAtStart = os.loadavg()[0] ?? 0;
  const host = await startHost();
  let scale: Awaited<ReturnType<typeof runScale>> | undefined;
  const results = Object.fromEntries(KINDS.map((k) => [k, []])) as unknown as Record<
    Kind,
    Measurement[]
  >;
  const tallies = new Set<string>();
  const differences: string[] = [];
  let expiryWaitsMs: number[] = [];
  let tlsCost = { harnessMs: Number.NaN, floorMs: Number.NaN, roots: 0 };
  let reuse: ReuseResult[] = [];
  try {
    const one = referenceProviders(host, 1);
    const many = referenceProviders(host, MANY);
    process.stdout.write(
      `reference server + latency proxy (${host.oneWayDelayMs} ms each way) on 127.0.0.1:${host.proxyPort}, in a child process; ${host.mode === 'all' ? "all of the reference's URLs lead through the proxy" : 'WARNING: only the token endpoint and the resource lead through the proxy (discovery and JWKS go direct)'}\n`,
    );

    // Warm-up, not measured: JIT and lazy initialisation on both sides (the first oidc-provider
    // requests of a process take hundreds of ms). No expiry wait: a 0 s maximum rules it out.
    const warm = many.map((p) => ({ ...p, limits: { ...p.limits, maxExpiryWaitSeconds: 0 } }));
    const warmRun = await harnessRun(warm);
    await runFloor(
      await Promise.all(warmRun.runs.map((r, i) => planFromEvidence(warm[i]!, r.evidence))),
    );
    await host.stats();
    if (opts.base) {
      tlsCost = secureContextCost(host.env['TC_REF_CA_FILE'] ?? '');
      reuse = await connectionReuse(
        host,
        await planFromEvidence(warm[0]!, warmRun.runs[0]!.evidence),
      );
    }
    process.stdout.write('warm-up done\n');

    for (let rep = 1; rep <= (opts.base ? REPEATS : 0); rep++) {
      for (const [providers, hk, fk] of [
        [one, 'harness-1', 'floor-1'],
        [many, `harness-${MANY}`, `floor-${MANY}`],
      ] as [Provider[], Kind, Kind][]) {
        const { result: h, counters } = await instrument(() => harnessRun(providers));
        const harness: HarnessMeasurement = {
          ...h,
          counters,
          connections: (await host.stats()).connections,
        };
        const plans = await Promise.all(
          harness.runs.map((r, i) => planFromEvidence(providers[i]!, r.evidence)),
        );
        const f = await runFloor(plans);
        const floor: Measurement = {
          ...floorMeasurement(f),
          connections: (await host.stats()).connections,
        };
        expiryWaitsMs = expiryWaitsMs.concat(f.providers.map((p) => p.expiryWaitMs));
        results[hk].push(harness);
        results[fk].push(floor);
        harness.tallies.forEach((t) => tallies.add(t));
        differences.push(
          ...statusDifferences(harness, floor).map((d) => `run ${rep}, ${hk}: ${d}`),
        );
        process.stdout.write(
          `run ${rep}/${REPEATS}: ${hk} ${(harness.wallMs / 1000).toFixed(2)} s (${harness.requests} requests), ${fk} ${(floor.wallMs / 1000).toFixed(2)} s (${floor.requests} requests)\n`,
        );
      }
      const w = await withProposedFixes(() => harnessRun(many));
      const whatIf: HarnessMeasurement = { ...w, connections: (await host.stats()).connections };
      results[WHAT_IF].push(whatIf);
      whatIf.tallies.forEach((t) => tallies.add(t));
      process.stdout.write(
        `run ${rep}/${REPEATS}: ${WHAT_IF} (proposed fixes emulated, what-if) ${(whatIf.wallMs / 1000).toFixed(2)} s (${whatIf.requests} requests)\n`,
      );
    }
    if (opts.scaleSizes.length > 0) {
      scale = await runScale({
        root: ROOT,
        env: host.env,
        sizes: opts.scaleSizes,
        concurrencies: opts.concurrencies,
        floorPooled: opts.floorPooled,
        reportSizes: opts.reportSizes,
        log: (line) => process.stdout.write(`${line}\n`),
      });
    }
  } finally {
    await host.close();
  }
  // Written after the base part's doc (which keeps the previous scale section), or alone.
  const scaleDoc = (): void => {
    if (!scale) return;
    const { lines } = writeScale(DOC, { result: scale, oneWayDelayMs: host.oneWayDelayMs });
    process.stdout.write(
      `\n${lines.join('\n')}\n${scale.differences.length === 0 ? 'scale floor replays: every response status equals the harness run it replays' : `scale floor replays: ${scale.differences.length} status difference(s): ${scale.differences.slice(0, 5).join('; ')}`}\nscale part took ${scale.seconds.toFixed(0)} s; wrote ${path.relative(ROOT, DOC)}\n`,
    );
  };
  if (!opts.base) {
    scaleDoc();
    process.stdout.write(
      `bench took ${((performance.now() - benchStarted) / 1000).toFixed(0)} s\n`,
    );
    return;
  }

  process.stdout.write(
    'one full CLI run with the report (embedded reference, in-process, no added latency)...\n',
  );
  const cli = await cliRun();

  // ---- summarise
  const rows = KINDS.map((kind) => {
    const ms = results[kind];
    return {
      kind,
      providers: kind === 'harness-1' || kind === 'floor-1' ? 1 : MANY,
      walls: ms.map((m) => m.wallMs),
      wall: median(ms.map((m) => m.wallMs)),
      requests: median(ms.map((m) => m.requests)),
      requestsSame: new Set(ms.map((m) => m.requests)).size === 1,
      connections: median(ms.map((m) => m.connections)),
      medianRequest: median(ms.flatMap((m) => m.durationsMs)),
      maxRequest: max(ms.flatMap((m) => m.durationsMs)),
      requestTime: median(ms.flatMap((m) => m.requestTimeMs)),
      cpuPerRequest: median(ms.map((m) => m.cpuMs / m.requests)),
      cpuMs: median(ms.map((m) => m.cpuMs)),
      contextMs: median(
        ms.map((m) => (m as HarnessMeasurement).counters?.secureContextMs ?? Number.NaN),
      ),
      contexts: median(
        ms.map((m) => (m as HarnessMeasurement).counters?.secureContexts ?? Number.NaN),
      ),
      scrubMs: median(ms.map((m) => (m as HarnessMeasurement).counters?.scrubMs ?? Number.NaN)),
      scrubCalls: median(
        ms.map((m) => (m as HarnessMeasurement).counters?.scrubCalls ?? Number.NaN),
      ),
      first: median(ms.flatMap((m) => m.first)),
      expired: median(ms.flatMap((m) => m.byProbe[PROBES.resourceExpired] ?? [])),
    };
  });
  const row = (kind: Kind) => rows.find((r) => r.kind === kind)!;
  const ratios = [
    {
      name: `harness-${MANY} / harness-1`,
      value: row(`harness-${MANY}`).wall / row('harness-1').wall,
    },
    { name: 'harness-1 / floor-1', value: row('harness-1').wall / row('floor-1').wall },
    {
      name: `harness-${MANY} / floor-${MANY}`,
      value: row(`harness-${MANY}`).wall / row(`floor-${MANY}`).wall,
    },
    {
      name: `floor-${MANY} / floor-1 (for context)`,
      value: row(`floor-${MANY}`).wall / row('floor-1').wall,
      info: true,
    },
    {
      name: `${WHAT_IF} / floor-${MANY} (what-if)`,
      value: row(WHAT_IF).wall / row(`floor-${MANY}`).wall,
      info: true,
    },
    {
      name: `${WHAT_IF} / harness-1 (what-if)`,
      value: row(WHAT_IF).wall / row('harness-1').wall,
      info: true,
    },
  ];

  const s = (ms: number): string => (ms / 1000).toFixed(2);
  const tableLines = [
    [
      'measurement',
      'providers',
      'requests',
      'wall s (median)',
      'wall s (3 runs)',
      'TLS conns',
      'req ms median',
      'req ms max',
      '1st req ms',
      'expired ms',
      'req time s/provider',
      'CPU ms/req',
    ],
    ...rows.map((r) => [
      r.kind,
      String(r.providers),
      `${r.requests}${r.requestsSame ? '' : ' (varied)'}`,
      s(r.wall),
      r.walls.map(s).join(' '),
      String(r.connections),
      r.medianRequest.toFixed(1),
      r.maxRequest.toFixed(1),
      r.first.toFixed(0),
      r.expired.toFixed(0),
      s(r.requestTime),
      r.cpuPerRequest.toFixed(2),
    ]),
  ];
  const widths = tableLines[0]!.map((_, c) => Math.max(...tableLines.map((l) => l[c]!.length)));
  const table = `${tableLines.map((l, i) => l.map((cell, c) => (c === 0 || i === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join('  ')).join('\n')}
${WHAT_IF} = harness-${MANY} with the two proposed fixes emulated in-process (one TLS context per CA list; secrets' encoded forms cached in Redactor#scrub); src unchanged`;
  const ratioLines = ratios
    .map(
      (r) =>
        `${r.name.padEnd(34)} ${r.value.toFixed(2)}${r.info ? '' : `  (target ≤ ${TARGET}: ${r.value <= TARGET ? 'met' : 'NOT met'})`}`,
    )
    .join('\n');
  const cliLine =
    cli.observeMs !== undefined
      ? `CLI run with report: ${s(cli.wallMs)} s wall, exit ${cli.exitCode}, ${cli.requests} requests (${cli.providers?.join(', ')}); observe + evaluate ${s(cli.observeMs)} s, the rest (process start, reference start, report: vitest suites + allure generate) ${s(cli.wallMs - cli.observeMs)} s`
      : `CLI run with report: ${s(cli.wallMs)} s wall, exit ${cli.exitCode}, no run record (${cli.error ?? 'unknown error'})`;
  const benchSeconds = (performance.now() - benchStarted) / 1000;

  process.stdout.write(`\n${table}\n\n${ratioLines}\n\n${cliLine}\n`);
  const attribution = (k: Kind): string => {
    const r = row(k);
    return `${k}: CPU ${s(r.cpuMs)} s per run, in tls.createSecureContext ${s(r.contextMs)} s (${r.contexts} contexts), in Redactor#scrub ${s(r.scrubMs)} s (${r.scrubCalls} calls)`;
  };
  const tlsLine = `client CPU (median per run): ${attribution('harness-1')}; floor-1: ${s(row('floor-1').cpuMs)} s; ${attribution(`harness-${MANY}`)}; floor-${MANY}: ${s(row(`floor-${MANY}`).cpuMs)} s
tls.createSecureContext alone: ${tlsCost.harnessMs.toFixed(1)} ms with the harness's ca (${tlsCost.roots} public roots + the run's CA), ${tlsCost.floorMs.toFixed(2)} ms with the CA alone (floor)`;
  const reuseLine = `connection reuse, first 3 requests of a provider (${reuse[0]?.probes.join(', ')}) replayed: ${reuse.map((r) => `${r.limit}: ${r.connections} connection(s), ${s(r.wallMs)} s`).join('; ')}`;
  process.stdout.write(`${tlsLine}\n${reuseLine}\n`);
  process.stdout.write(`verdicts per provider (harness runs): ${[...tallies].join(' | ')}\n`);
  process.stdout.write(
    differences.length === 0
      ? 'floor replays: every response status equals the harness run it replays\n'
      : `floor replays: ${differences.length} status difference(s): ${differences.slice(0, 5).join('; ')}\n`,
  );
  process.stdout.write(
    `bench took ${benchSeconds.toFixed(0)} s; wrote ${path.relative(ROOT, DOC)}\n`,
  );

  const sent = Object.values(
    (results['harness-1'][0] as HarnessMeasurement).runs[0]!.evidence.exchanges,
  ).filter((e) => !e.notSent);
  const sequence = sent.map((e) => e.probe);
  const certificates = new Set(
    sent.map((e) => e.request.clientCertificate).filter((c) => c !== undefined),
  ).size;
  const evaluateMs = median(
    (results[`harness-${MANY}`] as HarnessMeasurement[]).map((m) => m.evaluateMs),
  );
  writeDoc({
    table,
    rows,
    ratios,
    cliLine,
    tallies: [...tallies],
    differences,
    expiryWaitsMs,
    benchSeconds,
    tlsCost,
    reuse,
    load: [loadAtStart, os.loadavg()[0] ?? 0],
    evaluateMs,
    sequence,
    certificates,
    mode: host.mode,
  });
  scaleDoc();
}

// ---------------------------------------------------------------- docs/benchmarks.md

interface DocInput {
  table: string;
  rows: {
    kind: Kind;
    providers: number;
    wall: number;
    requests: number;
    connections: number;
    medianRequest: number;
    maxRequest: number;
    requestTime: number;
    walls: number[];
    first: number;
    expired: number;
    cpuPerRequest: number;
    cpuMs: number;
    contextMs: number;
    contexts: number;
    scrubMs: number;
    scrubCalls: number;
  }[];
  ratios: { name: string; value: number; info?: boolean }[];
  cliLine: string;
  tallies: string[];
  differences: string[];
  expiryWaitsMs: number[];
  benchSeconds: number;
  tlsCost: { harnessMs: number; floorMs: number; roots: number };
  reuse: ReuseResult[];
  /** 1-minute load average at the start and at the end of the bench (other work on the machine shows here). */
  load: [number, number];
  /** Median time in evaluate() per harness-N run, all providers together. */
  evaluateMs: number;
  /** One provider's probes, in the order sent. */
  sequence: string[];
  /** Distinct TLS client certificates one provider presents (each has its own agent, so its own connection). */
  certificates: number;
  mode: HostMode;
}

function writeDoc(d: DocInput): void {
  const cpus = os.cpus();
  const byKind = (k: Kind) => d.rows.find((r) => r.kind === k)!;
  const h1 = byKind('harness-1');
  const f1 = byKind('floor-1');
  const hN = byKind(`harness-${MANY}`);
  const fN = byKind(`floor-${MANY}`);
  const perRequest = (h: typeof h1, f: typeof f1): string =>
    `${(h.medianRequest - f.medianRequest).toFixed(1)} ms`;
  const wait = median(d.expiryWaitsMs);
  // The wait counts from token.0's answer (src/probes/resource.ts expiredAt).
  const lastToken = d.sequence.indexOf('token.0');
  const beforeWait = d.sequence.slice(0, lastToken + 1);
  const firstAfter = d.sequence.findIndex((probe) => AFTER_EXPIRY.has(probe));
  const during = d.sequence.slice(lastToken + 1, firstAfter < 0 ? undefined : firstAfter);
  const after = firstAfter < 0 ? [] : d.sequence.slice(firstAfter);
  const code = (xs: string[]): string => xs.map((x) => `\`${x}\``).join(', ');
  const s = (ms: number): string => (ms / 1000).toFixed(2);
  const extra = h1.connections - d.certificates - 2;
  const candidates = [d.sequence[1], after[1]].filter((x): x is string => x !== undefined);
  const md = `# Benchmarks

Written by \`npm run bench\` (bench/run.ts) on every run; this is the latest one.

## Machine

| | |
| --- | --- |
| CPU | ${cpus[0]?.model ?? 'unknown'} |
| cores | ${cpus.length} |
| memory | ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB |
| OS | ${os.type()} ${os.release()} (${os.arch()}) |
| Node | ${process.version} |
| date | ${new Date().toISOString()} |
| bench duration | ${d.benchSeconds.toFixed(0)} s |
| load average (1 min), start / end | ${d.load[0].toFixed(2)} / ${d.load[1].toFixed(2)} |

## Results

Median of ${REPEATS} runs each; wall time in seconds.

\`\`\`
${d.table}
\`\`\`

| ratio | value | target |
| --- | --- | --- |
${d.ratios.map((r) => `| ${r.name} | ${r.value.toFixed(2)} | ${r.info ? '—' : `≤ ${TARGET}: ${r.value <= TARGET ? 'met' : '**not met**'}`} |`).join('\n')}

- Verdicts per provider in the harness runs (behind the proxy): ${d.tallies.map((t) => `\`${t}\``).join(', ')}.
- Floor replays: ${d.differences.length === 0 ? 'every response status equals that of the harness run it replays (same requests, same answers).' : `${d.differences.length} status difference(s), e.g. ${d.differences.slice(0, 3).join('; ')}.`}
- Per-request time, median: harness-1 ${h1.medianRequest.toFixed(1)} ms vs floor-1 ${f1.medianRequest.toFixed(1)} ms (difference ${perRequest(h1, f1)}); harness-${MANY} ${hN.medianRequest.toFixed(1)} ms vs floor-${MANY} ${fN.medianRequest.toFixed(1)} ms (difference ${perRequest(hN, fN)}).
- TCP/TLS connections per run (each one a TLS handshake, one extra round trip): harness-1 ${h1.connections}, floor-1 ${f1.connections}, harness-${MANY} ${hN.connections}, floor-${MANY} ${fN.connections}.
- Requests per provider, in the order sent: ${code(d.sequence)}.
- Expiry wait: 5 s lifetime + 1 s counted from the first token response (token.0, the token presented again); what is left of it after the ${during.length} probes in
  between, i.e. the floor's actual sleep (the harness computes the same), median ${(wait / 1000).toFixed(2)} s per provider.
- ${d.cliLine}.

## Method

- **Server**: the embedded reference (\`startReference()\` from src/reference/server.ts, unchanged: oidc-provider
  over HTTPS on 127.0.0.1, run-time CA, 5 s JWT access tokens, protected resource), **one server for all
  providers**, run with the latency proxy in a child process (bench/reference-host.ts) so the server's work
  and the proxy's timers do not share the event loop with the client being measured, as with a remote endpoint.
- **Latency** (bench/latency-proxy.ts): a TCP proxy on 127.0.0.1 (node:net) that writes every chunk to the other
  side ${ONE_WAY_DELAY_MS} ms after reading it, in both directions, in order, FIN and reset included; chunks do not queue behind
  each other (a link with ${ONE_WAY_DELAY_MS} ms one-way delay and unlimited bandwidth). Every round trip gains ${2 * ONE_WAY_DELAY_MS} ms: a request on a
  kept-alive connection ≥ ${2 * ONE_WAY_DELAY_MS} ms, on a new connection ≥ ${4 * ONE_WAY_DELAY_MS} ms (TLS 1.3 handshake + request). The TCP handshake to the
  proxy is not delayed. TLS passes through untouched and still verifies (the certificate names 127.0.0.1).
- **Providers**: providers/reference.yaml read with \`readDescriptor\` and resolved with \`resolveProvider\` and the
  reference's env, then copied and renamed reference-1 … reference-${MANY}. Same clients and secrets for all; each
  provider is its own session. ${
    d.mode === 'all'
      ? `The reference names its URLs (issuer, token endpoint, resource, the discovery metadata's jwks_uri, the
  JWT \`aud\`) after its port; bench/reference-host.ts hands \`startReference()\` an \`https.createServer\` whose server
  reports the proxy's port from \`address()\` while it listens elsewhere, so every URL in TC_REF_* and in the
  metadata leads through the proxy, and the verdicts are those of a direct run.`
      : `**Fallback in this run**: only TC_REF_TOKEN_URL and TC_REF_RESOURCE_URL lead through the proxy; the discovery
  metadata and the JWK Set are fetched directly (no added latency), and the checks comparing the metadata and
  the JWT \`aud\` with these URLs fail because of the rewrite, not the server.`
  }
- **harness-N**: in the bench process, exactly what src/cli.ts does between resolving and reporting —
  \`Promise.all\` over the providers of \`observe(p)\` then \`evaluate(p, evidence)\` (and \`publicProvider\`);
  the run record, Allure results and the HTML report are not part of it. Wall time from the start of the
  \`Promise.all\` to its end; requests = the sum of \`evidence.requestsSent\`.
- **floor-N** (bench/floor.ts): the requests of the harness run just before it, taken from its evidence
  (\`evidence.exchanges[*].request\`, in the order sent) with the redacted secrets put back (\`$ENV\`
  placeholders → the real form-encoded secrets; \`Basic\` rebuilt from the shown client id and its secret, or a
  random one for the wrong-secret and unknown-client probes; an access token — \`Bearer\`, \`token=\` to introspect —
  filled with the one the replay got on its own first token request; client assertions signed afresh with the
  same client's key and the same defect through observe's \`withClientAuth\`, the replay probe resending the
  first-use one; the same client certificates presented), all before the timing starts. Sent with plain
  \`undici.request\`, one \`Agent\` per provider with only the CA added (and one per client certificate), providers concurrent, requests within a provider sequential, every body read, and the same expiry
  wait as \`observe()\` (until token.0's response + expires_in + 1 s, before the first probe that needs the token expired).
  No pacing, redaction, recording, deadline or budget. Its response statuses are compared with the harness run's.
- **Order**: one unmeasured warm-up (harness and floor, all probes, ${MANY} providers, no expiry wait), then ${REPEATS}
  rounds of harness-1, floor-1, harness-${MANY}, floor-${MANY}, ${WHAT_IF}; the medians are reported. Per-request times: from
  sending to the end of the body (the harness's \`exchange.durationMs\`; the same span in the floor).
- **CLI run**: one \`node node_modules/tsx/dist/cli.mjs src/cli.ts --out <tmp>\` (= \`npm run conformance\`,
  default provider, embedded reference in-process, **no added latency**, with the report); its observe phase
  is read from the run record (startedAt → finishedAt).

## Reading the numbers

- The wall time of a run is dominated by the expiry probe: \`observe()\` must wait until the 5 s token has
  expired (+1 s, counted from token.0's response) before presenting it again, so a run is about
  *${beforeWait.length} requests + 6 s + ${after.length} request(s)* no matter how fast the rest is (before the wait: ${code(beforeWait)};
  after it: ${code(after)}); the ${during.length} probes in between run inside the wait. Only what happens before the wait
  starts and after it ends reaches the wall time — which is exactly where new TLS connections are made (the
  "1st req" and "expired" columns).
- Pacing (\`limits.requestsPerSecond\`, default 10 → 100 ms between request starts) costs nothing here: with
  ${2 * ONE_WAY_DELAY_MS} ms of round trip no request starts sooner than 100 ms after the previous one anyway (harness-1 and floor-1
  have the same per-request median). Against a fast endpoint (a few ms per request) the pacing sets the pace
  instead: ${d.sequence.length} requests ≥ ${((d.sequence.length - 1) / 10).toFixed(1)} s, by design.

## Findings

**Status:** the two fixes described in 1 and 2 below have since been applied in src/ (src/http/runner.ts builds one
SecureContext per extra CA and client certificate, shared by all sessions of the process — per agent until the scale
part below showed the cost at 200 providers; src/http/redact.ts computes the encoded forms once per secret), so the measured harness rows
already include them (0 contexts built per connection, scrub ≈ 0 s) and the what-if row measures the same code twice.
The analysis is kept for the record.

The harness meets the targets; where it is slower than the floor, two things in src/ account for it, both CPU
work on the one event loop all providers share — invisible with one provider (hidden in ${2 * ONE_WAY_DELAY_MS} ms of network wait),
visible with ${MANY}, when every provider's work queues behind the others'. The client process's CPU time per run:
harness-1 ${s(h1.cpuMs)} s vs floor-1 ${s(f1.cpuMs)} s; harness-${MANY} ${s(hN.cpuMs)} s vs floor-${MANY} ${s(fN.cpuMs)} s (${hN.cpuPerRequest.toFixed(2)} vs ${fN.cpuPerRequest.toFixed(2)} ms per request).
Of harness-${MANY}'s, ${s(hN.contextMs)} s are in \`tls.createSecureContext\` and ${s(hN.scrubMs)} s in \`Redactor#scrub\` (timed in the measured runs).

1. **A new TLS context for every connection: ${d.tlsCost.harnessMs.toFixed(0)} ms of blocked event loop each.** src/http/runner.ts gives undici
   \`connect: { ca: [...rootCertificates, ca] }\` (the ${d.tlsCost.roots} public roots plus the descriptor's \`tls.caFile\`, so that the CA
   adds to the public roots instead of replacing them); undici passes the options to \`tls.connect\` for each
   connection, and Node parses all ${d.tlsCost.roots + 1} certificates into a new SecureContext each time, synchronously
   (${d.tlsCost.harnessMs.toFixed(1)} ms here; ${d.tlsCost.floorMs.toFixed(2)} ms with the CA alone). harness-${MANY} creates ${hN.contexts} per run, ${s(hN.contextMs)} s in all, in bursts: all ${MANY}
   providers open their first connections together at the start and their last ones together after the expiry
   wait — the "1st req" and "expired" columns (harness-${MANY} ${hN.first.toFixed(0)} / ${hN.expired.toFixed(0)} ms against floor-${MANY} ${fN.first.toFixed(0)} / ${fN.expired.toFixed(0)} ms).
   **Fix (runner.ts):** create the context once — \`tls.createSecureContext({ ca: [...rootCertificates, ca] })\`,
   memoised per CA file at module level — and pass \`connect: { secureContext, rejectUnauthorized, timeout }\`
   instead of \`ca\` (undici passes \`secureContext\` through to \`tls.connect\`, which then skips the parsing;
   verification is unchanged: the run's CA is still trusted, a server outside it is still refused with
   UNABLE_TO_VERIFY_LEAF_SIGNATURE). The mTLS agents (\`newAgent(client)\`) need a context with their certificate
   and key: \`createSecureContext({ ca, cert, key })\`, once per certificate, like the agents themselves.
2. **Redaction re-encodes every known secret and token for every string it scrubs.** \`Redactor#scrub\`
   (src/http/redact.ts) runs over each recorded string — URL, every header, body, curl line, every response
   header and body — and for each known value calls \`formEncode(value)\` (a \`URLSearchParams\` round trip) and
   \`encodeURIComponent(value)\`. The known values grow during a run: every access token and client assertion is
   added (JWTs, hundreds of characters each), so the cost per request grows with the probes. harness-${MANY}: ${hN.scrubCalls} calls, ${s(hN.scrubMs)} s per run
   (${(hN.scrubMs / hN.requests).toFixed(2)} ms per request); harness-1: ${s(h1.scrubMs)} s. The per-request medians show it: harness-${MANY} ${hN.medianRequest.toFixed(1)} ms
   vs floor-${MANY} ${fN.medianRequest.toFixed(1)} ms, harness-1 ${h1.medianRequest.toFixed(1)} ms vs floor-1 ${f1.medianRequest.toFixed(1)} ms.
   **Fix (redact.ts):** compute the encoded forms once, in \`add()\` (store \`[value, shown, forms]\`), and keep
   the longest-first list sorted on \`add()\` instead of sorting in every \`entries()\` call.
3. **Both fixes, emulated** (row ${WHAT_IF}: the same harness-${MANY}, with \`tls.createSecureContext\` returning one
   context per CA list and certificate, and \`Redactor#scrub\` replaced by the same loop with cached encodings;
   src unchanged, bench/what-if.ts): ${s(byKind(WHAT_IF).wall)} s; harness-${MANY} / floor-${MANY} goes from ${(hN.wall / fN.wall).toFixed(2)} to ${(byKind(WHAT_IF).wall / fN.wall).toFixed(2)},
   harness-${MANY} / harness-1 from ${(hN.wall / h1.wall).toFixed(2)} to ${(byKind(WHAT_IF).wall / h1.wall).toFixed(2)}; CPU ${byKind(WHAT_IF).cpuPerRequest.toFixed(2)} ms per request instead of ${hN.cpuPerRequest.toFixed(2)};
   1st req / expired ${byKind(WHAT_IF).first.toFixed(0)} / ${byKind(WHAT_IF).expired.toFixed(0)} ms.
4. **Avoidable TLS handshakes, in the harness and the floor alike.** ${h1.connections} connections per provider and run:
   ${d.certificates > 0 ? `${d.certificates} for the client certificates (one agent each, unavoidable); ` : ''}on the main agent one at the start and one after the expiry
   wait (the server — Node's default 5 s keep-alive timeout — closes the idle connection during the 6 s wait;
   unavoidable)${
     extra > 0
       ? `, and ${extra} more: when a request follows one that opened a fresh connection, it is sent in
   the same tick in which that response's body ended, before undici has put the connection back into the pool,
   so with \`connections: 2\` (the harness) or no limit (the floor) undici opens another one (+1 round trip,
   +1 TLS context)${extra === candidates.length ? ` — here for ${code(candidates)}` : ''}`
       : ''
   }. The probes of a provider are sequential, so
   \`connections: 1\` in runner.ts's Agent would make such a request wait for the connection instead. Measured
   in this run, replaying a provider's first three requests (${code(d.reuse[0]?.probes ?? [])}), median of ${REPEATS}:
   ${d.reuse.map((r) => `${r.limit} → ${r.connections} connection(s), ${s(r.wallMs)} s`).join('; ')}.
5. Everything else the harness adds — pacing, deadlines, the body cap, JWT decoding, request building,
   \`evaluate()\` (${d.evaluateMs.toFixed(0)} ms per harness-${MANY} run, all providers) — does not show in these numbers.
`;
  // The scale section of the previous run stays until the scale part runs again.
  writeFileSync(
    DOC,
    `${md}${(() => {
      const block = existsSync(DOC) ? scaleBlockOf(readFileSync(DOC, 'utf8')) : '';
      return block ? `\n${block}` : '';
    })()}${(() => {
      // The installed package's section (npm run bench:package) stays too.
      const block = existsSync(DOC) ? packageBlockOf(readFileSync(DOC, 'utf8')) : '';
      return block ? `\n${block}` : '';
    })()}`,
  );
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    process.stderr.write(`bench failed: ${(e as Error).stack ?? String(e)}\n`);
    process.exit(1);
  },
);
