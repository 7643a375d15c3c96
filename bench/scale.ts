/**
 * The scale part of npm run bench (issue 9, item 5): N reference providers (50, 200) behind the latency
 * proxy, observed as the CLI observes them — pooled at its --concurrency — each harness run in a child
 * process of its own (bench/scale-worker.ts) for its peak RSS; next to the floor (bench/floor.ts) for the
 * same requests; and the report of the first run of each size: generateReport() time, the size of
 * html/index.html, and the memory of the processes it starts (sampled from /proc).
 */
import { fork, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { RunRecord } from '../src/run-record.js';
import { planFromEvidence, runFloor, type FloorResult } from './floor.js';
import { referenceProviders } from './providers.js';
import type { ReportBreakdown, ScaleAnswer, ScaleJob, WorkerMessage } from './scale-worker.js';

export interface ScaleOptions {
  root: string;
  env: Record<string, string>;
  sizes: number[];
  /** The CLI's --concurrency values to measure; 0 = all providers at once. */
  concurrencies: number[];
  /** Also replay the floor pooled at each concurrency (not only all at once): ceil(N/c) × a provider. */
  floorPooled: boolean;
  /** The sizes whose first harness run is followed by generateReport(). */
  reportSizes: number[];
  log: (line: string) => void;
}

export interface ScaleRun {
  providers: number;
  concurrency: number;
  harness: ScaleAnswer;
  /** Memory of the processes generateReport() started (vitest, its workers, allure), when it ran. */
  reportMemory?: TreeMemory;
}

export interface ScaleFloor {
  providers: number;
  /** 0 = all at once. */
  concurrency: number;
  wallMs: number;
  cpuMs: number;
  requests: number;
}

export interface ScaleResult {
  runs: ScaleRun[];
  floors: ScaleFloor[];
  /** Probes whose status differs between a harness run and its floor replay. */
  differences: string[];
  seconds: number;
  /** 1-minute load average, sampled every 10 s during the scale part: min, median, max. */
  load: [number, number, number];
}

export async function runScale(o: ScaleOptions): Promise<ScaleResult> {
  const started = performance.now();
  const loads = [os.loadavg()[0] ?? 0];
  const loadTimer = setInterval(() => loads.push(os.loadavg()[0] ?? 0), 10_000);
  const runs: ScaleRun[] = [];
  const floors: ScaleFloor[] = [];
  const differences: string[] = [];
  for (const n of o.sizes) {
    let replayFrom: string | undefined;
    const keep: string[] = [];
    try {
      for (const [i, c] of o.concurrencies.entries()) {
        const concurrency = c === 0 ? n : Math.min(c, n);
        const out = mkdtempSync(path.join(os.tmpdir(), `tc-bench-scale-${n}-`));
        keep.push(out);
        const report = i === 0 && o.reportSizes.includes(n);
        o.log(
          `scale: harness-${n}, concurrency ${concurrency}${report ? ', then the report' : ''}...`,
        );
        const run = await harnessInChild(o.root, {
          env: o.env,
          providers: n,
          concurrency,
          out,
          report,
        });
        runs.push({ providers: n, concurrency, ...run });
        const h = run.harness;
        o.log(
          `scale: harness-${n} c=${concurrency}: ${(h.wallMs / 1000).toFixed(1)} s, ${h.requests} requests, peak RSS ${mb(h.peakRssFinishBytes)} MB` +
            (h.report
              ? `; report ${(h.report.ms / 1000).toFixed(1)} s, ${mb(h.report.htmlBytes)} MB${h.report.error ? ` (${h.report.error})` : ''}`
              : ''),
        );
        replayFrom ??= h.runFile;
      }
      if (!replayFrom) continue;
      // The floor replays the first harness run's requests, read back from its run.json.
      const record = JSON.parse(readFileSync(replayFrom, 'utf8')) as RunRecord;
      const providers = referenceProviders(o.env, n);
      const floorConcurrencies = [
        0,
        ...(o.floorPooled ? o.concurrencies.filter((c) => c !== 0 && c < n) : []),
      ];
      for (const c of floorConcurrencies) {
        o.log(`scale: floor-${n}, ${c === 0 ? 'all at once' : `concurrency ${c}`}...`);
        // Planned afresh for each replay: a plan's client assertions are single-use (their jti).
        const plans = await Promise.all(
          record.providers.map((r, i) => planFromEvidence(providers[i]!, r.evidence)),
        );
        const f = await runFloor(plans, c === 0 ? {} : { concurrency: c });
        floors.push({
          providers: n,
          concurrency: c,
          wallMs: f.wallMs,
          cpuMs: f.cpuMs,
          requests: f.providers.reduce((s, p) => s + p.requestsSent, 0),
        });
        differences.push(
          ...statusDifferences(record, f).map((d) => `${n} providers, floor c=${c || 'all'}: ${d}`),
        );
        o.log(
          `scale: floor-${n} ${c === 0 ? 'all at once' : `c=${c}`}: ${(f.wallMs / 1000).toFixed(1)} s`,
        );
      }
    } finally {
      for (const dir of keep) rmSync(dir, { recursive: true, force: true });
    }
  }
  clearInterval(loadTimer);
  loads.sort((a, b) => a - b);
  const load: [number, number, number] = [
    loads[0] ?? 0,
    loads[Math.floor(loads.length / 2)] ?? 0,
    loads[loads.length - 1] ?? 0,
  ];
  return { runs, floors, differences, seconds: (performance.now() - started) / 1000, load };
}

function statusDifferences(record: RunRecord, floor: FloorResult): string[] {
  const out: string[] = [];
  for (const [i, run] of record.providers.entries()) {
    const replay = floor.providers[i]?.statuses ?? {};
    for (const ex of Object.values(run.evidence.exchanges)) {
      if (ex.notSent) continue;
      const status = ex.response?.status ?? ex.transportError?.code;
      if (replay[ex.probe] !== status)
        out.push(`${run.provider.name}/${ex.probe}: ${status} vs ${replay[ex.probe] ?? 'missing'}`);
    }
  }
  return out;
}

async function harnessInChild(
  root: string,
  job: ScaleJob,
): Promise<{ harness: ScaleAnswer; reportMemory?: TreeMemory }> {
  const child: ChildProcess = fork(path.join(root, 'bench/scale-worker.ts'), [], {
    cwd: root,
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  let sampler: TreeSampler | undefined;
  try {
    const harness = await new Promise<ScaleAnswer>((resolve, reject) => {
      child.on('message', (m: WorkerMessage) => {
        if (m.type === 'report') sampler = new TreeSampler(child.pid ?? -1);
        else resolve(m.answer);
      });
      child.once('exit', (code) =>
        reject(new Error(`the scale worker exited (${code}) without an answer`)),
      );
      child.send(job);
    });
    const reportMemory = sampler?.stop();
    return { harness, ...(reportMemory ? { reportMemory } : {}) };
  } finally {
    sampler?.stop();
    if (child.exitCode === null) await new Promise((resolve) => child.once('exit', resolve));
  }
}

// ---------------------------------------------------------------- memory of a process tree (Linux /proc)

export interface TreeMemory {
  /** Peak of the sum of the resident sets of all descendants alive at one sample. */
  peakTotalBytes: number;
  /** Per kind of process: the highest VmHWM seen, how many processes, and for how long one was alive. */
  kinds: Record<string, { peakBytes: number; processes: number; seconds: number }>;
  samples: number;
}

/**
 * Samples, every 250 ms, the descendants of `pid` (not `pid` itself: its peak is its own ru_maxrss):
 * VmHWM and VmRSS from /proc/<pid>/status, the kind from the command line. Linux only; elsewhere it
 * records nothing. A process that peaks and exits between two samples is missed: a lower bound.
 */
class TreeSampler {
  private readonly seen = new Map<
    number,
    { kind: string; hwm: number; first: number; last: number }
  >();
  private peakTotal = 0;
  private samples = 0;
  private readonly timer: NodeJS.Timeout;
  private result: TreeMemory | undefined;

  constructor(private readonly root: number) {
    this.timer = setInterval(() => this.sample(), 250);
    this.sample();
  }

  private sample(): void {
    if (!existsSync('/proc/self/status')) return;
    const parent = new Map<number, number>();
    for (const entry of readdirSync('/proc')) {
      if (!/^\d+$/.test(entry)) continue;
      const stat = read(`/proc/${entry}/stat`);
      // pid (comm) state ppid …: comm may hold spaces and parentheses, so read after the last ')'.
      const ppid = Number(stat?.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (Number.isFinite(ppid)) parent.set(Number(entry), ppid);
    }
    const isDescendant = (pid: number): boolean => {
      for (
        let p = parent.get(pid), hops = 0;
        p !== undefined && hops < 64;
        p = parent.get(p), hops++
      )
        if (p === this.root) return true;
      return false;
    };
    let total = 0;
    const now = performance.now();
    for (const pid of parent.keys()) {
      if (!isDescendant(pid)) continue;
      const status = read(`/proc/${pid}/status`) ?? '';
      const kb = (field: string): number =>
        Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? 0) * 1024;
      total += kb('VmRSS');
      const known = this.seen.get(pid);
      if (known) {
        known.hwm = Math.max(known.hwm, kb('VmHWM'));
        known.last = now;
        // Seen between fork and exec, a child still shows its parent's command line (and memory).
        const kind =
          known.kind === 'other' ? kindOf(read(`/proc/${pid}/cmdline`) ?? '') : known.kind;
        if (kind !== known.kind) Object.assign(known, { kind, hwm: kb('VmHWM'), first: now });
      } else
        this.seen.set(pid, {
          kind: kindOf(read(`/proc/${pid}/cmdline`) ?? ''),
          hwm: kb('VmHWM'),
          first: now,
          last: now,
        });
    }
    this.peakTotal = Math.max(this.peakTotal, total);
    this.samples += 1;
  }

  stop(): TreeMemory {
    if (this.result) return this.result;
    clearInterval(this.timer);
    const kinds: TreeMemory['kinds'] = {};
    for (const p of this.seen.values()) {
      const k = (kinds[p.kind] ??= { peakBytes: 0, processes: 0, seconds: 0 });
      k.peakBytes = Math.max(k.peakBytes, p.hwm);
      k.processes += 1;
      k.seconds = Math.max(k.seconds, (p.last - p.first) / 1000);
    }
    this.result = { peakTotalBytes: this.peakTotal, kinds, samples: this.samples };
    return this.result;
  }
}

function read(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return undefined; // the process exited between listing and reading
  }
}

function kindOf(cmdline: string): string {
  const args = cmdline.split('\0').join(' ');
  if (/allure[/\\]cli\.js/.test(args)) return 'allure generate';
  if (/vitest[/\\]vitest\.mjs/.test(args)) return 'vitest (main)';
  if (/vitest/.test(args)) return 'vitest (workers)';
  return 'other';
}

// ---------------------------------------------------------------- docs/benchmarks.md section

export const SCALE_START =
  '<!-- scale:start (bench/scale.ts: rewritten by the scale part, one block per size and kind) -->';
export const SCALE_END = '<!-- scale:end -->';
const BLOCK = /<!-- (run|report):(\d+) -->\n([\s\S]*?)<!-- \/\1:\2 -->\n?/g;

/** The scale section of a doc, markers included ('' when it has none): kept when only the base part runs. */
export function scaleBlockOf(doc: string): string {
  const start = doc.indexOf(SCALE_START);
  const end = doc.indexOf(SCALE_END);
  return start < 0 || end < start ? '' : `${doc.slice(start, end + SCALE_END.length)}\n`;
}

/** The doc with its scale section replaced by `section` (appended when it has none). */
function spliceScale(doc: string, section: string): string {
  const start = doc.indexOf(SCALE_START);
  const end = doc.indexOf(SCALE_END);
  const block = `${SCALE_START}\n${section.trim()}\n${SCALE_END}\n`;
  if (start < 0 || end < start) return `${doc.trimEnd()}\n\n${block}`;
  return `${doc.slice(0, start)}${block}${doc.slice(end + SCALE_END.length).replace(/^\n/, '')}`;
}

const mb = (bytes: number): string => (bytes / 2 ** 20).toFixed(0);
const s1 = (ms: number): string => (ms / 1000).toFixed(1);

export const TARGETS = {
  wallOverFloor: 1.3,
  rssBytes: 2 ** 30,
  reportBytesPerProvider: 150 * 1024,
} as const;
const met = (ok: boolean): string => (ok ? 'met' : '**not met**');

function when(result: ScaleResult): string {
  const [min, mid, max] = result.load.map((x) => x.toFixed(1));
  return `${new Date().toISOString()}; load average (1 min) during the scale part, sampled every 10 s: **min ${min}, median ${mid}, max ${max}** on ${os.cpus().length} cores`;
}

/** One size's harness and floor rows, and its targets. */
function runBlock(result: ScaleResult, n: number): string {
  const fa = result.floors.find((f) => f.providers === n && f.concurrency === 0);
  const floorAt = (c: number): ScaleFloor | undefined =>
    c === n ? fa : result.floors.find((f) => f.providers === n && f.concurrency === c);
  const rows = [
    [
      'measurement',
      'concurrency',
      'requests',
      'wall s',
      '÷ floor (all at once)',
      '÷ floor (same pool)',
      'CPU s',
      'CPU ms/req',
      'peak RSS MB',
      'finishRun s',
    ],
  ];
  for (const f of result.floors.filter((x) => x.providers === n)) {
    rows.push([
      `floor-${n}`,
      f.concurrency === 0 ? `all (${n})` : String(f.concurrency),
      String(f.requests),
      s1(f.wallMs),
      fa ? (f.wallMs / fa.wallMs).toFixed(2) : '—',
      f.concurrency === 0 ? '—' : '1.00',
      s1(f.cpuMs),
      (f.cpuMs / f.requests).toFixed(2),
      '—',
      '—',
    ]);
  }
  const runs = result.runs.filter((x) => x.providers === n);
  for (const r of runs) {
    const h = r.harness;
    const same = floorAt(r.concurrency);
    rows.push([
      `harness-${n}`,
      r.concurrency === n ? `all (${n})` : String(r.concurrency),
      String(h.requests),
      s1(h.wallMs),
      fa ? (h.wallMs / fa.wallMs).toFixed(2) : '—',
      same ? (h.wallMs / same.wallMs).toFixed(2) : '—',
      s1(h.cpuMs),
      (h.cpuMs / h.requests).toFixed(2),
      mb(h.peakRssFinishBytes),
      s1(h.finishMs),
    ]);
  }
  const targets: string[] = [];
  for (const r of runs) {
    const same = floorAt(r.concurrency);
    if (fa)
      targets.push(
        `| concurrency ${r.concurrency}: wall ÷ floor, all at once | ${(r.harness.wallMs / fa.wallMs).toFixed(2)} | ≤ ${TARGETS.wallOverFloor}: ${met(r.harness.wallMs / fa.wallMs <= TARGETS.wallOverFloor)} |`,
      );
    if (same && same !== fa)
      targets.push(
        `| concurrency ${r.concurrency}: wall ÷ floor, same pool | ${(r.harness.wallMs / same.wallMs).toFixed(2)} | ≤ ${TARGETS.wallOverFloor}: ${met(r.harness.wallMs / same.wallMs <= TARGETS.wallOverFloor)} |`,
      );
  }
  const peak = Math.max(...runs.map((r) => r.harness.peakRssFinishBytes));
  targets.push(
    `| peak RSS of the harness process (highest row) | ${mb(peak)} MB | ≤ 1024 MB: ${met(peak <= TARGETS.rssBytes)} |`,
  );
  const verdicts = runs.map(
    (r) =>
      `concurrency ${r.concurrency}: ${r.harness.verdicts.map((v) => `\`${v}\``).join(', ')}${
        r.harness.broken.length
          ? ` (not passed: ${r.harness.broken
              .slice(0, 2)
              .map((b) => `\`${b}\``)
              .join(', ')})`
          : ''
      }`,
  );
  const differences = result.differences.filter((d) => d.startsWith(`${n} providers`));
  return `### ${n} providers

${when(result)}.

\`\`\`
${renderTable(rows)}
\`\`\`

| target | value | target |
| --- | --- | --- |
${targets.join('\n')}

- Verdicts per provider (distinct ones): ${verdicts.join('; ')}.
- Floor replays: ${differences.length === 0 ? 'every response status equals that of the harness run replayed.' : `${differences.length} status difference(s), e.g. ${differences.slice(0, 3).join('; ')}.`}
`;
}

/** One size's report: generateReport() time, html size, memory of its processes. */
function reportBlock(result: ScaleResult, r: ScaleRun): string {
  const rep = r.harness.report!;
  const k = r.reportMemory?.kinds ?? {};
  const kind = (name: string): string => (k[name] ? `${mb(k[name].peakBytes)} MB` : '—');
  const secs = (name: string): string => (k[name] ? `${k[name].seconds.toFixed(0)} s` : '—');
  const per = rep.htmlBytes / r.providers;
  const biggest = r.reportMemory
    ? Math.max(0, ...Object.values(r.reportMemory.kinds).map((x) => x.peakBytes))
    : 0;
  return `### Report, ${r.providers} providers

${when(result)}.

| | |
| --- | --- |
| run.json | ${mb(r.harness.runFileBytes)} MB (${(r.harness.runFileBytes / r.providers / 1024).toFixed(0)} KB per provider) |
| html/index.html | ${rep.error ? `**failed**: ${rep.error}` : `${(rep.htmlBytes / 2 ** 20).toFixed(1)} MB, **${(per / 1024).toFixed(0)} KB per provider** (target ≤ 150 KB: ${met(per <= TARGETS.reportBytesPerProvider)})`} |
| generateReport() | **${s1(rep.ms)} s** (vitest seen for ${secs('vitest (main)')}, allure generate for ${secs('allure generate')}) |
| peak RSS, vitest main / its workers / allure generate | ${kind('vitest (main)')} / ${kind('vitest (workers)')} (${k['vitest (workers)']?.processes ?? 0} processes) / ${kind('allure generate')} |
| peak RSS, all of them at one sample | ${r.reportMemory ? `${mb(r.reportMemory.peakTotalBytes)} MB` : '—'}${biggest > TARGETS.rssBytes ? ' (**over 1 GB**)' : ''} |
${breakdownRows(rep.breakdown, r.providers)}`;
}

/** KB per provider by part of the page, and what leaving passing tests' evidence out would save. */
function breakdownRows(b: ReportBreakdown | undefined, n: number): string {
  if (!b) return '';
  const kb = (bytes: number): string => `${(bytes / n / 1024).toFixed(0)} KB`;
  const total = Object.values(b.parts).reduce((x, y) => x + y, 0);
  const parts = Object.entries(b.parts)
    .sort((x, y) => y[1] - x[1])
    .map(([part, bytes]) => `${part} ${kb(bytes)}`)
    .join(', ');
  const saved = b.passingAttachmentBytes + b.passingAttachmentRefBytes;
  return `| per provider, by part (as embedded, base64) | ${parts} |
| Allure tests per provider | ${(b.tests / n).toFixed(0)}, of which passed ${(b.passed / n).toFixed(0)}; ${(total / b.tests / 1024).toFixed(1)} KB per test, all parts |
| evidence of passing tests (attachments + their entries in the test results) | ${kb(saved)} per provider (${((saved / total) * 100).toFixed(0)} % of the page): ${kb(total - saved)} per provider without it |
`;
}

export interface ScaleDocInput {
  result: ScaleResult;
  oneWayDelayMs: number;
}

/** Rewrites the scale section: the blocks measured now replace those of the same size and kind. */
export function writeScale(
  docFile: string,
  d: ScaleDocInput,
): { section: string; lines: string[] } {
  const { result } = d;
  const doc = existsSync(docFile) ? readFileSync(docFile, 'utf8') : '# Benchmarks\n';
  const blocks = new Map<string, string>();
  for (const m of scaleBlockOf(doc).matchAll(BLOCK)) blocks.set(`${m[1]}:${m[2]}`, m[3]!);
  for (const n of new Set(result.runs.map((r) => r.providers)))
    blocks.set(`run:${n}`, runBlock(result, n));
  for (const r of result.runs.filter((x) => x.harness.report))
    blocks.set(`report:${r.providers}`, reportBlock(result, r));
  const ordered = (kind: string): string =>
    [...blocks.entries()]
      .filter(([key]) => key.startsWith(`${kind}:`))
      .sort((a, b) => Number(a[0].split(':')[1]) - Number(b[0].split(':')[1]))
      .map(([key, text]) => `<!-- ${key} -->\n${text.trim()}\n<!-- /${key} -->\n`)
      .join('\n');
  const section = `## Scale: many providers (issue 9, item 5)

Written by \`npm run bench\` (bench/scale.ts); each block below carries the date and load of its own measurement
(\`npm run bench -- --only scale --sizes 200 --report-sizes 200\` rewrites only the blocks it measures). **The machine is
shared with other engineers' test runs: the load average next to each block says how much; one run per row, so the
wall times carry that noise (the CPU and memory columns less so).**

Targets (issue 9, item 5): 200 providers ≤ ${TARGETS.wallOverFloor} × the floor at ${2 * d.oneWayDelayMs} ms round trip; peak RSS ≤ 1 GB;
report ≤ 150 KB per provider.

${ordered('run')}
${ordered('report')}
How:

- N copies of providers/reference.yaml (reference-1 … reference-N): one reference server behind the ${d.oneWayDelayMs} ms
  one-way latency proxy, as above, N sessions.
- **harness-N**: bench/scale-worker.ts, a fresh process per row, runs what src/cli.ts runs — \`pooled(concurrency, …)\`
  from src/run/shard.ts over \`observe()\` + \`evaluate()\` + \`publicProvider()\` (wall time and CPU of that phase) —
  then \`finishRun(record, out, { report: false })\`: run.json, junit.xml, summary.md, history ("finishRun s").
  **Peak RSS** is that process's \`process.resourceUsage().maxRSS\` after finishRun (ru_maxrss: it holds every
  provider's evidence until the record is written, as the CLI does).
- **floor-N**: bench/floor.ts replaying the first harness row's requests (read back from its run.json) in the bench
  process: all providers at once (**the floor**), and with \`--floor-pooled\` also pooled at the harness's
  concurrency ("same pool": what the harness itself adds, the pool's rounds factored out). A provider's run is
  bounded below by the expiry wait (~6 s + a few requests), so a pool of c takes ⌈N/c⌉ such rounds.
- **Report**: \`generateReport()\` (the vitest suites, then \`allure generate\`), in the worker, on the first harness
  row's record (\`--report-sizes\`, default 50: the 200-provider report takes minutes). The processes it starts are
  sampled every 250 ms from /proc: VmHWM per process (a lower bound: a peak between samples is missed), the sum
  of VmRSS at one sample, and how long each kind was seen. The page's parts are read from Allure's single-file
  format (every file embedded as base64), to say where the bytes go.

Reading the numbers (findings of 2026-11-30; the figures they rest on are in the blocks above):

- **The pool sets the wall time, not the harness.** One provider's run lasts at least ~8 s whatever the client does:
  the reference's 5 s tokens must expire (+1 s) before the expired-token probes. With concurrency c, N providers run
  in ⌈N/c⌉ such rounds one after another: 25 rounds at the CLI's default 8 for 200 providers, 7 at 32. A floor that
  runs all providers at once takes one round, stretched by the one reference server process sharing the 2 cores
  (8,800 requests). So at 8 (and at 32: 7 rounds) the target (≤ ${TARGETS.wallOverFloor} × that floor) is out of reach by
  construction, unless the floor itself is slowed (a loaded machine, a slow server); only a pool as large as the run
  ("all") can meet it, and that row is also where the harness, the reference and the proxy compete for the 2 cores.
  What the harness itself adds shows in "CPU ms/req" next to the floor's, and in the "same pool" column.
- **Memory grows linearly**: the harness process keeps every provider's evidence until run.json is written (the CLI
  does the same), about 2 MB of RSS per provider at 200; run.json itself is ~230 KB per provider, written
  pretty-printed (finishRun's seconds at 200 are that and junit.xml, linear).
- **Fixed while measuring (src/http/runner.ts)**: every session built its own TLS contexts (the main agent's and one
  per client certificate: 3 per reference provider), and with \`tls.caFile\` each one parses the ~145 public roots plus
  the CA: ~20 ms of blocked event loop (~55 ms on this busy machine), during which no other provider's response is
  read — 600 contexts at 200 providers. A CPU profile of 10 providers at once, before the fix, had 2.9 s of 9 s busy
  CPU in \`createSecureContext\`. Contexts are now built once per CA and certificate and shared (a context holds no
  per-connection state; undici keeps TLS sessions per client).
- **Fixed while measuring (src/http/curl.ts)**: the curl line of every exchange sorted all secrets and tokens the
  session knows and form-encoded the descriptor's secrets again for every shell word: 3.2 s of a 19 s CPU profile of
  200 providers at once (≈15 %); now once per line (0.3 s). Left: \`signingKey\` (src/auth/assertion.ts) imports the
  client's private key for every client assertion (~0.6 s of ~10 s at 200 providers): a KeyObject cached per
  client would remove it (src/auth is outside this change's scope).
- **The report is the scale problem** (src/report is another engineer's; proposals, not done): ~1.5 MB per provider,
  ~130 Allure tests per provider at ~11 KB each all parts included. Cheap: attach the exchange and curl line only to
  findings that did not pass (or each exchange once per provider, not once per finding that cites it — the same
  exchange is attached to several findings): that removes the "evidence of passing tests" row, about a third.
  The rest is Allure's per-test cost — its test-result JSON (~3 KB per test without attachments), and its search
  index and tree, each embedded twice (widgets/ and widgets/default/) — so 150 KB per provider needs ~15–25 Allure
  tests per provider (e.g. one per finding that did not pass, plus one per area listing its passes). Generation time
  is mostly the vitest phase (the suites, then allure-vitest writing every result and attachment in
  onTestRunEnd), and every run also waits for vitest's "Timeout terminating forks worker" (about 25 s whatever the
  size); \`allure generate\` needs over 2 GB at 200 providers.
`;
  writeFileSync(docFile, spliceScale(doc, section));
  const lines = [...new Set(result.runs.map((r) => r.providers))]
    .map((n) => runBlock(result, n))
    .concat(result.runs.filter((x) => x.harness.report).map((r) => reportBlock(result, r)));
  return { section, lines };
}

function renderTable(rows: string[][]): string {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((l) => (l[c] ?? '').length)));
  return rows
    .map((l, i) =>
      l
        .map((cell, c) =>
          c === 0 || i === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!),
        )
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}
