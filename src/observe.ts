import { isAcceptableUrl } from './descriptor/insecure.js';
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ClientDescriptor, Provider } from './descriptor/types.js';
import type { Evidence } from './checks/types.js';
import { ProviderSession } from './http/runner.js';
import type { Exchange } from './evidence/types.js';
import { PROBES, type ProbeId } from './probes/ids.js';
import { probePlan } from './probes/plan.js';
import { CODE_SLOT, VERIFIER_SLOT, type ProbeRequest } from './probes/request.js';
import { NotRunError, policy, type ProbeContext } from './probes/types.js';
import { Authorizer } from './login/authorizer.js';
import { authorizationEndpoint, NOT_FOR_AUTHORIZATION_CODE } from './probes/authorization-code.js';
import { compactVerify, createLocalJWKSet, type JWK } from 'jose';
import { estimateGuessability, guessabilityBound } from './evidence/guessability.js';

export { estimateGuessability } from './evidence/guessability.js';

export interface ObserveOptions {
  /** Called before a long wait, so the CLI can tell the user why nothing happens. */
  onWait?: (provider: Provider, seconds: number, why: string) => void;
  /** Only these probes are sent (the others are not run, by policy): tests that need a few only. */
  only?: (probe: ProbeId) => boolean;
}

/** What the metadata names that later probes use: the JWK Set and the mTLS alias (RFC 8705 §5). */
function discovered(
  p: Provider,
  ex: Exchange | undefined,
): { jwksUri?: string; mtlsTokenUrl?: string } {
  const doc = ex?.response?.json as
    { jwks_uri?: unknown; mtls_endpoint_aliases?: { token_endpoint?: unknown } } | undefined;
  // https, or http on loopback for a provider that allows it (allowInsecureHttp: loopback).
  const https = (v: unknown): v is string => isAcceptableUrl(p, v);
  const alias = doc?.mtls_endpoint_aliases?.token_endpoint;
  return {
    ...(https(doc?.jwks_uri) ? { jwksUri: doc.jwks_uri } : {}),
    ...(https(alias) ? { mtlsTokenUrl: alias } : {}),
  };
}

/** Runs the provider's probe plan in order, one request at a time, and returns the redacted evidence. */
export async function observe(p: Provider, options: ObserveOptions = {}): Promise<Evidence> {
  const session = new ProviderSession(p);
  const exchanges: Record<string, Exchange> = {};
  const requests = new Map<string, ProbeRequest>();
  const answeredAt = new Map<string, number>();
  const notRun: Evidence['notRun'] = {};
  const startedAt = new Date().toISOString();
  // authorization_code: codes come from a login in the browser, each counted as one request.
  const authorizer =
    p.grant.type === 'authorization_code'
      ? new Authorizer(p, {
          beforeLogin: () => {
            if (session.requestsSent >= p.limits.maxRequests)
              throw new NotRunError(
                policy(
                  `not sent: the request budget of ${p.limits.maxRequests} (limits.maxRequests) is used up (a login for a fresh code counts as one request)`,
                ),
              );
            session.requestsSent += 1;
          },
          endpoint: () => authorizationEndpoint(p, ctx),
          learn: (name, value) => session.redactor.addCredential(name, value),
        })
      : undefined;
  const ctx: ProbeContext = {
    exchange: (id) => exchanges[id],
    tokenOf: (id) => (exchanges[id] ? session.tokenOf(id) : undefined),
    refreshTokenOf: (id) => (exchanges[id] ? session.refreshTokenOf(id) : undefined),
    authorize: async (options = {}) => {
      if (!authorizer) throw new NotRunError(policy('the grant is not authorization_code'));
      const client = p.clients[options.client ?? 0]!;
      return authorizer.code({ client, ...(options.pkce ? { pkce: options.pkce } : {}) });
    },
    answeredAt: (id) => answeredAt.get(id),
    requestOf: (id) => requests.get(id),
    tokenUrlOf: (client: ClientDescriptor) =>
      client.auth.tls
        ? (discovered(p, exchanges[PROBES.metadata]).mtlsTokenUrl ?? p.tokenEndpoint)
        : p.tokenEndpoint,
    jwksUri: () => discovered(p, exchanges[PROBES.metadata]).jwksUri ?? p.jwksUri,
    random: (bytes = 12) => randomBytes(bytes).toString('base64url'),
  };
  try {
    for (const probe of probePlan(p)) {
      const ruledOut =
        options.only && !options.only(probe.id)
          ? 'not selected for this run'
          : authorizer
            ? NOT_FOR_AUTHORIZATION_CODE[probe.id]
            : undefined;
      const applies = ruledOut ? policy(ruledOut) : (probe.appliesTo?.(ctx) ?? true);
      if (applies !== true) {
        notRun[probe.id] = applies;
        continue;
      }
      const wait = probe.notBefore?.(ctx);
      const waitMs = wait ? wait.at - Date.now() : 0;
      if (wait && waitMs > 0) {
        options.onWait?.(p, Math.ceil(waitMs / 1000), wait.why);
        await sleep(waitMs);
      }
      let req: ProbeRequest;
      try {
        req = await probe.build(ctx);
        // A generic token request of an authorization_code descriptor: a fresh code of its client.
        if (authorizer)
          req = await withFreshCode(req, () => ctx.authorize({ client: probe.asClient ?? 0 }));
      } catch (e) {
        if (!(e instanceof NotRunError)) throw e;
        notRun[probe.id] = e.notRun;
        continue;
      }
      requests.set(probe.id, req);
      // A service that takes JSON gets JSON on its token endpoint (a deviation its descriptor declares).
      const json =
        p.grant.bodyEncoding === 'json' &&
        req.bodyEncoding === undefined &&
        req.form &&
        req.method === 'POST' &&
        req.url.split('?')[0] === p.tokenEndpoint;
      const purpose = typeof probe.purpose === 'function' ? probe.purpose(ctx) : probe.purpose;
      exchanges[probe.id] = await session.send(
        probe.id,
        purpose,
        json ? { ...req, bodyEncoding: 'json' } : req,
      );
      answeredAt.set(probe.id, Date.now());
    }
    return {
      provider: p.name,
      exchanges,
      notRun,
      requestsSent: session.requestsSent,
      ...(authorizer ? { logins: authorizer.logins } : {}),
      facts: await facts(ctx, session),
      startedAt,
      finishedAt: new Date().toISOString(),
    };
  } finally {
    await authorizer?.close();
    await session.close();
  }
}

/** Fills grantForm's code slots (src/probes/request.ts) with a fresh code, in the form and in the URL. */
async function withFreshCode(
  req: ProbeRequest,
  authorize: () => Promise<{ code: string; verifier?: string }>,
): Promise<ProbeRequest> {
  const slotted = (v: string) => v === CODE_SLOT || v === VERIFIER_SLOT;
  let query: URL | undefined;
  try {
    query = new URL(req.url);
  } catch {
    query = undefined;
  }
  const inQuery = query ? [...query.searchParams.values()].some(slotted) : false;
  if (!(req.form ?? []).some(([, v]) => slotted(v)) && !inQuery) return req;
  const grant = await authorize();
  const fill = (pairs: [string, string][]): [string, string][] =>
    pairs.flatMap(([k, v]): [string, string][] => {
      if (v === CODE_SLOT) return [[k, grant.code]];
      if (v === VERIFIER_SLOT) return grant.verifier ? [[k, grant.verifier]] : [];
      return [[k, v]];
    });
  let url = req.url;
  if (query && inQuery) {
    const u = new URL(`${query.origin}${query.pathname}`);
    for (const [k, v] of fill([...query.searchParams.entries()])) u.searchParams.append(k, v);
    url = u.toString();
  }
  return { ...req, url, ...(req.form ? { form: fill(req.form) } : {}) };
}

/** What the observer establishes from material it never records: the tokens themselves. */
async function facts(
  ctx: ProbeContext,
  session: ProviderSession,
): Promise<NonNullable<Evidence['facts']>> {
  const out: NonNullable<Evidence['facts']> = {};
  const first: ProbeId = PROBES.token(0);
  const token = ctx.tokenOf(first);
  if (token && ctx.exchange(first)?.response?.accessToken?.jwt)
    out.tokenSignature = await verifySignature(token, ctx.exchange(PROBES.jwks)?.response?.json);
  const sample = session.allTokens().filter((t) => !/^[\w-]+\.[\w-]+\.[\w-]*$/.test(t));
  if (sample.length > 0) {
    out.tokenSample = estimateGuessability(sample);
    out.tokenBound = guessabilityBound(sample);
  }
  return out;
}

/** Checks only the JWS signature (claims are the checks' business) against the recorded JWK Set. */
async function verifySignature(
  token: string,
  jwks: unknown,
): Promise<{ verified: boolean; detail: string }> {
  const keys = (jwks as { keys?: unknown } | undefined)?.keys;
  if (!Array.isArray(keys))
    return { verified: false, detail: 'no JWK Set was obtained to verify it with' };
  try {
    const set = createLocalJWKSet({ keys: keys as JWK[] });
    const { protectedHeader } = await compactVerify(token, set);
    return {
      verified: true,
      detail: `verified with the key ${protectedHeader.kid ? `kid ${protectedHeader.kid}` : 'without kid'} (${protectedHeader.alg})`,
    };
  } catch (e) {
    return {
      verified: false,
      detail: `${(e as { code?: string }).code ?? 'error'}: ${(e as Error).message}`,
    };
  }
}
