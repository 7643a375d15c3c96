/**
 * `npm run conformance -- --replay <run.json>`: today's checks on recorded evidence, without a
 * request. A verdict is then reproducible after the fact, and a new check can judge old evidence.
 * A check whose probe is absent from the recording is not verified ("not recorded"), never failed.
 *
 * A replay judges with the descriptor as it was resolved for the run: run.json keeps it, its
 * secrets and key material scrubbed (replayableProvider), since the checks read only what the
 * descriptor promises and names (URLs, client ids, certificate thumbprints), never a secret.
 */
import path from 'node:path';
import type { Evidence } from './checks/types.js';
import { DescriptorError, readDescriptor, resolveProvider, ROOT } from './descriptor/load.js';
import type { ClientDescriptor, Provider, ProxySetting } from './descriptor/types.js';
import { evaluate, type Finding } from './evaluate.js';
import { probePlan } from './probes/plan.js';
import type { ProviderRun } from './run-record.js';

const NOT_RECORDED = 'not recorded';
const SCRUBBED = '(not recorded)';

function scrubClient(c: ClientDescriptor): ClientDescriptor {
  const a = c.auth;
  return {
    ...c,
    auth: {
      ...a,
      ...(a.secret !== undefined ? { secret: SCRUBBED } : {}),
      ...(a.assertion
        ? {
            assertion: {
              ...a.assertion,
              ...(a.assertion.key
                ? { key: { kind: a.assertion.key.kind, material: SCRUBBED } }
                : {}),
            },
          }
        : {}),
      ...(a.tls ? { tls: { ...a.tls, key: SCRUBBED } } : {}),
    },
  };
}

/** Proxies as host:port only: a proxy URL may carry credentials. */
function scrubProxy(p: ProxySetting): ProxySetting {
  if (p.mode === 'none') return p;
  const endpoint = (e: typeof p.https) => (e ? { ...e, url: `http://${e.hostPort}` } : undefined);
  const https = endpoint(p.https);
  const http = endpoint(p.http);
  return {
    mode: 'proxy',
    noProxy: p.noProxy,
    ...(https ? { https } : {}),
    ...(http ? { http } : {}),
  };
}

/** The resolved descriptor without a secret or a private key: what run.json keeps for a replay. */
export function replayableProvider(p: Provider): Provider {
  const assertion = p.grant.assertion;
  return {
    ...p,
    clients: p.clients.map(scrubClient),
    grant: {
      ...p.grant,
      ...(assertion
        ? { assertion: { ...assertion, key: { kind: assertion.key.kind, material: SCRUBBED } } }
        : {}),
    },
    ...(p.introspection
      ? { introspection: { ...p.introspection, client: scrubClient(p.introspection.client) } }
      : {}),
    // The test user's password and a supplied refresh token are secrets like a client's.
    ...(p.authorization
      ? {
          authorization: {
            ...p.authorization,
            user: { username: p.authorization.user.username, password: SCRUBBED },
          },
        }
      : {}),
    ...(p.refresh?.token ? { refresh: { ...p.refresh, token: SCRUBBED } } : {}),
    ...(p.dpop ? { dpop: { ...p.dpop, client: scrubClient(p.dpop.client) } } : {}),
    proxy: scrubProxy(p.proxy),
    secrets: [],
  };
}

/**
 * Judges recorded evidence with this harness's checks. Probes of today's plan that the recording
 * lacks (it was made before they existed, or cut short) make their checks not verified.
 */
export function rejudge(descriptor: Provider, evidence: Evidence, strict: boolean): Finding[] {
  const notRun = { ...evidence.notRun };
  const missing = new Set<string>();
  for (const probe of probePlan(descriptor)) {
    if (evidence.exchanges[probe.id] || notRun[probe.id]) continue;
    missing.add(probe.id);
    notRun[probe.id] = {
      kind: 'prerequisite',
      reason: `${NOT_RECORDED}: the recording has no exchange for probe ${probe.id}`,
    };
  }
  const findings = evaluate(descriptor, { ...evidence, notRun }, { strict });
  if (missing.size === 0) return findings;
  return findings.map((f) =>
    f.outcome === 'broken' && f.message.startsWith(`prerequisite failed: ${NOT_RECORDED}`)
      ? { ...f, message: f.message.replace(/^prerequisite failed: /, 'not verified: ') }
      : f,
  );
}

/** The descriptor a recorded provider is judged with: the one recorded, else its file resolved against today's environment. */
export function descriptorOf(run: ProviderRun, shownFile: string, index: number): Provider {
  if (run.descriptor) return run.descriptor;
  try {
    return resolveProvider(readDescriptor(path.resolve(ROOT, run.provider.file)), process.env);
  } catch (e) {
    const why = e instanceof DescriptorError ? e.message : (e as Error).message;
    throw new DescriptorError(
      shownFile,
      `providers[${index}].descriptor`,
      `not recorded (a run record older than replay), and ${run.provider.file} cannot stand in for it: ${why}`,
    );
  }
}
