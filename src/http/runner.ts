import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import http, { STATUS_CODES } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { createSecureContext, rootCertificates, type SecureContext } from 'node:tls';
import { Agent, EnvHttpProxyAgent, request, type Dispatcher } from 'undici';
import type { Provider } from '../descriptor/types.js';
import { curlLine, type CurlInput } from './curl.js';
import {
  hostPortOf,
  proxySecrets,
  ProxyTunnelError,
  TunnelClient,
  tunnelLogOf,
  type TunnelLog,
} from './proxy.js';
import {
  CREDENTIAL_PARAMS,
  formEncode,
  jsonTokens,
  Redactor,
  redactAuthorization,
  redactJsonText,
  redactJsonTokens,
  textTokens,
  tokenFacts,
} from './redact.js';
import { jsonTextFacts } from './json-text.js';
import { decodeBody } from './decode.js';
import {
  headerFieldCount,
  jsonShapeProblem,
  RESPONSE_LIMITS,
  ResponseLimitError,
} from './limits.js';
import { parseRetryAfter } from './retry-after.js';
import type { Exchange, RecordedResponse, TransportError } from './types.js';
import type { ProbeId } from '../probes/ids.js';
import type { ProbeRequest } from '../probes/request.js';

export type { ProbeRequest };

/** After this many transport failures (rate-limited requests included) in a row, a provider is not probed any more. */
const CIRCUIT_BREAKER_THRESHOLD = 2;
/** A request answered 429 is sent again at most this many times (so at most three attempts). */
const MAX_RATE_LIMIT_RETRIES = 2;

/**
 * TLS contexts by content (extra CA, client certificate and key), built once per process and shared
 * by every session that needs the same one. With the public roots plus an extra CA, building one blocks
 * the event loop for ~20 ms (~55 ms on a busy machine) — for every provider and client certificate, so
 * at 200 providers sharing a CA file (bench/scale.ts) seconds during which no other provider's
 * response is read. A context holds no per-connection state (undici keeps TLS sessions per client),
 * so sharing it changes nothing on the wire.
 */
const secureContexts = new Map<string, SecureContext>();

function secureContextFor(
  ca: string | undefined,
  client?: { cert: string; key: string },
): SecureContext {
  const id = createHash('sha256')
    .update(ca ?? '')
    .update('\0')
    .update(client?.cert ?? '')
    .update('\0')
    .update(client?.key ?? '')
    .digest('base64');
  let context = secureContexts.get(id);
  if (!context) {
    // tls.caFile adds CAs (schema: "extra CA certificates"); Node's `ca` alone would replace the
    // public roots, breaking e.g. a resource with a public certificate next to a private token endpoint.
    context = createSecureContext({
      ...(ca ? { ca: [...rootCertificates, ca] } : {}),
      ...(client ? { cert: client.cert, key: client.key } : {}),
    });
    secureContexts.set(id, context);
  }
  return context;
}

/**
 * Owns every request made to one provider: TLS, deadline, body cap, request budget, pacing,
 * circuit breaker, and retries of 429 answers only (after Retry-After, at most twice). Records each
 * exchange with secrets redacted at recording time.
 */
export class ProviderSession {
  readonly redactor = new Redactor();
  requestsSent = 0;
  private consecutiveTransportFailures = 0;
  private lastTransportError: TransportError | undefined;
  private nextSlot = 0;
  private readonly agent: Dispatcher;
  /** One agent per client certificate: a TLS session carries its certificate, so they are never shared. */
  private readonly mtlsAgents = new Map<string, Dispatcher>();
  /** Tunnels opened and refused at the provider's proxy, for the run record. */
  private readonly tunnels: TunnelLog;
  private readonly ca: string | undefined;
  /** Raw access tokens by probe, in memory only: later probes present them, records never hold them. */
  private readonly tokens = new Map<string, string>();
  private readonly refreshTokens = new Map<string, string>();

  constructor(readonly provider: Provider) {
    for (const s of provider.secrets) this.redactor.add(s.value, `$${s.envName}`);
    // A proxy URL may carry user:password (from the environment only): a secret like the others.
    for (const [value, shownAs] of proxySecrets(provider)) this.redactor.add(value, shownAs);
    this.tunnels = tunnelLogOf(provider);
    this.ca = provider.tls.caFile ? readFileSync(provider.tls.caFile, 'utf8') : undefined;
    this.agent = this.newAgent();
  }

  private newAgent(client?: { cert: string; key: string }): Dispatcher {
    const { limits, tls, proxy } = this.provider;
    // One TLS context for all connections (undici would otherwise build one per connection), and
    // for all sessions with the same CA and certificate: see secureContextFor.
    const secureContext = secureContextFor(this.ca, client);
    const endpointTls = {
      secureContext,
      rejectUnauthorized: !tls.insecureSkipVerify,
      timeout: limits.timeoutMs,
    };
    const options = {
      connect: endpointTls,
      headersTimeout: limits.timeoutMs,
      bodyTimeout: limits.timeoutMs,
      // Probes of one provider are sequential: one connection, reused, is all they need.
      connections: 1,
    };
    if (proxy.mode === 'none') return new Agent(options);
    // undici routes each request by its URL (NO_PROXY included) with the values the loader resolved,
    // never process.env again: '' for an unset proxy, so it does not fall back to the environment.
    return new EnvHttpProxyAgent({
      ...options,
      httpsProxy: proxy.https?.url ?? '',
      httpProxy: proxy.http?.url ?? '',
      noProxy: proxy.noProxy,
      // Inside the tunnel, the TLS to the endpoint is the same as without a proxy: same CA,
      // verification and client certificate (certificate-bound tokens see the same certificate).
      requestTls: endpointTls,
      proxyTls: { timeout: limits.timeoutMs },
      clientFactory: (origin: URL, opts: object) =>
        new TunnelClient(
          origin,
          { ...opts, headersTimeout: limits.timeoutMs, bodyTimeout: limits.timeoutMs },
          hostPortOf(origin),
          this.tunnels,
        ),
    });
  }

  private agentFor(client: ProbeRequest['tlsClient']): Dispatcher {
    if (!client) return this.agent;
    let agent = this.mtlsAgents.get(client.certFile);
    if (!agent) this.mtlsAgents.set(client.certFile, (agent = this.newAgent(client)));
    return agent;
  }

  tokenOf(probe: ProbeId): string | undefined {
    return this.tokens.get(probe);
  }

  /** The refresh token a probe's answer carried (in memory only, like the access tokens). */
  refreshTokenOf(probe: ProbeId): string | undefined {
    return this.refreshTokens.get(probe);
  }

  /** Every access token issued in this session (kept in memory only, for the guessability estimate). */
  allTokens(): string[] {
    return [...this.tokens.values()];
  }

  async close(): Promise<void> {
    await Promise.all([this.agent.close(), ...[...this.mtlsAgents.values()].map((a) => a.close())]);
  }

  async send(probe: ProbeId, purpose: string, req: ProbeRequest): Promise<Exchange> {
    const headers: [string, string][] = [...(req.headers ?? [])];
    let body: string | undefined;
    if (req.form && req.bodyEncoding === 'json') {
      body = JSON.stringify(Object.fromEntries(req.form));
      headers.push(['Content-Type', 'application/json']);
    } else if (req.form) {
      body = req.form.map(([k, v]) => `${formEncode(k)}=${formEncode(v)}`).join('&');
      if (!headers.some(([n]) => /^content-type$/i.test(n))) {
        headers.push(['Content-Type', 'application/x-www-form-urlencoded']);
      }
    }
    if (req.basic) {
      const raw = `${formEncode(req.basic.id)}:${formEncode(req.basic.secret)}`;
      headers.push(['Authorization', `Basic ${Buffer.from(raw, 'utf8').toString('base64')}`]);
    }
    if (req.bearer) headers.push(['Authorization', `Bearer ${req.bearer}`]);
    if (req.dpopToken) headers.push(['Authorization', `DPoP ${req.dpopToken}`]);
    if (req.dpop !== undefined) headers.push(['DPoP', req.dpop]);
    headers.push(['Accept', 'application/json']);
    // Before anything is recorded (URL, headers, body, curl line), the redactor learns every
    // credential this request carries, wherever it travels: a server may echo any of them back.
    const grantAssertion = this.learnCredentials(req);

    const curlInput: CurlInput = {
      method: req.method,
      url: req.url,
      headers,
      ...(req.form ? { form: req.form } : {}),
      ...(req.bodyEncoding === 'json' ? { json: true } : {}),
      ...(req.basic ? { basic: req.basic } : {}),
      ...(req.bearer ? { bearer: req.bearer } : {}),
      ...(this.provider.tls.caFile ? { caFile: this.provider.tls.caFile } : {}),
      insecure: this.provider.tls.insecureSkipVerify,
      ...(req.tlsClient
        ? { clientCert: { certFile: req.tlsClient.certFile, keyFile: req.tlsClient.keyFile } }
        : {}),
    };
    const exchange: Exchange = {
      id: `${this.provider.name}/${probe}`,
      probe,
      purpose,
      request: {
        method: req.method,
        url: this.redactor.scrub(req.url),
        headers: headers.map(([n, v]) => [
          n,
          /^authorization$/i.test(n)
            ? redactAuthorization(v, this.redactor)
            : this.redactor.scrub(v),
        ]),
        ...(body !== undefined ? { body: this.redactor.scrub(body) } : {}),
        ...(req.assertion || grantAssertion
          ? {
              assertion: tokenFacts(req.assertion ?? grantAssertion).jwt ?? {
                header: {},
                payload: {},
              },
            }
          : {}),
        ...(req.dpop !== undefined ? { dpopProof: proofFacts(req.dpop) } : {}),
        ...(req.tlsClient ? { clientCertificate: req.tlsClient.certFile } : {}),
      },
      startedAt: new Date().toISOString(),
      durationMs: 0,
      curl: curlLine(curlInput, this.redactor),
    };

    if (this.lastTransportError && this.consecutiveTransportFailures >= CIRCUIT_BREAKER_THRESHOLD) {
      exchange.notSent = {
        kind: 'circuit',
        reason: `not sent: ${this.consecutiveTransportFailures} requests in a row failed (${this.lastTransportError.message})`,
      };
      return exchange;
    }
    if (this.requestsSent >= this.provider.limits.maxRequests) {
      exchange.notSent = {
        kind: 'budget',
        reason: `not sent: the request budget of ${this.provider.limits.maxRequests} (limits.maxRequests) is used up`,
      };
      return exchange;
    }

    let attempts = 0;
    for (;;) {
      await this.pace();
      this.requestsSent += 1;
      attempts += 1;
      exchange.startedAt = new Date().toISOString();
      const started = performance.now();
      let response: RecordedResponse;
      try {
        const res = await request(req.url, {
          method: req.method,
          headers: headers.flatMap(([n, v]) => [n, v]),
          ...(body !== undefined ? { body } : {}),
          dispatcher: this.agentFor(req.tlsClient),
          signal: AbortSignal.timeout(this.provider.limits.timeoutMs),
        });
        response = await this.readResponse(probe, res.statusCode, res.headers, res.body);
      } catch (e) {
        const error = classifyTransportError(e, this.provider, req.url);
        // Records hold nothing unredacted; an error message may quote the URL (query credentials probe).
        exchange.transportError = { ...error, message: this.redactor.scrub(error.message) };
        this.transportFailed(exchange.transportError);
        exchange.durationMs = Math.round(performance.now() - started);
        break;
      }
      exchange.durationMs = Math.round(performance.now() - started);
      if (response.status !== 429) {
        exchange.response = response;
        this.consecutiveTransportFailures = 0;
        break;
      }
      // RFC 6585 §4: 429 means "too many requests in a given amount of time", not a verdict on this
      // request: it is asked again after Retry-After, a bounded number of times.
      const retryAfter = response.headers['retry-after']?.[0];
      const seconds = this.honourRetryAfter(retryAfter);
      const stop =
        attempts > MAX_RATE_LIMIT_RETRIES
          ? ''
          : seconds > this.provider.limits.maxRetryAfterSeconds
            ? `, longer than limits.maxRetryAfterSeconds (${this.provider.limits.maxRetryAfterSeconds} s): not retried`
            : this.requestsSent >= this.provider.limits.maxRequests
              ? `; the request budget of ${this.provider.limits.maxRequests} (limits.maxRequests) is used up`
              : undefined;
      if (stop === undefined) continue;
      const shown =
        retryAfter === undefined
          ? 'no Retry-After'
          : `Retry-After: ${retryAfter.length > 64 ? `${retryAfter.slice(0, 64)}…` : retryAfter}`;
      exchange.rateLimitedResponse = response;
      exchange.transportError = {
        kind: 'rate-limited',
        code: '429',
        message: `rate-limited: the endpoint answered 429 Too Many Requests ${attempts === 1 ? 'once' : `${attempts} times`} (${shown}${stop})`,
      };
      // A server that answers 429 to everything is as unusable as an unreachable one: the circuit
      // breaker stops the run after a few such requests instead of spending the budget on them.
      this.transportFailed(exchange.transportError);
      break;
    }
    exchange.attempts = attempts;
    return exchange;
  }

  /**
   * Adds every credential of a request to the redactor: Basic credentials (the secret, and the
   * base64 the header carries), a bearer token, a client assertion, and credential parameters in the
   * form or the query string (`grant.get` sends the whole grant, its assertion included, in the URL).
   * Returns the grant assertion (RFC 7523 §2.1), whose decoded claims are recorded.
   */
  private learnCredentials(req: ProbeRequest): string | undefined {
    if (req.basic) {
      this.redactor.addCredential('client_secret', req.basic.secret);
      const b64 = Buffer.from(
        `${formEncode(req.basic.id)}:${formEncode(req.basic.secret)}`,
        'utf8',
      ).toString('base64');
      this.redactor.add(b64, `[base64 credentials of ${formEncode(req.basic.id)}]`);
    }
    if (req.bearer) this.redactor.addToken(req.bearer);
    if (req.dpopToken) this.redactor.addToken(req.dpopToken);
    // A DPoP proof is public, but short-lived and replayable within its window: a preview, like assertions.
    if (req.dpop) this.redactor.addToken(req.dpop);
    // Assertions are short-lived credentials: recorded as previews, like tokens.
    if (req.assertion) this.redactor.addToken(req.assertion);
    let query: [string, string][] = [];
    try {
      query = [...new URL(req.url).searchParams.entries()];
    } catch {
      // A URL that does not parse fails when sent; it carries no parameters to learn.
    }
    let grantAssertion: string | undefined;
    for (const [k, v] of [...(req.form ?? []), ...query]) {
      if (!CREDENTIAL_PARAMS.has(k)) continue;
      this.redactor.addCredential(k, v);
      if (k === 'assertion') grantAssertion ??= v;
    }
    return grantAssertion;
  }

  private transportFailed(error: TransportError): void {
    this.consecutiveTransportFailures += 1;
    this.lastTransportError = error;
  }

  private async pace(): Promise<void> {
    const gap = 1000 / this.provider.limits.requestsPerSecond;
    const now = Date.now();
    const wait = this.nextSlot - now;
    this.nextSlot = Math.max(now, this.nextSlot) + gap;
    if (wait > 0) await sleep(wait);
  }

  /**
   * Holds the next request (the retry, or the next probe's) back as a 429's Retry-After asks, up to
   * limits.maxRetryAfterSeconds; returns the seconds asked for (RFC 9110 §10.2.3; absent or unreadable: 1 s).
   */
  private honourRetryAfter(value: string | undefined): number {
    const seconds = parseRetryAfter(value, Date.now());
    this.nextSlot = Math.max(
      this.nextSlot,
      Date.now() + Math.min(seconds, this.provider.limits.maxRetryAfterSeconds) * 1000,
    );
    return seconds;
  }

  private async readResponse(
    probe: ProbeId,
    status: number,
    rawHeaders: Record<string, string | string[] | undefined>,
    bodyStream: AsyncIterable<Buffer> & { destroy(err?: Error): unknown },
  ): Promise<RecordedResponse> {
    const cap = this.provider.limits.maxBodyBytes;
    // Limits (src/http/limits.ts) are checked before anything recursive sees the answer.
    const fields = headerFieldCount(rawHeaders);
    if (fields > RESPONSE_LIMITS.headerFields) {
      bodyStream.destroy();
      throw new ResponseLimitError(
        'too-large',
        'LIMIT_HEADER_FIELDS',
        `the response (HTTP ${status}) has ${fields} header fields, more than the harness's limit of ${RESPONSE_LIMITS.headerFields}`,
      );
    }
    const chunks: Buffer[] = [];
    let total = 0;
    let truncated = false;
    for await (const chunk of bodyStream) {
      total += chunk.length;
      if (total > cap) {
        chunks.push(chunk.subarray(0, chunk.length - (total - cap)));
        truncated = true;
        bodyStream.destroy();
        break;
      }
      chunks.push(chunk);
    }
    const wire = Buffer.concat(chunks);
    // A body cut at the cap does not decode; it is judged as too large, as it was received.
    const text = (
      truncated ? wire : decodeBody(wire, rawHeaders['content-encoding'], cap)
    ).toString('utf8');
    let parsed: { value: unknown } | undefined;
    let jsonError: string | undefined;
    if (!truncated && text.trim() !== '') {
      const shape = jsonShapeProblem(text);
      if (shape)
        throw new ResponseLimitError(
          shape.kind,
          shape.code,
          `the response (HTTP ${status}, ${Buffer.byteLength(text)} bytes) ${shape.problem}`,
        );
      try {
        parsed = { value: JSON.parse(text) as unknown };
      } catch (e) {
        jsonError = (e as Error).message;
      }
    }
    // Tokens are learnt before anything of this response is recorded, so that a token is scrubbed
    // wherever it shows: in a header, in an error_description before its own member, in a later response.
    const max = RESPONSE_LIMITS.tokensPerResponse;
    const found = parsed ? jsonTokens(parsed.value, max) : textTokens(text, max);
    const distinct = new Set(found.map(([, v]) => v)).size;
    if (distinct > max) {
      throw new ResponseLimitError(
        'too-large',
        'LIMIT_TOKENS',
        `the response (HTTP ${status}) carries more than ${max} token values (access_token, refresh_token, id_token, …), the harness's limit`,
      );
    }
    for (const [name, value] of found) this.redactor.addCredential(name, value);

    const headers: Record<string, string[]> = {};
    for (const [name, value] of Object.entries(rawHeaders)) {
      if (value === undefined) continue;
      // An Authorization field in a response can only be an echo of the request's credentials.
      headers[name.toLowerCase()] = (Array.isArray(value) ? value : [value]).map((v) =>
        /^(proxy-)?authorization$/i.test(name)
          ? redactAuthorization(v, this.redactor)
          : this.redactor.scrub(v),
      );
    }
    // When truncated, bodyBytes is the cap (the bytes kept): `total` only counts up to the end of the
    // chunk that crossed the cap, a transport artefact, yet response.schema and the report print it
    // as "the N byte cap" / "N bytes, truncated at the body cap".
    const response: RecordedResponse = {
      status,
      headers,
      body: '',
      bodyBytes: truncated ? cap : Buffer.byteLength(text),
      truncated,
    };
    if (jsonError !== undefined) response.jsonError = jsonError;
    if (parsed) {
      const value = parsed.value;
      if (value && typeof value === 'object' && !Array.isArray(value)) {
        const obj = value as Record<string, unknown>;
        if ('access_token' in obj)
          response.accessToken = tokenFacts(obj['access_token'], 'the access_token');
        if (typeof obj['access_token'] === 'string') this.tokens.set(probe, obj['access_token']);
        if (typeof obj['refresh_token'] === 'string')
          this.refreshTokens.set(probe, obj['refresh_token']);
        if ('refresh_token' in obj)
          response.refreshToken = tokenFacts(obj['refresh_token'], 'the refresh_token');
        // What JSON.parse hides, read from the text as received: RFC 6749 Appendix A.14 makes
        // expires_in 1*DIGIT, which `3600.0` is not; §3.2 forbids response parameters twice.
        const facts = jsonTextFacts(text);
        response.numberLiterals = facts.numberLiterals;
        response.duplicateMembers = facts.duplicateMembers;
      }
      response.json = redactJsonTokens(value, this.redactor);
    }
    // Evidence is the wire: the text as it came, redacted, never a re-serialisation of the parsed value.
    response.body = (
      parsed ? redactJsonText(text, this.redactor) : this.redactor.scrub(text)
    ).slice(0, 64 * 1024);
    return response;
  }
}

/** Private JWK members (RFC 7518 §6.2.2, §6.3.2, §6.4; RFC 8037 §2): a spoilt proof may carry them. */
const PRIVATE_JWK_MEMBERS = new Set(['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k']);

/** A DPoP proof's decoded header and claims, with any private key material in its jwk replaced. */
function proofFacts(proof: string): NonNullable<Exchange['request']['dpopProof']> {
  const jwt = tokenFacts(proof, 'the DPoP proof').jwt ?? { header: {}, payload: {} };
  const jwk = jwt.header['jwk'];
  if (jwk && typeof jwk === 'object' && !Array.isArray(jwk)) {
    const cleaned = Object.fromEntries(
      Object.entries(jwk as Record<string, unknown>).map(([k, v]) => [
        k,
        PRIVATE_JWK_MEMBERS.has(k) ? '[redacted]' : v,
      ]),
    );
    return { header: { ...jwt.header, jwk: cleaned }, payload: jwt.payload };
  }
  return jwt;
}

function errorChain(e: unknown): { code: string; message: string }[] {
  const out: { code: string; message: string }[] = [];
  let cur: unknown = e;
  for (let i = 0; i < 5 && cur; i++) {
    const err = cur as { code?: unknown; message?: unknown; name?: unknown; cause?: unknown };
    out.push({
      code: typeof err.code === 'string' ? err.code : String(err.name ?? 'Error'),
      message: String(err.message ?? cur),
    });
    cur = err.cause;
  }
  return out;
}

/** Host (and port) of the request's URL: the resource may live on another host than the token endpoint. */
function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    // Called while handling a failed request: a URL that does not parse must not throw again here.
    return url;
  }
}

export function classifyTransportError(
  e: unknown,
  provider: Provider,
  url: string = provider.tokenEndpoint,
): TransportError {
  const chain = errorChain(e);
  const codes = chain.map((c) => c.code);
  const has = (...names: string[]) => codes.find((c) => names.includes(c));
  const target = hostOf(url);
  let code: string | undefined;
  // First: a failure to open the tunnel is the proxy's, whatever lower-level code it wraps.
  if (e instanceof ResponseLimitError) return e.toTransportError();
  const tunnel = proxyFailure(e);
  if (tunnel) return classifyProxyFailure(tunnel, provider);
  if ((code = has('ECONNREFUSED'))) {
    return {
      kind: 'refused',
      code,
      message: `connection refused by ${target}: the endpoint is unreachable`,
    };
  }
  if ((code = has('ENOTFOUND', 'EAI_AGAIN'))) {
    return { kind: 'dns', code, message: `host name of ${target} could not be resolved` };
  }
  if (
    (code = has(
      'TimeoutError',
      'AbortError',
      'UND_ERR_HEADERS_TIMEOUT',
      'UND_ERR_BODY_TIMEOUT',
      'UND_ERR_CONNECT_TIMEOUT',
      'ETIMEDOUT',
    ))
  ) {
    return {
      kind: 'timeout',
      code,
      message: `no complete response within ${provider.limits.timeoutMs} ms (limits.timeoutMs)`,
    };
  }
  const tlsCode = codes.find((c) => /CERT|SELF_SIGNED|UNABLE_TO|ALTNAME|TLS|SSL/.test(c));
  if (tlsCode) {
    // Only an untrusted issuer is cured by tls.caFile; advising it for a wrong host name, an expired
    // certificate or a non-TLS server sends the reader the wrong way.
    if (/ALTNAME/.test(tlsCode)) {
      return {
        kind: 'tls',
        code: tlsCode,
        message: `TLS: the server's certificate is not valid for ${target} (${tlsCode}): its subjectAltName does not name this host`,
      };
    }
    if (/CERT_HAS_EXPIRED|CERT_NOT_YET_VALID/.test(tlsCode)) {
      return {
        kind: 'tls',
        code: tlsCode,
        message: `TLS: the server's certificate ${tlsCode === 'CERT_HAS_EXPIRED' ? 'has expired' : 'is not yet valid'} (${tlsCode})`,
      };
    }
    if (
      !/^(UNABLE_TO_|SELF_SIGNED_|DEPTH_ZERO_SELF_SIGNED|CERT_UNTRUSTED|CERT_REJECTED|CERT_SIGNATURE_FAILURE|INVALID_CA)/.test(
        tlsCode,
      )
    ) {
      const hint = /WRONG_VERSION_NUMBER|PACKET_LENGTH_TOO_LONG|HTTP_REQUEST/.test(tlsCode)
        ? ': the server does not speak TLS (is it a plain http:// server?)'
        : '';
      return {
        kind: 'tls',
        code: tlsCode,
        message: `TLS handshake with ${target} failed (${tlsCode})${hint}`,
      };
    }
    const named = provider.tls.caFile
      ? `the CA in tls.caFile (${provider.tls.caFile}) did not issue it, or the server does not send its intermediate certificates`
      : `if it is issued by a private CA, name that CA in tls.caFile of ${provider.name}'s descriptor`;
    return {
      kind: 'tls',
      code: tlsCode,
      message: `TLS: the server's certificate is not trusted (${tlsCode}); ${named}`,
    };
  }
  if ((code = has('UND_ERR_HEADERS_OVERFLOW'))) {
    return {
      kind: 'too-large',
      code,
      message: `the response's header section is larger than the harness accepts (undici's maxHeaderSize, ${maxHeaderSizeKiB()} KiB)`,
    };
  }
  if ((code = has('UND_ERR_RES_CONTENT_LENGTH_MISMATCH'))) {
    return {
      kind: 'reset',
      code,
      message: `the connection to ${target} ended before the whole body arrived (shorter than its Content-Length)`,
    };
  }
  if ((code = has('ECONNRESET', 'UND_ERR_SOCKET', 'EPIPE'))) {
    return {
      kind: 'reset',
      code,
      message: `the connection to ${target} was reset before a complete response arrived`,
    };
  }
  const first = chain[0] ?? { code: 'Error', message: String(e) };
  // One line: OpenSSL and some socket errors carry newlines that would break report lines.
  return {
    kind: 'other',
    code: first.code,
    message: `request failed: ${first.message.replace(/\s+/g, ' ').trim()}`,
  };
}

/** undici's default header size limit is Node's --max-http-header-size (16 KiB unless changed). */
function maxHeaderSizeKiB(): number {
  return Math.round(http.maxHeaderSize / 1024);
}

function proxyFailure(e: unknown): ProxyTunnelError | undefined {
  let cur: unknown = e;
  for (let i = 0; i < 5 && cur; i++) {
    if (cur instanceof ProxyTunnelError) return cur;
    cur = (cur as { cause?: unknown }).cause;
  }
  return undefined;
}

/** A proxy that refused or failed the tunnel: said as the proxy's doing, never as the endpoint's outage. */
function classifyProxyFailure(t: ProxyTunnelError, provider: Provider): TransportError {
  const proxy = `the proxy ${t.proxy}`;
  if (t.status !== undefined) {
    const text = STATUS_CODES[t.status];
    return {
      kind: 'proxy',
      code: `PROXY_${t.status}`,
      message: `${proxy} refused the tunnel: ${t.status}${text ? ` ${text}` : ''}`,
    };
  }
  const codes = errorChain(t.cause).map((c) => c.code);
  const code = codes.find((c) => c !== 'Error') ?? 'Error';
  if (codes.includes('ECONNREFUSED'))
    return { kind: 'proxy', code, message: `${proxy} is unreachable: connection refused` };
  if (codes.some((c) => c === 'ENOTFOUND' || c === 'EAI_AGAIN'))
    return {
      kind: 'proxy',
      code,
      message: `${proxy} is unreachable: its host name could not be resolved`,
    };
  if (codes.some((c) => /TIMEOUT|TimeoutError|ETIMEDOUT/.test(c))) {
    return {
      kind: 'proxy',
      code,
      message: `${proxy} did not open the tunnel within ${provider.limits.timeoutMs} ms (limits.timeoutMs)`,
    };
  }
  if (codes.some((c) => c === 'ECONNRESET' || c === 'UND_ERR_SOCKET' || c === 'EPIPE')) {
    return {
      kind: 'proxy',
      code,
      message: `${proxy} closed the connection before opening the tunnel`,
    };
  }
  const tlsCode = codes.find((c) => /CERT|SELF_SIGNED|UNABLE_TO|ALTNAME|TLS|SSL/.test(c));
  if (tlsCode)
    return {
      kind: 'proxy',
      code: tlsCode,
      message: `${proxy}: the TLS handshake with the proxy failed (${tlsCode})`,
    };
  const first = errorChain(t.cause)[0];
  return {
    kind: 'proxy',
    code,
    message: `${proxy} did not open the tunnel: ${(first?.message ?? t.message).replace(/\s+/g, ' ').trim()}`,
  };
}
