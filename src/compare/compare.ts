/**
 * The second judge: two sides' recorded evidence (and verdicts) in, the differences a migration
 * engineer must decide on out. Exchanges are paired by probe id and client role, fingerprinted,
 * diffed aspect by aspect; equal changes seen on many requests are one difference; a verdict that
 * changed is shown with the behaviour it follows from; what also differs between the baseline and
 * a secondary (a second instance, a second run) is noise, shown apart. No request is ever made here.
 */
import type { Finding } from '../evaluate.js';
import type { Exchange } from '../evidence/types.js';
import type { ProviderRun } from '../run-record.js';
import {
  aspectsOfCheck,
  classifyCheck,
  CLASS_RANK,
  compareFingerprints,
  worse,
  type AspectChange,
} from './classify.js';
import {
  fingerprint,
  issuerOf,
  showFingerprint,
  type Fingerprint,
  type SideNames,
} from './fingerprint.js';
import { clientIndexOfLabel, clientRoles, pairClients } from './roles.js';
import type {
  CheckChange,
  CheckSide,
  Comparison,
  Counts,
  Difference,
  Location,
  Side,
  Unchanged,
} from './types.js';
import { CLASSES } from './types.js';

export interface SideRun {
  side: Side;
  run: ProviderRun;
}

/** One request of the plan, on both sides. */
interface Pair {
  key: string;
  probe: string;
  candidateProbe: string;
  role?: string;
  purpose: string;
  baseline: Fingerprint;
  candidate: Fingerprint;
  exchanges: { baseline?: Exchange; candidate?: Exchange };
}

const TOKEN = /^token\.(\d+)$/;

/** The client a probe presents, by the selectors of src/probes/clients.ts (read from the roles). */
function requesterOf(probe: string, roles: string[][]): number {
  const token = TOKEN.exec(probe);
  if (token) return Number(token[1]);
  const role =
    probe === 'client-auth.mtls-without-certificate'
      ? 'TLS client'
      : probe.startsWith('client-auth.')
        ? 'assertion client'
        : probe === 'errors.wrong-secret' || probe === 'grant.two-methods'
          ? 'secret client'
          : probe === 'grant.query-credentials'
            ? 'body-secret client'
            : 'primary';
  const i = roles.findIndex((r) => r.includes(role));
  return i >= 0 ? i : 0;
}

function sideNames(
  run: ProviderRun,
  roles: string[][],
): Omit<SideNames, 'clientId'> & { requester(probe: string): number; clients: string[] } {
  const p = run.provider;
  return {
    issuer: issuerOf(run.evidence.exchanges, p.tokenEndpoint),
    tokenEndpoint: p.tokenEndpoint,
    ...(p.resourceUrl ? { resourceUrl: p.resourceUrl } : {}),
    requester: (probe) => requesterOf(probe, roles),
    clients: p.clients.map((c) => c.id),
  };
}

/**
 * Fingerprints with the side's names as placeholders: `{client id}` is the id of the client that
 * made the request (what RFC 9068 wants client_id to be), whatever that id is on this side.
 */
function fingerprintOn(
  run: ProviderRun,
  probe: string,
  names: ReturnType<typeof sideNames>,
): Fingerprint {
  const ex = run.evidence.exchanges[probe];
  const clientId = names.clients[names.requester(probe)];
  return fingerprint(ex, run.evidence.notRun[probe], {
    ...names,
    ...(clientId !== undefined ? { clientId } : {}),
  });
}

/** Every probe either side ran or ruled out, paired: by id, and the token requests by client role. */
function pairProbes(
  b: ProviderRun,
  c: ProviderRun,
): {
  pairs: Pair[];
  rolesB: string[][];
  rolesC: string[][];
  roleOf: { baseline: Map<number, string>; candidate: Map<number, string> };
} {
  const rolesB = clientRoles(b.provider, b.evidence);
  const rolesC = clientRoles(c.provider, c.evidence);
  const pairing = pairClients(rolesB, rolesC);
  const namesB = sideNames(b, rolesB);
  const namesC = sideNames(c, rolesC);
  const probesOf = (r: ProviderRun) => [
    ...Object.keys(r.evidence.exchanges),
    ...Object.keys(r.evidence.notRun),
  ];
  const ids = [...new Set([...probesOf(b), ...probesOf(c)])].filter((id) => !TOKEN.test(id));
  const purpose = (id: string, cid = id) =>
    b.evidence.exchanges[id]?.purpose ??
    c.evidence.exchanges[cid]?.purpose ??
    b.evidence.notRun[id]?.reason ??
    c.evidence.notRun[cid]?.reason ??
    id;
  const pair = (key: string, probe: string, candidateProbe: string, role?: string): Pair => ({
    key,
    probe,
    candidateProbe,
    ...(role ? { role } : {}),
    purpose: purpose(probe, candidateProbe),
    baseline: fingerprintOn(b, probe, namesB),
    candidate: fingerprintOn(c, candidateProbe, namesC),
    exchanges: {
      baseline: b.evidence.exchanges[probe],
      candidate: c.evidence.exchanges[candidateProbe],
    },
  });
  const roleOf = { baseline: new Map<number, string>(), candidate: new Map<number, string>() };
  const pairs: Pair[] = [];
  for (const p of pairing.pairs) {
    roleOf.baseline.set(p.baseline, p.role);
    roleOf.candidate.set(p.candidate, p.role);
    pairs.push(pair(`token[${p.role}]`, `token.${p.baseline}`, `token.${p.candidate}`, p.role));
  }
  // A client one side has and the other has not: its token request is compared with nothing.
  for (const o of pairing.onlyBaseline) {
    roleOf.baseline.set(o.index, `only on the baseline: ${o.role}`);
    pairs.push({
      ...pair(`token[only baseline: ${o.role}]`, `token.${o.index}`, '—', o.role),
      candidate: { answer: `no ${o.role} client` },
    });
  }
  for (const o of pairing.onlyCandidate) {
    roleOf.candidate.set(o.index, `only on the candidate: ${o.role}`);
    pairs.push({
      ...pair(`token[only candidate: ${o.role}]`, '—', `token.${o.index}`, o.role),
      baseline: { answer: `no ${o.role} client` },
    });
  }
  for (const id of ids) pairs.push(pair(id, id, id));
  return { pairs, rolesB, rolesC, roleOf };
}

function location(p: Pair): Location {
  return {
    key: p.key,
    probe: p.probe,
    candidateProbe: p.candidateProbe,
    ...(p.role ? { role: p.role } : {}),
    purpose: p.purpose,
  };
}

/** Equal aspect changes (same aspect, same before and after) on many requests are one difference. */
function group(changes: { pair: Pair; change: AspectChange }[], idPrefix: string): Difference[] {
  const byKey = new Map<string, Difference>();
  for (const { pair, change } of changes) {
    const existing = byKey.get(change.key);
    if (existing) {
      existing.where.push(location(pair));
      continue;
    }
    byKey.set(change.key, {
      id: `${idPrefix}${change.key}`,
      class: change.class,
      kind: 'behaviour',
      aspect: change.aspect,
      title: change.title,
      baseline: change.baseline,
      candidate: change.candidate,
      reason: change.reason,
      where: [location(pair)],
      checks: [],
      example: {
        ...(pair.exchanges.baseline ? { baseline: pair.exchanges.baseline } : {}),
        ...(pair.exchanges.candidate ? { candidate: pair.exchanges.candidate } : {}),
      },
    });
  }
  return [...byKey.values()];
}

/** Findings keyed by check id and, for per-client checks, the client's role. */
function findingsByKey(run: ProviderRun, roleOf: Map<number, string>): Map<string, Finding> {
  const out = new Map<string, Finding>();
  for (const f of run.findings) {
    const index = clientIndexOfLabel(run.provider, f.params['client']);
    const role = index === undefined ? undefined : (roleOf.get(index) ?? `client ${index}`);
    out.set(`${f.checkId}${role ? `|${role}` : ''}`, f);
  }
  return out;
}

function checkSide(f: Finding | undefined): CheckSide {
  return f
    ? { outcome: f.outcome, level: f.level, message: f.message }
    : { outcome: 'absent', message: 'no such check on this side' };
}

interface KeyedCheckChange {
  key: string;
  change: CheckChange;
  /** Pairing keys of the probes the two verdicts rest on. */
  keys: Set<string>;
  exchanges: { baseline?: Exchange; candidate?: Exchange };
}

function checkChanges(
  b: ProviderRun,
  c: ProviderRun,
  roleOf: { baseline: Map<number, string>; candidate: Map<number, string> },
  pairs: Pair[],
): KeyedCheckChange[] {
  const fb = findingsByKey(b, roleOf.baseline);
  const fc = findingsByKey(c, roleOf.candidate);
  const keyOfB = new Map(pairs.map((p) => [p.probe, p.key]));
  const keyOfC = new Map(pairs.map((p) => [p.candidateProbe, p.key]));
  const out: KeyedCheckChange[] = [];
  for (const key of new Set([...fb.keys(), ...fc.keys()])) {
    const [x, y] = [fb.get(key), fc.get(key)];
    const [sb, sc] = [checkSide(x), checkSide(y)];
    const cls = classifyCheck(sb, sc);
    if (!cls) continue;
    const f = (x ?? y)!;
    const role = key.includes('|') ? key.slice(key.indexOf('|') + 1) : undefined;
    const keys = new Set([
      ...(x?.probes ?? []).map((p) => keyOfB.get(p) ?? p),
      ...(y?.probes ?? []).map((p) => keyOfC.get(p) ?? p),
    ]);
    const probeB = x?.probes[0];
    const probeC = y?.probes[0];
    out.push({
      key,
      keys,
      change: {
        checkId: f.checkId,
        title: f.title,
        ...(role ? { role } : {}),
        class: cls,
        baseline: sb,
        candidate: sc,
      },
      exchanges: {
        ...(probeB && b.evidence.exchanges[probeB]
          ? { baseline: b.evidence.exchanges[probeB] }
          : {}),
        ...(probeC && c.evidence.exchanges[probeC]
          ? { candidate: c.evidence.exchanges[probeC] }
          : {}),
      },
    });
  }
  return out;
}

/** The behaviour differences and verdict changes between two runs, before any noise is taken out. */
function diff(
  b: ProviderRun,
  c: ProviderRun,
): { pairs: Pair[]; changes: { pair: Pair; change: AspectChange }[]; checks: KeyedCheckChange[] } {
  const { pairs, roleOf } = pairProbes(b, c);
  const changes = pairs.flatMap((pair) =>
    compareFingerprints(
      pair.probe === '—' ? pair.candidateProbe : pair.probe,
      pair.baseline,
      pair.candidate,
    ).map((change) => ({ pair, change })),
  );
  return { pairs, changes, checks: checkChanges(b, c, roleOf, pairs) };
}

export function sideLabel(side: Pick<Side, 'provider' | 'source' | 'startedAt'>): string {
  return side.source === 'recorded'
    ? `${side.provider} (recorded ${side.startedAt.replace(/\.\d+Z$/, 'Z')})`
    : side.provider;
}

export function compareRuns(
  baseline: SideRun,
  candidate: SideRun,
  secondary?: SideRun,
): Comparison {
  const main = diff(baseline.run, candidate.run);
  let changes = main.changes;
  let checks = main.checks;
  const noise: Difference[] = [];
  if (secondary) {
    // Diffy's rule: what the baseline and its secondary disagree on says nothing about the candidate.
    const twin = diff(baseline.run, secondary.run);
    const noisy = new Set(twin.changes.map(({ pair, change }) => `${pair.probe}|${change.aspect}`));
    const noisyChecks = new Set(twin.checks.map((k) => k.key));
    const groups = group(twin.changes, 'noise:').map((d) => ({
      ...d,
      class: 'noise' as const,
      reason: `differs between ${baseline.side.label} and ${secondary.side.label}: ${d.reason}`,
      suppressed: 0,
    }));
    const noiseOf = (probe: string, aspect: string) =>
      groups.find((g) => g.aspect === aspect && g.where.some((w) => w.probe === probe));
    changes = changes.filter(({ pair, change }) => {
      if (!noisy.has(`${pair.probe}|${change.aspect}`)) return true;
      const g = noiseOf(pair.probe, change.aspect);
      if (g) g.suppressed++;
      return false;
    });
    const checkNoise: Difference[] = twin.checks.map((k) => ({
      id: `noise:check:${k.key}`,
      class: 'noise',
      kind: 'check',
      title: `${k.change.title}${k.change.role ? ` (${k.change.role})` : ''}`,
      baseline: `${k.change.baseline.outcome}: ${k.change.baseline.message}`,
      candidate: `${k.change.candidate.outcome}: ${k.change.candidate.message}`,
      reason: `the verdict differs between ${baseline.side.label} and ${secondary.side.label}`,
      where: [],
      checks: [k.change],
      suppressed: 0,
      example: k.exchanges,
    }));
    checks = checks.filter((k) => {
      if (!noisyChecks.has(k.key)) return true;
      const g = checkNoise.find((n) => n.id === `noise:check:${k.key}`);
      if (g) g.suppressed = (g.suppressed ?? 0) + 1;
      return false;
    });
    noise.push(...groups, ...checkNoise);
  }

  const behaviour = group(changes, '');
  // A verdict change goes with the behaviour difference it follows from, if one is seen on its probes.
  const standalone: Difference[] = [];
  for (const k of checks) {
    // A probe answered on one side only explains any verdict resting on it; then what the check reads.
    const aspects = ['answer', ...(aspectsOfCheck(k.change.checkId) ?? [])];
    const host = aspects
      .map((a) => behaviour.find((d) => d.aspect === a && d.where.some((w) => k.keys.has(w.key))))
      .find((d) => d !== undefined);
    if (host) {
      host.checks.push(k.change);
      host.class = host.class === 'not-comparable' ? host.class : worse(host.class, k.change.class);
      continue;
    }
    const where = main.pairs.filter((p) => k.keys.has(p.key)).map(location);
    standalone.push({
      id: `check:${k.key}`,
      class: k.change.class,
      kind: 'check',
      title: `${k.change.title}${k.change.role ? ` (${k.change.role})` : ''}`,
      baseline: `${k.change.baseline.outcome}: ${k.change.baseline.message}`,
      candidate: `${k.change.candidate.outcome}: ${k.change.candidate.message}`,
      reason:
        k.change.class === 'conformance-regression'
          ? `${k.change.checkId} is met on the baseline and not on the candidate`
          : k.change.class === 'fixed'
            ? `${k.change.checkId} is not met on the baseline and met on the candidate`
            : `${k.change.checkId} is judged on one side only`,
      where,
      checks: [k.change],
      example: k.exchanges,
    });
  }
  const all = [...behaviour, ...standalone].sort(
    (x, y) => CLASS_RANK[x.class] - CLASS_RANK[y.class] || x.title.localeCompare(y.title),
  );
  const changedKeys = new Set([...main.changes.map((c) => c.pair.key)]);
  const unchanged: Unchanged[] = main.pairs
    .filter(
      (p) =>
        p.baseline.answer === 'answered' &&
        p.candidate.answer === 'answered' &&
        !changedKeys.has(p.key),
    )
    .map((p) => ({
      key: p.key,
      probe: p.probe,
      ...(p.role ? { role: p.role } : {}),
      purpose: p.purpose,
      behaviour: showFingerprint(p.baseline),
    }));
  const differences = all.filter((d) => d.class !== 'not-comparable');
  const notComparable = all.filter((d) => d.class === 'not-comparable');
  const counts = Object.fromEntries([...CLASSES, 'unchanged'].map((c) => [c, 0])) as Counts;
  for (const d of all) counts[d.class]++;
  counts.noise = noise.length;
  counts.unchanged = unchanged.length;
  return {
    title: `Migration: ${baseline.side.label} → ${candidate.side.label}`,
    baseline: baseline.side,
    candidate: candidate.side,
    ...(secondary ? { secondary: secondary.side } : {}),
    counts,
    differences,
    notComparable,
    noise,
    unchanged,
  };
}
