/**
 * The floor for bench/run.ts: the harness's own requests, replayed by a plain undici script.
 *
 * `planFromEvidence` takes the requests of a harness run from its recorded evidence
 * (`evidence.exchanges[*].request`, in the order sent) and puts the secrets back, which the
 * record holds redacted: `$ENV_NAME` placeholders in URLs and bodies become the provider's real
 * (form-encoded) secrets; a redacted `Basic` header is rebuilt from the client id it still shows
 * and that client's secret (a fresh random secret for the wrong-secret and unknown-client probes,
 * as the harness does); a redacted access token (a `Bearer` header, a `token=` to introspect) is
 * marked and filled at send time with the access token this replay obtained itself on its first
 * token request, as observe() reuses token.0's (tampered the same way for the tampered-token probe; the
 * replay's own narrow-scope token for the insufficient-scope probe); a redacted client assertion is signed afresh with the same client's key and the same
 * defect (observe's own `withClientAuth`, a credential like the secrets; the replay probe resends
 * the first-use one); a recorded client certificate is presented again from the descriptor.
 * Everything is rebuilt before the replay starts, outside its timing.
 *
 * `runFloor` sends them with nothing else: one undici Agent per provider (only the run's CA
 * added), providers concurrent, requests within a provider sequential, each body read in full,
 * JSON parsed only where a token is needed, and the same expiry wait as observe(): before the
 * expired-token probe, until the first token response (token.0, the token presented) + (expires_in + 1) s,
 * as src/probes/resource.ts counts it. No pacing, redaction,
 * recording, deadline or budget.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { Agent, request } from 'undici';
import type { Evidence } from '../src/checks/types.js';
import type { Provider } from '../src/descriptor/types.js';
import type { ClientDescriptor } from '../src/descriptor/types.js';
import { assertionClient } from '../src/probes/clients.js';
import { ASSERTION_DEFECTS, PROBES } from '../src/probes/ids.js';
import { withClientAuth } from '../src/probes/request.js';
import { tamper } from '../src/probes/resource.js';
import { pooled } from '../src/run/shard.js';

export interface FloorRequest {
  probe: string;
  method: 'GET' | 'POST';
  url: string;
  headers: [string, string][];
  body?: string;
  /** URL, body or headers carry this replay's access token (ACCESS_TOKEN slots, filled at send time). */
  usesToken: boolean;
  /** The TLS client certificate to present (mTLS client authentication). */
  clientCert?: { certFile: string; cert: string; key: string };
}

export interface FloorPlan {
  provider: Provider;
  requests: FloorRequest[];
}

export interface FloorProviderResult {
  provider: string;
  requestsSent: number;
  /** Status per probe (or the error code), to compare with the harness's. */
  statuses: Record<string, number | string>;
  durationsMs: number[];
  /** Duration per probe (the same numbers as durationsMs). */
  durationByProbe: Record<string, number>;
  expiryWaitMs: number;
}

export interface FloorResult {
  wallMs: number;
  /** CPU time (user + system) of this process during the replay. */
  cpuMs: number;
  providers: FloorProviderResult[];
}

function formEncode(value: string): string {
  return new URLSearchParams({ v: value }).toString().slice(2);
}

const BASIC_REDACTED = /^Basic \[redacted: base64 of "(.*):<secret>"\]$/;
const LEFTOVER = /\$TC_|\[redacted|\(redacted|\[client secret\]/;
/** How the runner records a token it has seen: previewOf() in src/http/redact.ts. */
const TOKEN_PREVIEW = /[^&=\s"]{1,8}\.\.\.\(redacted, \d+ chars\)/g;
const ACCESS_TOKEN = '__FLOOR_ACCESS_TOKEN__';
/** The probes observe() sends after waiting for the access token to expire (resourceExpired, introspectExpired, …). */
export const AFTER_EXPIRY = new Set<string>(
  Object.entries(PROBES)
    .filter(([key, value]) => typeof value === 'string' && /Expired$/.test(key))
    .map(([, value]) => value as string),
);

/** The client a recorded token request authenticated as (several clients may share an id). */
function clientOf(p: Provider, probe: string, id: string | null): ClientDescriptor | undefined {
  const token = /^token\.(\d+)$/.exec(probe);
  if (token) return p.clients[Number(token[1])];
  if (probe.startsWith('client-auth.')) return assertionClient(p);
  const byId = p.clients.find((c) => c.id === id);
  // The unknown-client probe: the primary client's method under a made-up id.
  return byId ?? (id && p.clients[0] ? { ...p.clients[0], id } : undefined);
}

export async function planFromEvidence(p: Provider, evidence: Evidence): Promise<FloorPlan> {
  const unredact = (text: string): string => {
    let out = text;
    // Longest names first, so $A_SECRET_2 is not read as $A_SECRET followed by "_2".
    for (const s of [...p.secrets].sort((a, b) => b.envName.length - a.envName.length)) {
      out = out.split(`$${s.envName}`).join(formEncode(s.value));
    }
    return out;
  };
  const requests: FloorRequest[] = [];
  let firstUseAssertion: string | undefined;
  // Insertion order of `exchanges` is the order observe() sent them in.
  for (const ex of Object.values(evidence.exchanges)) {
    if (ex.notSent) continue;
    let usesToken = false;
    const tokenSlots = (text: string): string => {
      const out = text.replace(TOKEN_PREVIEW, ACCESS_TOKEN);
      if (out !== text) usesToken = true;
      return out;
    };
    const headers = ex.request.headers.map(([name, value]): [string, string] => {
      if (!/^authorization$/i.test(name)) return [name, unredact(value)];
      const basic = BASIC_REDACTED.exec(value);
      if (basic) {
        const shownId = unredact(basic[1] ?? '');
        const client = p.clients.find((c) => formEncode(c.id) === shownId);
        const secret =
          ex.probe === PROBES.wrongSecret
            ? `wrong-${randomBytes(12).toString('base64url')}`
            : (client?.auth.secret ?? randomBytes(24).toString('base64url'));
        return [
          name,
          `Basic ${Buffer.from(`${shownId}:${formEncode(secret)}`, 'utf8').toString('base64')}`,
        ];
      }
      if (/^Bearer /.test(value)) return [name, tokenSlots(value)];
      throw new Error(`${ex.id}: cannot rebuild the Authorization header ${value}`);
    });
    let body = ex.request.body !== undefined ? unredact(ex.request.body) : undefined;
    if (ex.request.assertion && body !== undefined) {
      const id = new URLSearchParams(body).get('client_id');
      const client = clientOf(p, ex.probe, id);
      if (!client) throw new Error(`${ex.id}: no client ${id} to sign a client assertion for`);
      let assertion = ex.probe === PROBES.assertionReplay ? firstUseAssertion : undefined;
      if (!assertion) {
        const defect = ASSERTION_DEFECTS.find((d) => PROBES.assertion(d) === ex.probe);
        assertion = (
          await withClientAuth(
            p,
            { ...client, id: id ?? client.id },
            { method: 'POST', url: p.tokenEndpoint },
            defect ? { defect } : {},
          )
        ).assertion;
      }
      if (!assertion) throw new Error(`${ex.id}: could not sign a client assertion`);
      if (ex.probe === PROBES.assertionFirstUse) firstUseAssertion = assertion;
      const signed = assertion;
      body = body.replace(
        /(^|&)client_assertion=[^&]*/,
        (_, lead: string) => `${lead}client_assertion=${formEncode(signed)}`,
      );
    }
    if (body !== undefined) body = tokenSlots(body);
    let clientCert: FloorRequest['clientCert'];
    if (ex.request.clientCertificate) {
      const tls = p.clients.find((c) => c.auth.tls?.certFile === ex.request.clientCertificate)?.auth
        .tls;
      if (!tls)
        throw new Error(`${ex.id}: no client has the certificate ${ex.request.clientCertificate}`);
      clientCert = { certFile: tls.certFile, cert: tls.cert, key: tls.key };
    }
    const req: FloorRequest = {
      probe: ex.probe,
      method: ex.request.method,
      url: tokenSlots(unredact(ex.request.url)),
      headers,
      ...(body !== undefined ? { body } : {}),
      usesToken,
      ...(clientCert ? { clientCert } : {}),
    };
    const leftover = [req.url, req.body ?? '', ...headers.map(([n, v]) => `${n}: ${v}`)].find((t) =>
      LEFTOVER.test(t),
    );
    if (leftover !== undefined)
      throw new Error(`${ex.id}: a redacted value could not be rebuilt: ${leftover}`);
    requests.push(req);
  }
  return { provider: p, requests };
}

export interface FloorOptions {
  /** undici's per-origin connection limit; default none (undici's default: unlimited). */
  connections?: number;
  /** Providers replayed at once, through the CLI's own pool (src/run/shard.ts); default all of them. */
  concurrency?: number;
}

async function runProvider(plan: FloorPlan, options: FloorOptions): Promise<FloorProviderResult> {
  const p = plan.provider;
  const ca = p.tls.caFile ? readFileSync(p.tls.caFile, 'utf8') : undefined;
  const newAgent = (cert?: { cert: string; key: string }): Agent =>
    new Agent({
      connect: { ...(ca ? { ca } : {}), ...(cert ? { cert: cert.cert, key: cert.key } : {}) },
      ...(options.connections ? { connections: options.connections } : {}),
    });
  const agent = newAgent();
  // One agent per client certificate, as the harness keeps them (a TLS session carries its certificate).
  const mtlsAgents = new Map<string, Agent>();
  const agentFor = (cert: FloorRequest['clientCert']): Agent => {
    if (!cert) return agent;
    let a = mtlsAgents.get(cert.certFile);
    if (!a) mtlsAgents.set(cert.certFile, (a = newAgent(cert)));
    return a;
  };
  const result: FloorProviderResult = {
    provider: p.name,
    requestsSent: 0,
    statuses: {},
    durationsMs: [],
    durationByProbe: {},
    expiryWaitMs: 0,
  };
  let token = '';
  let narrowToken = '';
  let lifetime = p.expect.expiresIn ?? 0;
  let issuedAt = Date.now();
  let waited = false;
  try {
    for (const r of plan.requests) {
      if (AFTER_EXPIRY.has(r.probe) && !waited) {
        waited = true;
        result.expiryWaitMs = Math.max(0, issuedAt + (lifetime + 1) * 1000 - Date.now());
        await sleep(result.expiryWaitMs);
      }
      // The token the harness presented in this probe, as observe() picks it (src/probes/resource.ts).
      const presented =
        r.probe === PROBES.resourceTampered
          ? tamper(token)
          : r.probe === PROBES.resourceInsufficientScope
            ? narrowToken
            : token;
      const fill = (text: string, value: string): string =>
        r.usesToken ? text.split(ACCESS_TOKEN).join(value) : text;
      const headers = r.headers.map(([n, v]): [string, string] => [n, fill(v, presented)]);
      const url = fill(r.url, formEncode(presented));
      const body = r.body !== undefined ? fill(r.body, formEncode(presented)) : undefined;
      result.requestsSent += 1;
      const started = performance.now();
      try {
        const res = await request(url, {
          method: r.method,
          headers: headers.flat(),
          ...(body !== undefined ? { body } : {}),
          dispatcher: agentFor(r.clientCert),
        });
        const text = await res.body.text();
        result.statuses[r.probe] = res.statusCode;
        if (r.probe === PROBES.token(0)) {
          const json = JSON.parse(text) as { access_token?: unknown; expires_in?: unknown };
          if (typeof json.access_token === 'string') token = json.access_token;
          if (typeof json.expires_in === 'number') lifetime = json.expires_in;
        } else if (r.probe === PROBES.insufficientScopeToken) {
          const json = JSON.parse(text) as { access_token?: unknown };
          if (typeof json.access_token === 'string') narrowToken = json.access_token;
        }
      } catch (e) {
        result.statuses[r.probe] = (e as { code?: string }).code ?? String(e);
      }
      const duration = performance.now() - started;
      result.durationsMs.push(duration);
      result.durationByProbe[r.probe] = duration;
      // observe() counts the lifetime from token.0's answer, the token the expired-token probes present.
      if (r.probe === PROBES.token(0)) issuedAt = Date.now();
    }
  } finally {
    await Promise.all([agent.close(), ...[...mtlsAgents.values()].map((a) => a.close())]);
  }
  return result;
}

/**
 * All providers at once (or `concurrency` at a time, pooled like the CLI's --concurrency), each one's
 * requests in order: the CLI's concurrency, without the harness.
 */
export async function runFloor(
  plans: FloorPlan[],
  options: FloorOptions = {},
): Promise<FloorResult> {
  const started = performance.now();
  const cpu = process.cpuUsage();
  const providers = await pooled(
    options.concurrency ?? plans.length,
    plans.map((plan) => () => runProvider(plan, options)),
  );
  const used = process.cpuUsage(cpu);
  return {
    wallMs: performance.now() - started,
    cpuMs: (used.user + used.system) / 1000,
    providers,
  };
}
