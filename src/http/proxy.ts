/**
 * Requests through an egress proxy (issue 15). The routing is undici's own: EnvHttpProxyAgent, given
 * the proxies and NO_PROXY the loader resolved, decides per request URL, and ProxyAgent tunnels with
 * HTTP CONNECT. What this module adds is the proxy client ProxyAgent opens its tunnels with: it records
 * each tunnel (so the summary says what happened, not what was configured) and turns every failure to
 * open one into a ProxyTunnelError, so a proxy's refusal or silence is never taken for the endpoint's.
 */
import { STATUS_CODES } from 'node:http';
import { Pool, type Dispatcher } from 'undici';
import type { Provider } from '../descriptor/types.js';

/** The proxy did not open a tunnel: it answered CONNECT with another status, or failed before answering. */
export class ProxyTunnelError extends Error {
  override name = 'ProxyTunnelError';
  readonly code = 'PROXY_TUNNEL';
  constructor(
    /** host:port of the proxy: never its credentials. */
    readonly proxy: string,
    /** host:port the tunnel was for. */
    readonly target: string,
    /** The proxy's answer to CONNECT, when it gave one. */
    readonly status: number | undefined,
    cause?: unknown,
  ) {
    super(
      status !== undefined
        ? `the proxy ${proxy} answered CONNECT ${target} with ${status} ${STATUS_CODES[status] ?? ''}`.trim()
        : `the proxy ${proxy} did not open a tunnel to ${target}`,
      { cause },
    );
  }
}

/** What one provider's traffic did at its proxies. */
export interface TunnelLog {
  /** Tunnels opened, by "<proxy host:port> <target host:port>". */
  opened: Map<string, { proxy: string; target: string; count: number }>;
  /** CONNECTs the proxy refused or failed. */
  failed: number;
}

// Keyed by the Provider object: the session fills it, the run record reads it after observe(), and
// neither the probes nor their evidence need to know about proxies.
const logs = new WeakMap<Provider, TunnelLog>();

export function tunnelLogOf(provider: Provider): TunnelLog {
  let log = logs.get(provider);
  if (!log) logs.set(provider, (log = { opened: new Map(), failed: 0 }));
  return log;
}

type PoolConnectOptions = Parameters<Pool['connect']>[0];

/**
 * The client ProxyAgent sends CONNECT through (its `clientFactory`). A CONNECT gets its own deadline
 * here: undici hands a request's abort signal to its handler only once a connection exists, so a
 * proxy that accepts and never answers would otherwise hold the request for undici's 300 s default.
 */
export class TunnelClient extends Pool {
  constructor(
    origin: URL,
    options: Pool.Options,
    private readonly proxy: string,
    private readonly log: TunnelLog,
  ) {
    super(origin, options);
  }

  override connect(options: PoolConnectOptions): Promise<Dispatcher.ConnectData>;
  override connect(
    options: PoolConnectOptions,
    callback: (err: Error | null, data: Dispatcher.ConnectData) => void,
  ): void;
  override connect(
    options: PoolConnectOptions,
    callback?: (err: Error | null, data: Dispatcher.ConnectData) => void,
  ): Promise<Dispatcher.ConnectData> | void {
    // ProxyAgent only uses the promise form; the callback form stays undici's.
    if (callback) return super.connect(options, callback);
    return this.tunnel(options);
  }

  private async tunnel(options: PoolConnectOptions): Promise<Dispatcher.ConnectData> {
    const target = options.path;
    let data: Dispatcher.ConnectData;
    try {
      data = await super.connect(options);
    } catch (e) {
      this.log.failed += 1;
      throw new ProxyTunnelError(this.proxy, target, undefined, e);
    }
    if (data.statusCode !== 200) {
      // ProxyAgent would close the socket and say "Proxy response (407) !== 200": this says whose answer it was.
      data.socket.on('error', () => undefined).destroy();
      this.log.failed += 1;
      throw new ProxyTunnelError(this.proxy, target, data.statusCode);
    }
    const key = `${this.proxy} ${target}`;
    const entry = this.log.opened.get(key) ?? { proxy: this.proxy, target, count: 0 };
    entry.count += 1;
    this.log.opened.set(key, entry);
    return data;
  }
}

/** host:port of a proxy URL, default port filled in: what is shown of a proxy. */
export function hostPortOf(url: URL): string {
  return url.port ? url.host : `${url.host}:${url.protocol === 'https:' ? 443 : 80}`;
}

/** Every form a proxy URL's credentials may travel in, with what to show instead: for the session's Redactor. */
export function proxySecrets(provider: Provider): [string, string][] {
  if (provider.proxy.mode !== 'proxy') return [];
  const out: [string, string][] = [];
  for (const p of [provider.proxy.https, provider.proxy.http]) {
    if (!p) continue;
    const url = new URL(p.url);
    if (!url.username && !url.password) continue;
    out.push([p.url, `$${p.envName}`], [p.url.replace(/\/$/, ''), `$${p.envName}`]);
    const userinfo = `${url.username}:${url.password}`;
    out.push(
      [userinfo, '[proxy credentials]'],
      [decodeURIComponent(userinfo), '[proxy credentials]'],
    );
    if (url.password)
      out.push(
        [url.password, '[proxy password]'],
        [decodeURIComponent(url.password), '[proxy password]'],
      );
  }
  return out;
}
